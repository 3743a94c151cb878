import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../scripts/lib/stack';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { listKeys } from '../helpers/s3';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

// The production topology run for real: PostgreSQL, the Temporal server with several history shards, two worker
// processes and two API processes. One worker is SIGKILLed in the middle of a burst; the other carries on.
const DOCUMENTS = 1_000;
const GONE_EVERY = 5; // every fifth document goes to an endpoint that answers 410 Gone, and so to the bucket
const CONCURRENCY = 16;

describe('cluster: Temporal on PostgreSQL, two workers, two APIs', () => {
  let stack: TestStack;
  const receivers: Receiver[] = [];

  before(async () => {
    stack = await startTestStack(
      { RETRY_SCHEDULE_PRODUCTION: '1s,1s', DELIVERY_TIMEOUT: '2s' },
      { temporal: 'cluster', workers: 2, apis: 2 },
    );
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await stack?.stop();
  });

  it(`delivers or stores each of ${DOCUMENTS} documents exactly once while a worker is SIGKILLed`, async () => {
    const apis = stack.baseUrls.map((url) => apiClient(url));
    assert.equal(apis.length, 2);
    const ok = await startReceiver(always(200));
    const gone = await startReceiver(always(410));
    receivers.push(ok, gone);
    for (const [id, receiver] of [
      ['steady', ok],
      ['vanished', gone],
    ] as const) {
      const created = await apis[0]('POST', '/v1/customers', ADMIN_KEY, { id, name: id });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      // Set through the other API: both read and write the same entity workflows.
      const put = await apis[1]('PUT', '/v1/production/webhook', created.body.apiKeys.production, {
        url: receiver.url,
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
    }
    const customerOf = (n: number) => (n % GONE_EVERY === 0 ? 'vanished' : 'steady');

    let next = 0;
    let killedAt: number | undefined;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < DOCUMENTS) {
          const n = next++;
          // Round robin over the two APIs; the second worker dies once a third of the burst is in.
          const res = await apis[n % 2]('POST', '/v1/production/documents', ADMIN_KEY, {
            customerId: customerOf(n),
            id: `doc-${n}`,
            type: 'event',
            data: { n },
          });
          assert.equal(res.status, 202, `doc-${n}: ${JSON.stringify(res.body)}`);
          if (n === Math.floor(DOCUMENTS / 3) && killedAt === undefined) {
            killedAt = ok.received.length;
            await stack.killWorker(1);
          }
        }
      }),
    );
    assert.ok(killedAt !== undefined && killedAt < (DOCUMENTS * 4) / 5, `killed mid-run, at ${killedAt} received`);

    const steady = Array.from({ length: DOCUMENTS }, (_, n) => n).filter((n) => customerOf(n) === 'steady');
    const vanished = Array.from({ length: DOCUMENTS }, (_, n) => n).filter((n) => customerOf(n) === 'vanished');
    const ids = (r: Receiver) => new Set(r.received.map((req) => String(req.headers['webhook-id'])));
    await waitFor(
      'every steady document at its receiver',
      async () => assert.equal(ids(ok).size, steady.length),
      240_000,
    );
    await waitFor(
      'every vanished document in the bucket',
      async () =>
        assert.equal(
          (await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'pending/vanished/')).length,
          vanished.length,
        ),
      240_000,
    );

    // Each document's own record, read through both APIs: delivered once, or pending once; none lost. The bucket can
    // hold a document a moment before its workflow has recorded it as pending, so each is read until it settles.
    const settled = new Map<number, { status: string; attempts: { responseStatusCode?: number }[] }>();
    await waitFor(
      'every document settled',
      async () => {
        for (let n = 0; n < DOCUMENTS; n++) {
          if (settled.has(n)) continue;
          const route = `/v1/production/customers/${customerOf(n)}/documents/doc-${n}`;
          const res = await apis[n % 2]('GET', route, ADMIN_KEY);
          assert.equal(res.status, 200, `doc-${n}: ${JSON.stringify(res.body)}`);
          if (res.body.status === (customerOf(n) === 'steady' ? 'delivered' : 'pending')) settled.set(n, res.body);
        }
        assert.equal(settled.size, DOCUMENTS);
      },
      60_000,
    );
    const statuses = new Map<string, number>();
    let deliveredTwice = 0;
    for (const { status, attempts } of settled.values()) {
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      const successes = attempts.filter((a) => a.responseStatusCode !== undefined && a.responseStatusCode < 300);
      if (successes.length > 1) deliveredTwice++;
    }
    assert.deepEqual(Object.fromEntries(statuses), { delivered: steady.length, pending: vanished.length });
    assert.equal(deliveredTwice, 0, 'no document records two successful deliveries');
    // At the receivers: webhooks are at-least-once, so a request the killed worker sent and never got to record is
    // sent again by the other. Those are bounded by what that worker had out at the kill: its share of each endpoint
    // (ENDPOINT_MAX_IN_FLIGHT over two workers), twice over for answers it had but had not reported yet.
    const perWorkerShare = Math.ceil(stack.config.ENDPOINT_MAX_IN_FLIGHT / 2);
    const duplicates = ok.received.length - ids(ok).size;
    console.log(`steady: ${ok.received.length} requests for ${steady.length} documents, ${duplicates} duplicates`);
    assert.equal(ids(ok).size, steady.length, 'every steady document reached its receiver');
    assert.ok(duplicates <= 2 * perWorkerShare, `${duplicates} steady documents arrived twice`);
    const objects = await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'pending/vanished/');
    assert.equal(new Set(objects.map((k) => k.split('_').pop())).size, vanished.length, 'one object per document');
  });

  it('a portal link opens once across both APIs, and a revoke at one ends the session at the other', async () => {
    const [first, second] = stack.baseUrls.map((url) => apiClient(url));
    const key = (await first('POST', '/v1/customers', ADMIN_KEY, { id: 'portal-two', name: 'Two' })).body.apiKeys
      .production as string;
    const created = await first('POST', '/v1/production/customers/portal-two/portal-sessions', ADMIN_KEY, {});
    assert.equal(created.status, 201);
    const link = new URL(created.body.url as string).hash.replace(/^#link=/, '');
    // Both at once, one at each API: exactly one opens it.
    const tries = await Promise.all(
      [first, second].map((api) => api('POST', '/v1/portal/redeem', undefined, { link })),
    );
    assert.deepEqual(tries.map((t) => t.status).sort(), [200, 410]);
    const bearer = tries.find((t) => t.status === 200)!.body.sessionToken as string;
    for (const api of [first, second]) assert.equal((await api('GET', '/v1/production/webhook', bearer)).status, 200);
    const revoked = await second(
      'DELETE',
      `/v1/production/customers/portal-two/portal-sessions/${created.body.id}`,
      ADMIN_KEY,
    );
    assert.equal(revoked.status, 204);
    assert.equal((await second('GET', '/v1/production/webhook', bearer)).status, 410, 'at once where it was revoked');
    const started = Date.now();
    await waitFor('the other API to refuse it', async () =>
      assert.equal((await first('GET', '/v1/production/webhook', bearer)).status, 410),
    );
    // Within the 5 s an API trusts a running session for, and a poll or two.
    assert.ok(Date.now() - started < 8_000, `refused after ${Date.now() - started} ms`);
    assert.equal((await first('GET', '/v1/production/webhook', key)).status, 200, "the customer's key still works");
  });
});
