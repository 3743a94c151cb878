import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z, type ZodType } from 'zod';
import { AppError } from './errors';

interface Schemas {
  params?: ZodType;
  query?: ZodType;
  body?: ZodType;
}

export type Parsed<S extends { [K in keyof Schemas]?: ZodType | undefined }> = {
  [K in keyof Schemas]-?: S[K] extends ZodType ? z.infer<S[K]> : undefined;
};

const hasBody = (req: Request) =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/** Validates params, query and body with zod (400 naming the wrong field) before the handler sees them. */
export function handle<S extends Schemas>(
  schemas: S,
  handler: (input: Parsed<S>, req: Request, res: Response) => Promise<void>,
): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      // A body that is not JSON would reach the schema as nothing at all: a resend of everything, say. Refused.
      if (schemas.body && hasBody(req) && !req.is('application/json')) {
        throw new AppError('unsupported_media_type', 'the request body must be application/json', 415, [
          { path: 'headers.content-type', message: 'must be application/json', code: 'custom' },
        ]);
      }
      const input: Record<string, unknown> = {};
      for (const part of ['params', 'query', 'body'] as const) {
        const schema = schemas[part];
        if (!schema) continue;
        // No body at all is an empty object (`POST /pending/resend` without one resends everything); a JSON `null`
        // or array is a body, and the schema refuses it.
        const value = part === 'body' && !hasBody(req) ? {} : (req[part] ?? {});
        const result = schema.safeParse(value);
        if (!result.success) throw AppError.validation(result.error, part);
        input[part] = result.data;
      }
      await handler(input as Parsed<S>, req, res);
    } catch (err) {
      next(err);
    }
  };
}
