import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWorker } from '../../src/worker';
import { testConfig } from '../helpers/config';
import { startTestServer } from '../helpers/temporal';

describe('the worker process: tuning and what its workflows cost', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.env.teardown();
  });

  it('takes its cache, concurrency and V8 context settings from the config', async () => {
    const config = testConfig({
      WORKER_MAX_CACHED_WORKFLOWS: '64',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '12',
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '8',
      WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: '6',
      WORKER_REUSE_V8_CONTEXT: 'false',
    });
    const worker = await createWorker({
      connection: server.env.nativeConnection,
      client: server.client,
      config,
      options: { workflowBundle: server.workflowBundle, workflowsPath: undefined },
    });
    assert.equal(worker.options.maxCachedWorkflows, 64);
    const slots = (supplier: unknown) => (supplier as { numSlots?: number }).numSlots;
    assert.equal(slots(worker.options.tuner.activityTaskSlotSupplier), 12);
    assert.equal(slots(worker.options.tuner.workflowTaskSlotSupplier), 8);
    assert.equal(slots(worker.options.tuner.localActivityTaskSlotSupplier), 6);
    assert.equal(worker.options.reuseV8Context, false);
    // Run and shut down: a worker created and never run holds the process open.
    const running = worker.run();
    worker.shutdown();
    await running;
    // The defaults bound the cache: 10,000 open documents must not mean 10,000 workflows in memory.
    const defaults = testConfig();
    assert.equal(defaults.WORKER_MAX_CACHED_WORKFLOWS, 500);
    assert.equal(defaults.WORKER_REUSE_V8_CONTEXT, true);
    assert.throws(() => testConfig({ WORKER_MAX_CACHED_WORKFLOWS: 'lots' }), /WORKER_MAX_CACHED_WORKFLOWS/);
  });

  it('bundles no zod into workflow code, where each cached workflow would evaluate its own copy', () => {
    const modules = [...server.workflowBundle.code.matchAll(/^\/\*\*\*\/ "([^"]+)"/gm)].map((m) => m[1]);
    assert.ok(
      modules.some((m) => m.includes('src/workflows/document.ts')),
      'the bundle lists its modules',
    );
    assert.deepEqual(
      modules.filter((m) => m.includes('node_modules/zod/')),
      [],
      'zod modules in the workflow bundle',
    );
  });
});
