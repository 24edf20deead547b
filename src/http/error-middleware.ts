// Turns anything thrown into the one error body. Known database errors become their stable codes;
// everything else is logged in full and answered with INTERNAL, never a stack trace or SQL.
import type { Request, Response, NextFunction } from 'express';
import type { Logger } from '../logger.js';
import { AppError, errorBody } from './errors.js';

interface PgLikeError {
  code?: string;
  constraint?: string;
  detail?: string;
  hint?: string;
  message?: string;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', '57P01', '57P03', '08006', '08001', '08003']);

export function toAppError(err: unknown): AppError | null {
  if (err instanceof AppError) return err;
  const e = err as PgLikeError & { type?: string; status?: number };
  if (e && typeof e === 'object') {
    // body-parser
    if (e.type === 'entity.parse.failed') return new AppError('MALFORMED_JSON');
    if (e.type === 'entity.too.large') return new AppError('BODY_TOO_LARGE');
    if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') return new AppError('UNSUPPORTED_MEDIA_TYPE');
    if (e.code === '23505') return new AppError('DUPLICATE', undefined, e.constraint ? [{ code: 'unique', message: `already exists (${e.constraint})`, constraint: e.constraint }] : []);
    if (e.code === '23503') return new AppError('REFERENCE_NOT_FOUND', undefined, e.constraint ? [{ code: 'foreign_key', message: `refers to a record that does not exist (${e.constraint})`, constraint: e.constraint }] : []);
    if (e.code === '23514') return new AppError('VALIDATION_FAILED', undefined, [{ code: 'check', message: `breaks the rule ${e.constraint ?? ''}`.trim(), constraint: e.constraint }]);
    if (e.code === '22P02' || e.code === '22007' || e.code === '22008') return new AppError('VALIDATION_FAILED', undefined, [{ code: 'format', message: 'a value has the wrong format' }]);
    if (e.code && CONNECTION_CODES.has(e.code)) return new AppError('DATABASE_UNAVAILABLE');
    if (typeof e.message === 'string' && /Knex: Timeout acquiring a connection|Connection terminated/.test(e.message)) return new AppError('DATABASE_UNAVAILABLE');
  }
  return null;
}

export function errorMiddleware(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const requestId = res.locals.requestId as string | undefined;
    const known = toAppError(err);
    if (known) {
      if (known.status >= 500) logger.error({ requestId, err, route: req.route?.path }, 'request failed');
      if (!res.headersSent) res.status(known.status).json(errorBody(known.code, known.message, known.details));
      return;
    }
    logger.error({ requestId, err, route: req.route?.path, method: req.method }, 'unhandled error');
    if (!res.headersSent) res.status(500).json(errorBody('INTERNAL', undefined, requestId ? [{ code: 'request_id', message: `quote request id ${requestId}`, requestId }] : []));
  };
}
