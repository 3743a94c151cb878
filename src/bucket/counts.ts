import type { Client } from '@temporalio/client';
import { otherEndpoint, queueOf } from '../domain/ids';
import { IdSchema, type DocumentType, type Environment } from '../domain/schemas';
import type { PendingObject, PendingQueue } from './queue';

/** One listing's worth of keys: a prefix this small is counted from the bucket itself. */
const COUNTED_FROM_LISTING = 1000;

export interface PendingCounts {
  events: number;
  summaries: number;
  /** The oldest pending documents, up to COUNTED_FROM_LISTING, in the order they became pending. */
  oldest: PendingObject[];
  /** Where the counts come from: the one listing (exact), or Temporal's visibility (seconds behind the bucket). */
  source: 'listing' | 'visibility';
}

/** The visibility query for one endpoint's documents of one type that wait in the bucket. */
function pendingQuery(environment: Environment, customerId: string, type: DocumentType, endpointId?: string): string {
  // Ids are letters, digits, '.', '_' and '-' (IdSchema): nothing to escape inside the quotes, and nothing else passes.
  IdSchema.parse(customerId);
  const endpoint = otherEndpoint(endpointId);
  return [
    `WorkflowType = 'deliverDocument'`,
    `ExecutionStatus = 'Running'`,
    `Environment = '${environment}'`,
    `CustomerId = '${customerId}'`,
    // Deliveries to the first endpoint carry no EndpointId (those from before several endpoints, too).
    endpoint ? `EndpointId = '${IdSchema.parse(endpoint)}'` : `EndpointId IS NULL`,
    `DeliveryStatus = 'pending'`,
    `DocumentType = '${type}'`,
  ].join(' AND ');
}

/**
 * How many documents a customer has pending, at one S3 request whatever the bucket holds. S3 cannot count a prefix
 * without listing all of it (1,000 keys a request: 100 requests at 100,000 documents), so a prefix that fits in one
 * listing is counted from that listing, and a larger one by Temporal's visibility: each document's workflow carries
 * `DeliveryStatus = pending` while its object is in the bucket (set once it is written, a restored document's from
 * its start; changed once it is removed).
 */
export function createPendingCounter({ store, client }: { store: PendingQueue; client: Client }) {
  return {
    async count(environment: Environment, customerId: string, endpointId?: string): Promise<PendingCounts> {
      const { objects: oldest, truncated } = await store.listing(environment, queueOf(customerId, endpointId), {
        pageSize: COUNTED_FROM_LISTING,
      });
      const events = oldest.filter((object) => object.type === 'event').length;
      const listed = { events, summaries: oldest.length - events };
      if (!truncated) return { ...listed, oldest, source: 'listing' };
      // Visibility is seconds behind the bucket: never fewer than the listing itself saw.
      const [eventCount, summaryCount] = await Promise.all(
        (['event', 'summary'] as const).map(
          async (type) => (await client.workflow.count(pendingQuery(environment, customerId, type, endpointId))).count,
        ),
      );
      return {
        events: Math.max(eventCount, listed.events),
        summaries: Math.max(summaryCount, listed.summaries),
        oldest,
        source: 'visibility',
      };
    },
  };
}

export type PendingCounter = ReturnType<typeof createPendingCounter>;
