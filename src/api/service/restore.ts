import { randomUUID } from 'node:crypto';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { otherEndpointIds } from '../../domain/endpoints';
import { otherEndpoint, restoreWorkflowId } from '../../domain/ids';
import type { Environment } from '../../domain/schemas';
import {
  initialProgress,
  type RestoreJobInput,
  type RestoreProgress,
  type restoreDocuments,
} from '../../workflows/restore';
import { AppError } from '../errors';
import { rethrowTemporal } from '../temporal-errors';
import type { ServiceContext } from './context';

/** Svix caps a recovery at 10,000 messages: a restore brings back at most this many; another one brings the rest. */
const RESTORE_CAP = 10_000;

/**
 * The account-manager path: expired documents come back from the cold store as pending, each in a new run of its
 * workflow, with a new retention window. A restore is a job of its own (src/workflows/restore.ts), started here and
 * answered at once; it records what it restored page by page next to the cold store, for billing.
 */
export function createRestoreService({ client, endpoints, config }: ServiceContext) {
  return {
    async restore(
      environment: Environment,
      customerId: string,
      { endpointId, ids, since, limit }: { endpointId?: string; ids?: string[]; since?: string; limit?: number },
    ): Promise<RestoreProgress> {
      const record = await endpoints.get(environment, customerId);
      if (!record) throw AppError.notFound(`customer ${customerId}`);
      const other = otherEndpoint(endpointId);
      // A deleted endpoint's cold documents stay restorable only while it is listed: after that they just expire.
      if (other && !otherEndpointIds(record).includes(other)) throw AppError.notFound(`endpoint ${endpointId}`);
      const requestedAt = new Date().toISOString();
      const restoreId = `rst_${randomUUID().replaceAll('-', '')}`;
      const input: RestoreJobInput = {
        restoreId,
        environment,
        customerId,
        ...(other ? { endpointId: other } : {}),
        ids,
        since,
        limit: Math.min(limit ?? RESTORE_CAP, RESTORE_CAP),
        requestedAt,
      };
      const progress = initialProgress(input);
      await client.workflow.start<typeof restoreDocuments>('restoreDocuments', {
        workflowId: restoreWorkflowId(environment, customerId, restoreId),
        taskQueue: config.TASK_QUEUE,
        args: [input],
        // Readable before the job's first page: `GET .../restores/{id}` reads the memo.
        memo: { restore: progress },
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      return progress;
    },

    /** A restore job's progress, from its memo (no worker involved). */
    async getRestore(environment: Environment, customerId: string, restoreId: string): Promise<RestoreProgress> {
      try {
        const description = await client.workflow
          .getHandle(restoreWorkflowId(environment, customerId, restoreId))
          .describe();
        const progress = description.memo?.restore as RestoreProgress | undefined;
        if (!progress) throw AppError.notFound(`restore ${restoreId}`);
        return progress;
      } catch (err) {
        rethrowTemporal(err, { notFound: `restore ${restoreId}` });
      }
    },
  };
}
