import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Router } from 'express';
import { createApp } from '../../src/api/app';
import type { DeliveryService } from '../../src/api/service';
import { loadConfig } from '../../src/config';
import { waitFor } from '../../scripts/lib/stack';
import { drainPendingEvents } from '../../examples/client/pending';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { ADMIN_KEY, startTestStack, type TestStack } from '../helpers/stack';

type Method = 'get' | 'put' | 'post' | 'patch' | 'delete' | 'options';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** Every route the Express app declares, as `METHOD /openapi/{style}` (the assets under /docs/assets aside). */
function declaredRoutes(): string[] {
  const config = loadConfig({
    ADMIN_API_KEY: ADMIN_KEY,
    PAYLOAD_KEYS: 'test:' + Buffer.alloc(32, 1).toString('base64'),
  });
  const app = createApp({ service: {} as DeliveryService, config });
  const found: string[] = [];
  const walk = (stack: Router['stack']) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = ([] as string[]).concat(layer.route.path as string | string[]);
        const methods = Object.keys((layer.route as unknown as { methods: Record<string, boolean> }).methods);
        for (const p of paths.filter((p) => !p.startsWith('/docs/assets/')))
          for (const m of methods) found.push(`${m.toUpperCase()} ${p.replace(/:(\w+)/g, '{$1}')}`);
      } else if ((layer.handle as Partial<Router>).stack) {
        walk((layer.handle as Router).stack);
      }
    }
  };
  walk((app as unknown as { router: Router }).router.stack);
  return [...new Set(found)].sort();
}

// Every route on the real stack, and each real answer (status and body) checked against GET /openapi.json.
describe('the OpenAPI document describes every route and every answer', () => {
  let stack: TestStack;
  let failing: Receiver;
  let doc: Json;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const driven = new Set<string>();

  /** Calls a route by its template and checks the answer against the document; returns it. */
  async function call(
    method: Method,
    template: string,
    {
      params = {},
      key,
      body,
      query,
      contentType,
    }: {
      params?: Record<string, string>;
      key?: string;
      body?: unknown;
      query?: string;
      contentType?: string;
    } = {},
  ): Promise<{ status: number; body: Json; type: string }> {
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name]));
    const res = await fetch(`${stack.baseUrl}${path}${query ? `?${query}` : ''}`, {
      method: method.toUpperCase(),
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': contentType ?? 'application/json' } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const type = res.headers.get('content-type') ?? '';
    const text = await res.text();
    const operation = doc.paths[template]?.[method];
    assert.ok(operation, `${method.toUpperCase()} ${template} is missing from the OpenAPI document`);
    driven.add(`${method.toUpperCase()} ${template}`);
    const response = operation.responses[String(res.status)];
    assert.ok(response, `${method.toUpperCase()} ${template} answered ${res.status}, not in the document: ${text}`);
    if (res.status === 204) return { status: res.status, body: undefined, type };
    const media = type.split(';')[0];
    assert.ok(response.content?.[media], `${method.toUpperCase()} ${template} ${res.status}: ${media} not documented`);
    const parsed = media === 'application/json' ? JSON.parse(text) : text;
    const pointer = ['paths', template, method, 'responses', String(res.status), 'content', media, 'schema']
      .map((part) => encodeURIComponent(part.replace(/~/g, '~0').replace(/\//g, '~1')))
      .join('/');
    const validate = ajv.getSchema(`openapi.json#/${pointer}`);
    assert.ok(validate, `no schema at ${pointer}`);
    assert.ok(
      validate(parsed),
      `${method.toUpperCase()} ${template} ${res.status} does not match the document: ${ajv.errorsText(validate.errors)}\n${text}`,
    );
    return { status: res.status, body: parsed, type };
  }

  before(async () => {
    stack = await startTestStack({ RETRY_SCHEDULE_PRODUCTION: '1s', DELIVERY_TIMEOUT: '2s', MAX_BODY_BYTES: '4096' });
    failing = await startReceiver(always(500));
    const res = await fetch(`${stack.baseUrl}/openapi.json`);
    assert.equal(res.status, 200);
    doc = await res.json();
    assert.equal(doc.openapi, '3.1.0');
    ajv.addSchema(doc, 'openapi.json');
  });
  after(async () => {
    await failing?.close();
    await stack?.stop();
  });

  it('names both keys as security schemes', () => {
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['customerKey', 'operatorKey']);
    assert.deepEqual(doc.paths['/v1/customers'].post.security, [{ operatorKey: [] }]);
    assert.deepEqual(doc.paths['/v1/{env}/webhook'].get.security, [{ customerKey: [] }]);
  });

  it('lists every route the app declares', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item as object).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const missing = declaredRoutes().filter((route) => !documented.includes(route));
    assert.deepEqual(missing, [], 'routes missing from the document');
  });

  it('every answer of every route matches the document', async () => {
    // Service and docs.
    await call('get', '/healthz');
    await call('get', '/openapi.json');
    assert.match((await call('get', '/metrics')).body, /webhook_api_requests_total/);
    assert.match((await call('get', '/docs')).body, /swagger-ui/);
    await call('get', '/');
    await call('get', '/webhook');

    // The codec, both ways, and a payload it cannot decode.
    const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: btoa('"hi"') };
    const encoded = await call('post', '/codec/encode', { key: ADMIN_KEY, body: { payloads: [plain] } });
    assert.equal(encoded.status, 200);
    const decoded = await call('post', '/codec/decode', { key: ADMIN_KEY, body: encoded.body });
    assert.deepEqual(decoded.body.payloads[0].data, plain.data);
    const garbage = { metadata: { encoding: btoa('binary/encrypted') }, data: btoa('nope') };
    assert.equal((await call('post', '/codec/decode', { key: ADMIN_KEY, body: { payloads: [garbage] } })).status, 400);
    // The browser's preflight before the Web UI posts (no key: browsers send none with it).
    assert.equal((await call('options', '/codec/encode')).status, 204);
    assert.equal((await call('options', '/codec/decode')).status, 204);

    // Operator: customers.
    const created = await call('post', '/v1/customers', { key: ADMIN_KEY, body: { id: 'acme', name: 'Acme' } });
    assert.equal(created.status, 201);
    const { sandbox, production } = created.body.apiKeys as { sandbox: string; production: string };
    assert.equal(
      (await call('post', '/v1/customers', { key: ADMIN_KEY, body: { id: 'acme', name: 'A' } })).status,
      409,
    );
    assert.equal((await call('post', '/v1/customers', { body: { id: 'x', name: 'X' } })).status, 401);
    assert.equal((await call('post', '/v1/customers', { key: ADMIN_KEY, body: { id: 'a/b', name: 'X' } })).status, 400);
    const big = { id: 'big', name: 'x'.repeat(5000) };
    assert.equal((await call('post', '/v1/customers', { key: ADMIN_KEY, body: big })).status, 413);
    const text = { key: ADMIN_KEY, body: 'id=x', contentType: 'text/plain' };
    assert.equal((await call('post', '/v1/customers', text)).status, 415);

    // Event types: the operator writes the catalog, either key reads it.
    const orderPlaced = { name: 'order.placed', kind: 'event', schema: { type: 'object' } };
    assert.equal((await call('post', '/v1/event-types', { key: ADMIN_KEY, body: orderPlaced })).status, 201);
    assert.equal((await call('post', '/v1/event-types', { key: ADMIN_KEY, body: orderPlaced })).status, 409);
    assert.equal(
      (await call('get', '/v1/event-types', { key: production, query: 'includeArchived=true' })).status,
      200,
    );
    const typeName = { name: 'order.placed' };
    assert.equal((await call('get', '/v1/event-types/{name}', { params: typeName, key: ADMIN_KEY })).status, 200);
    const patched = await call('patch', '/v1/event-types/{name}', {
      params: typeName,
      key: ADMIN_KEY,
      body: { description: 'An order was placed' },
    });
    assert.equal(patched.body.description, 'An order was placed');
    const noType = { name: 'order.none' };
    assert.equal((await call('get', '/v1/event-types/{name}', { params: noType, key: production })).status, 404);

    // Customer: the webhook, failing, so documents go pending after two attempts a second apart.
    const env = { env: 'production' };
    const put = await call('put', '/v1/{env}/webhook', { params: env, key: production, body: { url: failing.url } });
    assert.equal(put.status, 200);
    assert.match(put.body.secret, /^whsec_/);
    const badUrl = await call('put', '/v1/{env}/webhook', { params: env, key: production, body: { url: 'ftp://x' } });
    assert.equal(badUrl.status, 400);
    assert.equal(badUrl.body.error.details[0].path, 'body.url');
    assert.equal((await call('get', '/v1/{env}/webhook', { params: env, key: sandbox })).status, 403);
    assert.equal((await call('get', '/v1/{env}/webhook', { params: env })).status, 401);
    const unset = await call('get', '/v1/{env}/webhook', { params: { env: 'sandbox' }, key: sandbox });
    assert.equal(unset.body.url, null);
    const rotated = await call('post', '/v1/{env}/webhook/secret/rotate', { params: env, key: production });
    assert.notEqual(rotated.body.secret, put.body.secret);
    assert.equal(typeof rotated.body.previousSecretExpiresAt, 'string');
    const unrotatable = await call('post', '/v1/{env}/webhook/secret/rotate', {
      params: { env: 'sandbox' },
      key: sandbox,
    });
    assert.equal(unrotatable.status, 409, 'no webhook, no secret to rotate');
    const got = await call('get', '/v1/{env}/webhook', { params: env, key: production });
    assert.equal(got.body.secret, undefined, 'the secret is shown only when set');
    await call('patch', '/v1/{env}/webhook', { params: env, key: production, body: { active: true } });
    assert.equal((await call('get', '/v1/{env}/preferences', { params: env, key: production })).status, 200);
    const prefs = { pendingNotifications: false };
    assert.equal(
      (await call('put', '/v1/{env}/preferences', { params: env, key: production, body: prefs })).status,
      200,
    );

    // Documents: the first runs out of its two attempts (a second apart) and suspends the endpoint; the two after it
    // go straight to the bucket without a request.
    const submitDoc = async (id: string) => {
      const doc = { customerId: 'acme', id, type: 'event', data: { id } };
      assert.equal((await call('post', '/v1/{env}/documents', { params: env, key: ADMIN_KEY, body: doc })).status, 202);
    };
    await submitDoc('evt_1');
    const ids = { ...env, id: 'evt_1' };
    await waitFor('evt_1 to reach the bucket', async () => {
      const status = await call('get', '/v1/{env}/documents/{id}', { params: ids, key: production });
      assert.equal(status.body.status, 'pending');
    });
    await waitFor('the suspension', async () => {
      const hook = await call('get', '/v1/{env}/webhook', { params: env, key: production });
      assert.equal(hook.body.status, 'suspended');
    });
    await submitDoc('evt_2');
    await submitDoc('evt_3');
    const stranger = { customerId: 'nobody', id: 'evt_1', type: 'event', data: {} };
    assert.equal(
      (await call('post', '/v1/{env}/documents', { params: env, key: ADMIN_KEY, body: stranger })).status,
      404,
    );
    await waitFor('every document to reach the bucket', async () => {
      const list = await call('get', '/v1/{env}/pending', { params: env, key: production, query: 'type=event' });
      assert.equal(list.body.data.length, 3);
    });
    const paged = await call('get', '/v1/{env}/pending', { params: env, key: production, query: 'limit=1' });
    assert.equal(typeof paged.body.nextCursor, 'string');
    assert.equal(
      (await call('get', '/v1/{env}/pending', { params: env, key: production, query: 'limit=0' })).status,
      400,
    );
    const operatorView = { ...ids, customerId: 'acme' };
    const seen = await call('get', '/v1/{env}/customers/{customerId}/documents/{id}', {
      params: operatorView,
      key: ADMIN_KEY,
    });
    assert.deepEqual(
      seen.body.attempts.map((a: { attemptNumber: number; trigger: string; responseStatusCode?: number }) => [
        a.attemptNumber,
        a.trigger,
        a.responseStatusCode,
      ]),
      [
        [1, 'scheduled', 500],
        [2, 'scheduled', 500],
      ],
    );
    const later = { ...operatorView, id: 'evt_3' };
    const stored = await call('get', '/v1/{env}/customers/{customerId}/documents/{id}', {
      params: later,
      key: ADMIN_KEY,
    });
    assert.deepEqual(stored.body.attempts, [], 'stored while suspended, never sent');
    // The message log, the customer's and the support desk's.
    await waitFor('the log to list the three', async () => {
      const logged = await call('get', '/v1/{env}/documents', { params: env, key: production, query: 'limit=2' });
      assert.deepEqual(
        logged.body.data.map((d: { id: string }) => d.id),
        ['evt_3', 'evt_2'],
      );
      assert.equal(typeof logged.body.nextCursor, 'string');
    });
    const desk = await call('get', '/v1/{env}/customers/{customerId}/documents', {
      params: { ...env, customerId: 'acme' },
      key: ADMIN_KEY,
      query: 'status=pending',
    });
    assert.equal(desk.body.data.length, 3);
    const badCursor = await call('get', '/v1/{env}/documents', { params: env, key: production, query: 'cursor=x' });
    assert.equal(badCursor.status, 400);
    const unknown = { ...env, id: 'evt_none' };
    assert.equal((await call('get', '/v1/{env}/documents/{id}', { params: unknown, key: production })).status, 404);

    // Pending: pull, resend one, resend several, acknowledge.
    const pulled = await call('get', '/v1/{env}/pending/{id}', { params: ids, key: production });
    assert.deepEqual(pulled.body.data, { id: 'evt_1' });
    assert.equal((await call('post', '/v1/{env}/pending/{id}/resend', { params: ids, key: production })).status, 202);
    const many = await call('post', '/v1/{env}/pending/resend', {
      params: env,
      key: production,
      body: { ids: ['evt_2', 'evt_none'] },
    });
    assert.deepEqual(many.body, { count: 1, skipped: ['evt_none'] });
    assert.equal((await call('post', '/v1/{env}/pending/resend', { params: env, key: production })).status, 202);
    const ack = { ...env, id: 'evt_3' };
    assert.equal((await call('delete', '/v1/{env}/pending/{id}', { params: ack, key: production })).status, 204);
    assert.equal((await call('delete', '/v1/{env}/pending/{id}', { params: ack, key: production })).status, 404);
    assert.equal((await call('get', '/v1/{env}/pending/{id}', { params: ack, key: production })).status, 404);
    assert.equal((await call('post', '/v1/{env}/pending/{id}/resend', { params: ack, key: production })).status, 404);
    // Acknowledged, it can still be sent to an endpoint again: a new run; an unknown one is a 404.
    const toEndpoint = '/v1/{env}/documents/{id}/endpoints/{endpointId}/resend';
    const again = await call('post', toEndpoint, { params: { ...ack, endpointId: 'ep_default' }, key: production });
    assert.deepEqual([again.status, again.body.resent], [202, 'new_run']);
    const none = { ...env, id: 'evt_none', endpointId: 'ep_default' };
    assert.equal((await call('post', toEndpoint, { params: none, key: production })).status, 404);

    // Operator restore: a job, started at once; nothing has expired yet, so it finds nothing. Unknowns are 404.
    const restore = '/v1/{env}/customers/{customerId}/restore';
    const job = await call('post', restore, { params: { ...env, customerId: 'acme' }, key: ADMIN_KEY, body: {} });
    assert.equal(job.status, 202);
    const restoreParams = { ...env, customerId: 'acme', restoreId: job.body.restoreId };
    const finished = await waitFor('the restore job', async () => {
      const res = await call('get', '/v1/{env}/customers/{customerId}/restores/{restoreId}', {
        params: restoreParams,
        key: ADMIN_KEY,
      });
      assert.equal(res.body.status, 'completed');
      return res.body;
    });
    assert.deepEqual([finished.restored, finished.skipped, finished.more], [0, 0, false]);
    const noJob = { ...restoreParams, restoreId: 'rst_none' };
    assert.equal(
      (await call('get', '/v1/{env}/customers/{customerId}/restores/{restoreId}', { params: noJob, key: ADMIN_KEY }))
        .status,
      404,
    );
    const nobody = { ...env, customerId: 'nobody' };
    assert.equal((await call('post', restore, { params: nobody, key: ADMIN_KEY, body: {} })).status, 404);

    // Portal sessions: one asked for, its link redeemed once (then 410), the session revoked; the portal page.
    const sessions = '/v1/{env}/customers/{customerId}/portal-sessions';
    const session = await call('post', sessions, {
      params: { ...env, customerId: 'acme' },
      key: ADMIN_KEY,
      body: { readOnly: true, expiresInSeconds: 600 },
    });
    assert.equal(session.status, 201);
    const link = new URL(session.body.url).hash.replace(/^#link=/, '');
    assert.equal((await call('post', '/v1/portal/redeem', { body: { link } })).status, 200);
    assert.equal((await call('post', '/v1/portal/redeem', { body: { link } })).status, 410);
    assert.equal((await call('post', '/v1/portal/redeem', { body: { link: `${link}x` } })).status, 401);
    const ended = { ...env, customerId: 'acme', sessionId: session.body.id };
    assert.equal((await call('delete', `${sessions}/{sessionId}`, { params: ended, key: ADMIN_KEY })).status, 204);
    await call('get', '/portal');

    await call('patch', '/v1/{env}/webhook', { params: env, key: production, body: { active: false } });

    // Endpoints: the first is the webhook; another is added, read, changed, rotated and removed.
    const deskList = await call('get', '/v1/{env}/endpoints', {
      params: env,
      key: ADMIN_KEY,
      query: 'status=suspended',
    });
    assert.equal(deskList.status, 200);
    const listed = await call('get', '/v1/{env}/endpoints', { params: env, key: production });
    assert.equal(listed.body.data[0].id, 'ep_default');
    const added = await call('post', '/v1/{env}/endpoints', {
      params: env,
      key: production,
      body: { url: failing.url, kinds: ['summary'], description: 'summaries' },
    });
    assert.equal(added.status, 201);
    const endpoint = { ...env, endpointId: added.body.id };
    assert.equal(
      (await call('get', '/v1/{env}/endpoints/{endpointId}', { params: endpoint, key: production })).status,
      200,
    );
    const putEndpoint = await call('put', '/v1/{env}/endpoints/{endpointId}', {
      params: endpoint,
      key: production,
      body: { url: failing.url, filterTypes: ['order.*'] },
    });
    assert.deepEqual(putEndpoint.body.filterTypes, ['order.*']);
    const off = await call('patch', '/v1/{env}/endpoints/{endpointId}', {
      params: endpoint,
      key: production,
      body: { active: false },
    });
    assert.equal(off.body.status, 'suspended');
    const turned = await call('post', '/v1/{env}/endpoints/{endpointId}/secret/rotate', {
      params: endpoint,
      key: production,
    });
    assert.match(turned.body.secret, /^whsec_/);
    // Its pending documents: none yet, so each one is a 404.
    const its = '/v1/{env}/endpoints/{endpointId}/pending';
    assert.deepEqual((await call('get', its, { params: endpoint, key: production })).body.data, []);
    assert.equal((await call('post', `${its}/resend`, { params: endpoint, key: production })).status, 202);
    const itsDoc = { ...endpoint, id: 'evt_1' };
    assert.equal((await call('get', `${its}/{id}`, { params: itsDoc, key: production })).status, 404);
    assert.equal((await call('delete', `${its}/{id}`, { params: itsDoc, key: production })).status, 404);
    assert.equal((await call('post', `${its}/{id}/resend`, { params: itsDoc, key: production })).status, 404);
    const stats = await call('get', '/v1/{env}/endpoints/{endpointId}/stats', { params: endpoint, key: production });
    assert.equal(stats.body['24h'].successRate, null);
    const tested = await call('post', '/v1/{env}/endpoints/{endpointId}/test', {
      params: endpoint,
      key: production,
      body: {},
    });
    assert.equal(tested.status, 202);
    const noEndpoint = { ...env, endpointId: 'ep_none' };
    assert.equal(
      (await call('get', '/v1/{env}/endpoints/{endpointId}', { params: noEndpoint, key: production })).status,
      404,
    );
    const firstOne = { ...env, endpointId: 'ep_default' };
    assert.equal(
      (await call('delete', '/v1/{env}/endpoints/{endpointId}', { params: firstOne, key: production })).status,
      409,
    );
    assert.equal(
      (await call('delete', '/v1/{env}/endpoints/{endpointId}', { params: endpoint, key: production })).status,
      200,
    );

    // Every operation in the document was driven.
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item as object).map((method) => `${method.toUpperCase()} ${path}`),
    );
    assert.deepEqual(
      operations.filter((op) => !driven.has(op)),
      [],
      'operations the test did not drive',
    );
  });
  it('the docs/api.md client example (openapi-fetch on the generated types) drains the pending events', async () => {
    const key = (await call('post', '/v1/customers', { key: ADMIN_KEY, body: { id: 'drain', name: 'Drain' } })).body
      .apiKeys.production as string;
    const env = { env: 'production' };
    await call('put', '/v1/{env}/webhook', { params: env, key, body: { url: failing.url } });
    for (const id of ['evt_a', 'evt_b', 'evt_c']) {
      const doc = { customerId: 'drain', id, type: 'event', data: { id } };
      await call('post', '/v1/{env}/documents', { params: env, key: ADMIN_KEY, body: doc });
    }
    await waitFor('the documents to reach the bucket', async () => {
      const list = await call('get', '/v1/{env}/pending', { params: env, key });
      assert.equal(list.body.data.length, 3);
    });
    const log = console.log;
    console.log = () => undefined;
    try {
      assert.equal(await drainPendingEvents(stack.baseUrl, key), 3);
    } finally {
      console.log = log;
    }
    assert.deepEqual((await call('get', '/v1/{env}/pending', { params: env, key })).body.data, []);
  });
});
