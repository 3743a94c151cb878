import { PutObjectCommand } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../src/activities';
import { createPendingCounter } from '../src/bucket/counts';
import { pendingKeyTail, pendingObjectKey } from '../src/bucket/keys';
import { createPendingQueue } from '../src/bucket/queue';
import { createS3Client } from '../src/lib/s3';
import type { PendingEntry } from '../src/domain/schemas';
import type { TestStack } from '../test/helpers/stack';

// `npm run bench -- --listings[=N]`: S3 requests per hot-path read with N (100,000) pending objects under one
// customer, counted at the S3 client the API and the worker use. The objects are written straight to the bucket
// under the keys a document workflow writes (starting 100,000 workflows takes an hour here), so Temporal's visibility
// counts none of them: this measures requests, and test/e2e/pending-scale.test.ts that the counts are right.

const CUSTOMER = 'listings';

export interface ListingFigures {
  objects: number;
  storeSeconds: number;
  rows: { read: string; listRequests: number; visibilityCounts: number; ms: number }[];
}

export async function benchListings(stack: TestStack, objects: number): Promise<ListingFigures> {
  const { config } = stack;
  const start = Date.now() - 5 * 86_400_000;
  const entries: PendingEntry[] = Array.from({ length: objects }, (_, i) => {
    const pendingSince = new Date(start + i * 1000);
    return {
      id: `doc-${String(i).padStart(6, '0')}`,
      // One summary in a thousand: a filtered page has to look far for each.
      type: i % 1000 === 0 ? 'summary' : 'event',
      createdAt: new Date(pendingSince.getTime() - 60_000).toISOString(),
      pendingSince: pendingSince.toISOString(),
      expiresAt: new Date(pendingSince.getTime() + 10 * 86_400_000).toISOString(),
    };
  });
  const stored = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < entries.length) {
        const entry = entries[next++];
        await stack.s3.send(
          new PutObjectCommand({
            Bucket: config.BUCKET_PRODUCTION,
            Key: pendingObjectKey(CUSTOMER, entry),
            Body: JSON.stringify({ id: entry.id, type: entry.type, data: entry.id }),
            ContentType: 'application/json',
          }),
        );
      }
    }),
  );
  const storeSeconds = (Date.now() - stored) / 1000;

  // The same modules the API and the worker run, over an S3 client that counts what it sends.
  const s3 = createS3Client(config);
  let lists = 0;
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'ListObjectsV2Command') lists++;
      return next(args);
    },
    { step: 'initialize' },
  );
  const client = await stack.temporalClient();
  let counts = 0;
  const countingClient = new Proxy(client, {
    get(target, prop) {
      if (prop !== 'workflow') return Reflect.get(target, prop);
      return new Proxy(target.workflow, {
        get(workflow, name) {
          if (name === 'count') return (query: string) => (counts++, workflow.count(query));
          const value = Reflect.get(workflow, name);
          return typeof value === 'function' ? value.bind(workflow) : value;
        },
      });
    },
  });
  const store = createPendingQueue({ s3, config });
  const counter = createPendingCounter({ store, client: countingClient });
  const activities = createActivities({
    s3,
    client: countingClient,
    config,
    http: undefined as never,
    operatorHttp: undefined as never,
    endpoints: { get: async () => undefined },
    mailer: undefined as never,
    slots: { reserve: async () => undefined },
    metrics: undefined as never,
  });
  const rows: ListingFigures['rows'] = [];
  const measure = async (read: string, work: () => Promise<unknown>) => {
    lists = 0;
    counts = 0;
    const began = performance.now();
    await work();
    rows.push({ read, listRequests: lists, visibilityCounts: counts, ms: Math.round(performance.now() - began) });
  };
  const where = { environment: 'production' as const, customerId: CUSTOMER };
  const secondToLast = pendingKeyTail(entries.at(-2)!);
  await measure('GET /webhook (pendingCount)', () => counter.count('production', CUSTOMER));
  // The activities read their heartbeat details: run them as a worker would.
  const activity = new MockActivityEnvironment();
  await measure('a notification (counts, oldest 1,000 ids)', () => activity.run(activities.summarizePending, where));
  await measure('a notification window with one new document', () =>
    activity.run(activities.newestPending, { ...where, after: secondToLast }),
  );
  await measure('GET /pending?limit=1000', () => store.page('production', CUSTOMER, { limit: 1000 }));
  await measure('GET /pending?type=summary&limit=100 (1 in 1,000)', () =>
    store.page('production', CUSTOMER, { limit: 100, type: 'summary' }),
  );
  await measure('the whole prefix listed (what each count cost before)', async () => {
    for await (const _ of store.pages('production', CUSTOMER)) void _;
  });
  await client.connection.close();
  return { objects, storeSeconds, rows };
}

export function printListings(figures: ListingFigures): void {
  console.log(
    `\nS3 requests per read, ${figures.objects.toLocaleString('en')} pending objects for one customer (stored in ${figures.storeSeconds.toFixed(0)} s)`,
  );
  console.log('| read | LIST requests | visibility counts | ms |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const row of figures.rows) {
    console.log(`| ${row.read} | ${row.listRequests} | ${row.visibilityCounts} | ${row.ms} |`);
  }
}
