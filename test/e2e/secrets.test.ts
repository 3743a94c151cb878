import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { waitFor } from '../../scripts/lib/stack';
import { deliveryWorkflowId, endpointWorkflowId } from '../../src/domain/ids';
import type { EndpointState } from '../../src/domain/schemas';
import { hashApiKey } from '../../src/lib/api-keys';
import { endpointStateQuery } from '../../src/workflows/messages';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

/** A receiver's credential, as customers put one in a custom header. */
const token = (what: string) => `Bearer ${what}_${randomBytes(12).toString('hex')}`;

/**
 * Whoever can read Temporal (its database, the Web UI, `temporal workflow show`) reads no secret: after a customer
 * is created, a webhook set and a document delivered, the raw bytes of every history and description involved hold
 * neither the webhook secret, the API keys nor their hashes. The operator reads them through the codec endpoint.
 * Custom header values (receivers' tokens) are sealed like secrets, and no answer of the API shows them.
 */
describe('no secret readable in Temporal, on the real stack', () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  let receiver: Receiver;
  let raw: Client;
  let keys: { production: string; sandbox: string };
  let secret: string;
  const webhookToken = token('webhook');

  before(async () => {
    stack = await startTestStack();
    api = apiClient(stack.baseUrl);
    receiver = await startReceiver(always(200));
    // A client without the codec: what anyone with access to Temporal sees.
    raw = new Client({ connection: await Connection.connect({ address: stack.config.TEMPORAL_ADDRESS }) });
    keys = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'vault', name: 'Vault' })).body.apiKeys;
    const put = await api('PUT', '/v1/production/webhook', keys.production, {
      url: receiver.url,
      headers: { authorization: webhookToken },
    });
    secret = put.body.secret;
    await api('POST', '/v1/production/documents', ADMIN_KEY, { customerId: 'vault', id: 'd1', type: 'event', data: 1 });
    await waitFor('delivery', async () =>
      assert.equal((await api('GET', '/v1/production/documents/d1', keys.production)).body.status, 'delivered'),
    );
  });
  after(async () => {
    await receiver?.close();
    await raw?.connection.close();
    await stack?.stop();
  });

  /** The description as the server sends it: the SDK's describe() would try to decode the memo, and cannot. */
  const describeRaw = (workflowId: string) =>
    raw.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId } });

  it('histories, memos and descriptions hold no secret, API key or key hash', async () => {
    const secrets = {
      'webhook secret': secret,
      'webhook secret bytes': secret.slice('whsec_'.length),
      'production API key': keys.production,
      'sandbox API key': keys.sandbox,
      'production key hash': hashApiKey(keys.production),
      'sandbox key hash': hashApiKey(keys.sandbox),
    };
    const workflows = [
      endpointWorkflowId('production', 'vault'),
      endpointWorkflowId('sandbox', 'vault'),
      deliveryWorkflowId('production', 'vault', 'd1'),
    ];
    let checked = 0;
    for (const workflowId of workflows) {
      const handle = raw.workflow.getHandle(workflowId);
      const history = temporal.api.history.v1.History.encode(await handle.fetchHistory()).finish();
      const description = temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse.encode(
        await describeRaw(workflowId),
      ).finish();
      for (const bytes of [history, description]) {
        const text = Buffer.from(bytes).toString('latin1');
        for (const [what, value] of Object.entries(secrets)) {
          assert.ok(!text.includes(value), `${what} readable in ${workflowId}`);
          checked++;
        }
      }
    }
    assert.equal(checked, workflows.length * 2 * Object.keys(secrets).length);
  });

  it('what the Web UI decodes through the codec (histories, memo, queries) holds no signing secret', async () => {
    // A rotation, so a previous secret is held too.
    const rotated = await api('POST', '/v1/production/webhook/secret/rotate', keys.production);
    assert.equal(rotated.status, 200);
    const signing = [secret, rotated.body.secret as string];
    assert.match(signing[1], /^whsec_/, 'the customer is shown the new secret itself');
    await api('POST', '/v1/production/documents', ADMIN_KEY, { customerId: 'vault', id: 'd2', type: 'event', data: 2 });
    await waitFor('delivery', async () =>
      assert.equal((await api('GET', '/v1/production/documents/d2', keys.production)).body.status, 'delivered'),
    );
    // Both secrets signed it: the worker opens them where it signs.
    assert.equal(String(receiver.received.at(-1)!.headers['webhook-signature']).split(' ').length, 2);

    /** Every payload in a decoded protobuf object, wherever it sits (inputs, results, memo, search attributes). */
    const payloadsIn = (value: unknown, found: { metadata?: unknown; data?: Uint8Array }[] = []) => {
      if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
        const record = value as Record<string, unknown>;
        if (record.data instanceof Uint8Array && record.metadata) found.push(record as { data: Uint8Array });
        else for (const child of Object.values(record)) payloadsIn(child, found);
      }
      return found;
    };
    const asJson = (payload: { metadata?: unknown; data?: Uint8Array }) => ({
      metadata: Object.fromEntries(
        Object.entries((payload.metadata ?? {}) as Record<string, Uint8Array>).map(([k, v]) => [
          k,
          Buffer.from(v).toString('base64'),
        ]),
      ),
      data: Buffer.from(payload.data ?? []).toString('base64'),
    });
    const readable: string[] = [];
    for (const workflowId of [
      endpointWorkflowId('production', 'vault'),
      deliveryWorkflowId('production', 'vault', 'd2'),
    ]) {
      const history = await raw.workflow.getHandle(workflowId).fetchHistory();
      const payloads = [...payloadsIn(history), ...payloadsIn(await describeRaw(workflowId))];
      assert.ok(payloads.length > 5, `${workflowId}: ${payloads.length} payloads`);
      for (let i = 0; i < payloads.length; i += 50) {
        const decoded = await api('POST', '/codec/decode', ADMIN_KEY, {
          payloads: payloads.slice(i, i + 50).map(asJson),
        });
        assert.equal(decoded.status, 200);
        for (const { data } of decoded.body.payloads) readable.push(Buffer.from(data, 'base64').toString('latin1'));
      }
    }
    // The query the Web UI's Queries tab runs, through a client with the codec.
    const client = await stack.temporalClient();
    try {
      const state = await client.workflow
        .getHandle(endpointWorkflowId('production', 'vault'))
        .query(endpointStateQuery);
      readable.push(JSON.stringify(state));
      assert.match(state.secret!, /^sealed:v1:/);
      assert.match(state.previousSecret!.secret, /^sealed:v1:/);
    } finally {
      await client.connection.close();
    }
    for (const value of signing) {
      const bytes = value.slice('whsec_'.length);
      assert.ok(!readable.some((text) => text.includes(bytes)), 'a signing secret is readable through the codec');
    }
    assert.ok(!readable.some((text) => text.includes(webhookToken)), 'a header value is readable through the codec');
    assert.ok(
      readable.some((text) => text.includes(receiver.url)),
      'while the rest of the state is',
    );
  });

  it('the memo is encrypted, and the operator decodes it through the codec endpoint', async () => {
    const description = await describeRaw(endpointWorkflowId('production', 'vault'));
    const payload = description.workflowExecutionInfo!.memo!.fields!.endpoint;
    assert.equal(Buffer.from(payload.metadata!.encoding!).toString(), 'binary/encrypted');
    const body = {
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(payload.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
          data: Buffer.from(payload.data!).toString('base64'),
        },
      ],
    };
    const decoded = await api('POST', '/codec/decode', ADMIN_KEY, body);
    assert.equal(decoded.status, 200);
    const memo = JSON.parse(Buffer.from(decoded.body.payloads[0].data, 'base64').toString());
    assert.equal(memo.url, receiver.url, 'the operator reads the real state back');
    assert.match(memo.secret, /^sealed:v1:/, 'the secret as a sealed value: that it exists, not what it is');

    // A large document's payload (the CLI and the Web UI send one event's payloads at a time) goes through whole.
    const large = { payloads: [{ metadata: {}, data: Buffer.from('x'.repeat(1024 * 1024)).toString('base64') }] };
    const sealed = await api('POST', '/codec/encode', ADMIN_KEY, large);
    assert.equal(sealed.status, 200);
    const opened = await api('POST', '/codec/decode', ADMIN_KEY, sealed.body);
    assert.equal(opened.status, 200);
    assert.equal(opened.body.payloads[0].data, large.payloads[0].data);
    assert.equal((await api('POST', '/codec/decode', undefined, large)).status, 401, 'read only for the operator');

    // protojson leaves out an empty list: the CLI sends `{}` for an Update without arguments.
    const none = await api('POST', '/codec/decode', ADMIN_KEY, {});
    assert.deepEqual([none.status, none.body], [200, { payloads: [] }]);
    assert.equal((await api('POST', '/codec/decode', undefined, body)).status, 401);
    assert.equal((await api('POST', '/codec/decode', keys.production, body)).status, 401, 'customers cannot');
    // The Web UI calls it from its own origin, at either address the local stack prints: a CORS preflight is
    // answered for those origins only.
    for (const origin of ['http://localhost:8233', 'http://127.0.0.1:8233']) {
      const preflight = await fetch(`${stack.baseUrl}/codec/decode`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), origin);
    }
    const elsewhere = await fetch(`${stack.baseUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(elsewhere.headers.get('access-control-allow-origin'), null);
  });

  it('header values reach the receiver and nowhere else: answers show their names, entities hold them sealed', async () => {
    const other = await startReceiver(always(200));
    const client = await stack.temporalClient();
    try {
      const otherToken = token('other');
      // A value that merely looks sealed is the customer's own text: sealed in turn, and sent as given.
      const lookalike = 'sealed:v1:k1:not-ours';
      const created = await api('POST', '/v1/production/endpoints', keys.production, {
        url: other.url,
        headers: { Authorization: otherToken, 'X-Tenant': 'vault', 'X-Lookalike': lookalike },
      });
      assert.equal(created.status, 201);
      assert.deepEqual(created.body.headerNames, ['Authorization', 'X-Tenant', 'X-Lookalike']);
      const endpointId = created.body.id as string;
      const endpointPath = `/v1/production/endpoints/${endpointId}`;

      // Receivers get the values.
      assert.equal(receiver.received[0].headers.authorization, webhookToken, 'd1 carried the webhook header');
      const submit = async (id: string) => {
        const sent = await api('POST', '/v1/production/documents', ADMIN_KEY, {
          customerId: 'vault',
          id,
          type: 'event',
          data: id,
        });
        assert.equal(sent.status, 202);
        const at = (r: Receiver) => r.received.find((got) => got.headers['webhook-id'] === id);
        return waitFor(`${id} at both receivers`, async () => {
          const [first, second] = [at(receiver), at(other)];
          assert.ok(first && second, `${id}: at the webhook ${Boolean(first)}, at the other ${Boolean(second)}`);
          return { first: first.headers, second: second.headers };
        });
      };
      const d3 = await submit('d3');
      assert.equal(d3.first.authorization, webhookToken);
      assert.deepEqual([d3.second.authorization, d3.second['x-tenant']], [otherToken, 'vault']);
      assert.equal(d3.second['x-lookalike'], lookalike);

      // Every answer that presents an endpoint: the names, never a value, sealed or not.
      const answers = {
        'GET /webhook': await api('GET', '/v1/production/webhook', keys.production),
        'GET /endpoints': await api('GET', '/v1/production/endpoints', keys.production),
        'GET /endpoints/ep_default': await api('GET', '/v1/production/endpoints/ep_default', keys.production),
        'GET /endpoints/{id}': await api('GET', endpointPath, keys.production),
        'POST /endpoints': created,
      };
      for (const [what, answer] of Object.entries(answers)) {
        assert.equal(answer.status, 200 + (what.startsWith('POST') ? 1 : 0), what);
        const text = JSON.stringify(answer.body);
        for (const value of [webhookToken, otherToken, 'sealed:v1:']) assert.ok(!text.includes(value), what);
      }
      assert.deepEqual(answers['GET /webhook'].body.headerNames, ['authorization']);
      assert.deepEqual(answers['GET /endpoints/{id}'].body.headerNames, ['Authorization', 'X-Tenant', 'X-Lookalike']);

      // The entities, as their memo (which every read uses) and their query show them through the codec: sealed.
      for (const [workflowId, value] of [
        [endpointWorkflowId('production', 'vault'), webhookToken],
        [endpointWorkflowId('production', 'vault', endpointId), otherToken],
      ]) {
        const handle = client.workflow.getHandle(workflowId);
        const memo = (await handle.describe()).memo?.endpoint as EndpointState;
        for (const held of [memo, await handle.query(endpointStateQuery)]) {
          assert.ok(!JSON.stringify(held).includes(value), `a header value in the clear in ${workflowId}`);
          for (const sealed of Object.values(held.headers!)) assert.match(sealed, /^sealed:v1:/);
        }
      }

      // PATCH changes the headers it names (null removes one, a name in another case replaces it); the rest stay.
      const rotatedToken = token('rotated');
      const patched = await api('PATCH', endpointPath, keys.production, {
        headers: { 'x-tenant': null, authorization: rotatedToken, 'X-Region': 'eu' },
      });
      assert.equal(patched.status, 200);
      assert.deepEqual(patched.body.headerNames, ['X-Lookalike', 'authorization', 'X-Region']);
      assert.ok(!JSON.stringify(patched.body).includes(rotatedToken));
      // A PUT without headers keeps them; past 20 headers in all, a PATCH is refused and changes nothing.
      const put = await api('PUT', endpointPath, keys.production, { url: other.url });
      assert.equal(put.status, 200);
      assert.deepEqual(put.body.headerNames, ['X-Lookalike', 'authorization', 'X-Region']);
      const many = Object.fromEntries(Array.from({ length: 18 }, (_, n) => [`X-Extra-${n}`, 'x']));
      const refused = await api('PATCH', endpointPath, keys.production, { headers: many });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.details[0].path, 'body.headers');
      // The webhook's PATCH takes headers too.
      const cleared = await api('PATCH', '/v1/production/webhook', keys.production, {
        headers: { Authorization: null },
      });
      assert.equal(cleared.status, 200);
      assert.deepEqual(cleared.body.headerNames, []);

      const d4 = await submit('d4');
      assert.equal(d4.first.authorization, undefined, 'the webhook header removed');
      assert.deepEqual(
        [d4.second.authorization, d4.second['x-region'], d4.second['x-tenant'], d4.second['x-lookalike']],
        [rotatedToken, 'eu', undefined, lookalike],
      );
      assert.equal(d4.second['x-extra-0'], undefined, 'the refused PATCH changed nothing');
    } finally {
      await client.connection.close();
      await other.close();
    }
  });
});
