import {
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { endpointWorkflowId } from '../domain/ids';
import { jitterMs, retryOffsets } from '../domain/schedule';
import type { DocumentInput, DocumentState, DocumentStatus } from '../domain/schemas';
import { DeliveryStatusKey } from '../domain/search-attributes';
import { documentStatusQuery, retriesExhaustedSignal } from './messages';

// Activity retries cover infrastructure faults (worker crash, S3 or Temporal briefly down) and never give up:
// the document must not be lost. Delivery failures are outcomes the workflow schedules itself.
const { attemptDelivery } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const { archiveDocument, deleteArchivedDocument } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * One workflow per document: attempts delivery on the endpoint's schedule (measured from the first attempt), and
 * when the retries run out stores the document in its environment's bucket until it expires.
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
  setHandler(documentStatusQuery, () => state);

  const setStatus = (status: DocumentStatus) => {
    state.status = status;
    upsertSearchAttributes([{ key: DeliveryStatusKey, value: status }]);
  };

  const firstAttemptAt = Date.now();
  for (let retry = 0; ; retry++) {
    const outcome = await attemptDelivery({
      document: input,
      attemptNumber: state.attempts.length + 1,
      trigger: 'scheduled',
    });
    state.attempts.push(outcome.attempt);
    state.nextAttemptAt = undefined;
    if (outcome.delivered) {
      setStatus('delivered');
      return state;
    }
    const schedule = outcome.retryScheduleMs;
    if (outcome.gone || retry >= schedule.length) break;

    let next = firstAttemptAt + retryOffsets(schedule)[retry] + jitterMs(schedule[retry], Math.random());
    if (outcome.retryAfterMs) next = Math.max(next, Date.now() + outcome.retryAfterMs);
    state.nextAttemptAt = new Date(next).toISOString();
    setStatus('retrying');
    await sleep(Math.max(next - Date.now(), 1));
  }

  const lastError = state.attempts[state.attempts.length - 1]?.error;
  state.retriesExhaustedAt = new Date().toISOString();
  try {
    await getExternalWorkflowHandle(endpointWorkflowId(input.environment, input.customerId)).signal(
      retriesExhaustedSignal,
      { documentId: input.id, at: state.retriesExhaustedAt, lastError },
    );
  } catch (err) {
    // The document is archived whatever happens to the endpoint record.
    log.warn('could not record exhausted retries on the endpoint', { error: String(err) });
  }

  const archived = await archiveDocument({ document: input, pendingSince: state.retriesExhaustedAt });
  state.pendingSince = archived.pendingSince;
  state.expiresAt = archived.expiresAt;
  state.objectKey = archived.objectKey;
  setStatus('pending');

  await sleep(Math.max(Date.parse(archived.expiresAt) - Date.now(), 1));
  await deleteArchivedDocument({ environment: input.environment, objectKey: archived.objectKey });
  state.objectKey = undefined;
  setStatus('expired');
  return state;
}
