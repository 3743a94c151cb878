import express, { type Express } from 'express';
import type { Config } from '../config';
import { logger } from '../lib/logger';
import { AppError, errorHandler } from './errors';
import { codecRoutes } from './routes/codec';
import { customerRoutes } from './routes/customer';
import { docsRoutes } from './routes/docs';
import { operatorRoutes } from './routes/operator';
import { pageRoutes } from './routes/page';
import type { DeliveryService } from './service';

/** The Express app without a listening socket, so tests drive it directly. */
export function createApp({ service, config }: { service: DeliveryService; config: Config }): Express {
  const app = express();
  app.disable('x-powered-by');
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

  app.use(codecRoutes(config));
  app.use(pageRoutes());
  app.use(docsRoutes());
  app.use(operatorRoutes(service, config));
  app.use(customerRoutes(service, config));
  app.use((req, _res, next) => next(new AppError('not_found', `no route for ${req.method} ${req.path}`, 404)));
  app.use(errorHandler);
  return app;
}
