import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, ensureBuckets } from '../../src/lib/s3';
import { pendingObjectKey } from '../../src/bucket/keys';
import { createPendingQueue, FILTERED_PAGE_LISTINGS } from '../../src/bucket/queue';
import type { Config } from '../../src/config';
import type { PendingEntry } from '../../src/domain/schemas';
import { testConfig } from '../helpers/config';
import { startTestS3 } from '../helpers/s3';

const SUMMARIES = 5_500;

// A `type` filter over a prefix that holds only the other type used to list all of it in one request. Now a request
// reads at most FILTERED_PAGE_LISTINGS listings and ends short with a cursor where it stopped.
describe('a filtered page of the pending list reads a bounded share of the bucket (versitygw)', () => {
  let s3server: Awaited<ReturnType<typeof startTestS3>>;
  let config: Config;
  let s3: S3Client;
  let listings = 0;

  before(async () => {
    s3server = await startTestS3();
    config = testConfig(s3server.env);
    s3 = createS3Client(config);
    await ensureBuckets(s3, config);
    const start = Date.parse('2026-11-20T00:00:00.000Z');
    const entry = (n: number, type: PendingEntry['type']): PendingEntry => ({
      id: `${type}-${String(n).padStart(5, '0')}`,
      type,
      createdAt: new Date(start + n * 1000 - 500).toISOString(),
      pendingSince: new Date(start + n * 1000).toISOString(),
      expiresAt: new Date(start + n * 1000 + 864_000_000).toISOString(),
    });
    // 5,500 summaries, then one event: the event sorts after all of them.
    const entries = [...Array.from({ length: SUMMARIES }, (_, n) => entry(n, 'summary')), entry(SUMMARIES, 'event')];
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < entries.length) {
          const e = entries[next++];
          await s3.send(
            new PutObjectCommand({
              Bucket: config.BUCKET_PRODUCTION,
              Key: pendingObjectKey('filtered', e),
              Body: '{}',
            }),
          );
        }
      }),
    );
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListObjectsV2Command') listings++;
        return next(args);
      },
      { step: 'initialize' },
    );
  });
  after(async () => {
    s3?.destroy();
    await s3server?.stop();
  });

  it('ends short with a cursor after its listings, and the cursor reaches the event', async () => {
    const store = createPendingQueue({ s3, config });
    const pages: { items: number; listings: number }[] = [];
    let after: string | undefined;
    let found: string[] = [];
    for (let request = 0; request < 10; request++) {
      listings = 0;
      const page = await store.page('production', 'filtered', { after, limit: 10, type: 'event' });
      pages.push({ items: page.items.length, listings });
      found = found.concat(page.items.map((i) => i.id));
      if (!page.more) break;
      assert.ok(page.next, 'a page that ends short says where to go on');
      after = page.next;
    }
    assert.deepEqual(found, [`event-0${SUMMARIES}`]);
    assert.ok(
      pages.every((p) => p.listings <= FILTERED_PAGE_LISTINGS),
      `listings per request: ${JSON.stringify(pages)}`,
    );
    assert.deepEqual(pages.slice(0, 1), [{ items: 0, listings: FILTERED_PAGE_LISTINGS }], 'the first ends short');
  });
});
