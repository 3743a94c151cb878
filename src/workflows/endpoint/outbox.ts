import { condition, ParentClosePolicy, patched, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { EndpointEmailInput, EndpointSettings } from '../../activities/endpoint';
import { endpointEmailWorkflowId, notificationWorkflowId, queueOf } from '../../domain/ids';
import { operatorEventStart, type OperatorEvent } from '../../domain/operator-events';
import type { EndpointState } from '../../domain/schemas';
import { operatorEvent } from '../operator';
import { endpointEmail } from './email';
import type { EndpointEntity } from './entity';
import { pendingNotification } from './pending-notification';

/** A side effect that leaves the entity's critical path: it runs as its own short workflow, started from here. */
export type OutboxMessage =
  | { kind: 'email'; email: EndpointEmailInput; afterWindow: boolean }
  | { kind: 'notification'; notificationId: string; reminder: boolean }
  | { kind: 'operator'; event: OperatorEvent };

/**
 * Operator events' workflow ids past the engine's limit are shortened (domain/ids.ts, fitWorkflowId). Asked only for
 * such an id: a run that started one whole, on a server that took it (a dev server before it had the limit), replays
 * with that id; on a server with the limit, that start had failed its task and left nothing to replay.
 */
const FIT_OPERATOR_EVENT_IDS = 'fit-operator-event-ids';

function operatorStart(event: OperatorEvent) {
  const start = operatorEventStart(event);
  const whole = `operator-event:${event.id}`;
  return start.workflowId === whole || patched(FIT_OPERATOR_EVENT_IDS) ? start : { ...start, workflowId: whole };
}

/** Starts each queued email or notification as its own workflow; only the start is awaited. */
export async function outboxLoop(entity: EndpointEntity): Promise<void> {
  for (;;) {
    await condition(() => entity.nextRun.outbox.length > 0 || entity.draining());
    while (entity.nextRun.outbox.length > 0) {
      await startMessage(entity.nextRun.outbox[0], entity.state, entity.settings);
      entity.nextRun.outbox.shift();
    }
    if (entity.draining()) return;
  }
}

async function startMessage(message: OutboxMessage, state: EndpointState, settings: EndpointSettings): Promise<void> {
  const { environment, customerId, endpointId } = state;
  // Queued before the endpoint was deleted: the customer hears nothing more about it (the operator's events still go).
  if (state.status === 'deleted' && message.kind !== 'operator') return;
  // The first endpoint's messages keep the ids they had before a customer could have several.
  const queue = queueOf(customerId, endpointId);
  const parentClosePolicy = ParentClosePolicy.ABANDON;
  try {
    if (message.kind === 'operator') {
      await startChild(operatorEvent, { ...operatorStart(message.event), parentClosePolicy });
    } else if (message.kind === 'email') {
      const { email } = message;
      await startChild(endpointEmail, {
        workflowId: endpointEmailWorkflowId(environment, queue, email.kind, email.at),
        parentClosePolicy,
        args: [{ email, delayMs: message.afterWindow ? settings.notificationWindowMs : 0 }],
      });
    } else {
      const { notificationId, reminder } = message;
      await startChild(pendingNotification, {
        workflowId: notificationWorkflowId(environment, queue, notificationId),
        parentClosePolicy,
        args: [{ environment, customerId, ...(endpointId ? { endpointId } : {}), notificationId, reminder }],
      });
    }
  } catch (err) {
    // Started before, by a run that did not get to see it start: it is under way.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
