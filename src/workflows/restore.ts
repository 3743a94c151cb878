import {
  continueAsNew,
  defineQuery,
  proxyActivities,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Environment } from '../domain/environments';
import { UNTIL_IT_SUCCEEDS } from './retry';

// A page restores up to RESTORE_PAGE_SIZE documents, each a workflow start; the heartbeat notices a dead worker and
// a retry finishes the page from its plan.
const { restorePage, announceRestore } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: UNTIL_IT_SUCCEEDS,
});

/** Documents a page lists and restores: its billing record and its activity stay small. */
const RESTORE_PAGE_SIZE = 100;
/** A run continues as new past this many events (about 7 a page), carrying its progress. */
const RESTORE_RUN_MAX_EVENTS = 1_000;

export interface RestoreProgress {
  restoreId: string;
  environment: Environment;
  customerId: string;
  /** Another endpoint's cold store (absent: the first endpoint's). */
  endpointId?: string;
  status: 'running' | 'completed';
  requestedAt: string;
  completedAt?: string;
  /** Pages done, documents restored, and candidates that could not be (already back, or gone). */
  pages: number;
  restored: number;
  skipped: number;
  /** The cold key the next page lists after. */
  after?: string;
  /** The cold store had more than the request's cap: another restore brings the rest. */
  more: boolean;
}

export interface RestoreJobInput {
  restoreId: string;
  environment: Environment;
  customerId: string;
  /** Another endpoint's cold store (absent: the first endpoint's). */
  endpointId?: string;
  /** These documents only (at most 1,000); otherwise the whole cold store, oldest moved first, up to `limit`. */
  ids?: string[];
  since?: string;
  limit: number;
  requestedAt: string;
  /** Carried across continue-as-new. */
  progress?: RestoreProgress;
}

const restoreProgressQuery = defineQuery<RestoreProgress>('restoreProgress');

/** A job's progress before its first page: what the API answers and the job starts from. */
export function initialProgress(input: RestoreJobInput): RestoreProgress {
  const { restoreId, environment, customerId, endpointId, requestedAt } = input;
  return {
    restoreId,
    environment,
    customerId,
    ...(endpointId ? { endpointId } : {}),
    status: 'running',
    requestedAt,
    pages: 0,
    restored: 0,
    skipped: 0,
    more: false,
  };
}

/**
 * An operator restore as a durable job: the cold store a page at a time, each page's billing record written as it
 * goes (src/activities/restore.ts), progress in the memo for `GET .../restores/{id}`. A killed worker or API costs a
 * retried page, never a document restored or billed twice.
 */
export async function restoreDocuments(input: RestoreJobInput): Promise<RestoreProgress> {
  const { restoreId, environment, customerId, endpointId, ids, since, limit } = input;
  const progress: RestoreProgress = input.progress ?? initialProgress(input);
  setHandler(restoreProgressQuery, () => progress);
  const examined = () => progress.restored + progress.skipped;
  const finished = () =>
    ids
      ? progress.pages * RESTORE_PAGE_SIZE >= ids.length
      : (progress.pages > 0 && !progress.more) || examined() >= limit;
  while (!finished()) {
    const offset = progress.pages * RESTORE_PAGE_SIZE;
    const page = await restorePage({
      restoreId,
      environment,
      customerId,
      // Only in a job for another endpoint: the first endpoint's jobs schedule the activity as they always did.
      ...(endpointId ? { endpointId } : {}),
      page: progress.pages,
      after: progress.after,
      ids: ids?.slice(offset, offset + RESTORE_PAGE_SIZE),
      since,
      limit: Math.min(RESTORE_PAGE_SIZE, limit - examined()),
    });
    progress.pages += 1;
    progress.restored += page.restored;
    progress.skipped += page.skipped;
    progress.after = page.after;
    progress.more = page.more;
    upsertMemo({ restore: progress });
    const info = workflowInfo();
    if (!finished() && (info.continueAsNewSuggested || info.historyLength > RESTORE_RUN_MAX_EVENTS)) {
      await continueAsNew<typeof restoreDocuments>({ ...input, progress });
    }
  }
  progress.status = 'completed';
  progress.completedAt = new Date().toISOString();
  upsertMemo({ restore: progress });
  if (progress.restored > 0) await announceRestore(progress);
  return progress;
}
