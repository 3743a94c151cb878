import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { endpointWorkflowId } from '../../domain/ids';
import type { Environment } from '../../domain/schemas';
import { documentsArrivedSignal } from '../../workflows/messages';
import { AppError } from '../errors';
import { emitOperatorEvent } from '../../activities/operator';
import type { ServiceContext } from './context';
import type { createDocumentService } from './documents';

/**
 * The account-manager path: expired documents come back from the cold store as pending, each in a new run of its
 * workflow, with a new retention window. Each restore is recorded (who, when, which) next to the cold store, for
 * billing.
 */
export function createRestoreService(
  { client, store, endpoints, metrics, config }: ServiceContext,
  documents: ReturnType<typeof createDocumentService>,
) {
  return {
    async restore(environment: Environment, customerId: string, { ids, since }: { ids?: string[]; since?: string }) {
      if (!(await endpoints.get(environment, customerId))) throw AppError.notFound(`customer ${customerId}`);
      const cold = (await store.listCold(environment, customerId)).filter(
        (object) => (!ids || ids.includes(object.id)) && (!since || !object.at || object.at >= new Date(since)),
      );

      const restored: string[] = [];
      for (const { key, id } of cold) {
        const stored = await store.read(environment, key);
        if (!stored) continue;
        try {
          // The ended run's id is reused: a new run takes its place and brings the copy back.
          await documents.startDelivery({ ...stored, customerId, environment, restoredFrom: key }, 'pending', {
            workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
            workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          });
          restored.push(id);
        } catch (err) {
          // Its workflow is still running (expiring right now, or pending again): nothing to restore.
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
      }
      // The restored documents wait for the customer; the entity tells them in its next notification.
      if (restored.length > 0) {
        await client.workflow.getHandle(endpointWorkflowId(environment, customerId)).signal(documentsArrivedSignal);
      }
      // Recorded for billing when something came back; a restore that found nothing leaves no trace.
      if (restored.length > 0) {
        metrics.documentsRestored.inc({ environment }, restored.length);
        const at = new Date().toISOString();
        await emitOperatorEvent(client, config, {
          id: `op_restore.completed_${environment}_${customerId}_${Date.parse(at)}`,
          type: 'restore.completed',
          timestamp: at,
          data: { customerId, environment, count: restored.length, documentIds: restored },
        });
        await store.recordRestore({
          by: 'operator',
          at,
          environment,
          customerId,
          count: restored.length,
          ids: restored,
        });
      }
      return { count: restored.length, ids: restored };
    },
  };
}
