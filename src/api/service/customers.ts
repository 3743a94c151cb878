import { fairnessKey } from '../../domain/fairness';
import { endpointWorkflowId } from '../../domain/ids';
import type { CreateCustomer, EndpointState, Environment } from '../../domain/schemas';
import { ENVIRONMENTS } from '../../domain/schemas';
import { CustomerIdKey, EndpointIdKey, EndpointStatusKey, EnvironmentKey } from '../../domain/search-attributes';
import { generateApiKey, hashApiKey } from '../../lib/api-keys';
import type { endpointEntity } from '../../workflows';
import type { EndpointEntityInput } from '../../workflows/endpoint/entity';
import type { Config } from '../../config';
import { reissueApiKeyUpdate } from '../../workflows/messages';
import { AppError } from '../errors';
import { rethrowTemporal } from '../temporal-errors';
import type { ServiceContext } from './context';
import { START_ONCE } from './documents';

/** Customers: one endpoint entity per environment, each with its own API key. */
export function createCustomerService({ client, config, endpoints }: ServiceContext) {
  return {
    /**
     * One endpoint entity per environment, each with its own key, shown once. Resumable: a create that failed between
     * the environments (so its keys were never shown) completes when retried with the same id and name, with fresh
     * keys for the environments that already exist. A complete customer, or another name, is a 409.
     */
    async createCustomer({ id, name }: CreateCustomer): Promise<Record<Environment, string>> {
      const existing = await Promise.all(ENVIRONMENTS.map((environment) => endpoints.get(environment, id)));
      if (existing.every(Boolean) || existing.some((endpoint) => endpoint && endpoint.customerName !== name)) {
        throw new AppError('conflict', `customer ${id} already exists`, 409);
      }
      const apiKeys = {} as Record<Environment, string>;
      for (const [index, environment] of ENVIRONMENTS.entries()) {
        const apiKey = generateApiKey(environment, id);
        if (existing[index]) {
          await client.workflow
            .getHandle(endpointWorkflowId(environment, id))
            .executeUpdate(reissueApiKeyUpdate, { args: [{ apiKeyHash: hashApiKey(apiKey) }] });
        } else {
          await startEntity(environment, id, name, hashApiKey(apiKey));
        }
        apiKeys[environment] = apiKey;
      }
      return apiKeys;
    },
  };

  async function startEntity(environment: Environment, id: string, name: string, apiKeyHash: string) {
    try {
      await client.workflow.start<typeof endpointEntity>('endpointEntity', {
        ...entityStart(environment, id, name, config, { apiKeyHash }),
        ...START_ONCE,
      });
    } catch (err) {
      // Created by a concurrent request meanwhile.
      rethrowTemporal(err, { alreadyStarted: new AppError('conflict', `customer ${id} already exists`, 409) });
    }
  }
}

/** An endpoint entity's start: the first endpoint's with the customer's key hash, another's with its id and none. */
function entityStart(
  environment: Environment,
  customerId: string,
  customerName: string,
  config: Config,
  which: { apiKeyHash: string; endpointId?: undefined } | { apiKeyHash?: undefined; endpointId: string },
) {
  const initial: EndpointState = {
    customerId,
    ...(which.endpointId ? { endpointId: which.endpointId } : {}),
    customerName,
    environment,
    apiKeyHash: which.apiKeyHash ?? '',
    status: 'active',
    preferences: { pendingNotifications: true },
    counters: { retriesExhausted: 0, suspensions: 0 },
    updatedAt: new Date().toISOString(),
  };
  return {
    workflowId: endpointWorkflowId(environment, customerId, which.endpointId),
    taskQueue: config.TASK_QUEUE,
    args: [{ state: initial, statusShown: 'active' }] as [EndpointEntityInput],
    memo: { endpoint: initial },
    priority: { fairnessKey: fairnessKey(environment, customerId) },
    typedSearchAttributes: [
      { key: CustomerIdKey, value: customerId },
      { key: EnvironmentKey, value: environment },
      ...(which.endpointId ? [{ key: EndpointIdKey, value: which.endpointId }] : []),
      { key: EndpointStatusKey, value: 'active' },
    ],
  };
}

/** Another endpoint's entity, started by its first configuration. */
export const otherEntityStart = (
  environment: Environment,
  customerId: string,
  endpointId: string,
  customerName: string,
  config: Config,
) => entityStart(environment, customerId, customerName, config, { endpointId });
