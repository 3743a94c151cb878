import { createHash } from 'node:crypto';
import type { Environment } from './environments';

/** Temporal refuses longer fairness keys. */
const MAX_KEY_BYTES = 64;

/**
 * The fairness key of everything done for one customer environment (docs/architecture.md, "A failing endpoint costs
 * other customers nothing"). Workflows started with it, and the activities and children they schedule, are dispatched
 * from a backlogged task queue in turn with every other key's, so a thousand documents for one customer queue beside,
 * not in front of, another's.
 * Not imported by workflow code (node:crypto): the API and activities set it when they start workflows.
 */
export function fairnessKey(environment: Environment, customerId: string): string {
  const key = `${environment}:${customerId}`;
  if (Buffer.byteLength(key) <= MAX_KEY_BYTES) return key;
  return `${environment}:${createHash('sha256').update(customerId).digest('base64url').slice(0, 43)}`;
}
