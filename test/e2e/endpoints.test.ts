import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { waitFor } from '../../scripts/lib/stack';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { listKeys } from '../helpers/s3';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

/** The ids of the documents a receiver got, in the order it got them. */
const idsAt = (receiver: Receiver) => receiver.received.map((r) => String(r.headers['webhook-id']));

describe('end to end over HTTP: several endpoints per environment, each with its own route and fate', () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  let summaries: Receiver;
  let shipments: Receiver;
  let failing: Receiver;
  let key: string;
  const secrets: Record<string, string> = {};
  let shipmentsId: string;
  let failingId: string;

  before(async () => {
    stack = await startTestStack({ DELIVERY_TIMEOUT: '2s', PROBE_MIN_INTERVAL: '1h', NOTIFICATION_WINDOW: '1s' });
    api = apiClient(stack.baseUrl);
    [summaries, shipments, failing] = await Promise.all([
      startReceiver(always(200)),
      startReceiver(always(200)),
      startReceiver(always(500)),
    ]);
    key = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'multico', name: 'Multi Co' })).body.apiKeys.production;
    for (const name of ['shipment.delivered', 'shipment.lost', 'invoice.paid']) {
      assert.equal((await api('POST', '/v1/event-types', ADMIN_KEY, { name, kind: 'event' })).status, 201);
    }
  });
  after(async () => {
    await Promise.all([summaries, shipments, failing].map((r) => r?.close()));
    await stack?.stop();
  });

  const submit = (body: Record<string, unknown>) =>
    api('POST', '/v1/production/documents', ADMIN_KEY, { customerId: 'multico', data: { n: body.id }, ...body });

  it('the webhook is the first endpoint; two more are added, each with its own secret and route', async () => {
    const first = await api('PUT', '/v1/production/endpoints/ep_default', key, {
      url: summaries.url,
      kinds: ['summary'],
      description: 'daily summaries',
    });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.id, 'ep_default');
    secrets.summaries = first.body.secret;
    // The same endpoint through the webhook's own routes, which keep their contract.
    const webhook = await api('GET', '/v1/production/webhook', key);
    assert.equal(webhook.body.url, summaries.url);
    assert.equal(webhook.body.id, undefined);

    const shipping = await api('POST', '/v1/production/endpoints', key, {
      url: shipments.url,
      filterTypes: ['shipment.*'],
      description: 'tracking',
    });
    assert.equal(shipping.status, 201, JSON.stringify(shipping.body));
    assert.match(shipping.body.id, /^ep_[0-9a-f]{24}$/);
    assert.match(shipping.body.secret, /^whsec_/);
    assert.notEqual(shipping.body.secret, secrets.summaries);
    shipmentsId = shipping.body.id;
    secrets.shipments = shipping.body.secret;

    const broken = await api('POST', '/v1/production/endpoints', key, {
      url: failing.url,
      retrySchedule: '1s,1s',
      suspensionEmail: 'ops@multi.example',
    });
    assert.equal(broken.status, 201);
    failingId = broken.body.id;

    const listed = await api('GET', '/v1/production/endpoints', key);
    assert.deepEqual(
      listed.body.data.map((e: { id: string; url: string; filterTypes: string[] | null; kinds: string[] | null }) => [
        e.id,
        e.url,
        e.filterTypes,
        e.kinds,
      ]),
      [
        ['ep_default', summaries.url, null, ['summary']],
        [shipmentsId, shipments.url, ['shipment.*'], null],
        [failingId, failing.url, null, null],
      ],
    );
    assert.ok(
      listed.body.data.every((e: { secret?: string }) => e.secret === undefined),
      'no secret in a list',
    );
  });

  it('each document goes to the endpoints whose route it matches, signed with each one’s secret', async () => {
    assert.equal((await submit({ id: 's1', type: 'summary' })).status, 202);
    assert.equal((await submit({ id: 'e1', type: 'event', eventType: 'shipment.delivered' })).status, 202);
    assert.equal((await submit({ id: 'e2', type: 'event', eventType: 'invoice.paid' })).status, 202);
    await waitFor('the deliveries', async () => {
      assert.deepEqual(idsAt(summaries), ['s1']);
      assert.deepEqual(idsAt(shipments), ['e1']);
    });
    for (const [receiver, secret] of [
      [summaries, secrets.summaries],
      [shipments, secrets.shipments],
    ] as const) {
      const got = receiver.received[0];
      new Webhook(secret).verify(got.body, got.headers as Record<string, string>);
      assert.throws(() =>
        new Webhook(secrets[receiver === summaries ? 'shipments' : 'summaries']).verify(
          got.body,
          got.headers as Record<string, string>,
        ),
      );
    }
    assert.equal(JSON.parse(shipments.received[0].body).eventType, 'shipment.delivered');

    // e1 was not for the first endpoint: routed; its two deliveries each have their own state.
    const e1 = await waitFor('e1 delivered to shipments', async () => {
      const res = await api('GET', '/v1/production/documents/e1', key);
      assert.equal(res.body.status, 'routed');
      const byId = Object.fromEntries(res.body.endpoints.map((e: { endpointId: string }) => [e.endpointId, e]));
      assert.equal(byId[shipmentsId].status, 'delivered');
      return byId;
    });
    assert.equal(e1[shipmentsId].attempts[0].responseStatusCode, 200);
    assert.equal(e1[failingId].attempts[0].responseStatusCode, 500);
    assert.equal(e1.ep_default, undefined);
    // s1: delivered to the first endpoint, failing at the catch-all.
    const s1 = (await api('GET', '/v1/production/documents/s1', key)).body;
    assert.equal(s1.status, 'delivered');
    assert.deepEqual(
      s1.endpoints.map((e: { endpointId: string }) => e.endpointId),
      ['ep_default', failingId],
    );

    // The worker counts where routed documents went (no customer or endpoint in the labels): s1 to the first endpoint
    // and one other, e1 and e2 to others only; four deliveries to other endpoints in all.
    const metrics = await (await fetch(stack.workerMetricsUrls[0])).text();
    const env = 'environment="production"';
    assert.match(metrics, new RegExp(`webhook_document_routings_total\\{${env},outcome="fanned_out"\\} 1\n`));
    assert.match(metrics, new RegExp(`webhook_document_routings_total\\{${env},outcome="routed"\\} 2\n`));
    assert.match(metrics, new RegExp(`webhook_fanout_deliveries_total\\{${env}\\} 4\n`));
    for (const label of ['multico', shipmentsId, failingId]) assert.ok(!metrics.includes(label), label);
  });

  it('the failing endpoint is suspended and keeps its own pending documents, while the other two deliver', async () => {
    const suspended = await waitFor('the suspension', async () => {
      const res = await api('GET', `/v1/production/endpoints/${failingId}`, key);
      assert.equal(res.body.status, 'suspended');
      return res.body;
    });
    assert.match(suspended.suspensionReason, /retries ran out/);
    await waitFor('its three documents in its own prefix', async () => {
      const keys = await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, `pending/multico~${failingId}/`);
      assert.deepEqual(keys.map((k) => k.replace(/^.*_/, '')).sort(), ['e1.json', 'e2.json', 's1.json']);
    });
    assert.deepEqual(await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, 'pending/multico/'), []);
    const list = (await api('GET', '/v1/production/endpoints', key)).body.data;
    assert.deepEqual(
      list.map((e: { status: string; pendingCount: number }) => [e.status, e.pendingCount]),
      [
        ['active', 0],
        ['active', 0],
        ['suspended', 3],
      ],
    );
    // The support desk lists it across customers, with its pending count; the healthy ones are not there.
    await waitFor('the desk list', async () => {
      const desk = await api('GET', '/v1/production/endpoints?status=suspended', ADMIN_KEY);
      assert.equal(desk.status, 200);
      const mine = desk.body.data.filter((e: { customerId: string }) => e.customerId === 'multico');
      assert.deepEqual(
        mine.map((e: { endpointId: string; pendingCount: number; url: string }) => [
          e.endpointId,
          e.pendingCount,
          e.url,
        ]),
        [[failingId, 3, failing.url]],
      );
      assert.match(mine[0].suspensionReason, /retries ran out/);
    });
    const active = await api('GET', '/v1/production/endpoints?status=active&limit=50', ADMIN_KEY);
    assert.ok(active.body.data.some((e: { endpointId: string }) => e.endpointId === shipmentsId));
    const ownSuspended = await api('GET', '/v1/production/endpoints?status=suspended', key);
    assert.deepEqual(
      ownSuspended.body.data.map((e: { id: string }) => e.id),
      [failingId],
      "a customer's key filters its own",
    );
    assert.equal((await api('GET', '/v1/production/endpoints?cursor=bm9wZQ', ADMIN_KEY)).status, 400);

    // Its suspension email names it.
    await waitFor('the suspension email', async () => {
      const mail = stack.mail.messages.find((m) => [m.to].flat().some((a) => a?.text.includes('ops@multi.example')));
      assert.ok(mail, 'no suspension email yet');
      assert.ok(mail.text!.includes(failing.url), 'the email names the URL');
    });

    // The healthy endpoints go on delivering at once, untouched.
    const before = { summaries: summaries.received.length, shipments: shipments.received.length };
    await submit({ id: 's2', type: 'summary' });
    await submit({ id: 'e3', type: 'event', eventType: 'shipment.lost' });
    await waitFor('s2 and e3', async () => {
      assert.deepEqual(idsAt(summaries).slice(before.summaries), ['s2']);
      assert.deepEqual(idsAt(shipments).slice(before.shipments), ['e3']);
    });
    const e3 = (await api('GET', '/v1/production/documents/e3', key)).body;
    const failingDelivery = e3.endpoints.find((e: { endpointId: string }) => e.endpointId === failingId);
    await waitFor('e3 kept for the suspended endpoint', async () => {
      const again = (await api('GET', '/v1/production/documents/e3', key)).body;
      const delivery = again.endpoints.find((e: { endpointId: string }) => e.endpointId === failingId);
      assert.equal(delivery.status, 'pending');
      assert.deepEqual(delivery.attempts, [], 'nothing sent to a suspended endpoint');
    });
    assert.ok(failingDelivery);

    // Its pending documents are its own: listed, pulled and acknowledged under its id, not the webhook's.
    const base = `/v1/production/endpoints/${failingId}/pending`;
    const pending = await waitFor('its five pending', async () => {
      const res = await api('GET', base, key);
      assert.equal(res.body.data.length, 5);
      return res.body.data.map((d: { id: string }) => d.id);
    });
    assert.deepEqual(new Set(pending), new Set(['s1', 'e1', 'e2', 's2', 'e3']));
    assert.deepEqual((await api('GET', '/v1/production/endpoints/ep_default/pending', key)).body.data, []);
    // The customer-wide list has every endpoint's, saying whose, paged over them all.
    const everywhere: { id: string; endpointId: string }[] = [];
    let cursor: string | undefined;
    do {
      const page = await api('GET', `/v1/production/pending?limit=2${cursor ? `&cursor=${cursor}` : ''}`, key);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      everywhere.push(...page.body.data);
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor && everywhere.length < 10);
    assert.deepEqual(
      everywhere.map((d) => d.id),
      pending,
      'the same order as its own list',
    );
    assert.ok(everywhere.every((d) => d.endpointId === failingId));
    const pulled = await api('GET', `${base}/e2`, key);
    assert.deepEqual([pulled.status, pulled.body.data], [200, { n: 'e2' }]);
    assert.deepEqual((await api('GET', '/v1/production/pending/e2', key)).body.data, { n: 'e2' }, 'customer-wide');
    assert.equal((await api('DELETE', `${base}/e2`, key)).status, 204);
    assert.equal((await api('GET', `${base}/e2`, key)).status, 404);
    assert.equal((await api('GET', '/v1/production/pending/e2', key)).status, 404);
    assert.equal((await api('GET', '/v1/production/endpoints/ep_nope/pending', key)).status, 404);

    // Reactivated, with its receiver fixed: everything it missed is redelivered to it, and only to it.
    failing.setBehaviour(always(200));
    const others = { summaries: summaries.received.length, shipments: shipments.received.length };
    const reactivated = await api('PATCH', `/v1/production/endpoints/${failingId}`, key, { active: true });
    assert.equal(reactivated.body.status, 'active');
    await waitFor('the replay', async () => {
      assert.deepEqual(
        (await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, `pending/multico~${failingId}/`)).length,
        0,
      );
    });
    // Everything that waited for it but the one acknowledged: it takes every document, s2 and e3 too.
    assert.deepEqual(new Set(idsAt(failing).slice(-4)), new Set(['s1', 'e1', 's2', 'e3']));
    assert.deepEqual(
      [summaries.received.length, shipments.received.length],
      [others.summaries, others.shipments],
      'the other endpoints got nothing again',
    );
  });

  it("each endpoint's statistics and log are its own, and a test event goes to one endpoint only", async () => {
    // Shipments got e1 and e3; the catch-all got all five, one acknowledged by the customer.
    const stats = (id: string) => api('GET', `/v1/production/endpoints/${id}/stats`, key);
    await waitFor('the statistics, from visibility', async () => {
      const shipping = (await stats(shipmentsId)).body;
      assert.deepEqual([shipping['24h'].delivered, shipping['24h'].successRate], [2, 1]);
      const catchAll = (await stats(failingId)).body;
      assert.deepEqual(
        [catchAll['7d'].delivered, catchAll['7d'].acknowledged, catchAll['7d'].pending, catchAll['7d'].successRate],
        [4, 1, 0, 0.8],
      );
      const first = (await stats('ep_default')).body;
      assert.equal(first['24h'].delivered, 2, 's1 and s2: the routed events are not the first endpoint’s');
    });
    const log = async (query: string) =>
      (await api('GET', `/v1/production/documents?${query}`, key)).body.data.map(
        (d: { id: string; status: string }) => `${d.id}:${d.status}`,
      );
    assert.deepEqual(await log(`endpointId=${shipmentsId}`), ['e3:delivered', 'e1:delivered']);
    assert.deepEqual(await log('endpointId=ep_default'), ['s2:delivered', 's1:delivered']);
    assert.deepEqual(await log(`endpointId=${failingId}&status=acknowledged`), ['e2:acknowledged']);
    assert.deepEqual(await log('type=event&status=routed'), ['e3:routed', 'e2:routed', 'e1:routed']);
    // The customer-wide log shows each document's status at each endpoint it went to.
    const everywhere = (await api('GET', '/v1/production/documents?type=event&limit=3', key)).body.data;
    const statusAt = (doc: { endpoints: { endpointId: string; status: string }[] }) =>
      Object.fromEntries(doc.endpoints.map((e) => [e.endpointId, e.status]));
    assert.deepEqual(
      everywhere.map((d: { id: string }) => d.id),
      ['e3', 'e2', 'e1'],
    );
    assert.deepEqual(statusAt(everywhere[2]), { [shipmentsId]: 'delivered', [failingId]: 'delivered' });
    assert.deepEqual(statusAt(everywhere[1]), { [failingId]: 'acknowledged' });
    const summariesLogged = (await api('GET', '/v1/production/documents?type=summary', key)).body.data;
    assert.deepEqual(statusAt(summariesLogged.at(-1)), { ep_default: 'delivered', [failingId]: 'delivered' });

    const counts = [summaries, shipments, failing].map((r) => r.received.length);
    const sent = await api('POST', `/v1/production/endpoints/${shipmentsId}/test`, key, { eventType: 'shipment.lost' });
    assert.equal(sent.status, 202);
    assert.match(sent.body.id, /^test_[0-9a-f]{16}$/);
    const got = await waitFor('the test event', async () => {
      const found = shipments.received.find((r) => r.headers['webhook-id'] === sent.body.id);
      assert.ok(found, 'not yet');
      return found;
    });
    new Webhook(secrets.shipments).verify(got.body, got.headers as Record<string, string>);
    assert.deepEqual(JSON.parse(got.body).eventType, 'shipment.lost');
    // Logged as that endpoint's delivery.
    await waitFor('the test event in the log', async () =>
      assert.ok((await log(`endpointId=${shipmentsId}`)).includes(`${sent.body.id}:delivered`), 'not logged yet'),
    );
    // Found as that endpoint's delivery; the document's own workflow is not there (it went nowhere else).
    const testEvent = await api('GET', `/v1/production/documents/${sent.body.id}?endpointId=${shipmentsId}`, key);
    assert.deepEqual(
      [testEvent.status, testEvent.body.status, testEvent.body.eventType],
      [200, 'delivered', 'shipment.lost'],
    );
    assert.equal(testEvent.body.attempts[0].responseStatusCode, 200);
    assert.equal((await api('GET', `/v1/production/documents/${sent.body.id}`, key)).status, 404);
    const e1AtShipments = await api('GET', `/v1/production/documents/e1?endpointId=${shipmentsId}`, key);
    assert.deepEqual([e1AtShipments.body.status, e1AtShipments.body.endpoints], ['delivered', undefined]);
    assert.equal((await api('GET', '/v1/production/documents/e1?endpointId=nope', key)).status, 400);
    assert.deepEqual(
      [summaries, shipments, failing].map((r) => r.received.length),
      [counts[0], counts[1] + 1, counts[2]],
      'to that endpoint only',
    );
    const unknown = await api('POST', `/v1/production/endpoints/${shipmentsId}/test`, key, { eventType: 'nope.no' });
    assert.deepEqual([unknown.status, unknown.body.error.details[0].path], [400, 'body.eventType']);
    assert.equal((await api('POST', '/v1/production/endpoints/ep_nope/test', key, {})).status, 404);
  });

  it('any document is resent to one endpoint, delivered or not; a new run goes on from its attempts', async () => {
    type Delivery = { endpointId: string; status: string; attemptCount: number; attempts: { trigger: string }[] };
    const deliveryAt = async (id: string, endpointId: string): Promise<Delivery> =>
      (await api('GET', `/v1/production/documents/${id}`, key)).body.endpoints.find(
        (e: Delivery) => e.endpointId === endpointId,
      );
    const resend = (id: string, endpointId: string) =>
      api('POST', `/v1/production/documents/${id}/endpoints/${endpointId}/resend`, key);
    const counts = () => [summaries, shipments, failing].map((r) => r.received.length);

    // e1 was delivered to shipments: it arrives there again with its id, signed, and its attempt log goes on.
    const before = await deliveryAt('e1', shipmentsId);
    assert.equal(before.status, 'delivered');
    const sent = counts();
    const resent = await resend('e1', shipmentsId);
    assert.deepEqual([resent.status, resent.body], [202, { id: 'e1', endpointId: shipmentsId, resent: 'new_run' }]);
    const got = await waitFor('e1 again at shipments', async () => {
      const found = shipments.received.slice(sent[1]).find((r) => r.headers['webhook-id'] === 'e1');
      assert.ok(found, 'not yet');
      return found;
    });
    new Webhook(secrets.shipments).verify(got.body, got.headers as Record<string, string>);
    assert.deepEqual(JSON.parse(got.body).data, { n: 'e1' });
    const after = await waitFor('its resend in its log', async () => {
      const delivery = await deliveryAt('e1', shipmentsId);
      assert.equal(delivery.attemptCount, before.attemptCount + 1);
      return delivery;
    });
    assert.equal(after.status, 'delivered');
    assert.equal(after.attempts.at(-1)!.trigger, 'resend');
    assert.deepEqual(after.attempts.slice(0, -1), before.attempts);
    assert.deepEqual(counts(), [sent[0], sent[1] + 1, sent[2]], 'to that endpoint only');

    // e2 never went to the webhook (it takes summaries): resent there, it is delivered there, and still lists the
    // delivery it had.
    const e2 = await resend('e2', 'ep_default');
    assert.deepEqual([e2.status, e2.body.resent], [202, 'new_run']);
    await waitFor('e2 at the webhook', async () => assert.ok(idsAt(summaries).includes('e2'), 'not yet'));
    const e2Now = await waitFor('e2 delivered', async () => {
      const doc = (await api('GET', '/v1/production/documents/e2', key)).body;
      assert.equal(doc.status, 'delivered');
      return doc;
    });
    assert.deepEqual(
      e2Now.endpoints.map((e: Delivery) => [e.endpointId, e.status]),
      [
        ['ep_default', 'delivered'],
        [failingId, 'acknowledged'],
      ],
    );
    assert.equal(e2Now.attempts[0].trigger, 'resend');

    // Resent while its receiver fails: it waits in that endpoint's bucket; resent again once it answers, delivered.
    shipments.setBehaviour(always(503));
    assert.equal((await resend('e3', shipmentsId)).status, 202);
    await waitFor('e3 pending at shipments', async () => {
      const keys = await listKeys(stack.s3, stack.config.BUCKET_PRODUCTION, `pending/multico~${shipmentsId}/`);
      assert.deepEqual(
        keys.map((k) => k.replace(/^.*_/, '')),
        ['e3.json'],
      );
      assert.equal((await deliveryAt('e3', shipmentsId)).status, 'pending');
    });
    // The log's row says so, the newest run's status, with the other endpoints' as they were.
    await waitFor('the log', async () => {
      const row = (await api('GET', '/v1/production/documents?type=event&limit=1', key)).body.data[0];
      assert.equal(row.id, 'e3');
      assert.deepEqual(Object.fromEntries(row.endpoints.map((e: Delivery) => [e.endpointId, e.status])), {
        [shipmentsId]: 'pending',
        [failingId]: 'delivered',
      });
    });
    // Still failing: a document on its retry schedule is not resent over it (409, naming the next attempt).
    await submit({ id: 'r1', type: 'event', eventType: 'shipment.lost' });
    await waitFor('r1 retrying at shipments', async () =>
      assert.equal((await deliveryAt('r1', shipmentsId))?.status, 'retrying'),
    );
    const early = await resend('r1', shipmentsId);
    assert.equal(early.status, 409);
    assert.match(early.body.error.message, /retry schedule \(next at /);
    shipments.setBehaviour(always(200));
    const again = await resend('e3', shipmentsId);
    assert.deepEqual([again.status, again.body.resent], [202, 'pending']);
    await waitFor('e3 delivered at shipments', async () =>
      assert.equal((await deliveryAt('e3', shipmentsId)).status, 'delivered'),
    );

    // s2 never went to shipments (it takes shipment events): resent there, the document lists that delivery too.
    assert.equal((await resend('s2', shipmentsId)).body.resent, 'new_run');
    await waitFor('s2 at shipments', async () => {
      const doc = (await api('GET', '/v1/production/documents/s2', key)).body;
      const at = Object.fromEntries(doc.endpoints.map((e: Delivery) => [e.endpointId, e.status]));
      assert.deepEqual(at, { ep_default: 'delivered', [shipmentsId]: 'delivered', [failingId]: 'delivered' });
    });

    // A test event, which went to that endpoint alone, is resent there too.
    const testId = (await api('POST', `/v1/production/endpoints/${shipmentsId}/test`, key, {})).body.id as string;
    const testAt = async () =>
      (await api('GET', `/v1/production/documents/${testId}?endpointId=${shipmentsId}`, key)).body;
    await waitFor('the test event delivered', async () => assert.equal((await testAt()).status, 'delivered'));
    assert.deepEqual((await resend(testId, shipmentsId)).body.resent, 'new_run');
    await waitFor('the test event resent', async () => {
      const delivery = await testAt();
      assert.deepEqual(
        delivery.attempts.map((a: { trigger: string }) => a.trigger),
        ['scheduled', 'resend'],
      );
    });
    assert.equal(shipments.received.filter((r) => r.headers['webhook-id'] === testId).length, 2);

    // Unknown documents and endpoints are 404s, and change nothing.
    assert.equal((await resend('nope', shipmentsId)).status, 404);
    assert.equal((await resend('e1', 'ep_nope')).status, 404);
    assert.equal((await resend('e1', 'nope')).status, 400);
  });

  it('routes change with PATCH; a deleted endpoint gets nothing more, its documents stay pullable; the limit is 20 (422 past it)', async () => {
    const patched = await api('PATCH', `/v1/production/endpoints/${shipmentsId}`, key, {
      filterTypes: ['shipment.lost'],
    });
    assert.deepEqual(patched.body.filterTypes, ['shipment.lost']);
    assert.equal(patched.body.description, 'tracking', 'fields not named are kept');
    const before = shipments.received.length;
    await submit({ id: 'e4', type: 'event', eventType: 'shipment.delivered' });
    await submit({ id: 'e5', type: 'event', eventType: 'shipment.lost' });
    await waitFor('e5', async () => assert.deepEqual(idsAt(shipments).slice(before), ['e5']));

    // Turned off, the catch-all is on the desk's list of suspended endpoints, and s3 waits for it there.
    assert.equal((await api('PATCH', `/v1/production/endpoints/${failingId}`, key, { active: false })).status, 200);
    await submit({ id: 's3', type: 'summary' });
    const waiting = await waitFor('s3 waiting for the catch-all', async () => {
      const doc = (await api('GET', '/v1/production/documents/s3', key)).body;
      const delivery = doc.endpoints?.find((e: { endpointId: string }) => e.endpointId === failingId);
      assert.equal(delivery?.status, 'pending', JSON.stringify(doc));
      return delivery as { expiresAt: string };
    });
    const onDesk = async () =>
      (await api('GET', '/v1/production/endpoints?status=suspended', ADMIN_KEY)).body.data.some(
        (e: { endpointId: string }) => e.endpointId === failingId,
      );
    await waitFor('the catch-all on the desk', async () => assert.ok(await onDesk(), 'not listed yet'));

    // Deleted: the answer says what waits for it and until when.
    const deleted = await api('DELETE', `/v1/production/endpoints/${failingId}`, key);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.deepEqual(
      { ...deleted.body, deletedAt: typeof deleted.body.deletedAt },
      { id: failingId, deleted: true, deletedAt: 'string', pendingCount: 1, expiresBy: waiting.expiresAt },
    );
    const seen = failing.received.length;
    assert.equal((await api('GET', `/v1/production/endpoints/${failingId}`, key)).status, 404);
    assert.equal((await api('DELETE', `/v1/production/endpoints/${failingId}`, key)).status, 404, 'deleted once');
    assert.equal((await api('DELETE', '/v1/production/endpoints/ep_default', key)).status, 409);
    assert.equal((await api('GET', `/v1/production/endpoints/${failingId}/pending`, key)).status, 404);
    await waitFor('the catch-all off the desk', async () => assert.ok(!(await onDesk()), 'still listed'));

    // What waited for it stays pullable through the customer-wide routes, saying whose it is; a resend sends nothing.
    const everywhere = (await api('GET', '/v1/production/pending', key)).body.data;
    assert.deepEqual(
      everywhere.map((d: { id: string; endpointId: string }) => [d.id, d.endpointId]),
      [['s3', failingId]],
    );
    assert.deepEqual((await api('GET', '/v1/production/pending/s3', key)).body.data, { n: 's3' });
    assert.equal((await api('POST', '/v1/production/pending/s3/resend', key)).status, 202);
    await waitFor('the resend recorded, unsent', async () => {
      const doc = (await api('GET', '/v1/production/documents/s3', key)).body;
      const delivery = doc.endpoints.find((e: { endpointId: string }) => e.endpointId === failingId);
      assert.equal(delivery.attempts.at(-1)?.error, 'not sent: the endpoint was deleted', JSON.stringify(delivery));
    });
    assert.equal((await api('DELETE', '/v1/production/pending/s3', key)).status, 204);
    assert.deepEqual((await api('GET', '/v1/production/pending', key)).body.data, []);
    await submit({ id: 's4', type: 'summary' });
    await waitFor('s4', async () => assert.ok(idsAt(summaries).includes('s4'), 'not yet'));
    assert.equal(failing.received.length, seen, 'nothing to the deleted endpoint');

    // First, shipments, and 18 more: 20. The 21st is refused.
    for (let i = 0; i < 18; i++) {
      const res = await api('POST', '/v1/production/endpoints', key, { url: summaries.url, kinds: ['summary'] });
      assert.equal(res.status, 201, `endpoint ${i + 3}`);
    }
    const refused = await api('POST', '/v1/production/endpoints', key, { url: summaries.url });
    assert.equal(refused.status, 422);
    assert.match(refused.body.error.message, /at most 20 endpoints/);
    assert.equal((await api('GET', '/v1/production/endpoints', key)).body.data.length, 20);
  });

  it('refuses bad input, naming the field, and changes nothing', async () => {
    const bad = await api('POST', '/v1/production/endpoints', key, {
      url: summaries.url,
      filterTypes: ['shipment..*'],
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details[0].path, 'body.filterTypes.0');
    const kinds = await api('PATCH', `/v1/production/endpoints/${shipmentsId}`, key, { kinds: ['memo'] });
    assert.equal(kinds.status, 400);
    assert.equal((await api('GET', '/v1/production/endpoints/ep_nope', key)).status, 404);
    assert.equal((await api('GET', '/v1/production/endpoints/nope', key)).status, 400);
    assert.equal((await api('PATCH', `/v1/production/endpoints/${shipmentsId}`, key, {})).status, 400);
    const sandboxKey = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'otherco', name: 'O' })).body.apiKeys
      .sandbox;
    assert.equal((await api('GET', `/v1/production/endpoints/${shipmentsId}`, sandboxKey)).status, 403);
    assert.deepEqual((await api('GET', `/v1/production/endpoints/${shipmentsId}`, key)).body.filterTypes, [
      'shipment.lost',
    ]);
  });
});
