import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../scripts/lib/stack';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

describe('end to end over HTTP: the event-type catalog and the message log', () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  let receiver: Receiver;
  let key: string;

  const delivered = {
    name: 'shipment.delivered',
    kind: 'event',
    description: 'A parcel reached its recipient',
    schema: {
      type: 'object',
      required: ['trackingId'],
      properties: { trackingId: { type: 'string', minLength: 3 }, signedBy: { type: 'string' } },
    },
  };

  before(async () => {
    stack = await startTestStack();
    api = apiClient(stack.baseUrl);
    receiver = await startReceiver(always(200));
    key = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'parcelco', name: 'ParcelCo' })).body.apiKeys.production;
    assert.equal((await api('PUT', '/v1/production/webhook', key, { url: receiver.url })).status, 200);
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  const submit = (body: Record<string, unknown>) =>
    api('POST', '/v1/production/documents', ADMIN_KEY, { customerId: 'parcelco', ...body });

  it('the operator adds types; operators and customers read the catalog, nobody else', async () => {
    assert.deepEqual((await api('GET', '/v1/event-types', key)).body, { data: [] }, 'empty before the first type');
    const created = await api('POST', '/v1/event-types', ADMIN_KEY, delivered);
    assert.equal(created.status, 201);
    assert.equal(created.body.name, 'shipment.delivered');
    assert.equal(created.body.archived, false);
    assert.ok(Date.parse(created.body.createdAt) > 0);
    const summary = { name: 'invoice.daily', kind: 'summary' };
    assert.equal((await api('POST', '/v1/event-types', ADMIN_KEY, summary)).status, 201);

    const asCustomer = await api('GET', '/v1/event-types', key);
    assert.equal(asCustomer.status, 200);
    assert.deepEqual(
      asCustomer.body.data.map((t: { name: string }) => t.name),
      ['invoice.daily', 'shipment.delivered'],
    );
    assert.deepEqual(asCustomer.body.data[1].schema, delivered.schema);
    assert.deepEqual((await api('GET', '/v1/event-types', ADMIN_KEY)).body, asCustomer.body);
    assert.equal((await api('GET', '/v1/event-types/invoice.daily', key)).body.kind, 'summary');
    assert.equal((await api('GET', '/v1/event-types/nope.nothing', key)).status, 404);

    assert.equal((await api('GET', '/v1/event-types')).status, 401);
    assert.equal((await api('GET', '/v1/event-types', 'sk_production_bm9ib2R5_' + '0'.repeat(64))).status, 401);
    assert.equal((await api('POST', '/v1/event-types', key, { name: 'x.y', kind: 'event' })).status, 401);
  });

  it('refuses a duplicate, a bad name and a schema that does not compile, and changes nothing', async () => {
    const again = await api('POST', '/v1/event-types', ADMIN_KEY, { ...delivered, description: 'other' });
    assert.equal(again.status, 409);
    const badName = await api('POST', '/v1/event-types', ADMIN_KEY, { name: 'shipment..x', kind: 'event' });
    assert.equal(badName.status, 400);
    assert.equal(badName.body.error.details[0].path, 'body.name');
    const badSchema = await api('POST', '/v1/event-types', ADMIN_KEY, {
      name: 'shipment.lost',
      kind: 'event',
      schema: { type: 'object', propertiez: {} },
    });
    assert.equal(badSchema.status, 400);
    assert.equal(badSchema.body.error.details[0].path, 'body.schema');
    assert.match(badSchema.body.error.message, /propertiez/);
    const huge = await api('POST', '/v1/event-types', ADMIN_KEY, {
      name: 'shipment.huge',
      kind: 'event',
      schema: { description: 'x'.repeat(5000) },
    });
    assert.equal(huge.status, 400);
    assert.equal(huge.body.error.details[0].path, 'body.schema');
    const names = (await api('GET', '/v1/event-types', key)).body.data.map((t: { name: string }) => t.name);
    assert.deepEqual(names, ['invoice.daily', 'shipment.delivered']);
    assert.equal((await api('GET', '/v1/event-types/shipment.delivered', key)).body.description, delivered.description);
  });

  it('a document naming a type is checked against it, delivered with it, and findable by it', async () => {
    const unknown = await submit({ id: 'd0', type: 'event', eventType: 'shipment.teleported', data: {} });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.details[0].path, 'body.eventType');
    assert.match(unknown.body.error.message, /unknown event type shipment\.teleported/);

    const wrongKind = await submit({ id: 'd0', type: 'summary', eventType: 'shipment.delivered', data: {} });
    assert.equal(wrongKind.status, 400);
    assert.equal(wrongKind.body.error.details[0].path, 'body.type');

    const missing = await submit({ id: 'd0', type: 'event', eventType: 'shipment.delivered', data: { signedBy: 'A' } });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.details[0].path, 'body.data');
    assert.match(missing.body.error.message, /trackingId.*schema #\/required/);
    const short = await submit({ id: 'd0', type: 'event', eventType: 'shipment.delivered', data: { trackingId: 'x' } });
    assert.equal(short.status, 400);
    assert.equal(short.body.error.details[0].path, 'body.data.trackingId');
    assert.match(short.body.error.message, /schema #\/properties\/trackingId\/minLength/);
    assert.equal((await api('GET', '/v1/production/documents/d0', key)).status, 404, 'nothing was started');

    const data = { trackingId: 'TRK-1', signedBy: 'Ann' };
    const ok = await submit({ id: 'd1', type: 'event', eventType: 'shipment.delivered', data });
    assert.equal(ok.status, 202);
    const request = await waitFor('the delivery', async () => {
      const found = receiver.received.find((r) => r.headers['webhook-id'] === 'd1');
      assert.ok(found, 'not yet');
      return found;
    });
    const body = JSON.parse(request.body);
    assert.equal(body.eventType, 'shipment.delivered');
    assert.deepEqual(body.data, data);
    const document = await waitFor('delivered', async () => {
      const res = await api('GET', '/v1/production/documents/d1', key);
      assert.equal(res.body.status, 'delivered');
      return res.body;
    });
    assert.equal(document.eventType, 'shipment.delivered');

    // A document without a type is delivered as before: no eventType in its body.
    assert.equal((await submit({ id: 'd2', type: 'event', data: { n: 2 } })).status, 202);
    const plain = await waitFor('d2', async () => {
      const found = receiver.received.find((r) => r.headers['webhook-id'] === 'd2');
      assert.ok(found, 'not yet');
      return JSON.parse(found.body);
    });
    assert.deepEqual(Object.keys(plain), ['id', 'type', 'environment', 'createdAt', 'data']);

    // Temporal's visibility finds documents by their event type (the message log reads it).
    const client = await stack.temporalClient();
    try {
      const ids = await waitFor('visibility', async () => {
        const found: string[] = [];
        for await (const wf of client.workflow.list({ query: `EventType = 'shipment.delivered'` })) {
          found.push(wf.workflowId);
        }
        assert.equal(found.length, 1);
        return found;
      });
      assert.deepEqual(ids, ['delivery:production:parcelco:d1']);
    } finally {
      await client.connection.close();
    }
  });

  it('a changed schema applies to the next document, and an archived type is refused for new ones', async () => {
    const loosened = await api('PATCH', '/v1/event-types/shipment.delivered', ADMIN_KEY, { schema: null });
    assert.equal(loosened.status, 200);
    assert.equal(loosened.body.schema, undefined);
    assert.ok(loosened.body.updatedAt >= loosened.body.createdAt);
    // This API process just wrote the change: its copy of the catalog has it.
    assert.equal((await submit({ id: 'd3', type: 'event', eventType: 'shipment.delivered', data: {} })).status, 202);

    const archived = await api('PATCH', '/v1/event-types/shipment.delivered', ADMIN_KEY, { archived: true });
    assert.equal(archived.body.archived, true);
    const refused = await submit({ id: 'd4', type: 'event', eventType: 'shipment.delivered', data: {} });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message, /archived/);
    const listed = (await api('GET', '/v1/event-types', key)).body.data.map((t: { name: string }) => t.name);
    assert.deepEqual(listed, ['invoice.daily'], 'archived types are left out by default');
    const all = await api('GET', '/v1/event-types?includeArchived=true', key);
    assert.equal(all.body.data.length, 2);

    assert.equal((await api('PATCH', '/v1/event-types/nope.nothing', ADMIN_KEY, { archived: true })).status, 404);
    assert.equal((await api('PATCH', '/v1/event-types/invoice.daily', ADMIN_KEY, {})).status, 400);
    assert.equal((await api('PATCH', '/v1/event-types/invoice.daily', key, { archived: true })).status, 401);
  });

  it('the message log lists the documents newest first, filtered and paged, from visibility', async () => {
    // Another customer's documents never show.
    const other = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'otherco', name: 'Other' })).body.apiKeys;
    await api('POST', '/v1/production/documents', ADMIN_KEY, {
      customerId: 'otherco',
      id: 'x1',
      type: 'event',
      data: {},
    });
    for (const id of ['d5', 'd6', 'd7']) {
      assert.equal((await submit({ id, type: 'summary', eventType: 'invoice.daily', data: {} })).status, 202);
    }
    // Everything submitted here so far: d1, d2, d3, then d5, d6, d7.
    const expected = ['d7', 'd6', 'd5', 'd3', 'd2', 'd1'];
    const log = async (query = '', as = key) => {
      const res = await api('GET', `/v1/production/documents${query}`, as);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as { data: { id: string; status: string; eventType?: string }[]; nextCursor?: string };
    };
    await waitFor('visibility to show every document delivered', async () => {
      const all = await log('?limit=100');
      assert.deepEqual(
        all.data.map((d) => d.id),
        expected,
      );
      assert.ok(
        all.data.every((d) => d.status === 'delivered'),
        'not all delivered yet',
      );
      assert.equal(all.nextCursor, undefined);
    });

    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await log(`?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      pages.push(page.data.map((d) => d.id));
      cursor = page.nextCursor;
    } while (cursor && pages.length < 5);
    assert.deepEqual(pages, [
      ['d7', 'd6', 'd5', 'd3'],
      ['d2', 'd1'],
    ]);

    const shipments = await log('?eventType=shipment.delivered');
    assert.deepEqual(
      shipments.data.map((d) => [d.id, d.eventType]),
      [
        ['d3', 'shipment.delivered'],
        ['d1', 'shipment.delivered'],
      ],
    );
    assert.deepEqual(
      (await log('?type=summary')).data.map((d) => d.id),
      ['d7', 'd6', 'd5'],
    );
    assert.deepEqual((await log('?status=pending')).data, []);
    const d5 = (await api('GET', '/v1/production/documents/d5', key)).body;
    const d7 = (await api('GET', '/v1/production/documents/d7', key)).body;
    const window = `?since=${encodeURIComponent(d5.createdAt)}&until=${encodeURIComponent(d7.createdAt)}`;
    assert.deepEqual(
      (await log(window)).data.map((d) => d.id),
      ['d6', 'd5'],
    );

    // The support desk sees the same log; the other customer sees only its own.
    const asOperator = await api('GET', '/v1/production/customers/parcelco/documents?limit=100', ADMIN_KEY);
    assert.deepEqual(
      asOperator.body.data.map((d: { id: string }) => d.id),
      expected,
    );
    assert.equal((await api('GET', '/v1/production/customers/nobody/documents', ADMIN_KEY)).status, 404);
    await waitFor('the other customer', async () =>
      assert.deepEqual(
        (await log('', other.production)).data.map((d) => d.id),
        ['x1'],
      ),
    );

    const bad = await api('GET', '/v1/production/documents?cursor=nope', key);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details[0].path, 'query.cursor');
    const backwards = await api('GET', `/v1/production/documents?since=${d7.createdAt}&until=${d5.createdAt}`, key);
    assert.equal(backwards.status, 400);
    assert.equal(backwards.body.error.details[0].path, 'query.until');
    assert.equal((await api('GET', '/v1/production/documents?status=lost', key)).status, 400);
    assert.equal((await api('GET', '/v1/sandbox/documents', key)).status, 403);
  });
});
