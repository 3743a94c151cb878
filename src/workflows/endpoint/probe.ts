import { condition, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { BUCKET_WORK } from '../retry';
import { retryScheduleOr } from '../../domain/schedule';
import type { EndpointEntity } from './entity';

// A probe waits for a document's attempt (at most a delivery timeout each); the heartbeat notices a dead worker.
const { probePending } = proxyActivities<Activities>(BUCKET_WORK);

/** A probe tries the oldest document whose workflow still exists among this many. */
const PROBE_CANDIDATES = 10;

export interface ProbeTime {
  step: number;
  at: string;
}

/**
 * A failing endpoint is probed with its oldest pending document on its schedule (never more often than
 * PROBE_MIN_INTERVAL), restarting from the first step, and
 * reactivated when a probe is delivered. The next probe time is carried across runs, so frequent continue-as-new
 * never postpones a probe.
 */
export async function probeLoop(entity: EndpointEntity): Promise<void> {
  const { state } = entity;
  const probing = () => state.status === 'suspended' && state.suspension?.kind === 'failing';
  for (;;) {
    await condition(() => probing() || entity.draining());
    if (entity.draining()) return;
    const schedule = retryScheduleOr(state.retrySchedule, entity.settings.defaultRetrySchedule);
    const interval = (step: number) =>
      Math.max(schedule[Math.min(step, schedule.length - 1)], entity.settings.probeMinIntervalMs ?? 0);
    const after = (step: number): ProbeTime => ({ step, at: new Date(Date.now() + interval(step)).toISOString() });
    const probe = (entity.nextRun.probe ??= after(0));
    const wait = Date.parse(probe.at) - Date.now();
    if (wait > 0) {
      await condition(() => !probing() || entity.draining(), wait);
      if (!probing()) entity.nextRun.probe = undefined;
      continue;
    }
    const answer = await probePending({ ...entity.where, candidates: PROBE_CANDIDATES });
    if (answer.outcome === 'failed') entity.noteError(answer.error);
    // Turned off by the customer while the probe was out: a success does not override that.
    if (answer.outcome === 'delivered' && probing()) entity.reactivate(true);
    // Reactivated (and perhaps suspended anew) while the probe was out: that suspension's probes start over.
    if (entity.nextRun.probe !== probe) continue;
    entity.nextRun.probe = probing() ? after(probe.step + 1) : undefined;
  }
}
