// Zod-free on purpose: workflow code imports this (see environments.ts).
import type { Environment } from './environments';
import { fitWorkflowId } from './ids';

/**
 * Operational webhooks for the platform operator (OPERATOR_WEBHOOK_URL), in the shape Svix uses for its own:
 * `{ type, timestamp, data }`, signed like every delivery (Standard Webhooks) with OPERATOR_WEBHOOK_SECRET.
 */
type OperatorEventType =
  | 'endpoint.suspended'
  | 'endpoint.recovered'
  | 'endpoint.reactivated'
  | 'document.exhausted'
  | 'document.expired'
  | 'restore.completed';

export interface OperatorEvent {
  /** Unique per event and stable across retries of its producer: the `webhook-id` receivers deduplicate on. */
  id: string;
  type: OperatorEventType;
  timestamp: string;
  data: {
    customerId: string;
    environment: Environment;
    documentId?: string;
    documentIds?: string[];
    reason?: string;
    lastError?: string;
    count?: number;
    /** restore.completed: the job, whose billing records list the documents restored. */
    restoreId?: string;
  };
}

/**
 * How every operator event starts, whoever starts it (the entity's outbox as a child, an activity by the client): one
 * workflow per event id, so a producer retried does not send it twice, under the operator's own fairness key, so a
 * burst of events queues beside the customers' work, not in front of it. An event id can be longer than the engine
 * takes (a document's event holds a customer, an endpoint and a document id): its workflow id is then shortened,
 * the same way each time; the event keeps its whole id.
 */
export function operatorEventStart(event: OperatorEvent) {
  return {
    workflowId: fitWorkflowId(`operator-event:${event.id}`),
    args: [event] as [OperatorEvent],
    priority: { fairnessKey: 'operator' },
  };
}
