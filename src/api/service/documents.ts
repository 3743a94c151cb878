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

/**
 * The most delivery workflow ids one visibility listing names: at most 1,000 ids of at most 255 characters, a query of
 * about 260 KB (Temporal's gRPC limit is 4 MB); a page of the everywhere routes (50 documents x 19 other endpoints)
 * fits in one.
 */
const IDS_PER_LISTING = 1_000;
/** Rows per page of a listing: one page holds a running delivery per id listed. */
const LISTING_PAGE_SIZE = 1_000;
/** Ids are letters, digits and `._-` (IdSchema), joined by `:`: nothing to escape inside quotes, nothing else passes. */
const SAFE_WORKFLOW_ID = /^[A-Za-z0-9._:~-]+$/;

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
   * Where a customer's resends started deliveries of these documents at endpoints their routes never sent them to
   * (resend.ts: Svix's "resend to endpoint"), by document id. The document's own state names the endpoints its routes
   * took it to (`endpoints`), but not these: a resend starts them from the API, usually long after the document's own
   * workflow has ended, so nothing can tell that workflow, and no record the API reads anyway could keep them without
   * growing with every resend. So they are looked up by name, not read one endpoint at a time: one visibility listing of
   * the candidates' workflow ids (`WorkflowId IN (...)`, served by the visibility store's workflow-id index), at most
   * IDS_PER_LISTING of them (a page of the everywhere routes fits in one), instead of a describe per endpoint (19 at 20
   * endpoints, most of them of workflows that do not exist). `running`: only those still running (pending ones are).
   * Visibility is a moment behind: a delivery started in the last second may not be listed yet.
   */
  async function resentAt(
    environment: Environment,
    customerId: string,
    candidates: { id: string; endpointIds: string[] }[],
    running = false,
  ): Promise<Map<string, string[]>> {
    const named = new Map<string, { id: string; endpointId: string }>();
    for (const { id, endpointIds } of candidates) {
      for (const endpointId of endpointIds) {
        const workflowId = deliveryWorkflowId(environment, customerId, id, endpointId);
        if (SAFE_WORKFLOW_ID.test(workflowId)) named.set(workflowId, { id, endpointId });
      }
    }
    const found = new Map<string, Set<string>>();
    const ids = [...named.keys()];
    for (let start = 0; start < ids.length; start += IDS_PER_LISTING) {
      const chunk = ids.slice(start, start + IDS_PER_LISTING);
      const query =
        `WorkflowType = 'deliverDocument' AND ` +
        (running ? `ExecutionStatus = 'Running' AND ` : `ExecutionStatus != 'ContinuedAsNew' AND `) +
        `WorkflowId IN (${chunk.map((workflowId) => `'${workflowId}'`).join(', ')})`;
      const seen = new Set<string>();
      // A delivery resent many times has a row per run: the listing stops once every id listed was seen.
      for await (const workflow of client.workflow.list({ query, pageSize: LISTING_PAGE_SIZE })) {
        const delivery = named.get(workflow.workflowId);
        if (!delivery || seen.has(workflow.workflowId)) continue;
        seen.add(workflow.workflowId);
        const at = found.get(delivery.id) ?? new Set<string>();
        found.set(delivery.id, at.add(delivery.endpointId));
        if (seen.size === chunk.length) break;
      }
    }
    // In the order the candidates were given (the customer's order of endpoints).
    return new Map(
      candidates.map(({ id, endpointIds }) => [id, endpointIds.filter((e) => found.get(id)?.has(e))] as const),
    );
  }

  /**
   * The other endpoints a document has a delivery at: those its routes started (its own state's `endpoints`), then
   * those a customer's resend started at one of `otherEndpoints` it was never routed to (one listing, when there are
   * such endpoints). What it reads is bounded by the deliveries the document has, never by the endpoints the customer
   * has.
   */
  async function deliveryEndpoints(
    environment: Environment,
    customerId: string,
    id: string,
    own: Pick<DocumentState, 'endpoints'>,
    otherEndpoints: string[],
    running = false,
  ): Promise<{ routed: string[]; resent: string[] }> {
    const routed = own.endpoints ?? [];
    const unrouted = otherEndpoints.filter((endpointId) => !routed.includes(endpointId));
    if (unrouted.length === 0) return { routed, resent: [] };
    const resent = await resentAt(environment, customerId, [{ id, endpointIds: unrouted }], running);
    return { routed, resent: resent.get(id) ?? [] };
  }

  /**
   * The document; one that went to other endpoints too has each delivery's state: those its routes started, and those
   * a resend started at an endpoint it never went to. It reads the document's own delivery and the customer's record
   * (as it always did, and all it reads for a customer with one endpoint), two reads per other delivery the document
   * has (a describe and its state), and, when the customer has endpoints the document was not routed to, one visibility
   * listing for resends there: at most 3 + 2 x deliveries reads and one listing, whatever the number of endpoints. With
   * another endpoint's id, that delivery alone (a test event sent there has no other).
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
    const { routed, resent } = await deliveryEndpoints(environment, customerId, id, state, otherEndpointIds(customer));
    if (routed.length === 0 && resent.length === 0 && !state.endpoints) return state;
    const deliveries = await Promise.all([
      ...routed.map(async (endpointId) => {
        try {
          return { ...(await getDelivery(environment, customerId, id, endpointId)), endpointId };
        } catch (err) {
          if (!(err instanceof AppError && err.httpStatus === 404)) throw err;
          // Started a moment after the document's own workflow recorded it: it is about to send.
          return { ...newDocumentState(state), endpointId };
        }
      }),
      ...resent.map(async (endpointId) => {
        try {
          return { ...(await getDelivery(environment, customerId, id, endpointId)), endpointId };
        } catch (err) {
          // Listed, yet gone (past the namespace retention since).
          if (!(err instanceof AppError && err.httpStatus === 404)) throw err;
          return undefined;
        }
      }),
    ]);
    const found = deliveries.filter((delivery) => delivery !== undefined);
    return found.length > 0 || state.endpoints ? { ...state, deliveries: found } : state;
  }

  return {
    deliveryRun,
    startDelivery,
    getDocument,
    getDelivery,
    deliveryEndpoints,
    resentAt,

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
        // anyway should this fail). Its status is its own delivery's: its other deliveries need not be read.
        if (bodyKey) await bodies.remove(environment, bodyKey).catch(() => undefined);
        return (await getDelivery(environment, doc.customerId, doc.id)).status;
      }
    },
  };
}
