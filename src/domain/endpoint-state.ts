import type { EndpointState, Environment } from './schemas';

/**
 * An endpoint's state before its first configuration: what the API starts a customer's entity with, what the first
 * endpoint's entity starts another endpoint with (configured at once), and what the API shows for an endpoint listed
 * without an entity. Type-only imports: workflow code uses it.
 */
export function newEndpointState(which: {
  environment: Environment;
  customerId: string;
  customerName: string;
  /** The customer's first endpoint holds the API key's hash; another has an id and no key. */
  apiKeyHash?: string;
  endpointId?: string;
  updatedAt: string;
}): EndpointState {
  return {
    customerId: which.customerId,
    ...(which.endpointId ? { endpointId: which.endpointId } : {}),
    customerName: which.customerName,
    environment: which.environment,
    apiKeyHash: which.apiKeyHash ?? '',
    status: 'active',
    preferences: { pendingNotifications: true },
    counters: { retriesExhausted: 0, suspensions: 0 },
    updatedAt: which.updatedAt,
  };
}
