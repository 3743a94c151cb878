import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { deliveryWorkflowId } from '../../src/domain/ids';
import type { Environment } from '../../src/domain/schemas';
import { DOCUMENT_RUN_MAX_BYTES, DOCUMENT_RUN_MAX_EVENTS } from '../../src/workflows/document';
import { always } from '../helpers/receiver';
import { listKeys, readObject } from '../helpers/s3';
import { timeSkippingSuite } from '../helpers/temporal';

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
  // A probe every 30 simulated minutes (the floor over a 1m schedule): 480 in 10 days, as many Updates and 96 MB of
  // documents, where Temporal terminates a workflow at 50 MB.
  const suite = timeSkippingSuite({ DELIVERY_TIMEOUT: '2s', PROBE_MIN_INTERVAL: '30m' }, always(500));

  /** Every run of a document's workflow, newest first, by following each run back to the one it continued. */
  async function runsOf(environment: Environment, customerId: string, id: string): Promise<RunSize[]> {
    const { ts } = suite;
    const workflowId = deliveryWorkflowId(environment, customerId, id);
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

  /** Every run within the bounds, enough of them to show it continued as new; the attempt log bounded too. */
  async function assertBounded(environment: Environment, customerId: string, probes: number) {
    const { ts } = suite;
    const runs = await runsOf(environment, customerId, 'big');
    assert.ok(runs.length >= 2, `${customerId}: ${runs.length} runs; hundreds of probes should continue as new`);
    for (const run of runs) {
      assert.ok(run.events <= MAX_EVENTS_PER_RUN, `${customerId} run ${run.runId}: ${run.events} events`);
      assert.ok(run.bytes <= MAX_BYTES_PER_RUN, `${customerId} run ${run.runId}: ${run.bytes} bytes`);
    }
    const state = await ts.service.getDocument(environment, customerId, 'big');
    // The log keeps the first and the last attempts and counts them all; probes say what they were.
    assert.ok((state.attemptCount ?? 0) >= probes, `${state.attemptCount} attempts counted`);
    assert.equal(state.attempts.length, 50);
    assert.equal(state.attempts[0].trigger, 'scheduled');
    assert.equal(state.attempts.at(-1)!.trigger, 'probe');
    assert.equal(state.attemptsOmitted, state.attemptCount! - 50);
    return state;
  }

  it('keeps every run under its bound through a retention of probes, then acknowledges, resends and expires to the cold store', async () => {
    const { ts, config, receiver } = suite;
    // Each customer is in its own environment, which the body names.
    const probesOf = (environment: Environment) =>
      receiver.received.filter((r) => JSON.parse(r.body).environment === environment).length;
    // Two endpoints that fail for good, one document each (its endpoint's oldest, so it is the one probed): a
    // sandbox one, kept 3 days, that expires; a production one, kept 10, that is resent and acknowledged.
    for (const [environment, customerId] of [
      ['sandbox', 'expires'],
      ['production', 'keeps'],
    ] as const) {
      await ts.service.createCustomer({ id: customerId, name: customerId });
      await ts.service.configureWebhook(environment, customerId, { url: receiver.url, retrySchedule: '1m' });
      await ts.service.submitDocument(environment, { customerId, id: 'big', type: 'summary', data: BIG });
    }
    await ts.env.sleep(5 * M);
    assert.equal((await ts.service.getDocument('sandbox', 'expires', 'big')).status, 'pending');
    assert.equal((await ts.service.getDocument('production', 'keeps', 'big')).status, 'pending');

    // Nearly the sandbox retention: 3 days of probes, about 144.
    for (let day = 0; day < 2; day++) await ts.env.sleep(D);
    await ts.env.sleep(23 * H);
    assert.equal((await assertBounded('sandbox', 'expires', 140)).status, 'pending');
    // Past it: expired on time into the cold store, whole.
    await ts.env.sleep(2 * H);
    assert.equal((await ts.service.getDocument('sandbox', 'expires', 'big')).status, 'expired');
    assert.deepEqual(await listKeys(ts.s3, config.BUCKET_SANDBOX, 'pending/expires/'), []);
    const cold = await listKeys(ts.s3, config.BUCKET_SANDBOX, 'expired/expires/');
    assert.equal(cold.length, 1);
    const body = JSON.parse((await readObject(ts.s3, config.BUCKET_SANDBOX, cold[0])).body);
    assert.equal(body.data.blob.length, BIG.blob.length);

    // Nearly the production retention: 10 days of probes, about 480. The floor holds them to one per 30 minutes,
    // where the 1m schedule alone would send 14,400.
    for (let day = 3; day < 9; day++) await ts.env.sleep(D);
    await ts.env.sleep(21 * H);
    const probes = probesOf('production');
    assert.ok(probes >= 470 && probes <= 490, `${probes} requests reached the receiver, 480 expected`);
    assert.equal((await assertBounded('production', 'keeps', 470)).status, 'pending');

    // After hundreds of Updates and runs: a resend is taken and attempted, and an acknowledge answers.
    await ts.service.resend('production', 'keeps', 'big');
    await ts.env.sleep(10_000);
    assert.equal(probesOf('production'), probes + 1, 'the resend reached the receiver');
    assert.equal(JSON.parse(receiver.received.at(-1)!.body).data.blob.length, BIG.blob.length, 'with the whole body');
    const resent = await ts.service.getDocument('production', 'keeps', 'big');
    assert.equal(resent.attempts.at(-1)!.trigger, 'resend');
    assert.equal((await ts.service.acknowledge('production', 'keeps', 'big')).status, 'acknowledged');
    assert.deepEqual(await listKeys(ts.s3, config.BUCKET_PRODUCTION, 'pending/keeps/'), []);
  });
});
