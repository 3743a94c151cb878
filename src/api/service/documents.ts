import {
  WorkflowExecutionAlreadyStartedError,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { otherEndpointIds } from '../../domain/endpoints';
import { deliveryWorkflowId, otherEndpoint } from '../../domain/ids';
import type { DocumentInput, DocumentState, Environment, SubmitDocument } from '../../domain/schemas';
import { newDocumentState } from '../../domain/document-state';
import { startDocumentWorkflow } from '../../lib/document-start';
import type { deliverDocument } from '../../workflows';
import { documentStatusQuery } from '../../workflows/messages';
import { AppError } from '../errors';
import { rethrowTemporal } from '../temporal-errors';
import type { ServiceContext } from './context';
import type { EventTypeService } from './event-types';

// Starting a workflow whose id exists (running or closed) fails instead of creating a second one.
export const START_ONCE = {
  workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
  workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
} as const;

/** Documents: submit (one workflow per document, idempotent) and status. */
export function createDocumentService(
  { client, endpoints, bodies, config, metrics, clock }: ServiceContext,
  eventTypes: Pick<EventTypeService, 'checkEventType'>,
) {
  /**
   * Customers are never deleted, so one seen to exist keeps existing: a submit reads the endpoint only for a customer
   * this process has not seen yet (one server round trip fewer per document). Unknown ones are asked every time.
   */
  const knownCustomers = new Set<string>();
  async function customerExists(environment: Environment, customerId: string): Promise<boolean> {
    const key = `${environment}/${customerId}`;
    if (knownCustomers.has(key)) return true;
    if (!(await endpoints.get(environment, customerId))) return false;
    if (knownCustomers.size >= 100_000) knownCustomers.clear();
    knownCustomers.add(key);
    return true;
  }

  /** One workflow per document (lib/document-start.ts). */
  function startDelivery(
    document: DocumentInput,
    status: DocumentState['status'],
    idPolicies: Pick<WorkflowStartOptions, 'workflowIdConflictPolicy' | 'workflowIdReusePolicy'>,
  ) {
    return startDocumentWorkflow({ client, config }, document, status, idPolicies);
  }

  /**
   * A delivery's latest run: whether it still runs, and its state. A closed run's result is its final state and needs
   * no worker to answer (that run's: a resend may start another meanwhile, which result() would wait for); a running
   * one is queried. A run that ended otherwise (terminated, say) has no state. Throws WorkflowNotFoundError.
   */
  async function deliveryRun(
    handle: WorkflowHandle<typeof deliverDocument>,
  ): Promise<{ running: boolean; state?: DocumentState }> {
    const description = await handle.describe();
    const status = description.status.name;
    if (status === 'RUNNING') return { running: true, state: await handle.query(documentStatusQuery) };
    if (status !== 'COMPLETED') return { running: false };
    const ended = client.workflow.getHandle<typeof deliverDocument>(handle.workflowId, description.runId, {
      followRuns: false,
    });
    return { running: false, state: await ended.result() };
  }

  async function documentState(handle: WorkflowHandle<typeof deliverDocument>): Promise<DocumentState> {
    const { state } = await deliveryRun(handle);
    // What the state of a run that ended without one (terminated) always answered: the query, by replay.
    return state ?? handle.query(documentStatusQuery);
  }

  /** One delivery of a document: to the first endpoint (the document's own workflow) or to another. */
  async function getDelivery(
    environment: Environment,
    customerId: string,
    id: string,
    endpointId?: string,
  ): Promise<DocumentState> {
    try {
      return await documentState(
        client.workflow.getHandle(deliveryWorkflowId(environment, customerId, id, endpointId)),
      );
    } catch (err) {
      rethrowTemporal(err, { notFound: `document ${id}` });
    }
  }

  /**
   * The document; one that went to other endpoints too has each delivery's state (a read per endpoint, at most 19):
   * those its routes started, and those a resend started at an endpoint it never went to. With another endpoint's id,
   * that delivery alone (a test event sent there has no other).
   */
  async function getDocument(
    environment: Environment,
    customerId: string,
    id: string,
    endpointId?: string,
  ): Promise<DocumentState & { deliveries?: (DocumentState & { endpointId: string })[] }> {
    const other = otherEndpoint(endpointId);
    if (other) return getDelivery(environment, customerId, id, other);
    const [state, customer] = await Promise.all([
      getDelivery(environment, customerId, id),
      endpoints.get(environment, customerId),
    ]);
    const routed = state.endpoints ?? [];
    const targets = [...new Set([...routed, ...otherEndpointIds(customer)])];
    if (targets.length === 0) return state;
    const deliveries = await Promise.all(
      targets.map(async (endpointId) => {
        try {
          return { ...(await getDelivery(environment, customerId, id, endpointId)), endpointId };
        } catch (err) {
          if (!(err instanceof AppError && err.httpStatus === 404)) throw err;
          // Never sent there (or to an endpoint since removed).
          if (!routed.includes(endpointId)) return undefined;
          // Started a moment after the document's own workflow recorded it: it is about to send.
          return { ...newDocumentState(state), endpointId };
        }
      }),
    );
    const found = deliveries.filter((delivery) => delivery !== undefined);
    return found.length > 0 || state.endpoints ? { ...state, deliveries: found } : state;
  }

  return {
    deliveryRun,
    startDelivery,
    getDocument,
    getDelivery,

    /** Starts delivery once per (environment, customer, id); a repeat returns the existing document's status. */
    async submitDocument(environment: Environment, doc: SubmitDocument): Promise<DocumentState['status']> {
      if (!(await customerExists(environment, doc.customerId))) throw AppError.notFound(`customer ${doc.customerId}`);
      await eventTypes.checkEventType(doc);
      const document = { ...doc, environment, createdAt: new Date().toISOString() };
      // Kept by the workflows' clock, which the sweep reads too.
      const bodyKey = bodies.isLarge(document) ? await bodies.put(document, await clock()) : undefined;
      try {
        await startDelivery(bodyKey ? { ...document, data: undefined, bodyKey } : document, 'sending', START_ONCE);
        metrics.documentsSubmitted.inc({ environment });
        if (bodyKey) metrics.bodiesStored.inc({ environment });
        return 'sending';
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        // Submitted before: its workflow reads the body it was started with, not this one (the sweep removes it
        // anyway should this fail).
        if (bodyKey) await bodies.remove(environment, bodyKey).catch(() => undefined);
        return (await getDocument(environment, doc.customerId, doc.id)).status;
      }
    },
  };
}
