import { Router } from 'express';
import { z } from 'zod';
import type { Config } from '../../config';
import {
  CreateCustomerSchema,
  EnvironmentSchema,
  IdSchema,
  RestoreSchema,
  SubmitDocumentSchema,
} from '../../domain/schemas';
import { requireOperator } from '../auth';
import { handle } from '../handle';
import { presentDocument } from '../present';
import type { DeliveryService } from '../service';

export function operatorRoutes(service: DeliveryService, config: Config): Router {
  const router = Router();
  const operator = requireOperator(config);

  router.post(
    '/v1/customers',
    operator,
    handle({ body: CreateCustomerSchema }, async ({ body }, _req, res) => {
      const apiKeys = await service.createCustomer(body);
      res.status(201).json({ id: body.id, name: body.name, apiKeys });
    }),
  );

  router.post(
    '/v1/:env/documents',
    operator,
    handle(
      { params: z.object({ env: EnvironmentSchema }), body: SubmitDocumentSchema },
      async ({ params, body }, _req, res) => {
        const status = await service.submitDocument(params.env, body);
        res.status(202).json({ id: body.id, status });
      },
    ),
  );

  router.get(
    '/v1/:env/customers/:customerId/documents/:id',
    operator,
    handle(
      { params: z.object({ env: EnvironmentSchema, customerId: IdSchema, id: IdSchema }) },
      async ({ params }, _req, res) => {
        res.json(presentDocument(await service.getDocument(params.env, params.customerId, params.id)));
      },
    ),
  );

  router.post(
    '/v1/:env/customers/:customerId/restore',
    operator,
    handle(
      { params: z.object({ env: EnvironmentSchema, customerId: IdSchema }), body: RestoreSchema },
      async ({ params, body }, _req, res) => {
        res.status(202).json(await service.restore(params.env, params.customerId, body));
      },
    ),
  );

  router.get(
    '/v1/:env/customers/:customerId/restores/:restoreId',
    operator,
    handle(
      { params: z.object({ env: EnvironmentSchema, customerId: IdSchema, restoreId: IdSchema }) },
      async ({ params }, _req, res) => {
        res.json(await service.getRestore(params.env, params.customerId, params.restoreId));
      },
    ),
  );

  return router;
}
