import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, waitFor } from '../../scripts/lib/stack';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

/** `name{labels} value` lines of a Prometheus text, as a lookup by series (labels in the order they were written). */
function parse(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

/** The metric names a text exports (histograms under their base name too). */
function names(text: string): Set<string> {
  const found = new Set<string>();
  for (const key of parse(text).keys()) {
    const name = key.split('{')[0];
    found.add(name);
    found.add(name.replace(/_(bucket|count|sum)$/, ''));
  }
  return found;
}

// Scrapes the API's and the worker's GET /metrics after one delivered and one failed document (suspended, stored,
// notified, acknowledged, reactivated): every counter that should move moved, and no customer id is in a label.
describe('GET /metrics on the API and the worker', () => {
  let stack: TestStack;
  const receivers: Receiver[] = [];
  let apiText = '';
  let workerText = '';
  /** The failed document's attempts as its status shows them: two on its schedule, and any probe of the suspension. */
  let failedAttempts = 0;

  before(async () => {
    stack = await startTestStack({
      RETRY_SCHEDULE_PRODUCTION: '1s',
      DELIVERY_TIMEOUT: '2s',
      NOTIFICATION_WINDOW: '1s',
    });
    const api = apiClient(stack.baseUrl);
    const [ok, failing, notifications] = await Promise.all([
      startReceiver(always(200)),
      startReceiver(always(500)),
      startReceiver(always(200)),
    ]);
    receivers.push(ok, failing, notifications);
    const keys: Record<string, string> = {};
    for (const [id, url] of [
      ['metrics-ok', ok.url],
      ['metrics-down', failing.url],
    ] as const) {
      const created = await api('POST', '/v1/customers', ADMIN_KEY, { id, name: id });
      keys[id] = created.body.apiKeys.production;
      const put = await api('PUT', '/v1/production/webhook', keys[id], { url, notificationUrl: notifications.url });
      assert.equal(put.status, 200);
    }
    for (const customerId of ['metrics-ok', 'metrics-down']) {
      const res = await api('POST', '/v1/production/documents', ADMIN_KEY, {
        customerId,
        id: 'evt_1',
        type: 'event',
        data: {},
      });
      assert.equal(res.status, 202);
    }
    const down = keys['metrics-down'];
    await waitFor('the failed document in the bucket', async () => {
      assert.equal((await api('GET', '/v1/production/documents/evt_1', down)).body.status, 'pending');
    });
    await waitFor('a notification', async () => assert.ok(notifications.received.length >= 1, 'not yet'));
    assert.equal((await api('DELETE', '/v1/production/pending/evt_1', down)).status, 204);
    assert.equal((await api('PATCH', '/v1/production/webhook', down, { active: true })).status, 200);
    failedAttempts = (await api('GET', '/v1/production/documents/evt_1', down)).body.attempts.length;
    assert.ok(failedAttempts >= 2);
    await waitFor('the delivered document', async () => {
      assert.equal((await api('GET', '/v1/production/documents/evt_1', keys['metrics-ok'])).body.status, 'delivered');
    });

    await waitFor('the worker to count the reactivation', async () => {
      workerText = await (await fetch(stack.workerMetricsUrls[0])).text();
      assert.match(workerText, /webhook_endpoint_reactivations_total\{environment="production",by="customer"\} 1/);
    });
    const res = await fetch(`${stack.baseUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    apiText = await res.text();
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await stack?.stop();
  });

  it("the worker answers an orchestrator's probes on its metrics port while it polls", async () => {
    const health = await fetch(stack.workerMetricsUrls[0].replace(/\/metrics$/, '/healthz'));
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
  });

  it('the API counts submissions, acknowledgements and requests by route pattern and status', () => {
    const api = parse(apiText);
    assert.equal(api.get('webhook_documents_submitted_total{environment="production"}'), 2);
    assert.equal(api.get('webhook_documents_submitted_total{environment="sandbox"}'), 0);
    assert.equal(api.get('webhook_documents_acknowledged_total{environment="production"}'), 1);
    assert.equal(api.get('webhook_api_requests_total{method="POST",route="/v1/:env/documents",status="202"}'), 2);
    assert.equal(api.get('webhook_api_requests_total{method="DELETE",route="/v1/:env/pending/:id",status="204"}'), 1);
    assert.ok(
      (api.get('webhook_api_request_duration_seconds_count{method="GET",route="/v1/:env/documents/:id"}') ?? 0) >= 2,
    );
  });

  it('the worker counts attempts by outcome, storage, suspension, notification and reactivation', () => {
    const worker = parse(workerText);
    const env = 'environment="production"';
    assert.equal(worker.get(`webhook_delivery_attempts_total{${env},outcome="delivered",trigger="scheduled"}`), 1);
    assert.equal(
      worker.get(`webhook_delivery_attempts_total{${env},outcome="http_5xx",trigger="scheduled"}`),
      failedAttempts,
    );
    assert.equal(
      worker.get(`webhook_delivery_attempt_duration_seconds_count{${env},outcome="http_5xx"}`),
      failedAttempts,
    );
    assert.equal(worker.get(`webhook_documents_archived_total{${env}}`), 1);
    assert.equal(worker.get(`webhook_endpoint_suspensions_total{${env},kind="failing"}`), 1);
    assert.equal(worker.get(`webhook_endpoint_reactivations_total{${env},by="customer"}`), 1);
    assert.ok((worker.get(`webhook_notifications_total{${env},outcome="sent"}`) ?? 0) >= 1);
  });

  it("the worker also exports the Temporal SDK's own metrics, through its runtime", () => {
    const exported = names(workerText);
    for (const name of [
      'temporal_workflow_completed_total',
      'temporal_activity_execution_latency_seconds',
      'temporal_worker_task_slots_available',
    ]) {
      assert.ok(exported.has(name), `${name} missing`);
    }
    // Prometheus conventions, as promtool checks them: counters end in _total, durations are seconds and say so.
    for (const [, name, type] of workerText.matchAll(/^# TYPE (temporal_\w+) (\w+)$/gm)) {
      if (type === 'counter') assert.match(name, /_total$/, `${name}: a counter without _total`);
      if (type === 'histogram') assert.match(name, /_seconds$/, `${name}: a histogram not in seconds`);
    }
  });

  it('no label carries a customer id', () => {
    for (const text of [apiText, workerText]) assert.doesNotMatch(text, /metrics-(ok|down)/);
  });

  it('every metric the Grafana dashboard queries is one the API or the worker exports', () => {
    const dashboard = readFileSync(
      path.join(ROOT, 'deploy', 'helm', 'webhook-delivery', 'dashboards', 'webhooks.json'),
      'utf8',
    );
    const exprs = [...dashboard.matchAll(/"expr":\s*"((?:[^"\\]|\\.)*)"/g)].map(
      (m) => JSON.parse(`"${m[1]}"`) as string,
    );
    assert.ok(exprs.length >= 8, `${exprs.length} queries`);
    const exported = new Set([...names(apiText), ...names(workerText)]);
    const queried = new Set(exprs.flatMap((expr) => expr.match(/\b(?:webhook|temporal)_[a-z_]+/g) ?? []));
    assert.deepEqual(
      [...queried].filter((name) => !exported.has(name)),
      [],
      'queried but not exported',
    );
  });
});
