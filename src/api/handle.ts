import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z, type ZodType } from 'zod';
import { AppError } from './errors';

interface Schemas {
  params?: ZodType;
  query?: ZodType;
  body?: ZodType;
}

type Parsed<S extends Schemas> = {
  [K in keyof Schemas]-?: S[K] extends ZodType ? z.infer<S[K]> : undefined;
};

/** Validates params, query and body with zod (400 naming the wrong field) before the handler sees them. */
export function handle<S extends Schemas>(
  schemas: S,
  handler: (input: Parsed<S>, req: Request, res: Response) => Promise<void>,
): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const input: Record<string, unknown> = {};
      for (const where of ['params', 'query', 'body'] as const) {
        const schema = schemas[where];
        if (!schema) continue;
        const result = schema.safeParse(req[where] ?? {});
        if (!result.success) throw AppError.validation(result.error, where);
        input[where] = result.data;
      }
      await handler(input as Parsed<S>, req, res);
    } catch (err) {
      next(err);
    }
  };
}
