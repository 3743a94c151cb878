import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { logger } from './logger';

/** Pollers seen by the server within this long count as live workers (the server reports pollers for about 5 min). */
const LIVE_MS = 2 * 60_000;
const EVERY_MS = 30_000;

/**
 * How many worker processes poll the task queue, as the server saw them lately (DescribeTaskQueue's pollers). Each
 * worker takes its part of an endpoint's in-flight limit from it, so the limit holds for all of them together
 * without a round trip per request. Read every 30 s; on any error the last count stays (1 at first).
 */
export function watchWorkerCount(client: Client, namespace: string, taskQueue: string) {
  let count = 1;
  const read = async () => {
    try {
      const { pollers } = await client.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      });
      const since = Date.now() - LIVE_MS;
      const live = new Set(
        (pollers ?? [])
          .filter((p) => Number(p.lastAccessTime?.seconds ?? 0) * 1000 >= since)
          .map((p) => p.identity ?? ''),
      );
      count = Math.max(1, live.size);
    } catch (err) {
      logger.debug({ err }, 'could not count the workers polling the task queue');
    }
  };
  void read();
  const timer = setInterval(() => void read(), EVERY_MS);
  timer.unref();
  return {
    current: () => count,
    stop: () => clearInterval(timer),
  };
}
