import type { Client, WorkflowStartOptions } from '@temporalio/client';
import type { Config } from '../config';
import { fairnessKey } from '../domain/fairness';
import { deliveryWorkflowId } from '../domain/ids';
import type { DocumentInput, DocumentState } from '../domain/schemas';
import { documentSearchAttributes } from '../domain/search-attributes';
import type { deliverDocument } from '../workflows';

/**
 * Starts a document's workflow, tagged so the Web UI can find it by customer, environment, type and status: from the
 * API (a submit) and from a restore job (a document back from the cold store, `memo` naming the restore).
 */
export function startDocumentWorkflow(
  { client, config }: { client: Client; config: Config },
  document: DocumentInput,
  status: DocumentState['status'],
  options: Pick<WorkflowStartOptions, 'workflowIdConflictPolicy' | 'workflowIdReusePolicy' | 'memo'>,
) {
  return client.workflow.start<typeof deliverDocument>('deliverDocument', {
    workflowId: deliveryWorkflowId(document.environment, document.customerId, document.id, document.endpointId),
    taskQueue: config.TASK_QUEUE,
    args: [document],
    typedSearchAttributes: documentSearchAttributes(document, status),
    ...options,
    priority: { fairnessKey: fairnessKey(document.environment, document.customerId) },
    // Answered with the first workflow task when this process runs a worker (API_EMBEDDED_WORKER).
    requestEagerStart: config.API_EMBEDDED_WORKER,
  });
}
