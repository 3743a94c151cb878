import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { EndpointState } from '../domain/schemas';
import { parseRetrySchedule } from '../domain/schedule';
import {
  configureEndpointUpdate,
  endpointStateQuery,
  retriesExhaustedSignal,
  type ConfigureEndpointInput,
} from './messages';

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
 * One entity per customer and environment: the webhook configuration, the customer's API key hash for that
 * environment and the endpoint's delivery state. It runs for the life of the customer.
 */
export async function endpointEntity(initial: EndpointState): Promise<void> {
  const state: EndpointState = { ...initial };
  // The state is mirrored into the memo, which DescribeWorkflowExecution serves without involving a worker: every
  // delivery attempt and API request reads the endpoint, and queries on one entity would be answered one at a time.
  const publish = () => upsertMemo({ endpoint: state });
  publish();

  setHandler(endpointStateQuery, () => state);

  setHandler(
    configureEndpointUpdate,
    (input) => {
      state.url = input.url;
      state.notificationUrl = input.notificationUrl ?? undefined;
      state.suspensionEmail = input.suspensionEmail ?? undefined;
      state.retrySchedule = input.retrySchedule ?? undefined;
      state.secret ??= input.newSecret;
      state.updatedAt = new Date().toISOString();
      publish();
      return state;
    },
    { validator: validateConfiguration },
  );

  setHandler(retriesExhaustedSignal, (input) => {
    state.retriesExhausted += 1;
    state.lastError = input.lastError;
    state.updatedAt = input.at;
    publish();
  });

  // Continue-as-new keeps history small for an entity that lives for years.
  await condition(() => workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof endpointEntity>(state);
}
