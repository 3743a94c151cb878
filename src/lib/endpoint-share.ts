// Each endpoint's share of a worker process's sending capacity (docs/architecture.md, "A failing endpoint costs other
// customers nothing"). A request takes a place in its endpoint's share before it is sent and gives it back when it is
// answered. When the share is full of quick requests, it waits here up to a second for the next freed place; otherwise
// nothing is sent and nothing waits here: the caller is told how long to wait, and the document waits on a durable
// timer, holding no slot. So a receiver that hangs holds at most its share of the worker's slots.

/** One place in a share, held while a request is out. */
export interface Place {
  leave(): void;
}

/** The share is full: try again in `retryInMs` (an estimate of when a place frees, for a timer). */
export interface ShareFull {
  retryInMs: number;
}

interface Share {
  /** When each request now out was sent, by a number of its own. */
  sentAt: Map<number, number>;
  /** Requests waiting here for a place (a quick endpoint's share frees in moments), oldest first. */
  waiting: { kind: string; give(place: Place): void }[];
}

const MIN_RETRY_MS = 250;
/**
 * A full share whose oldest request went out less than this long ago belongs to an endpoint that answers quickly (or
 * a worker too busy to read the answers yet): a place frees in moments, so the request waits here for it, at most
 * this long, rather than on a timer (a workflow task and two round trips more). At most as many wait as the share has
 * places, so an endpoint holds at most twice its share, and that only during its first second of hanging.
 */
const QUICK_MS = 1_000;

export class EndpointShares {
  private readonly shares = new Map<string, Share>();
  private readonly inFlightByKind = new Map<string, number>();
  private nextPlace = 0;

  /**
   * @param timeoutMs a request's longest life (DELIVERY_TIMEOUT): a place frees by then at the latest
   * @param workers how many worker processes share each endpoint's limit (each takes its part of it)
   */
  constructor(
    private readonly timeoutMs: number,
    private readonly workers: () => number = () => 1,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** How many worker processes the limits are divided between. */
  workerCount(): number {
    return Math.max(1, this.workers());
  }

  /** This process's part of a limit shared by every worker process: never less than one place. */
  placesFor(limit: number): number {
    return Math.max(1, Math.ceil(limit / this.workerCount()));
  }

  /**
   * A place for one request to `key` within `limit` (shared by every worker process), or how long to wait for one on
   * a timer. `kind` only labels the in-flight gauge.
   */
  async enter(key: string, limit: number, kind: string): Promise<Place | ShareFull> {
    let share = this.shares.get(key);
    if (!share) {
      share = { sentAt: new Map(), waiting: [] };
      this.shares.set(key, share);
    }
    const places = this.placesFor(limit);
    if (share.sentAt.size < places) return this.take(key, share, kind);
    const now = this.now();
    const quick = now - Math.min(...share.sentAt.values()) < QUICK_MS;
    const handedOver = quick && share.waiting.length < places ? await this.waitForPlace(share, kind) : undefined;
    return handedOver ?? { retryInMs: this.retryIn(share, this.now()) };
  }

  /** Requests out now, by kind (delivery, notification, operator). */
  inFlight(): Map<string, number> {
    return new Map(this.inFlightByKind);
  }

  /** The place a leaving request hands over within QUICK_MS, or undefined when none freed. */
  private waitForPlace(share: Share, kind: string): Promise<Place | undefined> {
    return new Promise((resolve) => {
      const waiter = {
        kind,
        give: (place: Place) => {
          clearTimeout(timer);
          resolve(place);
        },
      };
      const timer = setTimeout(() => {
        share.waiting.splice(share.waiting.indexOf(waiter), 1);
        resolve(undefined);
      }, QUICK_MS);
      share.waiting.push(waiter);
    });
  }

  private take(key: string, share: Share, kind: string): Place {
    const place = this.nextPlace++;
    share.sentAt.set(place, this.now());
    this.inFlightByKind.set(kind, (this.inFlightByKind.get(kind) ?? 0) + 1);
    let left = false;
    return {
      leave: () => {
        if (left) return;
        left = true;
        share.sentAt.delete(place);
        this.inFlightByKind.set(kind, this.inFlightByKind.get(kind)! - 1);
        // The place goes straight to the oldest request waiting for one, before any newcomer can take it.
        const next = share.waiting.shift();
        if (next) next.give(this.take(key, share, next.kind));
        else if (share.sentAt.size === 0) this.shares.delete(key);
      },
    };
  }

  /**
   * When to try again. A share whose oldest request went out under QUICK_MS ago frees in moments: about twice its
   * age. One whose oldest has been out longer belongs to a slow or hanging endpoint: a place surely frees when that
   * request times out, and by then its breaker knows whether the endpoint failed, so a request turned away waits
   * until then, once, rather than waking every second or two to find the share still full (each wake a workflow
   * task every other customer's deliveries queue behind). Each is told a time spread evenly over one more such wait:
   * a thousand documents turned away together do not all wake in the same second.
   */
  private retryIn(share: Share, now: number): number {
    const age = now - Math.min(...share.sentAt.values());
    if (age < QUICK_MS) return Math.round(Math.max(MIN_RETRY_MS, 2 * age) * (1 + this.random()));
    return Math.round(Math.max(MIN_RETRY_MS, this.timeoutMs - age) + this.random() * this.timeoutMs);
  }
}

export const isShareFull = (entered: Place | ShareFull): entered is ShareFull => 'retryInMs' in entered;
