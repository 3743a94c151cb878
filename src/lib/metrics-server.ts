import { createServer, type Server } from 'node:http';
import { logger } from './logger';

/**
 * The worker's metrics listener: GET /metrics, and GET /healthz for an orchestrator's probes (200 while `healthy()`
 * says the worker polls its task queue, 503 before and after), nothing else. A port already taken names the setting
 * to change.
 */
export function startMetricsServer(
  port: number,
  text: () => Promise<string>,
  healthy: () => boolean = () => true,
  setting = 'WORKER_METRICS_PORT',
): Server {
  const server = createServer((req, res) => {
    const route = req.url?.split('?')[0];
    if (req.method === 'GET' && route === '/healthz') {
      const ok = healthy();
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: ok ? 'ok' : 'unavailable' }));
      return;
    }
    if (req.method !== 'GET' || route !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    text().then(
      (body) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body),
      (err) => {
        logger.warn({ err }, 'metrics unavailable');
        res.writeHead(503).end();
      },
    );
  });
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE') logger.fatal(`port ${port} is already taken: set ${setting} to a free one`);
    else logger.fatal({ err }, 'metrics listener failed');
    process.exit(1);
  });
  server.listen(port, () => logger.info({ port }, `metrics on http://localhost:${port}/metrics`));
  return server;
}
