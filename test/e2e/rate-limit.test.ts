import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../scripts/lib/stack';
import { always, busiestSecond, startReceiver, type Receiver } from '../helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

const LIMIT = 2;

// rateLimit on PUT /webhook: first attempts, retries, probes and the replay after a reactivation share the endpoint's
// slots, so its receiver never sees more than rateLimit requests in any second. `headers` go with every delivery.
describe('per-endpoint rate limit and headers, on the real stack', () => {
  let stack: TestStack;
  let receiver: Receiver;
  let api: ReturnType<typeof apiClient>;
  let key: string;

  before(async () => {
    [stack, receiver] = await Promise.all([
      startTestStack({ RETRY_SCHEDULE_PRODUCTION: '1s', DELIVERY_TIMEOUT: '2s', REPLAY_CONCURRENCY: '5' }),
      startReceiver(always(200)),
    ]);
    api = apiClient(stack.baseUrl);
    key = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'paced', name: 'Paced' })).body.apiKeys.production;
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  const submit = (id: string) =>
    api('POST', '/v1/production/documents', ADMIN_KEY, { customerId: 'paced', id, type: 'event', data: { id } });
  const status = async (id: string) => (await api('GET', `/v1/production/documents/${id}`, key)).body.status;

  it('refuses a rate limit or a header it would not honour, naming the field', async () => {
    for (const [body, path] of [
      [{ rateLimit: 0 }, 'body.rateLimit'],
      [{ rateLimit: 1.5 }, 'body.rateLimit'],
      [{ headers: { Connection: 'close' } }, 'body.headers.Connection'],
      [{ headers: { 'webhook-signature': 'v1,forged' } }, 'body.headers.webhook-signature'],
      [{ headers: { 'X-Bad': 'line\r\nbreak' } }, 'body.headers.X-Bad'],
    ] as const) {
      const res = await api('PUT', '/v1/production/webhook', key, { url: receiver.url, ...body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.details[0].path, path);
    }
    // A PATCH of headers is checked alike, and one that names nothing is refused.
    for (const [body, path] of [
      [{ headers: { Connection: null } }, 'body.headers.Connection'],
      [{ headers: { 'X-Bad': 'line\r\nbreak' } }, 'body.headers.X-Bad'],
      [{ headers: { 'X-A': 'a', 'x-a': null } }, 'body.headers'],
      [{}, 'body'],
    ] as const) {
      const res = await api('PATCH', '/v1/production/webhook', key, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.details[0].path, path);
    }
  });

  it(`a burst, retries, probes and a replay never exceed ${LIMIT} requests a second at the receiver`, async () => {
    const put = await api('PUT', '/v1/production/webhook', key, {
      url: receiver.url,
      rateLimit: LIMIT,
      headers: { 'X-Gateway-Token': 'let-me-in' },
    });
    assert.equal(put.status, 200);
    assert.equal(put.body.rateLimit, LIMIT);

    // A burst of first attempts.
    await Promise.all(Array.from({ length: 10 }, (_, n) => submit(`burst-${n}`)));
    await waitFor('the burst delivered', async () => assert.equal(receiver.received.length, 10), 60_000);

    // Failures: retries, a suspension, probes; then documents pile up in the bucket and a reactivation replays them.
    receiver.setBehaviour(always(500));
    await submit('failing');
    await waitFor('the suspension', async () => {
      assert.equal((await api('GET', '/v1/production/webhook', key)).body.status, 'suspended');
    });
    await Promise.all(Array.from({ length: 8 }, (_, n) => submit(`piled-${n}`)));
    await waitFor('the pile in the bucket', async () => assert.equal(await status('piled-7'), 'pending'));
    receiver.setBehaviour(always(200));
    const reactivated = await api('PATCH', '/v1/production/webhook', key, { active: true });
    assert.equal(reactivated.status, 200);
    await waitFor(
      'the replay',
      async () => {
        for (const id of ['failing', ...Array.from({ length: 8 }, (_, n) => `piled-${n}`)]) {
          assert.equal(await status(id), 'delivered', id);
        }
      },
      90_000,
    );

    const times = receiver.received.map((r) => r.at);
    assert.ok(times.length >= 20, `${times.length} requests`);
    const t0 = Math.min(...times);
    const trace = receiver.received.map((r) => `${r.at - t0}:${JSON.parse(r.body).id}`).join(' ');
    assert.ok(busiestSecond(times) <= LIMIT, `${busiestSecond(times)} requests within one second: ${trace}`);
    const span = Math.max(...times.slice(0, 10)) - Math.min(...times.slice(0, 10));
    assert.ok(span >= ((10 - LIMIT) / LIMIT) * 1_000, `the burst of 10 spread over ${span} ms`);
    for (const request of receiver.received) assert.equal(request.headers['x-gateway-token'], 'let-me-in');
  });

  it('an acknowledge ends a redelivery waiting for its slot: answered at once, and the document is not sent', async () => {
    const backlog = await startReceiver(always(500));
    try {
      const created = await api('POST', '/v1/customers', ADMIN_KEY, { id: 'backlog', name: 'Backlog' });
      const own = created.body.apiKeys.production as string;
      assert.equal((await api('PUT', '/v1/production/webhook', own, { url: backlog.url, rateLimit: 1 })).status, 200);
      const ids = Array.from({ length: 8 }, (_, n) => `b-${n}`);
      for (const id of ids) {
        await api('POST', '/v1/production/documents', ADMIN_KEY, {
          customerId: 'backlog',
          id,
          type: 'event',
          data: id,
        });
      }
      const docStatus = async (id: string) => (await api('GET', `/v1/production/documents/${id}`, own)).body;
      await waitFor('the backlog in the bucket', async () => {
        for (const id of ids) assert.equal((await docStatus(id)).status, 'pending', id);
      });
      backlog.setBehaviour(always(200));
      assert.equal((await api('PATCH', '/v1/production/webhook', own, { active: true })).status, 200);
      // One a second: the replay's later documents wait on timers for their slots. Take one of them meanwhile.
      const waiting = await waitFor('a redelivery waiting for its slot', async () => {
        for (const id of ids.slice(3)) {
          const body = await docStatus(id);
          if (body.status === 'pending' && body.nextAttemptAt && Date.parse(body.nextAttemptAt) > Date.now() + 1_000) {
            return id;
          }
        }
        throw new Error('none waiting yet');
      });
      const sentTo = (id: string) => backlog.received.filter((r) => JSON.parse(r.body).id === id).length;
      const sentBefore = sentTo(waiting);
      const ack = await api('DELETE', `/v1/production/pending/${waiting}`, own);
      assert.equal(ack.status, 204);
      assert.equal((await docStatus(waiting)).status, 'acknowledged');
      await waitFor(
        'the rest delivered',
        async () => {
          for (const id of ids.filter((id) => id !== waiting)) assert.equal((await docStatus(id)).status, 'delivered');
        },
        60_000,
      );
      assert.equal(sentTo(waiting), sentBefore, `${waiting} was sent after its acknowledgement`);
    } finally {
      await backlog.close();
    }
  });
});
