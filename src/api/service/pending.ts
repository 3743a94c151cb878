import { WorkflowUpdateStage } from '@temporalio/client';
import { deliveryWorkflowId, endpointWorkflowId, queueOf } from '../../domain/ids';
import type { DocumentState, DocumentType, Environment } from '../../domain/schemas';
import { parsePendingKeyTail } from '../../bucket/keys';
import { acknowledgeUpdate, redeliverUpdate, resendPendingUpdate } from '../../workflows/messages';
import { AppError } from '../errors';
import { rethrowTemporal, type TemporalErrorMeaning } from '../temporal-errors';
import type { ServiceContext } from './context';
import type { createDocumentService } from './documents';

// A cursor is the key tail of the last document a page returned: listing resumes after it in the bucket, so pages
// neither repeat nor skip documents while new ones arrive (they sort after everything already pending).
function encodeCursor(tail: string): string {
  return Buffer.from(tail).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const tail = Buffer.from(cursor, 'base64url').toString();
  if (parsePendingKeyTail(tail)) return tail;
  throw new AppError('validation_failed', 'query.cursor: not a cursor this API returned', 400, [
    { path: 'query.cursor', message: 'not a cursor this API returned', code: 'custom' },
  ]);
}

/** A document the caller cannot act on: unknown, or no longer pending (delivered, acknowledged, expired). */
const pendingDocument = (id: string): TemporalErrorMeaning => ({
  notFound: `pending document ${id}`,
  refused: () => AppError.notFound(`pending document ${id}`),
});

/** Pending documents: listed from the bucket; pulled, acknowledged and resent through their workflows. */
export function createPendingService(
  { client, store, counter, metrics, clock }: ServiceContext,
  documents: ReturnType<typeof createDocumentService>,
) {
  const documentHandle = (environment: Environment, customerId: string, id: string, endpointId?: string) =>
    client.workflow.getHandle(deliveryWorkflowId(environment, customerId, id, endpointId));

  /**
   * Attempts a pending document now, even while the endpoint is suspended; 404 unless it is pending. Every function
   * here is about one endpoint's bucket prefix: the first endpoint's without `endpointId`.
   */
  async function resend(environment: Environment, customerId: string, id: string, endpointId?: string): Promise<void> {
    try {
      // Answered once the document has taken the request (its validator checks it is pending), not after the attempt.
      await documentHandle(environment, customerId, id, endpointId).startUpdate(redeliverUpdate, {
        args: [{ trigger: 'manual', reason: 'resend' }],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      });
    } catch (err) {
      rethrowTemporal(err, pendingDocument(id));
    }
  }

  /** The stored document of a delivery whose state was just read (404 unless it is pending). */
  async function pulled(environment: Environment, id: string, state: DocumentState) {
    if (state.status !== 'pending' || !state.objectKey) throw AppError.notFound(`pending document ${id}`);
    // Acknowledged, delivered or expired between the status read and this one: gone.
    const stored = await store.read(environment, state.objectKey);
    if (!stored) throw AppError.notFound(`pending document ${id}`);
    return { id: stored.id, type: stored.type, createdAt: stored.createdAt, data: stored.data };
  }

  return {
    resend,

    /** The customer's pending documents, read from the bucket in the order they became pending. */
    async listPending(
      environment: Environment,
      customerId: string,
      { type, limit, cursor }: { type?: DocumentType; limit: number; cursor?: string },
      endpointId?: string,
    ) {
      const after = cursor ? decodeCursor(cursor) : undefined;
      const queue = queueOf(customerId, endpointId);
      const page = await store.page(environment, queue, { after, limit, type, now: await clock() });
      return {
        data: page.items.map(({ id, type, createdAt, pendingSince, expiresAt }) => ({
          id,
          type,
          createdAt,
          pendingSince,
          expiresAt,
        })),
        // A filtered page may end short, even empty, with a cursor: it read its share of the bucket (store.page).
        nextCursor: page.more && page.next ? encodeCursor(page.next) : null,
      };
    },

    /** The stored document, as the receiver would have got it. */
    async pullPending(environment: Environment, customerId: string, id: string, endpointId?: string) {
      return pulled(environment, id, await documents.getDelivery(environment, customerId, id, endpointId));
    },

    pulled,

    async acknowledge(
      environment: Environment,
      customerId: string,
      id: string,
      endpointId?: string,
    ): Promise<DocumentState> {
      try {
        const handle = documentHandle(environment, customerId, id, endpointId);
        const state = await handle.executeUpdate(acknowledgeUpdate);
        // It expired while the acknowledge was on its way: not pending any more.
        if (state.status === 'expired') throw AppError.notFound(`pending document ${id}`);
        // Delivered by a redelivery already under way is not an acknowledgement.
        if (state.status === 'acknowledged') metrics.documentsAcknowledged.inc({ environment });
        return state;
      } catch (err) {
        rethrowTemporal(err, pendingDocument(id));
      }
    },

    /** Several ids: each is resent now, and the ones not pending are reported. None: the entity resends them all. */
    async resendMany(environment: Environment, customerId: string, ids?: string[], endpointId?: string) {
      if (!ids) {
        const { events, summaries } = await counter.count(environment, customerId, endpointId);
        const entity = client.workflow.getHandle(endpointWorkflowId(environment, customerId, endpointId));
        await entity.executeUpdate(resendPendingUpdate);
        return { count: events + summaries, skipped: [] };
      }
      const skipped: string[] = [];
      for (const id of ids) {
        try {
          await resend(environment, customerId, id, endpointId);
        } catch (err) {
          if (!(err instanceof AppError) || err.httpStatus !== 404) throw err;
          skipped.push(id);
        }
      }
      return { count: ids.length - skipped.length, skipped };
    },
  };
}
