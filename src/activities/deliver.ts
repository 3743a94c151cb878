import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { request, type Dispatcher } from 'undici';
import type { Config } from '../config';
import type { Attempt, DocumentInput, EndpointState, Environment } from '../domain/schemas';
import { deliveryBody } from '../domain/delivery-body';
import { routeMatches } from '../domain/endpoints';
import { FIRST_ENDPOINT_ID, queueOf } from '../domain/ids';
import { MAX_RETRY_AFTER_MS, retryScheduleOr } from '../domain/schedule';
import { verdictOf, type BreakerDecision, type RequestVerdict } from '../lib/circuit-breaker';
import { isShareFull } from '../lib/endpoint-share';
import { createSendGuards, endpointShare, type SendGuards } from '../lib/send-guards';
import { attemptOutcome, routingOutcome, type Metrics } from '../lib/metrics';
import { isPrivateUrl } from '../lib/private-address';
import type { SecretSeal } from '../lib/secret-seal';
import { webhookHeaders } from '../lib/signature';
import { dataOf, type BodyStore } from '../bucket/bodies';
import type { PendingQueue } from '../bucket/queue';
import { createSlotWaiter } from '../rate-limit/attempt';
import type { SlotReserver } from '../rate-limit/reserver';
import { heartbeating } from './heartbeat';

export interface EndpointReader {
  /**
   * The endpoint's current configuration, or undefined when the customer has none in that environment: its first
   * endpoint without `endpointId`, another with it.
   */
  get(environment: Environment, customerId: string, endpointId?: string): Promise<EndpointState | undefined>;
}

/**
 * A pending document is attempted by reference: its body is read from the bucket at `objectKey`, so a probe, a
 * replay or a resend adds a few hundred bytes to its workflow's history, not the document.
 */
export type DocumentRef = Omit<DocumentInput, 'data'> & { data?: undefined; objectKey: string };

export interface AttemptDeliveryInput {
  document: DocumentInput | DocumentRef;
  attemptNumber: number;
  trigger: Attempt['trigger'];
  /** Attempt even while the endpoint is suspended: a probe, a replay or a resend the customer asked for. */
  force?: boolean;
  /** A slot reserved by an earlier call that answered `throttledUntil`: send in it, without reserving another. */
  slotAt?: string;
  /** How many times this attempt already found the endpoint's share full (answered `busyForMs`) and waited. */
  waitedRounds?: number;
  /** A document's first attempt asks where it goes: the answer has `routes` when it is not just the first endpoint. */
  route?: boolean;
  /**
   * With `route`: when the document goes anywhere but to the first endpoint alone, send nothing and answer `unsent`
   * with the routes, so the workflow starts the other deliveries before any request goes out (none waits on the first
   * endpoint's answer, and a task that fails while starting them repeats no request). Absent in attempts recorded
   * before: those routed and sent in one step.
   */
  routeFirst?: boolean;
}

/** Where a document goes besides (or instead of) the customer's first endpoint. */
export interface DocumentRoutes {
  /** The customer's other endpoints whose route matches it. */
  others: string[];
  /** Whether the first endpoint takes it: false, nothing was sent to it and no attempt is recorded. */
  first: boolean;
}

export interface DeliveryOutcome {
  attempt: Attempt;
  delivered: boolean;
  /** 410 Gone: the receiver asked us to stop sending to this URL. */
  gone: boolean;
  /** From `Retry-After` on 429/503: the next attempt waits at least this long. */
  retryAfterMs?: number;
  /** The endpoint's schedule as configured at this attempt (intervals in ms). */
  retryScheduleMs: number[];
  /** The endpoint is suspended (or deleted): nothing was sent, the document goes straight to the bucket. */
  suspended?: boolean;
  /** Rate limited: nothing was sent; this slot is reserved, and the workflow attempts again in it (`slotAt`). */
  throttledUntil?: string;
  /** How long before `throttledUntil` the workflow wakes for it (absent in outcomes recorded before: 2 s). */
  slotLeadMs?: number;
  /** Asked for with `route`, and only when the document goes anywhere but to the first endpoint alone. */
  routes?: DocumentRoutes;
  /** Asked with `routeFirst` and answered with `routes`: nothing was sent and nothing is recorded; attempt again. */
  unsent?: boolean;
  /** Sent although the endpoint is suspended (a probe, a replay or a customer's resend asked for it). */
  whileSuspended?: boolean;
  /**
   * The endpoint's share of the workers is full (its own requests are out): nothing was sent and nothing is recorded;
   * the workflow waits about this long on a timer and attempts again (with `waitedRounds` one higher).
   */
  busyForMs?: number;
}

/**
 * Where a document goes, from the first endpoint's record: undefined when only to the first, as for every customer
 * with one endpoint (the workflow then goes on as it always did). A first endpoint without a URL takes nothing once
 * the customer has others.
 */
function routesOf(
  endpoint: EndpointState | undefined,
  document: DocumentInput | DocumentRef,
): DocumentRoutes | undefined {
  const others = (endpoint?.endpoints ?? []).filter((other) => routeMatches(other.route, document)).map((o) => o.id);
  const routed = routeMatches(endpoint?.route ?? {}, document);
  if (others.length === 0 && routed) return undefined;
  const hasOthers = (endpoint?.endpoints?.length ?? 0) > 0;
  return { others, first: routed && (Boolean(endpoint?.url) || !hasOthers) };
}

/** The endpoint's share was full this many times in a row: the attempt is recorded as skipped and the schedule goes on. */
export const MAX_WAITED_ROUNDS = 10;

/** Seconds or an HTTP date; anything unparseable is ignored rather than trusted. */
function parseRetryAfter(header: string | string[] | undefined, now: Date): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - now.getTime();
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

function describeError(err: unknown): string {
  const error = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (error.name === 'TimeoutError' || error.name === 'AbortError')
    return 'timeout: no answer within the delivery timeout';
  const code = error.code ?? error.cause?.code;
  const message = error.cause?.message ?? error.message ?? String(err);
  return code ? `${code}: ${message}` : message;
}

/** A failed POST's kind for a span: `timeout` or the error's code (ECONNREFUSED...), never its message. */
function errorKind(error: string | undefined): string {
  const kind = error?.split(':')[0] ?? 'error';
  return /^[A-Za-z_]+$/.test(kind) ? kind : 'error';
}

/** One signed POST (Standard Webhooks headers) within DELIVERY_TIMEOUT; redirects are not followed. */
export async function postSigned(
  http: Dispatcher,
  config: Config,
  message: { url: string; secrets: string[]; id: string; body: string; now: Date; headers?: Record<string, string> },
) {
  const response = await request(message.url, {
    method: 'POST',
    dispatcher: http,
    // The endpoint's own headers first: ours (content type, signature) always win.
    headers: { ...message.headers, ...webhookHeaders(message.secrets, message.id, message.body, message.now) },
    body: message.body,
    headersTimeout: config.DELIVERY_TIMEOUT,
    bodyTimeout: config.DELIVERY_TIMEOUT,
    signal: AbortSignal.timeout(config.DELIVERY_TIMEOUT),
  });
  const body = await keepFirstBytes(response.body, RESPONSE_BODY_KEPT_BYTES);
  return { statusCode: response.statusCode, headers: response.headers, body };
}

/** What an attempt keeps of the receiver's answer (Svix keeps 20 KB): enough to see its error, bounded in history. */
const RESPONSE_BODY_KEPT_BYTES = 2 * 1024;
/** Read to the end up to this, so the connection is reused; a longer answer is cut off (and its connection closed). */
const RESPONSE_BODY_READ_BYTES = 64 * 1024;

/** Reads the body and answers its first `keep` bytes as text (without a character cut in two); '' if none. */
async function keepFirstBytes(body: AsyncIterable<Buffer>, keep: number): Promise<string> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let read = 0;
  try {
    for await (const chunk of body) {
      if (keptBytes < keep) {
        kept.push(chunk.subarray(0, keep - keptBytes));
        keptBytes += kept.at(-1)!.length;
      }
      read += chunk.length;
      if (read > RESPONSE_BODY_READ_BYTES) break;
    }
  } catch {
    // The receiver broke off mid-answer: what came is kept.
  }
  // `stream: true` holds back the bytes of a last character that was cut in two.
  return new TextDecoder().decode(Buffer.concat(kept), { stream: true });
}

export function createDeliverActivities(deps: {
  http: Dispatcher;
  endpoints: EndpointReader;
  slots: SlotReserver;
  store: PendingQueue;
  bodies: Pick<BodyStore, 'read'>;
  seal: SecretSeal;
  config: Config;
  metrics: Metrics;
  guards?: SendGuards;
  /**
   * The clock slots are reckoned in: the entity's, that is the Temporal server's. The worker's own in production;
   * the time-skipping server's in tests, where the two part at every skip.
   */
  clock?: () => Promise<number>;
  /** Set when traces are exported: each POST is a span of the document's trace. */
  tracer?: Tracer;
}) {
  const { http, endpoints, slots, store, bodies, seal, config, metrics } = deps;
  const { shares, breakers, pacer } = deps.guards ?? createSendGuards(config);
  const clock = deps.clock ?? (async () => Date.now());
  const waitForSlot = createSlotWaiter({ slots, pacer, inlineWaitMs: config.RATE_LIMIT_INLINE_WAIT });

  /**
   * The bytes a receiver gets: the document's, or (by reference) its pending object's or its stored body's (a large
   * document's claim check); undefined once that is gone.
   */
  async function bodyOf(document: DocumentInput | DocumentRef): Promise<string | undefined> {
    const data =
      'objectKey' in document
        ? (await store.read(document.environment, document.objectKey))?.data
        : await dataOf(bodies, document);
    return data === undefined ? undefined : deliveryBody({ ...document, data });
  }

  /** Counted once per attempt that ran or was skipped (one waiting for a slot or a place sent nothing). */
  function count(
    input: AttemptDeliveryInput,
    { attempt, suspended, throttledUntil, busyForMs, unsent }: DeliveryOutcome,
  ): void {
    const { environment } = input.document;
    if (busyForMs !== undefined) metrics.shareWaits.inc({ environment });
    if (suspended || throttledUntil || busyForMs !== undefined || unsent) return;
    if (attempt.skipped) {
      metrics.attemptsSkipped.inc({ environment, reason: attempt.skipped });
      return;
    }
    const outcome = attemptOutcome(attempt);
    metrics.attempts.inc({ environment, outcome, trigger: input.trigger });
    if (outcome !== 'not_sent')
      metrics.attemptDuration.observe({ environment, outcome }, attempt.responseDurationMs / 1000);
  }

  /** A scheduled attempt passes the URL's breaker; a probe, replay or resend was asked for and goes regardless. */
  function admit(input: AttemptDeliveryInput, breakerKey: string): BreakerDecision {
    return input.force ? { state: 'closed' } : breakers.admit(breakerKey);
  }

  /** One attempt, answered with where the document goes when asked; the activity wraps it in heartbeats. */
  async function attemptOnce(input: AttemptDeliveryInput): Promise<DeliveryOutcome> {
    const { document } = input;
    const endpoint = await endpoints.get(document.environment, document.customerId, document.endpointId);
    const routes = input.route ? routesOf(endpoint, document) : undefined;
    // Counted once per document: not again when the attempt comes back after waiting for a slot or a place.
    if (routes && !input.slotAt && !input.waitedRounds) {
      const { environment } = document;
      metrics.routings.inc({ environment, outcome: routingOutcome(routes) });
      metrics.fanOutDeliveries.inc({ environment }, routes.others.length);
    }
    // Not for the first endpoint: nothing is sent to it.
    if (routes?.first === false) return { ...notSent(input, endpoint), routes };
    // Routes first: the first endpoint's attempt comes once the other deliveries are under way.
    if (routes && input.routeFirst) return { ...notSent(input, endpoint), routes, unsent: true };
    const outcome = await attemptTo(input, endpoint);
    return routes ? { ...outcome, routes } : outcome;
  }

  function notSent(input: AttemptDeliveryInput, endpoint: EndpointState | undefined) {
    const retryScheduleMs = retryScheduleOr(endpoint?.retrySchedule, config.retrySchedules[input.document.environment]);
    const { attemptNumber, trigger } = input;
    const attempt: Attempt = { attemptNumber, at: new Date().toISOString(), trigger, responseDurationMs: 0 };
    return { attempt, delivered: false, gone: false, retryScheduleMs };
  }

  async function attemptTo(input: AttemptDeliveryInput, endpoint: EndpointState | undefined): Promise<DeliveryOutcome> {
    const { document, force } = input;
    const failed = notSent(input, endpoint);
    const { attempt, retryScheduleMs } = failed;
    const started = new Date(attempt.at);
    if (endpoint?.status === 'deleted') {
      // Nothing is sent for a deleted endpoint, asked for or not. A scheduled attempt stores the document with the
      // endpoint's others (as while suspended), where the customer can still pull it; a resend says why nothing went.
      if (!force) return { ...failed, suspended: true };
      attempt.error = 'not sent: the endpoint was deleted';
      return failed;
    }
    if (endpoint?.status === 'suspended' && !force) return { ...failed, suspended: true };
    if (!endpoint?.url || !endpoint.secret) {
      attempt.error = 'no webhook URL is configured for this environment';
      return failed;
    }
    attempt.url = endpoint.url;
    if (!config.ALLOW_PRIVATE_URLS && isPrivateUrl(endpoint.url)) {
      attempt.error = 'EPRIVATEADDRESS: the webhook URL points at a private address';
      return failed;
    }
    const share = endpointShare(
      document.environment,
      queueOf(document.customerId, document.endpointId),
      endpoint.maxInFlight,
      config,
    );
    const breakerKey = `${share.key} ${endpoint.url}`;
    const decision = admit(input, breakerKey);
    if (decision.state === 'open') {
      attempt.skipped = 'breaker_open';
      attempt.error = `not sent: the endpoint failed repeatedly, its circuit breaker is open until ${new Date(decision.until).toISOString()}`;
      return failed;
    }
    const trial = decision.state === 'trial';
    const place = await shares.enter(share.key, share.limit, 'delivery');
    if (isShareFull(place)) {
      if (trial) breakers.record(breakerKey, 'neutral', true);
      if ((input.waitedRounds ?? 0) < MAX_WAITED_ROUNDS) return { ...failed, busyForMs: place.retryInMs };
      attempt.skipped = 'share_full';
      attempt.error = `not sent: the endpoint's ${share.limit} requests in flight stayed taken`;
      return failed;
    }
    let verdict: RequestVerdict = 'neutral';
    try {
      // Read once a place is held: an attempt skipped by the breaker or turned away by a full share reads nothing.
      const body = await bodyOf(input.document);
      if (body === undefined) {
        attempt.error = 'not sent: the stored document is no longer in the bucket';
        return failed;
      }
      // Read once per attempt; the time the slots are reckoned in goes on from it.
      const clockAt = await clock();
      const since = Date.now();
      const now = () => clockAt + Date.now() - since;
      const { environment, customerId, endpointId } = input.document;
      const { rateLimit } = endpoint;
      const notYet = await waitForSlot({
        environment,
        customerId,
        endpointId,
        rateLimit,
        slotAt: input.slotAt,
        paceKey: share.key,
        now,
      });
      if (notYet) return { ...failed, ...notYet };
      const outcome = await send(
        document.id,
        body,
        { ...endpoint, url: endpoint.url },
        attempt,
        started,
        retryScheduleMs,
      );
      verdict = verdictOf(attempt.responseStatusCode);
      return endpoint.status === 'suspended' ? { ...outcome, whileSuspended: true } : outcome;
    } finally {
      place.leave();
      breakers.record(breakerKey, verdict, trial);
    }
  }

  /**
   * The signed POST, as a CLIENT span of the document's trace when traces are exported (the attempt's activity is its
   * parent): the endpoint, the answer's status or the failure's kind, and its duration. Never the URL (it may carry a
   * token), a header, the body or the answer's body.
   */
  async function send(...args: Parameters<typeof post>): Promise<DeliveryOutcome> {
    const { tracer } = deps;
    if (!tracer) return post(...args);
    const [id, , endpoint] = args;
    const attributes = {
      'http.request.method': 'POST',
      'webhook.endpoint_id': endpoint.endpointId ?? FIRST_ENDPOINT_ID,
      'webhook.message_id': id,
    };
    return tracer.startActiveSpan('POST webhook', { kind: SpanKind.CLIENT, attributes }, async (span) => {
      try {
        const outcome = await post(...args);
        const status = outcome.attempt.responseStatusCode;
        if (status !== undefined) span.setAttribute('http.response.status_code', status);
        if (!outcome.delivered) {
          span.setAttribute('error.type', status !== undefined ? String(status) : errorKind(outcome.attempt.error));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        return outcome;
      } finally {
        span.end();
      }
    });
  }

  /** The signed POST itself; every failure is an outcome written into `attempt`. */
  async function post(
    id: string,
    body: string,
    endpoint: EndpointState & { url: string },
    attempt: Attempt,
    started: Date,
    retryScheduleMs: number[],
  ): Promise<DeliveryOutcome> {
    const sentAt = new Date();
    attempt.at = sentAt.toISOString();
    try {
      const response = await postSigned(http, config, {
        url: endpoint.url,
        secrets: seal.signingSecrets(endpoint, sentAt),
        id,
        body,
        now: sentAt,
        headers: seal.openHeaders(endpoint.headers),
      });
      const status = response.statusCode;
      attempt.responseStatusCode = status;
      attempt.responseDurationMs = Date.now() - sentAt.getTime();
      if (response.body) attempt.responseBody = response.body;
      const contentType = response.headers['content-type'];
      if (contentType) attempt.responseContentType = String(contentType).slice(0, 200);
      const delivered = status >= 200 && status < 300;
      if (!delivered) attempt.error = `HTTP ${status}`;
      const retryAfterMs =
        status === 429 || status === 503 ? parseRetryAfter(response.headers['retry-after'], started) : undefined;
      return { attempt, delivered, gone: status === 410, retryAfterMs, retryScheduleMs };
    } catch (err) {
      attempt.error = describeError(err);
      attempt.responseDurationMs = Date.now() - sentAt.getTime();
      return { attempt, delivered: false, gone: false, retryScheduleMs };
    }
  }

  return {
    /**
     * One POST to the customer's current URL, heartbeating while it waits. HTTP failures are outcomes, not errors:
     * the workflow owns retries.
     */
    async attemptDelivery(input: AttemptDeliveryInput): Promise<DeliveryOutcome> {
      const outcome = await heartbeating(() => attemptOnce(input));
      count(input, outcome);
      return outcome;
    },
  };
}
