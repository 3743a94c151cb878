import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { AesGcmPayloadCodec, generatePayloadKey, parsePayloadKeys } from '../../src/lib/payload-codec';

const ROOT = path.resolve(__dirname, '../fixtures/histories');

/** A fixture's JSON; a large one (a large document's history) is kept gzipped. */
function readHistory(file: string): unknown {
  const bytes = readFileSync(file);
  return JSON.parse((file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8'));
}

/** Every recorded history, of every version: `v1/document-delivered-first-attempt` and so on. */
function fixtures() {
  return readdirSync(ROOT)
    .sort()
    .flatMap((version) =>
      readdirSync(path.join(ROOT, version))
        .filter((file) => /\.json(\.gz)?$/.test(file))
        .sort()
        .map((file) => ({
          workflowId: `${version}/${file.replace(/\.json(\.gz)?$/, '')}`,
          history: readHistory(path.join(ROOT, version, file)),
        })),
    );
}

async function replay(workflowBundle: WorkflowBundleWithSourceMap, histories: ReturnType<typeof fixtures>) {
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle }, histories)) {
    replayed++;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  return { replayed, failures };
}

const bundle = (workflowsPath: string) => bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });

type Payloads = { payloads?: { data?: string }[] };
/** The attributes of a recorded event that the assertions about v19 read (the CLI's JSON, payloads in base64). */
interface RecordedEvent {
  eventId: string;
  eventType: string;
  workflowExecutionStartedEventAttributes?: { input?: Payloads };
  activityTaskScheduledEventAttributes?: { activityType: { name: string }; input?: Payloads };
  activityTaskCompletedEventAttributes?: { scheduledEventId: string; result?: Payloads };
  markerRecordedEventAttributes?: { markerName: string; details?: Record<string, Payloads> };
  startChildWorkflowExecutionInitiatedEventAttributes?: {
    workflowId: string;
    workflowType: { name: string };
    input?: Payloads;
  };
  workflowExecutionUpdateAcceptedEventAttributes?: { acceptedRequest: { input: { name: string; args?: Payloads } } };
  upsertWorkflowSearchAttributesEventAttributes?: {
    searchAttributes?: { indexedFields?: Record<string, { data: string }> };
  };
}

/** One recorded history's events, read alone (`v19/document-large-by-key`): the whole set is megabytes. */
function eventsOf(fixture: string): RecordedEvent[] {
  const file = [`${fixture}.json`, `${fixture}.json.gz`].map((f) => path.join(ROOT, f)).find((f) => existsSync(f));
  assert.ok(file, `no fixture ${fixture}`);
  return (readHistory(file) as { events: RecordedEvent[] }).events;
}

/** A payload list's first value, as the workflow or activity saw it. */
const decoded = (p?: Payloads) => {
  const data = p?.payloads?.[0]?.data;
  return data === undefined ? undefined : JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
};

/** Every payload an event holds, wherever it is (inputs, results, memos, Update arguments), as decoded text. */
function payloadTexts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(payloadTexts);
  if (!value || typeof value !== 'object') return [];
  const { data, metadata } = value as { data?: unknown; metadata?: unknown };
  if (typeof data === 'string' && metadata && typeof metadata === 'object') {
    return [Buffer.from(data, 'base64').toString('utf8')];
  }
  return Object.values(value).flatMap(payloadTexts);
}

/** The activities an event list schedules, by name, with their decoded inputs and (when completed) results. */
function activitiesOf(events: RecordedEvent[]) {
  return events.flatMap((e, index) => {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (!scheduled) return [];
    const completed = events.find((c) => c.activityTaskCompletedEventAttributes?.scheduledEventId === e.eventId);
    return [
      {
        name: scheduled.activityType.name,
        index,
        input: decoded(scheduled.input),
        result: decoded(completed?.activityTaskCompletedEventAttributes?.result),
      },
    ];
  });
}

/** The Updates a run accepted, in order, with their decoded argument. */
const updatesOf = (events: RecordedEvent[]) =>
  events.flatMap((e, index) => {
    const input = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest.input;
    return input ? [{ name: input.name, index, arg: decoded(input.args) }] : [];
  });

/**
 * Workflows live up to 100 days, so every deploy meets histories written by older code. The histories recorded by
 * `npm run histories` (real code, real stack) replay here against today's workflow code: a change that would make a
 * workflow in flight fail (a nondeterminism error) fails this test. Behaviour changes go behind `patched()`.
 */
describe('recorded histories replay against today’s workflow code', () => {
  it('every fixture of every version replays without a nondeterminism error', async () => {
    const histories = fixtures();
    assert.ok(histories.length >= 15, `only ${histories.length} fixtures`);
    const { replayed, failures } = await replay(await bundle(require.resolve('../../src/workflows')), histories);
    assert.deepEqual(failures, []);
    assert.equal(replayed, histories.length);
  });

  it("with tracing and the payload codec on, every fixture replays too: span ids never draw on a workflow's own random numbers", async () => {
    // Histories recorded without tracing, replayed by a worker that traces (src/workflows/tracing.ts bundled in): a
    // workflow's jitter and its notification children's ids are drawn with Math.random(), and so are span ids. The
    // same pass has the payload codec, which reads payloads written before it (not encrypted) as they are: one pass
    // for both, since a pass over every fixture is a third of this file's time.
    const histories = fixtures();
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../../src/workflows'),
      workflowInterceptorModules: [require.resolve('../../src/workflows/tracing')],
      logger: new DefaultLogger('WARN'),
    });
    const codec = new AesGcmPayloadCodec(parsePayloadKeys(generatePayloadKey()));
    const failures: string[] = [];
    let replayed = 0;
    const sinks = { exporter: { export: { fn: () => undefined } } };
    const options = { workflowBundle, sinks, dataConverter: { payloadCodecs: [codec] } };
    for await (const result of Worker.runReplayHistories(options, histories)) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.deepEqual(failures, []);
    assert.equal(replayed, histories.length);
  });

  it('the heartbeating-attempts patch: histories from before it keep the old timeout, new runs take the new path', () => {
    type Event = {
      eventType: string;
      markerRecordedEventAttributes?: { details?: { 'patch-data'?: { payloads: { data: string }[] } } };
      activityTaskScheduledEventAttributes?: { activityType: { name: string }; heartbeatTimeout?: string };
    };
    const shape = (workflowId: string) => {
      const { history } = fixtures().find((f) => f.workflowId === workflowId)!;
      const events = (history as { events: Event[] }).events;
      const patches = events.flatMap((e) =>
        (e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? []).map(
          (p) => (JSON.parse(Buffer.from(p.data, 'base64').toString()) as { id: string }).id,
        ),
      );
      const attempt = events.find(
        (e) => e.activityTaskScheduledEventAttributes?.activityType.name === 'attemptDelivery',
      );
      return { patches, heartbeatTimeout: attempt?.activityTaskScheduledEventAttributes?.heartbeatTimeout ?? '0s' };
    };
    assert.deepEqual(shape('v1/document-delivered-first-attempt'), { patches: [], heartbeatTimeout: '0s' });
    assert.deepEqual(shape('v2/document-delivered-first-attempt'), {
      patches: ['heartbeating-attempts'],
      heartbeatTimeout: '10s',
    });
  });

  it('the local-first-attempt patch: since v4 a document delivered at once has no activity task', () => {
    type Event = {
      eventType: string;
      markerRecordedEventAttributes?: { markerName: string };
      activityTaskScheduledEventAttributes?: { activityType: { name: string } };
    };
    const shape = (workflowId: string) => {
      const { history } = fixtures().find((f) => f.workflowId === workflowId)!;
      const events = (history as { events: Event[] }).events;
      return {
        activities: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
        localActivities: events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
          .length,
        workflowTasks: events.filter((e) => /WORKFLOW_TASK_COMPLETED|WorkflowTaskCompleted/.test(e.eventType)).length,
      };
    };
    assert.deepEqual(shape('v3/document-delivered-first-attempt'), {
      activities: 1,
      localActivities: 0,
      workflowTasks: 2,
    });
    assert.deepEqual(shape('v4/document-delivered-first-attempt'), {
      activities: 0,
      localActivities: 1,
      workflowTasks: 1,
    });
    // Later attempts, hours apart, stay activities: three attempts were three activities, now one local and two.
    assert.deepEqual(shape('v3/document-retried-then-delivered'), {
      activities: 3,
      localActivities: 0,
      workflowTasks: 6,
    });
    assert.deepEqual(shape('v4/document-retried-then-delivered'), {
      activities: 2,
      localActivities: 1,
      workflowTasks: 5,
    });
  });

  it('since v5 an entity can rotate its secret: an Update, then a timer that ends the grace', () => {
    type Event = {
      eventType: string;
      workflowExecutionUpdateAcceptedEventAttributes?: { acceptedRequest: { input: { name: string } } };
    };
    const events = (
      fixtures().find((f) => f.workflowId === 'v5/endpoint-secret-rotated')!.history as { events: Event[] }
    ).events;
    const updates = events.flatMap(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest.input.name ?? [],
    );
    assert.deepEqual(updates, ['configureEndpoint', 'rotateSecret']);
    const rotatedAt = events.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    const timers = events
      .map((e, i) => [e.eventType, i] as const)
      .filter(([type]) => /TIMER_(STARTED|FIRED)/.test(type));
    assert.equal(timers.length, 2);
    assert.ok(timers[0][1] > rotatedAt, 'the timer starts with the rotation');
  });

  it('since v6 an entity with an operator URL starts one operatorEvent workflow per event; before, none', () => {
    type Event = { startChildWorkflowExecutionInitiatedEventAttributes?: { workflowType: { name: string } } };
    const children = (workflowId: string) =>
      (fixtures().find((f) => f.workflowId === workflowId)!.history as { events: Event[] }).events.flatMap(
        (e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType.name ?? [],
      );
    assert.deepEqual(children('v5/endpoint-lifecycle-run-1'), []);
    // Run 1: the first document exhausted, and the endpoint suspended.
    assert.deepEqual(children('v6/endpoint-lifecycle-run-1'), ['operatorEvent', 'operatorEvent']);
  });

  it('since v7 a rate-limited document waits for its slot on a timer, then sends in it', () => {
    const types = (
      fixtures().find((f) => f.workflowId === 'v7/document-rate-limited')!.history as {
        events: { eventType: string }[];
      }
    ).events.map((e) => e.eventType.replace('EVENT_TYPE_', ''));
    const timer = types.indexOf('TIMER_STARTED');
    assert.ok(timer > types.indexOf('MARKER_RECORDED'), 'after the first (local) attempt answered "throttled"');
    assert.equal(types[timer + 1], 'TIMER_FIRED');
    assert.ok(types.indexOf('ACTIVITY_TASK_SCHEDULED') > timer, 'then the attempt, in the reserved slot');
  });

  it('since v9 a long document run continues as new, and the next run takes over where it stopped', () => {
    type Event = {
      eventType: string;
      workflowExecutionStartedEventAttributes?: { input?: { payloads: { data: string }[] } };
    };
    const history = (workflowId: string) =>
      (fixtures().find((f) => f.workflowId === workflowId)!.history as { events: Event[] }).events;
    const input = (events: Event[]) =>
      JSON.parse(
        Buffer.from(events[0].workflowExecutionStartedEventAttributes!.input!.payloads[0].data, 'base64').toString(),
      );
    for (const [shape, phase] of [
      ['document-pending-continued', 'stored'],
      ['document-retrying-continued', 'retrying'],
    ] as const) {
      const first = history(`v9/${shape}-run-1`);
      assert.equal(first.at(-1)!.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW', shape);
      assert.equal(input(first).continued, undefined);
      const next = input(history(`v9/${shape}-run-2`));
      assert.ok(next.continued[phase], `${shape}: the next run starts ${phase}`);
      assert.ok(next.continued.state.attempts.length > 0, 'with the attempts so far');
    }
  });

  it('since v10 an entity holding a secret in the clear seals it first, in a local activity; before, never', () => {
    type Event = { markerRecordedEventAttributes?: { details?: { data?: { payloads: { data: string }[] } } } };
    const localActivities = (workflowId: string) =>
      (fixtures().find((f) => f.workflowId === workflowId)!.history as { events: Event[] }).events.flatMap((e) => {
        const data = e.markerRecordedEventAttributes?.details?.data?.payloads[0]?.data;
        return data ? [JSON.parse(Buffer.from(data, 'base64').toString()).activity_type ?? []].flat() : [];
      });
    assert.deepEqual(localActivities('v10/endpoint-secrets-sealed').slice(0, 2), ['endpointSettings', 'sealSecrets']);
    assert.ok(!localActivities('v9/endpoint-configured').includes('sealSecrets'));
  });

  it('since v11 an acknowledgement ends a redelivery waiting for its slot: the timer is cancelled, nothing is sent', () => {
    const types = (
      fixtures().find((f) => f.workflowId === 'v11/document-acknowledged-waiting-for-slot')!.history as {
        events: { eventType: string }[];
      }
    ).events.map((e) => e.eventType.replace('EVENT_TYPE_', ''));
    const cancelled = types.lastIndexOf('TIMER_CANCELED');
    assert.equal(types[cancelled - 1], 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED', 'the acknowledgement cancels the wait');
    // Then one activity (the object leaves the bucket), and no attempt after it.
    assert.deepEqual(types.slice(cancelled + 1, cancelled + 4), [
      'ACTIVITY_TASK_SCHEDULED',
      'ACTIVITY_TASK_STARTED',
      'ACTIVITY_TASK_COMPLETED',
    ]);
    assert.equal(types.slice(cancelled + 4).filter((t) => t === 'ACTIVITY_TASK_SCHEDULED').length, 0);
    assert.equal(types.at(-1), 'WORKFLOW_EXECUTION_COMPLETED');
  });

  it('since v12 a replay step is answered `queued` before the slot it waits for, and its entity waits on a timer', () => {
    type Event = {
      eventType: string;
      eventId: string;
      timerStartedEventAttributes?: object;
      workflowExecutionUpdateCompletedEventAttributes?: { outcome?: { success?: { payloads: { data: string }[] } } };
      activityTaskCompletedEventAttributes?: { result?: { payloads: { data: string }[] } };
      activityTaskScheduledEventAttributes?: { activityType: { name: string } };
    };
    const events = (workflowId: string) =>
      (fixtures().find((f) => f.workflowId === workflowId)!.history as { events: Event[] }).events;
    const decode = (payloads?: { data: string }[]) =>
      payloads && JSON.parse(Buffer.from(payloads[0].data, 'base64').toString());
    // The document the pass handed out first: its redelivery answered `queued` while its attempt still waited for
    // the slot's timer.
    const queuedAt = (doc: Event[]) =>
      doc.findIndex(
        (e) =>
          decode(e.workflowExecutionUpdateCompletedEventAttributes?.outcome?.success?.payloads)?.outcome === 'queued',
      );
    const doc = fixtures()
      .filter((f) => f.workflowId.startsWith('v12/document-replay-queued-for-slot-'))
      .map((f) => events(f.workflowId))
      .find((d) => queuedAt(d) > 0);
    assert.ok(doc, 'a redelivery answered queued');
    const answered = queuedAt(doc);
    assert.ok(
      doc.slice(answered).some((e) => e.eventType === 'EVENT_TYPE_TIMER_FIRED'),
      'before its slot came',
    );
    assert.equal(doc.at(-1)!.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
    // The entity: a step that answered `resumeAt`, then a timer before the next step.
    const runNumber = (workflowId: string) => Number(workflowId.split('-').pop());
    const runs = fixtures()
      .filter((f) => f.workflowId.startsWith('v12/endpoint-replay-paced-run-'))
      .sort((a, b) => runNumber(a.workflowId) - runNumber(b.workflowId))
      .map((f) => events(f.workflowId));
    assert.ok(runs.length >= 2, 'the entity continued as new during the pass');
    // The runs one after the other: a step that ends one run is followed by the next run's first events.
    const all = runs.flat();
    const steps = all.flatMap((e, i) => {
      const result = decode(e.activityTaskCompletedEventAttributes?.result?.payloads);
      return typeof result === 'object' && result && 'done' in result ? [{ result, next: all.slice(i + 1) }] : [];
    });
    const paced = steps.find((s) => s.result.resumeAt);
    assert.ok(paced, 'a step answered resumeAt');
    assert.ok(
      paced.next.findIndex((e) => e.eventType === 'EVENT_TYPE_TIMER_STARTED') <
        paced.next.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType.name === 'replayPending'),
      'the entity waits on a timer before the next step',
    );
  });

  it('since v13 a restore is a job of its own: a page at a time, then the operator is told, then it completes', () => {
    const events = (
      fixtures().find((f) => f.workflowId === 'v13/restore-job')!.history as {
        events: { eventType: string; activityTaskScheduledEventAttributes?: { activityType: { name: string } } }[];
      }
    ).events;
    const activities = events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType.name ?? []);
    assert.deepEqual(activities, ['restorePage', 'announceRestore']);
    assert.equal(events.at(-1)!.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
  });

  it("since v14 the entity starts operator events under the operator's fairness key; v13's, started without, replay", () => {
    type Event = {
      startChildWorkflowExecutionInitiatedEventAttributes?: { workflowId: string; priority?: { fairnessKey?: string } };
    };
    const operatorStarts = (version: string) =>
      (
        fixtures().find((f) => f.workflowId === `${version}/endpoint-lifecycle-run-1`)!.history as { events: Event[] }
      ).events
        .flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes ?? [])
        .filter((start) => start.workflowId.startsWith('operator-event:'));
    assert.ok(operatorStarts('v13').length > 0 && operatorStarts('v14').length > 0);
    assert.ok(operatorStarts('v13').every((start) => start.priority?.fairnessKey === undefined));
    assert.ok(operatorStarts('v14').every((start) => start.priority?.fairnessKey === 'operator'));
  });

  it('since v15 a document starts one delivery per other endpoint that takes it; one endpoint alone, none', () => {
    type Event = {
      eventType: string;
      startChildWorkflowExecutionInitiatedEventAttributes?: { workflowId: string; workflowType: { name: string } };
    };
    const eventsOf = (id: string) =>
      (fixtures().find((f) => f.workflowId === id)!.history as { events: Event[] }).events;
    const childrenOf = (id: string) =>
      eventsOf(id).flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes ?? []);
    // Routed past the first endpoint: two deliveries (shipments and the catch-all), each `…:{endpointId}`.
    const routed = childrenOf('v15/document-routed-to-other-endpoints');
    assert.equal(routed.length, 2);
    assert.ok(routed.every((c) => c.workflowType.name === 'deliverDocument'));
    assert.ok(routed.every((c) => /^delivery:production:h-multi:multi-event:ep_[0-9a-f]{24}$/.test(c.workflowId)));
    // Its own workflow sent nothing to the first endpoint: no activity at all.
    assert.ok(
      !eventsOf('v15/document-routed-to-other-endpoints').some((e) => e.eventType.startsWith('EVENT_TYPE_ACTIVITY')),
    );
    assert.equal(childrenOf('v15/document-delivered-and-fanned-out').length, 1);
    // A customer with one endpoint: no child, in this version as in every one before.
    for (const version of ['v14', 'v15']) {
      assert.deepEqual(childrenOf(`${version}/document-delivered-first-attempt`), [], version);
    }
  });

  it('since v16 an entity keeps its status in EndpointStatus when it is suspended; v15 entities replay without', () => {
    type Event = {
      eventType: string;
      upsertWorkflowSearchAttributesEventAttributes?: {
        searchAttributes?: { indexedFields?: Record<string, unknown> };
      };
    };
    const upserts = (version: string) =>
      fixtures()
        .filter((f) => f.workflowId.startsWith(`${version}/endpoint-lifecycle-run-`))
        .flatMap((f) => (f.history as { events: Event[] }).events)
        .filter(
          (e) =>
            'EndpointStatus' in
            (e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}),
        );
    assert.equal(upserts('v15').length, 0);
    assert.ok(upserts('v16').length >= 2, 'suspended and reactivated, each said');
  });

  it('since v17 a delivery that had ended is resent in a new run: its attempt log carried in, one attempt, no schedule', () => {
    type Payloads = { payloads: { data: string }[] };
    type Event = {
      eventType: string;
      workflowExecutionStartedEventAttributes?: { input: Payloads };
      activityTaskScheduledEventAttributes?: { activityType: { name: string }; input: Payloads };
    };
    const decoded = (p: Payloads) => JSON.parse(Buffer.from(p.payloads[0].data, 'base64').toString('utf8'));
    const eventsOf = (name: string) =>
      (fixtures().find((f) => f.workflowId === `v17/${name}`)!.history as { events: Event[] }).events;
    for (const [name, status] of [
      ['delivery-resent-delivered', 'delivered'],
      ['document-resent-failed-pending', 'routed'],
    ] as const) {
      const events = eventsOf(name);
      const input = decoded(events[0].workflowExecutionStartedEventAttributes!.input);
      assert.equal(input.resendOf.status, status, `${name}: the ended run's state`);
      const attempts = events
        .flatMap((e) => e.activityTaskScheduledEventAttributes ?? [])
        .filter((a) => a.activityType.name === 'attemptDelivery')
        .map((a) => decoded(a.input).trigger);
      assert.deepEqual(attempts, ['resend'], `${name}: one attempt, asked for`);
    }
    assert.equal(eventsOf('delivery-resent-delivered').at(-1)!.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
    // The one that failed waits in the bucket (stored), not on a retry schedule.
    const pending = eventsOf('document-resent-failed-pending');
    const activities = pending.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType.name ?? []);
    assert.deepEqual(activities.slice(0, 2), ['attemptDelivery', 'archiveDocument']);
  });

  it("since v18 a restore may be of another endpoint's cold store; the first endpoint's jobs schedule what they did", () => {
    type Payloads = { payloads: { data: string }[] };
    type Event = {
      workflowExecutionStartedEventAttributes?: { input: Payloads };
      activityTaskScheduledEventAttributes?: { activityType: { name: string }; input: Payloads };
    };
    const decoded = (p: Payloads) => JSON.parse(Buffer.from(p.payloads[0].data, 'base64').toString('utf8'));
    const eventsOf = (id: string) =>
      (fixtures().find((f) => f.workflowId === id)!.history as { events: Event[] }).events;
    const pagesOf = (id: string) =>
      eventsOf(id)
        .flatMap((e) => e.activityTaskScheduledEventAttributes ?? [])
        .filter((a) => a.activityType.name === 'restorePage')
        .map((a) => decoded(a.input));
    const job = decoded(eventsOf('v18/restore-job-other-endpoint')[0].workflowExecutionStartedEventAttributes!.input);
    assert.match(job.endpointId, /^ep_[0-9a-f]{24}$/);
    assert.ok(pagesOf('v18/restore-job-other-endpoint').every((page) => page.endpointId === job.endpointId));
    for (const version of ['v17', 'v18']) {
      assert.ok(
        pagesOf(`${version}/restore-job`).every((page) => !('endpointId' in page)),
        version,
      );
    }
    const restored = decoded(
      eventsOf('v18/delivery-restored-other-endpoint')[0].workflowExecutionStartedEventAttributes!.input,
    );
    assert.equal(restored.endpointId, job.endpointId);
    assert.equal(restored.restoredFrom, `expired/h-cold~${job.endpointId}/cold-other.json`);
  });

  it('since v19 routing comes before any attempt: a fanned-out document starts its other deliveries, then attempts its first endpoint', () => {
    const firstAttempt = (events: RecordedEvent[]) => {
      const index = events.findIndex((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
      return { index, outcome: decoded(events[index].markerRecordedEventAttributes!.details!.result) };
    };
    const childStarts = (events: RecordedEvent[]) =>
      events.flatMap((e, i) => (e.startChildWorkflowExecutionInitiatedEventAttributes ? [i] : []));
    // v18: the first endpoint's POST was made (200) before its other delivery was started.
    const before = eventsOf('v18/document-delivered-and-fanned-out');
    const sent = firstAttempt(before);
    assert.equal(sent.outcome.attempt.responseStatusCode, 200);
    assert.ok(childStarts(before).every((i) => i > sent.index));
    // v19: the first (local) attempt only routes, sending nothing; the other delivery is started, and only once its
    // start is recorded is the first endpoint's attempt scheduled, as an activity of a later task.
    const events = eventsOf('v19/document-delivered-and-fanned-out');
    const routing = firstAttempt(events);
    assert.equal(routing.outcome.unsent, true);
    assert.equal(routing.outcome.attempt.responseStatusCode, undefined);
    assert.deepEqual(routing.outcome.routes.first, true);
    assert.equal(routing.outcome.routes.others.length, 1);
    const [started] = childStarts(events);
    assert.ok(started > routing.index);
    const attempts = activitiesOf(events).filter((a) => a.name === 'attemptDelivery');
    assert.equal(attempts.length, 1);
    assert.ok(
      events
        .slice(started, attempts[0].index)
        .some((e) => e.eventType === 'EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED'),
      'the other delivery has started before the first endpoint is attempted',
    );
    assert.equal(attempts[0].input.route, undefined, 'that attempt sends: it does not route again');
    assert.equal(attempts[0].result.attempt.responseStatusCode, 200);
    assert.equal(events.at(-1)!.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
  });

  it('since v19 a large document travels by its bucket key: no event of its history holds its body', () => {
    const blob = 'x'.repeat(1024);
    const holding = (events: RecordedEvent[]) => events.filter((e) => payloadTexts(e).some((t) => t.includes(blob)));
    // v18's large document (200 KB) was in its start, and again in every attempt's input.
    assert.ok(holding(eventsOf('v18/document-retrying-continued-run-1')).length > 10);
    const events = eventsOf('v19/document-large-by-key');
    assert.deepEqual(holding(events), []);
    const input = decoded(events[0].workflowExecutionStartedEventAttributes!.input);
    assert.match(input.bodyKey, /^bodies\/[^/]+\/h-large\/large\.[0-9a-f]+\.json$/);
    assert.ok(!('data' in input), 'no data beside the key');
    const activities = activitiesOf(events);
    const attempts = activities.filter((a) => a.name === 'attemptDelivery');
    assert.equal(
      attempts.filter((a) => a.input.trigger === 'scheduled').length,
      15,
      'the first attempt and 14 retries',
    );
    // Attempted by activities, none local: a task that timed out moving megabytes would repeat a local one's POST.
    assert.ok(!events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity'));
    for (const { input: attempt } of attempts) {
      assert.equal(attempt.document.bodyKey, input.bodyKey);
      assert.ok(!('data' in attempt.document));
    }
    const [archived] = activities.filter((a) => a.name === 'archiveDocument');
    assert.equal(archived.input.document.bodyKey, input.bodyKey);
    assert.ok(!('data' in archived.input.document));
  });

  it("since v19 a customer's resend that a suspended endpoint's receiver accepts revives it: resendAccepted, then a replay", () => {
    const document = eventsOf('v19/document-resend-revived-endpoint');
    const [resend] = updatesOf(document).filter((u) => u.name === 'redeliver');
    assert.deepEqual(resend.arg, { trigger: 'manual', reason: 'resend' });
    const activities = activitiesOf(document).filter((a) => a.index > resend.index);
    const attempt = activities.find((a) => a.name === 'attemptDelivery')!;
    assert.equal(attempt.result.delivered, true);
    assert.equal(attempt.result.whileSuspended, true);
    const told = activities.find((a) => a.name === 'reportResendAccepted')!;
    assert.ok(told.index > attempt.index);
    assert.deepEqual(told.input, { environment: 'production', customerId: 'h-revived', documentId: 'revived' });
    // The entity: suspended, it takes the Update, is active again, and replays what waited in the bucket meanwhile.
    const entity = eventsOf('v19/endpoint-revived-by-resend');
    assert.equal(decoded(entity[0].workflowExecutionStartedEventAttributes!.input).state.status, 'suspended');
    const accepted = updatesOf(entity).find((u) => u.name === 'resendAccepted')!;
    assert.deepEqual(accepted.arg, { documentId: 'revived' });
    const statusAfter = entity.slice(accepted.index).flatMap((e) => {
      const field = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.EndpointStatus;
      return field ? [JSON.parse(Buffer.from(field.data, 'base64').toString('utf8'))] : [];
    });
    assert.equal(statusAfter[0], 'active');
    const replayed = activitiesOf(entity).filter((a) => a.name === 'replayPending' && a.index > accepted.index);
    assert.ok(replayed.length > 0, 'a replay after the Update');
    assert.equal(
      replayed.reduce((sum, a) => sum + (a.result?.delivered ?? 0), 0),
      1,
      'the document that waited (revived-2)',
    );
  });

  it('since v19 an entity holding header values in the clear seals them first, and no value is in the clear after', () => {
    const events = eventsOf('v19/endpoint-headers-sealed');
    const start = decoded(events[0].workflowExecutionStartedEventAttributes!.input);
    assert.equal(start.state.headers.authorization, 'Bearer recorded', 'made before values were sealed');
    const sealedAt = events.findIndex(
      (e) => decoded(e.markerRecordedEventAttributes?.details?.data)?.activity_type === 'sealHeaders',
    );
    assert.ok(sealedAt > 0);
    // Every header value any later event holds (memo, Update arguments and answers): sealed, or removed (null).
    const headerValues = (value: unknown): unknown[] => {
      if (!value || typeof value !== 'object') return [];
      return Object.entries(value).flatMap(([key, inner]) =>
        key === 'headers' && inner && typeof inner === 'object' ? Object.values(inner) : headerValues(inner),
      );
    };
    const later = events.slice(sealedAt).flatMap(payloadTexts);
    assert.ok(!later.some((text) => text.includes('Bearer recorded')));
    const values = later.flatMap((text) => {
      try {
        return headerValues(JSON.parse(text));
      } catch {
        return [];
      }
    });
    assert.ok(values.length >= 4, `${values.length} header values after the seal`);
    assert.ok(
      values.every((v) => v === null || (typeof v === 'string' && v.startsWith('sealed:v1:'))),
      `${values}`,
    );
    // The PATCH's value came sealed by the API: the Update never carried it in the clear.
    const patch = updatesOf(events).find((u) => u.name === 'patchHeaders')!;
    assert.equal(patch.arg.headers['X-Tenant'], null);
    assert.match(patch.arg.headers['X-Region'], /^sealed:v1:/);
  });

  it('since v19 an endpoint is created and deleted in one step, and a deleted one stops, then ends', () => {
    const first = eventsOf('v19/endpoint-creating-and-deleting');
    const updates = updatesOf(first);
    assert.deepEqual(
      updates.map((u) => u.name),
      ['configureEndpoint', 'createEndpoint', 'deleteEndpoint'],
    );
    const endpointId = updates[1].arg.endpoint.id;
    assert.match(endpointId, /^ep_[0-9a-f]{24}$/);
    // Created: its entity is started (configured) by the Update that lists it.
    const started = first.findIndex((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
    assert.ok(started > updates[1].index && started < updates[2].index);
    assert.deepEqual(
      first[started].startChildWorkflowExecutionInitiatedEventAttributes!.workflowId,
      `endpoint:production:h-delete:${endpointId}`,
    );
    // Deleted: the Update tells its entity through an activity before it answers.
    assert.ok(activitiesOf(first).some((a) => a.name === 'tellEndpointDeleted' && a.index > updates[2].index));

    // Its entity stops at once (the run ends) and goes on deleted, sending nothing: no attempt, probe or replay.
    const live = eventsOf('v19/endpoint-deleted-run-1');
    assert.ok(updatesOf(live).some((u) => u.name === 'endpointDeleted'));
    assert.equal(live.at(-1)!.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    const deleted = eventsOf('v19/endpoint-deleted-run-2');
    assert.equal(decoded(deleted[0].workflowExecutionStartedEventAttributes!.input).state.status, 'deleted');
    const sending = ['attemptDelivery', 'probePending', 'replayPending'];
    assert.deepEqual(
      activitiesOf(deleted).filter((a) => sending.includes(a.name)),
      [],
    );
    // A resend of the document that waited for it records an attempt that sent nothing.
    const delivery = activitiesOf(eventsOf('v19/delivery-to-deleted-endpoint')).filter(
      (a) => a.name === 'attemptDelivery',
    );
    assert.equal(delivery.at(-1)!.result.attempt.error, 'not sent: the endpoint was deleted');
    assert.equal(delivery.at(-1)!.result.attempt.responseStatusCode, undefined);

    // A deleted endpoint with no document left: its last run tells its first endpoint's entity, and completes.
    const runs = readdirSync(path.join(ROOT, 'v19'))
      .filter((f) => f.startsWith('endpoint-settled-run-'))
      .map((f) => `v19/${f.replace(/\.json(\.gz)?$/, '')}`)
      .sort((a, b) => Number(a.split('-').pop()) - Number(b.split('-').pop()));
    assert.ok(runs.length >= 2, 'its live run and its deleted one');
    const last = eventsOf(runs.at(-1)!);
    assert.equal(decoded(last[0].workflowExecutionStartedEventAttributes!.input).state.status, 'deleted');
    // Nothing sent: it reads its bucket prefix, finds it empty past its margin, and tells its first endpoint's entity.
    assert.ok(activitiesOf(last).every((a) => ['firstPending', 'reportEndpointSettled'].includes(a.name)));
    const settled = activitiesOf(last).at(-1)!;
    assert.equal(settled.name, 'reportEndpointSettled');
    assert.equal(last.at(-1)!.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
    // Which drops it from the deleted endpoints it lists.
    const listing = updatesOf(eventsOf('v19/endpoint-listing-settled')).find((u) => u.name === 'endpointSettled');
    assert.deepEqual(listing?.arg, { id: settled.input.endpointId });
  });

  it("since v19 an operator event's workflow id past the engine's limit is shortened, behind a patch asked only then", () => {
    const events = eventsOf('v19/endpoint-other-long-ids');
    const starts = events.flatMap((e, index) => {
      const start = e.startChildWorkflowExecutionInitiatedEventAttributes;
      return start?.workflowType.name === 'operatorEvent' ? [{ index, ...start, event: decoded(start.input) }] : [];
    });
    const exhausted = starts.find((s) => s.event.type === 'document.exhausted')!;
    const whole = `operator-event:${exhausted.event.id}`;
    assert.ok(whole.length > 255, `${whole.length}`);
    assert.ok(exhausted.workflowId.length <= 255);
    // Its head, and 32 hex digits of the whole's SHA-256: 255 characters, the same at every replay.
    const digest = createHash('sha256').update(whole).digest('hex').slice(0, 32);
    assert.equal(exhausted.workflowId, `${whole.slice(0, 255 - 33)}#${digest}`);
    const patches = events.flatMap((e, index) => {
      const data = e.markerRecordedEventAttributes?.details?.['patch-data'];
      return data && decoded(data).id === 'fit-operator-event-ids' ? [index] : [];
    });
    assert.equal(patches.length, 1);
    assert.ok(patches[0] < exhausted.index);
    // An event whose id fits keeps it whole, and asks for no patch.
    const suspended = starts.find((s) => s.event.type === 'endpoint.suspended')!;
    assert.equal(suspended.workflowId, `operator-event:${suspended.event.id}`);
    // The event goes out under its whole id (receivers deduplicate on it); only its workflow's is shortened.
    const sent = eventsOf('v19/operator-event-shortened-id');
    assert.equal(decoded(sent[0].workflowExecutionStartedEventAttributes!.input).id, exhausted.event.id);
    const [send] = activitiesOf(sent);
    assert.equal(send.name, 'sendOperatorEvent');
    assert.equal(send.input.id, exhausted.event.id);
    assert.equal(sent.at(-1)!.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
  });

  it('since v20 a portal session records its link used once (a second try leaves no event) and ends when revoked', () => {
    const names = (fixture: string) => eventsOf(fixture).map((e) => e.eventType.replace('EVENT_TYPE_', ''));
    const updates = (fixture: string) =>
      eventsOf(fixture).flatMap((e) => {
        const name = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest.input.name;
        return name ? [name] : [];
      });
    // Both links were tried twice: the second was refused by the validator, unrecorded.
    assert.deepEqual(updates('v20/portal-session-open'), ['redeemPortalLink']);
    assert.equal(names('v20/portal-session-open').at(-1), 'WORKFLOW_EXECUTION_UPDATE_COMPLETED', 'still open');
    assert.deepEqual(updates('v20/portal-session-revoked'), ['redeemPortalLink', 'revokePortalSession']);
    assert.deepEqual(names('v20/portal-session-revoked').slice(-2), ['TIMER_CANCELED', 'WORKFLOW_EXECUTION_COMPLETED']);
  });

  it('a change that breaks a workflow in flight is caught', async () => {
    const delivered = fixtures().filter((f) => f.workflowId.endsWith('/document-delivered-first-attempt'));
    const broken = await bundle(require.resolve('../fixtures/broken-workflows'));
    const { failures } = await replay(broken, delivered);
    assert.equal(failures.length, delivered.length);
    assert.match(failures[0], /[Nn]ondetermin/);
  });
});
