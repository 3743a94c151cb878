import { z } from 'zod';
import { PatchEndpointSchema, PutEndpointSchema } from '../../domain/endpoints';
import { EndpointIdSchema } from '../../domain/schemas';
import { EventTypeNameSchema } from '../../domain/event-types';
import { customerOf } from '../auth';
import { coversEndpoint } from '../../domain/portal-sessions';
import { presentEndpoint } from '../present';
import { AppError } from '../errors';
import {
  DeletedEndpointResponse,
  DeskEndpointListResponse,
  EndpointListResponse,
  EndpointResponse,
  EndpointStatsResponse,
  EnvironmentParam,
  response,
  TestEventResponse,
} from '../responses';
import { route } from '../route';
import { assertPublicUrls } from './customer';

// A customer's endpoints in its key's environment: the first is the webhook (ep_default), up to 19 others, each with
// its own URL, secret, schedule, suspension and route (which documents it gets).

const env = z.object({ env: EnvironmentParam });
const envEndpoint = env.extend({ endpointId: EndpointIdSchema });
const TestEventSchema = z.strictObject({ eventType: EventTypeNameSchema.optional() });
const ListEndpointsQuerySchema = z.object({
  status: z.enum(['active', 'suspended']).optional(),
  limit: z.coerce.number().int().min(1).max(50).default(20),
  cursor: z.string().max(2000).optional(),
});

export const endpointRoutes = [
  route('post', '/v1/{env}/endpoints', {
    operationId: 'createEndpoint',
    summary: 'Add an endpoint; the answer carries its signing secret',
    access: 'customer',
    params: env,
    body: PutEndpointSchema,
    responses: { 201: response('The endpoint, with its secret', EndpointResponse) },
    errors: [404, 422],
    handler: async ({ body }, _req, res, { service, config }) => {
      await assertPublicUrls({ url: body.url, notificationUrl: body.notificationUrl }, config);
      const { customerId, environment } = customerOf(res);
      res.status(201).json(presentEndpoint(await service.createEndpoint(environment, customerId, body), config, true));
    },
  }),

  route('get', '/v1/{env}/endpoints', {
    operationId: 'listEndpoints',
    summary: "A customer's endpoints (its key); or, with the operator's, every customer's in a status",
    description:
      "With a customer's key: all its endpoints here, the first (the webhook) first, with pending counts, `status` " +
      "filtering them. With the operator's key: the support desk's list across customers, `status` (suspended by " +
      'default) from visibility, `limit` at a time with `nextCursor`. Entities started before this list existed ' +
      'show once their status changes or their run continues as new.',
    access: 'anyKey',
    tag: 'Customer',
    params: env,
    query: ListEndpointsQuerySchema,
    responses: {
      200: response('The endpoints', z.union([EndpointListResponse, DeskEndpointListResponse])),
    },
    errors: [403, 404],
    handler: async ({ params, query }, _req, res, { service, config }) => {
      const customer = res.locals.customer ? customerOf(res) : undefined;
      if (!customer) {
        const status = query.status ?? 'suspended';
        const page = await service.endpointsByStatus(params.env, { ...query, status });
        res.json({
          data: page.data.map(({ state, ...row }) => ({
            ...row,
            url: state.url ?? null,
            status: state.status,
            suspendedAt: state.suspension?.at,
            suspensionReason: state.suspension?.reason,
            lastError: state.lastError,
          })),
          nextCursor: page.nextCursor,
        });
        return;
      }
      const views = await service.listEndpoints(customer.environment, customer.customerId);
      // A portal session scoped to some endpoints lists those only.
      const granted = views.filter((view) => !customer.session || coversEndpoint(customer.session, view.id));
      const shown = query.status ? granted.filter((view) => view.state.status === query.status) : granted;
      res.json({ data: shown.map((view) => presentEndpoint(view, config)) });
    },
  }),

  route('get', '/v1/{env}/endpoints/{endpointId}', {
    operationId: 'getEndpoint',
    summary: 'One endpoint, its status, route and pending count',
    access: 'customer',
    params: envEndpoint,
    responses: { 200: response('The endpoint', EndpointResponse) },
    errors: [404],
    handler: async ({ params }, _req, res, { service, config }) => {
      const { customerId, environment } = customerOf(res);
      res.json(presentEndpoint(await service.getEndpoint(environment, customerId, params.endpointId), config));
    },
  }),

  route('put', '/v1/{env}/endpoints/{endpointId}', {
    operationId: 'putEndpoint',
    summary: 'Configure an endpoint and its route; the answer carries its signing secret',
    description:
      '`headers` replaces the custom headers (absent: those there are stay; `null` or `{}`: none). Their values are ' +
      'sealed and never shown again: answers list their names in `headerNames`.',
    access: 'customer',
    params: envEndpoint,
    body: PutEndpointSchema,
    responses: { 200: response('The endpoint, with its secret', EndpointResponse) },
    errors: [404],
    handler: async ({ params, body }, _req, res, { service, config }) => {
      await assertPublicUrls({ url: body.url, notificationUrl: body.notificationUrl }, config);
      const { customerId, environment } = customerOf(res);
      const view = await service.putEndpoint(environment, customerId, params.endpointId, body);
      res.json(presentEndpoint(view, config, true));
    },
  }),

  route('patch', '/v1/{env}/endpoints/{endpointId}', {
    operationId: 'patchEndpoint',
    summary: 'Turn an endpoint off or on (on replays what it missed), change some headers, or change its route',
    description:
      '`headers` names the headers to change: a value sets one, `null` removes one, the others stay; route fields ' +
      'named replace theirs (`null` clears one).',
    access: 'customer',
    params: envEndpoint,
    body: PatchEndpointSchema,
    responses: { 200: response('The endpoint', EndpointResponse) },
    errors: [404],
    handler: async ({ params, body }, _req, res, { service, config }) => {
      const { customerId, environment } = customerOf(res);
      const view = await service.patchEndpoint(environment, customerId, params.endpointId, body);
      res.json(presentEndpoint(view, config));
    },
  }),

  route('delete', '/v1/{env}/endpoints/{endpointId}', {
    operationId: 'deleteEndpoint',
    summary: 'Delete an endpoint: nothing is sent to it after this answer; what waits for it stays pullable',
    description:
      'Once answered, no document goes to it and nothing is sent to it (no attempt, probe, replay, resend, ' +
      'notification, reminder or email), and it is in no list. Documents that wait in its bucket prefix ' +
      '(`pendingCount`) stay pullable through the customer-wide `/v1/{env}/pending` routes until they expire ' +
      '(`expiresBy`); a delivery still on its retry schedule joins them at its next attempt, sending nothing. ' +
      'Deleted again: 404. The first endpoint (the webhook) cannot be deleted: 409.',
    access: 'customer',
    params: envEndpoint,
    responses: { 200: response('Deleted', DeletedEndpointResponse) },
    errors: [404, 409],
    handler: async ({ params }, _req, res, { service }) => {
      const { customerId, environment } = customerOf(res);
      res.json(await service.deleteEndpoint(environment, customerId, params.endpointId));
    },
  }),

  route('get', '/v1/{env}/endpoints/{endpointId}/stats', {
    operationId: 'getEndpointStats',
    summary: "The endpoint's deliveries over the last 24 hours and 7 days, by status, and its success rate",
    access: 'customer',
    params: envEndpoint,
    responses: { 200: response('The statistics', EndpointStatsResponse) },
    errors: [404],
    handler: async ({ params }, _req, res, { service }) => {
      const { customerId, environment } = customerOf(res);
      await service.getEndpoint(environment, customerId, params.endpointId);
      const stats = await service.endpointStats(environment, customerId, params.endpointId);
      res.json({ endpointId: params.endpointId, ...stats });
    },
  }),

  route('post', '/v1/{env}/endpoints/{endpointId}/test', {
    operationId: 'sendTestEvent',
    summary: 'Send a signed test event of a chosen type to this endpoint only',
    description:
      'A document `test_…` of the event type (its schema\'s first example as data, or `{ "test": true }`), ' +
      'delivered, retried and logged like any other, to this endpoint alone.',
    access: 'customer',
    params: envEndpoint,
    body: TestEventSchema,
    responses: { 202: response('Sending', TestEventResponse) },
    errors: [404],
    handler: async ({ params, body }, _req, res, { service }) => {
      const { customerId, environment } = customerOf(res);
      const types = body.eventType ? await service.listEventTypes() : [];
      const eventType = types.find((type) => type.name === body.eventType);
      if (body.eventType && !eventType) {
        const message = `unknown or archived event type ${body.eventType}`;
        throw new AppError('validation_failed', `body.eventType: ${message}`, 400, [
          { path: 'body.eventType', message, code: 'custom' },
        ]);
      }
      res.status(202).json(await service.sendTestEvent(environment, customerId, params.endpointId, eventType));
    },
  }),

  route('post', '/v1/{env}/endpoints/{endpointId}/secret/rotate', {
    operationId: 'rotateEndpointSecret',
    summary: 'A new signing secret for the endpoint; the old one also signs for SECRET_ROTATION_GRACE',
    access: 'customer',
    params: envEndpoint,
    responses: { 200: response('The endpoint, with its new secret', EndpointResponse) },
    errors: [404, 409],
    handler: async ({ params }, _req, res, { service, config }) => {
      const { customerId, environment } = customerOf(res);
      const view = await service.getEndpoint(environment, customerId, params.endpointId);
      const state = await service.rotateSecret(environment, customerId, view.state.endpointId);
      res.json(presentEndpoint({ ...view, state }, config, true));
    },
  }),
];
