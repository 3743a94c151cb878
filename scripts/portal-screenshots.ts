/**
 * Refreshes the screenshots of the customer portal in docs/ (`npm run portal:screenshots`): a real stack, the
 * customer of the portal's test report (the webhook, an endpoint for shipment.*, one answering 500 and suspended with
 * pending documents), opened by a portal link in Debian's Chromium at a desktop width and a phone's, and read-only.
 *
 * It starts its own stack on free loopback ports; on a shared machine run it in a network namespace of its own:
 *   unshare -n bash -c 'ip link set lo up && npm run portal:screenshots'
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { always, startReceiver } from '../test/helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack } from '../test/helpers/stack';
import { ROOT, waitFor } from './lib/stack';

const CHROMIUM = '/usr/bin/chromium';
const PENDING = 12;
const shot = (name: string) => path.join(ROOT, 'docs', name);

async function main(): Promise<void> {
  const receivers = await Promise.all([
    startReceiver(always(200)),
    startReceiver(always(200)),
    startReceiver(always(500)),
  ]);
  const stack = await startTestStack({
    RETRY_SCHEDULE_PRODUCTION: '1s',
    DELIVERY_TIMEOUT: '2s',
    PORTAL_BRAND_NAME: 'Webhooks by Acme',
  });
  let browser: Browser | undefined;
  try {
    const api = apiClient(stack.baseUrl);
    await api('POST', '/v1/event-types', ADMIN_KEY, {
      name: 'shipment.delivered',
      kind: 'event',
      description: 'A parcel reached its recipient',
      schema: { type: 'object', examples: [{ trackingId: 'TRK-1' }] },
    });
    const key = (await api('POST', '/v1/customers', ADMIN_KEY, { id: 'acme-shop', name: 'Acme Shop' })).body.apiKeys
      .production as string;
    await api('PUT', '/v1/production/webhook', key, { url: receivers[0].url });
    await api('POST', '/v1/production/endpoints', key, {
      url: receivers[1].url,
      filterTypes: ['shipment.*'],
      description: 'Shipment tracking',
    });
    const failingId = (
      await api('POST', '/v1/production/endpoints', key, {
        url: receivers[2].url,
        retrySchedule: '1s',
        description: 'ERP import',
      })
    ).body.id as string;
    for (let i = 1; i <= PENDING; i++)
      await api('POST', '/v1/production/documents', ADMIN_KEY, {
        customerId: 'acme-shop',
        id: `ord_${String(i).padStart(4, '0')}`,
        type: i % 3 === 0 ? 'summary' : 'event',
        data: { order: i },
      });
    await waitFor(
      'the ERP endpoint suspended with every document',
      async () => {
        const res = await api('GET', `/v1/production/endpoints/${failingId}`, key);
        assert.deepEqual([res.body.status, res.body.pendingCount], ['suspended', PENDING]);
      },
      120_000,
    );

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    const open = async (readOnly: boolean, width: number): Promise<Page> => {
      const link = await api('POST', '/v1/production/customers/acme-shop/portal-sessions', ADMIN_KEY, {
        readOnly,
        branding: { name: 'Acme Shop webhooks', accentColor: '#1f5fbf' },
      });
      const page = await browser!.newPage({ viewport: { width, height: 900 }, timezoneId: 'Europe/Berlin' });
      await page.goto(link.body.url as string);
      await page.locator('#endpoint-rows tr').nth(2).waitFor();
      return page;
    };
    const openFailing = async (page: Page) => {
      await page.locator(`#endpoint-rows tr[data-endpoint="${failingId}"]`).getByTestId('open-endpoint').click();
      await page
        .locator('#pending-rows tr')
        .nth(PENDING - 1)
        .waitFor();
      await waitFor('the last answer', async () =>
        assert.match((await page.textContent('#last-error')) ?? '', /^HTTP 500/),
      );
    };

    const desktop = await open(false, 1280);
    await desktop.screenshot({ path: shot('portal-desktop.png'), fullPage: true });
    await openFailing(desktop);
    await desktop.locator('#pending-rows tr').first().getByTestId('attempts').click();
    await desktop.locator('#attempt-rows tr').first().waitFor();
    await desktop.screenshot({ path: shot('portal-suspended.png'), fullPage: true });

    const phone = await open(false, 390);
    await openFailing(phone);
    await phone.screenshot({ path: shot('portal-phone.png'), fullPage: true });

    const readOnly = await open(true, 1280);
    await openFailing(readOnly);
    await readOnly.screenshot({ path: shot('portal-read-only.png'), fullPage: true });
    console.log('wrote docs/portal-desktop.png, portal-suspended.png, portal-phone.png, portal-read-only.png');
  } finally {
    await browser?.close();
    await stack.stop();
    await Promise.all(receivers.map((r) => r.close()));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
