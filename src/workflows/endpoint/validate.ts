import { ApplicationFailure } from '@temporalio/workflow';
import { isSigningSecret } from '../../domain/secrets';
import { parseRetrySchedule } from '../../domain/schedule';
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
