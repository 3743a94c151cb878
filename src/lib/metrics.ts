import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ENVIRONMENTS } from '../domain/environments';
import type { Attempt } from '../domain/schemas';
import type { SendGuards } from './send-guards';

// The product's Prometheus metrics (docs/operations.md, "Metrics"). Labelled by environment and outcome, never by
// customer or document id: a label per customer would make one series per customer. Each process has its own registry,
// served at GET /metrics by the API and by the worker's metrics listener.

/** What became of one attempt. `not_sent`: refused before any request (no URL configured, a private address). */
export type AttemptOutcome =
  'delivered' | 'gone' | 'http_4xx' | 'http_5xx' | 'http_other' | 'timeout' | 'network' | 'not_sent';

export function attemptOutcome(attempt: Attempt): AttemptOutcome {
  const status = attempt.responseStatusCode;
  if (status !== undefined) {
    if (status >= 200 && status < 300) return 'delivered';
    if (status === 410) return 'gone';
    if (status >= 400 && status < 500) return 'http_4xx';
    if (status >= 500) return 'http_5xx';
    return 'http_other';
  }
  if (attempt.error?.startsWith('timeout')) return 'timeout';
  if (!attempt.url || attempt.error?.startsWith('EPRIVATEADDRESS')) return 'not_sent';
  return 'network';
}

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]) =>
    new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });

  const metrics = {
    registry,
    documentsSubmitted: counter(
      'webhook_documents_submitted_total',
      'Documents accepted for delivery (repeats of an id not counted)',
      ['environment'],
    ),
    attempts: counter('webhook_delivery_attempts_total', 'Delivery attempts by outcome', [
      'environment',
      'outcome',
      'trigger',
    ]),
    attemptDuration: histogram(
      'webhook_delivery_attempt_duration_seconds',
      'From the request to the answer (or the error) of an attempt',
      ['environment', 'outcome'],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
    ),
    attemptsSkipped: counter(
      'webhook_delivery_attempts_skipped_total',
      'Scheduled attempts not sent (the schedule went on): the circuit breaker was open, or the share stayed full',
      ['environment', 'reason'],
    ),
    shareWaits: counter(
      'webhook_endpoint_share_waits_total',
      "Attempts that found their endpoint's requests in flight at its limit and waited on a timer",
      ['environment'],
    ),
    routings: counter(
      'webhook_document_routings_total',
      'First attempts of documents whose customer routes them (several endpoints, or a filter on the first): ' +
        '`fanned_out` to the first endpoint and others, `routed` to others only, `unrouted` to none (kept to pull)',
      ['environment', 'outcome'],
    ),
    fanOutDeliveries: counter(
      'webhook_fanout_deliveries_total',
      "Deliveries to endpoints other than the first that documents' first attempts started",
      ['environment'],
    ),
    documentsArchived: counter('webhook_documents_archived_total', 'Documents stored in the bucket as pending', [
      'environment',
    ]),
    documentsAcknowledged: counter(
      'webhook_documents_acknowledged_total',
      'Pending documents acknowledged by the customer',
      ['environment'],
    ),
    documentsExpired: counter(
      'webhook_documents_expired_total',
      'Pending documents past retention, moved to the cold store',
      ['environment'],
    ),
    bodiesStored: counter(
      'webhook_document_bodies_stored_total',
      'Documents larger than CLAIM_CHECK_BYTES whose body was stored once at submit (the claim check)',
      ['environment'],
    ),
    bodiesSwept: counter(
      'webhook_document_bodies_swept_total',
      "Large documents' stored bodies removed by the sweep once past their keep time",
      ['environment'],
    ),
    documentsRestored: counter(
      'webhook_documents_restored_total',
      'Expired documents restored as pending by an operator',
      ['environment'],
    ),
    suspensions: counter(
      'webhook_endpoint_suspensions_total',
      'Endpoints suspended: failing (retries exhausted, 410) or manual',
      ['environment', 'kind'],
    ),
    reactivations: counter(
      'webhook_endpoint_reactivations_total',
      'Suspended endpoints made active: by the customer, or recovered by a probe',
      ['environment', 'by'],
    ),
    notifications: counter(
      'webhook_notifications_total',
      'Pending-document notifications, sent or given up after their retries',
      ['environment', 'outcome'],
    ),
    apiRequests: counter('webhook_api_requests_total', 'API requests by route and answer', [
      'method',
      'route',
      'status',
    ]),
    apiDuration: histogram(
      'webhook_api_request_duration_seconds',
      'API request handling time',
      ['method', 'route'],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    ),
  };
  // Every environment's series exists from the start at 0, so a rate() over a fresh process is defined.
  for (const environment of ENVIRONMENTS) {
    for (const c of [
      metrics.documentsSubmitted,
      metrics.documentsArchived,
      metrics.documentsAcknowledged,
      metrics.documentsExpired,
      metrics.documentsRestored,
      metrics.bodiesStored,
      metrics.bodiesSwept,
    ]) {
      c.labels({ environment }).inc(0);
    }
    metrics.shareWaits.labels({ environment }).inc(0);
    metrics.fanOutDeliveries.labels({ environment }).inc(0);
    for (const outcome of ROUTINGS) metrics.routings.labels({ environment, outcome }).inc(0);
    for (const reason of ['breaker_open', 'share_full']) metrics.attemptsSkipped.labels({ environment, reason }).inc(0);
  }
  return metrics;
}
export type Metrics = ReturnType<typeof createMetrics>;

const ROUTINGS = ['fanned_out', 'routed', 'unrouted'] as const;

/** Where a routed document went, as `webhook_document_routings_total` counts it. */
export function routingOutcome(routes: { others: string[]; first: boolean }): (typeof ROUTINGS)[number] {
  if (routes.others.length === 0) return 'unrouted';
  return routes.first ? 'fanned_out' : 'routed';
}

/** Gauges read from this process's send guards when scraped: requests in flight by kind, breakers open. */
export function registerSendGauges(registry: Registry, guards: SendGuards): void {
  new Gauge({
    name: 'webhook_requests_in_flight',
    help: 'Requests to customers (delivery, notification) and the operator now waiting for their answer',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const kind of ['delivery', 'notification', 'operator'])
        this.set({ kind }, guards.shares.inFlight().get(kind) ?? 0);
    },
  });
  new Gauge({
    name: 'webhook_worker_processes',
    help: "Worker processes this one divides each endpoint's in-flight limit with (itself included)",
    registers: [registry],
    collect() {
      this.set(guards.shares.workerCount());
    },
  });
  new Gauge({
    name: 'webhook_circuit_breakers_open',
    help: 'Endpoint URLs whose circuit breaker is open or half open in this process',
    registers: [registry],
    collect() {
      this.set(guards.breakers.openCount());
    },
  });
}

/** The Prometheus text of a registry, followed by more (the Temporal SDK's own, read from its exporter) if given. */
export async function metricsText(registry: Registry, more?: () => Promise<string>): Promise<string> {
  const own = await registry.metrics();
  if (!more) return own;
  try {
    return `${own}\n${await more()}`;
  } catch {
    return own;
  }
}
