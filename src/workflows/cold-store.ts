import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { UNTIL_IT_SUCCEEDS } from './retry';
import { ENVIRONMENTS } from '../domain/environments';

const { sweepColdStore } = proxyActivities<Activities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: UNTIL_IT_SUCCEEDS,
});

/**
 * Run by a Temporal Schedule: removes cold-store copies older than COLD_RETENTION in both buckets. A bucket lifecycle
 * rule does the same where S3 has one; this covers servers without (versitygw), so no document workflow has to live
 * through the cold retention to delete its copy.
 */
export async function sweepColdStores(): Promise<Record<string, number>> {
  const now = new Date().toISOString();
  const removed: Record<string, number> = {};
  for (const environment of ENVIRONMENTS) removed[environment] = await sweepColdStore({ environment, now });
  return removed;
}
