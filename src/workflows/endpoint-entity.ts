import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertMemo,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { EndpointSettings } from '../activities/endpoint';
import { deliveryWorkflowId } from '../domain/ids';
import type { EndpointState, PendingEntry } from '../domain/schemas';
import { parseRetrySchedule } from '../domain/schedule';
import {
  configureEndpointUpdate,
  documentPendingSignal,
  documentSettledSignal,
  endpointStateQuery,
  pendingDocumentsQuery,
  redeliverSignal,
  redeliveryFailedSignal,
  retriesExhaustedSignal,
  setActiveUpdate,
  updatePreferencesUpdate,
  type ConfigureEndpointInput,
  type RedeliverInput,
} from './messages';

const { endpointSettings } = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds' });
// Email must arrive, so it is retried for a long time; notifications are best effort: a few tries, then given up.
const { sendEndpointEmail } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '10 minutes', maximumAttempts: 50 },
});
const { notifyPending } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: 4 },
});

/** How long a probe or replay waits for the document's answer before moving on (the document keeps its state). */
const REDELIVERY_ANSWER_TIMEOUT = '10 minutes';
const HTTP_URL = /^https?:\/\/[^\s/]+/i;

/** Rejects a bad configuration before it enters history; the API validates the same fields with zod first. */
function validateConfiguration(input: ConfigureEndpointInput): void {
  for (const [field, value] of [
    ['url', input.url],
    ['notificationUrl', input.notificationUrl],
  ] as const) {
    if (value != null && !HTTP_URL.test(value)) {
      throw ApplicationFailure.nonRetryable(`${field} must be an http(s) URL`, 'InvalidEndpoint');
    }
  }
  if (input.retrySchedule != null) {
    try {
      parseRetrySchedule(input.retrySchedule);
    } catch (err) {
      throw ApplicationFailure.nonRetryable(`retrySchedule: ${(err as Error).message}`, 'InvalidEndpoint');
    }
  }
  if (!input.newSecret.startsWith('whsec_')) {
    throw ApplicationFailure.nonRetryable('newSecret must be a whsec_ secret', 'InvalidEndpoint');
  }
}

export interface EndpointEntityInput {
  state: EndpointState;
  /** Carried across continue-as-new. */
  pending?: PendingEntry[];
  replayQueue?: string[];
  newlyPending?: number;
  remindedFor?: string;
}

/**
 * One entity per customer and environment: the webhook configuration, the API key hash, suspension, the list of
 * documents waiting in the bucket, and the work that follows from them: suspension and recovery emails, probing a
 * suspended endpoint, replaying pending documents on reactivation, and notifications. It runs for the customer's life.
 */
export async function endpointEntity(input: EndpointEntityInput): Promise<void> {
  const state: EndpointState = input.state;
  const pending: PendingEntry[] = input.pending ?? [];
  const replayQueue: string[] = input.replayQueue ?? [];
  const inFlight = new Set<string>();
  /** Answers from documents we asked to redeliver: true when delivered. */
  const answers = new Map<string, boolean>();
  let newlyPending = input.newlyPending ?? 0;
  let remindedFor = input.remindedFor;
  let settingsLoaded = false;
  let background = 0;
  // Loaded after the handlers are registered: an Update arriving with the first task must find its handler.
  const settings = {} as EndpointSettings;

  // Reads go through the memo (a describe, no worker involved); the pending list stays out of it to keep it small.
  const publish = () => {
    state.pendingCount = pending.length;
    state.updatedAt = new Date().toISOString();
    upsertMemo({ endpoint: state });
  };
  publish();

  /** Runs work concurrently with the handlers; continue-as-new waits until none is left. */
  const spawn = (work: () => Promise<void>) => {
    background++;
    void work()
      .catch((err) => log.warn('endpoint background work failed', { error: String(err) }))
      .finally(() => background--);
  };

  /** The suspension email waits one notification window so documents failing together are counted in it. */
  const email = (kind: 'suspended' | 'recovered') => {
    if (!state.suspensionEmail) return;
    spawn(async () => {
      await condition(() => settingsLoaded);
      if (kind === 'suspended') {
        await sleep(settings.notificationWindowMs);
        // Recovered within the window: the customer never needs to hear about it.
        if (state.status === 'active') return;
      }
      await sendEndpointEmail({ kind, endpoint: { ...state } });
    });
  };

  const suspend = (kind: 'failing' | 'manual', reason: string) => {
    // Turned off by the customer while failing: it stays suspended but is no longer probed.
    if (state.status === 'suspended' && kind === 'manual' && state.suspension?.kind === 'failing') {
      state.suspension = { kind, at: state.suspension.at, reason };
      publish();
    }
    if (state.status === 'suspended') return;
    state.status = 'suspended';
    state.suspension = { kind, at: new Date().toISOString(), reason };
    state.counters.suspensions += 1;
    replayQueue.length = 0;
    publish();
    if (kind === 'failing') email('suspended');
  };

  const reactivate = (recovered: boolean) => {
    if (state.status === 'active') return;
    state.status = 'active';
    state.suspension = undefined;
    state.counters.consecutiveExhausted = 0;
    // Everything missed is redelivered, oldest first.
    replayQueue.splice(0, replayQueue.length, ...pending.map((p) => p.id));
    publish();
    if (recovered) email('recovered');
  };

  const removePending = (documentId: string) => {
    const index = pending.findIndex((p) => p.id === documentId);
    if (index >= 0) pending.splice(index, 1);
    const queued = replayQueue.indexOf(documentId);
    if (queued >= 0) replayQueue.splice(queued, 1);
    publish();
  };

  setHandler(endpointStateQuery, () => state);
  setHandler(pendingDocumentsQuery, () => pending);

  setHandler(
    configureEndpointUpdate,
    (config) => {
      state.url = config.url;
      state.notificationUrl = config.notificationUrl ?? undefined;
      state.suspensionEmail = config.suspensionEmail ?? undefined;
      state.retrySchedule = config.retrySchedule ?? undefined;
      state.secret ??= config.newSecret;
      publish();
      return state;
    },
    { validator: validateConfiguration },
  );

  setHandler(setActiveUpdate, (active) => {
    if (active) reactivate(false);
    else suspend('manual', 'deactivated by the customer');
    return state;
  });

  setHandler(updatePreferencesUpdate, (preferences) => {
    state.preferences = { ...preferences };
    publish();
    return state;
  });

  setHandler(retriesExhaustedSignal, ({ documentId, lastError, gone }) => {
    state.counters.retriesExhausted += 1;
    state.counters.consecutiveExhausted += 1;
    state.lastError = lastError;
    suspend(
      'failing',
      gone ? `the endpoint answered 410 Gone (document ${documentId})` : `retries ran out for document ${documentId}`,
    );
    publish();
  });

  setHandler(documentPendingSignal, (entry) => {
    if (pending.some((p) => p.id === entry.id)) return;
    // Kept in the order documents became pending: probes and replay take the oldest first.
    const at = pending.findIndex((p) => p.pendingSince > entry.pendingSince);
    pending.splice(at < 0 ? pending.length : at, 0, entry);
    newlyPending += 1;
    // Became pending while the endpoint is (again) active, e.g. reactivated after its attempt saw a suspension.
    if (state.status === 'active') replayQueue.push(entry.id);
    publish();
  });

  setHandler(documentSettledSignal, ({ documentId, status }) => {
    removePending(documentId);
    answers.set(documentId, status === 'delivered');
    inFlight.delete(documentId);
  });

  setHandler(redeliveryFailedSignal, ({ documentId, error }) => {
    if (error) state.lastError = error;
    answers.set(documentId, false);
    inFlight.delete(documentId);
    publish();
  });

  /** Asks a pending document to attempt now and waits for its answer: true when it was delivered. */
  async function redeliver(documentId: string, request: RedeliverInput): Promise<boolean> {
    answers.delete(documentId);
    try {
      await getExternalWorkflowHandle(deliveryWorkflowId(state.environment, state.customerId, documentId)).signal(
        redeliverSignal,
        request,
      );
    } catch {
      // Its workflow is gone (expired or acknowledged meanwhile): nothing left to send.
      removePending(documentId);
      return false;
    }
    await condition(() => answers.has(documentId), REDELIVERY_ANSWER_TIMEOUT);
    return answers.get(documentId) ?? false;
  }

  /** A failing endpoint is probed with its oldest pending document on its schedule, restarting from the first step. */
  async function probeLoop(): Promise<void> {
    for (;;) {
      await condition(() => state.status === 'suspended' && state.suspension?.kind === 'failing' && pending.length > 0);
      const schedule = parseRetrySchedule(state.retrySchedule ?? settings.defaultRetrySchedule);
      const probing = () => state.status === 'suspended' && state.suspension?.kind === 'failing';
      for (let step = 0; ; step++) {
        const wait = schedule[Math.min(step, schedule.length - 1)];
        if (await condition(() => !probing(), wait)) break;
        const oldest = pending[0];
        if (!oldest) break;
        // Counted as background work so continue-as-new never drops a probe's answer.
        background++;
        const delivered = await redeliver(oldest.id, { trigger: 'scheduled', reason: 'probe' }).finally(
          () => background--,
        );
        // Turned off by the customer while the probe was out: a success does not override that.
        if (delivered && probing()) reactivate(true);
      }
    }
  }

  /** After reactivation every pending document is redelivered, oldest first, a bounded number at a time. */
  async function replayLoop(): Promise<void> {
    for (;;) {
      await condition(
        () => state.status === 'active' && replayQueue.length > 0 && inFlight.size < settings.replayConcurrency,
      );
      const documentId = replayQueue.shift()!;
      inFlight.add(documentId);
      spawn(async () => {
        await redeliver(documentId, { trigger: 'manual', reason: 'replay' });
        inFlight.delete(documentId);
      });
    }
  }

  const notify = async (reminder: boolean) => {
    if (!state.preferences.pendingNotifications || !state.notificationUrl || pending.length === 0) return;
    const notification = {
      type: 'documents.pending' as const,
      environment: state.environment,
      pending: {
        events: pending.filter((p) => p.type === 'event').length,
        summaries: pending.filter((p) => p.type === 'summary').length,
      },
      documentIds: pending.slice(0, 1000).map((p) => p.id),
      oldestExpiresAt: pending.reduce<string | null>((min, p) => (!min || p.expiresAt < min ? p.expiresAt : min), null),
      reminder,
    };
    try {
      await notifyPending({
        environment: state.environment,
        customerId: state.customerId,
        notificationId: `ntf_${uuid4()}`,
        notification,
      });
    } catch (err) {
      log.warn('notification given up', { error: String(err) });
    }
  };

  /** Documents entering the bucket within one window share one notification. */
  async function notificationLoop(): Promise<void> {
    for (;;) {
      await condition(() => newlyPending > 0);
      await sleep(settings.notificationWindowMs);
      newlyPending = 0;
      background++;
      await notify(false).finally(() => background--);
    }
  }

  /** A reminder before the oldest pending document expires, once per oldest document. */
  async function reminderLoop(): Promise<void> {
    for (;;) {
      await condition(() => pending.length > 0 && pending[0].id !== remindedFor);
      const oldest = pending[0];
      const due = Date.parse(oldest.expiresAt) - settings.reminderBeforeExpiryMs - Date.now();
      if (due > 0 && (await condition(() => pending[0]?.id !== oldest.id, due))) continue;
      remindedFor = oldest.id;
      background++;
      await notify(true).finally(() => background--);
    }
  }

  Object.assign(settings, await endpointSettings(state.environment));
  settingsLoaded = true;
  void probeLoop();
  void replayLoop();
  void notificationLoop();
  void reminderLoop();

  // Continue-as-new keeps history small for an entity that lives for years; in-flight work finishes first.
  await condition(() => workflowInfo().continueAsNewSuggested);
  await condition(() => background === 0 && inFlight.size === 0 && allHandlersFinished());
  await continueAsNew<typeof endpointEntity>({ state, pending, replayQueue, newlyPending, remindedFor });
}
