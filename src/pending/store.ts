import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import type { Config } from '../config';
import { deliveryBody } from '../domain/delivery-body';
import type { DocumentInput, Environment, PendingEntry } from '../domain/schemas';
import {
  COLD_STORE_ROOT,
  coldObjectKey,
  coldPrefix,
  parseColdObjectKey,
  parsePendingKeyTail,
  pendingKeyTail,
  pendingObjectKey,
  pendingPrefix,
  positionAt,
  restorePageKey,
} from './keys';

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
export type StoredBody = Pick<DocumentInput, 'id' | 'type' | 'environment' | 'createdAt' | 'data'>;

/** A cold-store object: its key, its document's id, and when it was moved there. */
export interface ColdObject {
  key: string;
  id: string;
  at?: string;
}

/**
 * The billing record of one page of a restore job. Written first as a plan (`complete: false`, the candidates the
 * page will restore), then completed with what it did: a retried page finds its plan and redoes the same documents
 * (their cold copies may be gone by then), so every restored document is recorded once, in one page.
 */
export interface RestorePageRecord {
  by: string;
  restoreId: string;
  environment: Environment;
  customerId: string;
  page: number;
  at: string;
  candidates: { key: string; id: string }[];
  /** The cold key the next page lists after, and whether the cold store went on past this page. */
  after?: string;
  more: boolean;
  complete: boolean;
  restored: string[];
  skipped: string[];
}

/** Listings (1,000 keys each) one filtered page reads at most: 5 requests, whatever the bucket holds. */
export const FILTERED_PAGE_LISTINGS = 5;

const isMissing = (err: unknown) =>
  (err as S3ServiceException).name === 'NoSuchKey' || (err as S3ServiceException).$metadata?.httpStatusCode === 404;

function metadata(document: DocumentInput, entry: { pendingSince: string; expiresAt: string }) {
  return {
    'customer-id': document.customerId,
    environment: document.environment,
    'document-id': document.id,
    'document-type': document.type,
    'created-at': document.createdAt,
    'pending-since': entry.pendingSince,
    'expires-at': entry.expiresAt,
  };
}

/**
 * The pending bucket: the only module that knows its keys, and the only one that writes, lists, counts or reads it.
 * The bucket is the queue of pending documents: the API, notifications, probes and replay all read it here, so no
 * process or workflow has to hold the list.
 */
export function createPendingStore({ s3, config }: { s3: S3Client; config: Config }) {
  const bucketOf = (environment: Environment) => config.buckets[environment];
  const entryOf = (document: DocumentInput, pendingSince: string): PendingEntry => ({
    id: document.id,
    type: document.type,
    createdAt: document.createdAt,
    pendingSince,
    expiresAt: new Date(Date.parse(pendingSince) + config.retentionMs[document.environment]).toISOString(),
  });

  /** One listing request: up to `pageSize` (at most 1,000) objects after `after`, or from a continuation token. */
  async function listing(
    environment: Environment,
    customerId: string,
    { after, token, pageSize = 1000 }: { after?: string; token?: string; pageSize?: number } = {},
  ): Promise<{ objects: PendingObject[]; truncated: boolean; token?: string }> {
    const prefix = pendingPrefix(customerId);
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucketOf(environment),
        Prefix: prefix,
        MaxKeys: Math.min(pageSize, 1000),
        ...(token ? { ContinuationToken: token } : after ? { StartAfter: prefix + after } : {}),
      }),
    );
    const objects: PendingObject[] = [];
    for (const object of page.Contents ?? []) {
      const tail = object.Key!.slice(prefix.length);
      const entry = parsePendingKeyTail(tail);
      if (entry) objects.push({ ...entry, tail });
    }
    const truncated = Boolean(page.IsTruncated);
    return { objects, truncated, token: truncated ? page.NextContinuationToken : undefined };
  }

  /** One listing request per page, oldest first, after `after` (a key tail); `pageSize` is what S3 is asked for. */
  async function* pages(
    environment: Environment,
    customerId: string,
    { after, pageSize = 1000 }: { after?: string; pageSize?: number } = {},
  ): AsyncGenerator<PendingObject[]> {
    let token: string | undefined;
    do {
      const page = await listing(environment, customerId, { after, token, pageSize });
      yield page.objects;
      token = page.token;
    } while (token);
  }

  return {
    listing,
    pages,

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
      customerId: string,
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
      let token: string | undefined;
      for (let listings = 1; ; listings++) {
        // Unfiltered, a page is one listing of `limit` keys, and S3 says whether more follow.
        const page = await listing(environment, customerId, { after, token, pageSize: type ? 1000 : limit });
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
        if (!page.truncated) return { items, more: false };
        if (type && listings >= FILTERED_PAGE_LISTINGS) {
          // (No key it could parse in five listings: nothing of ours there to walk on through.)
          return looked ? ending(items, looked) : { items, more: false };
        }
        token = page.token;
      }
    },

    /** The key a document pending since `pendingSince` is stored under. */
    keyOf: (document: DocumentInput, pendingSince: string) =>
      pendingObjectKey(document.customerId, entryOf(document, pendingSince)),

    /** Stores the document, as the customer would have received it, under the key of `pendingSince`. */
    async put(document: DocumentInput, pendingSince: string): Promise<StoredDocument> {
      const entry = entryOf(document, pendingSince);
      const { expiresAt } = entry;
      const objectKey = pendingObjectKey(document.customerId, entry);
      // S3's own retries included: past it the object would land too long after the time in its key.
      await s3.send(
        new PutObjectCommand({
          Bucket: bucketOf(document.environment),
          Key: objectKey,
          Body: deliveryBody(document),
          ContentType: 'application/json',
          Metadata: metadata(document, entry),
        }),
        { abortSignal: AbortSignal.timeout(config.PENDING_PUT_TIMEOUT) },
      );
      return { objectKey, tail: pendingKeyTail(entry), pendingSince, expiresAt };
    },

    /** The stored body, or undefined once it has gone (acknowledged, delivered, expired). */
    async read(environment: Environment, objectKey: string): Promise<StoredBody | undefined> {
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucketOf(environment), Key: objectKey }));
        return JSON.parse(await object.Body!.transformToString()) as StoredBody;
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },

    /** Deleting a missing object succeeds in S3, so a retried delete is harmless. */
    async remove(environment: Environment, objectKey: string): Promise<void> {
      await s3.send(new DeleteObjectCommand({ Bucket: bucketOf(environment), Key: objectKey }));
    },

    /**
     * Moves an expired document to the cold store (copy, then delete), stamped with when it expired so the sweep
     * knows when its cold retention ends. Returns the cold key, or undefined when neither copy exists any more.
     */
    async moveToCold(
      document: DocumentInput,
      stored: { objectKey: string; pendingSince: string; expiresAt: string },
    ): Promise<string | undefined> {
      const Bucket = bucketOf(document.environment);
      const coldKey = coldObjectKey(document.customerId, document.id);
      const source = `${Bucket}/${stored.objectKey.split('/').map(encodeURIComponent).join('/')}`;
      try {
        await s3.send(
          new CopyObjectCommand({
            Bucket,
            Key: coldKey,
            CopySource: source,
            MetadataDirective: 'REPLACE',
            ContentType: 'application/json',
            Metadata: { ...metadata(document, stored), 'expired-at': stored.expiresAt },
          }),
        );
      } catch (err) {
        // A retry after the delete below finds no source: fine when the cold copy is already there.
        if (!isMissing(err)) throw err;
        try {
          await s3.send(new HeadObjectCommand({ Bucket, Key: coldKey }));
        } catch (headErr) {
          // Neither copy exists (e.g. the lifecycle backstop removed it during a long outage): nothing to keep.
          if (isMissing(headErr)) return undefined;
          throw headErr;
        }
      }
      await s3.send(new DeleteObjectCommand({ Bucket, Key: stored.objectKey }));
      return coldKey;
    },

    /** One listing request of a customer's cold store, after the key `after`, in key (document id) order. */
    async coldPage(
      environment: Environment,
      customerId: string,
      { after, limit }: { after?: string; limit: number },
    ): Promise<{ objects: ColdObject[]; more: boolean; last?: string }> {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: bucketOf(environment),
          Prefix: coldPrefix(customerId),
          MaxKeys: Math.min(limit, 1000),
          ...(after ? { StartAfter: after } : {}),
        }),
      );
      const objects: ColdObject[] = [];
      for (const object of page.Contents ?? []) {
        const id = parseColdObjectKey(customerId, object.Key!);
        if (id) objects.push({ key: object.Key!, id, at: object.LastModified?.toISOString() });
      }
      return { objects, more: Boolean(page.IsTruncated), last: page.Contents?.at(-1)?.Key };
    },

    /** The cold-store key of a document, whether or not a copy is there. */
    coldKey: (customerId: string, id: string) => coldObjectKey(customerId, id),

    async readRestorePage(
      environment: Environment,
      customerId: string,
      restoreId: string,
      page: number,
    ): Promise<RestorePageRecord | undefined> {
      try {
        const Key = restorePageKey(customerId, restoreId, page);
        const object = await s3.send(new GetObjectCommand({ Bucket: bucketOf(environment), Key }));
        return JSON.parse(await object.Body!.transformToString()) as RestorePageRecord;
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },

    async writeRestorePage(record: RestorePageRecord): Promise<void> {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucketOf(record.environment),
          Key: restorePageKey(record.customerId, record.restoreId, record.page),
          ContentType: 'application/json',
          Body: JSON.stringify(record),
        }),
      );
    },

    /**
     * Deletes cold copies that expired before `cutoff`, a page at a time after `after` (a key), for servers without
     * lifecycle rules. Calls `progress` with the last key looked at, so a retried sweep resumes there.
     */
    async sweepCold(
      environment: Environment,
      { cutoff, after, progress }: { cutoff: Date; after?: string; progress: (key: string) => void },
    ): Promise<number> {
      const Bucket = bucketOf(environment);
      let removed = 0;
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({
            Bucket,
            Prefix: COLD_STORE_ROOT,
            ...(token ? { ContinuationToken: token } : after ? { StartAfter: after } : {}),
          }),
        );
        for (const object of page.Contents ?? []) {
          // The listing has no metadata: the expiry stamp needs a HEAD (the workflow's clock, not the server's).
          const head = await s3.send(new HeadObjectCommand({ Bucket, Key: object.Key! })).catch((err: unknown) => {
            if (isMissing(err)) return undefined;
            throw err;
          });
          const stamp = head?.Metadata?.['expired-at'];
          const expiredAt = stamp ? new Date(stamp) : object.LastModified;
          if (head && expiredAt && expiredAt < cutoff) {
            await s3.send(new DeleteObjectCommand({ Bucket, Key: object.Key! }));
            removed++;
          }
          progress(object.Key!);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return removed;
    },
  };
}

export type PendingStore = ReturnType<typeof createPendingStore>;
