import { sleep, type ActivityOptions, type RetryPolicy } from '@temporalio/workflow';

/**
 * For activities whose failure is an infrastructure fault (a worker crash, S3 or Temporal briefly down): retried
 * without limit, at most a minute apart, because giving up would lose a document or stall an endpoint.
 */
export const UNTIL_IT_SUCCEEDS: RetryPolicy = { initialInterval: '1 second', maximumInterval: '1 minute' };

/**
 * For the entity's long activities over the bucket (reads, probes, replay steps, which wait for the attempts they hand
 * out): they must eventually succeed (S3 may be down for a while), and the heartbeat notices a dead worker.
 */
export const BUCKET_WORK: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: UNTIL_IT_SUCCEEDS,
};

/** For messages that are best effort (notifications, operator events): four tries over about a minute, then given up. */
export const BEST_EFFORT: RetryPolicy = { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: 4 };

/** A best-effort message whose endpoint's share of requests in flight was full waits this long, doubling, ... */
const BUSY_FIRST_WAIT_MS = 5_000;
/** ...this many times, and is then given up like one whose tries ran out. */
const BUSY_ROUNDS = 5;

/**
 * Sends a best-effort message, waiting on a durable timer (holding no worker slot) while its endpoint's share is
 * full. Histories recorded before shares never answered `busy`, so they replay down the same path.
 */
export async function unlessBusy<T>(send: () => Promise<T | 'busy'>): Promise<T | 'busy'> {
  for (let round = 0; ; round++) {
    const result = await send();
    if (result !== 'busy' || round + 1 >= BUSY_ROUNDS) return result;
    await sleep(BUSY_FIRST_WAIT_MS * 2 ** round);
  }
}
