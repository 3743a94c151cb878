import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type InjectedSinks, type WorkerOptions } from '@temporalio/worker';
import nodemailer from 'nodemailer';
import { createActivities } from './activities';
import { loadConfigFromProcess, requirePayloadKeys, type Config } from './config';
import { ensureColdStoreSweep } from './lib/cold-store-schedule';
import { createDeliveryAgent, createOperatorAgent } from './lib/http-agent';
import { logger } from './lib/logger';
import { createMetrics, metricsText, registerSendGauges, type Metrics } from './lib/metrics';
import { startMetricsServer } from './lib/metrics-server';
import { createS3Client, ensureBuckets } from './lib/s3';
import { installSdkMetrics } from './lib/sdk-metrics';
import { createSendGuards } from './lib/send-guards';
import { connectWorkerClient, createEndpointReader, dataConverter } from './lib/temporal';
import { clientInterceptors, installTracing, workerTracing, type Tracing } from './lib/tracing';
import { createSlotReserver } from './rate-limit/reserver';
import { watchWorkerCount } from './lib/worker-count';
import type { MetricsSinks } from './workflows/sinks';

export interface WorkerDeps {
  connection: NativeConnection;
  client: Client;
  config: Config;
  /** Where the activities and workflows count what happens (a registry of this process). */
  metrics?: Metrics;
  /** Test seams: options such as a prebuilt workflow bundle. */
  options?: Partial<WorkerOptions>;
  /** How many worker processes share each endpoint's in-flight limit; by default counted from the task queue's pollers. */
  workers?: () => number;
  /** The clock rate-limit slots are reckoned in; a time-skipping test gives its server's. */
  clock?: () => Promise<number>;
  /** Set when traces are exported (OTEL_EXPORTER_OTLP_ENDPOINT). */
  tracing?: Tracing;
}

/** Workflow metrics (src/workflows/sinks.ts) into this process's counters. */
function metricsSinks(metrics: Metrics): InjectedSinks<MetricsSinks> {
  return {
    metrics: {
      suspended: { fn: (_info, environment, kind) => metrics.suspensions.inc({ environment, kind }) },
      reactivated: { fn: (_info, environment, by) => metrics.reactivations.inc({ environment, by }) },
      notificationGivenUp: {
        fn: (_info, environment) => metrics.notifications.inc({ environment, outcome: 'given_up' }),
      },
    },
  };
}

export async function createWorker({
  connection,
  client,
  config,
  metrics = createMetrics(),
  options,
  workers = watchWorkerCount(client, config.TEMPORAL_NAMESPACE, config.TASK_QUEUE).current,
  clock,
  tracing,
}: WorkerDeps): Promise<Worker> {
  // One per process: every activity and local activity of this worker sends through the same shares and breakers.
  const guards = createSendGuards(config, workers);
  registerSendGauges(metrics.registry, guards);
  const activities = createActivities({
    s3: createS3Client(config),
    http: createDeliveryAgent(config),
    operatorHttp: createOperatorAgent(config),
    endpoints: createEndpointReader(client),
    slots: createSlotReserver(client),
    mailer: nodemailer.createTransport(config.SMTP_URL),
    client,
    config,
    metrics,
    guards,
    clock,
    tracer: tracing?.tracer,
  });
  const traced = workerTracing(tracing);
  return Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TASK_QUEUE,
    workflowsPath: require.resolve('./workflows'),
    activities,
    sinks: { ...metricsSinks(metrics), ...traced.sinks },
    interceptors: traced.interceptors,
    dataConverter: dataConverter(config),
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentLocalActivityExecutions: config.WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    reuseV8Context: config.WORKER_REUSE_V8_CONTEXT,
    ...options,
  });
}

async function main(): Promise<void> {
  const config = loadConfigFromProcess();
  logger.level = config.LOG_LEVEL;
  requirePayloadKeys(config);
  const sdkMetrics = await installSdkMetrics();
  const metrics = createMetrics();
  // Healthy once the worker below runs (the listener starts first, so a slow start shows as not ready).
  const started: { worker?: Worker } = {};
  const metricsServer =
    config.WORKER_METRICS_PORT > 0
      ? startMetricsServer(
          config.WORKER_METRICS_PORT,
          () => metricsText(metrics.registry, sdkMetrics),
          () => started.worker?.getState() === 'RUNNING',
        )
      : undefined;
  await ensureBuckets(createS3Client(config), config);
  const tracing = installTracing(config, 'webhook-worker');
  const { connection, client } = await connectWorkerClient(config, clientInterceptors(tracing));
  const worker = await createWorker({ connection, client, config, metrics, tracing });
  started.worker = worker;
  await ensureColdStoreSweep(client, config);
  logger.info({ taskQueue: config.TASK_QUEUE, temporal: config.TEMPORAL_ADDRESS }, 'worker running');
  // Worker.run() returns after SIGINT/SIGTERM once in-flight tasks are done.
  await worker.run();
  await tracing?.shutdown();
  metricsServer?.close();
  await connection.close();
}

if (require.main === module) {
  main().catch((err) => {
    logger.fatal({ err }, 'worker failed');
    process.exit(1);
  });
}
