import type { Environment } from './schemas';

// Workflow ids are derived, never stored: the same document always maps to the same workflow (idempotent submit).

export function deliveryWorkflowId(environment: Environment, customerId: string, documentId: string): string {
  return `delivery:${environment}:${customerId}:${documentId}`;
}

export function endpointWorkflowId(environment: Environment, customerId: string): string {
  return `endpoint:${environment}:${customerId}`;
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
