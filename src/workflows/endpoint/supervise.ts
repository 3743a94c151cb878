import { log } from '@temporalio/workflow';

/**
 * Runs the entity's loops until each has stopped for a new run. A loop that throws fails the workflow task, not the
 * workflow: Temporal retries it, the Web UI and the worker log show it, and the entity's state is kept. The loops
 * start in the order given (their first commands come in that order).
 */
export async function supervise(loops: Record<string, () => Promise<void>>): Promise<void> {
  await Promise.all(
    Object.entries(loops).map(async ([name, loop]) => {
      try {
        await loop();
      } catch (err) {
        log.error('endpoint loop failed', { loop: name, error: String(err) });
        throw new Error(`the ${name} loop failed: ${String(err)}`);
      }
    }),
  );
}
