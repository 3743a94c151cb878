import type { Environment, PendingEntry } from './schemas';

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

/**
 * Pending objects are keyed per customer so that a prefix listing is the queue, in the order documents became pending,
 * and each key carries what a listing shows, so neither the API nor the entity needs a read per document:
 * `pending/{customerId}/{pendingSince}_{expiresAt}_{createdAt}_{type}_{id}.json`. Timestamps are fixed-width ISO
 * strings (they sort as text) and contain no "_", so the id, which may, is everything after the fourth "_".
 */
export function pendingObjectKey(customerId: string, entry: PendingEntry): string {
  return `${pendingPrefix(customerId)}${pendingKeyTail(entry)}`;
}

export function pendingPrefix(customerId: string): string {
  return `pending/${customerId}/`;
}

/** The key without its customer prefix: what a listing cursor remembers. */
export function pendingKeyTail({ pendingSince, expiresAt, createdAt, type, id }: PendingEntry): string {
  return `${pendingSince}_${expiresAt}_${createdAt}_${type}_${id}.json`;
}

const ISO = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z';
const KEY_TAIL = new RegExp(`^(${ISO})_(${ISO})_(${ISO})_(event|summary)_([A-Za-z0-9][A-Za-z0-9._-]*)\\.json$`);

/** The entry a key tail describes, or undefined for anything that is not one (another layout, a stray object). */
export function parsePendingKeyTail(tail: string): PendingEntry | undefined {
  const match = KEY_TAIL.exec(tail);
  if (!match) return undefined;
  const [, pendingSince, expiresAt, createdAt, type, id] = match;
  return { id, type: type as PendingEntry['type'], createdAt, pendingSince, expiresAt };
}

/** Expired documents, kept for an operator restore; customers have no route to this prefix. */
export function expiredObjectKey(customerId: string, documentId: string): string {
  return `expired/${customerId}/${documentId}.json`;
}
