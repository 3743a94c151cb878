// Circuit breakers for customers' endpoints, one per endpoint URL, held by each worker process (docs/architecture.md,
// "A failing endpoint costs other customers nothing"). A breaker opens after `failures` failed requests within
// `windowMs` with no success between them; while open, scheduled attempts are skipped (the document goes on to its next
// retry) instead of each waiting out a timeout. After a cooldown the next request is let through as a trial: a success
// closes the breaker, a failure opens it again for twice as long (at most `maxCooldownMs`).
//
// Written here rather than taken from a library (opossum): those wrap one function per breaker with timers and
// rolling statistics of their own, where this needs thousands of keyed breakers that cost nothing while closed, and
// decisions returned as values the document workflow records, not errors thrown.

export interface BreakerSettings {
  failures: number;
  windowMs: number;
  cooldownMs: number;
  maxCooldownMs: number;
}

/** `closed`: send. `trial`: send, the one request that decides (report its result). `open`: do not send. */
export type BreakerDecision = { state: 'closed' } | { state: 'trial' } | { state: 'open'; until: number };

/** What a request says about the endpoint: `failure` (no answer, 5xx, 408, 429), `success` (it answered), `neutral`. */
export type RequestVerdict = 'success' | 'failure' | 'neutral';

interface Breaker {
  /** When recent failures happened (since the last success), oldest first; at most `failures` entries. */
  failedAt: number[];
  openUntil?: number;
  cooldownMs: number;
  /** Until when the trial handed out may still report (a caller that never does cannot wedge the breaker). */
  trialUntil?: number;
  touchedAt: number;
}

/** Entries idle this long are dropped when the map grows: a breaker nobody sends through need not be remembered. */
const IDLE_MS = 60 * 60_000;
const SWEEP_ABOVE = 10_000;
/** Longer than any request (DELIVERY_TIMEOUT is at most a minute). */
const TRIAL_MS = 2 * 60_000;

export class CircuitBreakers {
  private readonly breakers = new Map<string, Breaker>();

  constructor(
    private readonly settings: BreakerSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a request to `key` may be sent now; a `trial` is handed to one caller at a time. */
  admit(key: string): BreakerDecision {
    const breaker = this.breakers.get(key);
    if (breaker?.openUntil === undefined) return { state: 'closed' };
    const now = this.now();
    breaker.touchedAt = now;
    if (now < breaker.openUntil || (breaker.trialUntil ?? 0) > now) {
      return { state: 'open', until: Math.max(breaker.openUntil, now) };
    }
    breaker.trialUntil = now + TRIAL_MS;
    return { state: 'trial' };
  }

  /** The result of a request that was sent (admitted or not: a customer's resend counts too). */
  record(key: string, verdict: RequestVerdict, trial = false): void {
    const now = this.now();
    const breaker = this.breakers.get(key);
    if (verdict === 'success') {
      // Answered: closed again, whatever state it was in.
      this.breakers.delete(key);
      return;
    }
    if (verdict === 'neutral') {
      if (breaker && trial) breaker.trialUntil = undefined;
      return;
    }
    const entry = breaker ?? this.create(key, now);
    entry.touchedAt = now;
    if (entry.openUntil !== undefined) {
      // A failed trial opens it for longer; a failure of a request sent while open (a resend) changes nothing.
      if (trial) {
        entry.cooldownMs = Math.min(entry.cooldownMs * 2, this.settings.maxCooldownMs);
        entry.openUntil = now + entry.cooldownMs;
        entry.trialUntil = undefined;
      }
      return;
    }
    entry.failedAt.push(now);
    while (entry.failedAt.length > 0 && entry.failedAt[0] <= now - this.settings.windowMs) entry.failedAt.shift();
    if (entry.failedAt.length > this.settings.failures) entry.failedAt.shift();
    if (entry.failedAt.length >= this.settings.failures) {
      entry.openUntil = now + entry.cooldownMs;
      entry.failedAt = [];
    }
  }

  /** Breakers open or half open (waiting for, or running, their trial) in this process. */
  openCount(): number {
    let open = 0;
    for (const breaker of this.breakers.values()) if (breaker.openUntil !== undefined) open++;
    return open;
  }

  private create(key: string, now: number): Breaker {
    if (this.breakers.size >= SWEEP_ABOVE) {
      for (const [k, b] of this.breakers) if (b.touchedAt < now - IDLE_MS) this.breakers.delete(k);
    }
    const breaker: Breaker = { failedAt: [], cooldownMs: this.settings.cooldownMs, touchedAt: now };
    this.breakers.set(key, breaker);
    return breaker;
  }
}

/** How one request's answer weighs on its endpoint's breaker. */
export function verdictOf(statusCode: number | undefined): RequestVerdict {
  if (statusCode === undefined) return 'failure';
  if (statusCode >= 500 || statusCode === 408 || statusCode === 429) return 'failure';
  return 'success';
}
