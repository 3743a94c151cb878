import type { RequestHandler } from 'express';
import { AppError } from './errors';
import type { Route } from './route';

/** Each declared path as Express matches it (case-insensitive, an optional trailing slash), and its methods. */
function pathsOf(routes: Route[]) {
  const methods = new Map<string, string[]>();
  for (const { path, method } of routes) methods.set(path, [...(methods.get(path) ?? []), method.toUpperCase()]);
  return [...methods].map(([path, allowed]) => ({
    /** Segments without a parameter: a concrete path matches before a templated one (OpenAPI, "Paths Object"). */
    literals: path.split('/').filter((segment) => segment && !segment.startsWith('{')).length,
    pattern: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`, 'i'),
    methods: allowed,
  }));
}

/**
 * A declared path asked with a method none of its routes has: 405 with `Allow` (RFC 9110 §15.5.6), before any key
 * is checked, so a client learns it used the wrong method rather than a wrong key or a missing route.
 */
export function methodNotAllowed(routes: Route[]): RequestHandler {
  const declared = pathsOf(routes);
  return (req, res, next) => {
    const candidates = declared.filter(({ pattern }) => pattern.test(req.path));
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
