import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Metrics } from '../lib/metrics';
import type { DocumentInput, Environment, SubmitDocument } from '../domain/schemas';
import { dataOf, type BodyStore } from '../bucket/bodies';
import type { ColdStore } from '../bucket/cold';
import type { PendingCounter } from '../bucket/counts';
import { positionAt } from '../bucket/keys';
import type { PendingObject, PendingQueue, StoredDocument } from '../bucket/queue';
import { queueOf } from '../domain/ids';
import type { EndpointReader } from './deliver';
import { emitOperatorEvent } from './operator';

export interface ArchiveDocumentInput {
  document: DocumentInput;
  /** When the workflow asked. Not the key's time any more (see archiveDocument); runs still pass it. */
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
  /** Absent for the customer's first endpoint. */
  endpointId?: string;
  /** A key tail: only documents after it are read. */
  after?: string;
}

export interface PendingSummary {
  pending: { events: number; summaries: number };
  documentIds: string[];
  oldestExpiresAt: string | null;
}

/**
 * Walks a customer's prefix a page at a time, heartbeating the fold so far: a scan of a very large prefix is never cut
 * off by a timeout, and a retried activity resumes where the last one got to instead of starting over.
 */
async function scan<T extends { after?: string }>(
  store: PendingQueue,
  where: Where,
  initial: T,
  fold: (acc: T, page: PendingObject[]) => boolean | void,
): Promise<T> {
  const resumed = Context.current().info.heartbeatDetails as T | undefined;
  const acc = resumed ?? { ...initial, after: initial.after ?? where.after };
  for await (const page of store.pages(where.environment, queueOf(where.customerId, where.endpointId), {
    after: acc.after,
  })) {
    const stop = fold(acc, page) === false;
    if (page.length > 0 && !stop) acc.after = page.at(-1)!.tail;
    Context.current().heartbeat(acc);
    if (stop) break;
  }
  return acc;
}

/** How many earlier attempts' keys a write removes once it has succeeded. */
const ARCHIVE_KEYS_REMEMBERED = 10;
/** A first write this close to the workflow's request keeps its time (part of CLOCK_SKEW's margin). */
const KEY_TIME_REUSE = 1_000;

/** S3 answered, or nobody listened: the write cannot have stored anything. */
function refused(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const code =
    (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  return (status !== undefined && status < 500) || status === 503 || code === 'ECONNREFUSED';
}

/** The bucket's side of a document's life: stored, expired to the cold store, removed; and the entity's reads. */
export function createPendingActivities(deps: {
  store: PendingQueue;
  coldStore: ColdStore;
  bodies: BodyStore;
  counter: PendingCounter;
  endpoints: EndpointReader;
  config: Config;
  metrics: Metrics;
  client: Client;
  /** The workflows' clock (the Temporal server's): this process's own unless a test moves it. */
  clock?: () => Promise<number>;
}) {
  const { store, coldStore, bodies, counter, endpoints, config, metrics, client } = deps;
  const clock = deps.clock ?? (async () => Date.now());
  /**
   * A position to remember, short of keys younger than settleMs: a document still being written may land before
   * those (config PENDING_PUT_TIMEOUT). Never behind `after`, where the reader already was.
   */
  const notPastYoungKeys = async (position: string, after?: string): Promise<string> => {
    const settled = positionAt((await clock()) - config.settleMs);
    if (position <= settled) return position;
    return after && after > settled ? after : settled;
  };

  /** What the pending object holds: the document's data, or a large one's stored body. */
  async function dataToStore(document: DocumentInput): Promise<SubmitDocument['data']> {
    const data = await dataOf(bodies, document);
    // Kept longer than any delivery can need it (bucket/bodies.ts bodyKeepMs): retried, and visible, if ever not.
    if (data === undefined) throw new Error(`the body of document ${document.id} is no longer in the bucket`);
    return data;
  }

  return {
    /**
     * Stores the document, as the customer would have received it, in its environment's bucket.
     *
     * The key's time is when the write began, and the write is bounded (PENDING_PUT_TIMEOUT): a write that waited in
     * the task queue, or behind an S3 outage, would otherwise land behind documents stored after it, where
     * notifications, reminders and customers' cursors have already passed (config.settleMs). A first attempt that
     * starts within KEY_TIME_REUSE of the workflow's request keeps the workflow's time, so a retry knows its key
     * without a heartbeat (and so does a retry on a worker from before this rule, which always wrote that key).
     */
    async archiveDocument({ document, pendingSince: asked }: ArchiveDocumentInput): Promise<ArchivedDocument> {
      const { attempt, heartbeatDetails } = Context.current().info;
      const now = await clock();
      const reuse = attempt === 1 && now - Date.parse(asked) <= KEY_TIME_REUSE;
      const pendingSince = reuse ? asked : new Date(now).toISOString();
      const key = store.keyOf(document, pendingSince);
      // Earlier attempts' keys, in case one of them landed after it gave up. An attempt S3 refused outright wrote
      // nothing and is not remembered, so a long outage does not grow this list.
      const earlier = attempt === 1 ? [] : [store.keyOf(document, asked), ...((heartbeatDetails as string[]) ?? [])];
      const others = [...new Set(earlier)].filter((other) => other !== key).slice(-ARCHIVE_KEYS_REMEMBERED);
      if (!reuse) Context.current().heartbeat([...others, key]);
      const data = await dataToStore(document);
      let stored: StoredDocument;
      try {
        stored = await store.put({ ...document, data }, pendingSince);
      } catch (err) {
        if (!reuse && refused(err)) Context.current().heartbeat(others);
        throw err;
      }
      // Removed once no write of theirs can still land (they gave up at PENDING_PUT_TIMEOUT): one object per document.
      for (const other of others) {
        const tail = other.slice(other.lastIndexOf('/') + 1);
        const wait = Date.parse(tail.slice(0, 24)) + config.settleMs - (await clock());
        if (wait > 0) await Context.current().sleep(wait);
        await store.remove(document.environment, other);
      }
      // A restored document is counted by the restore (the API), not as a new arrival.
      if (!document.restoredFrom) metrics.documentsArchived.inc({ environment: document.environment });
      // Read after the write: a reactivation or notification window that began before this read finds the object
      // when it reads the bucket; one that began after is seen here.
      const endpoint = await endpoints.get(document.environment, document.customerId, document.endpointId);
      // A deleted endpoint's entity notifies nobody: nothing to announce.
      const announce = endpoint?.status !== 'deleted' && !endpoint?.arrivalsAnnounced;
      return { ...stored, endpointActive: endpoint?.status === 'active', announce };
    },

    /** Moves an expired document to the cold store, where an operator can still restore it. */
    async expireDocument(input: { document: DocumentInput; stored: StoredDocument }): Promise<{ coldKey?: string }> {
      const coldKey = await coldStore.moveIn(input.document, input.stored);
      const { document } = input;
      metrics.documentsExpired.inc({ environment: document.environment });
      await emitOperatorEvent(client, config, {
        id: `op_document.expired_${document.environment}_${queueOf(document.customerId, document.endpointId)}_${document.id}_${input.stored.expiresAt}`,
        type: 'document.expired',
        timestamp: new Date().toISOString(),
        data: {
          customerId: document.customerId,
          environment: document.environment,
          documentId: document.id,
          ...(document.endpointId ? { endpointId: document.endpointId } : {}),
        },
      });
      return { coldKey };
    },

    async deleteArchivedDocument({ environment, objectKey }: { environment: Environment; objectKey: string }) {
      await store.remove(environment, objectKey);
    },

    /** The oldest document after `after`, if any: where the reminder loop looks next. */
    async firstPending(input: Where): Promise<{ tail: string; expiresAt: string } | null> {
      const queue = queueOf(input.customerId, input.endpointId);
      for await (const page of store.pages(input.environment, queue, { after: input.after, pageSize: 1 })) {
        if (page[0]) return { tail: page[0].tail, expiresAt: page[0].expiresAt };
      }
      return null;
    },

    /** The newest document after `after`, if any arrived: what a notification window looks for. */
    async newestPending(input: Where): Promise<string | null> {
      const { after } = await scan(store, input, { after: input.after }, () => undefined);
      if (after === input.after || !after) return null;
      // A document still being written before `after` announces itself once stored, and is found after this.
      return notPastYoungKeys(after, input.after);
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
      return last && notPastYoungKeys(last, input.after);
    },

    /**
     * What a notification tells the customer: counts by type, the oldest ids (up to 1,000), the earliest expiry. One
     * listing whatever the bucket holds (bucket/counts.ts).
     */
    async summarizePending(input: Omit<Where, 'after'>): Promise<PendingSummary> {
      const { events, summaries, oldest } = await counter.count(input.environment, input.customerId, input.endpointId);
      return {
        pending: { events, summaries },
        documentIds: oldest.map((object) => object.id),
        // Keys sort by when documents became pending; the retention a document got is in its key.
        oldestExpiresAt: oldest.reduce<string | null>(
          (min, o) => (!min || o.expiresAt < min ? o.expiresAt : min),
          null,
        ),
      };
    },

    /**
     * Removes cold copies past COLD_RETENTION, measured from `now` (the sweeping workflow's clock). The bucket's
     * lifecycle rule does this where S3 has one; the sweep covers servers without (versitygw).
     */
    async sweepColdStore({ environment, now }: { environment: Environment; now: string }): Promise<number> {
      const cutoff = new Date(Date.parse(now) - config.COLD_RETENTION);
      let after = Context.current().info.heartbeatDetails as string | undefined;
      const cold = await coldStore.sweep(environment, {
        cutoff,
        after,
        progress: (key) => {
          after = key;
          Context.current().heartbeat(key);
        },
      });
      // Large documents' bodies past their keep time go on the same schedule (where S3 has no lifecycle rules); a
      // retry resumes the cold store where it got to, and the bodies from the oldest still there.
      const removedBodies = await bodies.sweep(environment, new Date(now), undefined, () =>
        Context.current().heartbeat(after),
      );
      if (removedBodies > 0) metrics.bodiesSwept.inc({ environment }, removedBodies);
      return cold;
    },
  };
}
