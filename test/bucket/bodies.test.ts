import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { bodyKeepMs, createBodyStore } from '../../src/bucket/bodies';
import type { Config } from '../../src/config';
import type { DocumentWithData } from '../../src/domain/delivery-body';
import { createS3Client, ensureBuckets } from '../../src/lib/s3';
import { testConfig } from '../helpers/config';
import { listKeys, startTestS3 } from '../helpers/s3';

const DAY = 86_400_000;

// A large document's body is stored once at submit and kept as long as any delivery of it can read it; then the sweep
// removes it, oldest first, without listing the bodies that stay.
describe("large documents' bodies in the bucket (versitygw)", () => {
  let s3server: Awaited<ReturnType<typeof startTestS3>>;
  let config: Config;
  let s3: S3Client;
  let listings = 0;

  before(async () => {
    s3server = await startTestS3();
    config = testConfig(s3server.env);
    s3 = createS3Client(config);
    await ensureBuckets(s3, config);
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

  const document = (id: string, size: number): DocumentWithData => ({
    id,
    customerId: 'bigco',
    environment: 'production',
    type: 'event',
    createdAt: '2026-12-01T00:00:00.000Z',
    data: { blob: 'x'.repeat(size) },
  });

  it('travels by key past CLAIM_CHECK_BYTES; the body read back is what a receiver gets', async () => {
    const bodies = createBodyStore({ s3, config });
    assert.equal(bodies.isLarge(document('small', 100)), false);
    const large = document('large', config.CLAIM_CHECK_BYTES);
    assert.equal(bodies.isLarge(large), true);
    const key = await bodies.put(large, Date.now());
    assert.match(key, /^bodies\/\d{4}-\d{2}-\d{2}T[\d:.]+Z\/bigco\/large\.[0-9a-f]{12}\.json$/);
    // Kept through the longest retrying (60-day schedule, 20 Retry-Afters of 7 days), retention and idempotency window.
    const keepUntil = Date.parse(key.split('/')[1]);
    assert.ok(keepUntil - Date.now() >= (60 + 140 + 10 + 30) * DAY - 60_000, key);
    assert.equal(bodyKeepMs(config, 'sandbox'), (60 + 140 + 3 + 30) * DAY);
    assert.deepEqual((await bodies.read('production', key))?.data, large.data);
  });

  it('the sweep removes bodies past their keep time, oldest first and at most its bound, and stops at the first kept one', async () => {
    const bodies = createBodyStore({ s3, config });
    const keep = bodyKeepMs(config, 'production');
    // A month ahead: the body the first test stored is still kept.
    const now = Date.now() + 30 * DAY;
    // Three submitted long enough ago to be past their keep time, two recently.
    const expired = [];
    for (const daysAgo of [400, 300, 250]) {
      expired.push(await bodies.put(document(`old-${daysAgo}`, 10), now - daysAgo * DAY));
    }
    const kept = [
      await bodies.put(document('recent-1', 10), now - DAY),
      await bodies.put(document('recent-2', 10), now),
    ];
    // A stray object of no body layout is not the sweep's to remove.
    await s3.send(new PutObjectCommand({ Bucket: config.BUCKET_PRODUCTION, Key: 'bodies/stray.json', Body: '{}' }));
    assert.ok(expired.every((key) => Date.parse(key.split('/')[1]) < now));
    assert.ok(kept.every((key) => Date.parse(key.split('/')[1]) >= now - DAY + keep));

    const before = await listKeys(s3, config.BUCKET_PRODUCTION, 'bodies/');
    assert.equal(before.length, 6 + 1, 'the first test left one body');
    listings = 0;
    assert.equal(await bodies.sweep('production', new Date(now), 2), 2, 'at most its bound');
    assert.equal(listings, 1);
    assert.equal(await bodies.sweep('production', new Date(now)), 1, 'the next sweep goes on');
    assert.equal(await bodies.sweep('production', new Date(now)), 0);
    const left = await listKeys(s3, config.BUCKET_PRODUCTION, 'bodies/');
    assert.ok(
      expired.every((key) => !left.includes(key)),
      `expired bodies left: ${left.join(', ')}`,
    );
    assert.ok(
      kept.every((key) => left.includes(key)),
      `kept bodies gone: ${left.join(', ')}`,
    );
    assert.ok(left.includes('bodies/stray.json'));
  });
});
