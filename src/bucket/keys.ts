import type { PendingEntry } from '../domain/schemas';

// The bucket's key layout, in one place. Each environment's bucket holds, per customer:
//   pending/{customerId}/{pendingSince}_{expiresAt}_{createdAt}_{type}_{id}.json   waiting for the customer
//   pending/{customerId}~{endpointId}/…                                            the same, for its other endpoints
//   expired/{customerId}/{id}.json                                                 the cold store (operator restore)
//   expired/{customerId}~{endpointId}/{id}.json                                    (another endpoint's)
//   restores/{customerId}/{restoreId}/{page}.json                                  a restore job's billing, per page
//   restores/{customerId}/{at}.json                                                (before restore jobs: one per restore)
//   bodies/{keepUntil}/{customerId}/{id}.{nonce}.json                              a large document's body (claim check)

/**
 * Pending objects are keyed per customer so that a prefix listing is the queue, in the order documents became pending,
 * and each key carries what a listing shows, so neither the API nor the entity needs a read per document. Timestamps
 * are fixed-width ISO strings (they sort as text) and contain no "_", so the id, which may, is everything after the
 * fourth "_".
 */
export function pendingObjectKey(queue: string, entry: PendingEntry): string {
  return `${pendingPrefix(queue)}${pendingKeyTail(entry)}`;
}

/** `queue` is the customer's id for its first endpoint, `{customer}~{endpoint}` for another (domain/ids.ts queueOf). */
export function pendingPrefix(queue: string): string {
  return `pending/${queue}/`;
}

/** The key without its customer prefix: what a listing cursor and the entity's positions remember. */
export function pendingKeyTail({ pendingSince, expiresAt, createdAt, type, id }: PendingEntry): string {
  return `${pendingSince}_${expiresAt}_${createdAt}_${type}_${id}.json`;
}

/**
 * A position through the time `at`: every key of a document that became pending at or before it sorts at or before
 * this ("~" sorts after the "_" and digits that follow the time in a key), every later one after it.
 */
export function positionAt(at: number): string {
  return `${new Date(at).toISOString()}_~`;
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

export const COLD_STORE_ROOT = 'expired/';

export function coldPrefix(customerId: string): string {
  return `${COLD_STORE_ROOT}${customerId}/`;
}

/** Expired documents, kept for an operator restore; customers have no route to this prefix. */
export function coldObjectKey(customerId: string, documentId: string): string {
  return `${coldPrefix(customerId)}${documentId}.json`;
}

/** The document id of a cold-store key, or undefined for a key of another customer or layout. */
export function parseColdObjectKey(customerId: string, key: string): string | undefined {
  const prefix = coldPrefix(customerId);
  if (!key.startsWith(prefix) || !key.endsWith('.json')) return undefined;
  return key.slice(prefix.length, -'.json'.length);
}

/** A restore job's billing record of one page: written once the page is planned, completed once it is restored. */
export function restorePageKey(customerId: string, restoreId: string, page: number): string {
  return `restores/${customerId}/${restoreId}/${String(page).padStart(6, '0')}.json`;
}

export const BODIES_ROOT = 'bodies/';

/**
 * A large document's body, stored once at submit (bucket/bodies.ts). The key starts with the time it may go, so the
 * sweep lists expired bodies first and stops at the first one still kept; the nonce keeps a repeated submit (answered
 * as the document already is) from overwriting the body a running delivery reads.
 */
export function bodyObjectKey(keepUntil: string, customerId: string, documentId: string, nonce: string): string {
  return `${BODIES_ROOT}${keepUntil}/${customerId}/${documentId}.${nonce}.json`;
}

/** When a body's key says it may go, or undefined for a key of another layout. */
export function bodyKeepUntil(key: string): string | undefined {
  const match = new RegExp(`^${BODIES_ROOT}(${ISO})/`).exec(key);
  return match?.[1];
}
