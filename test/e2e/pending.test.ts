import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../scripts/lib/stack';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { listKeys } from '../helpers/s3';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

describe('pending documents over HTTP: list, pull, acknowledge, resend', () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  let receiver: Receiver;
  let key: string;
  let sandboxKey: string;
  let otherKey: string;
  const docs = [
    { id: 'p1', type: 'event', data: { amount: 1.5, note: 'ünïcode ✓', nested: [1, { deep: null }] } },
    { id: 'p2', type: 'summary', data: { total: 2 } },
    { id: 'p3', type: 'event', data: 'a string' },
    { id: 'p4', type: 'summary', data: [3] },
    { id: 'p5', type: 'event', data: 5 },
  ] as const;

  before(async () => {
    stack = await startTestStack({ REPLAY_CONCURRENCY: '1' });
    api = apiClient(stack.baseUrl);
    receiver = await startReceiver(always(500));
    const created = await api('POST', '/v1/customers', ADMIN_KEY, { id: 'stark', name: 'Stark' });
    key = created.body.apiKeys.production;
    sandboxKey = created.body.apiKeys.sandbox;
    otherKey = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'oscorp', name: 'Oscorp' })).body.apiKeys
      .production;
    await api('PUT', '/v1/production/webhook', key, { url: receiver.url, retrySchedule: '1s' });
    // The first document suspends the endpoint; turned off by hand, nothing probes it during the test.
    for (const doc of docs) {
      await api('POST', '/v1/production/documents', ADMIN_KEY, { customerId: 'stark', ...doc });
      await waitFor(`${doc.id} pending`, async () =>
        assert.equal((await api('GET', `/v1/production/documents/${doc.id}`, key)).body.status, 'pending'),
      );
      if (doc.id === 'p1') await api('PATCH', '/v1/production/webhook', key, { active: false });
    }
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  it('lists pending documents in the order they became pending, filters by type and pages with a cursor', async () => {
    const all = await api('GET', '/v1/production/pending', key);
    assert.equal(all.status, 200);
    assert.deepEqual(
      all.body.data.map((d: { id: string }) => d.id),
      ['p1', 'p2', 'p3', 'p4', 'p5'],
    );
    assert.equal(all.body.nextCursor, null);
    for (const item of all.body.data) {
      assert.ok(item.createdAt && item.pendingSince && item.expiresAt);
    }

    const events = await api('GET', '/v1/production/pending?type=event', key);
    assert.deepEqual(
      events.body.data.map((d: { id: string }) => d.id),
      ['p1', 'p3', 'p5'],
    );

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: { id: string }[]; nextCursor: string | null } } = await api(
        'GET',
        `/v1/production/pending?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        key,
      );
      assert.ok(page.body.data.length <= 2);
      seen.push(...page.body.data.map((d) => d.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, ['p1', 'p2', 'p3', 'p4', 'p5'], 'no duplicates or gaps across pages');

    assert.equal((await api('GET', '/v1/production/pending?limit=0', key)).status, 400);
    assert.equal((await api('GET', '/v1/production/pending?limit=1001', key)).status, 400);
    assert.equal((await api('GET', '/v1/production/pending?type=memo', key)).status, 400);
    assert.equal((await api('GET', '/v1/production/pending?cursor=garbage', key)).status, 400);
  });

  it('pull returns the document as submitted', async () => {
    const pulled = await api('GET', '/v1/production/pending/p1', key);
    assert.equal(pulled.status, 200);
    assert.equal(pulled.body.id, 'p1');
    assert.equal(pulled.body.type, 'event');
    assert.deepEqual(pulled.body.data, docs[0].data);
  });

  it('another customer with a document of the same id sees and changes only its own; the other environment nothing', async () => {
    // Oscorp has a pending `p1` of its own: an API or a bucket layout that lost the customer would mix the two.
    await api('PUT', '/v1/production/webhook', otherKey, { url: receiver.url, retrySchedule: '1s' });
    await api('PATCH', '/v1/production/webhook', otherKey, { active: false });
    const theirs = { customerId: 'oscorp', id: 'p1', type: 'summary', data: { oscorp: true } };
    assert.equal((await api('POST', '/v1/production/documents', ADMIN_KEY, theirs)).status, 202);
    await waitFor('their p1 pending', async () =>
      assert.equal((await api('GET', '/v1/production/documents/p1', otherKey)).body.status, 'pending'),
    );
    const listed = await api('GET', '/v1/production/pending', otherKey);
    assert.deepEqual(
      listed.body.data.map((d: { id: string; type: string }) => [d.id, d.type]),
      [['p1', 'summary']],
    );
    assert.deepEqual((await api('GET', '/v1/production/pending/p1', otherKey)).body.data, { oscorp: true });
    assert.deepEqual((await api('GET', '/v1/production/pending/p1', key)).body.data, docs[0].data);
    // Their acknowledgement takes their p1 out of their bucket prefix, and leaves Stark's where it was.
    assert.equal((await api('DELETE', '/v1/production/pending/p1', otherKey)).status, 204);
    assert.equal((await api('GET', '/v1/production/documents/p1', otherKey)).body.status, 'acknowledged');
    assert.equal((await api('GET', '/v1/production/pending/p1', otherKey)).status, 404);
    assert.equal((await api('POST', '/v1/production/pending/p1/resend', otherKey)).status, 404);
    assert.deepEqual(await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'pending/oscorp/'), []);
    assert.equal((await api('GET', '/v1/production/pending/p1', key)).status, 200);
    assert.equal(
      (await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'pending/stark/')).filter((k) => k.includes('p1'))
        .length,
      1,
    );
    assert.equal((await api('GET', '/v1/production/pending', sandboxKey)).status, 403);
    assert.equal((await api('DELETE', '/v1/production/pending/p1', sandboxKey)).status, 403);
    assert.equal((await api('GET', '/v1/production/documents/p1', key)).body.status, 'pending', 'nothing changed');
  });

  it('acknowledge removes the object and ends the document; a second acknowledge is 404', async () => {
    const before = await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'pending/stark/');
    assert.equal(before.length, 5);
    assert.equal((await api('DELETE', '/v1/production/pending/p2', key)).status, 204);
    assert.equal((await api('GET', '/v1/production/documents/p2', key)).body.status, 'acknowledged');
    const afterKeys = await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'pending/stark/');
    assert.equal(afterKeys.length, 4);
    assert.ok(!afterKeys.some((k) => k.endsWith('_p2.json')));
    assert.equal((await api('DELETE', '/v1/production/pending/p2', key)).status, 404);
    assert.equal((await api('GET', '/v1/production/pending/p2', key)).status, 404);
    assert.equal((await api('POST', '/v1/production/pending/p2/resend', key)).status, 404);
    assert.equal((await api('DELETE', '/v1/production/pending/nope', key)).status, 404);
  });

  it('resend attempts now even while suspended: failed stays pending, delivered leaves the bucket', async () => {
    const seen = receiver.received.length;
    assert.equal((await api('POST', '/v1/production/pending/p3/resend', key)).status, 202);
    await waitFor('the resend attempt', async () => assert.equal(receiver.received.length, seen + 1));
    const failed = await waitFor('the failed attempt recorded', async () => {
      const body = (await api('GET', '/v1/production/documents/p3', key)).body;
      assert.equal(body.attempts.at(-1).trigger, 'resend');
      return body;
    });
    assert.equal(failed.status, 'pending');

    receiver.setBehaviour(always(200));
    const bulk = await api('POST', '/v1/production/pending/resend', key, { ids: ['p3', 'p4', 'p2', 'nope'] });
    assert.deepEqual(bulk, { status: 202, body: { count: 2, skipped: ['p2', 'nope'] } });
    await waitFor('p3 and p4 delivered', async () => {
      assert.equal((await api('GET', '/v1/production/documents/p3', key)).body.status, 'delivered');
      assert.equal((await api('GET', '/v1/production/documents/p4', key)).body.status, 'delivered');
    });
    const remaining = await api('GET', '/v1/production/pending', key);
    assert.deepEqual(
      remaining.body.data.map((d: { id: string }) => d.id),
      ['p1', 'p5'],
    );

    const all = await api('POST', '/v1/production/pending/resend', key);
    assert.deepEqual(all.body, { count: 2, skipped: [] });
    await waitFor('everything delivered', async () =>
      assert.equal((await api('GET', '/v1/production/pending', key)).body.data.length, 0),
    );
    assert.deepEqual(await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'pending/stark/'), []);
  });

  it('acknowledge and resend of the same document at once: each answer matches where the document ended', async () => {
    receiver.setBehaviour((_n) => ({ status: 200 }));
    const sent = (id: string) => receiver.received.filter((r) => r.headers['webhook-id'] === id).length;
    const outcomes = new Set<string>();
    for (const id of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']) {
      await api('POST', '/v1/production/documents', ADMIN_KEY, { customerId: 'stark', id, type: 'event', data: id });
      await waitFor(`${id} pending`, async () =>
        assert.equal((await api('GET', `/v1/production/documents/${id}`, key)).body.status, 'pending'),
      );
      // Alternately the acknowledgement and the resend go first by a hair.
      const [ack, resend] = await Promise.all(
        Number(id.slice(1)) % 2
          ? [
              api('DELETE', `/v1/production/pending/${id}`, key),
              api('POST', `/v1/production/pending/${id}/resend`, key),
            ]
          : [
              new Promise((r) => setImmediate(r)).then(() => api('DELETE', `/v1/production/pending/${id}`, key)),
              api('POST', `/v1/production/pending/${id}/resend`, key),
            ],
      );
      assert.ok([204, 404].includes(ack.status), `ack ${ack.status}`);
      assert.ok([202, 404].includes(resend.status), `resend ${resend.status}`);
      const final = await waitFor(`${id} settled`, async () => {
        const body = (await api('GET', `/v1/production/documents/${id}`, key)).body;
        assert.ok(['acknowledged', 'delivered'].includes(body.status), body.status);
        return body;
      });
      outcomes.add(`${ack.status}/${resend.status}/${final.status}`);
      if (final.status === 'acknowledged') {
        // The customer took it: it was never sent, and a resend that lost the race found nothing pending.
        assert.equal(ack.status, 204, `${id}: acknowledged, yet the acknowledgement answered ${ack.status}`);
        assert.equal(sent(id), 0, `${id}: acknowledged, yet sent`);
      } else {
        // The resend took it first: sent once, by the resend; the acknowledgement either waited for it or was late.
        assert.equal(resend.status, 202, `${id}: delivered, yet the resend answered ${resend.status}`);
        assert.equal(sent(id), 1, `${id}: delivered ${sent(id)} times`);
        assert.deepEqual(
          final.attempts.map((a: { trigger: string }) => a.trigger),
          ['resend'],
        );
      }
      if (resend.status === 404) assert.equal(final.status, 'acknowledged');
      if (ack.status === 404) assert.equal(final.status, 'delivered');
      assert.ok(
        !(await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'pending/stark/')).some((k) => k.includes(id)),
      );
      assert.equal((await api('GET', `/v1/production/pending/${id}`, key)).status, 404);
    }
    console.log(`ack/resend/final outcomes seen: ${[...outcomes].join(', ')}`);
  });
});
