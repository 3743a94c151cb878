import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  ParentClosePolicy,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { UNTIL_IT_SUCCEEDS } from './retry';
import type { AttemptDeliveryInput, DeliveryOutcome, DocumentRoutes } from '../activities/deliver';
import type { ArchivedDocument } from '../activities/pending';
import { attemptCount, recordAttempt } from '../domain/attempt-log';
import { newDocumentState } from '../domain/document-state';
import { deliveryWorkflowId, endpointWorkflowId } from '../domain/ids';
import { jitterMs, retryOffsets } from '../domain/schedule';
import type { Attempt, DocumentInput, DocumentState, DocumentStatus } from '../domain/schemas';
import { DeliveryStatusKey, documentSearchAttributes } from '../domain/search-attributes';
import {
  acknowledgeUpdate,
  documentStatusQuery,
  documentsArrivedSignal,
  redeliverUpdate,
  type RedeliverInput,
  type RedeliveryOutcome,
} from './messages';

// Activity retries cover infrastructure faults (worker crash, S3 or Temporal briefly down) and never give up:
// the document must not be lost. Delivery failures are outcomes the workflow schedules itself.

/**
 * Since this patch an attempt heartbeats while it waits for the receiver, so a worker that dies in the middle of one
 * is noticed within seconds and the attempt retried, instead of after a 5-minute timeout. Workflows started before it
 * keep the old timeout; the old branch can go once none can be running (100 days after the deploy).
 */
const HEARTBEATING_ATTEMPTS = 'heartbeating-attempts';
const { attemptDelivery } = proxyActivities<Activities>({
  // DELIVERY_TIMEOUT is at most a minute: this bounds a worker that hangs without dying.
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: UNTIL_IT_SUCCEEDS,
});
const { attemptDelivery: attemptDeliveryBeforeHeartbeats } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: UNTIL_IT_SUCCEEDS,
});
/**
 * Since this patch the first attempt runs as a local activity inside the workflow's first task: a document delivered
 * at once costs one workflow task and no activity task (three history events and two server round trips fewer). A
 * worker that dies during it lets the task time out and another worker attempts again, as with the activity. Later
 * attempts, hours apart, stay activities. Workflows started before the patch keep the activity.
 */
const LOCAL_FIRST_ATTEMPT = 'local-first-attempt';
/** Woken this long before a reserved send slot; the attempt waits out the rest, to the millisecond. */
const SLOT_LEAD_MS = 2_000;
const { attemptDelivery: attemptDeliveryLocally } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: UNTIL_IT_SUCCEEDS,
});
const { archiveDocument, deleteArchivedDocument, expireDocument, reportExhausted, reportResendAccepted } =
  proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    retry: UNTIL_IT_SUCCEEDS,
  });

/**
 * How long an attempt whose endpoint's share was full waits: the activity's estimate of when a place frees, and at
 * least half a second doubling with each round (so a crowd of waiting documents thins out), with up to 20% jitter so
 * they do not all wake together.
 */
function busyWaitMs(estimateMs: number, round: number): number {
  const floor = Math.min(500 * 2 ** (round - 1), 8_000);
  return Math.round(Math.max(estimateMs, floor) * (1 + 0.2 * Math.random()));
}

interface Redelivery {
  request: RedeliverInput;
  outcome?: RedeliveryOutcome;
}

/**
 * Since this patch a document's run continues as new once its history passes DOCUMENT_RUN_MAX_EVENTS events or
 * DOCUMENT_RUN_MAX_BYTES bytes (or the server suggests it, as near 2,000 Updates), between attempts, with nothing
 * under way: so however long a document is retried or probed, and however large it is, no run nears Temporal's
 * limits (51,200 events, 50 MB, 2,000 Updates). Runs that were already past the bound before the patch go on as they
 * were.
 */
const BOUNDED_HISTORY = 'bounded-history';
export const DOCUMENT_RUN_MAX_EVENTS = 1_000;
const ACKNOWLEDGE_INTERRUPTS = 'acknowledge-interrupts-waits';
const REPLAY_DOES_NOT_WAIT = 'replay-does-not-wait';
export const DOCUMENT_RUN_MAX_BYTES = 2 * 1024 * 1024;

/** Where a run that continued as new takes over: the state so far, and the phase it was in. */
interface ContinuedDocument {
  state: DocumentState;
  /** Retrying on its schedule: the schedule's origin, the retry it is at, and when that one is due. */
  retrying?: { firstAttemptAt: number; retry: number; nextAt: number };
  /** In the bucket. */
  stored?: ArchivedDocument;
}

/** A run continued as new gets the document and where the last run stopped. */
export type DocumentRunInput = DocumentInput & { continued?: ContinuedDocument };

/** Waits on a durable timer; true when `interrupted` came true first. */
async function waitUnless(ms: number, interrupted?: () => boolean): Promise<boolean> {
  if (interrupted) return condition(interrupted, ms);
  await sleep(ms);
  return false;
}

const runIsLong = (): boolean => {
  const info = workflowInfo();
  return (
    info.continueAsNewSuggested ||
    info.historyLength > DOCUMENT_RUN_MAX_EVENTS ||
    info.historySize > DOCUMENT_RUN_MAX_BYTES
  );
};

/**
 * One document's delivery to one endpoint: its state and the steps of its life. Routing (a document's first attempt
 * asks where it goes, and starts its other deliveries before anything is sent), attempts on the schedule, storing in
 * the bucket, waiting pending for redeliveries, a rerun of an ended delivery: each a method, run by `run()`.
 */
class DocumentDelivery {
  readonly input: DocumentInput;
  readonly state: DocumentState;
  /** Redeliveries asked for (probe, replay, resend), served one at a time, oldest first. */
  private readonly redeliveries: Redelivery[] = [];
  /**
   * Where the first attempt found the document goes, when not only to the first endpoint: `routed`, the first endpoint
   * takes none of it (its other endpoints do); `unrouted`, no endpoint does, and it waits in the bucket to be pulled.
   */
  private routing: 'routed' | 'unrouted' | undefined;
  private acknowledgeRequested = false;
  /** The object is being written: a redelivery asked for now (its key was just listed) is served once it is pending. */
  private storing = false;
  private attemptActivity!: typeof attemptDelivery;
  private firstAttemptLocal!: boolean;

  /** A rerun's earlier state (the delivery had ended): this run's start, not carried into the next run's input. */
  private readonly rerunOf?: DocumentState;

  constructor(private readonly runInput: DocumentRunInput) {
    const { continued, resendOf: rerunOf, ...input } = runInput;
    this.input = input;
    this.rerunOf = rerunOf;
    const resumed = rerunOf && {
      ...rerunOf,
      resentRuns: (rerunOf.resentRuns ?? 0) + 1,
      ...{ status: 'sending' as const, nextAttemptAt: undefined, retriesExhaustedAt: undefined },
      ...{ pendingSince: undefined, expiresAt: undefined, objectKey: undefined, coldObjectKey: undefined },
    };
    this.state = continued?.state ?? resumed ?? newDocumentState(input);
  }

  registerHandlers(): void {
    const { state } = this;
    setHandler(documentStatusQuery, () => state);
    // An Update: whoever asked (a probe, a replay step, a customer's resend) hears how the attempt went.
    setHandler(
      redeliverUpdate,
      async (request: RedeliverInput) => {
        const redelivery: Redelivery = { request };
        this.redeliveries.push(redelivery);
        await condition(() => redelivery.outcome !== undefined);
        return redelivery.outcome!;
      },
      {
        validator: (_request: RedeliverInput) => {
          if (state.status !== 'pending' && !this.storing) {
            throw ApplicationFailure.nonRetryable('not pending', 'NotPending');
          }
        },
      },
    );
    // An Update: the customer is answered once the document has left the bucket (acknowledged, or delivered by a
    // redelivery already under way), so a pull followed by an acknowledgement never finds it there again.
    setHandler(
      acknowledgeUpdate,
      async () => {
        this.acknowledgeRequested = true;
        await condition(() => state.status !== 'pending');
        return state;
      },
      {
        validator: () => {
          if (state.status !== 'pending') throw ApplicationFailure.nonRetryable('not pending', 'NotPending');
        },
      },
    );
  }

  /**
   * The whole life: attempts on the schedule (or a rerun's one attempt; a restored document none), then delivered,
   * routed, or stored in the bucket to wait pending until it leaves or expires.
   */
  async run(): Promise<DocumentState> {
    // Decided in the run's first task, after the handlers and before anything is awaited, in this order.
    this.attemptActivity = patched(HEARTBEATING_ATTEMPTS) ? attemptDelivery : attemptDeliveryBeforeHeartbeats;
    this.firstAttemptLocal = patched(LOCAL_FIRST_ATTEMPT);
    const { input } = this;
    const { continued } = this.runInput;
    if (continued?.stored) {
      await this.waitPending(continued.stored);
      return this.finish();
    }
    // A restored document goes straight back to the bucket with a new retention window; a rerun is attempted once,
    // now, even while the endpoint is suspended (the customer asked for it), and waits in the bucket if that fails.
    const delivered =
      !input.restoredFrom &&
      (this.rerunOf ? await this.rerunOnce() : await this.attemptOnSchedule(continued?.retrying));
    if (delivered) {
      this.setStatus('delivered');
    } else if (this.routing === 'routed') {
      this.setStatus('routed');
    } else {
      const stored = await this.store();
      if (!input.restoredFrom) {
        // Reactivated while this was being stored: no replay will reach it, so it redelivers itself (unless the first
        // endpoint does not take it: then it is only there to be pulled; or it is a rerun that just failed there).
        if (stored.endpointActive && !this.routing && !this.rerunOf) {
          this.redeliveries.push({ request: { trigger: 'manual', reason: 'replay' } });
        }
        if (stored.announce) await this.announce();
      }
      await this.waitPending(stored);
    }
    return this.finish();
  }

  private setStatus(status: DocumentStatus): void {
    this.state.status = status;
    upsertSearchAttributes([{ key: DeliveryStatusKey, value: status }]);
  }

  /**
   * Continues as new between retries once the run is long, unless it began before the patch. (No handler runs while
   * retrying: redeliveries and acknowledgements are for pending documents.) An Update that reaches the run as it
   * closes is retried by the server on the next run.
   */
  private async continueIfLong(retrying: ContinuedDocument['retrying']): Promise<void> {
    if (!runIsLong() || !patched(BOUNDED_HISTORY)) return;
    await continueAsNew<typeof deliverDocument>({ ...this.input, continued: { state: this.state, retrying } });
  }

  /**
   * One attempt, with its waits for a rate-limit slot or a place in the endpoint's share. Undefined: `interrupted`
   * came true during a wait, and nothing was sent. A document's own first attempt routes it first.
   */
  private async attempt(
    trigger: Attempt['trigger'],
    force: boolean,
    interrupted?: () => boolean,
    onQueued?: (at: string) => void,
  ): Promise<DeliveryOutcome | undefined> {
    const { input, state, attemptActivity } = this;
    // A probe was `scheduled` before attempts said what caused them: one that is a restored document's first attempt
    // ran locally, and still does. A document that travels by key is attempted by an activity: moving megabytes may
    // take longer than a workflow task may last, and a task that times out runs its local activity (the POST) again.
    let local =
      this.firstAttemptLocal &&
      state.attempts.length === 0 &&
      (trigger === 'scheduled' || trigger === 'probe') &&
      !input.bodyKey;
    // In the bucket, the activity reads the body from there: the document is in this history once, not per attempt.
    const document = state.objectKey ? { ...input, data: undefined, objectKey: state.objectKey } : input;
    // A document's own first attempt (not a delivery to another endpoint, nor a restore) asks where it goes.
    const route =
      state.attempts.length === 0 &&
      !input.endpointId &&
      !input.restoredFrom &&
      !input.single &&
      trigger === 'scheduled';
    const request: AttemptDeliveryInput = {
      document,
      attemptNumber: attemptCount(state) + 1,
      trigger,
      force,
      ...(route ? { route, routeFirst: true } : {}),
    };
    let outcome = await (local ? attemptDeliveryLocally : attemptActivity)(request);
    // Before any request to this endpoint (or, in histories from before routeFirst, any wait for its turn): the others
    // never wait on it. Their starts are recorded before the first endpoint's attempt runs, in a later task.
    if (outcome.routes && !state.endpoints) await this.routeToOthers(outcome.routes);
    if (outcome.routes?.first === false) return outcome;
    if (outcome.unsent) {
      // An activity, not a local one: this run now hears of its other deliveries (their ends), and a task that
      // completes the run while one arrives is refused by the server (UnhandledCommand) and run again, which would
      // repeat a local activity's request. An activity's answer is recorded by the server before any task uses it.
      local = false;
      const { route: _routed, routeFirst: _first, ...send } = request;
      outcome = await attemptActivity(send);
    }
    // Nothing was sent in either case below, and the document waits on a durable timer, holding no worker slot.
    // (Recorded histories never answered either: they replay down the same path.)
    for (let waitedRounds = 1; ; waitedRounds++) {
      if (outcome.throttledUntil) {
        // A rate-limited endpoint whose next free slot is seconds away: then send in the reserved slot.
        const slotAt = outcome.throttledUntil;
        state.nextAttemptAt = slotAt;
        onQueued?.(slotAt);
        const lead = outcome.slotLeadMs ?? SLOT_LEAD_MS;
        if (await waitUnless(Math.max(Date.parse(slotAt) - lead - Date.now(), 1), interrupted)) return undefined;
        outcome = await attemptActivity({ ...request, slotAt });
      } else if (outcome.busyForMs !== undefined) {
        // The endpoint's share of the workers is taken by its own requests: wait about until one is answered.
        const wait = busyWaitMs(outcome.busyForMs, waitedRounds);
        state.nextAttemptAt = new Date(Date.now() + wait).toISOString();
        onQueued?.(state.nextAttemptAt);
        if (await waitUnless(wait, interrupted)) return undefined;
        outcome = await (local ? attemptDeliveryLocally : attemptActivity)({ ...request, waitedRounds });
      } else {
        break;
      }
    }
    if (!outcome.suspended) recordAttempt(state, outcome.attempt);
    return outcome;
  }

  /**
   * Routing: one workflow per other endpoint that takes the document, each with its own attempts, schedule, bucket
   * object, acknowledgement and expiry: one endpoint failing never delays another. They outlive this one (ABANDON).
   * Only a first attempt answered since several endpoints can ask for this: no earlier history reaches it. Each start
   * carries the document as this run got it: a large one by its key (bucket/bodies.ts), so this task's commands hold
   * at most MAX_ENDPOINTS x CLAIM_CHECK_BYTES of it.
   */
  private async routeToOthers(routes: DocumentRoutes): Promise<void> {
    const { input, state } = this;
    state.endpoints = routes.others;
    if (!routes.first) this.routing = routes.others.length > 0 ? 'routed' : 'unrouted';
    await Promise.all(
      routes.others.map(async (endpointId) => {
        try {
          await startChild(deliverDocument, {
            workflowId: deliveryWorkflowId(input.environment, input.customerId, input.id, endpointId),
            args: [{ ...input, endpointId }],
            parentClosePolicy: ParentClosePolicy.ABANDON,
            typedSearchAttributes: documentSearchAttributes({ ...input, endpointId }, 'sending'),
          });
        } catch (err) {
          // Started by an earlier try of this task: it is under way.
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
      }),
    );
  }

  /** A rerun's one attempt (a delivery that had ended, sent again at the customer's request); true when delivered. */
  private async rerunOnce(): Promise<boolean> {
    const outcome = (await this.attempt('resend', true))!;
    this.state.nextAttemptAt = undefined;
    if (outcome.delivered) await this.reviveAfterResend(outcome);
    return outcome.delivered;
  }

  /**
   * A customer's resend (or rerun) that a suspended endpoint's receiver accepted revives the endpoint as a probe would
   * (it is reactivated and the rest replayed), instead of leaving it to the next probe, hours away. Outcomes recorded
   * before they said `whileSuspended` never ask.
   */
  private async reviveAfterResend(outcome: DeliveryOutcome): Promise<void> {
    if (!outcome.whileSuspended) return;
    const { environment, customerId, endpointId, id } = this.input;
    await reportResendAccepted({ environment, customerId, endpointId, documentId: id });
  }

  /** Attempts on the schedule; true once delivered, false when the document goes to the bucket. */
  private async attemptOnSchedule(from?: ContinuedDocument['retrying']): Promise<boolean> {
    const { input, state } = this;
    const firstAttemptAt = from?.firstAttemptAt ?? Date.now();
    if (from) await sleep(Math.max(from.nextAt - Date.now(), 1));
    for (let retry = from?.retry ?? 0; ; retry++) {
      const outcome = (await this.attempt('scheduled', false))!;
      state.nextAttemptAt = undefined;
      if (outcome.delivered) return true;
      // Not for the first endpoint: its other endpoints have it, or (none) it waits to be pulled.
      if (this.routing) return false;
      // While the endpoint is suspended nothing is sent: the document goes straight to the bucket.
      if (outcome.suspended) return false;
      const schedule = outcome.retryScheduleMs;
      if (outcome.gone || retry >= schedule.length) {
        state.retriesExhaustedAt = new Date().toISOString();
        await reportExhausted({
          environment: input.environment,
          customerId: input.customerId,
          endpointId: input.endpointId,
          report: {
            documentId: input.id,
            at: state.retriesExhaustedAt,
            lastError: outcome.attempt.error,
            gone: outcome.gone,
          },
        });
        return false;
      }
      let next = firstAttemptAt + retryOffsets(schedule)[retry] + jitterMs(schedule[retry], Math.random());
      if (outcome.retryAfterMs) next = Math.max(next, Date.now() + outcome.retryAfterMs);
      state.nextAttemptAt = new Date(next).toISOString();
      this.setStatus('retrying');
      await this.continueIfLong({ firstAttemptAt, retry: retry + 1, nextAt: next });
      await sleep(Math.max(next - Date.now(), 1));
    }
  }

  /** Storing: the document goes to its environment's bucket, pending (a restored one leaves the cold store). */
  private async store(): Promise<ArchivedDocument> {
    const { input, state } = this;
    this.storing = true;
    const stored = await archiveDocument({ document: input, pendingSince: new Date().toISOString() });
    this.storing = false;
    state.pendingSince = stored.pendingSince;
    state.expiresAt = stored.expiresAt;
    state.objectKey = stored.objectKey;
    if (input.restoredFrom) {
      await deleteArchivedDocument({ environment: input.environment, objectKey: input.restoredFrom });
      state.restoredAt = stored.pendingSince;
    }
    this.setStatus('pending');
    return stored;
  }

  /** The first document of a notification window tells the endpoint's entity (the others see it in its memo). */
  private async announce(): Promise<void> {
    const { input } = this;
    try {
      const entityId = endpointWorkflowId(input.environment, input.customerId, input.endpointId);
      await getExternalWorkflowHandle(entityId).signal(documentsArrivedSignal);
    } catch (err) {
      // The document's own fate never depends on the endpoint record.
      log.warn('could not tell the endpoint about this document', { error: String(err) });
    }
  }

  /** Waits in the bucket for redeliveries and an acknowledgement until it expires. */
  private async waitPending(stored: ArchivedDocument): Promise<void> {
    const { input, state, redeliveries } = this;
    const leaveBucket = async (status: 'delivered' | 'acknowledged') => {
      await deleteArchivedDocument({ environment: input.environment, objectKey: stored.objectKey });
      state.objectKey = undefined;
      this.setStatus(status);
    };
    // Decided as the document enters the bucket: runs that were already waiting there before the patch never
    // continue as new (they replay the waits they recorded).
    const bounded = patched(BOUNDED_HISTORY);
    // Since this patch an acknowledgement also ends a redelivery that waits for a rate-limit slot or a place in the
    // share (nothing was sent yet): it answers at once instead of after the endpoint's backlog, and the customer who
    // took the document does not receive it again.
    const acknowledgeInterrupts = patched(ACKNOWLEDGE_INTERRUPTS) ? () => this.acknowledgeRequested : undefined;
    // Since this patch a replay step's redelivery is answered `queued` as soon as it has to wait for its turn, and
    // the document attempts then on its own: the step goes on (and its entity can continue as new) instead of
    // waiting out the endpoint's rate limit.
    const answersQueued = patched(REPLAY_DOES_NOT_WAIT);
    // A safe point: the run is long and no handler is under way (the last redelivery's answers a moment after it
    // was served, so the wait below also wakes for this).
    const mayContinue = () => bounded && runIsLong() && allHandlersFinished();
    for (;;) {
      if (mayContinue()) await continueAsNew<typeof deliverDocument>({ ...input, continued: { state, stored } });
      const remaining = Date.parse(stored.expiresAt) - Date.now();
      const woken =
        remaining > 0 &&
        (await condition(() => redeliveries.length > 0 || this.acknowledgeRequested || mayContinue(), remaining));
      if (!woken) break;
      if (this.acknowledgeRequested) return leaveBucket('acknowledged');
      if (redeliveries.length === 0) continue;
      // A redelivery attempts now (even while suspended); a failure leaves it pending, expiry unchanged.
      const head = redeliveries[0];
      const onQueued =
        answersQueued && head.request.answerWhenQueued
          ? (at: string) => (head.outcome ??= { outcome: 'queued', at })
          : undefined;
      const outcome = await this.attempt(triggerOf(head.request), true, acknowledgeInterrupts, onQueued);
      if (!outcome) return leaveBucket('acknowledged');
      // Out of the bucket before anyone hears of it (below): a replay the answer moves on will not list it again.
      if (outcome.delivered) {
        await leaveBucket('delivered');
        if (head.request.reason === 'resend') await this.reviveAfterResend(outcome);
        return;
      }
      redeliveries.shift()!.outcome ??= { outcome: 'failed', error: outcome.attempt.error };
    }
    const { coldKey } = await expireDocument({ document: input, stored });
    state.objectKey = undefined;
    state.coldObjectKey = coldKey;
    this.setStatus('expired');
  }

  /** Whoever still waits for a redelivery hears how the document ended; the run returns once every handler has. */
  private async finish(): Promise<DocumentState> {
    const { state } = this;
    for (const redelivery of this.redeliveries.splice(0)) {
      redelivery.outcome = state.status === 'delivered' ? { outcome: 'delivered' } : { outcome: 'gone' };
    }
    await condition(allHandlersFinished);
    return state;
  }
}

/**
 * One workflow per document: attempts delivery on the endpoint's schedule (measured from the first attempt); when the
 * retries run out, or the endpoint is suspended, stores it in its environment's bucket, where it waits for a
 * redelivery (probe, replay, resend) or an acknowledgement until it expires to the cold store. Then it ends: the cold
 * copy is the bucket's to keep (lifecycle rule or sweep), and an operator restore starts a new run.
 */
export async function deliverDocument(runInput: DocumentRunInput): Promise<DocumentState> {
  const delivery = new DocumentDelivery(runInput);
  delivery.registerHandlers();
  return delivery.run();
}

/** An attempt says what caused it; redeliveries asked for before the reasons were recorded say `manual`. */
const triggerOf = (request: RedeliverInput): Attempt['trigger'] =>
  request.reason ?? (request.trigger === 'manual' ? 'manual' : 'probe');
