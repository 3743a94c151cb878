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
import type { EndpointState } from '../domain/schemas';
import { parseRetrySchedule } from '../domain/schedule';
import {
  bucketChangedSignal,
  configureEndpointUpdate,
  endpointStateQuery,
  redeliverSignal,
  redeliveryAnswerSignal,
  resendPendingUpdate,
  retriesExhaustedSignal,
  setActiveUpdate,
  updatePreferencesUpdate,
  type ConfigureEndpointInput,
  type RedeliverInput,
  type RedeliveryAnswerInput,
} from './messages';

const { endpointSettings } = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds' });
// Reading the bucket must eventually succeed (S3 may be down for a while); nothing is lost by waiting.
const { pendingBatch, newestPending, lastDuePending } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
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
/**
 * A run continues as new past this many history events, well before the server's limits (10,000 signals per run, then
 * signals are refused; 50,000 events): a long replay adds a few events per document.
 */
const MAX_RUN_HISTORY = 2_000;
/** A probe tries the oldest document whose workflow still exists among this many. */
const PROBE_CANDIDATES = 10;
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

/**
 * A walk through the bucket, oldest first, redelivering each pending document once. The bucket is the queue: the
 * entity keeps only its position, so its state does not grow with the number of pending documents.
 */
export interface ReplayPass {
  /** `replay` follows a reactivation and ends with a new suspension; `resend` was asked for and runs regardless. */
  reason: 'replay' | 'resend';
  /** The key tail of the last document handed out; the bucket is read after it. */
  after?: string;
  /** The bucket may hold documents after `after`: set by an arrival or a full page, cleared once a read finds none. */
  stale: boolean;
  /** A document arrived ahead of the pass while it was reading. */
  arrived?: boolean;
}

interface ProbeTime {
  step: number;
  at: string;
}

export interface EndpointEntityInput {
  state: EndpointState;
  /** Carried across continue-as-new; all of it is small whatever the number of pending documents. */
  replay?: ReplayPass;
  lateArrivals?: string[];
  /** Positions in the bucket: the newest document a notification covered, the last one a reminder covered. */
  notifiedThrough?: string;
  remindedThrough?: string;
  /** The next probe of a failing endpoint: which step of its schedule, and when. */
  probe?: ProbeTime;
}

/** Beyond this many late arrivals the replay walks the bucket again from the start instead of remembering ids. */
const MAX_LATE_ARRIVALS = 100;

/**
 * One entity per customer and environment: the webhook configuration, the API key hash, suspension, and the work that
 * follows from what waits in the bucket: suspension and recovery emails, probing a suspended endpoint, replaying
 * pending documents on reactivation, notifications and reminders. It runs for the customer's life.
 *
 * Documents do not each report entering or leaving the bucket (a burst of thousands of signals would outrun the
 * entity): the first of a notification window announces itself, and the entity reads the bucket for the rest.
 */
export async function endpointEntity(input: EndpointEntityInput): Promise<void> {
  const state: EndpointState = input.state;
  let replay: ReplayPass | undefined = input.replay;
  /** Documents that became pending where no replay pass will reach them: behind its position, or with none running. */
  const lateArrivals: string[] = input.lateArrivals ?? [];
  const inFlight = new Set<string>();
  /** Redeliveries waiting for the document's answer. */
  const waiting = new Map<string, { answer?: RedeliveryAnswerInput['outcome'] }>();
  let notifiedThrough = input.notifiedThrough;
  let remindedThrough = input.remindedThrough;
  /** Bumped whenever the bucket is known to have new documents: the reminder loop looks again. */
  let arrivals = 0;
  let probe: ProbeTime | undefined = input.probe;
  let settingsLoaded = false;
  let background = 0;
  // Loaded after the handlers are registered: an Update arriving with the first task must find its handler.
  const settings = {} as EndpointSettings;
  const where = { environment: state.environment, customerId: state.customerId };
  /** Once true, no new redelivery starts: the ones in flight finish and the entity continues as new. */
  const wantsNewRun = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_RUN_HISTORY;

  // Reads go through the memo (a describe, no worker involved), written once per activation.
  let changed = true;
  const publish = () => void (changed = true);

  /** Awaits work that continue-as-new must not cut off. */
  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    background++;
    try {
      return await work();
    } finally {
      background--;
    }
  };
  /** Runs work concurrently with the handlers; continue-as-new waits until none is left. */
  const spawn = (work: () => Promise<void>) =>
    void guarded(work).catch((err) => log.warn('endpoint background work failed', { error: String(err) }));

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
    if (replay?.reason === 'replay') replay = undefined;
    lateArrivals.length = 0;
    publish();
    if (kind === 'failing') email('suspended');
  };

  /** Walks the whole bucket again from its oldest document. */
  const startPass = (reason: ReplayPass['reason']) => {
    replay = { reason, stale: true };
    lateArrivals.length = 0;
  };

  const reactivate = (recovered: boolean) => {
    if (state.status === 'active') return;
    state.status = 'active';
    state.suspension = undefined;
    state.counters.consecutiveExhausted = 0;
    // Everything missed is redelivered, oldest first.
    startPass('replay');
    publish();
    if (recovered) email('recovered');
  };

  setHandler(endpointStateQuery, () => state);

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

  setHandler(resendPendingUpdate, () => {
    // On an active endpoint this is a replay like any other; a suspended one stays suspended.
    startPass(state.status === 'active' ? 'replay' : 'resend');
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

  setHandler(bucketChangedSignal, ({ documentId, tail }) => {
    if (!state.arrivalsAnnounced) {
      state.arrivalsAnnounced = true;
      publish();
    }
    arrivals += 1;
    if (!documentId || !tail) return;
    if (replay && (!replay.after || tail > replay.after)) {
      // Ahead of the pass: it reads the bucket again and reaches it in order.
      replay.stale = true;
      replay.arrived = true;
    } else if (state.status === 'active') {
      if (lateArrivals.length < MAX_LATE_ARRIVALS) lateArrivals.push(documentId);
      else startPass('replay');
    }
  });

  setHandler(redeliveryAnswerSignal, ({ documentId, outcome, error }) => {
    if (outcome === 'failed' && error) {
      state.lastError = error;
      publish();
    }
    const waiter = waiting.get(documentId);
    if (waiter) waiter.answer = outcome;
  });

  /** Asks a pending document to attempt now and waits for its answer. */
  async function redeliver(
    documentId: string,
    request: Omit<RedeliverInput, 'answer'>,
  ): Promise<RedeliveryAnswerInput['outcome']> {
    const waiter: { answer?: RedeliveryAnswerInput['outcome'] } = {};
    waiting.set(documentId, waiter);
    try {
      try {
        await getExternalWorkflowHandle(deliveryWorkflowId(state.environment, state.customerId, documentId)).signal(
          redeliverSignal,
          { ...request, answer: true },
        );
      } catch {
        // Its workflow is gone (delivered, acknowledged or expired meanwhile): nothing left to send.
        return 'gone';
      }
      await condition(() => waiter.answer !== undefined, REDELIVERY_ANSWER_TIMEOUT);
      return waiter.answer ?? 'failed';
    } finally {
      if (waiting.get(documentId) === waiter) waiting.delete(documentId);
    }
  }

  /** A failing endpoint is probed with its oldest pending document on its schedule, restarting from the first step. */
  async function probeLoop(): Promise<void> {
    const probing = () => state.status === 'suspended' && state.suspension?.kind === 'failing';
    for (;;) {
      await condition(probing);
      const schedule = parseRetrySchedule(state.retrySchedule ?? settings.defaultRetrySchedule);
      const after = (step: number) => ({
        step,
        at: new Date(Date.now() + schedule[Math.min(step, schedule.length - 1)]).toISOString(),
      });
      // Resumed from the previous run, so frequent continue-as-new never postpones a probe.
      probe ??= after(0);
      for (;;) {
        const wait = Date.parse(probe.at) - Date.now();
        if ((wait > 0 && (await condition(() => !probing(), wait))) || !probing()) break;
        // Counted as background work so continue-as-new never drops a probe's answer.
        await guarded(async () => {
          const { items } = await pendingBatch({ ...where, limit: PROBE_CANDIDATES });
          for (const { id } of items) {
            const outcome = await redeliver(id, { trigger: 'scheduled', reason: 'probe' });
            if (outcome === 'gone') continue;
            // Turned off by the customer while the probe was out: a success does not override that.
            if (outcome === 'delivered' && probing()) reactivate(true);
            break;
          }
        });
        probe = after(probe.step + 1);
      }
      probe = undefined;
    }
  }

  /** A replay needs an active endpoint; a resend was asked for and runs regardless. */
  const mayRun = (pass: ReplayPass) => pass.reason === 'resend' || state.status === 'active';

  /** Hands one document to a bounded number of concurrent redeliveries. */
  async function handOut(documentId: string, reason: ReplayPass['reason'], stillWanted: () => boolean) {
    await condition(() => (inFlight.size < settings.replayConcurrency && !wantsNewRun()) || !stillWanted());
    if (!stillWanted()) return false;
    inFlight.add(documentId);
    spawn(async () => {
      await redeliver(documentId, { trigger: 'manual', reason: reason === 'replay' ? 'replay' : 'resend' });
      inFlight.delete(documentId);
    });
    return true;
  }

  /** Redelivers pending documents oldest first, reading the bucket a page at a time. */
  async function replayLoop(): Promise<void> {
    for (;;) {
      await condition(
        () => (!!replay?.stale && mayRun(replay)) || (state.status === 'active' && lateArrivals.length > 0),
      );
      if (state.status === 'active' && lateArrivals.length > 0) {
        await handOut(lateArrivals.shift()!, 'replay', () => state.status === 'active');
        continue;
      }
      const pass = replay!;
      // Arrivals from here on need another read; until the page is handed out the pass stays stale, so a
      // continue-as-new in between resumes it from `after`.
      pass.arrived = false;
      const page = await pendingBatch({ ...where, after: pass.after, limit: settings.replayPageSize });
      for (const item of page.items) {
        if (!(await handOut(item.id, pass.reason, () => replay === pass && mayRun(pass)))) break;
        pass.after = item.tail;
      }
      if (replay !== pass) continue;
      pass.stale = page.more || !!pass.arrived;
      // A resend is a one-off walk; a replay stays at the end of the bucket for documents arriving after it.
      if (pass.reason === 'resend' && !pass.stale) {
        replay = state.status === 'active' ? { reason: 'replay', after: pass.after, stale: false } : undefined;
      }
    }
  }

  const notify = (reminder: boolean) =>
    guarded(async () => {
      try {
        // The activity reads the bucket: the notification describes what is pending when it is sent.
        await notifyPending({ ...where, notificationId: `ntf_${uuid4()}`, reminder });
      } catch (err) {
        log.warn('notification given up', { error: String(err) });
      }
    });

  /** Documents entering the bucket within one window share one notification. */
  async function notificationLoop(): Promise<void> {
    for (;;) {
      await condition(() => !!state.arrivalsAnnounced);
      await sleep(settings.notificationWindowMs);
      // Cleared before the bucket is read (the memo is written with the read's scheduling): a document stored after
      // the read sees the flag down and announces itself again.
      state.arrivalsAnnounced = false;
      publish();
      const newest = await newestPending({ ...where, after: notifiedThrough });
      if (!newest) continue;
      notifiedThrough = newest;
      arrivals += 1;
      await notify(false);
    }
  }

  /**
   * A reminder when pending documents come within NOTIFICATION_REMINDER of their expiry: the first at once, the ones
   * after it at most once per window. Keys sort by expiry, so the position of the last one covered is enough.
   */
  async function reminderLoop(): Promise<void> {
    for (;;) {
      const seen = arrivals;
      const { items } = await pendingBatch({ ...where, after: remindedThrough, limit: 1 });
      if (items.length === 0) {
        await condition(() => arrivals !== seen);
        continue;
      }
      const due = Date.parse(items[0].expiresAt) - settings.reminderBeforeExpiryMs - Date.now();
      // Woken by new documents or at the due time: either way the bucket is read again.
      if (due > 0) {
        await condition(() => arrivals !== seen, due);
        continue;
      }
      const dueBy = new Date(Date.now() + settings.reminderBeforeExpiryMs).toISOString();
      remindedThrough = (await lastDuePending({ ...where, after: remindedThrough, dueBy })) ?? items[0].tail;
      await notify(true);
      await sleep(settings.notificationWindowMs);
    }
  }

  async function publishLoop(): Promise<void> {
    for (;;) {
      await condition(() => changed);
      changed = false;
      state.updatedAt = new Date().toISOString();
      upsertMemo({ endpoint: state });
    }
  }
  void publishLoop();

  Object.assign(settings, await endpointSettings(state.environment));
  settingsLoaded = true;
  void probeLoop();
  void replayLoop();
  void notificationLoop();
  void reminderLoop();

  // Continue-as-new keeps history small for an entity that lives for years; in-flight work finishes first.
  await condition(wantsNewRun);
  await condition(() => background === 0 && inFlight.size === 0 && allHandlersFinished());
  await continueAsNew<typeof endpointEntity>({
    state,
    replay,
    lateArrivals,
    notifiedThrough,
    remindedThrough,
    probe,
  });
}
