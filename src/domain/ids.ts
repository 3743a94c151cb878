import type { Environment } from './schemas';

// Workflow ids are derived, never stored: the same document always maps to the same workflow (idempotent submit).

export function deliveryWorkflowId(environment: Environment, customerId: string, documentId: string): string {
  return `delivery:${environment}:${customerId}:${documentId}`;
}

export function endpointWorkflowId(environment: Environment, customerId: string): string {
  return `endpoint:${environment}:${customerId}`;
}

export function parseDeliveryWorkflowId(
  workflowId: string,
): { environment: Environment; customerId: string; documentId: string } | undefined {
  const match = /^delivery:(sandbox|production):([^:]+):([^:]+)$/.exec(workflowId);
  return match ? { environment: match[1] as Environment, customerId: match[2], documentId: match[3] } : undefined;
}

export function parseEndpointWorkflowId(
  workflowId: string,
): { environment: Environment; customerId: string } | undefined {
  const match = /^endpoint:(sandbox|production):([^:]+)$/.exec(workflowId);
  return match ? { environment: match[1] as Environment, customerId: match[2] } : undefined;
}

/** Pending objects are keyed per customer, in the order they became pending, so a prefix listing is the queue. */
export function pendingObjectKey(customerId: string, pendingSince: Date, documentId: string): string {
  return `pending/${customerId}/${pendingSince.toISOString()}_${documentId}.json`;
}

/** Expired documents, kept for an operator restore; customers have no route to this prefix. */
export function expiredObjectKey(customerId: string, documentId: string): string {
  return `expired/${customerId}/${documentId}.json`;
}
