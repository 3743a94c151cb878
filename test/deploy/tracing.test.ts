import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../scripts/lib/stack';
import { startJaeger, type JaegerSpan, type JaegerTrace } from '../helpers/jaeger';
import { startReceiver, type Receiver } from '../helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

// One trace per document, against a real OTLP receiver (Jaeger v2): the API's request span, the client's start, the
// document's run, each attempt's activity and the POST to the receiver, every one the child of the one before; a
// retried document has one such chain per attempt. Nothing in the trace carries the body, a key, a secret, a header
// value or the receiver's URL, and the receiver gets no trace header.

describe('traces: one per document, from submit to the receiver', () => {
  let dir: string;
  let jaeger: Awaited<ReturnType<typeof startJaeger>>;
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  let receiver: Receiver;
  let customerKey: string;
  let signingSecret: string;
  const failFirst = new Set<string>();

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tracing-'));
    jaeger = await startJaeger(dir);
    stack = await startTestStack({
      RETRY_SCHEDULE_PRODUCTION: '1s,1s',
      DELIVERY_TIMEOUT: '2s',
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
      // The SDK's batch delay (5 s by default): spans reach Jaeger within the test's patience.
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    api = apiClient(stack.baseUrl);
    // The first request for a document listed in failFirst answers 500, every other one 200.
    const seen = new Set<string>();
    receiver = await startReceiver((_n, req) => {
      const id = String(req.headers['webhook-id']);
      if (failFirst.has(id) && !seen.has(id)) {
        seen.add(id);
        return { status: 500, body: 'try again' };
      }
      return { status: 200 };
    });
    const created = await api('POST', '/v1/customers', ADMIN_KEY, { id: 'traced', name: 'Traced' });
    customerKey = created.body.apiKeys.production;
    const put = await api('PUT', '/v1/production/webhook', customerKey, {
      url: receiver.url,
      headers: { authorization: 'Bearer receiver-token-7f3a' },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    signingSecret = put.body.secret;
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
    await jaeger?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Submits a document under a trace of the test's own (its `traceparent`), and answers that trace's id. */
  async function submit(id: string): Promise<string> {
    const traceId = randomBytes(16).toString('hex');
    const res = await fetch(`${stack.baseUrl}/v1/production/documents`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
      },
      body: JSON.stringify({ customerId: 'traced', id, type: 'event', data: { marker: `body-of-${id}` } }),
    });
    assert.equal(res.status, 202);
    return traceId;
  }

  const named = (t: JaegerTrace, name: string) => t.spans.filter((s) => s.operationName === name);
  const parentOf = (t: JaegerTrace, span: JaegerSpan) =>
    t.spans.find((s) => s.spanID === span.references.find((r) => r.refType === 'CHILD_OF')?.spanID);
  const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;
  const service = (t: JaegerTrace, span: JaegerSpan) => t.processes[span.processID]?.serviceName;

  /** The trace once it holds `posts` POSTs to the receiver and the document's ended run. */
  const traceWith = (traceId: string, posts: number) =>
    waitFor(
      `a trace with ${posts} POST(s) and its run`,
      async () => {
        const t = await jaeger.trace(traceId);
        assert.ok(t, 'no trace yet');
        assert.equal(named(t, 'POST webhook').length, posts, 'POSTs');
        assert.equal(named(t, 'RunWorkflow:deliverDocument').length, 1, 'the run');
        return t;
      },
      30_000,
    );

  /** Each POST's chain up to the API's request span: POST ← RunActivity ← StartActivity ← RunWorkflow ← start ← request. */
  function assertChain(t: JaegerTrace, post: JaegerSpan) {
    const run = parentOf(t, post);
    assert.equal(run?.operationName, 'RunActivity:attemptDelivery');
    const start = parentOf(t, run!);
    assert.equal(start?.operationName, 'StartActivity:attemptDelivery');
    const workflow = parentOf(t, start!);
    assert.equal(workflow?.operationName, 'RunWorkflow:deliverDocument');
    assert.equal(service(t, workflow!), 'webhook-worker');
    const started = parentOf(t, workflow!);
    assert.equal(started?.operationName, 'StartWorkflow:deliverDocument');
    const request = parentOf(t, started!);
    assert.equal(request?.operationName, 'POST /v1/:env/documents');
    assert.equal(service(t, request!), 'webhook-api');
    assert.equal(tag(request!, 'http.response.status_code'), 202);
  }

  function assertNothingSecret(t: JaegerTrace, id: string) {
    const values = JSON.stringify(t.spans.map((s) => s.tags.map((tg) => tg.value)));
    for (const secret of [
      `body-of-${id}`,
      customerKey,
      ADMIN_KEY,
      signingSecret,
      'receiver-token-7f3a',
      receiver.url,
    ]) {
      assert.ok(!values.includes(secret), `the trace carries ${secret}`);
    }
  }

  it('a delivered document: one trace from the submit to the receiver’s 200', async () => {
    const traceId = await submit('trace_ok');
    const t = await traceWith(traceId, 1);
    assert.ok(
      t.spans.every((s) => s.traceID === traceId),
      'every span in the caller’s trace',
    );
    const [post] = named(t, 'POST webhook');
    assert.equal(tag(post, 'http.response.status_code'), 200);
    assert.equal(tag(post, 'webhook.endpoint_id'), 'ep_default');
    assert.equal(service(t, post), 'webhook-worker');
    assertChain(t, post);
    assertNothingSecret(t, 'trace_ok');
    const got = receiver.received.find((r) => r.headers['webhook-id'] === 'trace_ok');
    assert.ok(got, 'delivered');
    assert.equal(got.headers.traceparent, undefined, 'the receiver gets no trace header');
  });

  it('a retried document: each attempt its own chain in the same trace, the 500 an error, then the 200', async () => {
    failFirst.add('trace_retry');
    const traceId = await submit('trace_retry');
    const t = await traceWith(traceId, 2);
    const posts = named(t, 'POST webhook').sort((a, b) => a.startTime - b.startTime);
    assert.deepEqual(
      posts.map((p) => tag(p, 'http.response.status_code')),
      [500, 200],
    );
    assert.equal(tag(posts[0], 'error'), true);
    assert.equal(tag(posts[0], 'error.type'), '500');
    for (const post of posts) assertChain(t, post);
    // Both attempts under the one run of the document.
    assert.equal(new Set(posts.map((p) => parentOf(t, parentOf(t, parentOf(t, p)!)!)!.spanID)).size, 1);
    assertNothingSecret(t, 'trace_retry');
  });
});
