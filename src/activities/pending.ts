import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Metrics } from '../lib/metrics';
import type { DocumentInput, Environment } from '../domain/schemas';
import type { PendingObject, PendingStore, StoredDocument } from '../pending/store';
import type { EndpointReader } from './deliver';
import { emitOperatorEvent } from './operator';

export interface ArchiveDocumentInput {
  document: DocumentInput;
  /** Chosen by the workflow, so a retried activity writes the same key instead of a second object. */
  pendingSince: string;
}

export interface ArchivedDocument extends StoredDocument {
  /** The endpoint was active once the document was stored: no replay will come for it, it redelivers itself. */
  endpointActive: boolean;
  /** No notification window is open: the entity must be told that documents arrived. */
  announce: boolean;
}

interface Where {
  environment: Environment;
  customerId: string;
  /** A key tail: only documents after it are read. */
  after?: string;
}

export interface PendingSummary {
  pending: { events: number; summaries: number };
  documentIds: string[];
  oldestExpiresAt: string | null;
}

/** A notification lists at most this many ids; the counts cover everything pending. */
const NOTIFICATION_MAX_IDS = 1000;

/**
 * Walks a customer's prefix a page at a time, heartbeating the fold so far: a scan of a very large prefix is never cut
 * off by a timeout, and a retried activity resumes where the last one got to instead of starting over.
 */
async function scan<T extends { after?: string }>(
  store: PendingStore,
  where: Where,
  initial: T,
  fold: (acc: T, page: PendingObject[]) => boolean | void,
): Promise<T> {
  const resumed = Context.current().info.heartbeatDetails as T | undefined;
  const acc = resumed ?? { ...initial, after: initial.after ?? where.after };
  for await (const page of store.pages(where.environment, where.customerId, { after: acc.after })) {
    const stop = fold(acc, page) === false;
    if (page.length > 0 && !stop) acc.after = page.at(-1)!.tail;
    Context.current().heartbeat(acc);
    if (stop) break;
  }
  return acc;
}

/** The bucket's side of a document's life: stored, expired to the cold store, removed; and the entity's reads. */
export function createPendingActivities(deps: {
  store: PendingStore;
  endpoints: EndpointReader;
  config: Config;
  metrics: Metrics;
  client: Client;
}) {
  const { store, endpoints, config, metrics, client } = deps;

  return {
    /** Stores the document, as the customer would have received it, in its environment's bucket. */
    async archiveDocument({ document, pendingSince }: ArchiveDocumentInput): Promise<ArchivedDocument> {
      const stored = await store.put(document, pendingSince);
      // A restored document is counted by the restore (the API), not as a new arrival.
      if (!document.restoredFrom) metrics.documentsArchived.inc({ environment: document.environment });
      // Read after the write: a reactivation or notification window that began before this read finds the object
      // when it reads the bucket; one that began after is seen here.
      const endpoint = await endpoints.get(document.environment, document.customerId);
      return { ...stored, endpointActive: endpoint?.status === 'active', announce: !endpoint?.arrivalsAnnounced };
    },

    /** Moves an expired document to the cold store, where an operator can still restore it. */
    async expireDocument(input: { document: DocumentInput; stored: StoredDocument }): Promise<{ coldKey?: string }> {
      const coldKey = await store.moveToCold(input.document, input.stored);
      const { document } = input;
      metrics.documentsExpired.inc({ environment: document.environment });
      await emitOperatorEvent(client, config, {
        id: `op_document.expired_${document.environment}_${document.customerId}_${document.id}_${input.stored.expiresAt}`,
        type: 'document.expired',
        timestamp: new Date().toISOString(),
        data: { customerId: document.customerId, environment: document.environment, documentId: document.id },
      });
      return { coldKey };
    },

    async deleteArchivedDocument({ environment, objectKey }: { environment: Environment; objectKey: string }) {
      await store.remove(environment, objectKey);
    },

    /** The oldest document after `after`, if any: where the reminder loop looks next. */
    async firstPending(input: Where): Promise<{ tail: string; expiresAt: string } | null> {
      for await (const page of store.pages(input.environment, input.customerId, { after: input.after, pageSize: 1 })) {
        if (page[0]) return { tail: page[0].tail, expiresAt: page[0].expiresAt };
      }
      return null;
    },

    /** The newest document after `after`, if any arrived: what a notification window looks for. */
    async newestPending(input: Where): Promise<string | null> {
      const { after } = await scan(store, input, { after: input.after }, () => undefined);
      return after !== input.after ? (after ?? null) : null;
    },

    /** The last document after `after` whose expiry is before `dueBy`: how far a reminder reaches. */
    async lastDuePending(input: Where & { dueBy: string }): Promise<string | null> {
      const { last } = await scan(store, input, { after: input.after, last: null as string | null }, (acc, page) => {
        for (const object of page) {
          // Keys sort by when documents became pending, and so by expiry: the first one not due ends the scan.
          if (object.expiresAt > input.dueBy) return false;
          acc.last = object.tail;
        }
      });
      return last;
    },

    /** What a notification tells the customer: counts by type, the first ids (oldest first), the earliest expiry. */
    async summarizePending(input: Omit<Where, 'after'>): Promise<PendingSummary> {
      const initial = {
        after: undefined as string | undefined,
        events: 0,
        summaries: 0,
        ids: [] as string[],
        oldest: null as string | null,
      };
      const acc = await scan(store, input, initial, (acc, page) => {
        for (const object of page) {
          if (object.type === 'event') acc.events += 1;
          else acc.summaries += 1;
          if (acc.ids.length < NOTIFICATION_MAX_IDS) acc.ids.push(object.id);
          if (!acc.oldest || object.expiresAt < acc.oldest) acc.oldest = object.expiresAt;
        }
      });
      return {
        pending: { events: acc.events, summaries: acc.summaries },
        documentIds: acc.ids,
        oldestExpiresAt: acc.oldest,
      };
    },

    /**
     * Removes cold copies past COLD_RETENTION, measured from `now` (the sweeping workflow's clock). The bucket's
     * lifecycle rule does this where S3 has one; the sweep covers servers without (versitygw).
     */
    async sweepColdStore({ environment, now }: { environment: Environment; now: string }): Promise<number> {
      const cutoff = new Date(Date.parse(now) - config.COLD_RETENTION);
      const after = Context.current().info.heartbeatDetails as string | undefined;
      return store.sweepCold(environment, { cutoff, after, progress: (key) => Context.current().heartbeat(key) });
    },
  };
}
