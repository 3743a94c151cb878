import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Frame } from 'playwright-core';
import { ROOT, waitFor } from '../../scripts/lib/stack';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

const CHROMIUM = '/usr/bin/chromium';

/** Waits until the portal's endpoint card is titled `title`. */
async function expectTitle(portal: Frame, title: string) {
  await waitFor(`the card of ${title}`, async () => assert.equal(await portal.textContent('#webhook-title'), title));
}

/**
 * The platform's own page, on an origin of its own (another loopback address: another site, as a platform's is): it
 * embeds the portal link it is given in an iframe, and sizes the frame by the height messages the portal sends.
 */
async function startPlatform(host: string): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    const src = new URL(req.url ?? '/', 'http://x').searchParams.get('portal') ?? '';
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html><head><title>Platform</title></head><body>
<h1>Acme platform: webhook settings</h1>
<iframe id="portal" title="Webhook settings" style="width:100%;height:300px;border:0"></iframe>
<script>
  window.heights = [];
  addEventListener('message', function (event) {
    if (!event.data || event.data.type !== 'webhook-portal:height') return;
    window.heights.push({ origin: event.origin, height: event.data.height });
    document.getElementById('portal').style.height = event.data.height + 'px';
  });
  document.getElementById('portal').src = ${JSON.stringify(src)};
</script></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { origin: `http://${host}:${(server.address() as AddressInfo).port}`, server };
}

describe('the portal a platform embeds: signed single-use links, sessions, the frame', () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  let browser: Browser;
  let platform: Awaited<ReturnType<typeof startPlatform>>;
  let stranger: Awaited<ReturnType<typeof startPlatform>>;
  let receivers: Receiver[];
  let key: string;
  let legacyId: string;

  before(async () => {
    if (!existsSync(CHROMIUM))
      execFileSync('bash', [path.join(ROOT, 'scripts/install-browser.sh')], { stdio: ['ignore', 2, 2] });
    [platform, stranger] = await Promise.all([startPlatform('127.0.0.2'), startPlatform('127.0.0.3')]);
    receivers = await Promise.all([startReceiver(always(200)), startReceiver(always(200)), startReceiver(always(500))]);
    stack = await startTestStack({
      RETRY_SCHEDULE_PRODUCTION: '1s',
      DELIVERY_TIMEOUT: '2s',
      PORTAL_FRAME_ANCESTORS: platform.origin,
      PORTAL_BRAND_NAME: 'Webhooks by Acme',
      // The portal's writes are logged at info, naming the session.
      LOG_LEVEL: 'info',
    });
    api = apiClient(stack.baseUrl);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    // The catalog the portal offers: one type, with an example its test events carry.
    const eventType = await api('POST', '/v1/event-types', ADMIN_KEY, {
      name: 'shipment.delivered',
      kind: 'event',
      description: 'A parcel reached its recipient',
      schema: {
        type: 'object',
        required: ['trackingId'],
        properties: { trackingId: { type: 'string' } },
        examples: [{ trackingId: 'TRK-1' }],
      },
    });
    assert.equal(eventType.status, 201, JSON.stringify(eventType.body));
    // The customer of the issue: the webhook, an endpoint for shipment events, one answering 500 (suspended, pending).
    key = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'portal-co', name: 'Portal Co' })).body.apiKeys
      .production;
    await api('PUT', '/v1/production/webhook', key, { url: receivers[0].url });
    await api('POST', '/v1/production/endpoints', key, {
      url: receivers[1].url,
      filterTypes: ['shipment.*'],
      description: 'tracking',
    });
    legacyId = (
      await api('POST', '/v1/production/endpoints', key, {
        url: receivers[2].url,
        retrySchedule: '1s',
        description: 'legacy',
      })
    ).body.id;
    for (const id of ['p1', 'p2'])
      await api('POST', '/v1/production/documents', ADMIN_KEY, {
        customerId: 'portal-co',
        id,
        type: 'summary',
        data: {},
      });
    await waitFor('the failing endpoint suspended with both', async () => {
      const res = await api('GET', `/v1/production/endpoints/${legacyId}`, key);
      assert.deepEqual([res.body.status, res.body.pendingCount], ['suspended', 2]);
    });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
    await Promise.all((receivers ?? []).map((r) => r.close()));
    for (const p of [platform, stranger]) p?.server.close();
  });

  const createSession = (body: unknown, auth = ADMIN_KEY) =>
    api('POST', '/v1/production/customers/portal-co/portal-sessions', auth, body);

  /** The platform's page embedding `url`, the portal's frame in it once loaded, and the page's trade of its link. */
  async function embed(url: string, at = platform) {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, timezoneId: 'Europe/Berlin' });
    const redeemed = page.waitForResponse((res) => res.url().endsWith('/v1/portal/redeem'), { timeout: 10_000 });
    redeemed.catch(() => undefined);
    await page.goto(`${at.origin}/?portal=${encodeURIComponent(url)}`);
    const frame = () => page.frames().find((f) => f !== page.mainFrame() && f.url().startsWith(new URL(url).origin));
    return { page, frame, redeemed };
  }

  it('is asked for by the operator only, with each wrong field named (400), for a customer that exists', async () => {
    assert.equal((await createSession({}, key)).status, 401, "the customer's key asks for no sessions");
    for (const [body, field] of [
      [{ expiresInSeconds: 5 }, 'body.expiresInSeconds'],
      [{ expiresInSeconds: 86_401 }, 'body.expiresInSeconds'],
      [{ branding: { accentColor: 'red;}' } }, 'body.branding.accentColor'],
      [{ branding: { logoUrl: 'http://insecure.example/logo.png' } }, 'body.branding.logoUrl'],
      [{ endpointIds: ['ep_nope'] }, 'body.endpointIds.0'],
      [{ readOnly: 'yes' }, 'body.readOnly'],
      [{ extra: 1 }, 'body'],
    ] as const) {
      const res = await createSession(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.details[0].path, field, JSON.stringify(body));
    }
    const unknown = await api('POST', '/v1/production/customers/nobody/portal-sessions', ADMIN_KEY, {});
    assert.equal(unknown.status, 404);
    for (const token of ['', 'wpl_nope', 'wps_x.y']) {
      const res = await api('POST', '/v1/portal/redeem', undefined, { link: token });
      assert.ok([400, 401].includes(res.status), `${res.status} for ${token}`);
    }
  });

  it('opens once in the platform’s frame, in its branding, and every action names the session', async () => {
    const created = await createSession({ branding: { name: 'Acme Logistics', accentColor: '#aa3300' } });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.branding, {
      name: 'Acme Logistics',
      logoUrl: null,
      accentColor: '#aa3300',
      theme: 'auto',
    });
    assert.match(created.body.url, /^http:\/\/localhost:\d+\/portal#link=wpl_/);
    const { page, frame, redeemed } = await embed(created.body.url);
    // Every script error or CSP refusal in the frame (Chromium reports the frame's console on the page).
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) problems.push(`console: ${msg.text()}`);
    });
    await waitFor('the portal in the frame', async () => assert.ok(frame(), 'not yet'));
    const portal = frame()!;
    await portal.locator('#endpoint-rows tr').nth(2).waitFor();
    assert.equal(await portal.textContent('#brand-name'), 'Acme Logistics');
    assert.equal(await portal.locator('#key-section').isHidden(), true, 'no API key asked for');
    // A session that may write: its controls, and no read-only note.
    assert.equal(await portal.isVisible('#rotate-secret'), true);
    assert.equal(await portal.isVisible('[data-testid="read-only-note"]'), false);
    assert.equal(
      await portal.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"),
      '#aa3300',
    );
    // The link left the address bar: nobody copies it from there.
    assert.equal(new URL(portal.url()).hash, '');
    // The platform sized its frame by the portal's height messages, from the portal's origin.
    await waitFor('a height message', async () => {
      const heights = (await page.evaluate('window.heights')) as { origin: string; height: number }[];
      assert.ok(heights.length > 0 && heights.at(-1)!.height > 300, JSON.stringify(heights));
      assert.equal(heights[0].origin, new URL(created.body.url).origin);
    });

    // One view per endpoint: the webhook (which delivered both) has nothing waiting, in its card and in its list,
    // while the suspended endpoint's two documents are in its own card and list only.
    await portal.locator('#pending-empty').waitFor();
    assert.equal(await portal.textContent('#pending-count'), '0');
    assert.equal(await portal.locator('#pending-rows tr').count(), 0, 'no other endpoint’s documents');
    assert.equal(await portal.textContent('#webhook-title'), 'Production webhook');
    await portal.locator(`#endpoint-rows tr[data-endpoint="${legacyId}"]`).getByTestId('open-endpoint').click();
    const row = portal.locator('#pending-rows tr[data-document="p1"]');
    await row.waitFor();
    assert.equal(await portal.textContent('#pending-count'), '2');
    // Open moved focus to the endpoint's card.
    await waitFor('focus on the endpoint’s card', async () =>
      assert.equal(await portal.evaluate('document.activeElement.id'), 'webhook-title'),
    );
    // (Both became pending within the same moment: in either order.)
    assert.deepEqual(
      (
        await portal.locator('#pending-rows tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-document')))
      ).sort(),
      ['p1', 'p2'],
    );
    // Its last error is the receiver's answer; every time is in the viewer's zone (Berlin: GMT+1 in winter, or CET).
    await waitFor('the last answer', async () =>
      assert.match((await portal.textContent('#last-error')) ?? '', /^HTTP 500 at .*(GMT\+[12]|CES?T)/),
    );
    assert.match((await portal.textContent('#suspended-at')) ?? '', /GMT\+[12]|CES?T/);
    for (const id of ['#last-error', '#suspension-reason', '#pending-rows'])
      assert.doesNotMatch((await portal.textContent(id)) ?? '', /\d{4}-\d\d-\d\dT|circuit breaker/, id);
    // Titled by its description, the id secondary; its notice speaks of this endpoint, in the customer's words.
    assert.equal(await portal.textContent('#webhook-title'), 'legacy');
    assert.match((await portal.textContent('#endpoint-id')) ?? '', new RegExp(legacyId));
    const notice = (await portal.textContent('#suspended-notice')) ?? '';
    assert.match(notice, /reactivate this endpoint/);
    assert.doesNotMatch(notice, /webhook/);
    const words = (await portal.evaluate('document.body.innerText')) as string;
    assert.doesNotMatch(words, /\b(bucket|routed|Gets)\b/, 'no jargon on the page');
    assert.match(words, /waiting for you to pull or resend/i);
    // Asked inline, in the frame (no window.confirm, which a cross-origin frame may not show).
    await row.getByTestId('acknowledge').click();
    await row.getByTestId('confirm').click();
    await waitFor('p1 acknowledged', async () => {
      const res = await api('GET', `/v1/production/endpoints/${legacyId}/pending/p1`, key);
      assert.equal(res.status, 404);
    });
    const line = await waitFor('the action in the API log', async () => {
      const log = stack.logs('api');
      const lines = log.split('\n').filter((l) => l.includes('"portal request"') && l.includes('"DELETE"'));
      assert.equal(lines.length, 1, log.slice(-2_000));
      return JSON.parse(lines[0]);
    });
    assert.deepEqual([line.portalSession, line.customerId, line.status], [created.body.id, 'portal-co', 204]);

    // Layout, in the platform's frame. At 1280 px every table (the endpoints, pending, attempts, log) fits its card.
    await portal.locator('#pending-rows tr[data-document="p2"]').getByTestId('attempts').click();
    await portal.locator('#attempt-rows tr').first().waitFor();
    await page.setViewportSize({ width: 1280, height: 900 });
    await waitFor('the tables inside their cards at 1280 px', async () => {
      const overflows = (await portal.evaluate(`Array.from(document.querySelectorAll('table'))
        .filter((t) => t.offsetParent !== null)
        .map((t) => {
          const card = t.closest('.card').getBoundingClientRect();
          const table = t.getBoundingClientRect();
          return { id: t.closest('.card').id, over: Math.round(table.right - card.right) };
        })`)) as { id: string; over: number }[];
      assert.deepEqual(
        overflows.map((o) => o.id),
        ['endpoints', 'pending', 'attempt-log', 'message-log'],
      );
      assert.ok(
        overflows.every((o) => o.over <= 0),
        JSON.stringify(overflows),
      );
    });
    // At 390 px (a phone): no sideways scrolling, rows stacked, each endpoint's status and Open in view.
    await page.setViewportSize({ width: 390, height: 844 });
    await waitFor('the phone layout', async () => {
      const widths = (await portal.evaluate(
        '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
      )) as number[];
      assert.ok(widths[0] <= widths[1] && widths[0] <= 390, `scrollWidth, clientWidth: ${widths}`);
    });
    assert.equal(
      await portal.evaluate("getComputedStyle(document.querySelector('#endpoint-rows tr')).display"),
      'block',
    );
    const frameBox = (await page.locator('#portal').boundingBox())!;
    for (const tr of await portal.locator('#endpoint-rows tr').all()) {
      for (const target of [tr.locator('td[data-status]'), tr.getByTestId('open-endpoint')]) {
        const box = (await target.boundingBox())!;
        assert.ok(await target.isVisible(), 'visible');
        assert.ok(box.x >= frameBox.x && box.x + box.width <= frameBox.x + frameBox.width, JSON.stringify(box));
      }
    }
    assert.equal(await portal.locator('#endpoint-rows td[data-status]').first().getAttribute('data-label'), 'Status');
    // Stacked by CSS, still a table to a screen reader: its rows and cells by role, each cell named by its column.
    assert.equal(
      await portal
        .getByRole('table')
        .filter({ has: portal.locator('#endpoint-rows') })
        .count(),
      1,
    );
    assert.equal(await portal.locator('#endpoint-rows').getByRole('row').count(), 3);
    assert.equal(await portal.getByRole('cell', { name: 'suspended' }).count(), 1);
    await page.setViewportSize({ width: 1100, height: 900 });

    // A test event to the shipment endpoint: a type from the catalog, its example shown before it goes; the receiver
    // gets it and it shows in that endpoint's log.
    const trackingId = (await api('GET', '/v1/production/endpoints', key)).body.data[1].id as string;
    await portal.locator(`#endpoint-rows tr[data-endpoint="${trackingId}"]`).getByTestId('open-endpoint').click();
    await expectTitle(portal, 'tracking');
    await portal.locator('#test-type option[value="shipment.delivered"]').waitFor({ state: 'attached' });
    assert.deepEqual(JSON.parse(await portal.inputValue('#test-payload')), { test: true }, 'a plain test at first');
    await portal.selectOption('#test-type', 'shipment.delivered');
    assert.deepEqual(JSON.parse(await portal.inputValue('#test-payload')), { trackingId: 'TRK-1' });
    await portal.click('#send-test');
    const testRow = portal.locator('#log-rows tr[data-document^="test_"]');
    await testRow.waitFor({ timeout: 15_000 });
    const testId = (await testRow.getAttribute('data-document'))!;
    assert.equal(await testRow.locator('td').nth(2).textContent(), 'shipment.delivered');
    await waitFor('the test event said sent', async () =>
      assert.match(
        (await portal.textContent('#test-event-said')) ?? '',
        new RegExp(`Sent ${testId}: it is in the message log`),
      ),
    );
    await waitFor('the test event at the receiver', async () => {
      const got = receivers[1].received.find((r) => r.headers['webhook-id'] === testId);
      assert.ok(got, 'not yet');
      assert.match(got.body, /"trackingId":"TRK-1"/);
    });

    // The same link again (the frame reloaded with it, or someone who saw it): refused, with a page that says so.
    const again = await embed(created.body.url);
    await waitFor('the second frame', async () => assert.ok(again.frame(), 'not yet'));
    await again.frame()!.locator('#portal-ended-reason').waitFor();
    assert.match((await again.frame()!.textContent('#portal-ended-reason')) ?? '', /used already/);
    assert.equal(await again.frame()!.locator('#endpoints').isHidden(), true);
    assert.deepEqual([(await redeemed).status(), (await again.redeemed).status()], [200, 410]);
    assert.deepEqual(problems, [], 'no script error and no CSP refusal in the frame');
    await Promise.all([page.close(), again.page.close()]);
  });

  it('no other origin may frame it; a read-only session scoped to one endpoint changes nothing; a revoke ends it', async () => {
    const created = await createSession({ readOnly: true, endpointIds: [legacyId], branding: { theme: 'dark' } });
    assert.equal(created.status, 201);
    // A page the platform did not name: Chromium refuses to show the portal in its frame, and the link stays unused.
    const elsewhere = await embed(created.body.url, stranger);
    await elsewhere.page.waitForTimeout(1_000);
    const blocked = elsewhere.page.frames().find((f) => f !== elsewhere.page.mainFrame());
    assert.equal(await blocked?.locator('#brand-name').count(), 0, 'no portal inside a stranger’s frame');
    await elsewhere.page.close();

    const { page, frame, redeemed } = await embed(created.body.url);
    await waitFor('the portal in the frame', async () => assert.ok(frame(), 'not yet'));
    const portal = frame()!;
    // The bearer the page got for its link (kept in the page's memory: a frame's storage may be denied, as here).
    const bearer = ((await (await redeemed).json()) as { sessionToken: string }).sessionToken;
    await portal.locator('#endpoint-rows tr').first().waitFor();
    assert.deepEqual(
      await portal.locator('#endpoint-rows tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-endpoint'))),
      [legacyId],
      'its one endpoint',
    );
    assert.equal(await portal.textContent('#brand-name'), 'Webhooks by Acme', 'the configured name');
    // The session's theme over the configured one (auto): the dark palette.
    assert.equal(await portal.evaluate("document.documentElement.getAttribute('data-theme')"), 'dark');
    assert.equal(
      await portal.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--bg').trim()"),
      '#12161d',
    );
    const row = portal.locator('#pending-rows tr[data-document="p2"]');
    await row.waitFor();
    // Read-only: no control that writes is offered (what reads stays), the toggle and the settings are disabled,
    // and each card says why.
    assert.deepEqual(await row.locator('button').allTextContents(), ['Download', 'Attempts']);
    for (const id of ['#resend-all', '#rotate-secret', '#save-settings', '#add-endpoint', '#test-event'])
      assert.equal(await portal.isHidden(id), true, `${id} hidden`);
    assert.equal(await portal.isDisabled('#active-toggle'), true);
    for (const id of ['#edit-url', '#edit-email', '#edit-schedule', '#pref-notifications'])
      assert.equal(await portal.isDisabled(id), true, `${id} disabled`);
    const notes = portal.locator('[data-testid="read-only-note"]');
    assert.equal(await notes.count(), 4);
    for (const note of await notes.all()) {
      assert.equal(await note.isVisible(), true);
      assert.match((await note.innerText()).trim(), /^Read-only access/);
    }
    await row.getByTestId('attempts').click();
    await portal.locator('#attempt-log').waitFor();
    assert.equal(await portal.isHidden('#attempts-resend'), true, 'no resend from the attempts');
    assert.equal(
      (await api('GET', `/v1/production/endpoints/${legacyId}/pending/p2`, key)).status,
      200,
      'still pending',
    );

    // Its bearer reaches nothing outside its grant, whatever the page does.
    assert.match(bearer, /^wps_/);
    assert.equal((await api('GET', '/v1/production/webhook', bearer)).status, 403, 'not the webhook');
    assert.equal((await api('GET', `/v1/production/endpoints/${legacyId}`, bearer)).status, 200);
    assert.equal((await api('GET', `/v1/sandbox/endpoints/${legacyId}`, bearer)).status, 403, 'not sandbox');
    assert.equal((await api('GET', '/v1/production/documents', bearer)).status, 403, 'one endpoint at a time');
    assert.equal((await api('GET', `/v1/production/documents?endpointId=${legacyId}`, bearer)).status, 200);
    assert.equal((await api('POST', `/v1/production/endpoints/${legacyId}/test`, bearer, {})).status, 403);

    // Revoked: the next call from the frame ends the session in the page; the customer's key keeps working.
    const revoked = await api(
      'DELETE',
      `/v1/production/customers/portal-co/portal-sessions/${created.body.id}`,
      ADMIN_KEY,
    );
    assert.equal(revoked.status, 204);
    await waitFor('the bearer refused', async () =>
      assert.equal((await api('GET', `/v1/production/endpoints/${legacyId}`, bearer)).status, 410),
    );
    await portal.click('#refresh');
    await portal.locator('#portal-ended-reason').waitFor();
    assert.match((await portal.textContent('#portal-ended-reason')) ?? '', /ended/);
    assert.equal((await api('GET', '/v1/production/webhook', key)).status, 200);
    const unknown = await api(
      'DELETE',
      '/v1/production/customers/portal-co/portal-sessions/ps_000000000000000000000000',
      ADMIN_KEY,
    );
    assert.equal(unknown.status, 404);
    await page.close();
  });
});
