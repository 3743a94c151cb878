import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endpointWorkflowId } from '../../src/domain/ids';
import { always, busiestSecond } from '../helpers/receiver';
import { listKeys } from '../helpers/s3';
import { timeSkippingSuite } from '../helpers/temporal';

// The 3,000 (RATE_LIMITED_REPLAY_PENDING=3000; about 10 minutes here, by the pace of a 600-document run) and
// CI's 300 cross the same bounds: the slots per run are set low enough that CI's replay also spans several entity runs.
const PENDING = Number(process.env.RATE_LIMITED_REPLAY_PENDING ?? 300);
/** New documents submitted as the endpoint is reactivated: their first attempts book the slots ahead of the replay. */
const BURST = PENDING / 4;
const MAX_SLOTS = Math.ceil(PENDING / 3);
const MAX_EVENTS = 2_000;
const M = 60_000;

interface HistoryEvent {
  eventType?: unknown;
  eventTime?: { seconds?: unknown; nanos?: number | null } | null;
  workflowExecutionStartedEventAttributes?: { continuedExecutionRunId?: string | null } | null;
  workflowExecutionUpdateAcceptedEventAttributes?: {
    acceptedRequest?: { input?: { name?: string | null } | null } | null;
  } | null;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  activityTaskCompletedEventAttributes?: { scheduledEventId?: unknown } | null;
  eventId?: unknown;
}

const eventMs = (e: HistoryEvent) =>
  Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6);

// The scenario: a rate limit of 1 request a second and 3,000 documents pending when the customer turns the
// endpoint back on, while new documents keep arriving. The replay must never hold its entity waiting for a throttled
// document (a step answers as soon as its documents are queued for their slots), every run of the entity must stay
// bounded (events, and slot Updates: Temporal allows 2,000 per run), every document must arrive once within the
// limit, and an acknowledgement of a queued document must answer at once.
describe(`a rate limit of 1 with ${PENDING} pending documents through a reactivation (time skipping)`, () => {
  const suite = timeSkippingSuite(
    {
      RATE_LIMIT_INLINE_WAIT: '0s',
      DELIVERY_TIMEOUT: '2s',
      REPLAY_CONCURRENCY: '5',
      REPLAY_PAGE_SIZE: '100',
      ENDPOINT_RUN_MAX_SLOTS: String(MAX_SLOTS),
      ENDPOINT_RUN_MAX_EVENTS: String(MAX_EVENTS),
    },
    always(200),
  );
  const customerId = 'paced-replay';

  const submit = (id: string) =>
    suite.ts.service.submitDocument('production', { customerId, id, type: 'event', data: { id } });
  async function inBatches(ids: string[], run: (id: string) => Promise<unknown>) {
    for (let i = 0; i < ids.length; i += 50) await Promise.all(ids.slice(i, i + 50).map(run));
  }

  /** Every run of the entity, oldest first: each one's history, walked back from the current run. */
  async function entityRuns(): Promise<HistoryEvent[][]> {
    const id = endpointWorkflowId('production', customerId);
    const runs: HistoryEvent[][] = [];
    let runId: string | undefined = (await suite.ts.client.workflow.getHandle(id).describe()).runId;
    while (runId) {
      const history = await suite.ts.client.workflow.getHandle(id, runId).fetchHistory();
      const events = (history.events ?? []) as HistoryEvent[];
      runs.unshift(events);
      runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
    }
    return runs;
  }

  it('every document arrives once within the limit, no step waits on a throttled one, every run stays bounded', async () => {
    const { ts, receiver } = suite;
    await ts.service.createCustomer({ id: customerId, name: 'Paced replay' });
    await ts.service.configureWebhook('production', customerId, { url: receiver.url, rateLimit: 1 });
    await ts.service.setActive('production', customerId, false);
    const pendingIds = Array.from({ length: PENDING }, (_, n) => `pend-${String(n).padStart(5, '0')}`);
    await inBatches(pendingIds, submit);
    // Suspended: every one goes straight to the bucket without a request (at 3,000 that takes minutes of real time:
    // each document's first task runs here, whatever the skipped clock says).
    const stored = () => listKeys(ts.s3, suite.config.BUCKET_PRODUCTION, `pending/${customerId}/`);
    const storedBy = Date.now() + 10 * M;
    while ((await stored()).length < PENDING && Date.now() < storedBy) await ts.env.sleep(10_000);
    assert.equal((await stored()).length, PENDING);
    assert.equal(receiver.received.length, 0);

    // Turned on again, while a burst of new documents arrives: their first attempts book the next BURST slots.
    const burstIds = Array.from({ length: BURST }, (_, n) => `new-${String(n).padStart(4, '0')}`);
    await Promise.all([ts.service.setActive('production', customerId, true), inBatches(burstIds, submit)]);

    // An acknowledgement of a document the replay queued for its slot answers at once (on the server's clock, long
    // before that slot), and the document is never sent.
    let acknowledged: string | undefined;
    for (let round = 0; round < 60 && !acknowledged; round++) {
      await ts.env.sleep(10_000);
      for (const id of pendingIds.slice(0, 20)) {
        const doc = await ts.service.getDocument('production', customerId, id);
        if (doc.status !== 'pending' || !doc.nextAttemptAt) continue;
        const queuedFor = Date.parse(doc.nextAttemptAt);
        const before = await ts.now();
        if (queuedFor - before < 30_000) continue;
        const answer = await ts.service.acknowledge('production', customerId, id);
        assert.equal(answer.status, 'acknowledged');
        assert.ok((await ts.now()) < queuedFor, 'answered before the slot it was queued for');
        acknowledged = id;
        break;
      }
    }
    assert.ok(acknowledged, 'a replayed document was seen queued for its slot');

    const expected = PENDING + BURST - 1;
    // Real time, not skipped: each delivery is a few workflow tasks here, about 2-4 a second on this machine.
    const deadline = Date.now() + Math.max(10 * M, expected * 600);
    while (receiver.received.length < expected && Date.now() < deadline) await ts.env.sleep(5 * M);

    const ids = receiver.received.map((r) => String(r.headers['webhook-id']));
    assert.equal(new Set(ids).size, ids.length, 'no document arrived twice');
    assert.equal(ids.length, expected, `${ids.length} of ${expected} arrived`);
    assert.ok(!ids.includes(acknowledged!), 'the acknowledged document was not sent');
    const most = busiestSecond(receiver.received.map((r) => r.at));
    assert.equal(most, 1, `${most} requests within one second`);
    assert.deepEqual(await listKeys(ts.s3, suite.config.BUCKET_PRODUCTION, `pending/${customerId}/`), []);

    // Continued as new at least once per MAX_SLOTS slots handed out.
    const runs = await entityRuns();
    assert.ok(runs.length > (PENDING + BURST) / MAX_SLOTS, `the entity ran ${runs.length} times`);
    for (const [n, events] of runs.entries()) {
      const slots = events.filter(
        (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'reserveSlot',
      ).length;
      assert.ok(slots <= MAX_SLOTS, `run ${n} handed out ${slots} slots`);
      // Past the bound only what was under way when it was reached: one replay step, its slots, a few tasks.
      assert.ok(events.length <= MAX_EVENTS + 100, `run ${n} has ${events.length} events`);
      // Each replay step answered within its budget: none waited for a document's slot (the first replay step met
      // slots BURST seconds away).
      const scheduled = new Map<string, number>();
      for (const e of events) {
        if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'replayPending') {
          scheduled.set(String(e.eventId), eventMs(e));
        }
        const done = e.activityTaskCompletedEventAttributes?.scheduledEventId;
        if (done !== undefined && scheduled.has(String(done))) {
          const took = eventMs(e) - scheduled.get(String(done))!;
          assert.ok(took < 30_000, `run ${n}: a replay step took ${took} ms`);
        }
      }
    }
  });
});
