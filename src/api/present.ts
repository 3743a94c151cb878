import type { Config } from '../config';
import type { DocumentResponse, WebhookResponse } from './responses';
import { attemptCount } from '../domain/attempt-log';
import type { DocumentState, EndpointState } from '../domain/schemas';
import { formatRetrySchedule, retryScheduleOr } from '../domain/schedule';

// What customers see: the secret only when they set the webhook, never the key hash or internal fields.

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
    status: endpoint.status,
    suspendedAt: endpoint.suspension?.at,
    suspensionReason: endpoint.suspension?.reason,
    lastError: endpoint.lastError,
    pendingCount,
    retrySchedule: formatRetrySchedule(schedule),
    rateLimit: endpoint.rateLimit ?? null,
    maxInFlight: endpoint.maxInFlight ?? null,
    headers: endpoint.headers ?? {},
    previousSecretExpiresAt: endpoint.previousSecret?.expiresAt,
    ...(withSecret ? { secret: endpoint.secret } : {}),
  };
}

export function presentDocument(state: DocumentState): DocumentResponse {
  return {
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
