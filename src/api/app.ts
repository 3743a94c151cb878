import express, { type Express, type RequestHandler } from 'express';
import type { Config } from '../config';
import { logger } from '../lib/logger';
import { createMetrics, metricsText, type Metrics } from '../lib/metrics';
import { AppError, errorHandler } from './errors';
import { methodNotAllowed } from './method-not-allowed';
import { codecRoutes } from './routes/codec';
import { customerRoutes } from './routes/customer';
import { docsRoutes } from './routes/docs';
import { operatorRoutes } from './routes/operator';
import { pageRoutes } from './routes/page';
import type { DeliveryService } from './service';

/** Every answer counted and timed by its route's pattern (never its values: one series per route, not per id). */
function countRequests(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.apiDuration.startTimer();
    res.once('finish', () => {
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      end({ method: req.method, route });
      metrics.apiRequests.inc({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}

/** The Express app without a listening socket, so tests drive it directly. */
export function createApp({
  service,
  config,
  metrics = createMetrics(),
  sdkMetrics,
}: {
  service: DeliveryService;
  config: Config;
  metrics?: Metrics;
  /** The Temporal SDK's worker metrics, when this process runs a worker (API_EMBEDDED_WORKER). */
  sdkMetrics?: () => Promise<string>;
}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(countRequests(metrics));
  app.use(methodNotAllowed());
  // Before the body parser below: the codec reads larger bodies, and only after it has checked the caller.
  app.use(codecRoutes(config));
  app.use(express.json({ limit: config.MAX_BODY_BYTES }));

  app.get('/healthz', async (_req, res) => {
    try {
      await service.checkHealth();
      res.json({ status: 'ok' });
    } catch (err) {
      // The cause is logged, not answered: it can name internal hosts.
      logger.warn({ err }, 'health check failed');
      res
        .status(503)
        .json({ status: 'unavailable', error: { code: 'unavailable', message: 'Temporal or S3 unreachable' } });
    }
  });

  // Prometheus text: counts by environment, route and outcome, no customer or document ids
  // (docs/operations.md, "Metrics").
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metricsText(metrics.registry, sdkMetrics));
  });

  app.use(pageRoutes());
  app.use(docsRoutes());
  app.use(operatorRoutes(service, config));
  app.use(customerRoutes(service, config));
  app.use((req, _res, next) => next(new AppError('not_found', `no route for ${req.method} ${req.path}`, 404)));
  app.use(errorHandler);
  return app;
}
