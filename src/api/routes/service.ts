import { logger } from '../../lib/logger';
import { metricsText } from '../../lib/metrics';
import { HealthResponse, response } from '../responses';
import { route } from '../route';

// The service's own routes: health for load balancers and orchestrators, metrics for Prometheus.

export const serviceRoutes = [
  route('get', '/healthz', {
    operationId: 'health',
    summary: 'Ready once the API reaches Temporal and S3',
    access: 'public',
    responses: {
      200: response('Ready', HealthResponse),
      503: response('Temporal or S3 unreachable', HealthResponse),
    },
    handler: async (_input, _req, res, { service }) => {
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
    },
  }),

  // Prometheus text: counts by environment, route and outcome, no customer or document ids
  // (docs/operations.md, "Metrics").
  route('get', '/metrics', {
    operationId: 'metrics',
    summary: 'Prometheus metrics of this process (docs/operations.md, "Metrics")',
    access: 'public',
    responses: {
      200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
    },
    handler: async (_input, _req, res, { metrics, sdkMetrics }) => {
      res.type(metrics.registry.contentType).send(await metricsText(metrics.registry, sdkMetrics));
    },
  }),
];
