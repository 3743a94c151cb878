import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import type { Config } from '../../src/config';
import { deliveryWorkflowId } from '../../src/domain/ids';
import { DOCUMENT_RUN_MAX_BYTES, DOCUMENT_RUN_MAX_EVENTS } from '../../src/workflows/document';
import { testConfig } from '../helpers/config';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { listKeys, readObject, startTestS3 } from '../helpers/s3';
import { startTimeSkipping, type TimeSkipping } from '../helpers/temporal';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
/** Near the 256 KB a document may have: what used to grow a history by that much per probe. */
const BIG = { blob: 'x'.repeat(200 * 1024) };
/** One event past the bound (the run continues at its next safe point) plus what one probe adds, at most. */
const MAX_EVENTS_PER_RUN = DOCUMENT_RUN_MAX_EVENTS + 50;
/** The bytes bound, plus the run's first event (which carries the document) and one probe's worth. */
const MAX_BYTES_PER_RUN = DOCUMENT_RUN_MAX_BYTES + 2 * 256 * 1024;

interface RunSize {
  runId: string;
  events: number;
  bytes: number;
}

// A document pending for its whole retention on a short schedule is probed hundreds of times. Its history used to
// grow by the document's size with each probe until Temporal terminated the workflow (at 50 MB), and the document
// was lost: no acknowledge, no resend, no cold store. Here each run stays bounded and the document lives on.
describe('a large document probed for its whole retention, with time skipping', () => {
  let s3: Awaited<ReturnType<typeof startTestS3>>;
  let ts: TimeSkipping;
  let config: Config;
  let receiver: Receiver;

  before(async () => {
    s3 = await startTestS3();
    // A probe every 30 simulated minutes (the floor over a 1m schedule): 480 in 10 days, as many Updates and 96 MB
    // of documents, where Temporal terminates a workflow at 50 MB.
    config = testConfig({ ...s3.env, DELIVERY_TIMEOUT: '2s', PROBE_MIN_INTERVAL: '30m' });
    ts = await startTimeSkipping(config);
    receiver = await startReceiver(always(500), ts.now);
  });
  after(async () => {
    await receiver?.close();
    await ts?.stop();
    await s3?.stop();
  });

  /** Every run of a document's workflow, newest first, by following each run back to the one it continued. */
  async function runsOf(customerId: string, id: string): Promise<RunSize[]> {
    const workflowId = deliveryWorkflowId('production', customerId, id);
    const runs: RunSize[] = [];
    let runId: string | undefined;
    for (;;) {
      const handle = ts.client.workflow.getHandle(workflowId, runId);
      const history = await handle.fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      runs.push({
        runId: runId ?? 'latest',
        events: history.events?.length ?? 0,
        bytes: temporal.api.history.v1.History.encode(history).finish().length,
      });
      runId = started?.continuedExecutionRunId || undefined;
      if (!runId) return runs;
    }
  }

  it('keeps every run under its bound for 10 days of probes, then acknowledges, resends and expires to the cold store', async () => {
    // Two customers whose endpoints fail for good: one document each, each its endpoint's oldest, so each is probed.
    for (const customerId of ['keeps', 'expires']) {
      await ts.service.createCustomer({ id: customerId, name: customerId });
      await ts.service.configureWebhook('production', customerId, { url: receiver.url, retrySchedule: '1m' });
      await ts.service.submitDocument('production', { customerId, id: 'big', type: 'summary', data: BIG });
    }
    await ts.env.sleep(5 * M);
    for (const customerId of ['keeps', 'expires']) {
      assert.equal((await ts.service.getDocument('production', customerId, 'big')).status, 'pending');
      assert.equal((await ts.service.findEndpoint('production', customerId))?.status, 'suspended');
    }

    // Nearly the whole 10-day retention, in steps, so the runs can be read on the way.
    for (let day = 0; day < 9; day++) await ts.env.sleep(D);
    await ts.env.sleep(23 * H);

    const probes = receiver.received.filter((r) => r.headers['webhook-id'] === 'big').length;
    // About 480 each: the floor holds them to one per 30 minutes, where the 1m schedule alone would send 14,400.
    assert.ok(probes >= 2 * 470 && probes <= 2 * 490, `${probes} requests reached the receiver, 2 x 480 expected`);
    for (const customerId of ['keeps', 'expires']) {
      const runs = await runsOf(customerId, 'big');
      assert.ok(runs.length >= 3, `${customerId}: ${runs.length} runs; hundreds of probes should continue as new`);
      for (const run of runs) {
        assert.ok(run.events <= MAX_EVENTS_PER_RUN, `${customerId} run ${run.runId}: ${run.events} events`);
        assert.ok(run.bytes <= MAX_BYTES_PER_RUN, `${customerId} run ${run.runId}: ${run.bytes} bytes`);
      }
      const state = await ts.service.getDocument('production', customerId, 'big');
      assert.equal(state.status, 'pending');
      // The log keeps the first and the last attempts and counts them all; probes say what they were.
      assert.ok((state.attemptCount ?? 0) >= 470, `${state.attemptCount} attempts counted`);
      assert.equal(state.attempts.length, 50);
      assert.equal(state.attempts[0].trigger, 'scheduled');
      assert.equal(state.attempts.at(-1)!.trigger, 'probe');
      assert.equal(state.attemptsOmitted, state.attemptCount! - 50);
    }

    // After hundreds of Updates and runs: a resend is taken and attempted, and an acknowledge answers.
    const sent = receiver.received.length;
    await ts.service.resend('production', 'keeps', 'big');
    await ts.env.sleep(10_000);
    assert.equal(receiver.received.length, sent + 1, 'the resend reached the receiver');
    assert.equal(JSON.parse(receiver.received.at(-1)!.body).data.blob.length, BIG.blob.length, 'with the whole body');
    const resent = await ts.service.getDocument('production', 'keeps', 'big');
    assert.equal(resent.attempts.at(-1)!.trigger, 'resend');
    assert.equal((await ts.service.acknowledge('production', 'keeps', 'big')).status, 'acknowledged');
    assert.deepEqual(await listKeys(ts.s3, config.BUCKET_PRODUCTION, 'pending/keeps/'), []);

    // The other one expires on time into the cold store, whole.
    await ts.env.sleep(2 * H);
    assert.equal((await ts.service.getDocument('production', 'expires', 'big')).status, 'expired');
    assert.deepEqual(await listKeys(ts.s3, config.BUCKET_PRODUCTION, 'pending/expires/'), []);
    const cold = await listKeys(ts.s3, config.BUCKET_PRODUCTION, 'expired/expires/');
    assert.equal(cold.length, 1);
    const body = JSON.parse((await readObject(ts.s3, config.BUCKET_PRODUCTION, cold[0])).body);
    assert.equal(body.data.blob.length, BIG.blob.length);
  });
});
