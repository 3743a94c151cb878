import {
  CopyObjectCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Config } from '../config';
import type { DocumentInput, Environment } from '../domain/schemas';
import { queueOf } from '../domain/ids';
import { COLD_STORE_ROOT, coldObjectKey, coldPrefix, parseColdObjectKey, restorePageKey } from './keys';
import { firstPage, listPages } from './listing';
import { documentMetadata, isMissing, readJson } from './objects';
import type { StoredBody, StoredDocument } from './queue';

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

/**
 * The cold store: expired documents under each customer's `expired/` prefix of the bucket, kept for an operator
 * restore, and the restore jobs' billing records beside them. The only module that writes, lists or reads either.
 */
export function createColdStore({ s3, config }: { s3: S3Client; config: Config }) {
  const bucketOf = (environment: Environment) => config.buckets[environment];

  return {
    /**
     * Moves an expired document from the pending queue to the cold store (copy, then delete), stamped with when it
     * expired so the sweep knows when its cold retention ends. Returns the cold key, or undefined when neither copy
     * exists any more.
     */
    async moveIn(
      document: DocumentInput,
      stored: Pick<StoredDocument, 'objectKey' | 'pendingSince' | 'expiresAt'>,
    ): Promise<string | undefined> {
      const Bucket = bucketOf(document.environment);
      const coldKey = coldObjectKey(queueOf(document.customerId, document.endpointId), document.id);
      const source = `${Bucket}/${stored.objectKey.split('/').map(encodeURIComponent).join('/')}`;
      try {
        await s3.send(
          new CopyObjectCommand({
            Bucket,
            Key: coldKey,
            CopySource: source,
            MetadataDirective: 'REPLACE',
            ContentType: 'application/json',
            Metadata: { ...documentMetadata(document, stored), 'expired-at': stored.expiresAt },
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
    async page(
      environment: Environment,
      customerId: string,
      { after, limit }: { after?: string; limit: number },
    ): Promise<{ objects: ColdObject[]; more: boolean; last?: string }> {
      const page = await firstPage(
        listPages(s3, {
          Bucket: bucketOf(environment),
          Prefix: coldPrefix(customerId),
          MaxKeys: limit,
          StartAfter: after,
        }),
      );
      const objects: ColdObject[] = [];
      for (const object of page.objects) {
        const id = parseColdObjectKey(customerId, object.Key!);
        if (id) objects.push({ key: object.Key!, id, at: object.LastModified?.toISOString() });
      }
      return { objects, more: page.truncated, last: page.objects.at(-1)?.Key };
    },

    /** The cold-store key of a document, whether or not a copy is there. */
    keyOf: (customerId: string, id: string) => coldObjectKey(customerId, id),

    /** A cold copy's body (what the customer would have received), or undefined once it has gone. */
    read: (environment: Environment, coldKey: string) => readJson<StoredBody>(s3, bucketOf(environment), coldKey),

    readRestorePage: (environment: Environment, customerId: string, restoreId: string, page: number) =>
      readJson<RestorePageRecord>(s3, bucketOf(environment), restorePageKey(customerId, restoreId, page)),

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
    async sweep(
      environment: Environment,
      { cutoff, after, progress }: { cutoff: Date; after?: string; progress: (key: string) => void },
    ): Promise<number> {
      const Bucket = bucketOf(environment);
      let removed = 0;
      for await (const page of listPages(s3, { Bucket, Prefix: COLD_STORE_ROOT, StartAfter: after })) {
        for (const object of page.objects) {
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
      }
      return removed;
    },
  };
}

export type ColdStore = ReturnType<typeof createColdStore>;
