import { condition, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { BUCKET_WORK } from '../retry';
import type { EndpointEntity } from './entity';

// A step waits for the documents it handed out (a delivery timeout each at most); the heartbeat notices a dead worker.
const { replayPending } = proxyActivities<Activities>(BUCKET_WORK);

/**
 * A walk through the bucket, oldest first, redelivering each pending document once. The bucket is the queue: the
 * entity keeps only its position, so its state does not grow with the number of pending documents.
 */
export interface ReplayPass {
  /** `replay` follows a reactivation and ends with a new suspension; `resend` was asked for and runs regardless. */
  reason: 'replay' | 'resend';
  /** The key tail of the last document handed out and answered; the bucket is read after it. */
  after?: string;
  /** Redeliveries of this pass so far that were delivered, and that failed. */
  delivered?: number;
  failed?: number;
  /** The last step queued documents for their turn: the next step waits until then. */
  resumeAt?: string;
}

/**
 * Runs the replay pass a step at a time: each step is one activity that redelivers a page of documents at the replay
 * concurrency and answers where it got to. Documents that become pending behind the pass on an active endpoint
 * redeliver themselves (the document workflow sees the endpoint active when it stores itself).
 */
export async function replayLoop(entity: EndpointEntity): Promise<void> {
  const mayRun = () =>
    !!entity.nextRun.replay && (entity.nextRun.replay.reason === 'resend' || entity.state.status === 'active');
  for (;;) {
    await condition(() => mayRun() || entity.draining());
    if (entity.draining()) return;
    const pass = entity.nextRun.replay!;
    // The documents the last step queued take their turns first; nothing more is booked meanwhile.
    const wait = pass.resumeAt ? Date.parse(pass.resumeAt) - Date.now() : 0;
    if (wait > 0) {
      await condition(() => entity.nextRun.replay !== pass || !mayRun() || entity.draining(), wait);
      continue;
    }
    pass.resumeAt = undefined;
    const step = await replayPending({
      ...entity.where,
      after: pass.after,
      reason: pass.reason,
      limit: entity.settings.replayPageSize,
      concurrency: entity.settings.replayConcurrency,
    });
    entity.noteError(step.lastError);
    // Replaced by a new pass from the start, or ended by a suspension, while the step ran.
    if (entity.nextRun.replay !== pass) continue;
    pass.after = step.after;
    pass.resumeAt = step.resumeAt;
    // (Steps recorded before they counted their answers count nothing, and replay as they ran.)
    if (step.delivered) pass.delivered = (pass.delivered ?? 0) + step.delivered;
    if (step.failed) pass.failed = (pass.failed ?? 0) + step.failed;
    if (!step.done) continue;
    entity.nextRun.replay = undefined;
    // A reactivation whose replay delivered nothing and failed: the endpoint is still down. Suspended again, it is
    // probed again, so its documents are redelivered once it recovers instead of waiting in the bucket until they
    // expire. (Some delivered: it works, and the ones that failed are the receiver's to refuse; they stay pending.)
    if (pass.reason === 'replay' && pass.failed && !pass.delivered && entity.state.status === 'active') {
      entity.suspend(
        'failing',
        `the replay after the reactivation failed: ${step.lastError ?? entity.state.lastError}`,
      );
    }
  }
}
