import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import {
  CreateCustomerSchema,
  IdSchema,
  ListPendingQuerySchema,
  PatchWebhookSchema,
  PreferencesSchema,
  PutWebhookSchema,
  ResendManySchema,
  RestoreSchema,
  SubmitDocumentSchema,
} from '../domain/schemas';
import {
  CodecPayloadsAnswer,
  CustomerCreatedAnswer,
  DocumentAnswer,
  EnvironmentParam,
  ErrorAnswer,
  HealthAnswer,
  PendingDocumentAnswer,
  PendingListAnswer,
  PreferencesAnswer,
  RestoreJobAnswer,
  ResentAnswer,
  ResentManyAnswer,
  SubmitAcceptedAnswer,
  WebhookAnswer,
} from './answers';
import { CodecBodySchema } from './routes/codec';

// The OpenAPI 3.1 document, generated from the zod schemas the routes validate with (requests) and the presenters
// are typed with (answers). `test/e2e/openapi.test.ts` drives every route and checks each real answer against it.

const ERRORS = {
  400: 'Bad input: `details` names each wrong field (body.*, query.*, params.*)',
  401: 'Missing or unknown key',
  403: "A customer key used on the other environment's routes",
  404: 'Unknown, or belongs to another customer',
  409: 'Already exists',
  413: 'Body larger than MAX_BODY_BYTES',
  415: 'The body is not application/json',
} as const;
type ErrorStatus = keyof typeof ERRORS;

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
/** A request body the route requires: every one whose schema refuses `{}` (no body is read as `{}`, see handle.ts). */
const body = (schema: z.ZodType) => ({ required: true, ...json(schema) });
const answer = (description: string, schema?: z.ZodType) =>
  schema ? { description, ...json(schema) } : { description };
const errors = (...statuses: ErrorStatus[]) =>
  Object.fromEntries(statuses.map((status) => [status, answer(ERRORS[status], ErrorAnswer)]));
const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });

const env = z.object({ env: EnvironmentParam });
const envId = env.extend({ id: IdSchema });

/** Every route validates its input (400); one with a body also refuses one too large (413) or not JSON (415). */
const inputErrors = (operation: ZodOpenApiOperationObject): ErrorStatus[] =>
  operation.requestBody ? [400, 413, 415] : [400];

/** An operation behind a key, with the errors of its input, of its key, and any more it names. */
const secured =
  (tag: string, scheme: 'customerKey' | 'operatorKey', keyErrors: ErrorStatus[]) =>
  (operation: ZodOpenApiOperationObject, ...more: ErrorStatus[]): ZodOpenApiOperationObject => ({
    tags: [tag],
    security: [{ [scheme]: [] }],
    ...operation,
    responses: { ...operation.responses, ...errors(...inputErrors(operation), ...keyErrors, ...more) },
  });
/** A customer route: the customer's key for `{env}` (403 for the other environment's). */
const customer = secured('Customer', 'customerKey', [401, 403]);
/** An operator route: ADMIN_API_KEY. */
const operator = secured('Operator', 'operatorKey', [401]);

const codec = (direction: 'encode' | 'decode'): ZodOpenApiOperationObject =>
  operator({
    operationId: `codec${direction[0].toUpperCase()}${direction.slice(1)}`,
    tags: ['Codec'],
    summary: `Temporal remote codec: ${direction} payloads (the Web UI and \`temporal --codec-endpoint\` call it)`,
    // `{}` is an empty list of payloads (the schema's default), so a body is not required.
    requestBody: { required: false, ...json(CodecBodySchema) },
    responses: { 200: answer(`The payloads, ${direction}d`, CodecPayloadsAnswer) },
  });

/** The browser's question before the Web UI posts to the codec from another origin. */
const preflight = (direction: 'encode' | 'decode'): ZodOpenApiOperationObject => ({
  operationId: `codec${direction[0].toUpperCase()}${direction.slice(1)}Preflight`,
  tags: ['Codec'],
  summary: 'CORS preflight: the methods and headers allowed, for an origin in CODEC_UI_ORIGINS',
  responses: { 204: { description: 'No content (the CORS headers, for a Web UI origin)' } },
});

const paths: ZodOpenApiPathsObject = {
  '/healthz': {
    get: {
      operationId: 'health',
      tags: ['Service'],
      summary: 'Ready once the API reaches Temporal and S3',
      responses: { 200: answer('Ready', HealthAnswer), 503: answer('Temporal or S3 unreachable', HealthAnswer) },
    },
  },
  '/metrics': {
    get: {
      operationId: 'metrics',
      tags: ['Service'],
      summary: 'Prometheus metrics of this process (docs/operations.md, "Metrics")',
      responses: {
        200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
      },
    },
  },
  '/openapi.json': {
    get: {
      operationId: 'openApiDocument',
      tags: ['Service'],
      summary: 'This document',
      responses: {
        200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } },
      },
    },
  },
  '/docs': {
    get: {
      operationId: 'docs',
      tags: ['Service'],
      summary: 'This document, rendered',
      responses: { 200: html('Swagger UI') },
    },
  },
  '/': {
    get: {
      operationId: 'home',
      tags: ['Portal'],
      summary: 'The webhook page',
      responses: { 200: html('The webhook page') },
    },
  },
  '/webhook': {
    get: {
      operationId: 'webhookPage',
      tags: ['Portal'],
      summary: 'The webhook page',
      responses: { 200: html('The webhook page') },
    },
  },
  '/codec/encode': { post: codec('encode'), options: preflight('encode') },
  '/codec/decode': { post: codec('decode'), options: preflight('decode') },
  '/v1/customers': {
    post: operator(
      {
        operationId: 'createCustomer',
        summary: 'Create a customer and its two API keys',
        requestBody: body(CreateCustomerSchema),
        responses: { 201: answer('Created; the keys are shown only here', CustomerCreatedAnswer) },
      },
      409,
    ),
  },
  '/v1/{env}/documents': {
    post: operator(
      {
        operationId: 'submitDocument',
        summary: 'Submit a document for delivery (idempotent on its id)',
        requestParams: { path: env },
        requestBody: body(SubmitDocumentSchema),
        responses: { 202: answer('Accepted', SubmitAcceptedAnswer) },
      },
      404,
    ),
  },
  '/v1/{env}/customers/{customerId}/documents/{id}': {
    get: operator(
      {
        operationId: 'getCustomerDocument',
        summary: "A customer's document: status and attempts",
        requestParams: { path: env.extend({ customerId: IdSchema, id: IdSchema }) },
        responses: { 200: answer('The document', DocumentAnswer) },
      },
      404,
    ),
  },
  '/v1/{env}/customers/{customerId}/restore': {
    post: operator(
      {
        operationId: 'restoreDocuments',
        summary: 'Bring expired documents back from the cold store as pending (a background job)',
        description:
          'Starts a restore job and answers at once with its id. The job walks the cold store a page of 100 at a ' +
          'time (or the given ids), brings each document back as pending with a new retention window, and writes a ' +
          'billing record per page; it survives a restart of the API or the worker. At most `limit` (10,000) ' +
          'documents per restore: `more` says when another restore has more to bring back.',
        requestParams: { path: env.extend({ customerId: IdSchema }) },
        requestBody: { required: false, ...json(RestoreSchema) },
        responses: { 202: answer('The restore job, started', RestoreJobAnswer) },
      },
      404,
    ),
  },
  '/v1/{env}/customers/{customerId}/restores/{restoreId}': {
    get: operator(
      {
        operationId: 'getRestore',
        summary: "A restore job's progress",
        requestParams: { path: env.extend({ customerId: IdSchema, restoreId: IdSchema }) },
        responses: { 200: answer('The restore job', RestoreJobAnswer) },
      },
      404,
    ),
  },
  '/v1/{env}/webhook': {
    put: customer({
      operationId: 'putWebhook',
      summary: 'Configure the webhook; the answer carries the signing secret',
      requestParams: { path: env },
      requestBody: body(PutWebhookSchema),
      responses: { 200: answer('The webhook, with its secret', WebhookAnswer) },
    }),
    get: customer(
      {
        operationId: 'getWebhook',
        summary: 'The webhook, its status and pending count',
        requestParams: { path: env },
        responses: { 200: answer('The webhook', WebhookAnswer) },
      },
      404,
    ),
    patch: customer(
      {
        operationId: 'patchWebhook',
        summary: 'Suspend or reactivate; reactivating redelivers every pending document',
        requestParams: { path: env },
        requestBody: body(PatchWebhookSchema),
        responses: { 200: answer('The webhook', WebhookAnswer) },
      },
      404,
    ),
  },
  '/v1/{env}/webhook/secret/rotate': {
    post: customer(
      {
        operationId: 'rotateSecret',
        summary: 'A new signing secret; the old one also signs for SECRET_ROTATION_GRACE (24 h), then stops',
        requestParams: { path: env },
        responses: { 200: answer('The webhook, with its new secret', WebhookAnswer) },
      },
      409,
    ),
  },
  '/v1/{env}/preferences': {
    get: customer(
      {
        operationId: 'getPreferences',
        summary: 'Notification preferences',
        requestParams: { path: env },
        responses: { 200: answer('The preferences', PreferencesAnswer) },
      },
      404,
    ),
    put: customer(
      {
        operationId: 'putPreferences',
        summary: 'Opt in or out of pending-document notifications',
        requestParams: { path: env },
        requestBody: body(PreferencesSchema),
        responses: { 200: answer('The preferences', PreferencesAnswer) },
      },
      404,
    ),
  },
  '/v1/{env}/pending': {
    get: customer({
      operationId: 'listPending',
      summary: 'Pending documents, oldest first, paged',
      description:
        'Follow `nextCursor` until it is null. With a `type` filter a page reads a bounded share of the bucket ' +
        '(5,000 keys) and may end short, even empty, with a cursor where it stopped.',
      requestParams: { path: env, query: ListPendingQuerySchema },
      responses: { 200: answer('A page', PendingListAnswer) },
    }),
  },
  '/v1/{env}/pending/resend': {
    post: customer({
      operationId: 'resendPending',
      summary: 'Resend the given pending documents now, or all of them without `ids`',
      requestParams: { path: env },
      requestBody: { required: false, ...json(ResendManySchema) },
      responses: { 202: answer('Resending', ResentManyAnswer) },
    }),
  },
  '/v1/{env}/pending/{id}': {
    get: customer(
      {
        operationId: 'pullPending',
        summary: 'Pull a pending document',
        requestParams: { path: envId },
        responses: { 200: answer('The document as submitted', PendingDocumentAnswer) },
      },
      404,
    ),
    delete: customer(
      {
        operationId: 'acknowledgePending',
        summary: 'Acknowledge: removed from the bucket, never delivered again',
        requestParams: { path: envId },
        responses: { 204: answer('Acknowledged') },
      },
      404,
    ),
  },
  '/v1/{env}/pending/{id}/resend': {
    post: customer(
      {
        operationId: 'resendOne',
        summary: 'Resend one pending document now',
        requestParams: { path: envId },
        responses: { 202: answer('Resending', ResentAnswer) },
      },
      404,
    ),
  },
  '/v1/{env}/documents/{id}': {
    get: customer(
      {
        operationId: 'getDocument',
        summary: 'A document: status and attempts',
        requestParams: { path: envId },
        responses: { 200: answer('The document', DocumentAnswer) },
      },
      404,
    ),
  },
};

/** Every operation says who may call it: one without a key scheme is public (`security: []`), not unspecified. */
const withSecurity = (all: ZodOpenApiPathsObject): ZodOpenApiPathsObject =>
  Object.fromEntries(
    Object.entries(all).map(([path, item]) => [
      path,
      Object.fromEntries(
        Object.entries(item as Record<string, ZodOpenApiOperationObject>).map(([method, operation]) => [
          method,
          { security: [], ...operation },
        ]),
      ),
    ]),
  );

/** Each documented path as Express matches it (case-insensitive, an optional trailing slash), and its methods. */
export function documentedMethods(): { path: string; pattern: RegExp; literals: number; methods: string[] }[] {
  return Object.entries(paths).map(([path, item]) => ({
    path,
    /** Segments without a parameter: a concrete path matches before a templated one (OpenAPI, "Paths Object"). */
    literals: path.split('/').filter((segment) => segment && !segment.startsWith('{')).length,
    pattern: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`, 'i'),
    methods: Object.keys(item as object).map((method) => method.toUpperCase()),
  }));
}

let cached: ReturnType<typeof createDocument> | undefined;

/** The document (built once: the schemas do not change at run time). */
export function openApiDocument() {
  cached ??= createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: 'Webhook delivery',
        version: '1',
        description:
          'Documents delivered by webhook, retried durably, kept in the bucket of their environment when the ' +
          'endpoint fails, and listed, pulled, acknowledged or resent by the customer.',
      },
      // Relative: the API that serves this document (`npm start`: http://localhost:3000).
      servers: [{ url: '/', description: 'this API' }],
      paths: withSecurity(paths),
      components: {
        securitySchemes: {
          operatorKey: { type: 'http', scheme: 'bearer', description: 'The operator key (ADMIN_API_KEY)' },
          customerKey: {
            type: 'http',
            scheme: 'bearer',
            description: "A customer's key for one environment (sk_sandbox_… or sk_production_…)",
          },
        },
      },
    },
    // A document's `data` is any JSON value (a zod custom schema): an empty schema, with its description.
    { allowEmptySchema: { custom: true } },
  );
  return cached;
}
