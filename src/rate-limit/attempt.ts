import { setTimeout as sleep } from 'node:timers/promises';
import type { Environment } from '../domain/schemas';
import type { SendPacer } from './pacer';
import type { SlotReserver } from './reserver';

/**
 * A reserved slot passed by more than this is not used: sending now could crowd the slots after it. Within it, the
 * 10% margin RATE_WINDOW_MS keeps between slots absorbs the lateness.
 */
const LATE_SLOT_MS = 100;
/** The workflow wakes this long before a far slot and the attempt waits out the rest (never more than the inline wait). */
const SLOT_LEAD_MS = 2_000;
/** An entity that hands out no slot in this run has its next one within about this long. */
const ROLLOVER_WAIT_MS = 1_000;

/** Why an attempt does not send now: its slot is far off (the workflow waits for it), or none was handed out. */
export type NotYet = { throttledUntil: string; slotLeadMs: number } | { busyForMs: number };

export interface SlotRequest {
  environment: Environment;
  customerId: string;
  endpointId?: string;
  /** The endpoint's requests a second; undefined: no limit, and the attempt pays nothing. */
  rateLimit?: number;
  /** A slot reserved by an earlier call that answered `throttledUntil`: send in it, without reserving another. */
  slotAt?: string;
  /** The endpoint's key in this worker's pacer (its share's). */
  paceKey: string;
  /** Now in the slots' clock: the entity's, that is the Temporal server's. */
  now: () => number;
}

/**
 * An attempt's wait for its moment to send, for a rate-limited endpoint: the slot reserved earlier unless it has passed
 * (the workflow woke late, as after an outage), else a fresh one, waited for here when it is at most `inlineWaitMs`
 * away; then this worker's own pacing. Answers undefined once it may send, or why it may not yet (nothing sent).
 */
export function createSlotWaiter({
  slots,
  pacer,
  inlineWaitMs,
}: {
  slots: SlotReserver;
  pacer: SendPacer;
  inlineWaitMs: number;
}) {
  const slotLeadMs = Math.min(SLOT_LEAD_MS, inlineWaitMs);

  async function slotFor(request: SlotRequest): Promise<{ at: number; reserved: boolean } | 'later' | undefined> {
    const { now } = request;
    const reserved = request.slotAt ? Date.parse(request.slotAt) : undefined;
    if (reserved !== undefined && reserved > now() - LATE_SLOT_MS) return { at: reserved, reserved: true };
    if (!request.rateLimit) return undefined;
    // A little ahead of now: the slot must not have passed by the time the answer is back.
    const at = await slots.reserve(request.environment, request.customerId, now() + 50, request.endpointId);
    return at === undefined ? 'later' : { at, reserved: false };
  }

  return async function waitForSlot(request: SlotRequest): Promise<NotYet | undefined> {
    const { now, rateLimit } = request;
    const slot = await slotFor(request);
    if (slot === 'later') return { busyForMs: ROLLOVER_WAIT_MS };
    if (slot !== undefined) {
      const wait = slot.at - now();
      if (wait > inlineWaitMs && !slot.reserved) return { throttledUntil: new Date(slot.at).toISOString(), slotLeadMs };
      if (wait > 0) await sleep(wait);
    }
    if (rateLimit) await sleep(pacer.book(request.paceKey, rateLimit, now()));
    return undefined;
  };
}
