import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { newDocumentState } from '../../domain/document-state';
import { otherEndpointIds } from '../../domain/endpoints';
import { deliveryWorkflowId, otherEndpoint } from '../../domain/ids';
import type { DocumentInput, Environment } from '../../domain/schemas';
import type { deliverDocument } from '../../workflows';
import type { DocumentRunInput } from '../../workflows/document';
import { AppError } from '../errors';
import { rethrowTemporal } from '../temporal-errors';
import type { ServiceContext } from './context';
import type { createDocumentService } from './documents';
import type { createPendingService } from './pending';

// A resend of any document to one endpoint, delivered or not, for as long as Temporal keeps its workflow (the
// namespace retention): Svix's "resend to endpoint". A pending delivery attempts now (as its pending resend does); one
// that ended (delivered, acknowledged) or never was (the route did not take it) gets a new run of its workflow, which
// goes on from its attempt log, attempts once and keeps the document pending if that fails.

/**
 * Runs a resend may start for one delivery after it has ended: each is a row in visibility for the namespace retention
 * (the message log reads a document's rows together), so a customer resending one document in a loop is bounded. Each
 * run counts itself (`resentRuns`); two resends at once may both start from the same ended run, if one's run has
 * ended before the other starts (a few milliseconds): the later run then counts as the first did.
 */
export const MAX_RESENT_RUNS = 100;

/** What a resend did: attempted a pending delivery now, or started a new run that attempts at once. */
export interface ResendAnswer {
  id: string;
  endpointId: string;
  resent: 'pending' | 'new_run';
}

/** The document as it was submitted: a delivery's start input (any run of any of its deliveries carries it whole). */
async function submittedDocument(client: Client, workflowId: string): Promise<DocumentInput> {
  const history = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId },
    maximumPageSize: 1,
  });
  const payloads = history.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
  const input = await decodeFromPayloadsAtIndex<DocumentRunInput>(
    client.workflow.options.loadedDataConverter,
    0,
    payloads,
  );
  const { continued: _c, restoredFrom: _r, resendOf: _o, endpointId: _e, single: _s, ...document } = input;
  return document;
}

export function createResendService(
  { client, endpoints }: ServiceContext,
  documents: ReturnType<typeof createDocumentService>,
  pending: ReturnType<typeof createPendingService>,
) {
  /** The delivery's latest run, or undefined when there never was one. */
  async function deliveryOf(environment: Environment, customerId: string, id: string, endpointId?: string) {
    const handle = client.workflow.getHandle<typeof deliverDocument>(
      deliveryWorkflowId(environment, customerId, id, endpointId),
    );
    try {
      return await documents.deliveryRun(handle);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * A document that never went to `other` may be sent there only once its first attempt has said where it goes: until
   * then the delivery its routes start could be this one, and would go without its retry schedule.
   */
  async function assertRouted(environment: Environment, customerId: string, id: string, other: string) {
    const own = await documents.getDelivery(environment, customerId, id);
    if ((own.attempts.length === 0 && own.status === 'sending') || own.endpoints?.includes(other)) {
      throw new AppError('conflict', `document ${id} is being routed to its endpoints; try again in a moment`, 409);
    }
  }

  return {
    /**
     * 404: no such document or endpoint (or, `sentThereOnly`, a document that never went to that endpoint); 409: still
     * on its retry schedule, or expired (an operator restores it).
     */
    async resendToEndpoint(
      environment: Environment,
      customerId: string,
      id: string,
      endpointId: string,
      sentThereOnly = false,
    ): Promise<ResendAnswer> {
      const other = otherEndpoint(endpointId);
      const first = await endpoints.get(environment, customerId);
      if (!first) throw AppError.notFound(`document ${id}`);
      if (other && !otherEndpointIds(first).includes(other)) throw AppError.notFound(`endpoint ${endpointId}`);
      const delivery = await deliveryOf(environment, customerId, id, other);
      const status = delivery?.state?.status;
      // The first endpoint's delivery is the document's own workflow, `routed` when it went to others only.
      if (sentThereOnly && (!delivery || status === 'routed')) {
        throw AppError.notFound(`document ${id} at endpoint ${endpointId}`);
      }
      if (delivery?.running) {
        if (status === 'pending') {
          await pending.resend(environment, customerId, id, other);
          return { id, endpointId, resent: 'pending' };
        }
        const next = delivery.state?.nextAttemptAt;
        throw new AppError(
          'conflict',
          next
            ? `document ${id} is still being attempted at ${endpointId} on its retry schedule (next at ${next})`
            : `document ${id} is being sent to ${endpointId} right now; try again in a moment`,
          409,
        );
      }
      if (status === 'expired') {
        throw new AppError(
          'conflict',
          `document ${id} expired at ${endpointId}: past its retention it is in the cold store, which an operator restore brings back`,
          409,
        );
      }
      if ((delivery?.state?.resentRuns ?? 0) >= MAX_RESENT_RUNS) {
        throw new AppError(
          'conflict',
          `document ${id} was resent to ${endpointId} ${MAX_RESENT_RUNS} times after it had ended, the most there are`,
          409,
        );
      }
      if (!delivery && other) await assertRouted(environment, customerId, id, other);
      let document: DocumentInput;
      try {
        // The delivery's own first event when there was one (a test event has no other), else the document's.
        const source = deliveryWorkflowId(environment, customerId, id, delivery ? other : undefined);
        document = await submittedDocument(client, source);
      } catch (err) {
        rethrowTemporal(err, { notFound: `document ${id}` });
      }
      const resendOf = delivery?.state ?? newDocumentState({ ...document, customerId, environment });
      try {
        await documents.startDelivery({ ...document, ...(other ? { endpointId: other } : {}), resendOf }, 'sending', {
          // The ended run's id is reused; a run under way (another resend a moment ago) is left alone.
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      return { id, endpointId, resent: 'new_run' };
    },
  };
}
