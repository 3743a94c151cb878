import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure, type Client, type WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../src/activities';
import type { DeliveryOutcome } from '../../src/activities/deliver';
import type { EndpointSettings } from '../../src/activities/endpoint';
import type { ReplayStepInput } from '../../src/activities/redeliver';
import { deliveryWorkflowId, endpointWorkflowId } from '../../src/domain/ids';
import type { DocumentInput, EndpointState } from '../../src/domain/schemas';
import type { deliverDocument, endpointEntity } from '../../src/workflows';
import {
  configureEndpointUpdate,
  documentsArrivedSignal,
  redeliverUpdate,
  reportExhaustedUpdate,
  setActiveUpdate,
  updatePreferencesUpdate,
} from '../../src/workflows/messages';
import { generateWebhookSecret } from '../../src/lib/signature';
import { startTestServer } from '../helpers/temporal';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const TASK_QUEUE = 'entity-mocked';

/**
 * The endpoint entity and the document workflow against mocked activities on the time-skipping server: fast, and in
 * control of exactly when a run continues as new. The fake bucket is a sorted list of ids; a fake redelivery answers
 * from `answers`.
 */
describe('endpoint entity and document protocol, with mocked activities', { timeout: 300_000 }, () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;
  let seq = 0;

  /** What the mocks saw, per customer. */
  const bucket = new Map<string, string[]>();
  const replayed = new Map<string, string[]>();
  const replaySteps = new Map<string, ReplayStepInput[]>();
  const probes = new Map<string, number[]>();
  const notified = new Map<string, number[]>();
  const attempts = new Map<string, { trigger: string; at: number }[]>();
  let emailFails = false;
  const emails: string[] = [];
  /** What the n-th call of attemptDelivery for a document answers. */
  let attemptAnswer: (documentId: string, n: number) => Partial<DeliveryOutcome> = () => ({ delivered: true });
  let archiveSaysActive = false;

  const settings: EndpointSettings = {
    defaultRetrySchedule: '1h,2h',
    maxRunEvents: 60,
    replayConcurrency: 2,
    replayPageSize: 3,
    notificationWindowMs: 1 * M,
    reminderBeforeExpiryMs: 1 * H,
  };
  const now = () => server.env.currentTimeMs();
  const push = <T>(map: Map<string, T[]>, key: string, value: T) => map.set(key, [...(map.get(key) ?? []), value]);

  const mocks: Partial<Activities> = {
    async endpointSettings() {
      return settings;
    },
    // The real one is an AES seal (test/lib/secret-seal.test.ts); the protocol only needs it to mark them sealed.
    async sealSecrets({ secret, previousSecret }) {
      const seal = (value: string) => `sealed:v1:mock:${Buffer.from(value).toString('base64')}`;
      return {
        secret: secret && seal(secret),
        previousSecret: previousSecret && { ...previousSecret, secret: seal(previousSecret.secret) },
      };
    },
    async replayPending(input) {
      push(replaySteps, input.customerId, input);
      const ids = bucket.get(input.customerId) ?? [];
      const rest = ids.filter((id) => !input.after || id > input.after);
      const page = rest.slice(0, input.limit);
      for (const id of page) push(replayed, input.customerId, id);
      return { after: page.at(-1) ?? input.after, done: rest.length <= input.limit };
    },
    async probePending(input) {
      push(probes, input.customerId, await now());
      return { outcome: 'failed', error: 'HTTP 500' };
    },
    async newestPending(input) {
      const ids = bucket.get(input.customerId) ?? [];
      return ids.at(-1) && ids.at(-1)! > (input.after ?? '') ? ids.at(-1)! : null;
    },
    async firstPending() {
      return null;
    },
    async lastDuePending() {
      return null;
    },
    async summarizePending() {
      return { pending: { events: 1, summaries: 0 }, documentIds: ['x'], oldestExpiresAt: null };
    },
    async notifyPending(input) {
      push(notified, input.customerId, await now());
      return 'sent';
    },
    async sendEndpointEmail(input) {
      if (emailFails) throw ApplicationFailure.retryable('SMTP down');
      emails.push(`${input.customerId}:${input.kind}`);
      return 'sent';
    },
    // The document's side.
    async attemptDelivery({ document, attemptNumber, trigger, force }) {
      push(attempts, document.id, { trigger, at: await now() });
      // By call, not attempt number: an attempt skipped while suspended is not counted as one.
      const answer = attemptAnswer(document.id, attempts.get(document.id)!.length);
      if (answer.suspended && force) answer.suspended = false;
      return {
        attempt: { attemptNumber, at: new Date().toISOString(), trigger, responseDurationMs: 1 },
        delivered: false,
        gone: false,
        retryScheduleMs: [M],
        ...answer,
      };
    },
    async archiveDocument({ document, pendingSince }) {
      const expiresAt = new Date(Date.parse(pendingSince) + 10 * 24 * H).toISOString();
      const objectKey = `pending/${document.customerId}/${document.id}.json`;
      return {
        objectKey,
        tail: document.id,
        pendingSince,
        expiresAt,
        endpointActive: archiveSaysActive,
        announce: false,
      };
    },
    async expireDocument() {
      return { coldKey: 'expired/x.json' };
    },
    async deleteArchivedDocument() {},
    async reportExhausted(input) {
      await client.workflow
        .getHandle(endpointWorkflowId(input.environment, input.customerId))
        .executeUpdate(reportExhaustedUpdate, { args: [input.report] });
    },
  };

  before(async () => {
    server = await startTestServer();
    client = server.client;
    worker = await Worker.create({
      connection: server.env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowBundle: server.workflowBundle,
      activities: mocks,
    });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await server?.env.teardown();
  });

  function initialState(customerId: string, overrides: Partial<EndpointState> = {}): EndpointState {
    return {
      customerId,
      customerName: customerId,
      environment: 'production',
      apiKeyHash: 'hash',
      url: 'http://receiver.invalid/hook',
      secret: 'whsec_c2VjcmV0',
      status: 'active',
      preferences: { pendingNotifications: true },
      counters: { retriesExhausted: 0, suspensions: 0 },
      updatedAt: new Date().toISOString(),
      ...overrides,
    };
  }

  async function startEntity(overrides: Partial<EndpointState> = {}) {
    const customerId = `ent${++seq}`;
    const state = initialState(customerId, overrides);
    const handle = await client.workflow.start<typeof endpointEntity>('endpointEntity', {
      workflowId: endpointWorkflowId('production', customerId),
      taskQueue: TASK_QUEUE,
      args: [{ state }],
      memo: { endpoint: state },
    });
    return { customerId, handle };
  }

  async function startDocument(customerId: string, id: string) {
    const input: DocumentInput = {
      customerId,
      id,
      type: 'event',
      data: {},
      environment: 'production',
      createdAt: new Date().toISOString(),
    };
    return client.workflow.start<typeof deliverDocument>('deliverDocument', {
      workflowId: deliveryWorkflowId('production', customerId, id),
      taskQueue: TASK_QUEUE,
      args: [input],
    });
  }

  /** The entity has continued as new since `firstRunId`: its current run is another one. */
  async function continuedAsNew(handle: WorkflowHandle, firstRunId: string): Promise<boolean> {
    return (await client.workflow.getHandle(handle.workflowId).describe()).runId !== firstRunId;
  }

  /** Makes the entity's history grow until it continues as new, with Updates that change nothing. */
  async function forceNewRun(handle: WorkflowHandle) {
    const before = (await handle.describe()).runId;
    for (let i = 0; i < 100; i++) {
      await handle.executeUpdate(updatePreferencesUpdate, { args: [{ pendingNotifications: true }] });
      if ((await client.workflow.getHandle(handle.workflowId).describe()).runId !== before) return;
    }
    throw new Error('the entity never continued as new');
  }

  async function waitForDocument(customerId: string, id: string, status: string) {
    const handle = client.workflow.getHandle(deliveryWorkflowId('production', customerId, id));
    for (let i = 0; i < 50; i++) {
      const state = await handle.query<{ status: string }>('documentStatus').catch(() => undefined);
      if (state?.status === status) return;
      await server.env.sleep(1 * S);
    }
    throw new Error(`${id} never became ${status}`);
  }

  it('the next run starts with the memo as it was, not as the entity was created: attempts read it meanwhile', async () => {
    const { handle } = await startEntity();
    await handle.executeUpdate(configureEndpointUpdate, {
      args: [{ url: 'https://hooks.example/configured', retrySchedule: '1m', newSecret: generateWebhookSecret() }],
    });
    const firstRunId = (await handle.describe()).runId;
    await forceNewRun(handle);
    // The new run's start: what every describe answers until its first task has run (settings read, memo published).
    const history = await client.workflow.getHandle(handle.workflowId).fetchHistory();
    const started = history.events![0].workflowExecutionStartedEventAttributes!;
    assert.equal(started.continuedExecutionRunId, firstRunId);
    const memo = JSON.parse(Buffer.from(started.memo!.fields!.endpoint.data!).toString());
    assert.equal(memo.url, 'https://hooks.example/configured');
    assert.equal(memo.retrySchedule, '1m');
  });

  it('a document stored while its endpoint was reactivated redelivers itself, whatever the entity is doing', async () => {
    // The old entity took such a document off its late-arrival list before handing it out; a continue-as-new in
    // between lost it, and it sat pending on an active endpoint until it expired.
    const { customerId, handle } = await startEntity();
    attemptAnswer = (_id, n) => (n === 1 ? { suspended: true } : { delivered: true });
    archiveSaysActive = true;
    try {
      const doc = await startDocument(customerId, 'late');
      await forceNewRun(handle);
      await waitForDocument(customerId, 'late', 'delivered');
      assert.equal((await doc.result()).status, 'delivered');
      assert.deepEqual(
        attempts.get('late')!.map((a) => a.trigger),
        ['scheduled', 'replay'],
        'the suspended attempt, then its own redelivery',
      );
    } finally {
      archiveSaysActive = false;
      attemptAnswer = () => ({ delivered: true });
    }
  });

  it('two redeliveries of the same document both get their answer at once', async () => {
    // The old entity kept one waiter per document id: the second redelivery overwrote the first, which then sat out
    // a 10-minute answer timeout.
    const { customerId } = await startEntity({
      status: 'suspended',
      suspension: { kind: 'manual', at: '', reason: '' },
    });
    attemptAnswer = (_id, n) => (n === 1 ? { suspended: true } : n === 2 ? {} : { delivered: true });
    try {
      const doc = await startDocument(customerId, 'twice');
      await waitForDocument(customerId, 'twice', 'pending');
      const started = await now();
      const [first, second] = await Promise.all([
        doc.executeUpdate(redeliverUpdate, { args: [{ trigger: 'scheduled', reason: 'probe' }] }),
        doc.executeUpdate(redeliverUpdate, { args: [{ trigger: 'manual', reason: 'resend' }] }),
      ]);
      // Served one at a time in the order they were admitted: the first attempt fails, the second delivers.
      assert.deepEqual([first.outcome, second.outcome].sort(), ['delivered', 'failed']);
      assert.ok((await now()) - started < 1 * M, 'answered without waiting for any timeout');
      assert.equal((await doc.result()).status, 'delivered');
      // Once it has left the bucket, a redelivery is refused at once (the validator), never queued.
      await assert.rejects(doc.executeUpdate(redeliverUpdate, { args: [{ trigger: 'manual', reason: 'resend' }] }));
    } finally {
      attemptAnswer = () => ({ delivered: true });
    }
  });

  it('a replay continues as new in its middle and goes on from where it was, each document once, in order', async () => {
    const { customerId, handle } = await startEntity({
      status: 'suspended',
      suspension: { kind: 'manual', at: '', reason: '' },
    });
    const ids = Array.from({ length: 40 }, (_, i) => `doc-${String(i).padStart(3, '0')}`);
    bucket.set(customerId, ids);
    await handle.executeUpdate(setActiveUpdate, { args: [true] });
    for (let i = 0; i < 100 && (replayed.get(customerId)?.length ?? 0) < ids.length; i++) {
      await server.env.sleep(1 * S);
    }
    assert.deepEqual(replayed.get(customerId), ids, 'every document once, oldest first');
    const steps = replaySteps.get(customerId)!;
    assert.deepEqual(
      steps.map((s) => s.after),
      [undefined, ...ids.filter((_, i) => i % 3 === 2)].slice(0, steps.length),
      'each step starts after the last one handed out, across runs',
    );
    assert.ok(await continuedAsNew(handle, handle.firstExecutionRunId!), 'the replay spanned several runs');
  });

  it('continue-as-new in the middle of a probe schedule does not move the probes', async () => {
    const { customerId, handle } = await startEntity();
    await handle.executeUpdate(reportExhaustedUpdate, {
      args: [{ documentId: 'p', at: new Date().toISOString(), lastError: 'HTTP 500' }],
    });
    const suspendedAt = await now();
    await server.env.sleep(30 * M);
    await forceNewRun(handle);
    await server.env.sleep(2 * H);
    await forceNewRun(handle);
    await server.env.sleep(3 * H);
    const seen = probes.get(customerId)!.map((at) => at - suspendedAt);
    assert.equal(seen.length, 3, 'probes at 1 h, 3 h and 5 h');
    for (const [i, expected] of [1 * H, 3 * H, 5 * H].entries()) {
      assert.ok(Math.abs(seen[i] - expected) < 10 * S, `probe ${i + 1} at ${seen[i]} ms, expected ${expected}`);
    }
    await handle.executeUpdate(setActiveUpdate, { args: [false] });
  });

  it('continue-as-new in the middle of a notification window keeps the window one window long', async () => {
    const { customerId, handle } = await startEntity({ notificationUrl: 'http://receiver.invalid/ntf' });
    bucket.set(customerId, ['n1']);
    await handle.signal(documentsArrivedSignal);
    const openedAt = await now();
    await server.env.sleep(20 * S);
    await forceNewRun(handle);
    await server.env.sleep(2 * M);
    const sent = notified.get(customerId) ?? [];
    assert.equal(sent.length, 1, 'one notification for the window');
    assert.ok(Math.abs(sent[0] - openedAt - 1 * M) < 10 * S, `sent ${sent[0] - openedAt} ms after it opened`);
  });

  it('an email that cannot be sent never holds continue-as-new back', async () => {
    emailFails = true;
    try {
      const { customerId, handle } = await startEntity({ suspensionEmail: 'ops@example.com' });
      await handle.executeUpdate(reportExhaustedUpdate, { args: [{ documentId: 'e', at: new Date().toISOString() }] });
      await server.env.sleep(2 * M);
      await forceNewRun(handle);
      // The email is retried by its own workflow, which outlives the run that started it.
      const first = await client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
      const started = first.events!.find((e) => e.childWorkflowExecutionStartedEventAttributes);
      const email = client.workflow.getHandle(
        started!.childWorkflowExecutionStartedEventAttributes!.workflowExecution!.workflowId!,
      );
      const described = await email.describe();
      assert.equal(described.status.name, 'RUNNING');
      assert.equal(described.type, 'endpointEmail');
      const retrying = described.raw.pendingActivities?.[0];
      assert.equal(retrying?.activityType?.name, 'sendEndpointEmail');
      assert.ok((retrying?.attempt ?? 0) > 1, 'it has failed and is being retried');
      assert.ok(!emails.some((e) => e.startsWith(`${customerId}:`)));
      // (The time-skipping server stops skipping once an abandoned child of a continued-as-new run completes, so the
      // email's eventual delivery is checked over real SMTP in test/e2e/lifecycle.test.ts, not here.)
    } finally {
      emailFails = false;
    }
  });
});
