import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Config } from '../config';
import { deliveryWorkflowId, endpointWorkflowId, queueOf } from '../domain/ids';
import type { Environment } from '../domain/schemas';
import { startDocumentWorkflow } from '../lib/document-start';
import type { Metrics } from '../lib/metrics';
import type { BodyStore } from '../bucket/bodies';
import type { DocumentWithData } from '../domain/delivery-body';
import type { ColdStore, RestorePageRecord } from '../bucket/cold';
import { documentsArrivedSignal } from '../workflows/messages';
import type { RestoreProgress } from '../workflows/restore';
import { heartbeating } from './heartbeat';
import { emitOperatorEvent } from './operator';

export interface RestorePageInput {
  restoreId: string;
  environment: Environment;
  customerId: string;
  /** Another endpoint's cold store and deliveries (absent: the first endpoint's, as before several endpoints). */
  endpointId?: string;
  /** This page's number in the job: its billing record's key. */
  page: number;
  /** The cold key the page lists after (none: from the start). */
  after?: string;
  /** Restore these ids (this page's share of the request's), instead of listing the cold store. */
  ids?: string[];
  /** Only documents moved to the cold store at or after this. */
  since?: string;
  /** Documents to list at most (the page size, or what is left of the request's cap). */
  limit: number;
}

export interface RestorePageResult {
  restored: number;
  skipped: number;
  after?: string;
  /** The cold store goes on after this page. */
  more: boolean;
}

/** Documents of a page started at once. */
const STARTS_AT_ONCE = 10;

/**
 * A restore job's steps (src/workflows/restore.ts). A page plans, then restores, then completes its billing record;
 * run again after a crash, it finds its plan and finishes the same documents, so none is restored or billed twice.
 */
export function createRestoreActivities(deps: {
  client: Client;
  coldStore: ColdStore;
  bodies: BodyStore;
  config: Config;
  metrics: Metrics;
}) {
  const { client, coldStore, bodies, config, metrics } = deps;

  /** The document's workflow runs (or ran) as this restore started it: its memo says so. */
  async function startedBy(input: RestorePageInput, id: string): Promise<boolean> {
    try {
      const description = await client.workflow
        .getHandle(deliveryWorkflowId(input.environment, input.customerId, id, input.endpointId))
        .describe();
      return description.memo?.restoreId === input.restoreId;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  /** Brings one document back as pending in a new run of its workflow; false when there was nothing to bring back. */
  async function restoreOne(input: RestorePageInput, candidate: { key: string; id: string }): Promise<boolean> {
    const stored = await coldStore.read(input.environment, candidate.key);
    // Gone from the cold store: this restore brought it back in an earlier try of this page, or nobody can.
    if (!stored) return startedBy(input, candidate.id);
    const document: DocumentWithData = {
      ...stored,
      customerId: input.customerId,
      environment: input.environment,
      restoredFrom: candidate.key,
      ...(input.endpointId ? { endpointId: input.endpointId } : {}),
    };
    // A large one travels by key, as it did when it was submitted (bucket/bodies.ts).
    const bodyKey = bodies.isLarge(document) ? await bodies.put(document, Date.now()) : undefined;
    try {
      // The ended run's id is reused: a new run takes its place and brings the copy back.
      await startDocumentWorkflow(
        { client, config },
        bodyKey ? { ...document, data: undefined, bodyKey } : document,
        'pending',
        {
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          memo: { restoreId: input.restoreId },
        },
      );
      return true;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // Running: started by an earlier try of this page, or by someone else (pending again, expiring right now).
      return startedBy(input, candidate.id);
    }
  }

  /** The page's plan: the one an earlier try wrote, or a fresh listing (written before anything is restored). */
  async function planOf(input: RestorePageInput): Promise<RestorePageRecord> {
    const planned = await coldStore.readRestorePage(input.environment, input.customerId, input.restoreId, input.page);
    if (planned) return planned;
    let candidates: { key: string; id: string }[];
    let after = input.after;
    let more = false;
    if (input.ids) {
      candidates = input.ids.map((id) => ({
        id,
        key: coldStore.keyOf(queueOf(input.customerId, input.endpointId), id),
      }));
    } else {
      const queue = queueOf(input.customerId, input.endpointId);
      const listed = await coldStore.page(input.environment, queue, { after, limit: input.limit });
      candidates = listed.objects
        .filter((object) => !input.since || !object.at || object.at >= input.since)
        .map(({ key, id }) => ({ key, id }));
      after = listed.last ?? after;
      more = listed.more;
    }
    const plan: RestorePageRecord = {
      by: 'operator',
      restoreId: input.restoreId,
      environment: input.environment,
      customerId: input.customerId,
      page: input.page,
      at: new Date().toISOString(),
      candidates,
      after,
      more,
      complete: false,
      restored: [],
      skipped: [],
    };
    await coldStore.writeRestorePage(plan);
    return plan;
  }

  return {
    /** Tells the operator a restore job is done (its billing records list the documents, page by page). */
    async announceRestore(progress: RestoreProgress): Promise<void> {
      const at = progress.completedAt ?? new Date().toISOString();
      await emitOperatorEvent(client, config, {
        id: `op_restore.completed_${progress.environment}_${progress.customerId}_${progress.restoreId}`,
        type: 'restore.completed',
        timestamp: at,
        data: {
          customerId: progress.customerId,
          environment: progress.environment,
          count: progress.restored,
          restoreId: progress.restoreId,
        },
      });
    },

    /** One page of a restore job: plans it, restores its documents (a few at a time), completes its record. */
    async restorePage(input: RestorePageInput): Promise<RestorePageResult> {
      return heartbeating(async () => {
        const plan = await planOf(input);
        if (!plan.complete) {
          const outcomes = new Map<string, boolean>();
          let next = 0;
          await Promise.all(
            Array.from({ length: STARTS_AT_ONCE }, async () => {
              while (next < plan.candidates.length) {
                const candidate = plan.candidates[next++];
                outcomes.set(candidate.id, await restoreOne(input, candidate));
                Context.current().heartbeat();
              }
            }),
          );
          plan.restored = plan.candidates.filter(({ id }) => outcomes.get(id)).map(({ id }) => id);
          plan.skipped = plan.candidates.filter(({ id }) => !outcomes.get(id)).map(({ id }) => id);
          plan.complete = true;
          plan.at = new Date().toISOString();
          await coldStore.writeRestorePage(plan);
          metrics.documentsRestored.inc({ environment: input.environment }, plan.restored.length);
          // The restored documents wait for the customer; the entity tells them in its next notification.
          if (plan.restored.length > 0) {
            await client.workflow
              .getHandle(endpointWorkflowId(input.environment, input.customerId, input.endpointId))
              .signal(documentsArrivedSignal)
              .catch((err: unknown) => {
                if (!(err instanceof WorkflowNotFoundError)) throw err;
              });
          }
        }
        return { restored: plan.restored.length, skipped: plan.skipped.length, after: plan.after, more: plan.more };
      });
    },
  };
}
