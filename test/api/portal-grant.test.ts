import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/api/app';
import { portalTarget } from '../../src/api/portal-grant';
import { routes } from '../../src/api/routes';
import type { DeliveryService } from '../../src/api/service';
import type { PortalSessionAuth } from '../../src/api/service/portal-sessions';
import { logger } from '../../src/lib/logger';
import { testConfig } from '../helpers/config';

// What a portal session reaches, route by route, through the real app and guard: the service behind is a recorder,
// so a refused request is one that reached nothing.

const delivery = (endpointId: string) => ({
  endpointId,
  id: 'd1',
  type: 'event',
  status: 'delivered',
  createdAt: '2026-12-01T00:00:00.000Z',
  attempts: [],
});

describe("a portal session reaches what its grant names, and nothing through another route's back door", () => {
  const calls: { name: string; args: unknown[] }[] = [];
  let session: PortalSessionAuth;
  let server: Server;
  let base: string;

  before(async () => {
    // Its requests are logged at info, naming the session: not in this test's output.
    logger.level = 'warn';
    const service = new Proxy(
      {},
      {
        get: (_target, name: string) => {
          if (name === 'portalSessionOf') return async () => session;
          return async (...args: unknown[]) => {
            calls.push({ name, args });
            if (name === 'getDocument') return { ...delivery('ep_default'), deliveries: [delivery('ep_other')] };
            if (name === 'listEndpoints') return [];
            return { data: [], nextCursor: null };
          };
        },
      },
    ) as DeliveryService;
    server = createApp({ service, config: testConfig({ ADMIN_API_KEY: 'portal-grant-test-admin-key' }) }).listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  async function ask(method: string, path: string, body?: unknown) {
    calls.length = 0;
    const res = await fetch(base + path, {
      method,
      headers: { authorization: 'Bearer wps_any.signature', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await res.json().catch(() => undefined)) as
      { endpoints?: { endpointId: string }[]; error?: { message: string } } | undefined;
    return { status: res.status, body: answer, reached: calls.map((c) => c.name) };
  }

  it('places every customer route, so a new one cannot open a door by default', () => {
    const placed = routes
      .filter((r) => ['customer', 'anyKey'].includes(r.declaration.access))
      .map((r) => `${r.method} ${r.path} ${portalTarget(r.path)}`);
    assert.ok(placed.includes('get /v1/{env}/pending everywhere'));
    assert.ok(placed.includes('delete /v1/{env}/pending/{id} everywhere'));
    assert.ok(placed.includes('get /v1/{env}/webhook first'));
    assert.ok(placed.includes('get /v1/{env}/documents/{id} documents'));
    assert.ok(placed.includes('post /v1/{env}/documents/{id}/endpoints/{endpointId}/resend endpoint'));
    assert.throws(() => portalTarget('/v1/{env}/something-new'), /does not place/);
  });

  it('scoped to the first endpoint: its webhook, not every endpoint’s pending documents, nor others’ deliveries', async () => {
    session = {
      sessionId: 'ps_a',
      customerId: 'c1',
      environment: 'sandbox',
      readOnly: false,
      endpointIds: ['ep_default'],
    };
    for (const [method, path] of [
      ['GET', '/v1/sandbox/pending'],
      ['GET', '/v1/sandbox/pending/d1'],
      ['DELETE', '/v1/sandbox/pending/d1'],
      ['POST', '/v1/sandbox/pending/resend'],
      ['POST', '/v1/sandbox/pending/d1/resend'],
      ['GET', '/v1/sandbox/endpoints/ep_other'],
      ['GET', '/v1/sandbox/documents'],
      ['GET', '/v1/sandbox/documents/d1'],
      ['PUT', '/v1/sandbox/preferences'],
      ['POST', '/v1/sandbox/endpoints'],
      ['GET', '/v1/production/webhook'],
    ]) {
      const answer = await ask(method, path, method === 'GET' ? undefined : {});
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.deepEqual(answer.reached, [], `${method} ${path} reached nothing`);
    }
    const own = await ask('GET', '/v1/sandbox/endpoints/ep_default/pending');
    assert.deepEqual([own.status, own.reached], [200, ['getEndpoint', 'listPending']]);
    const document = await ask('GET', '/v1/sandbox/documents/d1?endpointId=ep_default');
    assert.equal(document.status, 200);
    assert.deepEqual(
      document.body?.endpoints?.map((e) => e.endpointId),
      ['ep_default'],
      "not ep_other's delivery, its attempts or its receiver's answers",
    );
    await ask('POST', '/v1/sandbox/documents/d1/endpoints/ep_default/resend');
    assert.deepEqual(calls[0].args.at(-1), true, 'a resend there of what went there only');
  });

  it('read-only: every write refused before it reaches anything, reads allowed', async () => {
    session = { sessionId: 'ps_b', customerId: 'c1', environment: 'sandbox', readOnly: true };
    for (const [method, path] of [
      ['DELETE', '/v1/sandbox/pending/d1'],
      ['PATCH', '/v1/sandbox/webhook'],
      ['POST', '/v1/sandbox/endpoints/ep_x/test'],
      ['PUT', '/v1/sandbox/preferences'],
    ]) {
      const answer = await ask(method, path, {});
      assert.deepEqual([answer.status, answer.reached], [403, []], `${method} ${path}`);
      assert.match(answer.body?.error?.message ?? '', /read-only/);
    }
    // Unscoped, it reads every endpoint's pending documents, as the customer's key does.
    assert.equal((await ask('GET', '/v1/sandbox/pending')).status, 200);
  });
});
