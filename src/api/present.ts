import type { Config } from '../config';
import type { EndpointView } from './service/endpoints';
import type { DocumentResponse, EndpointResponse, WebhookResponse } from './responses';
import { attemptCount } from '../domain/attempt-log';
import { FIRST_ENDPOINT_ID } from '../domain/ids';
import type { DocumentState, EndpointState } from '../domain/schemas';
import { formatRetrySchedule, retryScheduleOr } from '../domain/schedule';
import { AppError } from './errors';

// What customers see: the secret only when they set the webhook, never the key hash, a header's value or internal
// fields.

/** A deleted endpoint is never shown: one deleted while it was being read is not found. */
function shownStatus(endpoint: EndpointState): 'active' | 'suspended' {
  if (endpoint.status === 'deleted') throw AppError.notFound(`endpoint ${endpoint.endpointId}`);
  return endpoint.status;
}

/** `pendingCount` is read from the bucket: the entity keeps no list of pending documents. */
export function presentWebhook(
  endpoint: EndpointState,
  pendingCount: number,
  config: Config,
  withSecret = false,
): WebhookResponse {
  const schedule = retryScheduleOr(endpoint.retrySchedule, config.retrySchedules[endpoint.environment]);
  return {
    url: endpoint.url ?? null,
    notificationUrl: endpoint.notificationUrl ?? null,
    suspensionEmail: endpoint.suspensionEmail ?? null,
    status: shownStatus(endpoint),
    suspendedAt: endpoint.suspension?.at,
    suspensionReason: endpoint.suspension?.reason,
    lastError: endpoint.lastError,
    pendingCount,
    retrySchedule: formatRetrySchedule(schedule),
    rateLimit: endpoint.rateLimit ?? null,
    maxInFlight: endpoint.maxInFlight ?? null,
    // Their values carry receivers' credentials: sealed in the entity, never shown (as Svix shows sensitive headers).
    headerNames: Object.keys(endpoint.headers ?? {}),
    previousSecretExpiresAt: endpoint.previousSecret?.expiresAt,
    ...(withSecret ? { secret: endpoint.secret } : {}),
  };
}

/** A document; one that went to several endpoints lists each delivery (`endpoints`), the first endpoint's first. */
export function presentDocument(
  state: DocumentState & { deliveries?: (DocumentState & { endpointId: string })[] },
): DocumentResponse {
  const delivery = (pair: DocumentState, endpointId: string) => ({
    endpointId,
    status: pair.status,
    attempts: pair.attempts.map(({ url: _url, ...attempt }) => attempt),
    attemptCount: attemptCount(pair),
    nextAttemptAt: pair.nextAttemptAt,
    pendingSince: pair.pendingSince,
    expiresAt: pair.expiresAt,
  });
  const endpoints = state.deliveries && [
    ...(state.status === 'routed' ? [] : [delivery(state, FIRST_ENDPOINT_ID)]),
    ...state.deliveries.map((pair) => delivery(pair, pair.endpointId)),
  ];
  return {
    ...(endpoints ? { endpoints } : {}),
    id: state.id,
    type: state.type,
    eventType: state.eventType,
    status: state.status,
    createdAt: state.createdAt,
    attempts: state.attempts.map(({ url: _url, ...attempt }) => attempt),
    attemptCount: attemptCount(state),
    attemptsOmitted: state.attemptsOmitted ?? 0,
    nextAttemptAt: state.nextAttemptAt,
    pendingSince: state.pendingSince,
    expiresAt: state.expiresAt,
  };
}

/** One of the customer's endpoints: the webhook's fields, its id and its route. */
export function presentEndpoint(view: EndpointView, config: Config, withSecret = false): EndpointResponse {
  return {
    id: view.id,
    ...presentWebhook(view.state, view.pendingCount, config, withSecret),
    description: view.route.description ?? null,
    filterTypes: view.route.filterTypes ?? null,
    kinds: view.route.kinds ?? null,
    createdAt: view.createdAt,
  };
}
