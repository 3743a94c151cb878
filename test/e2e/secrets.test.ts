import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { waitFor } from '../../scripts/lib/stack';
import { deliveryWorkflowId, endpointWorkflowId } from '../../src/domain/ids';
import { hashApiKey } from '../../src/lib/api-keys';
import { endpointStateQuery } from '../../src/workflows/messages';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

/**
 * Whoever can read Temporal (its database, the Web UI, `temporal workflow show`) reads no secret: after a customer
 * is created, a webhook set and a document delivered, the raw bytes of every history and description involved hold
 * neither the webhook secret, the API keys nor their hashes. The operator reads them through the codec endpoint.
 */
describe('no secret readable in Temporal, on the real stack', () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  let receiver: Receiver;
  let raw: Client;
  let keys: { production: string; sandbox: string };
  let secret: string;

  before(async () => {
    stack = await startTestStack();
    api = apiClient(stack.baseUrl);
    receiver = await startReceiver(always(200));
    // A client without the codec: what anyone with access to Temporal sees.
    raw = new Client({ connection: await Connection.connect({ address: stack.config.TEMPORAL_ADDRESS }) });
    keys = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'vault', name: 'Vault' })).body.apiKeys;
    secret = (await api('PUT', '/v1/production/webhook', keys.production, { url: receiver.url })).body.secret;
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
});
