import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { ERROR_ANSWERS, type ErrorStatus } from './errors';
import { ErrorResponse, json, response } from './responses';
import type { Access, Route } from './route';
import { routes } from './routes';

// The OpenAPI 3.1 document, generated from the routes' declarations (src/api/routes/): the zod schemas they validate
// requests with and the responses the presenters are typed with. `test/e2e/openapi.test.ts` drives every route and
// checks each real response against it.

const SECURITY: Record<Access, ZodOpenApiOperationObject['security']> = {
  // Public, said so: not unspecified.
  public: [],
  customer: [{ customerKey: [] }],
  operator: [{ operatorKey: [] }],
  anyKey: [{ operatorKey: [] }, { customerKey: [] }],
};
const TAGS: Record<Access, string> = {
  public: 'Service',
  customer: 'Customer',
  operator: 'Operator',
  anyKey: 'Event types',
};
/** A missing or wrong key: 401; a customer's key on the other environment's routes: 403. */
const KEY_ERRORS: Record<Access, ErrorStatus[]> = {
  public: [],
  customer: [401, 403],
  operator: [401],
  anyKey: [401],
};

const errors = (statuses: ErrorStatus[]) =>
  Object.fromEntries(statuses.map((status) => [status, response(ERROR_ANSWERS[status], ErrorResponse)]));

/**
 * A route's operation. Every route that validates input answers 400; one with a body also 413 and 415. A body is
 * required where its schema refuses `{}`, since no body at all reaches the schema as `{}` (see handle.ts).
 */
function operationOf({ declaration }: Route): ZodOpenApiOperationObject {
  const { operationId, summary, description, access, params, query, body, responses, errors: more = [] } = declaration;
  const inputErrors: ErrorStatus[] = body ? [400, 413, 415] : params || query ? [400] : [];
  return {
    operationId,
    tags: [declaration.tag ?? TAGS[access]],
    summary,
    ...(description && { description }),
    security: SECURITY[access],
    ...((params || query) && { requestParams: { ...(params && { path: params }), ...(query && { query }) } }),
    ...(body && { requestBody: { required: !body.safeParse({}).success, ...json(body) } }),
    responses: { ...responses, ...errors([...inputErrors, ...KEY_ERRORS[access], ...more]) },
  } as ZodOpenApiOperationObject;
}

function pathsOf(all: Route[]): ZodOpenApiPathsObject {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of all) paths[route.path] = { ...paths[route.path], [route.method]: operationOf(route) };
  return paths;
}

let cached: ReturnType<typeof createDocument> | undefined;

/** The document (built once: the routes do not change at run time). */
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
      paths: pathsOf(routes),
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
