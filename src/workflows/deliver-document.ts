import {
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  type SignalDefinition,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DeliveryOutcome } from '../activities/deliver';
import { endpointWorkflowId } from '../domain/ids';
import { jitterMs, retryOffsets } from '../domain/schedule';
import type { DocumentInput, DocumentState, DocumentStatus } from '../domain/schemas';
import { DeliveryStatusKey } from '../domain/search-attributes';
import {
  acknowledgeUpdate,
  bucketChangedSignal,
  documentStatusQuery,
  redeliverSignal,
  redeliveryAnswerSignal,
  restoreSignal,
  retriesExhaustedSignal,
  type RedeliverInput,
  type RedeliveryAnswerInput,
} from './messages';

// Activity retries cover infrastructure faults (worker crash, S3 or Temporal briefly down) and never give up:
// the document must not be lost. Delivery failures are outcomes the workflow schedules itself.
const { attemptDelivery } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const { archiveDocument, deleteArchivedDocument, expireDocument } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * One workflow per document: attempts delivery on the endpoint's schedule (measured from the first attempt); when
 * the retries run out, or the endpoint is suspended, stores it in its environment's bucket, where it waits for a
 * redelivery (probe, replay, resend) until it expires.
 */
export async function deliverDocument(input: DocumentInput): Promise<DocumentState> {
  const state: DocumentState = {
    id: input.id,
    customerId: input.customerId,
    environment: input.environment,
    type: input.type,
    createdAt: input.createdAt,
    status: 'sending',
    attempts: [],
  };
  const redeliveries: RedeliverInput[] = [];
  let acknowledgeRequested = false;
  let restoreRequested = false;
  setHandler(documentStatusQuery, () => state);
  setHandler(redeliverSignal, (request) => void redeliveries.push(request));
  setHandler(restoreSignal, () => {
    if (state.status === 'expired' && state.coldObjectKey) restoreRequested = true;
  });
  // Answers once the document has left the bucket: acknowledged, or delivered by a resend already under way.
  setHandler(
    acknowledgeUpdate,
    async () => {
      acknowledgeRequested = true;
      await condition(() => state.status !== 'pending');
      return state;
    },
    {
      validator: () => {
        if (state.status !== 'pending') throw ApplicationFailure.nonRetryable('not pending', 'NotPending');
      },
    },
  );

  const setStatus = (status: DocumentStatus) => {
    state.status = status;
    upsertSearchAttributes([{ key: DeliveryStatusKey, value: status }]);
  };
  const endpoint = getExternalWorkflowHandle(endpointWorkflowId(input.environment, input.customerId));
  const tellEndpoint = async <T>(signal: SignalDefinition<[T]>, arg: T) => {
    try {
      await endpoint.signal(signal, arg);
    } catch (err) {
      // The document's own fate never depends on the endpoint record.
      log.warn('could not signal the endpoint', { signal: signal.name, error: String(err) });
    }
  };
  const attempt = async (trigger: 'scheduled' | 'manual', force: boolean): Promise<DeliveryOutcome> => {
    const outcome = await attemptDelivery({
      document: input,
      attemptNumber: state.attempts.length + 1,
      trigger,
      force,
    });
    if (!outcome.suspended) state.attempts.push(outcome.attempt);
    return outcome;
  };

  const firstAttemptAt = Date.now();
  // A restored document goes straight back to the bucket with a new retention window.
  for (let retry = 0; !input.restoredFrom; retry++) {
    const outcome = await attempt('scheduled', false);
    state.nextAttemptAt = undefined;
    if (outcome.delivered) {
      setStatus('delivered');
      return state;
    }
    // While the endpoint is suspended nothing is sent: the document goes straight to the bucket.
    if (outcome.suspended) break;
    const schedule = outcome.retryScheduleMs;
    if (outcome.gone || retry >= schedule.length) {
      state.retriesExhaustedAt = new Date().toISOString();
      await tellEndpoint(retriesExhaustedSignal, {
        documentId: input.id,
        at: state.retriesExhaustedAt,
        lastError: outcome.attempt.error,
        gone: outcome.gone,
      });
      break;
    }

    let next = firstAttemptAt + retryOffsets(schedule)[retry] + jitterMs(schedule[retry], Math.random());
    if (outcome.retryAfterMs) next = Math.max(next, Date.now() + outcome.retryAfterMs);
    state.nextAttemptAt = new Date(next).toISOString();
    setStatus('retrying');
    await sleep(Math.max(next - Date.now(), 1));
  }

  // Pending, then expired into the cold store, where an operator restore starts another pending period.
  let restoredFrom = input.restoredFrom;
  for (;;) {
    const archived = await archiveDocument({ document: input, pendingSince: new Date().toISOString() });
    state.pendingSince = archived.pendingSince;
    state.expiresAt = archived.expiresAt;
    state.objectKey = archived.objectKey;
    if (restoredFrom) {
      await deleteArchivedDocument({ environment: input.environment, objectKey: restoredFrom });
      state.restoredAt = archived.pendingSince;
      state.coldObjectKey = undefined;
      restoredFrom = undefined;
    }
    setStatus('pending');
    // A restored document waits for the customer, who hears of it through a notification (the API tells the entity).
    if (!state.restoredAt && (archived.endpointActive || archived.announce)) {
      await tellEndpoint(bucketChangedSignal, {
        documentId: input.id,
        // Pending on an active endpoint (reactivated while this was stored): the entity may need to replay it.
        tail: archived.endpointActive ? archived.tail : undefined,
      });
    }

    /** The entity waits for the answer to each redelivery it asked for; one that finds the document gone is told. */
    const answer = async (request: RedeliverInput, outcome: RedeliveryAnswerInput['outcome'], error?: string) => {
      if (request.answer) await tellEndpoint(redeliveryAnswerSignal, { documentId: input.id, outcome, error });
    };
    const answerQueued = async () => {
      for (const request of redeliveries.splice(0)) await answer(request, 'gone');
    };
    const leaveBucket = async (status: 'delivered' | 'acknowledged') => {
      await deleteArchivedDocument({ environment: input.environment, objectKey: archived.objectKey });
      state.objectKey = undefined;
      setStatus(status);
      await answerQueued();
      return state;
    };

    // A redelivery attempts now (even while suspended); a failure leaves it pending, expiry unchanged.
    for (;;) {
      const remaining = Date.parse(archived.expiresAt) - Date.now();
      const woken =
        remaining > 0 && (await condition(() => redeliveries.length > 0 || acknowledgeRequested, remaining));
      if (!woken) break;
      if (acknowledgeRequested) return leaveBucket('acknowledged');
      const request = redeliveries.shift()!;
      const outcome = await attempt(request.trigger, true);
      if (outcome.delivered) {
        // Out of the bucket before the entity hears of it: a replay that the answer starts will not list it again.
        const delivered = await leaveBucket('delivered');
        await answer(request, 'delivered');
        return delivered;
      }
      await answer(request, 'failed', outcome.attempt.error);
    }

    const cold = await expireDocument({ document: input, objectKey: archived.objectKey });
    state.objectKey = undefined;
    state.coldObjectKey = cold.coldKey;
    setStatus('expired');
    await answerQueued();
    if (!cold.coldKey) return state;
    // The cold store keeps it for an operator restore, then it is gone for good.
    if (!(await condition(() => restoreRequested, cold.coldRetentionMs))) {
      await deleteArchivedDocument({ environment: input.environment, objectKey: cold.coldKey });
      state.coldObjectKey = undefined;
      return state;
    }
    restoreRequested = false;
    // An acknowledge that raced the expiry was answered 404; it must not consume the restored document.
    acknowledgeRequested = false;
    restoredFrom = cold.coldKey;
  }
}
