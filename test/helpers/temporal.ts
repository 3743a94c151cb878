import { S3Client } from '@aws-sdk/client-s3';
import { Client } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  Runtime,
  DefaultLogger,
  type Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { createDeliveryService } from '../../src/api/service';
import type { Config } from '../../src/config';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes';
import { createMetrics } from '../../src/lib/metrics';
import { createS3Client, ensureBuckets } from '../../src/lib/s3';
import { createWorker } from '../../src/worker';
import { toolPath } from '../../scripts/lib/tools';
import { after, before } from 'node:test';
import { testConfig } from './config';
import { startReceiver, type Behaviour, type Receiver } from './receiver';
import { startTestS3 } from './s3';

type TestS3 = Awaited<ReturnType<typeof startTestS3>>;

let runtimeInstalled = false;
let workflowBundle: WorkflowBundleWithSourceMap | undefined;

/**
 * The time-skipping test server (obtained from the registries by scripts/install-tools.sh) and the workflow bundle;
 * with `workflowInterceptorModules`, a bundle of its own with those interceptors in every workflow.
 */
export async function startTestServer(workflowInterceptorModules?: string[]) {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: {
      // With internet and no Java/Python, TEMPORAL_USE_SDK_DOWNLOAD=1 lets the SDK fetch the server itself.
      executable:
        process.env.TEMPORAL_USE_SDK_DOWNLOAD === '1'
          ? { type: 'cached-download' }
          : { type: 'existing-path', path: toolPath('temporal-test-server') },
    },
  });
  // The time-skipping server knows no custom search attributes until they are added, as on a real cluster.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      SEARCH_ATTRIBUTES.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!]),
    ),
  });
  const bundle = (interceptors?: string[]) =>
    bundleWorkflowCode({
      workflowsPath: require.resolve('../../src/workflows'),
      logger: new DefaultLogger('WARN'),
      workflowInterceptorModules: interceptors,
    });
  const thisBundle = workflowInterceptorModules
    ? await bundle(workflowInterceptorModules)
    : (workflowBundle ??= await bundle());
  // A plain client: the SDK's time-skipping client unlocks skipping while it waits, and an Update to an entity with no
  // timer would then jump the clock to its 10-year execution timeout. Time moves only through env.sleep here.
  const client = new Client({ connection: env.connection, namespace: env.namespace });
  return { env, client, workflowBundle: thisBundle };
}

/** The time-skipping test server with the real worker: real workflow code and real activities. */
export async function startTimeSkipping(config: Config, workflowInterceptorModules?: string[]) {
  const { env, client, workflowBundle } = await startTestServer(workflowInterceptorModules);
  const metrics = createMetrics();
  const worker: Worker = await createWorker({
    connection: env.nativeConnection,
    client,
    config,
    metrics,
    options: { workflowBundle, workflowsPath: undefined },
    // Rate-limit slots come from the entities' clock, which time skipping moves away from this process's.
    clock: () => env.currentTimeMs(),
  });
  const running = worker.run();
  const s3: S3Client = createS3Client(config);
  await ensureBuckets(s3, config);
  const service = createDeliveryService({ client, s3, config, clock: () => env.currentTimeMs() });
  return {
    env,
    client,
    s3,
    service,
    /** The worker's Prometheus registry: what its activities and workflows counted. */
    metrics,
    /** The server's clock, which time skipping moves: what a receiver should record attempts by. */
    now: () => env.currentTimeMs(),
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
      s3.destroy();
    },
  };
}

export type TimeSkipping = Awaited<ReturnType<typeof startTimeSkipping>>;

/**
 * A suite's real worker on the time-skipping server, with S3 of its own and one receiver, started before its tests and
 * stopped after them: `suite.ts`, `suite.config` and `suite.receiver` are there once the tests run.
 */
export function timeSkippingSuite(overrides: Record<string, string>, behaviour: Behaviour, onServerClock = true) {
  const suite = {} as { s3: TestS3; ts: TimeSkipping; config: Config; receiver: Receiver };
  before(async () => {
    suite.s3 = await startTestS3();
    suite.config = testConfig({ ...suite.s3.env, ...overrides });
    suite.ts = await startTimeSkipping(suite.config);
    suite.receiver = await startReceiver(behaviour, onServerClock ? suite.ts.now : undefined);
  });
  after(async () => {
    await suite.receiver?.close();
    await suite.ts?.stop();
    await suite.s3?.stop();
  });
  return suite;
}
