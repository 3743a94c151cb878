import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT, waitFor } from '../../scripts/lib/stack';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.join(ROOT, 'docs', 'webhook-page.png');
const PORTAL_SCREENSHOT = path.join(ROOT, 'docs', 'portal.png');

/** Waits until the element's whole text is `text`, then asserts it (so a failure names what was there instead). */
async function expectText(page: Page, selector: string, text: string, timeout = 15_000) {
  const exact = new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
  await page
    .locator(selector)
    .filter({ hasText: exact })
    .waitFor({ timeout })
    .catch(() => undefined);
  assert.equal((await page.locator(selector).textContent())?.trim(), text, selector);
}

/** What the failing receiver answers: the attempt log shows it. */
const MAINTENANCE = '{"error":"down for maintenance <b>until noon</b>"}';

describe('the webhook page in headless Chromium against the real stack', () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  let browser: Browser;
  let receiver: Receiver;
  let notifications: Receiver;

  before(async () => {
    // Debian's chromium; a fresh machine gets it here (root and apt-get needed), an equipped one in no time.
    if (!existsSync(CHROMIUM))
      execFileSync('bash', [path.join(ROOT, 'scripts/install-browser.sh')], { stdio: ['ignore', 2, 2] });
    [stack, receiver, notifications] = await Promise.all([
      // One replay at a time, so "oldest first" is the order the receiver sees.
      startTestStack({ RETRY_SCHEDULE_PRODUCTION: '1s', DELIVERY_TIMEOUT: '2s', REPLAY_CONCURRENCY: '1' }),
      startReceiver(always(500)),
      startReceiver(always(200)),
    ]);
    api = apiClient(stack.baseUrl);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await Promise.all([receiver?.close(), notifications?.close()]);
    await stack?.stop();
  });

  it('serves the page at / and /webhook as HTML with a strict Content-Security-Policy', async () => {
    for (const route of ['/', '/webhook']) {
      const res = await fetch(`${stack.baseUrl}${route}`);
      assert.equal(res.status, 200, route);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /connect-src 'self'/);
      assert.doesNotMatch(csp, /https?:|\*|unsafe-eval/, 'no external origins, no eval');
      const html = await res.text();
      for (const id of ['key', 'load', 'status', 'pending-count', 'last-error', 'suspended-at', 'active-toggle']) {
        assert.match(html, new RegExp(`id="${id}"`), `#${id}`);
      }
    }
  });

  it('renders the API docs at /docs from this origin only, every operation listed, no CSP violation', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    const external: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('response', (r) => r.status() >= 400 && problems.push(`${r.status()} ${r.url()}`));
    page.on(
      'request',
      (r) => !r.url().startsWith(stack.baseUrl) && !r.url().startsWith('data:') && external.push(r.url()),
    );
    try {
      await page.goto(`${stack.baseUrl}/docs`);
      const document = (await (await fetch(`${stack.baseUrl}/openapi.json`)).json()) as { paths: object };
      const operations = Object.values(document.paths as Record<string, object>).flatMap((item) => Object.keys(item));
      await page
        .locator('.opblock')
        .nth(operations.length - 1)
        .waitFor({ timeout: 15_000 });
      assert.equal(await page.locator('.opblock').count(), operations.length);
      assert.match((await page.locator('.opblock-summary-path').allTextContents()).join(' '), /\/v1\/\{env\}\/pending/);
      assert.deepEqual(problems, [], 'console errors (a CSP violation shows here)');
      assert.deepEqual(external, [], 'requests outside this origin');
    } finally {
      await page.close();
    }
  });

  it('shows a suspended endpoint; Activate reactivates it and replays the pending documents oldest first', async () => {
    const created = await api('POST', '/v1/customers', ADMIN_KEY, { id: 'browser-co', name: 'Browser Co' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const key = created.body.apiKeys.production as string;
    const put = await api('PUT', '/v1/production/webhook', key, {
      url: receiver.url,
      notificationUrl: notifications.url,
      suspensionEmail: 'ops@browser-co.example',
      retrySchedule: '1s',
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));

    const submit = async (id: string) => {
      const res = await api('POST', '/v1/production/documents', ADMIN_KEY, {
        customerId: 'browser-co',
        id,
        type: 'event',
        data: { id },
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
    };
    const documentStatus = (id: string, wanted: string) =>
      waitFor(`document ${id} to be ${wanted}`, async () => {
        const res = await api('GET', `/v1/production/documents/${id}`, key);
        if (res.body?.status !== wanted) throw new Error(JSON.stringify(res.body));
        return res.body;
      });
    const seen = (requests: Receiver['received'], id: string) => requests.some((r) => r.headers['webhook-id'] === id);

    // doc_1 runs out of retries (first attempt + one after 1 s) and suspends the endpoint.
    await submit('doc_1');
    await waitFor('the endpoint to be suspended', async () => {
      const res = await api('GET', '/v1/production/webhook', key);
      if (res.body?.status !== 'suspended') throw new Error(JSON.stringify(res.body));
    });
    await documentStatus('doc_1', 'pending');
    // doc_2 arrives while suspended: straight to the bucket, never attempted.
    await submit('doc_2');
    const doc2 = await documentStatus('doc_2', 'pending');
    assert.equal(doc2.attempts.length, 0, JSON.stringify(doc2));
    assert.ok(!seen(receiver.received, 'doc_2'), 'a document submitted while suspended is not attempted');

    const page = await browser.newPage({ viewport: { width: 900, height: 720 }, locale: 'en-US', timezoneId: 'UTC' });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) problems.push(`console: ${msg.text()}`);
    });
    const requestedUrls: string[] = [];
    page.on('request', (req) => requestedUrls.push(req.url()));

    // The receiver comes back exactly when the customer flips the switch: until then the suspended endpoint's probes
    // still fail, so the reactivation seen below is the toggle's, not a probe's.
    let receivedBefore = -1;
    await page.route('**/v1/production/webhook', async (route) => {
      if (route.request().method() === 'PATCH' && receivedBefore < 0) {
        receivedBefore = receiver.received.length;
        receiver.setBehaviour(always(200));
      }
      await route.continue();
    });

    await page.goto(`${stack.baseUrl}/webhook`);
    await page.fill('#key', key);
    await page.click('#load');
    await expectText(page, '#status', 'suspended');
    const toggle = page.getByRole('switch', { name: 'Active' });
    assert.equal(await toggle.getAttribute('id'), 'active-toggle');
    assert.equal(await toggle.isChecked(), false);
    await expectText(page, '#pending-count', '2');
    // The receiver's last answer, at a time in the viewer's zone; not the breaker's "not sent" with a raw UTC time.
    await waitFor('the last answer', async () =>
      assert.match((await page.locator('#last-error').textContent()) ?? '', /^HTTP 500 at .*UTC/),
    );
    assert.doesNotMatch(
      (await page.locator('#last-error').textContent()) ?? '',
      /circuit breaker|not sent|\d{4}-\d\d-\d\dT/,
    );
    assert.ok(await page.locator('#suspended-at').getAttribute('datetime'), 'suspended since is shown');
    await expectText(page, '#suspension-email', 'ops@browser-co.example');
    if (process.env.UPDATE_SCREENSHOT === '1') {
      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    }

    await page.click('#active-toggle');
    await expectText(page, '#status', 'active');
    assert.equal(await toggle.isChecked(), true);
    assert.ok(receivedBefore >= 0, 'the toggle sent a PATCH');

    const replayed = await waitFor('the receiver to get both pending documents', async () => {
      const ids = receiver.received.slice(receivedBefore).map((r) => String(r.headers['webhook-id']));
      if (!ids.includes('doc_1') || !ids.includes('doc_2')) throw new Error(`received ${JSON.stringify(ids)}`);
      return ids;
    });
    assert.ok(replayed.indexOf('doc_1') < replayed.indexOf('doc_2'), `oldest first: ${JSON.stringify(replayed)}`);
    await documentStatus('doc_1', 'delivered');
    await documentStatus('doc_2', 'delivered');

    // The page follows the redelivery by itself, without Refresh: the count and the list empty.
    await expectText(page, '#pending-count', '0', 30_000);
    await page.locator('#pending-empty').waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await page.locator('#pending-rows tr').count(), 0);
    await expectText(page, '#pending-said', 'Every pending document was redelivered.');
    await expectText(page, '#status', 'active');
    // Recovered: no stale last error, now or after a Refresh.
    await expectText(page, '#last-error', '—');
    await page.click('#refresh');
    await expectText(page, '#status', 'active');
    await expectText(page, '#last-error', '—');

    assert.deepEqual(problems, [], 'no script error and no CSP violation');
    assert.ok(!page.url().includes(key) && !requestedUrls.some((u) => u.includes(key)), 'the key never is in a URL');
    await page.close();
  });
  it('is the customer portal: settings, secret rotation, pending documents with download, acknowledge, resend and attempts', async () => {
    const hook = await startReceiver(() => ({
      status: 500,
      headers: { 'content-type': 'application/json' },
      body: MAINTENANCE,
    }));
    try {
      const created = await api('POST', '/v1/customers', ADMIN_KEY, { id: 'portal-co', name: 'Portal Co' });
      const key = created.body.apiKeys.production as string;
      const token = 'Bearer portal-gateway-token';
      const put = await api('PUT', '/v1/production/webhook', key, {
        url: hook.url,
        retrySchedule: '1s',
        headers: { authorization: token },
      });
      const firstSecret = put.body.secret as string;
      const status = async (id: string) => (await api('GET', `/v1/production/documents/${id}`, key)).body;
      for (const id of ['p_1', 'p_2', 'p_3']) {
        await api('POST', '/v1/production/documents', ADMIN_KEY, {
          customerId: 'portal-co',
          id,
          type: 'event',
          data: { id },
        });
        await waitFor(`${id} pending`, async () => assert.equal((await status(id)).status, 'pending'));
      }

      const page = await browser.newPage({
        viewport: { width: 1000, height: 1400 },
        locale: 'en-US',
        timezoneId: 'UTC',
        acceptDownloads: true,
      });
      const problems: string[] = [];
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      page.on('console', (msg) => {
        if (/Content Security Policy|Refused to/i.test(msg.text())) problems.push(`console: ${msg.text()}`);
      });
      await page.goto(`${stack.baseUrl}/webhook`);
      await page.fill('#key', key);
      await page.click('#load');
      await expectText(page, '#status', 'suspended');
      // The custom header by name; its value is nowhere on the page.
      await expectText(page, '#header-names', 'authorization');
      assert.ok(!(await page.content()).includes('portal-gateway-token'), 'a header value on the page');
      const rows = page.locator('#pending-rows tr');
      await rows.nth(2).waitFor();
      assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-document'))), [
        'p_1',
        'p_2',
        'p_3',
      ]);
      const row = (id: string) => page.locator(`#pending-rows tr[data-document="${id}"]`);

      // The attempt log of the document that suspended the endpoint.
      await row('p_1').getByTestId('attempts').click();
      await expectText(page, '#attempts-document', 'p_1');
      // The attempts card is brought into view and focus is on its heading: a keyboard or screen-reader user is there.
      await waitFor('focus on the attempts', async () =>
        assert.equal(await page.evaluate('document.activeElement.id'), 'attempts-title'),
      );
      const heading = (await page.locator('#attempts-title').boundingBox())!;
      assert.ok(heading.y >= 0 && heading.y < 1400, `the heading in view: ${JSON.stringify(heading)}`);
      // Two on its schedule, then any probes of the suspended endpoint: every one answered 500.
      const log = await page.locator('#attempt-rows tr').allTextContents();
      assert.ok(log.length >= 2, log.join(' | '));
      assert.ok(
        log.every((line) => /HTTP 500/.test(line)),
        log.join(' | '),
      );
      // What the receiver answered, folded under its content type.
      const answer = page.locator('#attempt-rows tr').first().locator('details');
      assert.match((await answer.locator('summary').textContent()) ?? '', /^application\/json, \d+ characters$/);
      await answer.locator('summary').click();
      assert.equal(await answer.locator('pre').textContent(), MAINTENANCE);

      // Download: the document as submitted.
      const [download] = await Promise.all([page.waitForEvent('download'), row('p_1').getByTestId('download').click()]);
      const file = await download.path();
      assert.deepEqual(JSON.parse(readFileSync(file!, 'utf8')).data, { id: 'p_1' });

      // Acknowledge one: gone from the table and from the bucket.
      // Asked inline first: Cancel changes nothing and gives focus back; Confirm acknowledges.
      await row('p_3').getByTestId('acknowledge').click();
      assert.match((await row('p_3').locator('.confirm').textContent()) ?? '', /Acknowledge p_3\?/);
      assert.equal(await page.evaluate('document.activeElement.textContent'), 'Confirm');
      await row('p_3').getByTestId('cancel').click();
      assert.equal(await page.evaluate('document.activeElement.textContent'), 'Acknowledge');
      assert.equal((await status('p_3')).status, 'pending', 'nothing acknowledged on Cancel');
      await row('p_3').getByTestId('acknowledge').click();
      await row('p_3').getByTestId('confirm').click();
      await row('p_3').waitFor({ state: 'detached' });
      assert.equal((await status('p_3')).status, 'acknowledged');

      // Resend one while the endpoint still fails: the resend's attempt shows in its log, and it stays pending.
      await row('p_2').getByTestId('resend').click();
      // Said beside the pending table, where the button is; the next action there clears it.
      await expectText(page, '#pending-said', 'Resending p_2 now; its attempt log shows the outcome.');
      await waitFor('the resend attempt in the log', async () => {
        await row('p_2').getByTestId('attempts').click();
        await expectText(page, '#attempts-document', 'p_2', 2_000);
        assert.match((await page.locator('#attempt-rows').textContent()) ?? '', /resend/);
      });
      assert.equal(await page.locator('#pending-said').textContent(), '', 'cleared by the next action there');

      // Settings and preferences, saved through the API.
      await page.fill('#edit-notification-url', notifications.url);
      await page.fill('#edit-email', 'ops@portal-co.example');
      await page.fill('#edit-schedule', '2s');
      await page.uncheck('#pref-notifications');
      await page.click('#save-settings');
      await expectText(page, '#settings-said', 'Saved.');
      const saved = (await api('GET', '/v1/production/webhook', key)).body;
      assert.equal(saved.notificationUrl, notifications.url);
      assert.equal(saved.suspensionEmail, 'ops@portal-co.example');
      assert.equal(saved.retrySchedule, '2s');
      assert.deepEqual(saved.headerNames, ['authorization'], 'saving the settings keeps the headers');
      assert.equal((await api('GET', '/v1/production/preferences', key)).body.pendingNotifications, false);

      // A new secret, shown once, different from the first; the old one still signs for the grace.
      await page.click('#rotate-secret');
      assert.equal(await page.isHidden('#rotate-secret'), true, 'the question in its place');
      assert.equal(await page.isHidden('#new-secret'), true, 'nothing rotated before Confirm');
      assert.equal((await api('GET', '/v1/production/webhook', key)).body.previousSecretExpiresAt, undefined);
      await page.locator('#settings .confirm').getByTestId('confirm').click();
      await page.locator('#new-secret').waitFor({ state: 'visible' });
      const newSecret = await page.inputValue('#new-secret');
      assert.match(newSecret, /^whsec_/);
      assert.notEqual(newSecret, firstSecret);
      assert.ok((await api('GET', '/v1/production/webhook', key)).body.previousSecretExpiresAt);
      if (process.env.UPDATE_SCREENSHOT === '1') await page.screenshot({ path: PORTAL_SCREENSHOT, fullPage: true });

      // Reactivate: the rest is redelivered and the table empties.
      hook.setBehaviour(always(200));
      await page.click('#active-toggle');
      await expectText(page, '#status', 'active');
      for (const id of ['p_1', 'p_2'])
        await waitFor(`${id} delivered`, async () => assert.equal((await status(id)).status, 'delivered'));
      // Sent with the header's value as it was set, before and after the page saved the settings.
      assert.deepEqual(new Set(hook.received.map((r) => r.headers.authorization)), new Set([token]));
      // The table empties by itself (no Refresh, no First page).
      await page.locator('#pending-empty').waitFor({ state: 'visible', timeout: 30_000 });
      assert.equal(await page.locator('#pending-rows tr').count(), 0);
      assert.deepEqual(problems, [], 'no script error and no CSP violation');
      await page.close();
    } finally {
      await hook.close();
    }
  });

  it('lists the endpoints with their routes and fates, opens one, searches the message log, adds an endpoint', async () => {
    const [summaries, shipments, failing] = await Promise.all([
      startReceiver(always(200)),
      startReceiver(always(200)),
      startReceiver(always(500)),
    ]);
    try {
      const key = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'multi-portal', name: 'Multi' })).body.apiKeys
        .production as string;
      assert.equal(
        (
          await api('POST', '/v1/event-types', ADMIN_KEY, {
            name: 'shipment.delivered',
            kind: 'event',
            description: 'A parcel reached its recipient',
          })
        ).status,
        201,
      );
      await api('PUT', '/v1/production/endpoints/ep_default', key, { url: summaries.url, kinds: ['summary'] });
      await api('POST', '/v1/production/endpoints', key, {
        url: shipments.url,
        filterTypes: ['shipment.*'],
        description: 'tracking',
      });
      const failingId = (
        await api('POST', '/v1/production/endpoints', key, {
          url: failing.url,
          retrySchedule: '1s',
          description: 'legacy',
        })
      ).body.id as string;
      const submit = (id: string, type: string, eventType?: string) =>
        api('POST', '/v1/production/documents', ADMIN_KEY, {
          customerId: 'multi-portal',
          id,
          type,
          eventType,
          data: {},
        });
      await submit('m_s1', 'summary');
      await submit('m_e1', 'event', 'shipment.delivered');
      await waitFor('the failing endpoint suspended with both', async () => {
        const res = await api('GET', `/v1/production/endpoints/${failingId}`, key);
        assert.deepEqual([res.body.status, res.body.pendingCount], ['suspended', 2]);
      });
      assert.deepEqual(
        summaries.received.map((r) => r.headers['webhook-id']),
        ['m_s1'],
      );
      assert.deepEqual(
        shipments.received.map((r) => r.headers['webhook-id']),
        ['m_e1'],
      );

      const page = await browser.newPage({
        viewport: { width: 1100, height: 1600 },
        locale: 'en-US',
        timezoneId: 'UTC',
      });
      const problems: string[] = [];
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
      });
      await page.goto(`${stack.baseUrl}/webhook`);
      await page.fill('#key', key);
      await page.click('#load');
      const rows = page.locator('#endpoint-rows tr');
      await rows.nth(2).waitFor();
      const table: string[][] = [];
      for (let i = 0; i < (await rows.count()); i++) {
        const cells = await rows.nth(i).locator('td').allTextContents();
        const name = await rows.nth(i).locator('td .name').textContent();
        const id = await rows.nth(i).locator('td .id-note').textContent();
        table.push([name!, id!, ...cells.slice(1, 5)]);
      }
      // Each by the name the customer gave it, its id secondary.
      assert.deepEqual(table, [
        ['webhook', 'ep_default', summaries.url, 'summaries', 'active', '0'],
        ['tracking', table[1][1], shipments.url, 'shipment.*', 'active', '0'],
        ['legacy', failingId, failing.url, 'everything', 'suspended', '2'],
      ]);
      assert.deepEqual(await page.locator('#endpoints th').allTextContents(), [
        'Endpoint',
        'URL',
        'Receives',
        'Status',
        'Pending',
        '',
      ]);

      // The failing one, opened: its own status and pending documents, and its attempts of a document.
      await page.locator(`#endpoint-rows tr[data-endpoint="${failingId}"]`).getByTestId('open-endpoint').click();
      await expectText(page, '#status', 'suspended');
      // Its success rate, from visibility (a second or so behind): Refresh reads it again.
      await waitFor('the success rate', async () => {
        await page.click('#refresh');
        await expectText(page, '#success-rate', '0% (0 delivered, 2 not)', 2_000);
      });
      // And over the last 7 days, in the same card.
      await expectText(page, '#success-rate-7d', '0% (0 delivered, 2 not)');
      // Titled by its name; its id is a secondary line.
      assert.equal(await page.textContent('#webhook-title'), 'legacy');
      assert.equal(await page.textContent('#endpoint-id'), `Production · ${failingId}`);
      const pendingRows = page.locator('#pending-rows tr');
      await pendingRows.nth(1).waitFor();
      assert.deepEqual(
        new Set(await pendingRows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-document')))),
        new Set(['m_s1', 'm_e1']),
      );

      // The message log: both, newest first, times in the browser's zone; filtered by event type, only the event.
      const logRows = page.locator('#log-rows tr');
      await waitFor('the log', async () => {
        await page.click('#log-search');
        await expectText(page, '#log-rows tr:nth-child(2) td:first-child', 'm_s1', 2_000);
      });
      assert.equal(await logRows.first().getAttribute('data-document'), 'm_e1');
      assert.match((await logRows.first().locator('time').textContent()) ?? '', /UTC$/);
      assert.match((await page.textContent('#log-zone')) ?? '', /UTC/);
      // The event-type filter offers the catalog, each type with its description.
      await waitFor('the catalog offered', async () =>
        assert.deepEqual(
          await page
            .locator('#event-type-options option')
            .evaluateAll((os) => os.map((o) => [o.getAttribute('value'), o.getAttribute('label')])),
          [['shipment.delivered', 'A parcel reached its recipient']],
        ),
      );
      assert.equal(await page.getAttribute('#log-event-type', 'list'), 'event-type-options');
      // A value the API would refuse: said in words beside the field, not the API's validation text; nothing asked.
      await page.fill('#log-event-type', 'shipment.*');
      await page.click('#log-search');
      await expectText(
        page,
        '#message-log-error',
        'Search one event type at a time, such as shipment.delivered: families like shipment.* are for endpoints, not for the log.',
      );
      assert.equal(await page.getAttribute('#log-event-type', 'aria-invalid'), 'true');
      await page.fill('#log-event-type', 'shipment delivered');
      await page.click('#log-search');
      const refusal = (await page.textContent('#message-log-error')) ?? '';
      assert.match(refusal, /not an event type name/);
      assert.doesNotMatch(refusal, /query\.|pattern|must match/);
      await page.fill('#log-event-type', 'shipment.delivered');
      await page.click('#log-search');
      assert.equal(await page.textContent('#message-log-error'), '');
      assert.equal(await page.getAttribute('#log-event-type', 'aria-invalid'), 'false');
      await waitFor('the filtered log', async () =>
        assert.deepEqual(await logRows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-document'))), [
          'm_e1',
        ]),
      );
      // The open endpoint's log: a row's status is this endpoint's (pending here, though tracking has it delivered
      // and the document itself is "routed").
      assert.equal(await logRows.first().locator('td').nth(3).textContent(), 'pending');
      await logRows.first().getByTestId('log-attempts').click();
      await expectText(page, '#attempts-document', 'm_e1');
      const attempts = await page.locator('#attempt-rows tr').allTextContents();
      assert.ok(attempts.length >= 1 && attempts.every((line) => /HTTP 500/.test(line)), attempts.join(' | '));
      // Resent from there (it waits at the failing endpoint): one more attempt, refreshed in place, failed again.
      await page.getByTestId('attempts-resend').click();
      await waitFor('the resend in the attempt log', async () => {
        const rows = await page.locator('#attempt-rows tr').allTextContents();
        assert.equal(rows.length, attempts.length + 1, rows.join(' | '));
        assert.match(rows.at(-1)!, /resend.*HTTP 500/);
      });
      await expectText(page, '#attempt-log-said', 'Resent: attempted now.');

      // Find of an id that is no document: said beside Find, and the last document's attempts are gone.
      const before = problems.length;
      await page.fill('#log-id', 'nope_1');
      await page.click('#log-find');
      await expectText(
        page,
        '#message-log-error',
        'No document nope_1 was sent to this endpoint: check the id (it is case-sensitive).',
      );
      assert.equal(await page.isVisible('#message-log-error'), true);
      assert.equal(await page.isHidden('#attempt-log'), true, 'no other document’s attempts on show');
      // Chromium logs the API's 404 for it: expected, and the only console line it causes.
      assert.deepEqual(problems.splice(before), [
        'console: Failed to load resource: the server responded with a status of 404 (Not Found)',
      ]);

      // Ten attempts to a page, opened at the latest: resent until it has 12, the log pages back to the first.
      const attemptCount = async () =>
        (await api('GET', `/v1/production/documents/m_e1?endpointId=${failingId}`, key)).body.attemptCount as number;
      for (let n = await attemptCount(); n < 12; n++) {
        const resent = await api('POST', `/v1/production/endpoints/${failingId}/pending/m_e1/resend`, key);
        assert.equal(resent.status, 202);
        await waitFor('the resend attempted', async () => assert.equal(await attemptCount(), n + 1));
      }
      await logRows.first().getByTestId('log-attempts').click();
      await expectText(page, '#attempts-page', 'Page 2 of 2');
      assert.equal(await page.locator('#attempt-rows tr').count(), 2);
      assert.equal(await page.locator('#attempt-rows tr td').first().textContent(), '11');
      assert.equal(await page.isHidden('#attempts-later'), true, 'no later page');
      await page.click('#attempts-earlier');
      await expectText(page, '#attempts-page', 'Page 1 of 2');
      assert.equal(await page.locator('#attempt-rows tr').count(), 10);
      assert.equal(await page.locator('#attempt-rows tr td').first().textContent(), '1');
      assert.equal(await page.isHidden('#attempts-earlier'), true);
      assert.equal(await page.isVisible('#attempts-later'), true);

      // A fourth endpoint, added in the page: its secret shown once, a new row.
      await page.fill('#new-url', summaries.url);
      await page.fill('#new-description', 'audit');
      await page.selectOption('#new-kinds', 'summary');
      await page.click('#add-endpoint-button');
      await page.locator('#new-secret').waitFor({ state: 'visible' });
      assert.match(await page.inputValue('#new-secret'), /^whsec_/);
      await rows.nth(3).waitFor();
      assert.equal(await rows.nth(3).locator('td .name').textContent(), 'audit');
      assert.equal((await api('GET', '/v1/production/endpoints', key)).body.data.length, 4);

      // The failing endpoint deleted from its card: the question says what becomes of its two pending documents,
      // and so does the answer; it leaves the list. The first endpoint offers no delete (the API refuses it).
      await rows.first().getByTestId('open-endpoint').click();
      await expectText(page, '#webhook-title', 'Production webhook');
      assert.equal(await page.isHidden('#delete-endpoint'), true);
      await page.locator(`#endpoint-rows tr[data-endpoint="${failingId}"]`).getByTestId('open-endpoint').click();
      await expectText(page, '#webhook-title', 'legacy');
      await expectText(page, '#pending-count', '2');
      await page.click('#delete-endpoint');
      const question = (await page.locator('#settings .confirm').textContent()) ?? '';
      assert.match(
        question,
        /^Delete legacy\? Nothing more is sent to it\. Its 2 pending document\(s\) are kept until they expire/,
      );
      await page.locator('#settings .confirm').getByTestId('confirm').click();
      await waitFor('legacy deleted', async () =>
        assert.equal((await api('GET', `/v1/production/endpoints/${failingId}`, key)).status, 404),
      );
      await waitFor('said in the endpoints card', async () =>
        assert.match(
          (await page.textContent('#endpoints-said')) ?? '',
          /^Deleted legacy\. Its 2 pending document\(s\) are kept until .* UTC at the latest/,
        ),
      );
      await page.locator(`#endpoint-rows tr[data-endpoint="${failingId}"]`).waitFor({ state: 'detached' });
      await expectText(page, '#webhook-title', 'Production webhook');
      assert.deepEqual(problems, [], 'no script error and no CSP violation');
      await page.close();
    } finally {
      await Promise.all([summaries.close(), shipments.close(), failing.close()]);
    }
  });
});
