import type { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';

// What a Temporal namespace needs before the API and the worker run on it: the namespace, its retention (the
// idempotency window) and the search attributes the message log and the support desk query. Idempotent: every deploy
// runs it (the Helm chart's Job, the compose file's setup service, `npm run start:cluster`).

const ALREADY_EXISTS = 6;
const NOT_FOUND = 5;
const code = (err: unknown) => (err as { code?: number }).code;

/**
 * Sets a namespace's retention, the idempotency window: how long a closed workflow (a delivered document) is kept,
 * and with it, how long its id starts nothing. A namespace made before (a data directory reused) is updated.
 */
export async function ensureRetention(connection: Connection, namespace: string, retentionMs: number) {
  const { config } = await connection.workflowService.describeNamespace({ namespace });
  await updateRetention(connection, namespace, retentionMs, config?.workflowExecutionRetentionTtl?.seconds);
}

async function updateRetention(connection: Connection, namespace: string, retentionMs: number, seconds: unknown) {
  if (Number(seconds ?? 0) * 1000 === retentionMs) return; // seconds: a Long or a number
  await connection.workflowService.updateNamespace({
    namespace,
    config: { workflowExecutionRetentionTtl: msToTs(retentionMs) },
  });
}

/**
 * One pass of the setup; a namespace just registered may refuse its search attributes for a few seconds, so callers
 * retry the whole pass. A namespace that exists is not registered again (Temporal Cloud's are made in its console, and
 * an API key may not register one).
 */
export async function setUpNamespace(connection: Connection, namespace: string, retentionMs: number): Promise<void> {
  const described = await connection.workflowService.describeNamespace({ namespace }).catch((err) => {
    if (code(err) === NOT_FOUND) return undefined;
    throw err;
  });
  if (described) {
    const seconds = described.config?.workflowExecutionRetentionTtl?.seconds;
    await updateRetention(connection, namespace, retentionMs, seconds);
  } else {
    // Registered with its retention (one made by another setup meanwhile is taken as it is, retention and all).
    await connection.workflowService
      .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(retentionMs) })
      .catch((err) => {
        if (code(err) !== ALREADY_EXISTS) throw err;
      });
  }
  // One at a time: a cluster made before an attribute existed has the others, and a batch naming one that exists is
  // refused whole.
  for (const { name, type } of SEARCH_ATTRIBUTES) {
    await connection.operatorService
      .addSearchAttributes({ namespace, searchAttributes: { [name]: encodeSearchAttributeIndexedValueType(type)! } })
      .catch((err) => {
        if (code(err) !== ALREADY_EXISTS) throw err;
      });
  }
  // A query naming them: visibility knows them now.
  await connection.workflowService.countWorkflowExecutions({ namespace, query: 'DeliveryStatus = "pending"' });
}
