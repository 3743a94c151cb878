// The rate limit (an endpoint's `rateLimit`, requests a second), end to end; docs/architecture.md, "The rate limit
// internals", says why it is built so.
//   1. The entity hands out send slots, one Update each (`reserveSlot` in src/workflows/endpoint/entity.ts), spaced by
//      `nextSlot` below: one pace for every worker.
//   2. An attempt reserves its slot through `SlotReserver` (reserver.ts) and waits for it, or answers `throttledUntil`
//      when it is far off (attempt.ts, called by attemptDelivery in src/activities/deliver.ts).
//   3. The document workflow waits for a far slot on a durable timer and attempts again in it
//      (src/workflows/document.ts, `throttledUntil`).
//   4. Each worker keeps its own sends RATE_WINDOW_MS apart per `rateLimit` of them (pacer.ts).
// Workflow code imports this file: nothing here may use Node's modules.

/**
 * A rate-limited endpoint's `rateLimit` requests share a window of this long, 10% over a second: its entity spaces
 * send slots this long over `rateLimit`, and each worker keeps its own sends that far apart, so a request sent a
 * little late (the slot's answer was slow, a first connection opened) cannot make any second hold rateLimit + 1.
 */
export const RATE_WINDOW_MS = 1100;

/**
 * The slot handed out to a request at `now` (epoch ms, the entity's clock), and the earliest the next may have: the
 * later of now and the next free one, then the next free one a window's share further on.
 */
export function nextSlot(now: number, nextFree: number | undefined, rateLimit: number): { at: number; next: number } {
  const at = Math.max(now, nextFree ?? 0);
  return { at, next: at + RATE_WINDOW_MS / rateLimit };
}
