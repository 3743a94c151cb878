import { z } from 'zod';
import { CreateCustomerSchema, IdSchema, RestoreSchema, SubmitDocumentSchema } from '../../domain/schemas';
import { DocumentQuerySchema } from '../../domain/endpoints';
import { presentDocument } from '../present';
import { MessageLogQuerySchema } from '../service/message-log';
import {
  CustomerCreatedResponse,
  DocumentResponse,
  EnvironmentParam,
  MessageLogResponse,
  response,
  RestoreJobResponse,
  SubmitAcceptedResponse,
} from '../responses';
import { route } from '../route';

// The operator's routes, with ADMIN_API_KEY: customers, documents submitted for delivery, restores.

const env = z.object({ env: EnvironmentParam });

export const operatorRoutes = [
  route('post', '/v1/customers', {
    operationId: 'createCustomer',
    summary: 'Create a customer and its two API keys',
    access: 'operator',
    body: CreateCustomerSchema,
    responses: { 201: response('Created; the keys are shown only here', CustomerCreatedResponse) },
    errors: [409],
    handler: async ({ body }, _req, res, { service }) => {
      const apiKeys = await service.createCustomer(body);
      res.status(201).json({ id: body.id, name: body.name, apiKeys });
    },
  }),

  route('post', '/v1/{env}/documents', {
    operationId: 'submitDocument',
    summary: 'Submit a document for delivery (idempotent on its id)',
    access: 'operator',
    params: env,
    body: SubmitDocumentSchema,
    responses: { 202: response('Accepted', SubmitAcceptedResponse) },
    errors: [404],
    handler: async ({ params, body }, _req, res, { service }) => {
      const status = await service.submitDocument(params.env, body);
      res.status(202).json({ id: body.id, status });
    },
  }),

  route('get', '/v1/{env}/customers/{customerId}/documents', {
    operationId: 'listCustomerDocuments',
    summary: "A customer's message log, as the customer sees it (the support desk's view)",
    access: 'operator',
    params: env.extend({ customerId: IdSchema }),
    query: MessageLogQuerySchema,
    responses: { 200: response('A page of the log', MessageLogResponse) },
    errors: [404],
    handler: async ({ params, query }, _req, res, { service }) => {
      res.json(await service.listDocuments(params.env, params.customerId, query, true));
    },
  }),

  route('get', '/v1/{env}/customers/{customerId}/documents/{id}', {
    operationId: 'getCustomerDocument',
    summary: "A customer's document: status and attempts",
    access: 'operator',
    params: env.extend({ customerId: IdSchema, id: IdSchema }),
    query: DocumentQuerySchema,
    responses: { 200: response('The document', DocumentResponse) },
    errors: [404],
    handler: async ({ params, query }, _req, res, { service }) => {
      const { env: environment, customerId, id } = params;
      res.json(presentDocument(await service.getDocument(environment, customerId, id, query.endpointId)));
    },
  }),

  route('post', '/v1/{env}/customers/{customerId}/restore', {
    operationId: 'restoreDocuments',
    summary: 'Bring expired documents back from the cold store as pending (a background job)',
    description:
      'Starts a restore job and answers at once with its id. The job walks the cold store a page of 100 at a ' +
      'time (or the given ids), brings each document back as pending with a new retention window, and writes a ' +
      'billing record per page; it survives a restart of the API or the worker. At most `limit` (10,000) ' +
      'documents per restore: `more` says when another restore has more to bring back.',
    access: 'operator',
    params: env.extend({ customerId: IdSchema }),
    body: RestoreSchema,
    responses: { 202: response('The restore job, started', RestoreJobResponse) },
    errors: [404],
    handler: async ({ params, body }, _req, res, { service }) => {
      res.status(202).json(await service.restore(params.env, params.customerId, body));
    },
  }),

  route('get', '/v1/{env}/customers/{customerId}/restores/{restoreId}', {
    operationId: 'getRestore',
    summary: "A restore job's progress",
    access: 'operator',
    params: env.extend({ customerId: IdSchema, restoreId: IdSchema }),
    responses: { 200: response('The restore job', RestoreJobResponse) },
    errors: [404],
    handler: async ({ params }, _req, res, { service }) => {
      res.json(await service.getRestore(params.env, params.customerId, params.restoreId));
    },
  }),
];
