import { ApplicationFailure, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { retryScheduleOr } from '../../domain/schedule';
import { DELETED_ENDPOINT, endpointDeletedUpdate, UNKNOWN_ENDPOINT } from '../messages';
import { BUCKET_WORK, UNTIL_IT_SUCCEEDS } from '../retry';
import type { EndpointEntity } from './entity';

const { firstPending } = proxyActivities<Activities>(BUCKET_WORK);
const { reportEndpointSettled } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: UNTIL_IT_SUCCEEDS,
});

const M = 60_000;
/**
 * Past the longest wait of a delivery still retrying when its endpoint was deleted: its jitter (5 minutes at most), its
 * write into the bucket (PENDING_PUT_TIMEOUT and CLOCK_SKEW), a child start under way when the routes changed.
 */
const SETTLE_MARGIN_MS = 10 * M;
/** A deleted endpoint reads its bucket prefix at most this often, and at least this often. */
const CHECK_AT_MOST_EVERY_MS = 60 * M;
const CHECK_AT_LEAST_EVERY_MS = 24 * 60 * M;

/** Refuses an Update that would change a deleted endpoint (the API answers 404: it found it listed a moment before). */
export function refuseIfDeleted(entity: EndpointEntity): void {
  if (entity.state.status === 'deleted') {
    throw ApplicationFailure.nonRetryable('the endpoint was deleted', DELETED_ENDPOINT);
  }
}

/** Another endpoint's entity: deleted by its first endpoint's (deleteEndpoint), it stops sending anything at once. */
export function registerDeletion(entity: EndpointEntity): void {
  // An Update: the first endpoint's entity answers the customer once this status is recorded, with the memo every
  // attempt, notification and email reads before sending. The same deletion asked again answers the same.
  setHandler(
    endpointDeletedUpdate,
    ({ deletedAt }) => {
      if (entity.state.status !== 'deleted') entity.markDeleted(deletedAt);
      return entity.state;
    },
    {
      validator: (_deletion: { deletedAt: string }) => {
        if (!entity.state.endpointId) {
          throw ApplicationFailure.nonRetryable('the first endpoint is the customer record', UNKNOWN_ENDPOINT);
        }
      },
    },
  );
}

/**
 * A deleted endpoint's run: it waits until every document it had is settled (its bucket prefix is empty: each one
 * expired or was acknowledged) and no delivery still on its retry schedule can land there any more, then tells its
 * first endpoint's entity and ends. One bucket read at each check, at the oldest document's expiry (at most hourly,
 * at least daily), so a prefix of any size costs a few hundred reads over its retention.
 */
export async function settleLoop(entity: EndpointEntity): Promise<void> {
  const { state } = entity;
  // A delivery retrying when the endpoint was deleted attempts (sending nothing) and stores itself within its
  // schedule's longest interval; one waiting for a rate-limit slot, by the last slot handed out.
  const longest = Math.max(...retryScheduleOr(state.retrySchedule, entity.settings.defaultRetrySchedule));
  const quietFrom =
    Math.max(Date.parse(state.deletedAt ?? new Date().toISOString()) + longest, entity.nextRun.nextSlotAt ?? 0) +
    SETTLE_MARGIN_MS;
  for (;;) {
    if (entity.draining()) return;
    const oldest = await firstPending({ ...entity.where });
    const now = Date.now();
    if (!oldest && now >= quietFrom) break;
    // Expired a little after its time, by its own workflow's timer.
    const due = oldest ? Date.parse(oldest.expiresAt) + SETTLE_MARGIN_MS : quietFrom;
    const wait = Math.min(Math.max(due - now, CHECK_AT_MOST_EVERY_MS), CHECK_AT_LEAST_EVERY_MS);
    await condition(entity.draining, oldest ? wait : Math.max(due - now, 1));
  }
  await reportEndpointSettled({
    environment: state.environment,
    customerId: state.customerId,
    endpointId: state.endpointId!,
  });
  entity.end();
}
