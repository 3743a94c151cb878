import type { ErrorRequestHandler } from 'express';
import type { ZodError } from 'zod';
import { logger } from '../lib/logger';
import { temporalErrorAnswer } from './temporal-errors';

/** The one error type routes throw; the handler below turns it into the contract's JSON shape. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus: number,
    readonly details?: unknown[],
    /** Sent as `Retry-After` (seconds): the caller may try the same request again then. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  static validation(error: ZodError, part: string): AppError {
    const details = error.issues.map((issue) => ({
      path: [part, ...issue.path.map(String)].join('.'),
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

/** The error answers routes give, as the OpenAPI document describes them (src/api/openapi.ts). */
export const ERROR_ANSWERS = {
  400: 'Bad input: `details` names each wrong field (body.*, query.*, params.*)',
  401: 'Missing or unknown key',
  403: "A customer key used on the other environment's routes",
  404: 'Unknown, or belongs to another customer',
  409: 'Already exists',
  410: 'A portal link used already, or a portal session expired or revoked',
  413: 'Body larger than MAX_BODY_BYTES',
  415: 'The body is not application/json',
  422: 'Past a limit (the event-type catalog is full)',
} as const;
export type ErrorStatus = keyof typeof ERROR_ANSWERS;

const CLIENT_ERRORS: Record<string, { code: string; message: string }> = {
  'entity.too.large': { code: 'payload_too_large', message: 'request body is too large' },
  'entity.parse.failed': { code: 'invalid_json', message: 'request body is not valid JSON' },
  'encoding.unsupported': { code: 'unsupported_encoding', message: 'the content-encoding is not supported' },
  'charset.unsupported': { code: 'unsupported_charset', message: 'the body must be UTF-8 JSON' },
  'request.aborted': { code: 'request_aborted', message: 'the request body ended early' },
  'request.size.invalid': { code: 'invalid_length', message: 'the body does not match its content-length' },
};

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  const answer = err instanceof AppError ? err : temporalErrorAnswer(err);
  if (answer) {
    if (answer.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(answer.retryAfterSeconds));
    const { code, message, details } = answer;
    res.status(answer.httpStatus).json({ error: { code, message, details: details ?? [] } });
    return;
  }
  // body-parser's and the router's errors (a bad encoding, charset or percent-escape, a body too large or cut off)
  // carry a 4xx status: they are the caller's, answered in the contract's shape.
  const status =
    (err as { status?: number; statusCode?: number }).status ?? (err as { statusCode?: number }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const type = (err as { type?: string }).type;
    const { code, message } = CLIENT_ERRORS[type ?? ''] ?? {
      code: err instanceof URIError ? 'invalid_path' : 'bad_request',
      message: err instanceof URIError ? 'the path has a malformed percent-escape' : 'the request is malformed',
    };
    res.status(status).json({ error: { code, message, details: [{ path: type ?? 'request', message, code }] } });
    return;
  }
  logger.error({ err, method: req.method, path: req.path }, 'request failed');
  res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
};
