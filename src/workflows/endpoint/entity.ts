import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  makeContinueAsNewFunc,
  patched,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { EndpointEmailInput, EndpointSettings } from '../../activities/endpoint';
import { MAX_HEADERS, mergeHeaders } from '../../domain/headers';
import { queueOf } from '../../domain/ids';
import type { OperatorEvent } from '../../domain/operator-events';
import type { EndpointState } from '../../domain/schemas';
import { EndpointStatusKey } from '../../domain/search-attributes';
import { isSigningSecret } from '../../domain/secrets';
import { nextSlot } from '../../rate-limit/slots';
import { metrics } from '../sinks';
import {
  configureEndpointUpdate,
  documentsArrivedSignal,
  endpointStateQuery,
  patchHeadersUpdate,
  reissueApiKeyUpdate,
  reportExhaustedUpdate,
  resendAcceptedUpdate,
  resendPendingUpdate,
  reserveSlotUpdate,
  rotateSecretUpdate,
  setActiveUpdate,
  SLOTS_ROLL_OVER,
  updatePreferencesUpdate,
} from '../messages';
import { refuseIfDeleted, registerDeletion, settleLoop } from './deletion';
import { registerEndpointList } from './endpoint-list';
import { notificationLoop } from './notification';
import { outboxLoop, type OutboxMessage } from './outbox';
import { probeLoop, type ProbeTime } from './probe';
import { reminderLoop } from './reminder';
import { replayLoop, type ReplayPass } from './replay';
import { holdsClearHeaders, holdsClearSecrets, sealLegacyHeaders, sealLegacySecrets, secretGraceLoop } from './secrets';
import { supervise } from './supervise';
import { applyConfiguration, validateConfiguration } from './validate';

const { endpointSettings } = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds' });

/**
 * Since this patch the entity keeps its status in the EndpointStatus search attribute (the support desk lists
 * suspended endpoints by it): on every suspension and reactivation, and at the start of a run that lacks it (an entity
 * from before). Runs that began before the patch replay without it.
 */
const STATUS_ATTRIBUTE = 'endpoint-status-attribute';

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
  /** What the EndpointStatus search attribute says (absent: nothing yet, an entity from before it). */
  statusShown?: EndpointState['status'];
}

/**
 * One entity per customer and environment: the webhook configuration, the API key hash, suspension, and the work that
 * follows from what waits in the bucket. Its loops (probe, replay, notifications, reminders, outbox) each stop at a
 * safe point once a new run is due; the run then continues as new with their positions.
 */
export class EndpointEntity {
  /** What the next run starts from: the state and the loops' positions, small whatever is pending. */
  readonly nextRun: EndpointEntityInput & { outbox: OutboxMessage[] };
  /** Bumped whenever the bucket is known to have new documents: the reminder loop looks again. */
  arrivals = 0;
  settings!: EndpointSettings;
  /** Rate-limit slots this run handed out: each is an Update in its history. */
  private slotsHandedOut = 0;
  private changed = true;
  /** Deleted during this run: its loops stop, and the next run only waits for its documents to settle. */
  private deletedNow = false;
  /** A deleted endpoint whose documents are settled: the run ends instead of continuing as new. */
  ended = false;

  constructor(input: EndpointEntityInput) {
    this.nextRun = { ...input, outbox: input.outbox ?? [] };
  }

  get state(): EndpointState {
    return this.nextRun.state;
  }

  /** Which endpoint: what the entity's activities are asked about (the first endpoint has no endpointId). */
  get where() {
    const { environment, customerId, endpointId } = this.state;
    return endpointId ? { environment, customerId, endpointId } : { environment, customerId };
  }

  /**
   * Once true, every loop stops at its next safe point and the entity continues as new (or ends: a deleted endpoint
   * whose documents are settled). A deletion stops a live run's loops: nothing is probed, replayed or notified any more.
   */
  readonly draining = (): boolean =>
    workflowInfo().continueAsNewSuggested ||
    workflowInfo().historyLength > this.settings.maxRunEvents ||
    this.slotsSpent() ||
    this.deletedNow ||
    this.ended;

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
    if (state.status === 'deleted') return;
    // Turned off by the customer while failing: it stays suspended but is no longer probed.
    if (state.status === 'suspended' && kind === 'manual' && state.suspension?.kind === 'failing') {
      state.suspension = { kind, at: state.suspension.at, reason };
      this.publish();
    }
    if (state.status === 'suspended') return;
    state.status = 'suspended';
    state.suspension = { kind, at: new Date().toISOString(), reason };
    state.counters.suspensions += 1;
    this.publishStatus();
    metrics.suspended(state.environment, kind);
    this.tellOperator('endpoint.suspended', { reason });
    if (this.nextRun.replay?.reason === 'replay') this.nextRun.replay = undefined;
    this.publish();
    // Sent one window later, so documents failing together are counted in it; not at all if it recovers by then.
    if (kind === 'failing') this.email('suspended');
  }

  reactivate(recovered: boolean): void {
    const { state } = this;
    if (state.status !== 'suspended') return;
    state.status = 'active';
    state.suspension = undefined;
    this.nextRun.probe = undefined;
    this.publishStatus();
    metrics.reactivated(state.environment, recovered ? 'recovery' : 'customer');
    this.tellOperator(recovered ? 'endpoint.recovered' : 'endpoint.reactivated', {});
    // Everything missed is redelivered, oldest first.
    this.startPass('replay');
    this.publish();
    if (recovered) this.email('recovered');
  }

  /**
   * The status as the EndpointStatus search attribute says it, when it says something else. What it says is kept in
   * the run's input and carried on (a new entity is started with `active` there), not read from the workflow info.
   */
  publishStatus(): void {
    if (this.nextRun.statusShown === this.state.status || !patched(STATUS_ATTRIBUTE)) return;
    upsertSearchAttributes([{ key: EndpointStatusKey, value: this.state.status }]);
    this.nextRun.statusShown = this.state.status;
  }

  /**
   * Deleted by the customer (through its first endpoint's entity): nothing more is sent for it. Its loops stop, their
   * positions and the emails and notifications not yet started are dropped (the outbox skips them), and its status
   * leaves the support desk's lists. The next run waits for its documents to settle, then ends.
   */
  markDeleted(deletedAt: string): void {
    const { state } = this;
    state.status = 'deleted';
    state.deletedAt = deletedAt;
    this.nextRun.replay = undefined;
    this.nextRun.probe = undefined;
    this.nextRun.windowEndsAt = undefined;
    this.nextRun.remindersQuietUntil = undefined;
    this.deletedNow = true;
    this.publishStatus();
    this.publish();
  }

  /** A deleted endpoint's documents are settled and its first endpoint's entity told: this run is its last. */
  end(): void {
    this.ended = true;
  }

  /** Walks the whole bucket again from its oldest document. */
  startPass(reason: ReplayPass['reason']): void {
    this.nextRun.replay = { reason };
  }

  private email(kind: EndpointEmailInput['kind']): void {
    if (!this.state.suspensionEmail || this.state.status === 'deleted') return;
    const email = { kind, ...this.where, suspendedAt: this.state.suspension?.at, at: new Date().toISOString() };
    this.nextRun.outbox.push({ kind: 'email', email, afterWindow: kind === 'suspended' });
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
    const { environment, customerId, endpointId } = this.state;
    const queue = queueOf(customerId, endpointId);
    const id = `op_${type}_${environment}_${queue}_${Date.now()}${data.documentId ? `_${data.documentId}` : ''}`;
    this.nextRun.outbox.push({ kind: 'operator', event: { id, type, timestamp, data: { ...this.where, ...data } } });
  }

  /** A notification (or reminder) describing what is pending when it is sent, unless the customer opted out. */
  notify(reminder: boolean): void {
    if (!this.state.notificationUrl || !this.state.preferences.pendingNotifications) return;
    if (this.state.status === 'deleted') return;
    this.nextRun.outbox.push({ kind: 'notification', notificationId: `ntf_${uuid4()}`, reminder });
  }

  registerHandlers(): void {
    const { state } = this;
    // A query: a read of the live state that writes nothing to history (the API reads the memo instead).
    setHandler(endpointStateQuery, () => state);

    // An Update: the API answers with the configuration as stored, and its validator refuses a bad one unrecorded.
    setHandler(
      configureEndpointUpdate,
      (config) => {
        applyConfiguration(state, config);
        this.publish();
        return state;
      },
      {
        validator: (config) => {
          refuseIfDeleted(this);
          validateConfiguration(config);
        },
      },
    );

    // An Update: the API answers with the headers as stored, and a patch past the limit is refused unrecorded.
    setHandler(
      patchHeadersUpdate,
      ({ headers }) => {
        state.headers = mergeHeaders(state.headers, headers);
        this.publish();
        return state;
      },
      {
        validator: ({ headers }) => {
          refuseIfDeleted(this);
          if (Object.keys(mergeHeaders(state.headers, headers) ?? {}).length > MAX_HEADERS) {
            const message = `at most ${MAX_HEADERS} headers, with those the endpoint has`;
            throw ApplicationFailure.nonRetryable(message, 'InvalidEndpoint', 'headers');
          }
        },
      },
    );

    // An Update: the attempt about to send is answered with its slot's time, and waits for it.
    // No memo write: a slot changes nothing anyone reads. Each accepted one is an Update in this run's history, so a
    // run hands out at most maxSlotsPerRun: a refusal by the validator writes nothing, and the sender asks the next
    // run (the nextSlotAt handed to the next run keeps the spacing across it).
    setHandler(
      reserveSlotUpdate,
      ({ notBefore }) => {
        this.slotsHandedOut += 1;
        const now = Math.max(Date.now(), Date.parse(notBefore) || 0);
        if (!state.rateLimit) return new Date(now).toISOString();
        const { at, next } = nextSlot(now, this.nextRun.nextSlotAt, state.rateLimit);
        this.nextRun.nextSlotAt = next;
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

    // An Update: the API answers with the new state, and a rotation without a secret is refused unrecorded.
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
          refuseIfDeleted(this);
          if (!state.secret) {
            throw ApplicationFailure.nonRetryable('the webhook has no secret yet: configure it first', 'NoSecret');
          }
          if (!isSigningSecret(newSecret) || !(graceMs >= 0)) {
            throw ApplicationFailure.nonRetryable('a signing secret and a grace of 0 or more', 'InvalidEndpoint');
          }
        },
      },
    );

    // An Update: the customer is answered once the suspension or reactivation is recorded. A deleted endpoint is
    // never turned back on.
    setHandler(
      setActiveUpdate,
      (active) => {
        if (active) this.reactivate(false);
        else this.suspend('manual', 'deactivated by the customer');
        return state;
      },
      { validator: (_active: boolean) => refuseIfDeleted(this) },
    );

    // An Update: the API answers with the preferences as stored.
    setHandler(
      updatePreferencesUpdate,
      (preferences) => {
        state.preferences = { ...preferences };
        this.publish();
        return state;
      },
      { validator: (_preferences) => refuseIfDeleted(this) },
    );

    // An Update: the retried customer creation hands out the new key only once its hash is stored.
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

    // An Update: the customer's resend is answered once the pass is recorded, so it cannot be lost on the way.
    setHandler(
      resendPendingUpdate,
      () => {
        // On an active endpoint this is a replay like any other; a suspended one stays suspended.
        this.startPass(state.status === 'active' ? 'replay' : 'resend');
      },
      { validator: () => refuseIfDeleted(this) },
    );

    // An Update: the document stores itself only once the suspension is recorded, and then knows the endpoint's status.
    setHandler(reportExhaustedUpdate, ({ documentId, lastError, gone }) => {
      // An attempt that went out just before the deletion: the endpoint is not suspended, nor anyone told.
      if (state.status === 'deleted') return;
      state.counters.retriesExhausted += 1;
      this.noteError(lastError);
      this.tellOperator('document.exhausted', { documentId, lastError, reason: gone ? 'gone' : 'retries exhausted' });
      this.suspend(
        'failing',
        gone ? `the endpoint answered 410 Gone (document ${documentId})` : `retries ran out for document ${documentId}`,
      );
      this.publish();
    });

    // An Update: the document that a customer's resend delivered finishes only once the recovery is recorded.
    setHandler(resendAcceptedUpdate, () => {
      // The receiver works again, as after a probe; an endpoint the customer turned off stays off.
      if (state.status === 'suspended' && state.suspension?.kind === 'failing') this.reactivate(true);
    });

    registerEndpointList(this);
    registerDeletion(this);

    // A signal: nobody waits for an answer, and only the first document of a window (or a restore) sends one.
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
}

export async function endpointEntity(input: EndpointEntityInput): Promise<void> {
  const entity = new EndpointEntity(input);
  // Registered before anything is awaited: an Update arriving with the first task must find its handler.
  entity.registerHandlers();
  const sealing = holdsClearSecrets(entity);
  const sealingHeaders = holdsClearHeaders(entity);
  // An entity from before says its status once. Before the first await, like the sealing patches: a patch decided
  // after the settings' local activity would be replayed in the task that recorded the activity, not the one after.
  entity.publishStatus();
  await entity.loadSettings();
  await sealLegacySecrets(entity, sealing);
  await sealLegacyHeaders(entity, sealingHeaders);
  if (entity.state.status === 'deleted') {
    // Deleted (in an earlier run): nothing is sent any more; it only waits for its documents to settle.
    await supervise({
      publish: () => entity.publishLoop(),
      outbox: () => outboxLoop(entity),
      settle: () => settleLoop(entity),
    });
  } else {
    await supervise({
      publish: () => entity.publishLoop(),
      outbox: () => outboxLoop(entity),
      probe: () => probeLoop(entity),
      replay: () => replayLoop(entity),
      notifications: () => notificationLoop(entity),
      reminders: () => reminderLoop(entity),
      secretGrace: () => secretGraceLoop(entity),
    });
  }
  // Continue-as-new keeps history small for an entity that lives for years; handlers under way finish first.
  await condition(allHandlersFinished);
  entity.flushMemo();
  // A deleted endpoint whose documents are settled: nothing is left for it to do.
  if (entity.ended) return;
  // The memo goes with the new run: left to the server, the run starts with a stale one (seen: the memo the entity was
  // created with, no URL) until its first task publishes, and every attempt reading the endpoint meanwhile would see
  // no webhook, or an old URL or status. (Commands' attributes are not compared on replay: histories replay alike.)
  await makeContinueAsNewFunc<typeof endpointEntity>({ memo: { endpoint: entity.state } })(entity.nextRun);
}
