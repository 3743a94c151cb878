import type { RequestHandler } from 'express';
import { FIRST_ENDPOINT_ID } from '../domain/ids';
import { coversEndpoint } from '../domain/portal-sessions';
import { logger } from '../lib/logger';
import type { CustomerAuth } from './auth';
import { AppError } from './errors';
import type { Method } from './route';

/**
 * What a customer route acts on, read from its path: one endpoint (`{endpointId}`), the first endpoint (the webhook),
 * the pending documents of every endpoint (`/pending`), documents (one endpoint's at a time, named by `?endpointId=`),
 * or the customer as a whole. A route of none of these is refused at start: each new customer route must say what a
 * portal session scoped to some endpoints may do there.
 */
export type PortalTarget = 'endpoint' | 'first' | 'everywhere' | 'documents' | 'customer';
const CUSTOMER_WIDE = ['/v1/{env}/preferences', '/v1/{env}/endpoints', '/v1/event-types', '/v1/event-types/{name}'];
export function portalTarget(path: string): PortalTarget {
  if (path.includes('{endpointId}')) return 'endpoint';
  if (/^\/v1\/\{env\}\/webhook(\/|$)/.test(path)) return 'first';
  if (/^\/v1\/\{env\}\/pending(\/|$)/.test(path)) return 'everywhere';
  if (/^\/v1\/\{env\}\/documents(\/|$)/.test(path)) return 'documents';
  if (CUSTOMER_WIDE.includes(path)) return 'customer';
  throw new Error(`${path}: a customer route src/api/portal-grant.ts does not place (what may a scoped session do?)`);
}

const forbidden = (message: string) => new AppError('forbidden', message, 403);

/**
 * A portal session acts within its grant: a read-only one changes nothing, one scoped to some endpoints reaches
 * those only (and changes nothing customer-wide). Every request a session makes is logged with its id: writes at
 * `info`, reads at `debug`. A caller with the customer's API key passes untouched.
 */
export function portalGrantGuard(method: Method, path: string): RequestHandler {
  const target = portalTarget(path);
  const writes = method !== 'get';
  return (req, res, next) => {
    const caller = res.locals.customer as CustomerAuth | undefined;
    const session = caller?.session;
    if (!caller || !session) {
      next();
      return;
    }
    // 'close' as well as a complete answer: a write whose caller left is logged too.
    res.once('close', () =>
      logger[writes ? 'info' : 'debug'](
        {
          portalSession: session.sessionId,
          customerId: caller.customerId,
          environment: caller.environment,
          method: method.toUpperCase(),
          route: path,
          status: res.statusCode,
        },
        'portal request',
      ),
    );
    if (writes && session.readOnly) throw forbidden('this portal session is read-only');
    if (!session.endpointIds) {
      next();
      return;
    }
    const covered = `this portal session covers ${session.endpointIds.join(', ')} only`;
    if (target === 'customer') {
      if (writes) throw forbidden(`${covered}: it cannot change what is the whole customer's`);
    } else if (target === 'everywhere') {
      throw forbidden(`${covered}: read an endpoint's pending documents at /v1/{env}/endpoints/{endpointId}/pending`);
    } else {
      const endpointId =
        target === 'endpoint'
          ? String(req.params.endpointId)
          : target === 'first'
            ? FIRST_ENDPOINT_ID
            : typeof req.query.endpointId === 'string'
              ? req.query.endpointId
              : undefined;
      if (endpointId === undefined) throw forbidden(`${covered}: name one of them in ?endpointId=`);
      if (!coversEndpoint(session, endpointId)) throw forbidden(covered);
    }
    next();
  };
}
