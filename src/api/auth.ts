import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { operatorKey, type Config } from '../config';
import { EnvironmentSchema, type Environment } from '../domain/schemas';
import { hashApiKey, parseApiKey, sameSecret } from '../lib/api-keys';
import { isPortalToken } from '../lib/portal-tokens';
import { AppError } from './errors';
import type { DeliveryService } from './service';
import type { PortalSessionAuth } from './service/portal-sessions';

export interface CustomerAuth {
  customerId: string;
  environment: Environment;
  /** Set when the caller is the portal, on a session's bearer rather than the customer's API key. */
  session?: PortalSessionAuth;
}

function bearer(req: Request): string {
  const header = req.get('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new AppError('unauthorized', 'missing Authorization: Bearer <key>', 401);
  return match[1];
}

export function requireOperator(config: Config): RequestHandler {
  const adminHash = hashApiKey(operatorKey(config));
  return (req: Request, _res: Response, next: NextFunction) => {
    try {
      if (!sameSecret(bearer(req), adminHash)) throw new AppError('unauthorized', 'unknown API key', 401);
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** The customer whose API key this is; 401 for a key that is no customer's. */
async function keyHolder(service: DeliveryService, key: string): Promise<CustomerAuth> {
  const parsed = parseApiKey(key);
  const endpoint = parsed && (await service.findEndpoint(parsed.environment, parsed.customerId));
  if (!parsed || !endpoint || !sameSecret(key, endpoint.apiKeyHash)) {
    throw new AppError('unauthorized', 'unknown API key', 401);
  }
  return parsed;
}

/** The customer a portal session's bearer acts for, and the session; 401 or 410 for no live session of ours. */
async function portalCaller(service: DeliveryService, bearerToken: string): Promise<CustomerAuth> {
  const session = await service.portalSessionOf(bearerToken);
  return { customerId: session.customerId, environment: session.environment, session };
}

/**
 * 401 for a missing or unknown key (or portal session), 403 for a valid key used on the other environment's routes.
 * A portal session's bearer stands for the customer's key, within its grant (portalGrantGuard).
 */
export function requireCustomer(service: DeliveryService): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const key = bearer(req);
      const caller = isPortalToken(key, 'session') ? await portalCaller(service, key) : await keyHolder(service, key);
      const env = EnvironmentSchema.safeParse(req.params.env);
      if (env.success && env.data !== caller.environment) {
        throw new AppError('forbidden', `this key belongs to the ${caller.environment} environment`, 403);
      }
      res.locals.customer = caller;
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** The operator's key, or any customer's (for what both read): 401 for anything else. */
export function requireAnyKey(config: Config, service: DeliveryService): RequestHandler {
  const adminHash = hashApiKey(operatorKey(config));
  const customer = requireCustomer(service);
  return (req: Request, res: Response, next: NextFunction) => {
    try {
      if (sameSecret(bearer(req), adminHash)) {
        next();
        return;
      }
    } catch (err) {
      next(err);
      return;
    }
    void customer(req, res, next);
  };
}

export function customerOf(res: Response): CustomerAuth {
  return res.locals.customer as CustomerAuth;
}
