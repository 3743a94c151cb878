import type { Response } from 'express';
import { z } from 'zod';
import type { Config } from '../../config';
import { DocumentQuerySchema } from '../../domain/endpoints';
import {
  EndpointIdSchema,
  type EndpointState,
  IdSchema,
  PatchWebhookSchema,
  PreferencesSchema,
  PutWebhookSchema,
} from '../../domain/schemas';
import { privateAddressOf } from '../../lib/private-address';
import {
  DocumentResponse,
  EnvironmentParam,
  MessageLogResponse,
  PreferencesResponse,
  ResentToEndpointResponse,
  response,
  WebhookResponse,
} from '../responses';
import { customerOf } from '../auth';
import { coversEndpoint } from '../../domain/portal-sessions';
import { MessageLogQuerySchema } from '../service/message-log';
import { AppError } from '../errors';

import { presentDocument, presentWebhook } from '../present';
import { route, type AppContext } from '../route';

// The customer's routes, each with the key of its environment: the webhook, preferences, pending documents.

const env = z.object({ env: EnvironmentParam });
const envId = env.extend({ id: IdSchema });

/** Outside the local stack a webhook may not point at this network (SSRF), by literal or by DNS; attempts re-check. */
export async function assertPublicUrls(urls: Record<string, string | null | undefined>, config: Config): Promise<void> {
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

/** The webhook as customers see it, with its pending count; the secret only where it was just set or rotated. */
async function answerWebhook(
  res: Response,
  { service, config }: AppContext,
  endpoint: EndpointState,
  withSecret = false,
): Promise<void> {
  const { customerId, environment } = customerOf(res);
  const pending = await service.countPending(environment, customerId);
  res.json(presentWebhook(endpoint, pending, config, withSecret));
}

export const customerRoutes = [
  route('put', '/v1/{env}/webhook', {
    operationId: 'putWebhook',
    summary: 'Configure the webhook; the answer carries the signing secret',
    description:
      '`headers` replaces the custom headers (absent: those there are stay; `null` or `{}`: none). Their values are ' +
      'sealed and never shown again: answers list their names in `headerNames`.',
    access: 'customer',
    params: env,
    body: PutWebhookSchema,
    responses: { 200: response('The webhook, with its secret', WebhookResponse) },
    handler: async ({ body }, _req, res, app) => {
      await assertPublicUrls({ url: body.url, notificationUrl: body.notificationUrl }, app.config);
      const { customerId, environment } = customerOf(res);
      await answerWebhook(res, app, await app.service.configureWebhook(environment, customerId, body), true);
    },
  }),

  route('get', '/v1/{env}/webhook', {
    operationId: 'getWebhook',
    summary: 'The webhook, its status and pending count',
    access: 'customer',
    params: env,
    responses: { 200: response('The webhook', WebhookResponse) },
    errors: [404],
    handler: async (_input, _req, res, app) => {
      const { customerId, environment } = customerOf(res);
      const endpoint = await app.service.findEndpoint(environment, customerId);
      if (!endpoint) throw AppError.notFound('webhook');
      await answerWebhook(res, app, endpoint);
    },
  }),

  route('patch', '/v1/{env}/webhook', {
    operationId: 'patchWebhook',
    summary: 'Suspend or reactivate (reactivating redelivers every pending document), or change some headers',
    description:
      '`headers` names the headers to change: a value sets one (replacing it whatever its case), `null` removes ' +
      'one, the others stay. Their values are sealed and never shown again.',
    access: 'customer',
    params: env,
    body: PatchWebhookSchema,
    responses: { 200: response('The webhook', WebhookResponse) },
    errors: [404],
    handler: async ({ body }, _req, res, app) => {
      const { customerId, environment } = customerOf(res);
      await answerWebhook(res, app, await app.service.patchWebhook(environment, customerId, body));
    },
  }),

  route('post', '/v1/{env}/webhook/secret/rotate', {
    operationId: 'rotateSecret',
    summary: 'A new signing secret; the old one also signs for SECRET_ROTATION_GRACE (24 h), then stops',
    access: 'customer',
    params: env,
    responses: { 200: response('The webhook, with its new secret', WebhookResponse) },
    errors: [409],
    handler: async (_input, _req, res, app) => {
      const { customerId, environment } = customerOf(res);
      await answerWebhook(res, app, await app.service.rotateSecret(environment, customerId), true);
    },
  }),

  route('get', '/v1/{env}/preferences', {
    operationId: 'getPreferences',
    summary: 'Notification preferences',
    access: 'customer',
    params: env,
    responses: { 200: response('The preferences', PreferencesResponse) },
    errors: [404],
    handler: async (_input, _req, res, { service }) => {
      const { customerId, environment } = customerOf(res);
      const endpoint = await service.findEndpoint(environment, customerId);
      if (!endpoint) throw AppError.notFound('preferences');
      res.json(endpoint.preferences);
    },
  }),

  route('put', '/v1/{env}/preferences', {
    operationId: 'putPreferences',
    summary: 'Opt in or out of pending-document notifications',
    access: 'customer',
    params: env,
    body: PreferencesSchema,
    responses: { 200: response('The preferences', PreferencesResponse) },
    errors: [404],
    handler: async ({ body }, _req, res, { service }) => {
      const { customerId, environment } = customerOf(res);
      res.json((await service.updatePreferences(environment, customerId, body)).preferences);
    },
  }),

  route('get', '/v1/{env}/documents', {
    operationId: 'listDocuments',
    summary: 'The message log: documents newest first, filtered by status, type, event type and time',
    access: 'customer',
    params: env,
    query: MessageLogQuerySchema,
    responses: { 200: response('A page of the log', MessageLogResponse) },
    handler: async ({ query }, _req, res, { service }) => {
      const { customerId, environment } = customerOf(res);
      res.json(await service.listDocuments(environment, customerId, query));
    },
  }),

  route('get', '/v1/{env}/documents/{id}', {
    operationId: 'getDocument',
    summary: 'A document: status and attempts',
    access: 'customer',
    params: envId,
    query: DocumentQuerySchema,
    responses: { 200: response('The document', DocumentResponse) },
    errors: [404],
    handler: async ({ params, query }, _req, res, { service }) => {
      const { customerId, environment, session } = customerOf(res);
      const document = await service.getDocument(environment, customerId, params.id, query.endpointId);
      // A portal session scoped to some endpoints sees its endpoints' deliveries only.
      const grant = session?.endpointIds && session;
      const shown = grant
        ? { ...document, deliveries: document.deliveries?.filter((d) => coversEndpoint(grant, d.endpointId)) }
        : document;
      res.json(presentDocument(shown));
    },
  }),

  route('post', '/v1/{env}/documents/{id}/endpoints/{endpointId}/resend', {
    operationId: 'resendToEndpoint',
    summary: 'Send a document to one endpoint again, delivered or not, while Temporal keeps it (Svix: resend)',
    access: 'customer',
    params: envId.extend({ endpointId: EndpointIdSchema }),
    responses: { 202: response('Attempted now', ResentToEndpointResponse) },
    errors: [404, 409],
    handler: async ({ params }, _req, res, { service }) => {
      const { customerId, environment, session } = customerOf(res);
      // A portal session scoped to some endpoints resends there only what went there: no other endpoint's document.
      const sentThereOnly = Boolean(session?.endpointIds);
      res
        .status(202)
        .json(await service.resendToEndpoint(environment, customerId, params.id, params.endpointId, sentThereOnly));
    },
  }),
];
