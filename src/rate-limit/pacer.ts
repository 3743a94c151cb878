import { RATE_WINDOW_MS } from './slots';

// A rate-limited endpoint's slots come from its entity, spaced for every worker process; a slot is a time the request
// is meant to go out, but it goes out when the slot's answer is back and the process gets to it, so a late send
// squeezes the gap to the next one. Each process also keeps the times it really sent at, and holds a request until
// the one `rateLimit` sends before it is RATE_WINDOW_MS old: the margin the slots keep stays whole however late one
// went. It only ever delays a request that would have broken the limit.

/** How often keys that sent nothing for a window are dropped: the map holds only endpoints sending now. */
const SWEEP_MS = 10_000;

export class SendPacer {
  /** Per endpoint, the planned send times of its last requests (at most rateLimit), oldest first. */
  private readonly sent = new Map<string, number[]>();
  private lastSweep: number;

  constructor(private readonly now: () => number = Date.now) {
    this.lastSweep = now();
  }

  /** Books a send to `key` and answers how long to wait before it goes (0: at once); `now` in the slots' clock. */
  book(key: string, rateLimit: number, now = this.now()): number {
    this.sweep(now);
    const times = this.sent.get(key) ?? [];
    // Booked times never decrease, so the send `rateLimit` before this one is the oldest kept.
    const at = times.length >= rateLimit ? Math.max(now, times[times.length - rateLimit] + RATE_WINDOW_MS) : now;
    times.push(at);
    if (times.length > rateLimit) times.splice(0, times.length - rateLimit);
    this.sent.set(key, times);
    return at - now;
  }

  /** How many endpoints it keeps times for (a test reads it). */
  size(): number {
    return this.sent.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_MS) return;
    this.lastSweep = now;
    for (const [key, times] of this.sent) if (times[times.length - 1] < now - RATE_WINDOW_MS) this.sent.delete(key);
  }
}
