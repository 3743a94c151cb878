import assert from 'node:assert/strict';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { before, describe, it } from 'node:test';
import type { Config } from '../../src/config';
import { parsePendingKeyTail } from '../../src/pending/keys';
import { always, type Receiver } from '../helpers/receiver';
import { listKeys } from '../helpers/s3';
import { timeSkippingSuite, type TimeSkipping } from '../helpers/temporal';

const CUSTOMERS = ['lst1', 'lst2', 'lst3', 'lst4', 'lst5'];
const PER_CUSTOMER = 500;

describe('2,500 pending documents over five customers on real S3', () => {
  // The receiver is never reached: every endpoint is turned off.
  const suite = timeSkippingSuite({}, always(200), false);
  let ts: TimeSkipping;
  let config: Config;
  let receiver: Receiver;

  before(async () => {
    ({ ts, config, receiver } = suite);
    for (const customerId of CUSTOMERS) {
      await ts.service.createCustomer({ id: customerId, name: customerId });
      await ts.service.configureWebhook('production', customerId, { url: receiver.url });
      // Turned off: every document goes straight to the bucket, with no attempt.
      await ts.service.setActive('production', customerId, false);
    }
    const ids = CUSTOMERS.flatMap((customerId) =>
      Array.from({ length: PER_CUSTOMER }, (_, i) => ({ customerId, id: `doc${String(i).padStart(4, '0')}` })),
    );
    for (let i = 0; i < ids.length; i += 100) {
      await Promise.all(
        ids
          .slice(i, i + 100)
          .map(({ customerId, id }) =>
            ts.service.submitDocument('production', { customerId, id, type: i % 200 ? 'event' : 'summary', data: id }),
          ),
      );
      await ts.env.sleep(1_000);
    }
    for (const customerId of CUSTOMERS) {
      for (let i = 0; i < 120; i++) {
        if ((await ts.service.countPending('production', customerId)) === PER_CUSTOMER) break;
        await ts.env.sleep(1_000);
      }
    }
  });

  it('each customer pages through exactly its own documents, in the bucket prefix order, with no duplicates or gaps', async () => {
    assert.equal(receiver.received.length, 0, 'nothing was attempted');
    for (const customerId of CUSTOMERS) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await ts.service.listPending('production', customerId, { limit: 137, cursor });
        seen.push(...page.data.map((d) => d.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.equal(seen.length, PER_CUSTOMER);
      assert.equal(new Set(seen).size, PER_CUSTOMER, 'no duplicates');

      // The bucket lists one customer by prefix in the order documents became pending: the same order.
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const out = await ts.s3.send(
          new ListObjectsV2Command({
            Bucket: config.BUCKET_PRODUCTION,
            Prefix: `pending/${customerId}/`,
            ContinuationToken: token,
          }),
        );
        keys.push(...(out.Contents ?? []).map((o) => o.Key!));
        token = out.NextContinuationToken;
      } while (token);
      assert.deepEqual(
        keys.map((k) => parsePendingKeyTail(k.slice(`pending/${customerId}/`.length))!.id),
        seen,
      );
    }
    assert.equal((await listKeys(ts.s3, config.BUCKET_SANDBOX, 'pending/')).length, 0, 'nothing in sandbox');
  });

  it('paging while documents arrive: every document is seen once', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    const added: string[] = [];
    do {
      const page = await ts.service.listPending('production', 'lst1', { limit: 200, cursor });
      seen.push(...page.data.map((d) => d.id));
      cursor = page.nextCursor ?? undefined;
      if (cursor) {
        const id = `late${added.length}`;
        added.push(id);
        await ts.service.submitDocument('production', { customerId: 'lst1', id, type: 'event', data: 1 });
        await ts.env.sleep(2_000);
      }
    } while (cursor);
    assert.equal(new Set(seen).size, seen.length, 'no duplicates');
    assert.ok(seen.filter((id) => id.startsWith('doc')).length === PER_CUSTOMER, 'no gaps');
    assert.ok(added.length >= 2);
    assert.deepEqual(
      seen.filter((id) => id.startsWith('late')),
      added,
      'documents arriving while paging appear after what was already listed',
    );
  });

  it('filters by type', async () => {
    const summaries = await ts.service.listPending('production', 'lst2', { type: 'summary', limit: 1000 });
    assert.ok(summaries.data.length > 0);
    assert.ok(summaries.data.every((d) => d.type === 'summary'));
    const events = await ts.service.listPending('production', 'lst2', { type: 'event', limit: 1000 });
    assert.equal(summaries.data.length + events.data.length, PER_CUSTOMER);
  });
});
