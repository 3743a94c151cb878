import express, { type Express } from 'express';
import type { Config } from '../config';
import { AppError, errorHandler } from './errors';
import { customerRoutes } from './routes/customer';
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
      res.status(503).json({ status: 'unavailable', error: { code: 'unavailable', message: String(err) } });
    }
  });

  app.use(pageRoutes());
  app.use(operatorRoutes(service, config));
  app.use(customerRoutes(service, config));
  app.use((req, _res, next) => next(new AppError('not_found', `no route for ${req.method} ${req.path}`, 404)));
  app.use(errorHandler);
  return app;
}
