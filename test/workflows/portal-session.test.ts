import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { portalSessionWorkflowId } from '../../src/domain/ids';
import { always } from '../helpers/receiver';
import { timeSkippingSuite } from '../helpers/temporal';

/** The API's answer to a refused call: its status and code. */
const refusedWith = (status: number, code: string) => (err: unknown) => {
  const { httpStatus, code: actual } = err as { httpStatus?: number; code?: string };
  assert.deepEqual([httpStatus, actual], [status, code]);
  return true;
};
const linkOf = (url: string) => new URL(url).hash.replace(/^#link=/, '');

describe('portal sessions, with time skipping', () => {
  const suite = timeSkippingSuite({ PORTAL_SIGNING_KEY: 'portal-signing-key-for-the-tests-0123456789' }, always(200));

  it('a link opens its session once; a revoke ends the session; the history stays a handful of events', async () => {
    const { service, client } = suite.ts;
    await service.createCustomer({ id: 'portal-co', name: 'Portal Co' });
    const created = await service.createPortalSession('production', 'portal-co', {
      readOnly: true,
      expiresInSeconds: 600,
      branding: { name: 'Acme Logistics', accentColor: '#aa3300' },
    });
    assert.match(created.url, /\/portal#link=wpl_/);
    const link = linkOf(created.url);

    const redeemed = await service.redeemPortalLink(link);
    assert.equal(redeemed.sessionId, created.sessionId);
    assert.deepEqual([redeemed.customerId, redeemed.environment, redeemed.readOnly], ['portal-co', 'production', true]);
    assert.equal(redeemed.branding?.name, 'Acme Logistics');
    // Twice: refused, even from another API process (the Update is the single-use record).
    await assert.rejects(service.redeemPortalLink(link), refusedWith(410, 'portal_used'));

    const who = await service.portalSessionOf(redeemed.sessionToken);
    assert.deepEqual(who, {
      sessionId: created.sessionId,
      customerId: 'portal-co',
      environment: 'production',
      readOnly: true,
    });
    // A tampered bearer (another customer in its payload, the same signature) and a link used as a bearer: 401.
    const [prefix, rest] = [redeemed.sessionToken.slice(0, 4), redeemed.sessionToken.slice(4)];
    const [body, mac] = rest.split('.');
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
    const forged = `${prefix}${Buffer.from(JSON.stringify({ ...payload, cid: 'other-co' })).toString('base64url')}.${mac}`;
    await assert.rejects(service.portalSessionOf(forged), refusedWith(401, 'invalid_portal_token'));
    await assert.rejects(service.portalSessionOf(link), refusedWith(401, 'invalid_portal_token'));

    await service.revokePortalSession('production', 'portal-co', created.sessionId);
    await assert.rejects(service.portalSessionOf(redeemed.sessionToken), refusedWith(410, 'portal_revoked'));
    // Revoked again: nothing to do, no error.
    await service.revokePortalSession('production', 'portal-co', created.sessionId);
    const handle = client.workflow.getHandle(portalSessionWorkflowId('production', 'portal-co', created.sessionId));
    const description = await handle.describe();
    assert.equal(description.status.name, 'COMPLETED');
    // Its start, a timer, two Updates and its end, with their workflow tasks: about 20, whatever the session does.
    assert.ok(description.historyLength <= 30, `${description.historyLength} events`);
    assert.ok((await handle.result()).revokedAt);
  });

  it('a link not used within its expiry is refused (410), and the session ended by itself, on its clock', async () => {
    const { service, client, env } = suite.ts;
    const created = await service.createPortalSession('sandbox', 'portal-co', {
      readOnly: false,
      expiresInSeconds: 60,
    });
    const unused = await service.createPortalSession('sandbox', 'portal-co', {
      readOnly: false,
      expiresInSeconds: 3_600,
      endpointIds: ['ep_default'],
    });
    const redeemed = await service.redeemPortalLink(linkOf(unused.url));
    await env.sleep(61_000);
    await assert.rejects(service.redeemPortalLink(linkOf(created.url)), refusedWith(410, 'portal_expired'));
    const ended = await client.workflow
      .getHandle(portalSessionWorkflowId('sandbox', 'portal-co', created.sessionId))
      .describe();
    assert.equal(ended.status.name, 'COMPLETED');
    // The other one, an hour long, still holds, within its grant.
    const who = await service.portalSessionOf(redeemed.sessionToken);
    assert.deepEqual([who.readOnly, who.endpointIds], [false, ['ep_default']]);
    await env.sleep(3_600_000);
    await assert.rejects(service.portalSessionOf(redeemed.sessionToken), refusedWith(410, 'portal_expired'));
  });

  it('refuses a session for an unknown customer (404) or endpoint (400 naming it), starting nothing', async () => {
    const { service } = suite.ts;
    await assert.rejects(
      service.createPortalSession('production', 'nobody', { readOnly: false, expiresInSeconds: 600 }),
      refusedWith(404, 'not_found'),
    );
    await assert.rejects(
      service.createPortalSession('production', 'portal-co', {
        readOnly: false,
        expiresInSeconds: 600,
        endpointIds: ['ep_default', 'ep_missing'],
      }),
      (err: { httpStatus?: number; message?: string }) => {
        assert.equal(err.httpStatus, 400);
        assert.match(err.message ?? '', /^body\.endpointIds\.1: /);
        return true;
      },
    );
  });
});
