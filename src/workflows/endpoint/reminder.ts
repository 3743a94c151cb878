import { condition, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { BUCKET_WORK } from '../retry';
import type { EndpointEntity } from './entity';

const { firstPending, lastDuePending } = proxyActivities<Activities>(BUCKET_WORK);

/**
 * A reminder when pending documents come within NOTIFICATION_REMINDER of their expiry: the first at once, the ones
 * after it at most once per window. Keys sort by expiry, so the position of the last one covered is enough.
 */
export async function reminderLoop(entity: EndpointEntity): Promise<void> {
  const { settings } = entity;
  for (;;) {
    if (entity.nextRun.remindersQuietUntil) {
      const quiet = Date.parse(entity.nextRun.remindersQuietUntil) - Date.now();
      if (quiet > 0 && (await condition(entity.draining, quiet))) return;
      entity.nextRun.remindersQuietUntil = undefined;
    }
    if (entity.draining()) return;
    const seen = entity.arrivals;
    const first = await firstPending({ ...entity.where, after: entity.nextRun.remindedThrough });
    // Woken by new documents or at the due time: either way the bucket is read again.
    const woken = () => entity.arrivals !== seen || entity.draining();
    if (!first) {
      await condition(woken);
      continue;
    }
    const due = Date.parse(first.expiresAt) - settings.reminderBeforeExpiryMs - Date.now();
    if (due > 0) {
      await condition(woken, due);
      continue;
    }
    const dueBy = new Date(Date.now() + settings.reminderBeforeExpiryMs).toISOString();
    entity.nextRun.remindedThrough =
      (await lastDuePending({ ...entity.where, after: entity.nextRun.remindedThrough, dueBy })) ?? first.tail;
    entity.notify(true);
    entity.nextRun.remindersQuietUntil = new Date(Date.now() + settings.notificationWindowMs).toISOString();
  }
}
