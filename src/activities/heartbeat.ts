import { Context } from '@temporalio/activity';

const HEARTBEAT_EVERY_MS = 2_000;

/**
 * Heartbeats while `work` runs, so a worker that dies in the middle is noticed within the activity's heartbeat
 * timeout (seconds) instead of its start-to-close timeout (minutes), and the work is retried on another worker.
 */
export async function heartbeating<T>(work: () => Promise<T>): Promise<T> {
  // A local activity has no heartbeat: the worker's workflow task stands for it.
  if (Context.current().info.isLocal) return work();
  const timer = setInterval(() => Context.current().heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
