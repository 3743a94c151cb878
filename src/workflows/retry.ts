import type { RetryPolicy } from '@temporalio/workflow';

/**
 * For activities whose failure is an infrastructure fault (a worker crash, S3 or Temporal briefly down): retried
 * without limit, at most a minute apart, because giving up would lose a document or stall an endpoint.
 */
export const UNTIL_IT_SUCCEEDS: RetryPolicy = { initialInterval: '1 second', maximumInterval: '1 minute' };

/** For messages that are best effort (notifications, operator events): four tries over about a minute, then given up. */
export const BEST_EFFORT: RetryPolicy = { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: 4 };
