import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { Webhook } from 'standardwebhooks';
import { waitFor } from '../../scripts/lib/stack';
import { endpointWorkflowId } from '../../src/domain/ids';
import { pendingObjectKey } from '../../src/pending/keys';
import type { PendingEntry } from '../../src/domain/schemas';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

const COUNT = 12_000;
const CUSTOMER = 'bulk';

/** Runs `work` over `items` with at most `width` at a time. */
async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/**
 * A production customer suspended for days collects tens of thousands of pending documents. Running that many document
 * workflows takes minutes here, so the test stores 12,000 objects the way a document workflow stores them (real S3,
 * the same key) and submits three real documents after them. (Real document workflows alone are listed at 2,500 in
 * test/workflows/pending-listing.test.ts.) Nothing signals the entity per document: it finds them in the bucket.
 */
describe(`${COUNT.toLocaleString('en')} pending documents for one customer, on the real stack`, () => {
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  let client: Client;
  let hook: Receiver;
  let notifications: Receiver;
  let key: string;
  let secret: string;
  const entries: PendingEntry[] = [];
  const real = ['real-1', 'real-2', 'real-3'];
  const allIds = () => [...entries.map((e) => e.id), ...real];

  before(async () => {
    // A replay step is one activity per page, so 12,000 documents take a few dozen events: short runs make the walk
    // span several of them, as 12,000 documents would at the default with a busier entity.
    stack = await startTestStack({
      NOTIFICATION_WINDOW: '3s',
      REPLAY_CONCURRENCY: '50',
      REPLAY_PAGE_SIZE: '500',
      ENDPOINT_RUN_MAX_EVENTS: '50',
    });
    api = apiClient(stack.baseUrl);
    client = await stack.temporalClient();
    hook = await startReceiver(always(200));
    notifications = await startReceiver(always(200));
    key = (await api('POST', '/v1/customers', ADMIN_KEY, { id: CUSTOMER, name: 'Bulk' })).body.apiKeys.production;
    secret = (await api('PUT', '/v1/production/webhook', key, { url: hook.url, notificationUrl: notifications.url }))
      .body.secret;
    await api('PATCH', '/v1/production/webhook', key, { active: false });

    const start = Date.now() - 5 * 86_400_000;
    for (let i = 0; i < COUNT; i++) {
      const pendingSince = new Date(start + i * 1000);
      entries.push({
        id: `doc-${String(i).padStart(5, '0')}`,
        type: i % 10 === 0 ? 'summary' : 'event',
        createdAt: new Date(pendingSince.getTime() - 60_000).toISOString(),
        pendingSince: pendingSince.toISOString(),
        expiresAt: new Date(pendingSince.getTime() + 10 * 86_400_000).toISOString(),
      });
    }
    const started = Date.now();
    await inParallel(entries, 32, (entry) =>
      stack.s3.send(
        new PutObjectCommand({
          Bucket: stack.config.BUCKET_PRODUCTION,
          Key: pendingObjectKey(CUSTOMER, entry),
          Body: JSON.stringify({ id: entry.id, type: entry.type, data: entry.id }),
          ContentType: 'application/json',
        }),
      ),
    );
    console.log(`# ${COUNT} objects stored in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const id of real) {
      await api('POST', '/v1/production/documents', ADMIN_KEY, { customerId: CUSTOMER, id, type: 'event', data: id });
      await waitFor(`${id} pending`, async () =>
        assert.equal((await api('GET', `/v1/production/documents/${id}`, key)).body.status, 'pending'),
      );
    }
  });
  after(async () => {
    await hook?.close();
    await notifications?.close();
    await client?.connection.close();
    await stack?.stop();
  });

  it('the webhook counts them, and the API pages through all of them in order and filters by type', async () => {
    assert.equal((await api('GET', '/v1/production/webhook', key)).body.pendingCount, COUNT + real.length);
    const seen: string[] = [];
    let cursor: string | undefined;
    const started = Date.now();
    do {
      const page = await api('GET', `/v1/production/pending?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, key);
      assert.equal(page.status, 200);
      seen.push(...page.body.data.map((d: { id: string }) => d.id));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    console.log(`# listed ${seen.length} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.deepEqual(seen, allIds());

    // One summary in ten: a filtered request reads at most 5 listings (5,000 keys), so the first page ends short
    // with a cursor, and the cursor walks on to every summary, in order.
    const summaries = await api('GET', '/v1/production/pending?type=summary&limit=1000', key);
    assert.equal(summaries.body.data.length, 500);
    assert.ok(summaries.body.nextCursor);
    assert.ok(summaries.body.data.every((d: { type: string }) => d.type === 'summary'));
    const allSummaries: string[] = [];
    let next: string | undefined;
    do {
      const page = await api(
        'GET',
        `/v1/production/pending?type=summary&limit=1000${next ? `&cursor=${next}` : ''}`,
        key,
      );
      allSummaries.push(...page.body.data.map((d: { id: string }) => d.id));
      next = page.body.nextCursor ?? undefined;
    } while (next);
    assert.deepEqual(
      allSummaries,
      entries.filter((e) => e.type === 'summary').map((e) => e.id),
    );
    assert.deepEqual(summaries.body.data[1], {
      id: entries[10].id,
      type: 'summary',
      createdAt: entries[10].createdAt,
      pendingSince: entries[10].pendingSince,
      expiresAt: entries[10].expiresAt,
    });
  });

  it('the suspended entity finds them in the bucket: a notification counts all and lists the oldest thousand', async () => {
    const last = await waitFor(
      'a notification that counts every document',
      async () => {
        const got = notifications.received.at(-1)!;
        const body = new Webhook(secret).verify(got.body, got.headers as Record<string, string>) as {
          pending: { events: number; summaries: number };
          documentIds: string[];
          oldestExpiresAt: string;
        };
        assert.deepEqual(body.pending, { events: COUNT * 0.9 + real.length, summaries: COUNT * 0.1 });
        return body;
      },
      60_000,
    );
    assert.deepEqual(last.documentIds, allIds().slice(0, 1000));
    assert.equal(last.oldestExpiresAt, entries[0].expiresAt);
  });

  it('reactivation walks the whole bucket, continuing as new on the way, and delivers the newest last', async () => {
    const entity = client.workflow.getHandle(endpointWorkflowId('production', CUSTOMER));
    const runBefore = (await entity.describe()).runId;
    const started = Date.now();
    assert.equal((await api('PATCH', '/v1/production/webhook', key, { active: true })).status, 200);
    await waitFor(
      'the three real documents delivered',
      async () => {
        for (const id of real) {
          assert.equal((await api('GET', `/v1/production/documents/${id}`, key)).body.status, 'delivered');
        }
      },
      300_000,
    );
    console.log(
      `# replay reached the end of ${COUNT + real.length} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    // Fifty at a time, so they may arrive in any order; test/workflows/endpoint-lifecycle checks the order one at a time.
    assert.deepEqual(
      hook.received.map((r) => r.headers['webhook-id']).sort(),
      real,
      'the newest documents, reached after every stored one before them',
    );
    let runs = 0;
    for await (const _ of client.workflow.list({ query: `WorkflowId = '${entity.workflowId}'` })) runs++;
    console.log(`# the entity ran as ${runs} runs`);

    const history = await entity.fetchHistory();
    const first = history.events![0].workflowExecutionStartedEventAttributes!;
    assert.notEqual((await entity.describe()).runId, runBefore, 'the replay continued as new on the way');
    const inputBytes = first.input!.payloads!.reduce((sum, p) => sum + (p.data?.length ?? 0), 0);
    assert.ok(inputBytes < 4096, `the carried state is ${inputBytes} bytes, whatever the number of documents`);
  });
});
