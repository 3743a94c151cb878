import type { RequestHandler } from 'express';
import { AppError } from './errors';
import { documentedMethods } from './openapi';

/**
 * A documented path asked with a method none of its operations has: 405 with `Allow` (RFC 9110 §15.5.6), before any
 * key is checked, so a client learns it used the wrong method rather than a wrong key or a missing route. The paths
 * and methods are the OpenAPI document's, which the tests hold to the routes.
 */
export function methodNotAllowed(): RequestHandler {
  const documented = documentedMethods();
  return (req, res, next) => {
    const candidates = documented.filter(({ pattern }) => pattern.test(req.path));
    if (candidates.length === 0) return next();
    // `/pending/resend` is the resend path, not a document called `resend`, as OpenAPI matches paths.
    const most = Math.max(...candidates.map(({ literals }) => literals));
    const matching = candidates.filter(({ literals }) => literals === most);
    const allowed = new Set(matching.flatMap(({ methods }) => methods));
    // Express answers HEAD with its GET route.
    if (allowed.has('GET')) allowed.add('HEAD');
    if (allowed.has(req.method)) return next();
    const allow = [...allowed].join(', ');
    res.set('allow', allow);
    next(new AppError('method_not_allowed', `${req.method} is not allowed on ${req.path}: ${allow}`, 405));
  };
}
