import { condition, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { BUCKET_WORK } from '../retry';
import type { EndpointEntity } from './entity';

const { newestPending } = proxyActivities<Activities>(BUCKET_WORK);

/**
 * Documents entering the bucket within one window share one notification. The first of a window announces itself
 * (`documentsArrived`); the ones after it see `arrivalsAnnounced` in the entity's memo and stay quiet. The
 * notification itself is queued in the outbox and sent by the `pendingNotification` workflow.
 */
export async function notificationLoop(entity: EndpointEntity): Promise<void> {
  const { state } = entity;
  for (;;) {
    await condition(() => !!state.arrivalsAnnounced || entity.draining());
    if (entity.draining()) return;
    // The window's end is carried across runs, so a continue-as-new inside it does not make it longer.
    entity.nextRun.windowEndsAt ??= new Date(Date.now() + entity.settings.notificationWindowMs).toISOString();
    const wait = Date.parse(entity.nextRun.windowEndsAt) - Date.now();
    if (wait > 0 && (await condition(entity.draining, wait))) return;
    entity.nextRun.windowEndsAt = undefined;
    // Cleared before the bucket is read (the memo is written with the read's scheduling): a document stored after
    // the read sees the flag down and announces itself again.
    state.arrivalsAnnounced = false;
    entity.publish();
    const newest = await newestPending({ ...entity.where, after: entity.nextRun.notifiedThrough });
    if (!newest) continue;
    entity.nextRun.notifiedThrough = newest;
    entity.arrivals += 1;
    entity.notify(false);
  }
}
