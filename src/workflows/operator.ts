import { log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { OperatorEvent } from '../domain/operator-events';
import { BEST_EFFORT, unlessBusy } from './retry';

// Best effort, like customer notifications: a few tries, then given up. Never awaited by a document or an entity.
const { sendOperatorEvent } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: BEST_EFFORT,
});

/** One operational webhook to the platform operator. */
export async function operatorEvent(event: OperatorEvent): Promise<string> {
  try {
    return await unlessBusy(() => sendOperatorEvent(event));
  } catch (err) {
    log.warn('operator event given up', { type: event.type, error: String(err) });
    return 'given-up';
  }
}
