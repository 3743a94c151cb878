import { condition, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { BEST_EFFORT, UNTIL_IT_SUCCEEDS, unlessBusy } from './retry';
import type { Environment } from '../domain/schemas';
import type { EndpointEntity } from './endpoint';
import { metrics } from './sinks';

// Reading the bucket must eventually succeed (S3 may be down for a while); long scans heartbeat and resume.
const { newestPending, firstPending, lastDuePending, summarizePending } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: UNTIL_IT_SUCCEEDS,
});
// Notifications are best effort: a few tries, then given up.
const { notifyPending } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: BEST_EFFORT,
});

/**
 * Documents entering the bucket within one window share one notification. The first of a window announces itself
 * (`documentsArrived`); the ones after it see `arrivalsAnnounced` in the entity's memo and stay quiet.
 */
export async function notificationLoop(entity: EndpointEntity): Promise<void> {
  const { state } = entity;
  for (;;) {
    await condition(() => !!state.arrivalsAnnounced || entity.draining());
    if (entity.draining()) return;
    // The window's end is carried across runs, so a continue-as-new inside it does not make it longer.
    entity.carried.windowEndsAt ??= new Date(Date.now() + entity.settings.notificationWindowMs).toISOString();
    const wait = Date.parse(entity.carried.windowEndsAt) - Date.now();
    if (wait > 0 && (await condition(entity.draining, wait))) return;
    entity.carried.windowEndsAt = undefined;
    // Cleared before the bucket is read (the memo is written with the read's scheduling): a document stored after
    // the read sees the flag down and announces itself again.
    state.arrivalsAnnounced = false;
    entity.publish();
    const newest = await newestPending({ ...entity.where, after: entity.carried.notifiedThrough });
    if (!newest) continue;
    entity.carried.notifiedThrough = newest;
    entity.arrivals += 1;
    entity.notify(false);
  }
}

/**
 * A reminder when pending documents come within NOTIFICATION_REMINDER of their expiry: the first at once, the ones
 * after it at most once per window. Keys sort by expiry, so the position of the last one covered is enough.
 */
export async function reminderLoop(entity: EndpointEntity): Promise<void> {
  const { settings } = entity;
  for (;;) {
    if (entity.carried.remindersQuietUntil) {
      const quiet = Date.parse(entity.carried.remindersQuietUntil) - Date.now();
      if (quiet > 0 && (await condition(entity.draining, quiet))) return;
      entity.carried.remindersQuietUntil = undefined;
    }
    if (entity.draining()) return;
    const seen = entity.arrivals;
    const first = await firstPending({ ...entity.where, after: entity.carried.remindedThrough });
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
    entity.carried.remindedThrough =
      (await lastDuePending({ ...entity.where, after: entity.carried.remindedThrough, dueBy })) ?? first.tail;
    entity.notify(true);
    entity.carried.remindersQuietUntil = new Date(Date.now() + settings.notificationWindowMs).toISOString();
  }
}

/** One notification: a summary of the bucket as it is now, signed and posted to the notification URL. */
export async function pendingNotification(input: {
  environment: Environment;
  customerId: string;
  notificationId: string;
  reminder: boolean;
}): Promise<string> {
  const where = { environment: input.environment, customerId: input.customerId };
  const summary = await summarizePending(where);
  try {
    const result = await unlessBusy(() => notifyPending({ ...input, summary }));
    if (result !== 'busy') return result;
    log.warn('notification given up: the endpoint stayed at its requests in flight');
  } catch (err) {
    log.warn('notification given up', { error: String(err) });
  }
  metrics.notificationGivenUp(input.environment);
  return 'given-up';
}
