import { log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { Environment } from '../../domain/schemas';
import { BEST_EFFORT, BUCKET_WORK, unlessBusy } from '../retry';
import { metrics } from '../sinks';

const { summarizePending } = proxyActivities<Activities>(BUCKET_WORK);
// Notifications are best effort: a few tries, then given up.
const { notifyPending } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: BEST_EFFORT,
});

/** One notification: a summary of the bucket as it is now, signed and posted to the notification URL. */
export async function pendingNotification(input: {
  environment: Environment;
  customerId: string;
  /** Absent for the customer's first endpoint. */
  endpointId?: string;
  notificationId: string;
  reminder: boolean;
}): Promise<string> {
  const customer = { environment: input.environment, customerId: input.customerId, endpointId: input.endpointId };
  const summary = await summarizePending(customer);
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
