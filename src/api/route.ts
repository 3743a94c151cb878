import type { Express, Request, RequestHandler, Response } from 'express';
import type { ZodOpenApiResponsesObject } from 'zod-openapi';
import type { Config } from '../config';
import type { Metrics } from '../lib/metrics';
import { requireAnyKey, requireCustomer, requireOperator } from './auth';
import type { ErrorStatus } from './errors';
import type { ZodType } from 'zod';
import { handle, type Parsed } from './handle';
import { portalGrantGuard } from './portal-grant';
import type { DeliveryService } from './service';

// One declaration per route gives Express its handler (`mountRoutes`) and the OpenAPI document its operation
// (src/api/openapi.ts): a route cannot exist undocumented, nor the document describe one that does not.

export type Method = 'get' | 'put' | 'post' | 'patch' | 'delete' | 'options';

/**
 * Who may call: anyone, a customer's key for `{env}`, the operator key (ADMIN_API_KEY), or either key (`anyKey`: what
 * both may read, the event-type catalog).
 */
export type Access = 'public' | 'customer' | 'operator' | 'anyKey';

/** What every handler may use, built once by createApp. */
export interface AppContext {
  service: DeliveryService;
  config: Config;
  metrics: Metrics;
  /** The Temporal SDK's worker metrics, when this process runs a worker (API_EMBEDDED_WORKER). */
  sdkMetrics?: () => Promise<string>;
  /** The OpenAPI document of these routes (src/api/openapi.ts). */
  openApi: () => object;
}

type Schema = ZodType | undefined;

export interface RouteDeclaration<P extends Schema = Schema, Q extends Schema = Schema, B extends Schema = Schema> {
  operationId: string;
  summary: string;
  description?: string;
  /** The document's section; by default the access's (Customer, Operator). */
  tag?: string;
  access: Access;
  /** What handle() validates, and the document describes: path parameters, query, JSON body. */
  params?: P;
  query?: Q;
  body?: B;
  /** The answers that are not errors: the errors come from `errors` and from what the route validates. */
  responses: ZodOpenApiResponsesObject;
  /** Errors beyond those of its input and its key (404, 409). */
  errors?: ErrorStatus[];
  /**
   * Run ahead of the app's body parser, in place of the guard its `access` names: the route checks its own caller
   * there and reads its own body (the codec: CORS for the Web UI, then the operator key, then a larger body limit).
   */
  beforeBody?: (config: Config) => RequestHandler[];
  /** A route only some configurations serve (the codec needs PAYLOAD_KEYS); documented in every one. */
  enabled?: (config: Config) => boolean;
  handler: (
    input: Parsed<{ params: P; query: Q; body: B }>,
    req: Request,
    res: Response,
    app: AppContext,
  ) => Promise<void> | void;
}

export interface Route {
  method: Method;
  /** As OpenAPI writes it: `/v1/{env}/pending/{id}`. */
  path: string;
  declaration: RouteDeclaration;
}

export const route = <P extends Schema, Q extends Schema, B extends Schema>(
  method: Method,
  path: string,
  declaration: RouteDeclaration<P, Q, B>,
): Route => {
  const problem = paramsProblem(path, declaration.params);
  if (problem) throw new Error(`${method.toUpperCase()} ${path}: ${problem}`);
  // Its handlers replace the access guard: a route that needs the customer's key (customerOf) must not skip it.
  if (declaration.beforeBody && !['operator', 'public'].includes(declaration.access)) {
    throw new Error(`${method.toUpperCase()} ${path}: beforeBody checks an operator's key or none, not a customer's`);
  }
  return { method, path, declaration: declaration as unknown as RouteDeclaration };
};

/**
 * Why a declaration's `params` do not name exactly its path's `{…}` parameters, or undefined when they do: a parameter
 * the schema lacks would reach the handler unvalidated, and one it has that the path lacks would be documented but
 * never sent.
 */
export function paramsProblem(path: string, params: Schema): string | undefined {
  const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
  const shape = (params as { shape?: Record<string, unknown> } | undefined)?.shape;
  const declared = Object.keys(shape ?? {}).sort();
  if (inPath.join() === declared.join()) return undefined;
  return `params name ${declared.join(', ') || 'nothing'}, the path ${inPath.join(', ') || 'nothing'}`;
}

/** The path as Express matches it: `{id}` is `:id`. */
const expressPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

/**
 * Each route on the app, behind the key its access names, its input validated by handle(). Routes that read their
 * own body are mounted first, then `bodyParser` (which leaves a body already read alone), then every route.
 */
export function mountRoutes(app: Express, routes: Route[], context: AppContext, bodyParser: RequestHandler): void {
  const operator = requireOperator(context.config);
  const customer = requireCustomer(context.service);
  const anyKey = requireAnyKey(context.config, context.service);
  const mounted = routes.filter(({ declaration }) => !declaration.enabled || declaration.enabled(context.config));
  for (const { method, path, declaration } of mounted) {
    if (declaration.beforeBody) app[method](expressPath(path), ...declaration.beforeBody(context.config));
  }
  app.use(bodyParser);
  for (const { method, path, declaration } of mounted) {
    const guards: RequestHandler[] = [];
    if (!declaration.beforeBody) {
      if (declaration.access === 'operator') guards.push(operator);
      if (declaration.access === 'customer') guards.push(customer);
      if (declaration.access === 'anyKey') guards.push(anyKey);
      if (['customer', 'anyKey'].includes(declaration.access)) guards.push(portalGrantGuard(method, path));
    }
    const { params, query, body } = declaration;
    const run = handle({ params, query, body }, (input, req, res) =>
      Promise.resolve(declaration.handler(input, req, res, context)),
    );
    app[method](expressPath(path), ...guards, run);
  }
}
