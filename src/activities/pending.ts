import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config';
import type { Environment } from '../domain/schemas';
import { pendingObjects, pendingPage } from '../lib/pending-store';

interface Where {
  environment: Environment;
  customerId: string;
  /** A key tail: only documents after it are read. */
  after?: string;
}

/** Reads of a customer's pending prefix for the endpoint entity, which keeps positions in it, never the documents. */
export function createPendingActivities(deps: { s3: S3Client; config: Config }) {
  const { s3, config } = deps;
  const objects = ({ environment, customerId, after }: Where, pageSize?: number) =>
    pendingObjects(s3, { bucket: config.buckets[environment], customerId, after, pageSize });

  return {
    /** The next documents after `after`, oldest first: what probes and replay work through. */
    async pendingBatch(input: Where & { limit: number }) {
      const page = await pendingPage(s3, { bucket: config.buckets[input.environment], ...input });
      return { items: page.items.map(({ id, tail, expiresAt }) => ({ id, tail, expiresAt })), more: page.more };
    },

    /** The newest document after `after`, if any arrived: what a notification poll looks for. */
    async newestPending(input: Where): Promise<string | null> {
      let newest: string | null = null;
      for await (const object of objects(input)) newest = object.tail;
      return newest;
    },

    /** The last document after `after` whose expiry is before `dueBy`: how far a reminder reaches. */
    async lastDuePending(input: Where & { dueBy: string }): Promise<string | null> {
      let last: string | null = null;
      for await (const object of objects(input, 100)) {
        // Keys sort by when documents became pending, and so by expiry: the first one not due ends the scan.
        if (object.expiresAt > input.dueBy) break;
        last = object.tail;
      }
      return last;
    },
  };
}
