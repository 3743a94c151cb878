import type { Client } from '@temporalio/client';
import type { DocumentType, Environment } from '../domain/schemas';
import type { PendingObject, PendingStore } from './store';

/** One listing's worth of keys: a prefix this small is counted from the bucket itself. */
export const COUNTED_FROM_LISTING = 1000;

export interface PendingCounts {
  events: number;
  summaries: number;
  /** The oldest pending documents, up to COUNTED_FROM_LISTING, in the order they became pending. */
  oldest: PendingObject[];
  /** Where the counts come from: the one listing (exact), or Temporal's visibility (seconds behind the bucket). */
  source: 'listing' | 'visibility';
}

/** The visibility query for a customer's documents of one type that wait in the bucket. */
export function pendingQuery(environment: Environment, customerId: string, type: DocumentType): string {
  // Ids are letters, digits, '.', '_' and '-' (IdSchema): nothing to escape inside the quotes.
  return [
    `WorkflowType = 'deliverDocument'`,
    `ExecutionStatus = 'Running'`,
    `Environment = '${environment}'`,
    `CustomerId = '${customerId}'`,
    `DeliveryStatus = 'pending'`,
    `DocumentType = '${type}'`,
  ].join(' AND ');
}

/**
 * How many documents a customer has pending, at one S3 request whatever the bucket holds. S3 cannot count a prefix
 * without listing all of it (1,000 keys a request: 100 requests at 100,000 documents), so a prefix that fits in one
 * listing is counted from that listing, and a larger one by Temporal's visibility: each document's workflow carries
 * `DeliveryStatus = pending` while its object is in the bucket (set after the PUT, changed after the DELETE).
 */
export function createPendingCounter({ store, client }: { store: PendingStore; client: Client }) {
  return {
    async count(environment: Environment, customerId: string): Promise<PendingCounts> {
      let oldest: PendingObject[] = [];
      // The first listing only: the generator is left at its first page.
      for await (const page of store.pages(environment, customerId, { pageSize: COUNTED_FROM_LISTING })) {
        oldest = page;
        break;
      }
      if (oldest.length < COUNTED_FROM_LISTING) {
        const events = oldest.filter((object) => object.type === 'event').length;
        return { events, summaries: oldest.length - events, oldest, source: 'listing' };
      }
      const [events, summaries] = await Promise.all(
        (['event', 'summary'] as const).map(
          async (type) => (await client.workflow.count(pendingQuery(environment, customerId, type))).count,
        ),
      );
      return { events, summaries, oldest, source: 'visibility' };
    },
  };
}

export type PendingCounter = ReturnType<typeof createPendingCounter>;
