import { Router, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../../config';
import {
  type EndpointState,
  EnvironmentSchema,
  IdSchema,
  ListPendingQuerySchema,
  PatchWebhookSchema,
  PreferencesSchema,
  PutWebhookSchema,
  ResendManySchema,
} from '../../domain/schemas';
import { privateAddressOf } from '../../lib/private-address';
import { customerOf, requireCustomer } from '../auth';
import { AppError } from '../errors';
import { handle } from '../handle';
import { presentDocument, presentWebhook } from '../present';
import type { DeliveryService } from '../service';

const EnvParams = z.object({ env: EnvironmentSchema });

/** Outside the local stack a webhook may not point at this network (SSRF), by literal or by DNS; attempts re-check. */
async function assertPublicUrls(urls: Record<string, string | null | undefined>, config: Config): Promise<void> {
  if (config.ALLOW_PRIVATE_URLS) return;
  for (const [field, url] of Object.entries(urls)) {
    if (!url) continue;
    const address = await privateAddressOf(url);
    if (address) {
      const message = `must not point at a private address (${address})`;
      throw new AppError('validation_failed', `body.${field}: ${message}`, 400, [
        { path: `body.${field}`, message, code: 'custom' },
      ]);
    }
  }
}

export function customerRoutes(service: DeliveryService, config: Config): Router {
  const router = Router();
  router.use('/v1/:env', requireCustomer(service));

  /** The webhook as customers see it, with its pending count; the secret only where it was just set or rotated. */
  async function answerWebhook(res: Response, endpoint: EndpointState, withSecret = false): Promise<void> {
    const { customerId, environment } = customerOf(res);
    const pending = await service.countPending(environment, customerId);
    res.json(presentWebhook(endpoint, pending, config, withSecret));
  }

  router.put(
    '/v1/:env/webhook',
    handle({ params: EnvParams, body: PutWebhookSchema }, async ({ body }, _req, res) => {
      await assertPublicUrls({ url: body.url, notificationUrl: body.notificationUrl }, config);
      const { customerId, environment } = customerOf(res);
      const endpoint = await service.configureWebhook(environment, customerId, body);
      await answerWebhook(res, endpoint, true);
    }),
  );

  router.get(
    '/v1/:env/webhook',
    handle({ params: EnvParams }, async (_input, _req, res) => {
      const { customerId, environment } = customerOf(res);
      const endpoint = await service.findEndpoint(environment, customerId);
      if (!endpoint) throw AppError.notFound('webhook');
      await answerWebhook(res, endpoint);
    }),
  );

  router.patch(
    '/v1/:env/webhook',
    handle({ params: EnvParams, body: PatchWebhookSchema }, async ({ body }, _req, res) => {
      const { customerId, environment } = customerOf(res);
      const endpoint = await service.setActive(environment, customerId, body.active);
      await answerWebhook(res, endpoint);
    }),
  );

  router.post(
    '/v1/:env/webhook/secret/rotate',
    handle({ params: EnvParams }, async (_input, _req, res) => {
      const { customerId, environment } = customerOf(res);
      const endpoint = await service.rotateSecret(environment, customerId);
      await answerWebhook(res, endpoint, true);
    }),
  );

  router.get(
    '/v1/:env/preferences',
    handle({ params: EnvParams }, async (_input, _req, res) => {
      const { customerId, environment } = customerOf(res);
      const endpoint = await service.findEndpoint(environment, customerId);
      if (!endpoint) throw AppError.notFound('preferences');
      res.json(endpoint.preferences);
    }),
  );

  router.put(
    '/v1/:env/preferences',
    handle({ params: EnvParams, body: PreferencesSchema }, async ({ body }, _req, res) => {
      const { customerId, environment } = customerOf(res);
      res.json((await service.updatePreferences(environment, customerId, body)).preferences);
    }),
  );

  router.get(
    '/v1/:env/pending',
    handle({ params: EnvParams, query: ListPendingQuerySchema }, async ({ query }, _req, res) => {
      const { customerId, environment } = customerOf(res);
      res.json(await service.listPending(environment, customerId, query));
    }),
  );

  router.post(
    '/v1/:env/pending/resend',
    handle({ params: EnvParams, body: ResendManySchema }, async ({ body }, _req, res) => {
      const { customerId, environment } = customerOf(res);
      res.status(202).json(await service.resendMany(environment, customerId, body.ids));
    }),
  );

  const PendingParams = EnvParams.extend({ id: IdSchema });

  router.get(
    '/v1/:env/pending/:id',
    handle({ params: PendingParams }, async ({ params }, _req, res) => {
      const { customerId, environment } = customerOf(res);
      res.json(await service.pullPending(environment, customerId, params.id));
    }),
  );

  router.delete(
    '/v1/:env/pending/:id',
    handle({ params: PendingParams }, async ({ params }, _req, res) => {
      const { customerId, environment } = customerOf(res);
      await service.acknowledge(environment, customerId, params.id);
      res.status(204).end();
    }),
  );

  router.post(
    '/v1/:env/pending/:id/resend',
    handle({ params: PendingParams }, async ({ params }, _req, res) => {
      const { customerId, environment } = customerOf(res);
      await service.resend(environment, customerId, params.id);
      res.status(202).json({ id: params.id, status: 'pending' });
    }),
  );

  router.get(
    '/v1/:env/documents/:id',
    handle({ params: EnvParams.extend({ id: IdSchema }) }, async ({ params }, _req, res) => {
      const { customerId, environment } = customerOf(res);
      res.json(presentDocument(await service.getDocument(environment, customerId, params.id)));
    }),
  );

  return router;
}
