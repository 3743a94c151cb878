import { ApplicationFailure } from '@temporalio/workflow';
import { isSigningSecret } from '../../domain/secrets';
import { parseRetrySchedule } from '../../domain/schedule';
import type { EndpointState } from '../../domain/schemas';
import type { ConfigureEndpointInput } from '../messages';

const HTTP_URL = /^https?:\/\/[^\s/]+/i;

/** Rejects a bad configuration before it enters history; the API validates the same fields with zod first. */
export function validateConfiguration(input: ConfigureEndpointInput): void {
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

/** A configuration applied to the endpoint's state: by configureEndpoint, and to a new endpoint's first state. */
export function applyConfiguration(state: EndpointState, config: ConfigureEndpointInput): void {
  state.url = config.url;
  state.notificationUrl = config.notificationUrl ?? undefined;
  state.suspensionEmail = config.suspensionEmail ?? undefined;
  state.retrySchedule = config.retrySchedule ?? undefined;
  state.rateLimit = config.rateLimit ?? undefined;
  state.maxInFlight = config.maxInFlight ?? undefined;
  if (!config.keepHeaders) state.headers = config.headers ?? undefined;
  state.secret ??= config.newSecret;
}
