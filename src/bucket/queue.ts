import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config';
import { deliveryBody, type DocumentWithData } from '../domain/delivery-body';
import type { DocumentInput, Environment, PendingEntry } from '../domain/schemas';
import { queueOf } from '../domain/ids';
import { parsePendingKeyTail, pendingKeyTail, pendingObjectKey, pendingPrefix, positionAt } from './keys';
import { firstPage, listPages } from './listing';
import { documentMetadata, readJson } from './objects';

export interface PendingObject extends PendingEntry {
  /** The key without the customer prefix; listing resumes after it. */
  tail: string;
}

export interface StoredDocument {
  objectKey: string;
  tail: string;
  pendingSince: string;
  expiresAt: string;
}

/** What a stored object holds: the body a receiver would have got. */
export type StoredBody = Pick<DocumentWithData, 'id' | 'type' | 'environment' | 'createdAt' | 'data'>;

/** Listings (1,000 keys each) one filtered page reads at most: 5 requests, whatever the bucket holds. */
export const FILTERED_PAGE_LISTINGS = 5;

/**
 * The pending queue: each endpoint's `pending/` prefix of the bucket (its `queue`: domain/ids.ts queueOf), the only
 * module that writes, lists or reads it. The prefix is the queue of pending documents: the API, notifications, probes and replay all read it here, so no
 * process or workflow has to hold the list. (Expired documents go on to the cold store, cold.ts.)
 */
export function createPendingQueue({ s3, config }: { s3: S3Client; config: Config }) {
  const bucketOf = (environment: Environment) => config.buckets[environment];
  const entryOf = (document: DocumentInput, pendingSince: string): PendingEntry => ({
    id: document.id,
    type: document.type,
    createdAt: document.createdAt,
    pendingSince,
    expiresAt: new Date(Date.parse(pendingSince) + config.retentionMs[document.environment]).toISOString(),
  });

  /** One listing request per page, oldest first, after `after` (a key tail); `pageSize` is what S3 is asked for. */
  async function* listings(
    environment: Environment,
    queue: string,
    { after, pageSize = 1000 }: { after?: string; pageSize?: number } = {},
  ): AsyncGenerator<{ objects: PendingObject[]; truncated: boolean }> {
    const prefix = pendingPrefix(queue);
    const query = {
      Bucket: bucketOf(environment),
      Prefix: prefix,
      MaxKeys: pageSize,
      StartAfter: after && prefix + after,
    };
    for await (const page of listPages(s3, query)) {
      const objects: PendingObject[] = [];
      for (const object of page.objects) {
        const tail = object.Key!.slice(prefix.length);
        const entry = parsePendingKeyTail(tail);
        if (entry) objects.push({ ...entry, tail });
      }
      yield { objects, truncated: page.truncated };
    }
  }

  return {
    /** One listing request: up to `pageSize` (at most 1,000) objects after `after`, and whether more follow. */
    listing: (environment: Environment, queue: string, options?: { after?: string; pageSize?: number }) =>
      firstPage(listings(environment, queue, options)),

    /** The objects of each listing request, as `listing` pages them, until the prefix ends or the caller stops. */
    async *pages(
      environment: Environment,
      queue: string,
      options?: { after?: string; pageSize?: number },
    ): AsyncGenerator<PendingObject[]> {
      for await (const page of listings(environment, queue, options)) yield page.objects;
    },

    /**
     * Up to `limit` pending objects after `after`, whether more follow, and where the next page starts (`next`, a key
     * tail). A `type` filter reads at most FILTERED_PAGE_LISTINGS listings: past them the page ends short (even empty)
     * with `next` at the last key looked at, so one request never walks a bucket of another type's documents.
     *
     * `now` (ms) keeps `next` short of keys younger than `settleMs`, where a document still being written may land
     * (config PENDING_PUT_TIMEOUT): the page ends before such keys, which come on the next page. Only a page of
     * nothing but young keys (a burst of more than `limit` within settleMs) hands a cursor past them: holding it
     * back would stall the walk.
     */
    async page(
      environment: Environment,
      queue: string,
      { after, limit, type, now }: { after?: string; limit: number; type?: PendingEntry['type']; now?: number },
    ): Promise<{ items: PendingObject[]; more: boolean; next?: string }> {
      const settled = now === undefined ? undefined : positionAt(now - config.settleMs);
      // The last key at or before `settled` this request looked at: where a walk that reached young keys resumes.
      let settledLooked: string | undefined;
      const ending = (items: PendingObject[], next: string) => {
        if (!settled || next <= settled) return { items, more: true, next };
        if (settledLooked && settledLooked > (after ?? '')) {
          return { items: items.filter((object) => object.tail <= settled), more: true, next: settledLooked };
        }
        // Nothing settled after the cursor: the only way on is past young keys.
        return { items, more: true, next };
      };
      const items: PendingObject[] = [];
      let looked: string | undefined;
      let listed = 0;
      // Unfiltered, a page is one listing of `limit` keys, and S3 says whether more follow.
      for await (const page of listings(environment, queue, { after, pageSize: type ? 1000 : limit })) {
        listed++;
        for (const [i, object] of page.objects.entries()) {
          looked = object.tail;
          if (settled && looked <= settled) settledLooked = looked;
          if (type && object.type !== type) continue;
          items.push(object);
          if (items.length === limit) {
            const more = i < page.objects.length - 1 || page.truncated;
            return more ? ending(items, object.tail) : { items, more: false };
          }
        }
        if (!page.truncated) break;
        if (type && listed >= FILTERED_PAGE_LISTINGS) {
          // (No key it could parse in five listings: nothing of ours there to walk on through.)
          return looked ? ending(items, looked) : { items, more: false };
        }
      }
      return { items, more: false };
    },

    /** The key a document pending since `pendingSince` is stored under. */
    keyOf: (document: DocumentInput, pendingSince: string) =>
      pendingObjectKey(queueOf(document.customerId, document.endpointId), entryOf(document, pendingSince)),

    /** Stores the document, as the customer would have received it, under the key of `pendingSince`. */
    async put(document: DocumentWithData, pendingSince: string): Promise<StoredDocument> {
      const entry = entryOf(document, pendingSince);
      const { expiresAt } = entry;
      const objectKey = pendingObjectKey(queueOf(document.customerId, document.endpointId), entry);
      // S3's own retries included: past it the object would land too long after the time in its key.
      await s3.send(
        new PutObjectCommand({
          Bucket: bucketOf(document.environment),
          Key: objectKey,
          Body: deliveryBody(document),
          ContentType: 'application/json',
          Metadata: documentMetadata(document, entry),
        }),
        { abortSignal: AbortSignal.timeout(config.PENDING_PUT_TIMEOUT) },
      );
      return { objectKey, tail: pendingKeyTail(entry), pendingSince, expiresAt };
    },

    /** The stored body, or undefined once it has gone (acknowledged, delivered, expired). */
    read: (environment: Environment, objectKey: string) => readJson<StoredBody>(s3, bucketOf(environment), objectKey),

    /** Deleting a missing object succeeds in S3, so a retried delete is harmless. */
    async remove(environment: Environment, objectKey: string): Promise<void> {
      await s3.send(new DeleteObjectCommand({ Bucket: bucketOf(environment), Key: objectKey }));
    },
  };
}

export type PendingQueue = ReturnType<typeof createPendingQueue>;
