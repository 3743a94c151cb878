/**
 * Records real histories of every shape a running document or endpoint can be in, from the real workflow code on the
 * real stack (dev server, versitygw, SMTP sink, worker and API processes), into test/fixtures/histories/<version>/.
 * `npm test` replays them all against today's code, so a change that would break a workflow in flight fails CI.
 *
 *   npm run histories -- v2        # a new version's fixtures; existing ones are never regenerated in place
 *   npm run histories -- v20 --only portal-sessions   # one new shape's fixtures alone, in minutes (v20's were)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { waitFor } from './lib/stack';
import { toolPath } from './lib/tools';
import {
  deliveryWorkflowId,
  endpointWorkflowId,
  EVENT_TYPE_CATALOG_ID,
  MAX_ID_LENGTH,
  MAX_WORKFLOW_ID_LENGTH,
  maxDocumentIdLength,
  portalSessionWorkflowId,
  restoreWorkflowId,
} from '../src/domain/ids';
import { generateApiKey, hashApiKey } from '../src/lib/api-keys';
import { SecretSeal } from '../src/lib/secret-seal';
import { generateWebhookSecret } from '../src/lib/signature';
import { endpointStateQuery, reissueApiKeyUpdate } from '../src/workflows/messages';
import { startReceiver, type Behaviour } from '../test/helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack } from '../test/helpers/stack';

const version = process.argv[2];
if (!version || !/^v\d+$/.test(version)) {
  console.error('usage: npm run histories -- v<N>   (a version directory that does not exist yet)');
  process.exit(2);
}
const only = process.argv[3] === '--only' ? process.argv[4] : undefined;
if (only !== undefined && only !== 'portal-sessions') {
  console.error('--only takes portal-sessions');
  process.exit(2);
}
const dir = path.resolve(__dirname, '..', 'test', 'fixtures', 'histories', version);
if (existsSync(dir)) {
  console.error(`${dir} exists: fixtures are added, never regenerated in place; pick the next version`);
  process.exit(2);
}

/** `temporal workflow show`, tried a few times: a busy dev server sometimes lets one history read time out. */
function showHistory(command: string, args: string[], options: Parameters<typeof execFileSync>[2]): Buffer {
  for (let attempt = 1; ; attempt++) {
    try {
      return execFileSync(command, [...args, '--command-timeout', '60s'], options) as Buffer;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

async function main() {
  // Operator events go to a receiver of their own (since v6: the entity starts a workflow for each).
  const operator = await startReceiver(() => ({ status: 200 }));
  const stack = await startTestStack({
    OPERATOR_WEBHOOK_URL: operator.url,
    OPERATOR_WEBHOOK_SECRET: generateWebhookSecret(),
    RETENTION_SANDBOX: '6s',
    NOTIFICATION_WINDOW: '2s',
    REPLAY_PAGE_SIZE: '2',
    REPLAY_CONCURRENCY: '1',
    ENDPOINT_RUN_MAX_EVENTS: '50',
    COLD_SWEEP_INTERVAL: '5s',
    SECRET_ROTATION_GRACE: '3s',
    // Since v8: breakers open after 3 failures and try again after a second, so a skipped attempt is recorded.
    BREAKER_FAILURES: '3',
    BREAKER_COOLDOWN: '1s',
    // Probes every second (the floor is a minute in production), so the lifecycle records a few.
    PROBE_MIN_INTERVAL: '1s',
    // Since v12: an entity run hands out 10 rate-limit slots, then continues as new.
    ENDPOINT_RUN_MAX_SLOTS: '10',
  });
  const api = apiClient(stack.baseUrl);
  const client = await stack.temporalClient();
  // Answers per document id: the n-th request for an id gets behaviour(n).
  const perDocument = new Map<string, Behaviour>();
  const seen = new Map<string, number>();
  let fallback: Behaviour = () => ({ status: 200 });
  const receiver = await startReceiver((_n, req) => {
    const id = String(req.headers['webhook-id']);
    seen.set(id, (seen.get(id) ?? 0) + 1);
    return (perDocument.get(id) ?? fallback)(seen.get(id)!, req);
  });
  const notifications = await startReceiver(() => ({ status: 200 }));
  const recorded: { name: string; workflowId: string; runId?: string }[] = [];

  const customer = async (id: string, webhook: Record<string, unknown> = {}) => {
    const keys = (await api('POST', '/v1/customers', ADMIN_KEY, { id, name: id })).body.apiKeys;
    for (const env of ['production', 'sandbox'] as const) {
      const res = await api('PUT', `/v1/${env}/webhook`, keys[env], { url: receiver.url, ...webhook });
      if (res.status !== 200) throw new Error(`PUT webhook: ${JSON.stringify(res.body)}`);
    }
    return keys as { production: string; sandbox: string };
  };
  const submit = (env: string, customerId: string, id: string) =>
    api('POST', `/v1/${env}/documents`, ADMIN_KEY, { customerId, id, type: 'event', data: { id } });
  const status = (env: string, key: string, id: string, wanted: string) =>
    waitFor(`${id} ${wanted}`, async () => {
      const res = await api('GET', `/v1/${env}/documents/${id}`, key);
      if (res.body?.status !== wanted) throw new Error(JSON.stringify(res.body));
    });
  const record = (name: string, workflowId: string, runId?: string) => recorded.push({ name, workflowId, runId });

  // Since v20: portal sessions, one opened by its link and revoked (completed), one opened and still running.
  await customer('h-portal');
  for (const name of ['portal-session-revoked', 'portal-session-open']) {
    const created = await api('POST', '/v1/production/customers/h-portal/portal-sessions', ADMIN_KEY, {
      readOnly: name.endsWith('open'),
      expiresInSeconds: 3_600,
    });
    if (created.status !== 201) throw new Error(`POST portal-sessions: ${JSON.stringify(created.body)}`);
    const link = new URL(created.body.url as string).hash.replace(/^#link=/, '');
    if ((await api('POST', '/v1/portal/redeem', undefined, { link })).status !== 200) throw new Error('redeem');
    if ((await api('POST', '/v1/portal/redeem', undefined, { link })).status !== 410) throw new Error('redeem twice');
    const id = created.body.id as string;
    if (name.endsWith('revoked')) {
      const revoked = await api('DELETE', `/v1/production/customers/h-portal/portal-sessions/${id}`, ADMIN_KEY);
      if (revoked.status !== 204) throw new Error(`DELETE portal session: ${revoked.status}`);
    }
    record(name, portalSessionWorkflowId('production', 'h-portal', id));
  }
  if (only === 'portal-sessions') {
    save(stack, recorded);
    await Promise.all([receiver.close(), notifications.close(), operator.close(), client.connection.close()]);
    await stack.stop();
    return;
  }

  // Since issue 27's one-step endpoints, a deleted endpoint's entity ends: with no document and a schedule of one
  // second, ten minutes (its settle margin) past its delete. Deleted first, so those minutes pass while the rest is
  // recorded; its runs and its first endpoint's entity (endpointSettled) are recorded once it has completed.
  const settled = await customer('h-settled');
  const settledCreated = await api('POST', '/v1/production/endpoints', settled.production, {
    url: `${receiver.url}?settled`,
    retrySchedule: '1s',
  });
  if (settledCreated.status !== 201) throw new Error(`POST endpoints: ${JSON.stringify(settledCreated.body)}`);
  const settledId = settledCreated.body.id as string;
  const settledDeletion = await api('DELETE', `/v1/production/endpoints/${settledId}`, settled.production);
  if (settledDeletion.status !== 200) throw new Error(`DELETE endpoint: ${JSON.stringify(settledDeletion.body)}`);
  const settledDeletedAt = Date.now();

  // Documents.
  const first = await customer('h-first');
  await submit('production', 'h-first', 'doc');
  await status('production', first.production, 'doc', 'delivered');
  record('document-delivered-first-attempt', deliveryWorkflowId('production', 'h-first', 'doc'));
  // A key re-issued, as a resumed customer creation does for an environment that already existed.
  await client.workflow.getHandle(endpointWorkflowId('production', 'h-first')).executeUpdate(reissueApiKeyUpdate, {
    args: [{ apiKeyHash: hashApiKey(generateApiKey('production', 'h-first')) }],
  });
  record('endpoint-configured', endpointWorkflowId('production', 'h-first'));

  // A secret rotated (since v5): the old one signs beside it until the grace ends and the entity drops it.
  const rotated = await customer('h-rotated');
  const rotation = await api('POST', '/v1/production/webhook/secret/rotate', rotated.production);
  if (rotation.status !== 200) throw new Error(`rotate: ${JSON.stringify(rotation.body)}`);
  await submit('production', 'h-rotated', 'signed-twice');
  await status('production', rotated.production, 'signed-twice', 'delivered');
  await waitFor('the grace to end', async () => {
    const res = await api('GET', '/v1/production/webhook', rotated.production);
    if (res.body.previousSecretExpiresAt) throw new Error('still in its grace');
  });
  record('endpoint-secret-rotated', endpointWorkflowId('production', 'h-rotated'));

  // Rate limited (since v7): slots reserved from the entity; a document whose slot is seconds away waits on a timer.
  const paced = await customer('h-paced', { rateLimit: 1, headers: { 'X-Gateway-Token': 'recorded' } });
  for (const id of ['paced-1', 'paced-2', 'paced-3', 'paced-4', 'paced-5']) await submit('production', 'h-paced', id);
  await status('production', paced.production, 'paced-5', 'delivered');
  record('document-rate-limited', deliveryWorkflowId('production', 'h-paced', 'paced-5'));
  record('endpoint-rate-limited', endpointWorkflowId('production', 'h-paced'));

  // An endpoint's share full (since v8): with one request in flight allowed, the second document waits on a timer.
  const shared = await customer('h-share', { maxInFlight: 1 });
  perDocument.set('share-1', () => ({ status: 200, delayMs: 1_500 }));
  await submit('production', 'h-share', 'share-1');
  await new Promise((r) => setTimeout(r, 300));
  await submit('production', 'h-share', 'share-2');
  await status('production', shared.production, 'share-2', 'delivered');
  record('document-share-waited', deliveryWorkflowId('production', 'h-share', 'share-2'));

  // A breaker open (since v8): three failures open it, the fourth document's first attempt is skipped, and its retry
  // (the breaker's trial, after a second) is delivered.
  const broken = await customer('h-breaker', { retrySchedule: '3s' });
  for (const id of ['broken-1', 'broken-2', 'broken-3']) {
    perDocument.set(id, (n) => ({ status: n === 1 ? 500 : 200 }));
    await submit('production', 'h-breaker', id);
    await status('production', broken.production, id, 'retrying');
  }
  await submit('production', 'h-breaker', 'broken-4');
  await status('production', broken.production, 'broken-4', 'delivered');
  const skipped = await api('GET', '/v1/production/documents/broken-4', broken.production);
  if (skipped.body.attempts[0]?.skipped !== 'breaker_open')
    throw new Error(`not skipped: ${JSON.stringify(skipped.body)}`);
  record('document-breaker-skipped-then-delivered', deliveryWorkflowId('production', 'h-breaker', 'broken-4'));

  const retried = await customer('h-retried', { retrySchedule: '1s,1s' });
  perDocument.set('retried', (n) => ({ status: n < 3 ? 500 : 200 }));
  await submit('production', 'h-retried', 'retried');
  await status('production', retried.production, 'retried', 'delivered');
  record('document-retried-then-delivered', deliveryWorkflowId('production', 'h-retried', 'retried'));

  const gone = await customer('h-gone', { retrySchedule: '1s,1s' });
  perDocument.set('gone', () => ({ status: 410 }));
  await submit('production', 'h-gone', 'gone');
  await status('production', gone.production, 'gone', 'pending');
  record('document-410-pending', deliveryWorkflowId('production', 'h-gone', 'gone'));

  const resent = await customer('h-resent', { retrySchedule: '1s' });
  perDocument.set('resent', (n) => ({ status: n < 3 ? 500 : 200 }));
  await submit('production', 'h-resent', 'resent');
  await status('production', resent.production, 'resent', 'pending');
  await api('POST', '/v1/production/pending/resent/resend', resent.production);
  await status('production', resent.production, 'resent', 'delivered');
  record('document-exhausted-pending-resent-delivered', deliveryWorkflowId('production', 'h-resent', 'resent'));

  const acked = await customer('h-acked', { retrySchedule: '1s' });
  perDocument.set('acked', () => ({ status: 500 }));
  await submit('production', 'h-acked', 'acked');
  await status('production', acked.production, 'acked', 'pending');
  await api('DELETE', '/v1/production/pending/acked', acked.production);
  await status('production', acked.production, 'acked', 'acknowledged');
  record('document-pending-acknowledged', deliveryWorkflowId('production', 'h-acked', 'acked'));

  // Continued as new (since v9): a pending document resent until its run passes 1,000 events, and a large document
  // whose retries pass 2 MB. Each run of each is recorded: the one that continued and the one that took over.
  const runsOf = async (workflowId: string) => {
    const runs: string[] = [];
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      runs.push(execution.runId);
    }
    return runs.reverse();
  };
  const recordRuns = async (name: string, workflowId: string, atLeast: number) => {
    const runs = await waitFor(`${atLeast} runs of ${workflowId}`, async () => {
      const found = await runsOf(workflowId);
      if (found.length < atLeast) throw new Error(`${found.length} runs`);
      return found;
    });
    runs.slice(0, atLeast).forEach((runId, i) => record(`${name}-run-${i + 1}`, workflowId, runId));
  };
  const longPending = await customer('h-long', { retrySchedule: '1s' });
  perDocument.set('long', () => ({ status: 500 }));
  await submit('production', 'h-long', 'long');
  await status('production', longPending.production, 'long', 'pending');
  await api('PATCH', '/v1/production/webhook', longPending.production, { active: false });
  const longId = deliveryWorkflowId('production', 'h-long', 'long');
  for (let resends = 0; (await runsOf(longId)).length < 2; resends++) {
    if (resends > 200) throw new Error('200 resends and the run never continued as new');
    const before = seen.get('long') ?? 0;
    await api('POST', '/v1/production/pending/long/resend', longPending.production);
    await waitFor('the resend attempted', async () => {
      if ((seen.get('long') ?? 0) === before) throw new Error('not yet');
    });
  }
  await recordRuns('document-pending-continued', longId, 2);

  // Since issue 27 a large document travels by key (the claim check): its retries no longer pass 2 MB, so its run
  // does not continue as new (v9 to v18 hold that shape); recorded is its one run, retried and stored by key.
  const large = await customer('h-large', { retrySchedule: Array.from({ length: 14 }, () => '1s').join(',') });
  perDocument.set('large', () => ({ status: 500 }));
  const largeBody = { customerId: 'h-large', id: 'large', type: 'event', data: { blob: 'x'.repeat(200 * 1024) } };
  if ((await api('POST', '/v1/production/documents', ADMIN_KEY, largeBody)).status !== 202) throw new Error('large');
  await status('production', large.production, 'large', 'pending');
  // Turned off, so its endpoint's probes (a second apart here) do not go on redelivering it until the run continues.
  await api('PATCH', '/v1/production/webhook', large.production, { active: false });
  const largeId = deliveryWorkflowId('production', 'h-large', 'large');
  record('document-large-by-key', largeId, (await runsOf(largeId))[0]);

  // Since issue 27 a customer's resend that a suspended endpoint's receiver accepts revives it (resendAccepted). A 410
  // suspends the endpoint at once; its schedule of an hour keeps its probes an hour away (PROBE_MIN_INTERVAL is a
  // second here), so it is the customer's resend that is delivered and revives it, and the document that waited in
  // the bucket meanwhile is replayed.
  const revived = await customer('h-revived', { retrySchedule: '1h' });
  let revivedAnswers = 410;
  perDocument.set('revived', () => ({ status: revivedAnswers }));
  perDocument.set('revived-2', () => ({ status: 200 }));
  await submit('production', 'h-revived', 'revived');
  await status('production', revived.production, 'revived', 'pending');
  await waitFor('suspended, failing', async () => {
    const res = await api('GET', '/v1/production/webhook', revived.production);
    if (res.body.status !== 'suspended' || !/410/.test(res.body.suspensionReason ?? '')) throw new Error('not yet');
  });
  await submit('production', 'h-revived', 'revived-2');
  await status('production', revived.production, 'revived-2', 'pending');
  revivedAnswers = 200;
  const revivedResend = await api('POST', '/v1/production/pending/revived/resend', revived.production);
  if (revivedResend.status >= 300) throw new Error(`resend: ${JSON.stringify(revivedResend.body)}`);
  await status('production', revived.production, 'revived', 'delivered');
  await status('production', revived.production, 'revived-2', 'delivered');
  await waitFor('active again', async () => {
    const res = await api('GET', '/v1/production/webhook', revived.production);
    if (res.body.status !== 'active') throw new Error(JSON.stringify(res.body));
  });
  record('document-resend-revived-endpoint', deliveryWorkflowId('production', 'h-revived', 'revived'));
  // The entity's run that took the resendAccepted Update (its runs are short here: it may have continued since).
  const revivedEntity = endpointWorkflowId('production', 'h-revived');
  const revivedRun = await waitFor('the run that took resendAccepted', async () => {
    for (const runId of await runsOf(revivedEntity)) {
      const { events } = await client.workflow.getHandle(revivedEntity, runId).fetchHistory();
      const updates = (events ?? []).map(
        (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input,
      );
      if (updates.some((update) => update?.name === 'resendAccepted')) return runId;
    }
    throw new Error('none yet');
  });
  record('endpoint-revived-by-resend', revivedEntity, revivedRun);

  // Since v10: an entity made before secrets were sealed (its state holds them in the clear) seals them on its next
  // run; and a reactivation whose replay fails everything suspends the endpoint again, so probes resume.
  const legacyState = {
    customerId: 'h-legacy',
    customerName: 'h-legacy',
    environment: 'production' as const,
    apiKeyHash: hashApiKey(generateApiKey('production', 'h-legacy')),
    url: receiver.url,
    secret: generateWebhookSecret(),
    status: 'active' as const,
    preferences: { pendingNotifications: true },
    counters: { retriesExhausted: 0, suspensions: 0 },
    updatedAt: new Date().toISOString(),
  };
  const legacy = await client.workflow.start('endpointEntity', {
    workflowId: endpointWorkflowId('production', 'h-legacy'),
    taskQueue: stack.config.TASK_QUEUE,
    args: [{ state: legacyState }],
    memo: { endpoint: legacyState },
  });
  await waitFor('the legacy secret sealed', async () => {
    const held = await legacy.query(endpointStateQuery);
    if (!held.secret?.startsWith('sealed:v1:')) throw new Error('not yet');
  });
  record('endpoint-secrets-sealed', endpointWorkflowId('production', 'h-legacy'));

  const early = await customer('h-early', { retrySchedule: '1s' });
  perDocument.set('early', () => ({ status: 500 }));
  await submit('production', 'h-early', 'early');
  await status('production', early.production, 'early', 'pending');
  await api('PATCH', '/v1/production/webhook', early.production, { active: true });
  await waitFor('suspended again after the failed replay', async () => {
    const res = await api('GET', '/v1/production/webhook', early.production);
    if (!/replay after the reactivation failed/.test(res.body.suspensionReason ?? '')) throw new Error('not yet');
  });
  record('endpoint-replay-failed-suspended-again', endpointWorkflowId('production', 'h-early'));

  // Since v11: an acknowledgement ends a redelivery that waits for its rate-limit slot (nothing sent).
  const slow = await customer('h-slow', { retrySchedule: '1s', rateLimit: 1 });
  const slowIds = ['slow-1', 'slow-2', 'slow-3', 'slow-4', 'slow-5', 'slow-6'];
  for (const id of slowIds) perDocument.set(id, (n) => ({ status: n <= 2 ? 500 : 200 }));
  for (const id of slowIds) await submit('production', 'h-slow', id);
  for (const id of slowIds) await status('production', slow.production, id, 'pending');
  // Resent together, one slot a second: the later ones wait on timers for theirs.
  await api('POST', '/v1/production/pending/resend', slow.production, { ids: slowIds });
  const waitingId = await waitFor('a redelivery waiting for its slot', async () => {
    for (const id of slowIds.slice(2)) {
      const res = await api('GET', `/v1/production/documents/${id}`, slow.production);
      if (res.body.status === 'pending' && Date.parse(res.body.nextAttemptAt ?? '') > Date.now() + 1_000) return id;
    }
    throw new Error('none yet');
  });
  await api('DELETE', `/v1/production/pending/${waitingId}`, slow.production);
  await status('production', slow.production, waitingId, 'acknowledged');
  record('document-acknowledged-waiting-for-slot', deliveryWorkflowId('production', 'h-slow', waitingId));

  // Since v12: a resend pass hands out a document whose slot is far off (eight single resends booked the ones before
  // it): the redelivery answers `queued`, the entity waits on a timer for it, and the run that has handed out
  // ENDPOINT_RUN_MAX_SLOTS slots refuses more and continues as new.
  const queued = await customer('h-queued', { retrySchedule: '1s', rateLimit: 1 });
  await api('PATCH', '/v1/production/webhook', queued.production, { active: false });
  const queuedIds = ['queued-1', 'queued-2', 'queued-3'];
  const aheadIds = Array.from({ length: 8 }, (_, n) => `queued-ahead-${n + 1}`);
  for (const id of [...queuedIds, ...aheadIds]) await submit('production', 'h-queued', id);
  for (const id of [...queuedIds, ...aheadIds]) await status('production', queued.production, id, 'pending');
  const ahead = aheadIds.map((id) => api('POST', `/v1/production/pending/${id}/resend`, queued.production));
  await new Promise((r) => setTimeout(r, 1_000));
  await api('POST', '/v1/production/pending/resend', queued.production);
  await Promise.all(ahead);
  for (const id of [...queuedIds, ...aheadIds]) await status('production', queued.production, id, 'delivered');
  // The first of them in the bucket was handed out first and queued: each is recorded (the bucket orders them).
  for (const id of queuedIds) {
    record(`document-replay-queued-for-slot-${id}`, deliveryWorkflowId('production', 'h-queued', id));
  }
  const pacedRuns = await runsOf(endpointWorkflowId('production', 'h-queued'));
  pacedRuns.forEach((runId, i) =>
    record(`endpoint-replay-paced-run-${i + 1}`, endpointWorkflowId('production', 'h-queued'), runId),
  );

  // Sandbox keeps pending documents 6 s here: expiry to the cold store, then an operator restore (a new run).
  const cold = await customer('h-cold', { retrySchedule: '1s' });
  perDocument.set('cold', () => ({ status: 500 }));
  await submit('sandbox', 'h-cold', 'cold');
  await status('sandbox', cold.sandbox, 'cold', 'expired');
  const expiredRun = (await client.workflow.getHandle(deliveryWorkflowId('sandbox', 'h-cold', 'cold')).describe())
    .runId;
  record('document-pending-expired', deliveryWorkflowId('sandbox', 'h-cold', 'cold'), expiredRun);
  // Since v13 a restore is a job of its own (restoreDocuments): recorded once it has finished.
  const job = (await api('POST', '/v1/sandbox/customers/h-cold/restore', ADMIN_KEY, { ids: ['cold'] })).body;
  await status('sandbox', cold.sandbox, 'cold', 'pending');
  await waitFor('the restore job completed', async () => {
    const res = await api('GET', `/v1/sandbox/customers/h-cold/restores/${job.restoreId}`, ADMIN_KEY);
    if (res.body?.status !== 'completed') throw new Error(JSON.stringify(res.body));
  });
  record('restore-job', restoreWorkflowId('sandbox', 'h-cold', job.restoreId));
  await api('DELETE', '/v1/sandbox/pending/cold', cold.sandbox);
  await status('sandbox', cold.sandbox, 'cold', 'acknowledged');
  record('document-restored-acknowledged', deliveryWorkflowId('sandbox', 'h-cold', 'cold'));

  // Since v18 a restore may be of another endpoint's cold store: its job names the endpoint, and the document comes
  // back pending at that endpoint alone.
  const coldOther = await api('POST', '/v1/sandbox/endpoints', cold.sandbox, {
    url: receiver.url,
    retrySchedule: '1s',
  });
  if (coldOther.status !== 201) throw new Error(`POST endpoints: ${JSON.stringify(coldOther.body)}`);
  const coldEp = coldOther.body.id as string;
  await api('PATCH', `/v1/sandbox/endpoints/${coldEp}`, cold.sandbox, { active: false });
  await submit('sandbox', 'h-cold', 'cold-other');
  const otherAt = (wanted: string) =>
    waitFor(`cold-other ${wanted} at ${coldEp}`, async () => {
      const res = await api('GET', `/v1/sandbox/documents/cold-other?endpointId=${coldEp}`, cold.sandbox);
      if (res.body?.status !== wanted) throw new Error(JSON.stringify(res.body));
    });
  await otherAt('expired');
  const otherJob = (
    await api('POST', '/v1/sandbox/customers/h-cold/restore', ADMIN_KEY, { endpointId: coldEp, ids: ['cold-other'] })
  ).body;
  await otherAt('pending');
  await waitFor('the endpoint restore job completed', async () => {
    const res = await api('GET', `/v1/sandbox/customers/h-cold/restores/${otherJob.restoreId}`, ADMIN_KEY);
    if (res.body?.status !== 'completed' || res.body.restored !== 1) throw new Error(JSON.stringify(res.body));
  });
  record('restore-job-other-endpoint', restoreWorkflowId('sandbox', 'h-cold', otherJob.restoreId));
  record('delivery-restored-other-endpoint', deliveryWorkflowId('sandbox', 'h-cold', 'cold-other', coldEp));

  // An endpoint's life: suspended with an email, probed, notified in batches, preferences and configuration changed,
  // reactivated and replayed across continue-as-new (runs are short here: ENDPOINT_RUN_MAX_EVENTS=50).
  const life = await customer('h-life', {
    retrySchedule: '2s',
    suspensionEmail: 'ops@h-life.example',
    notificationUrl: notifications.url,
  });
  fallback = () => ({ status: 500 });
  for (const id of ['l1', 'l2', 'l3', 'l4', 'l5', 'l6']) await submit('production', 'h-life', id);
  for (const id of ['l1', 'l2', 'l3', 'l4', 'l5', 'l6']) await status('production', life.production, id, 'pending');
  await waitFor('a notification', async () => {
    if (notifications.received.length === 0) throw new Error('none yet');
  });
  await waitFor('a suspension email', async () => {
    if (stack.mail.messages.length === 0) throw new Error('none yet');
  });
  await new Promise((r) => setTimeout(r, 5_000)); // a few probes
  await api('PUT', '/v1/production/preferences', life.production, { pendingNotifications: false });
  await api('PUT', '/v1/production/preferences', life.production, { pendingNotifications: true });
  await api('PUT', '/v1/production/webhook', life.production, {
    url: receiver.url,
    retrySchedule: '2s',
    suspensionEmail: 'ops@h-life.example',
    notificationUrl: notifications.url,
  });
  fallback = () => ({ status: 200 });
  await api('PATCH', '/v1/production/webhook', life.production, { active: true });
  for (const id of ['l1', 'l2', 'l3', 'l4', 'l5', 'l6']) await status('production', life.production, id, 'delivered');
  await api('PATCH', '/v1/production/webhook', life.production, { active: false });
  const lifeId = endpointWorkflowId('production', 'h-life');
  let run = 0;
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${lifeId}'` })) {
    record(`endpoint-lifecycle-run-${++run}`, lifeId, execution.runId);
  }
  // Since v15: the event-type catalog, and a customer with several endpoints. The webhook takes only summaries, a
  // second endpoint `shipment.*` events, a third everything and fails: an event is routed past the first endpoint to
  // the other two, a summary goes to the first and to the failing one, which suspends and keeps it pending.
  const catalog = async (method: string, path: string, body: unknown) => {
    const res = await api(method, path, ADMIN_KEY, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${JSON.stringify(res.body)}`);
  };
  await catalog('POST', '/v1/event-types', { name: 'shipment.delivered', kind: 'event', schema: { type: 'object' } });
  await catalog('PATCH', '/v1/event-types/shipment.delivered', { description: 'A parcel reached its recipient' });
  record('event-types-catalog', EVENT_TYPE_CATALOG_ID);
  const multi = await customer('h-multi');
  const endpointsOf = async (body: unknown) => {
    const res = await api('POST', '/v1/production/endpoints', multi.production, body);
    if (res.status !== 201) throw new Error(`POST endpoints: ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  };
  await api('PATCH', '/v1/production/endpoints/ep_default', multi.production, { kinds: ['summary'] });
  const shipping = await endpointsOf({ url: receiver.url, filterTypes: ['shipment.*'] });
  // The failing endpoint is told apart at the (shared) receiver by its URL.
  const failing = await endpointsOf({ url: `${receiver.url}?failing`, retrySchedule: '1s' });
  fallback = (_n, req) => ({ status: String(req.url).includes('failing') ? 500 : 200 });
  await api('POST', '/v1/production/documents', ADMIN_KEY, {
    customerId: 'h-multi',
    id: 'multi-event',
    type: 'event',
    eventType: 'shipment.delivered',
    data: {},
  });
  await api('POST', '/v1/production/documents', ADMIN_KEY, {
    customerId: 'h-multi',
    id: 'multi-summary',
    type: 'summary',
    data: {},
  });
  await status('production', multi.production, 'multi-event', 'routed');
  await status('production', multi.production, 'multi-summary', 'delivered');
  await waitFor('the failing endpoint suspended', async () => {
    const res = await api('GET', `/v1/production/endpoints/${failing}`, multi.production);
    if (res.body.status !== 'suspended' || res.body.pendingCount !== 2) throw new Error(JSON.stringify(res.body));
  });
  record('document-routed-to-other-endpoints', deliveryWorkflowId('production', 'h-multi', 'multi-event'));
  record('document-delivered-and-fanned-out', deliveryWorkflowId('production', 'h-multi', 'multi-summary'));
  record('delivery-to-other-endpoint', deliveryWorkflowId('production', 'h-multi', 'multi-event', shipping));
  record('delivery-to-other-endpoint-pending', deliveryWorkflowId('production', 'h-multi', 'multi-summary', failing));
  record('endpoint-listing-others', endpointWorkflowId('production', 'h-multi'));
  record('endpoint-other-suspended', endpointWorkflowId('production', 'h-multi', failing));
  fallback = () => ({ status: 200 });

  // Since v17: resends to one endpoint of deliveries that had ended, each a new run going on from the ended one's
  // attempt log. Delivered at shipments, resent there and delivered again; never sent to the webhook (routed past
  // it), resent there while its receiver fails, so it waits pending.
  await api('POST', '/v1/production/documents', ADMIN_KEY, {
    customerId: 'h-multi',
    id: 'multi-resent',
    type: 'event',
    eventType: 'shipment.delivered',
    data: { resent: true },
  });
  const deliveryStatus = (endpointId: string, wanted: string, attempts: number) =>
    waitFor(`multi-resent ${wanted} at ${endpointId}`, async () => {
      const doc = (await api('GET', '/v1/production/documents/multi-resent', multi.production)).body;
      const at =
        endpointId === 'ep_default'
          ? doc
          : doc.endpoints?.find((e: { endpointId: string }) => e.endpointId === endpointId);
      if (at?.status !== wanted || at.attemptCount !== attempts) throw new Error(JSON.stringify(doc));
    });
  const resend = async (endpointId: string) => {
    const res = await api(
      'POST',
      `/v1/production/documents/multi-resent/endpoints/${endpointId}/resend`,
      multi.production,
    );
    if (res.status !== 202 || res.body.resent !== 'new_run') throw new Error(`resend: ${JSON.stringify(res.body)}`);
  };
  await deliveryStatus(shipping, 'delivered', 1);
  await resend(shipping);
  await deliveryStatus(shipping, 'delivered', 2);
  record('delivery-resent-delivered', deliveryWorkflowId('production', 'h-multi', 'multi-resent', shipping));
  fallback = () => ({ status: 500 });
  await resend('ep_default');
  await deliveryStatus('ep_default', 'pending', 1);
  record('document-resent-failed-pending', deliveryWorkflowId('production', 'h-multi', 'multi-resent'));
  fallback = () => ({ status: 200 });

  // Since issue 27's sealed headers: an entity holding custom header values in the clear (made before they were
  // sealed) seals them on its next run; then a PATCH of its headers (patchHeaders) and a PUT without them
  // (keepHeaders), and a delivery with them.
  const headersKey = generateApiKey('production', 'h-headers');
  const clearHeadersState = {
    ...legacyState,
    customerId: 'h-headers',
    customerName: 'h-headers',
    apiKeyHash: hashApiKey(headersKey),
    secret: new SecretSeal(stack.config.SECRET_KEYS).seal(generateWebhookSecret()),
    headers: { authorization: 'Bearer recorded', 'X-Tenant': 'recorded' },
    updatedAt: new Date().toISOString(),
  };
  const clearHeaders = await client.workflow.start('endpointEntity', {
    workflowId: endpointWorkflowId('production', 'h-headers'),
    taskQueue: stack.config.TASK_QUEUE,
    args: [{ state: clearHeadersState }],
    memo: { endpoint: clearHeadersState },
  });
  await waitFor('the clear header values sealed', async () => {
    const held = await clearHeaders.query(endpointStateQuery);
    if (!Object.values(held.headers ?? {}).every((value) => value.startsWith('sealed:v1:'))) throw new Error('not yet');
  });
  for (const [method, body] of [
    ['PATCH', { headers: { 'X-Tenant': null, 'X-Region': 'recorded' } }],
    ['PUT', { url: receiver.url }],
  ] as const) {
    const res = await api(method, '/v1/production/webhook', headersKey, body);
    if (res.status !== 200) throw new Error(`${method} webhook: ${JSON.stringify(res.body)}`);
  }
  await submit('production', 'h-headers', 'with-headers');
  await status('production', headersKey, 'with-headers', 'delivered');
  record('endpoint-headers-sealed', endpointWorkflowId('production', 'h-headers'));

  // Since issue 27's one-step endpoints: an endpoint created in one step (createEndpoint: the first endpoint's entity
  // lists it and starts its entity, configured), turned off so a document waits for it, then deleted in one step
  // (deleteEndpoint: the first endpoint's entity tells it through an activity, endpointDeleted). Its run stops and
  // continues as new, deleted, waiting for its documents; a resend of the one waiting sends nothing. (Its last run
  // would end ten minutes past its longest retry interval, a day here: h-settled's, above, records that end.)
  const del = await customer('h-delete');
  const created = await api('POST', '/v1/production/endpoints', del.production, { url: `${receiver.url}?deleted` });
  if (created.status !== 201) throw new Error(`POST endpoints: ${JSON.stringify(created.body)}`);
  const deletedId = created.body.id as string;
  await api('PATCH', `/v1/production/endpoints/${deletedId}`, del.production, { active: false });
  await submit('production', 'h-delete', 'to-deleted');
  const deliveryAtDeleted = async () =>
    (await api('GET', '/v1/production/documents/to-deleted', del.production)).body.endpoints?.find(
      (e: { endpointId: string }) => e.endpointId === deletedId,
    );
  await waitFor('to-deleted pending at the endpoint', async () => {
    if ((await deliveryAtDeleted())?.status !== 'pending') throw new Error('not yet');
  });
  const deletion = await api('DELETE', `/v1/production/endpoints/${deletedId}`, del.production);
  if (deletion.status !== 200) throw new Error(`DELETE endpoint: ${JSON.stringify(deletion.body)}`);
  await api('POST', '/v1/production/pending/to-deleted/resend', del.production);
  await waitFor('the resend recorded, unsent', async () => {
    const delivery = await deliveryAtDeleted();
    if (delivery?.attempts.at(-1)?.error !== 'not sent: the endpoint was deleted') throw new Error('not yet');
  });
  record('endpoint-creating-and-deleting', endpointWorkflowId('production', 'h-delete'));
  record('delivery-to-deleted-endpoint', deliveryWorkflowId('production', 'h-delete', 'to-deleted', deletedId));
  const deletedEntity = endpointWorkflowId('production', 'h-delete', deletedId);
  const deletedRuns: string[] = [];
  await waitFor('the deleted endpoint continued as new', async () => {
    deletedRuns.length = 0;
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${deletedEntity}'` })) {
      deletedRuns.push(execution.runId);
    }
    if (deletedRuns.length < 2) throw new Error('one run so far');
  });
  // Listed newest first: the live run that was deleted, then the deleted run.
  deletedRuns.reverse().forEach((runId, i) => record(`endpoint-deleted-run-${i + 1}`, deletedEntity, runId));

  // Since issue 27's id budget: the longest customer id (128) and the longest document id it leaves room for, at a
  // second endpoint that fails. The operator event of its exhausted document has an id past the engine's limit
  // (it holds the customer, the endpoint and the document): the entity starts its workflow under the shortened id
  // (fitWorkflowId, behind the patch fit-operator-event-ids), and that workflow sends the event with its whole id.
  const longCustomer = `h-long-ids-${'0123456789'.repeat(13)}`.slice(0, MAX_ID_LENGTH);
  const longDocument = `doc-${'abcdefghij'.repeat(13)}`.slice(0, maxDocumentIdLength(longCustomer));
  const longIds = await customer(longCustomer);
  const longFailing = await api('POST', '/v1/production/endpoints', longIds.production, {
    url: `${receiver.url}?long-failing`,
    retrySchedule: '1s',
  });
  if (longFailing.status !== 201) throw new Error(`POST endpoints: ${JSON.stringify(longFailing.body)}`);
  const longEp = longFailing.body.id as string;
  fallback = (_n, req) => ({ status: String(req.url).includes('long-failing') ? 500 : 200 });
  const longSubmitted = await submit('production', longCustomer, longDocument);
  if (longSubmitted.status !== 202) throw new Error(`long ids: ${JSON.stringify(longSubmitted.body)}`);
  const exhaustedHead = `operator-event:op_document.exhausted_production_${longCustomer}`;
  const longEventId = await waitFor('the exhausted event started under a shortened id', async () => {
    for await (const execution of client.workflow.list({ query: `WorkflowType = 'operatorEvent'` })) {
      if (execution.workflowId.startsWith(exhaustedHead) && execution.workflowId.includes('#'))
        return execution.workflowId;
    }
    throw new Error('none yet');
  });
  fallback = () => ({ status: 200 });
  if (longEventId.length > MAX_WORKFLOW_ID_LENGTH) throw new Error(`${longEventId.length} characters`);
  // Its parent: the failing endpoint's entity, in the run that started it (the entity may have continued as new since).
  const longEvent = await waitFor('the shortened operator event completed', async () => {
    const described = await client.workflow.getHandle(longEventId).describe();
    if (described.status.name !== 'COMPLETED') throw new Error(described.status.name);
    return described;
  });
  const longParent = longEvent.parentExecution;
  if (longParent?.workflowId !== endpointWorkflowId('production', longCustomer, longEp))
    throw new Error(`started by ${JSON.stringify(longParent)}`);
  record('operator-event-shortened-id', longEventId, longEvent.runId);
  record('endpoint-other-long-ids', longParent.workflowId, longParent.runId ?? undefined);
  // Turned off: no probe a second apart for the rest of the recording.
  await api('PATCH', `/v1/production/endpoints/${longEp}`, longIds.production, { active: false });

  // The deleted endpoint of h-settled: its entity completes once its settle margin has passed (ten minutes from the
  // delete, plus its checks), and its first endpoint's entity drops it from the deleted ones it lists.
  const settledEntity = endpointWorkflowId('production', 'h-settled', settledId);
  const settledRuns = await waitFor(
    'the deleted endpoint of h-settled completed',
    async () => {
      const runs: { runId: string; status: string }[] = [];
      for await (const execution of client.workflow.list({ query: `WorkflowId = '${settledEntity}'` })) {
        runs.push({ runId: execution.runId, status: execution.status.name });
      }
      if (runs[0]?.status !== 'COMPLETED') throw new Error(JSON.stringify(runs));
      return runs.reverse();
    },
    Math.max(settledDeletedAt + 15 * 60_000 - Date.now(), 60_000),
  );
  settledRuns.forEach(({ runId }, i) => record(`endpoint-settled-run-${i + 1}`, settledEntity, runId));
  await waitFor('h-settled lists no deleted endpoint', async () => {
    const held = await client.workflow
      .getHandle(endpointWorkflowId('production', 'h-settled'))
      .query(endpointStateQuery);
    if (held.deletedEndpoints?.length) throw new Error(JSON.stringify(held.deletedEndpoints));
  });
  record('endpoint-listing-settled', endpointWorkflowId('production', 'h-settled'));

  for (const type of ['endpointEmail', 'pendingNotification', 'sweepColdStores', 'operatorEvent']) {
    await waitFor(`a completed ${type}`, async () => {
      for await (const execution of client.workflow.list({
        query: `WorkflowType = '${type}' AND ExecutionStatus = 'Completed'`,
      })) {
        record(
          type.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
          execution.workflowId,
          execution.runId,
        );
        return;
      }
      throw new Error('none yet');
    });
  }

  save(stack, recorded);
  await receiver.close();
  await notifications.close();
  await operator.close();
  await client.connection.close();
  await stack.stop();
}

/** Each recorded workflow's history, as the CLI writes it, into this version's directory. */
function save(
  stack: Awaited<ReturnType<typeof startTestStack>>,
  recorded: { name: string; workflowId: string; runId?: string }[],
) {
  mkdirSync(dir, { recursive: true });
  for (const { name, workflowId, runId } of recorded) {
    // The CLI's JSON is the format Worker.runReplayHistories reads and operators already know.
    const runArgs = runId ? ['--run-id', runId] : [];
    const json = showHistory(
      toolPath('temporal'),
      // Decoded through the API's codec endpoint: fixtures hold plain payloads and replay without the key.
      [
        'workflow',
        'show',
        '--workflow-id',
        workflowId,
        ...runArgs,
        '--output',
        'json',
        '--codec-endpoint',
        `${stack.baseUrl}/codec`,
        '--codec-auth',
        `Bearer ${ADMIN_KEY}`,
      ],
      { env: { ...process.env, TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS }, maxBuffer: 64 * 1024 * 1024 },
    ).toString();
    // A large document's history is mostly the document, many times: gzipped, it costs the repository kilobytes.
    if (json.length > 256 * 1024) writeFileSync(path.join(dir, `${name}.json.gz`), gzipSync(json));
    else writeFileSync(path.join(dir, `${name}.json`), json);
    console.log(`${version}/${name}.json  ${workflowId}  ${JSON.parse(json).events.length} events`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
