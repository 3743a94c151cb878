import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfigFromProcess, requirePayloadKeys, type Config } from '../config';
import { logger } from '../lib/logger';
import { createMetrics, type Metrics } from '../lib/metrics';
import { createS3Client, ensureBuckets } from '../lib/s3';
import { installSdkMetrics } from '../lib/sdk-metrics';
import { connectWorkerClient, createTemporalClient } from '../lib/temporal';
import { clientInterceptors, installTracing, type Tracing } from '../lib/tracing';
import { createWorker } from '../worker';
import { createApp } from './app';
import { createDeliveryService } from './service';

async function main(): Promise<void> {
  const config = loadConfigFromProcess();
  logger.level = config.LOG_LEVEL;
  requirePayloadKeys(config);
  const s3 = createS3Client(config);
  const metrics = createMetrics();
  const tracing = installTracing(config, 'webhook-api');
  const embedded = config.API_EMBEDDED_WORKER ? await startEmbeddedWorker(config, metrics, tracing) : undefined;
  const client = embedded?.client ?? createTemporalClient(config, clientInterceptors(tracing));
  const service = createDeliveryService({ client, s3, config, metrics });
  const app = createApp({ service, config, metrics, sdkMetrics: embedded?.sdkMetrics, tracer: tracing?.tracer });

  // A client announcing a body it never sends does not hold a connection for long.
  const server = createServer(
    {
      requestTimeout: config.REQUEST_TIMEOUT,
      headersTimeout: config.REQUEST_TIMEOUT,
      connectionsCheckingInterval: 1_000,
    },
    app,
  );
  server.listen(config.PORT, () => {
    const { port } = server.address() as AddressInfo;
    logger.info({ port }, `API listening on http://localhost:${port}`);
  });
  // Buckets are created in the background: /healthz answers 503 until they exist.
  ensureBuckets(s3, config).catch((err) => logger.warn({ err }, 'could not create buckets yet'));

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'API shutting down');
    server.close(() => {
      embedded?.worker.shutdown();
      void (embedded?.done ?? Promise.resolve())
        .then(() => client.connection.close())
        .then(() => tracing?.shutdown())
        .finally(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/**
 * A worker in this process, sharing its native connection with the client so that starts can be eager, with the
 * SDK's worker metrics (installed before any connection exists).
 */
async function startEmbeddedWorker(config: Config, metrics: Metrics, tracing: Tracing | undefined) {
  const sdkMetrics = await installSdkMetrics();
  const { connection, client } = await connectWorkerClient(config, clientInterceptors(tracing));
  const worker = await createWorker({ connection, client, config, metrics, tracing });
  const done = worker.run();
  done.catch((err) => {
    logger.fatal({ err }, 'embedded worker failed');
    process.exit(1);
  });
  return { client, worker, done, sdkMetrics };
}

main().catch((err) => {
  logger.fatal({ err }, 'API failed to start');
  process.exit(1);
});
