import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config';
import { deliveryBody, type DocumentWithData } from '../domain/delivery-body';
import { MAX_RETRY_AFTER_MS, MAX_SCHEDULE_MS, MAX_SCHEDULE_STEPS } from '../domain/schedule';
import type { DocumentInput, Environment, SubmitDocument } from '../domain/schemas';
import { BODIES_ROOT, bodyKeepUntil, bodyObjectKey } from './keys';
import { listPages } from './listing';
import { readJson } from './objects';
import type { StoredBody } from './queue';

/**
 * How long a large document's body is kept after its submit: the longest a delivery can retry (a 60-day schedule of
 * 20 steps, each pushed up to 7 days by Retry-After), then wait pending (the environment's retention), and then be
 * resent after it ended (the idempotency window, for which Temporal keeps its workflow). A delivery that is pending
 * reads its own object in the pending queue; a restored one its cold copy: neither needs the body.
 */
export function bodyKeepMs(config: Pick<Config, 'retentionMs' | 'IDEMPOTENCY_WINDOW'>, environment: Environment) {
  const retrying = MAX_SCHEDULE_MS + MAX_SCHEDULE_STEPS * MAX_RETRY_AFTER_MS;
  return retrying + config.retentionMs[environment] + config.IDEMPOTENCY_WINDOW;
}

/** Bodies one sweep removes at most per environment; the next sweep (COLD_SWEEP_INTERVAL) goes on. */
const BODY_SWEEP_MAX = 10_000;

/**
 * Large documents' bodies (the claim check): a document whose body is larger than CLAIM_CHECK_BYTES is stored here once
 * at submit, and its workflows, their children, activities and Updates carry the key (`bodyKey`) instead of its
 * data, so no engine message carries the document more than once, whatever its size and the number of endpoints.
 */
export function createBodyStore({ s3, config }: { s3: S3Client; config: Config }) {
  const bucketOf = (environment: Environment) => config.buckets[environment];

  return {
    /** Whether a submitted document travels by key: its body is larger than CLAIM_CHECK_BYTES. */
    isLarge: (document: DocumentWithData): boolean =>
      Buffer.byteLength(deliveryBody(document)) > config.CLAIM_CHECK_BYTES,

    /** Stores the body and answers the key the document travels with (nothing but `data` is taken from it). */
    async put(document: DocumentWithData, now: number): Promise<string> {
      const keepUntil = new Date(now + bodyKeepMs(config, document.environment)).toISOString();
      const key = bodyObjectKey(keepUntil, document.customerId, document.id, randomBytes(6).toString('hex'));
      await s3.send(
        new PutObjectCommand({
          Bucket: bucketOf(document.environment),
          Key: key,
          Body: deliveryBody(document),
          ContentType: 'application/json',
        }),
      );
      return key;
    },

    /** The body, or undefined once it is gone (past its keep time). */
    read: (environment: Environment, key: string) => readJson<StoredBody>(s3, bucketOf(environment), key),

    /** A body nobody will read: a submit that found its document already started. */
    async remove(environment: Environment, key: string): Promise<void> {
      await s3.send(new DeleteObjectCommand({ Bucket: bucketOf(environment), Key: key }));
    },

    /**
     * Removes bodies whose keep time is before `now`, oldest first, at most BODY_SWEEP_MAX: keys sort by keep time, so
     * the walk stops at the first one still kept and never lists the bodies that stay (bucket lifecycle rules do the
     * same where S3 has them). `progress` is called after each removal (the activity heartbeats).
     */
    async sweep(environment: Environment, now: Date, max = BODY_SWEEP_MAX, progress = () => {}): Promise<number> {
      const Bucket = bucketOf(environment);
      const cutoff = now.toISOString();
      let removed = 0;
      // At most `max` keys are looked at past the expired ones: a page of kept keys ends the walk.
      for await (const page of listPages(s3, { Bucket, Prefix: BODIES_ROOT, MaxKeys: Math.min(max + 1, 1000) })) {
        for (const object of page.objects) {
          const keepUntil = bodyKeepUntil(object.Key!);
          // Not a body's key (a stray object): not ours to remove.
          if (!keepUntil) continue;
          if (keepUntil >= cutoff) return removed;
          if (removed >= max) return removed;
          await s3.send(new DeleteObjectCommand({ Bucket, Key: object.Key! }));
          removed++;
          progress();
        }
      }
      return removed;
    },
  };
}

export type BodyStore = ReturnType<typeof createBodyStore>;

/** The document's data, from the document or its stored body (undefined once that is gone). */
export async function dataOf(
  bodies: Pick<BodyStore, 'read'>,
  document: DocumentInput,
): Promise<SubmitDocument['data'] | undefined> {
  if (document.bodyKey === undefined) return document.data;
  return (await bodies.read(document.environment, document.bodyKey))?.data;
}
