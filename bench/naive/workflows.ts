import { proxyActivities } from '@temporalio/workflow';
import type { createNaiveActivities } from './activities';

const { post } = proxyActivities<ReturnType<typeof createNaiveActivities>>({ startToCloseTimeout: '15 seconds' });

/** The naive ceiling: the least a Temporal workflow that delivers one POST can do. */
export async function naiveDelivery(url: string, id: string): Promise<void> {
  await post(url, id);
}
