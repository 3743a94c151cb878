import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parsePendingKeyTail, pendingPrefix } from '../domain/ids';
import type { PendingEntry } from '../domain/schemas';

export interface PendingObject extends PendingEntry {
  /** The key without the customer prefix; listing resumes after it. */
  tail: string;
}

/**
 * A customer's pending documents straight from the bucket, oldest first, resuming after `after` (a key tail). The
 * bucket is the queue: the API, notifications, probes and replay all read it here, so no process or workflow has to
 * hold the list. `pageSize` is what S3 is asked for per request: small when the caller needs only a few.
 */
export async function* pendingObjects(
  s3: S3Client,
  {
    bucket,
    customerId,
    after,
    pageSize = 1000,
  }: { bucket: string; customerId: string; after?: string; pageSize?: number },
): AsyncGenerator<PendingObject> {
  const prefix = pendingPrefix(customerId);
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        MaxKeys: Math.min(pageSize, 1000),
        ...(token ? { ContinuationToken: token } : after ? { StartAfter: prefix + after } : {}),
      }),
    );
    for (const object of page.Contents ?? []) {
      const tail = object.Key!.slice(prefix.length);
      const entry = parsePendingKeyTail(tail);
      if (entry) yield { ...entry, tail };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Up to `limit` pending objects after `after`, and whether more follow. */
export async function pendingPage(
  s3: S3Client,
  options: {
    bucket: string;
    customerId: string;
    after?: string;
    limit: number;
    filter?: (o: PendingObject) => boolean;
  },
): Promise<{ items: PendingObject[]; more: boolean }> {
  const items: PendingObject[] = [];
  // One more than asked tells whether another page exists, without a second request for it later.
  for await (const object of pendingObjects(s3, { ...options, pageSize: options.filter ? 1000 : options.limit + 1 })) {
    if (options.filter && !options.filter(object)) continue;
    if (items.length === options.limit) return { items, more: true };
    items.push(object);
  }
  return { items, more: false };
}

/** How many documents wait under the customer's prefix. */
export async function countPending(s3: S3Client, options: { bucket: string; customerId: string }): Promise<number> {
  let count = 0;
  for await (const _ of pendingObjects(s3, options)) count++;
  return count;
}

/** What a notification tells the customer: counts by type, the first ids (oldest first), the earliest expiry. */
export async function summarizePending(s3: S3Client, options: { bucket: string; customerId: string; maxIds: number }) {
  const pending = { events: 0, summaries: 0 };
  const documentIds: string[] = [];
  let oldestExpiresAt: string | null = null;
  for await (const object of pendingObjects(s3, options)) {
    if (object.type === 'event') pending.events += 1;
    else pending.summaries += 1;
    if (documentIds.length < options.maxIds) documentIds.push(object.id);
    if (!oldestExpiresAt || object.expiresAt < oldestExpiresAt) oldestExpiresAt = object.expiresAt;
  }
  return { pending, documentIds, oldestExpiresAt };
}
