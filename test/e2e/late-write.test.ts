import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { waitFor } from '../../scripts/lib/stack';
import { parsePendingKeyTail } from '../../src/bucket/keys';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { listKeys } from '../helpers/s3';
import type { S3Proxy } from '../helpers/s3-proxy';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

const CUSTOMER = 'latecomer';
const PUT_TIMEOUT_MS = 15_000;
/** PENDING_PUT_TIMEOUT plus CLOCK_SKEW: keys younger than this may still have documents landing before them. */
const SETTLE_MS = PUT_TIMEOUT_MS + 1_000;

/**
 * S3 answers a document's write late: its key sorts before documents stored after it. A notification window, a
 * customer's cursor and a replay that passed those documents must not pass over it. The workers reach S3 through a
 * proxy that holds chosen PUTs, as a slow S3 would.
 */
describe('a document written late, behind a slow S3, on the real stack', () => {
  let stack: TestStack;
  let proxy: S3Proxy;
  let api: ReturnType<typeof apiClient>;
  let hook: Receiver;
  let notifications: Receiver;
  let key: string;
  let secret: string;

  const submit = (id: string) =>
    api('POST', '/v1/production/documents', ADMIN_KEY, { customerId: CUSTOMER, id, type: 'event', data: { id } });
  const statusOf = async (id: string) => (await api('GET', `/v1/production/documents/${id}`, key)).body.status;
  const waitPending = (id: string) =>
    waitFor(`${id} pending`, async () => assert.equal(await statusOf(id), 'pending'), 30_000);
  const putOf = (id: string) => (method: string, path: string) => method === 'PUT' && path.endsWith(`_${id}.json`);
  const pendingKeys = async () =>
    (await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, `pending/${CUSTOMER}/`)).map((k) =>
      parsePendingKeyTail(k.slice(`pending/${CUSTOMER}/`.length))!,
    );
  /** The ids every notification so far listed, newest notification last. */
  const notified = () =>
    notifications.received.map(
      (got) =>
        (new Webhook(secret).verify(got.body, got.headers as Record<string, string>) as { documentIds: string[] })
          .documentIds,
    );

  before(async () => {
    stack = await startTestStack(
      { NOTIFICATION_WINDOW: '1s', PENDING_PUT_TIMEOUT: `${PUT_TIMEOUT_MS}ms`, CLOCK_SKEW: '1s' },
      { workerS3Proxy: true },
    );
    proxy = stack.workerS3Proxy!;
    api = apiClient(stack.baseUrl);
    hook = await startReceiver(always(200));
    notifications = await startReceiver(always(200));
    key = (await api('POST', '/v1/customers', ADMIN_KEY, { id: CUSTOMER, name: 'Late' })).body.apiKeys.production;
    secret = (await api('PUT', '/v1/production/webhook', key, { url: hook.url, notificationUrl: notifications.url }))
      .body.secret;
    await api('PATCH', '/v1/production/webhook', key, { active: false });
    for (const id of ['old-1', 'old-2', 'old-3']) {
      await submit(id);
      await waitPending(id);
    }
    // Settled: no document still being written can land before these.
    await sleep(SETTLE_MS + 500);
  });
  after(async () => {
    await hook?.close();
    await notifications?.close();
    await stack?.stop();
  });

  it('a notification window and a cursor that passed the documents after it still reach it', async () => {
    const slow = proxy.hold(putOf('slow-1'));
    await submit('slow-1');
    await slow.arrived;
    for (const id of ['fast-1', 'fast-2']) {
      await submit(id);
      await waitPending(id);
    }
    // The window that saw fast-2 closed while slow-1 was still on its way.
    await waitFor(
      'a notification of fast-2',
      async () => assert.ok(notified().at(-1)?.includes('fast-2'), 'not yet'),
      30_000,
    );
    assert.ok(!notified().some((ids) => ids.includes('slow-1')));

    // A customer walks the list two at a time; slow-1 lands between two pages.
    const seen: string[] = [];
    const page = async (cursor?: string) => {
      const got = await api('GET', `/v1/production/pending?limit=2${cursor ? `&cursor=${cursor}` : ''}`, key);
      assert.equal(got.status, 200);
      seen.push(...got.body.data.map((d: { id: string }) => d.id));
      return (got.body.nextCursor as string | null) ?? undefined;
    };
    let cursor = await page();
    cursor = await page(cursor);
    assert.ok(cursor, 'more pages follow');
    const before = notifications.received.length;
    slow.release();
    await waitPending('slow-1');
    while (cursor) cursor = await page(cursor);
    assert.deepEqual(seen.sort(), ['fast-1', 'fast-2', 'old-1', 'old-2', 'old-3', 'slow-1']);

    // It sorts before fast-1 and fast-2 in the bucket: the notification position had passed its key.
    const keys = await pendingKeys();
    assert.ok(keys.findIndex((k) => k.id === 'slow-1') < keys.findIndex((k) => k.id === 'fast-1'));
    await waitFor(
      'a notification that lists slow-1',
      async () =>
        assert.ok(
          notified()
            .slice(before)
            .some((ids) => ids.includes('slow-1')),
          'not yet',
        ),
      30_000,
    );
  });

  it('a write that S3 never answers is given up at PENDING_PUT_TIMEOUT and written again under a new key time', async () => {
    const stalled = proxy.hold(putOf('slow-2'), 1);
    const submitted = Date.now();
    await submit('slow-2');
    await stalled.arrived;
    await waitFor('slow-2 pending', async () => assert.equal(await statusOf('slow-2'), 'pending'), 60_000);
    stalled.release();
    const stored = (await pendingKeys()).filter((k) => k.id === 'slow-2');
    assert.equal(stored.length, 1, 'one object');
    const state = (await api('GET', '/v1/production/documents/slow-2', key)).body;
    assert.equal(state.pendingSince, stored[0].pendingSince);
    assert.ok(
      Date.parse(stored[0].pendingSince) >= submitted + PUT_TIMEOUT_MS - 1_000,
      `its key time ${stored[0].pendingSince} is the second write's, not the first's`,
    );
  });

  it('a replay that has already walked past its key: the document redelivers itself', async () => {
    const slow = proxy.hold(putOf('slow-3'));
    await submit('slow-3');
    await slow.arrived;
    assert.equal((await api('PATCH', '/v1/production/webhook', key, { active: true })).status, 200);
    const before = ['old-1', 'old-2', 'old-3', 'slow-1', 'fast-1', 'fast-2', 'slow-2'];
    await waitFor(
      'the replay delivered every stored document',
      async () => {
        for (const id of before) assert.equal(await statusOf(id), 'delivered', id);
      },
      60_000,
    );
    slow.release();
    await waitFor('slow-3 delivered', async () => assert.equal(await statusOf('slow-3'), 'delivered'), 30_000);
    const ids = hook.received.map((r) => r.headers['webhook-id']);
    assert.deepEqual([...ids].sort(), [...before, 'slow-3'].sort(), 'each once');
  });
});
