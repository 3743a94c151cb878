import express, { type Express, type RequestHandler } from 'express';
import type { Config } from '../config';
import { createMetrics, type Metrics } from '../lib/metrics';
import { AppError, errorHandler } from './errors';
import { methodNotAllowed } from './method-not-allowed';
import { openApiDocument } from './openapi';
import { mountRoutes } from './route';
import { routes } from './routes';
import { docsAssets } from './routes/docs';
import type { DeliveryService } from './service';
import { traceRequests } from './request-spans';
import type { Tracer } from '@opentelemetry/api';
import { sharingReads } from '../lib/shared-reads';

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
  tracer,
}: {
  service: DeliveryService;
  config: Config;
  metrics?: Metrics;
  /** The Temporal SDK's worker metrics, when this process runs a worker (API_EMBEDDED_WORKER). */
  sdkMetrics?: () => Promise<string>;
  /** Set when traces are exported (OTEL_EXPORTER_OTLP_ENDPOINT). */
  tracer?: Tracer;
}): Express {
  const app = express();
  app.disable('x-powered-by');
  if (tracer) app.use(traceRequests(tracer));
  app.use(countRequests(metrics));
  // A request that writes nothing reads each entity once, however many steps ask (src/lib/shared-reads.ts).
  app.use((req, _res, next) => (req.method === 'GET' || req.method === 'HEAD' ? sharingReads(next) : next()));
  app.use(methodNotAllowed(routes));
  app.use(docsAssets());
  // Routes that read their own body (the codec's are larger, read once the caller is known) go before this parser.
  const bodyParser = express.json({ limit: config.MAX_BODY_BYTES });
  mountRoutes(app, routes, { service, config, metrics, sdkMetrics, openApi: openApiDocument }, bodyParser);
  app.use((req, _res, next) => next(new AppError('not_found', `no route for ${req.method} ${req.path}`, 404)));
  app.use(errorHandler);
  return app;
}
