import { Connection } from '@temporalio/client';
import { loadConfigFromProcess } from './config';
import { logger } from './lib/logger';
import { setUpNamespace } from './lib/namespace-setup';
import { temporalConnectionOptions } from './lib/temporal';

// `node dist/setup.js` (in the image): registers the namespace, its retention and the search attributes, then exits 0.
// Run once per deploy before the API and the worker (the Helm chart's Job, the compose file's `setup` service); safe to
// run again. Waits for Temporal up to SETUP_WAIT_MS (a cluster starting beside it), then exits 1 saying why.

const SETUP_WAIT_MS = 5 * 60_000;
const RETRY_MS = 2_000;

async function main() {
  const config = loadConfigFromProcess();
  logger.level = config.LOG_LEVEL;
  const deadline = Date.now() + SETUP_WAIT_MS;
  const where = { address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE };
  for (let attempt = 1; ; attempt++) {
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ ...temporalConnectionOptions(config), connectTimeout: 5_000 });
      await setUpNamespace(connection, config.TEMPORAL_NAMESPACE, config.IDEMPOTENCY_WINDOW);
      logger.info(where, 'namespace and search attributes ready');
      return;
    } catch (err) {
      if (Date.now() + RETRY_MS > deadline) throw err;
      logger.info({ ...where, attempt, err: (err as Error).message }, 'Temporal not ready yet');
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    } finally {
      await connection?.close();
    }
  }
}

main().catch((err) => {
  logger.fatal({ err }, 'setup failed');
  process.exit(1);
});
