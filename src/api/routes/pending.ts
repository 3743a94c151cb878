import type { Response } from 'express';
import { z } from 'zod';
import { otherEndpoint } from '../../domain/ids';
import { EndpointIdSchema, IdSchema, ListPendingQuerySchema, ResendManySchema } from '../../domain/schemas';
import { customerOf } from '../auth';
import {
  EnvironmentParam,
  PendingDocumentResponse,
  PendingListResponse,
  ResentManyResponse,
  ResentResponse,
  response,
} from '../responses';
import { route, type AppContext } from '../route';

// Pending documents, the same five routes twice: under /v1/{env} over all the customer's endpoints (for a customer
// with one, the webhook's, as they always were), and under /v1/{env}/endpoints/{endpointId} for any one endpoint.

interface Scope {
  base: string;
  /** Names the operations: `listPending`, `listEndpointPending`. */
  name: (verb: string, noun: string) => string;
  params: z.ZodObject<{ env: typeof EnvironmentParam } & z.ZodRawShape>;
  /** The endpoint the request is about, or a 404: undefined for the first. */
  endpointOf: (params: Record<string, unknown>, res: Response, app: AppContext) => Promise<string | undefined>;
}

/** The customer-wide routes act over every endpoint (for a customer with one, its first: as they always did). */
const EVERYWHERE = 'everywhere';
const firstEndpoint: Scope = {
  base: '/v1/{env}',
  name: (verb, noun) => `${verb}${noun}`,
  params: z.object({ env: EnvironmentParam }),
  endpointOf: async () => EVERYWHERE,
};

const anyEndpoint: Scope = {
  base: '/v1/{env}/endpoints/{endpointId}',
  name: (verb, noun) => `${verb}Endpoint${noun}`,
  params: z.object({ env: EnvironmentParam, endpointId: EndpointIdSchema }),
  async endpointOf(params, res, { service }) {
    const { customerId, environment } = customerOf(res);
    const endpointId = String(params.endpointId);
    // 404 for an endpoint the customer does not have.
    await service.getEndpoint(environment, customerId, endpointId);
    return otherEndpoint(endpointId);
  },
};

function pendingRoutes({ base, name, params, endpointOf }: Scope) {
  const withId = params.extend({ id: IdSchema });
  return [
    route('get', `${base}/pending`, {
      operationId: name('list', 'Pending'),
      summary: 'Pending documents, oldest first, paged',
      description:
        'Follow `nextCursor` until it is null. With a `type` filter a page reads a bounded share of the bucket ' +
        '(5,000 keys) and may end short, even empty, with a cursor where it stopped.',
      access: 'customer',
      params,
      query: ListPendingQuerySchema,
      responses: { 200: response('A page', PendingListResponse) },
      errors: base === firstEndpoint.base ? [] : [404],
      handler: async ({ params, query }, _req, res, app) => {
        const { customerId, environment } = customerOf(res);
        const endpointId = await endpointOf(params, res, app);
        res.json(
          endpointId === EVERYWHERE
            ? await app.service.listPendingEverywhere(environment, customerId, query)
            : await app.service.listPending(environment, customerId, query, endpointId),
        );
      },
    }),

    route('post', `${base}/pending/resend`, {
      operationId: name('resend', 'Pending'),
      summary: 'Resend the given pending documents now, or all of them without `ids`',
      access: 'customer',
      params,
      body: ResendManySchema,
      responses: { 202: response('Resending', ResentManyResponse) },
      errors: base === firstEndpoint.base ? [] : [404],
      handler: async ({ params, body }, _req, res, app) => {
        const { customerId, environment } = customerOf(res);
        const endpointId = await endpointOf(params, res, app);
        res
          .status(202)
          .json(
            endpointId === EVERYWHERE
              ? await app.service.resendManyEverywhere(environment, customerId, body.ids)
              : await app.service.resendMany(environment, customerId, body.ids, endpointId),
          );
      },
    }),

    route('get', `${base}/pending/{id}`, {
      operationId: name('pull', 'Pending'),
      summary: 'Pull a pending document',
      access: 'customer',
      params: withId,
      responses: { 200: response('The document as submitted', PendingDocumentResponse) },
      errors: [404],
      handler: async ({ params }, _req, res, app) => {
        const { customerId, environment } = customerOf(res);
        const endpointId = await endpointOf(params, res, app);
        const id = String(params.id);
        res.json(
          endpointId === EVERYWHERE
            ? await app.service.pullPendingEverywhere(environment, customerId, id)
            : await app.service.pullPending(environment, customerId, id, endpointId),
        );
      },
    }),

    route('delete', `${base}/pending/{id}`, {
      operationId: name('acknowledge', 'Pending'),
      summary: 'Acknowledge: removed from the bucket, never delivered again',
      access: 'customer',
      params: withId,
      responses: { 204: response('Acknowledged') },
      errors: [404],
      handler: async ({ params }, _req, res, app) => {
        const { customerId, environment } = customerOf(res);
        const endpointId = await endpointOf(params, res, app);
        const id = String(params.id);
        if (endpointId === EVERYWHERE) await app.service.acknowledgeEverywhere(environment, customerId, id);
        else await app.service.acknowledge(environment, customerId, id, endpointId);
        res.status(204).end();
      },
    }),

    route('post', `${base}/pending/{id}/resend`, {
      operationId: name('resend', 'One'),
      summary: 'Resend one pending document now',
      access: 'customer',
      params: withId,
      responses: { 202: response('Resending', ResentResponse) },
      errors: [404],
      handler: async ({ params }, _req, res, app) => {
        const { customerId, environment } = customerOf(res);
        const endpointId = await endpointOf(params, res, app);
        const id = String(params.id);
        if (endpointId === EVERYWHERE) await app.service.resendEverywhere(environment, customerId, id);
        else await app.service.resend(environment, customerId, id, endpointId);
        res.status(202).json({ id: String(params.id), status: 'pending' });
      },
    }),
  ];
}

export const firstEndpointPendingRoutes = pendingRoutes(firstEndpoint);
export const endpointPendingRoutes = pendingRoutes(anyEndpoint);
