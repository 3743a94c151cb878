import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import nodemailer from 'nodemailer';
import { createActivities } from './activities';
import { loadConfigFromProcess, requirePayloadKeys, type Config } from './config';
import { ensureColdStoreSweep } from './lib/cold-store-schedule';
import { createDeliveryAgent } from './lib/http-agent';
import { logger } from './lib/logger';
import { createS3Client, ensureBuckets } from './lib/s3';
import { createEndpointReader, dataConverter } from './lib/temporal';

export interface WorkerDeps {
  connection: NativeConnection;
  client: Client;
  config: Config;
  /** Test seams: options such as a prebuilt workflow bundle. */
  options?: Partial<WorkerOptions>;
}

export async function createWorker({ connection, client, config, options }: WorkerDeps): Promise<Worker> {
  const activities = createActivities({
    s3: createS3Client(config),
    http: createDeliveryAgent(config),
    endpoints: createEndpointReader(client),
    mailer: nodemailer.createTransport(config.SMTP_URL),
    client,
    config,
  });
  return Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TASK_QUEUE,
    workflowsPath: require.resolve('./workflows'),
    activities,
    dataConverter: dataConverter(config),
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    reuseV8Context: config.WORKER_REUSE_V8_CONTEXT,
    ...options,
  });
}

async function main(): Promise<void> {
  const config = loadConfigFromProcess();
  logger.level = config.LOG_LEVEL;
  requirePayloadKeys(config);
  await ensureBuckets(createS3Client(config), config);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: dataConverter(config) });
  const worker = await createWorker({ connection, client, config });
  await ensureColdStoreSweep(client, config);
  logger.info({ taskQueue: config.TASK_QUEUE, temporal: config.TEMPORAL_ADDRESS }, 'worker running');
  // Worker.run() returns after SIGINT/SIGTERM once in-flight tasks are done.
  await worker.run();
  await connection.close();
}

if (require.main === module) {
  main().catch((err) => {
    logger.fatal({ err }, 'worker failed');
    process.exit(1);
  });
}
