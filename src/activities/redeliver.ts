import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Config } from '../config';
import { deliveryWorkflowId, endpointWorkflowId, queueOf } from '../domain/ids';
import type { Environment } from '../domain/schemas';
import type { PendingQueue } from '../bucket/queue';
import { heartbeating } from './heartbeat';
import {
  redeliverUpdate,
  reportExhaustedUpdate,
  resendAcceptedUpdate,
  type RedeliverInput,
  type RedeliveryOutcome,
  type RetriesExhaustedInput,
} from '../workflows/messages';

interface Where {
  environment: Environment;
  customerId: string;
  /** Absent for the customer's first endpoint. */
  endpointId?: string;
}

export interface ReplayStepInput extends Where {
  /** The key tail of the last document already handed out by this pass. */
  after?: string;
  reason: 'replay' | 'resend';
  limit: number;
  concurrency: number;
}

export interface ReplayStep {
  /** Where the pass goes on: the tail of the last document handed out (all of them answered). */
  after?: string;
  /** Nothing after `after` was left in the bucket when it was read. */
  done: boolean;
  /** The error of the last redelivery that failed, for the endpoint's `lastError`. */
  lastError?: string;
  /** How many of the documents handed out were delivered, and how many failed (absent in steps recorded before). */
  delivered?: number;
  failed?: number;
  /**
   * A document handed out had to wait for its turn at a rate-limited (or busy) endpoint: the step stopped handing out
   * more, and the pass goes on once the last of them is due (the entity waits on a timer, free to continue as new).
   */
  resumeAt?: string;
}

/** A replay step stops handing out documents after this long, so the entity can continue as new between steps. */
const REPLAY_STEP_BUDGET_MS = 10_000;
/**
 * The entity's side of the protocol, run as activities because a workflow cannot run an Update itself: each one runs
 * Updates on other workflows and returns their answers.
 */
export function createRedeliverActivities(deps: { client: Client; store: PendingQueue; config: Config }) {
  const { client, store } = deps;

  /**
   * An Update awaited from an activity is given up when the activity is cancelled (the worker shutting down): the
   * workflow task it waits for may need this very worker. A retried activity finds the same Update by its id.
   */
  const abortable = <T>(update: () => Promise<T>) =>
    client.withAbortSignal(Context.current().cancellationSignal, update);

  /**
   * Asks a document to attempt now and waits for the outcome. The Update id is tied to this activity, so a retried
   * activity finds the answer of the first try instead of asking for a second attempt.
   */
  async function redeliver(where: Where, documentId: string, request: RedeliverInput): Promise<RedeliveryOutcome> {
    const { info } = Context.current();
    try {
      return await abortable(() =>
        client.workflow
          .getHandle(deliveryWorkflowId(where.environment, where.customerId, documentId, where.endpointId))
          .executeUpdate(redeliverUpdate, {
            args: [request],
            updateId: `${info.workflowExecution?.runId}/${info.activityId}/${documentId}`,
          }),
      );
    } catch (err) {
      // Its workflow has ended, or it is no longer pending (delivered, acknowledged or expired meanwhile).
      if (err instanceof WorkflowNotFoundError || err instanceof WorkflowUpdateFailedError) return { outcome: 'gone' };
      throw err;
    }
  }

  return {
    /** Tells the entity that a document's retries ran out; returns once the suspension is recorded. */
    async reportExhausted(input: Where & { report: RetriesExhaustedInput }): Promise<void> {
      try {
        await abortable(() =>
          client.workflow
            .getHandle(endpointWorkflowId(input.environment, input.customerId, input.endpointId))
            .executeUpdate(reportExhaustedUpdate, {
              args: [input.report],
              updateId: `exhausted/${input.report.documentId}/${input.report.at}`,
            }),
        );
      } catch (err) {
        // No entity (the customer is gone): the document's own fate never depends on the endpoint record.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    },

    /** Tells the entity that a customer's resend reached its suspended receiver; returns once it is recorded. */
    async reportResendAccepted(input: Where & { documentId: string }): Promise<void> {
      try {
        await abortable(() =>
          client.workflow
            .getHandle(endpointWorkflowId(input.environment, input.customerId, input.endpointId))
            .executeUpdate(resendAcceptedUpdate, {
              args: [{ documentId: input.documentId }],
              updateId: `resend-accepted/${input.documentId}/${Context.current().info.workflowExecution?.runId}`,
            }),
        );
      } catch (err) {
        // No entity (the endpoint was removed): the document's own fate never depends on the endpoint record.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    },

    /** Probes a suspended endpoint with its oldest pending document (the next one if that has just gone). */
    async probePending(input: Where & { candidates: number }): Promise<RedeliveryOutcome> {
      return heartbeating(async () => {
        const queue = queueOf(input.customerId, input.endpointId);
        const { items } = await store.page(input.environment, queue, { limit: input.candidates });
        for (const { id } of items) {
          const answer = await redeliver(input, id, { trigger: 'scheduled', reason: 'probe' });
          if (answer.outcome !== 'gone') return answer;
        }
        return { outcome: 'gone' };
      });
    },

    /**
     * One step of a replay pass: redelivers up to `limit` documents after `after`, oldest first, `concurrency` at a
     * time, and returns when all it handed out have answered: been attempted, or queued for their turn (then it hands
     * out no more, so an endpoint's slots are never booked further ahead than `concurrency` documents).
     */
    async replayPending(input: ReplayStepInput): Promise<ReplayStep> {
      return heartbeating(async () => {
        const { items, more } = await store.page(input.environment, queueOf(input.customerId, input.endpointId), {
          after: input.after,
          limit: input.limit,
        });
        // Measured from here, so a slow listing cannot leave a step with no time to hand anything out.
        const started = Date.now();
        let next = 0;
        let lastError: string | undefined;
        let delivered = 0;
        let failed = 0;
        let resumeAt: string | undefined;
        const request: RedeliverInput = { trigger: 'manual', reason: input.reason, answerWhenQueued: true };
        await Promise.all(
          Array.from({ length: input.concurrency }, async () => {
            while (next < items.length && !resumeAt && Date.now() - started < REPLAY_STEP_BUDGET_MS) {
              const answer = await redeliver(input, items[next++].id, request);
              if (answer.outcome === 'delivered') delivered++;
              if (answer.outcome === 'failed') {
                failed++;
                lastError = answer.error;
              }
              if (answer.outcome === 'queued' && answer.at && !(resumeAt && resumeAt > answer.at)) resumeAt = answer.at;
            }
          }),
        );
        return {
          after: next > 0 ? items[next - 1].tail : input.after,
          done: next === items.length && !more,
          lastError,
          delivered,
          failed,
          resumeAt,
        };
      });
    },
  };
}
