import type { ErrorRequestHandler } from 'express';
import type { ZodError } from 'zod';
import { logger } from '../lib/logger';

/** The one error type routes throw; the handler below turns it into the contract's JSON shape. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus: number,
    readonly details?: unknown[],
  ) {
    super(message);
  }

  static validation(error: ZodError, where: string): AppError {
    const details = error.issues.map((issue) => ({
      path: [where, ...issue.path.map(String)].join('.'),
      message: issue.message,
      code: issue.code,
    }));
    const first = details[0];
    return new AppError('validation_failed', `${first.path}: ${first.message}`, 400, details);
  }

  static notFound(what: string): AppError {
    return new AppError('not_found', `${what} not found`, 404);
  }
}

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  if (err instanceof AppError) {
    res.status(err.httpStatus).json({ error: { code: err.code, message: err.message, details: err.details } });
    return;
  }
  // body-parser's errors carry a `type` and a status.
  const type = (err as { type?: string }).type;
  if (type === 'entity.too.large') {
    res.status(413).json({ error: { code: 'payload_too_large', message: 'request body is too large' } });
    return;
  }
  if (type === 'entity.parse.failed') {
    res.status(400).json({ error: { code: 'invalid_json', message: 'request body is not valid JSON' } });
    return;
  }
  logger.error({ err, method: req.method, path: req.path }, 'request failed');
  res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
};
