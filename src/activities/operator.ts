import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Dispatcher } from 'undici';
import type { Config } from '../config';
import { operatorEventStart, type OperatorEvent } from '../domain/operator-events';
import { logger } from '../lib/logger';
import { withPlace, type SendGuards } from '../lib/send-guards';
import { postSigned } from './deliver';

/**
 * Starts the workflow that sends an operator event from an activity, as the entity starts one from its outbox (both by
 * operatorEventStart). Best effort: a failure to start is logged and never fails the caller; the same event id started
 * twice is one event.
 */
export async function emitOperatorEvent(client: Client, config: Config, event: OperatorEvent): Promise<void> {
  if (!config.OPERATOR_WEBHOOK_URL) return;
  try {
    // Bounded: with Temporal unreachable the client would retry for long, holding up the caller's real work.
    await client.withDeadline(Date.now() + 5_000, () =>
      client.workflow.start('operatorEvent', { ...operatorEventStart(event), taskQueue: config.TASK_QUEUE }),
    );
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
      logger.warn({ err, type: event.type }, 'operator event not started');
    }
  }
}

/** The operator's endpoint has a share of its own, like a customer's, so a slow one holds no more slots than they do. */
const OPERATOR_SHARE = 'operator';

export function createOperatorActivities(deps: { operatorHttp: Dispatcher; config: Config; guards: SendGuards }) {
  const { operatorHttp: http, config, guards } = deps;
  return {
    /**
     * One signed POST to OPERATOR_WEBHOOK_URL; a non-2xx answer throws so Temporal retries a few times. `busy`: the
     * operator endpoint's requests in flight are at the limit, nothing sent.
     */
    async sendOperatorEvent(event: OperatorEvent): Promise<'sent' | 'not-configured' | 'busy'> {
      const url = config.OPERATOR_WEBHOOK_URL;
      const secret = config.OPERATOR_WEBHOOK_SECRET;
      if (!url || !secret) return 'not-configured';
      const { type, timestamp, data } = event;
      const share = { key: OPERATOR_SHARE, limit: config.ENDPOINT_MAX_IN_FLIGHT, kind: 'operator' as const };
      const response = await withPlace(guards, share, () =>
        postSigned(http, config, {
          url,
          secrets: [secret],
          id: event.id,
          body: JSON.stringify({ type, timestamp, data }),
          now: new Date(),
        }),
      );
      if (response === 'busy') return 'busy';
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw ApplicationFailure.retryable(
          `operator webhook answered HTTP ${response.statusCode}`,
          'OperatorEventFailed',
        );
      }
      return 'sent';
    },
  };
}
