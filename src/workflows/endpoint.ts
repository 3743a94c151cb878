import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  makeContinueAsNewFunc,
  log,
  ParentClosePolicy,
  patched,
  proxyLocalActivities,
  setHandler,
  startChild,
  upsertMemo,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import type { EndpointEmailInput, EndpointSettings } from '../activities/endpoint';
import { endpointEmailWorkflowId, notificationWorkflowId } from '../domain/ids';
import { operatorEventWorkflowId, type OperatorEvent } from '../domain/operator-events';
import type { EndpointState } from '../domain/schemas';
import { RATE_WINDOW_MS } from '../domain/rate-limit';
import { isSealedSecret, isSigningSecret } from '../domain/secrets';
import { parseRetrySchedule } from '../domain/schedule';
import { metrics } from './sinks';
import {
  configureEndpointUpdate,
  documentsArrivedSignal,
  endpointStateQuery,
  reissueApiKeyUpdate,
  reportExhaustedUpdate,
  resendPendingUpdate,
  reserveSlotUpdate,
  rotateSecretUpdate,
  setActiveUpdate,
  SLOTS_ROLL_OVER,
  updatePreferencesUpdate,
  type ConfigureEndpointInput,
} from './messages';
import { notificationLoop, pendingNotification, reminderLoop } from './notification';
import { operatorEvent } from './operator';
import { replayLoop, type ReplayPass } from './replay';
import { endpointEmail, probeLoop, type ProbeTime } from './suspension';

const { endpointSettings, sealSecrets } = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds' });
/** Since this patch an entity holding secrets in the clear seals them at the start of its next run. */
const SEALED_SECRETS = 'sealed-secrets';

const HTTP_URL = /^https?:\/\/[^\s/]+/i;

/** Rejects a bad configuration before it enters history; the API validates the same fields with zod first. */
function validateConfiguration(input: ConfigureEndpointInput): void {
  for (const [field, value] of [
    ['url', input.url],
    ['notificationUrl', input.notificationUrl],
  ] as const) {
    if (value != null && !HTTP_URL.test(value)) {
      throw ApplicationFailure.nonRetryable(`${field} must be an http(s) URL`, 'InvalidEndpoint', field);
    }
  }
  if (input.retrySchedule != null) {
    try {
      parseRetrySchedule(input.retrySchedule);
    } catch (err) {
      const message = `retrySchedule: ${(err as Error).message}`;
      throw ApplicationFailure.nonRetryable(message, 'InvalidEndpoint', 'retrySchedule');
    }
  }
  for (const field of ['rateLimit', 'maxInFlight'] as const) {
    const value = input[field];
    if (value != null && !(Number.isInteger(value) && value >= 1)) {
      throw ApplicationFailure.nonRetryable(`${field} must be a whole number of 1 or more`, 'InvalidEndpoint', field);
    }
  }
  if (!isSigningSecret(input.newSecret)) {
    throw ApplicationFailure.nonRetryable('newSecret must be a signing secret', 'InvalidEndpoint', 'newSecret');
  }
}

/** A side effect that leaves the entity's critical path: it runs as its own short workflow, started from here. */
export type OutboxMessage =
  | { kind: 'email'; email: EndpointEmailInput; afterWindow: boolean }
  | { kind: 'notification'; notificationId: string; reminder: boolean }
  | { kind: 'operator'; event: OperatorEvent };

export interface EndpointEntityInput {
  state: EndpointState;
  /** Carried across continue-as-new; all of it is small whatever the number of pending documents. */
  replay?: ReplayPass;
  /** Positions in the bucket: the newest document a notification covered, the last one a reminder covered. */
  notifiedThrough?: string;
  remindedThrough?: string;
  /** The next probe of a failing endpoint: which step of its schedule, and when. */
  probe?: ProbeTime;
  /** When the open notification window closes, and until when reminders stay quiet. */
  windowEndsAt?: string;
  remindersQuietUntil?: string;
  outbox?: OutboxMessage[];
  /** A rate-limited endpoint's next free send slot (epoch ms). */
  nextSlotAt?: number;
}

/**
 * One entity per customer and environment: the webhook configuration, the API key hash, suspension, and the work that
 * follows from what waits in the bucket. Its loops (probe, replay, notifications, reminders, outbox) each stop at a
 * safe point once a new run is due; the run then continues as new with their positions.
 */
export class EndpointEntity {
  /** What the next run starts from: the state and the loops' positions, small whatever is pending. */
  readonly carried: EndpointEntityInput & { outbox: OutboxMessage[] };
  /** Bumped whenever the bucket is known to have new documents: the reminder loop looks again. */
  arrivals = 0;
  settings!: EndpointSettings;
  /** Rate-limit slots this run handed out: each is an Update in its history. */
  private slotsHandedOut = 0;
  private changed = true;

  constructor(input: EndpointEntityInput) {
    this.carried = { ...input, outbox: input.outbox ?? [] };
  }

  get state(): EndpointState {
    return this.carried.state;
  }

  get where() {
    return { environment: this.state.environment, customerId: this.state.customerId };
  }

  /** Once true, every loop stops at its next safe point and the entity continues as new. */
  readonly draining = (): boolean =>
    workflowInfo().continueAsNewSuggested ||
    workflowInfo().historyLength > this.settings.maxRunEvents ||
    this.slotsSpent();

  /** The run has handed out its share of slots: it refuses more (see reserveSlot) and continues as new. */
  private slotsSpent(): boolean {
    const max = this.settings?.maxSlotsPerRun;
    return max !== undefined && this.slotsHandedOut >= max;
  }

  /** The last error a document met at this endpoint (an attempt, a probe, a replay step), for the customer to see. */
  noteError(error: string | undefined): void {
    if (!error) return;
    this.state.lastError = error;
    this.publish();
  }

  /** Reads go through the memo (a describe, no worker involved), written once per activation. */
  publish(): void {
    this.changed = true;
  }

  suspend(kind: 'failing' | 'manual', reason: string): void {
    const { state } = this;
    // Turned off by the customer while failing: it stays suspended but is no longer probed.
    if (state.status === 'suspended' && kind === 'manual' && state.suspension?.kind === 'failing') {
      state.suspension = { kind, at: state.suspension.at, reason };
      this.publish();
    }
    if (state.status === 'suspended') return;
    state.status = 'suspended';
    state.suspension = { kind, at: new Date().toISOString(), reason };
    state.counters.suspensions += 1;
    metrics.suspended(state.environment, kind);
    this.tellOperator('endpoint.suspended', { reason });
    if (this.carried.replay?.reason === 'replay') this.carried.replay = undefined;
    this.publish();
    // Sent one window later, so documents failing together are counted in it; not at all if it recovers by then.
    if (kind === 'failing') this.email('suspended');
  }

  reactivate(recovered: boolean): void {
    const { state } = this;
    if (state.status === 'active') return;
    state.status = 'active';
    state.suspension = undefined;
    state.counters.consecutiveExhausted = 0;
    this.carried.probe = undefined;
    metrics.reactivated(state.environment, recovered ? 'recovery' : 'customer');
    this.tellOperator(recovered ? 'endpoint.recovered' : 'endpoint.reactivated', {});
    // Everything missed is redelivered, oldest first.
    this.startPass('replay');
    this.publish();
    if (recovered) this.email('recovered');
  }

  /** Walks the whole bucket again from its oldest document. */
  startPass(reason: ReplayPass['reason']): void {
    this.carried.replay = { reason };
  }

  private email(kind: EndpointEmailInput['kind']): void {
    if (!this.state.suspensionEmail) return;
    const email = { kind, ...this.where, suspendedAt: this.state.suspension?.at, at: new Date().toISOString() };
    this.carried.outbox.push({ kind: 'email', email, afterWindow: kind === 'suspended' });
  }

  /**
   * An operational webhook for the platform operator, sent by its own workflow. Not even queued unless the run's
   * settings have an operator URL: runs recorded before operator events replay with the same commands in the same
   * order (so does anything arriving before the settings are read, in a run's first task: best effort). Its id comes
   * from the workflow clock, not uuid4(): drawing from the workflow's random sequence would change the ids of the
   * notifications after it when older histories replay.
   */
  tellOperator(type: OperatorEvent['type'], data: Partial<OperatorEvent['data']>): void {
    if (!this.settings?.operatorEvents) return;
    const timestamp = new Date().toISOString();
    const { environment, customerId } = this.where;
    const id = `op_${type}_${environment}_${customerId}_${Date.now()}${data.documentId ? `_${data.documentId}` : ''}`;
    this.carried.outbox.push({ kind: 'operator', event: { id, type, timestamp, data: { ...this.where, ...data } } });
  }

  /** A notification (or reminder) describing what is pending when it is sent, unless the customer opted out. */
  notify(reminder: boolean): void {
    if (!this.state.notificationUrl || !this.state.preferences.pendingNotifications) return;
    this.carried.outbox.push({ kind: 'notification', notificationId: `ntf_${uuid4()}`, reminder });
  }

  registerHandlers(): void {
    const { state } = this;
    setHandler(endpointStateQuery, () => state);

    setHandler(
      configureEndpointUpdate,
      (config) => {
        state.url = config.url;
        state.notificationUrl = config.notificationUrl ?? undefined;
        state.suspensionEmail = config.suspensionEmail ?? undefined;
        state.retrySchedule = config.retrySchedule ?? undefined;
        state.rateLimit = config.rateLimit ?? undefined;
        state.maxInFlight = config.maxInFlight ?? undefined;
        state.headers = config.headers ?? undefined;
        state.secret ??= config.newSecret;
        this.publish();
        return state;
      },
      { validator: validateConfiguration },
    );

    // No memo write: a slot changes nothing anyone reads. Each accepted one is an Update in this run's history, so a
    // run hands out at most maxSlotsPerRun: a refusal by the validator writes nothing, and the sender asks the next
    // run (the carried nextSlotAt keeps the spacing across it).
    setHandler(
      reserveSlotUpdate,
      ({ notBefore }) => {
        this.slotsHandedOut += 1;
        const now = Math.max(Date.now(), Date.parse(notBefore) || 0);
        if (!state.rateLimit) return new Date(now).toISOString();
        const at = Math.max(now, this.carried.nextSlotAt ?? 0);
        this.carried.nextSlotAt = at + RATE_WINDOW_MS / state.rateLimit;
        return new Date(at).toISOString();
      },
      {
        validator: (_request: { notBefore: string }) => {
          if (this.slotsSpent()) {
            throw ApplicationFailure.nonRetryable('this run has handed out its slots; ask again', SLOTS_ROLL_OVER);
          }
        },
      },
    );

    setHandler(
      rotateSecretUpdate,
      ({ newSecret, graceMs }) => {
        if (state.secret) {
          state.previousSecret = { secret: state.secret, expiresAt: new Date(Date.now() + graceMs).toISOString() };
        }
        state.secret = newSecret;
        this.publish();
        return state;
      },
      {
        validator: ({ newSecret, graceMs }) => {
          if (!state.secret) {
            throw ApplicationFailure.nonRetryable('the webhook has no secret yet: configure it first', 'NoSecret');
          }
          if (!isSigningSecret(newSecret) || !(graceMs >= 0)) {
            throw ApplicationFailure.nonRetryable('a signing secret and a grace of 0 or more', 'InvalidEndpoint');
          }
        },
      },
    );

    setHandler(setActiveUpdate, (active) => {
      if (active) this.reactivate(false);
      else this.suspend('manual', 'deactivated by the customer');
      return state;
    });

    setHandler(updatePreferencesUpdate, (preferences) => {
      state.preferences = { ...preferences };
      this.publish();
      return state;
    });

    setHandler(
      reissueApiKeyUpdate,
      ({ apiKeyHash }) => {
        state.apiKeyHash = apiKeyHash;
        this.publish();
      },
      {
        validator: ({ apiKeyHash }) => {
          if (!/^[0-9a-f]{64}$/.test(apiKeyHash)) {
            throw ApplicationFailure.nonRetryable('apiKeyHash must be a SHA-256 hex digest', 'InvalidKey');
          }
        },
      },
    );

    setHandler(resendPendingUpdate, () => {
      // On an active endpoint this is a replay like any other; a suspended one stays suspended.
      this.startPass(state.status === 'active' ? 'replay' : 'resend');
    });

    setHandler(reportExhaustedUpdate, ({ documentId, lastError, gone }) => {
      state.counters.retriesExhausted += 1;
      state.counters.consecutiveExhausted += 1;
      this.noteError(lastError);
      this.tellOperator('document.exhausted', { documentId, lastError, reason: gone ? 'gone' : 'retries exhausted' });
      this.suspend(
        'failing',
        gone ? `the endpoint answered 410 Gone (document ${documentId})` : `retries ran out for document ${documentId}`,
      );
      this.publish();
    });

    setHandler(documentsArrivedSignal, () => {
      if (!state.arrivalsAnnounced) {
        state.arrivalsAnnounced = true;
        this.publish();
      }
      this.arrivals += 1;
    });
  }

  async loadSettings(): Promise<void> {
    this.settings = await endpointSettings(this.state.environment);
  }

  /** Whether this run starts with a secret in the clear (made before sealing), and since the patch seals it. */
  holdsClearSecrets(): boolean {
    const clear = (value?: string) => value !== undefined && !isSealedSecret(value);
    return (clear(this.state.secret) || clear(this.state.previousSecret?.secret)) && patched(SEALED_SECRETS);
  }

  /**
   * An entity made before signing secrets were sealed holds them in the clear: its next run seals them (an activity:
   * the keys are the worker's), so its memo and queries show them sealed from then on. Runs recorded before the patch
   * replay without it. (Decided in the run's first task, before any activity: a patch marker after a local activity
   * of the first task does not replay.)
   */
  async sealLegacySecrets(decided: boolean): Promise<void> {
    const { state } = this;
    if (!decided) return;
    const sealed = await sealSecrets({ secret: state.secret, previousSecret: state.previousSecret });
    // A rotation while the activity ran brought sealed secrets of its own: those stay.
    const clear = (value?: string) => value !== undefined && !isSealedSecret(value);
    if (clear(state.secret)) state.secret = sealed.secret;
    if (clear(state.previousSecret?.secret) && sealed.previousSecret) state.previousSecret = sealed.previousSecret;
    this.publish();
  }

  /** Writes the memo when something changed, once per activation, until the run drains. */
  async publishLoop(): Promise<void> {
    for (;;) {
      await condition(() => this.changed || this.draining());
      this.flushMemo();
      if (this.draining()) return;
    }
  }

  flushMemo(): void {
    if (!this.changed) return;
    this.changed = false;
    this.state.updatedAt = new Date().toISOString();
    upsertMemo({ endpoint: this.state });
  }

  /** Drops the previous secret when its grace ends (a timer: time skipping and replays see the same moment). */
  async secretGraceLoop(): Promise<void> {
    for (;;) {
      await condition(() => !!this.state.previousSecret || this.draining());
      if (this.draining()) return;
      const { expiresAt } = this.state.previousSecret!;
      const replaced = () => this.state.previousSecret?.expiresAt !== expiresAt || this.draining();
      const wait = Date.parse(expiresAt) - Date.now();
      if (wait > 0 && (await condition(replaced, wait))) continue;
      this.state.previousSecret = undefined;
      this.publish();
    }
  }

  /** Starts each queued email or notification as its own workflow; only the start is awaited. */
  async outboxLoop(): Promise<void> {
    for (;;) {
      await condition(() => this.carried.outbox.length > 0 || this.draining());
      while (this.carried.outbox.length > 0) {
        await startMessage(this.carried.outbox[0], this.state, this.settings);
        this.carried.outbox.shift();
      }
      if (this.draining()) return;
    }
  }
}

async function startMessage(message: OutboxMessage, state: EndpointState, settings: EndpointSettings): Promise<void> {
  const { environment, customerId } = state;
  const parentClosePolicy = ParentClosePolicy.ABANDON;
  try {
    if (message.kind === 'operator') {
      await startChild(operatorEvent, {
        workflowId: operatorEventWorkflowId(message.event.id),
        parentClosePolicy,
        args: [message.event],
      });
    } else if (message.kind === 'email') {
      const { email } = message;
      await startChild(endpointEmail, {
        workflowId: endpointEmailWorkflowId(environment, customerId, email.kind, email.at),
        parentClosePolicy,
        args: [{ email, delayMs: message.afterWindow ? settings.notificationWindowMs : 0 }],
      });
    } else {
      const { notificationId, reminder } = message;
      await startChild(pendingNotification, {
        workflowId: notificationWorkflowId(environment, customerId, notificationId),
        parentClosePolicy,
        args: [{ environment, customerId, notificationId, reminder }],
      });
    }
  } catch (err) {
    // Started before, by a run that did not get to see it start: it is under way.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * Runs the entity's loops until each has stopped for a new run. A loop that throws fails the workflow task, not the
 * workflow: Temporal retries it, the Web UI and the worker log show it, and the entity's state is kept.
 */
async function supervise(loops: Record<string, () => Promise<void>>): Promise<void> {
  await Promise.all(
    Object.entries(loops).map(async ([name, loop]) => {
      try {
        await loop();
      } catch (err) {
        log.error('endpoint loop failed', { loop: name, error: String(err) });
        throw new Error(`the ${name} loop failed: ${String(err)}`);
      }
    }),
  );
}

export async function endpointEntity(input: EndpointEntityInput): Promise<void> {
  const entity = new EndpointEntity(input);
  // Registered before anything is awaited: an Update arriving with the first task must find its handler.
  entity.registerHandlers();
  const sealing = entity.holdsClearSecrets();
  await entity.loadSettings();
  await entity.sealLegacySecrets(sealing);
  await supervise({
    publish: () => entity.publishLoop(),
    outbox: () => entity.outboxLoop(),
    probe: () => probeLoop(entity),
    replay: () => replayLoop(entity),
    notifications: () => notificationLoop(entity),
    reminders: () => reminderLoop(entity),
    secretGrace: () => entity.secretGraceLoop(),
  });
  // Continue-as-new keeps history small for an entity that lives for years; handlers under way finish first.
  await condition(allHandlersFinished);
  entity.flushMemo();
  // The memo goes with the new run: left to the server, the run starts with a stale one (seen: the memo the entity was
  // created with, no URL) until its first task publishes, and every attempt reading the endpoint meanwhile would see
  // no webhook, or an old URL or status. (Commands' attributes are not compared on replay: histories replay alike.)
  await makeContinueAsNewFunc<typeof endpointEntity>({ memo: { endpoint: entity.state } })(entity.carried);
}
