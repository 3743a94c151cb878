import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { operatorKey, type Config } from '../config';
import { EnvironmentSchema, type Environment } from '../domain/schemas';
import { hashApiKey, parseApiKey, sameSecret } from '../lib/api-keys';
import { AppError } from './errors';
import type { DeliveryService } from './service';

export interface CustomerAuth {
  customerId: string;
  environment: Environment;
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

/** 401 for a missing or unknown key, 403 for a valid key used on the other environment's routes. */
export function requireCustomer(service: DeliveryService): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const key = bearer(req);
      const parsed = parseApiKey(key);
      const endpoint = parsed && (await service.findEndpoint(parsed.environment, parsed.customerId));
      if (!parsed || !endpoint || !sameSecret(key, endpoint.apiKeyHash)) {
        throw new AppError('unauthorized', 'unknown API key', 401);
      }
      const env = EnvironmentSchema.safeParse(req.params.env);
      if (env.success && env.data !== parsed.environment) {
        throw new AppError('forbidden', `this key belongs to the ${parsed.environment} environment`, 403);
      }
      res.locals.customer = parsed satisfies CustomerAuth;
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
