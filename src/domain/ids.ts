import { ENVIRONMENTS, type Environment } from './environments';
import { sha256Hex } from './sha256';

// Workflow ids are derived, never stored: the same document always maps to the same workflow (idempotent submit).

/**
 * The id budget: the longest id the Temporal server takes, its dynamic config `limit.maxIDLength`. Every stack sets
 * it to this (deploy/temporal/dynamicconfig/development-sql.yaml for docker-compose and the cluster stack,
 * scripts/lib/stack.ts for the dev server), and a production cluster must allow at least this much (Temporal's default
 * is 1,000). Past it a start is refused: a 500 at submit, or for a child, a parent's task that fails for ever. So
 * every id below fits it: a document's delivery ids by the check at submit (maxDocumentIdLength), the others by the
 * lengths of their parts (ids of at most MAX_ID_LENGTH, endpoint ids of at most MAX_ENDPOINT_ID_LENGTH), and an
 * operator event's, which holds a document id beside a customer's and an endpoint's, by fitWorkflowId.
 */
export const MAX_WORKFLOW_ID_LENGTH = 255;

/** Customer, document and restore ids (IdSchema). */
export const MAX_ID_LENGTH = 128;

/** An endpoint id: `ep_` and at most 40 letters or digits (EndpointIdSchema); the API makes `ep_` and 24 hex. */
export const MAX_ENDPOINT_ID_LENGTH = 43;

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

const LONGEST_ENVIRONMENT = ENVIRONMENTS.reduce((a, b) => (b.length > a.length ? b : a));
const LONGEST_ENDPOINT_ID = 'ep_'.padEnd(MAX_ENDPOINT_ID_LENGTH, '0');

/**
 * How long a customer id and a document id may be together (190): the document's longest delivery id, to an endpoint
 * with the longest id the API takes, in the environment with the longer name (so the rule is the same in both), must
 * fit the budget.
 */
export const MAX_CUSTOMER_AND_DOCUMENT_ID_LENGTH =
  MAX_WORKFLOW_ID_LENGTH - deliveryWorkflowId(LONGEST_ENVIRONMENT, '', '', LONGEST_ENDPOINT_ID).length;

/** How long the ids of a customer's documents may be, checked at submit: 62 for a customer id of 128 characters. */
export const maxDocumentIdLength = (customerId: string): number =>
  Math.min(MAX_ID_LENGTH, MAX_CUSTOMER_AND_DOCUMENT_ID_LENGTH - customerId.length);

/** Digits of the SHA-256 that stand for the tail of an id past the budget (128 bits: no two ids share one). */
const DIGEST_LENGTH = 32;

/**
 * An id within the budget whatever it is made of: itself when it fits (the ids of running workflows and recorded
 * histories stay as they were), else its head, `#`, and a digest of the whole, so two long ids with the same head
 * still differ. Only for ids that nothing parses or looks up by their parts. Ids are ASCII (IdSchema), so characters
 * are bytes, which is what the server counts.
 */
export function fitWorkflowId(id: string): string {
  if (id.length <= MAX_WORKFLOW_ID_LENGTH) return id;
  const head = id.slice(0, MAX_WORKFLOW_ID_LENGTH - DIGEST_LENGTH - 1);
  return `${head}#${sha256Hex(id).slice(0, DIGEST_LENGTH)}`;
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

/** A portal session (src/workflows/portal-session.ts). */
export function portalSessionWorkflowId(environment: Environment, customerId: string, sessionId: string): string {
  return `portal-session:${environment}:${customerId}:${sessionId}`;
}
