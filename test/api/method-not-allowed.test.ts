import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Server } from 'node:http';
import { createApp } from '../../src/api/app';
import type { DeliveryService } from '../../src/api/service';
import { generatePayloadKey } from '../../src/lib/payload-codec';
import { testConfig } from '../helpers/config';

// The service is never reached: every request here is answered before a route runs, or by the key check.
describe('a documented path asked with another method', () => {
  let server: Server;
  let base: string;
  before(async () => {
    const config = testConfig({ PAYLOAD_KEYS: generatePayloadKey('t'), ADMIN_API_KEY: 'method-test-admin-key' });
    server = createApp({ service: {} as DeliveryService, config }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  const ask = async (method: string, path: string) => {
    const res = await fetch(`${base}${path}`, { method });
    return { status: res.status, allow: res.headers.get('allow'), body: await res.text() };
  };

  it('answers 405 with Allow, before any key is asked for', async () => {
    assert.deepEqual(await ask('DELETE', '/v1/customers').then(({ status, allow }) => ({ status, allow })), {
      status: 405,
      allow: 'POST',
    });
    const pending = await ask('PUT', '/v1/production/pending');
    assert.equal(pending.status, 405);
    assert.equal(pending.allow, 'GET, HEAD');
    assert.equal(JSON.parse(pending.body).error.code, 'method_not_allowed');
    assert.equal((await ask('PATCH', '/healthz')).allow, 'GET, HEAD');
    assert.equal((await ask('POST', '/v1/production/pending/p1')).allow, 'GET, DELETE, HEAD');
    assert.equal((await ask('OPTIONS', '/v1/production/webhook')).allow, 'PUT, GET, PATCH, HEAD');
    // A trailing slash and another case are the same path to Express.
    assert.equal((await ask('DELETE', '/V1/Customers/')).status, 405);
  });

  it('lets documented methods through to their routes, and unknown paths to 404', async () => {
    // A concrete path before a templated one, as OpenAPI matches them: `resend` is the resend path, not an `{id}`.
    assert.deepEqual(
      await ask('GET', '/v1/production/pending/resend').then(({ status, allow }) => ({ status, allow })),
      { status: 405, allow: 'POST' },
    );
    assert.equal((await ask('GET', '/v1/production/webhook')).status, 401);
    assert.equal((await ask('OPTIONS', '/codec/encode')).status, 204, "the Web UI's preflight");
    assert.equal((await ask('DELETE', '/nothing-here')).status, 404);
    // Each route checks its own key: a path no route has is unknown to anyone, not a request for a key.
    assert.equal((await ask('GET', '/v1/production/nothing-here')).status, 404);
  });
});
