import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Config } from '../config';
import { COLD_STORE_SWEEP_SCHEDULE_ID } from '../domain/ids';
import type { sweepColdStores } from '../workflows';
import { logger } from './logger';

/**
 * The Temporal Schedule that runs `sweepColdStores` every COLD_SWEEP_INTERVAL. Created by every worker at start (the
 * first one wins; the others bring its interval up to date), so the cluster has exactly one.
 */
export async function ensureColdStoreSweep(client: Client, config: Config): Promise<void> {
  const spec = { intervals: [{ every: config.COLD_SWEEP_INTERVAL }] };
  try {
    await client.schedule.create({
      scheduleId: COLD_STORE_SWEEP_SCHEDULE_ID,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: 'sweepColdStores' satisfies (typeof sweepColdStores)['name'],
        taskQueue: config.TASK_QUEUE,
        args: [],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    logger.info({ every: config.COLD_SWEEP_INTERVAL }, 'cold-store sweep scheduled');
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(COLD_STORE_SWEEP_SCHEDULE_ID).update((previous) => ({ ...previous, spec }));
  }
}
