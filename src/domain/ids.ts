import type { Environment } from './schemas';

// Workflow ids are derived, never stored: the same document always maps to the same workflow (idempotent submit).

/**
 * A customer's first endpoint: the one `/v1/{env}/webhook` configures, whose entity is the customer's record too (its
 * API key). Internally it is the endpoint without an id: its workflow ids and bucket prefix are those from before a
 * customer could have more than one.
 */
export const FIRST_ENDPOINT_ID = 'ep_default';

/** The id other code keys an endpoint by: undefined for the first endpoint, whatever it was called. */
export const otherEndpoint = (endpointId: string | undefined): string | undefined =>
  endpointId === FIRST_ENDPOINT_ID ? undefined : endpointId;

/**
 * A document's delivery to one endpoint. The document's own workflow delivers to the first endpoint (and starts the
 * others); a delivery to another endpoint has that endpoint's id after the document's.
 */
export function deliveryWorkflowId(
  environment: Environment,
  customerId: string,
  documentId: string,
  endpointId?: string,
): string {
  const endpoint = otherEndpoint(endpointId);
  return `delivery:${environment}:${customerId}:${documentId}${endpoint ? `:${endpoint}` : ''}`;
}

/** An endpoint's entity: the customer's first endpoint is `endpoint:{env}:{customer}`, the others `…:{endpointId}`. */
export function endpointWorkflowId(environment: Environment, customerId: string, endpointId?: string): string {
  const endpoint = otherEndpoint(endpointId);
  return `endpoint:${environment}:${customerId}${endpoint ? `:${endpoint}` : ''}`;
}

/**
 * What an endpoint's documents, shares and messages are keyed by: the customer's id for its first endpoint,
 * `{customer}~{endpoint}` for another ('~' is in no id, so one never prefixes another).
 */
export function queueOf(customerId: string, endpointId?: string): string {
  const endpoint = otherEndpoint(endpointId);
  return endpoint ? `${customerId}~${endpoint}` : customerId;
}

/** A suspension or recovery email, sent by its own short workflow so its retries never hold the entity back. */
export function endpointEmailWorkflowId(
  environment: Environment,
  customerId: string,
  kind: string,
  key: string,
): string {
  return `endpoint-email:${environment}:${customerId}:${kind}:${key}`;
}

/** A pending-documents notification (or reminder), sent by its own short workflow. */
export function notificationWorkflowId(environment: Environment, customerId: string, notificationId: string): string {
  return `notification:${environment}:${customerId}:${notificationId}`;
}

/** An operator restore job (src/workflows/restore.ts). */
export function restoreWorkflowId(environment: Environment, customerId: string, restoreId: string): string {
  return `restore:${environment}:${customerId}:${restoreId}`;
}

/** The Temporal Schedule that sweeps the cold store where S3 has no lifecycle rules. */
export const COLD_STORE_SWEEP_SCHEDULE_ID = 'cold-store-sweep';

/** The operator's catalog of event types: one entity for the platform (src/workflows/event-types.ts). */
export const EVENT_TYPE_CATALOG_ID = 'event-types';
