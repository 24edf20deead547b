// Turns anything thrown into the one error body. Known database errors become their stable codes;
// everything else is logged in full and answered with INTERNAL, never a stack trace or SQL.
// Hostile or broken input (bad percent-escapes, corrupt compressed bodies, values the database
// refuses) is the client's fault: a 4xx with a stable code, logged at most at warn and without a
// stack, so nobody can flood the error log by sending bytes.
import type { Request, Response, NextFunction } from 'express';
import { scrubPhones, type Logger } from '../logger.js';
import { AppError, errorBody, type ErrorDetail } from './errors.js';

interface PgLikeError {
  code?: string;
  constraint?: string;
  detail?: string;
  hint?: string;
  message?: string;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', '57P01', '57P03', '08006', '08001', '08003']);

/** Column names whose request field is not simply their camelCase. */
const COLUMN_FIELDS: Record<string, string> = { phone_e164: 'phone', refresh_token_hash: 'refreshToken' };

const camel = (column: string): string => COLUMN_FIELDS[column] ?? column.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/**
 * The request fields behind a unique or foreign key, from PostgreSQL's detail
 * ("Key (county_id, licence_no)=(…) already exists."): never the constraint's name, never the values
 * (they may be a phone number). The county is the path's, so it is left out.
 */
export function keyFields(detail: string | undefined, req?: Request): Array<ErrorDetail & { name: string }> {
  const m = detail ? /^Key \(([^)]*)\)/.exec(detail) : null;
  if (!m) return [];
  const columns = (m[1] as string).split(',').map((c) => c.trim().replace(/^"|"$/g, '')).filter((c) => c && c !== 'county_id' && /^[a-z0-9_]+$/.test(c));
  const body = (req?.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
  const params = (req?.params ?? {}) as Record<string, unknown>;
  return columns.map((c) => {
    const name = camel(c);
    const field = name in body ? `/body/${name}` : name in params ? `/params/${name}` : undefined;
    return { ...(field ? { field } : {}), name, code: '', message: '' } as ErrorDetail & { name: string };
  });
}

/** Whether an error came from reading the request body (body-parser / raw-body / zlib). */
function bodyReadError(e: { type?: string; status?: number; code?: string; name?: string }): AppError | null {
  if (e.type === 'entity.parse.failed') return new AppError('MALFORMED_JSON');
  if (e.type === 'entity.too.large') return new AppError('BODY_TOO_LARGE');
  if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') return new AppError('UNSUPPORTED_MEDIA_TYPE');
  if (e.type === 'request.aborted' || e.type === 'request.size.invalid' || e.type === 'stream.encoding.set' || e.type === 'stream.not.readable') return new AppError('BODY_UNREADABLE');
  // A corrupt gzip/deflate/br body: zlib's error wrapped by body-parser with status 400.
  if (typeof e.code === 'string' && /^(Z_|ERR_ZLIB|ERR__?BROTLI)/.test(e.code)) return new AppError('BODY_UNREADABLE');
  return null;
}

export function toAppError(err: unknown, req?: Request): AppError | null {
  if (err instanceof AppError) return err;
  const e = err as PgLikeError & { type?: string; status?: number; statusCode?: number; name?: string };
  if (e && typeof e === 'object') {
    // The router could not percent-decode a path parameter.
    if (err instanceof URIError || (e.name === 'URIError' && e.status === 400)) return new AppError('MALFORMED_PATH');
    const body = bodyReadError(e);
    if (body) return body;
    if (e.code === '23505') {
      const fields = keyFields(e.detail, req);
      const names = fields.map((f) => f.name);
      return new AppError('DUPLICATE', names.length ? `A record with the same ${names.join(' and ')} already exists` : undefined,
        fields.map((f) => ({ ...(f.field ? { field: f.field } : {}), name: f.name, code: 'unique', message: `${f.name}: a record with this value already exists` })));
    }
    if (e.code === '23503') {
      const fields = keyFields(e.detail, req);
      return new AppError('REFERENCE_NOT_FOUND', undefined,
        fields.map((f) => ({ ...(f.field ? { field: f.field } : {}), name: f.name, code: 'foreign_key', message: `${f.name}: refers to a record that does not exist` })));
    }
    if (e.code === '23514') return new AppError('VALIDATION_FAILED', undefined, [{ code: 'check', message: 'a value breaks a rule of the record' }]);
    // Class 22 (data exception: a value the database cannot store — too long, out of range, bad
    // format, a character it refuses) and 54000 (too large for an index): the input's fault.
    if (typeof e.code === 'string' && (/^22[0-9A-Z]{3}$/.test(e.code) || e.code === '54000')) {
      return new AppError('VALIDATION_FAILED', undefined, [{ code: 'format', message: 'a value has the wrong format or is too large' }]);
    }
    if (e.code && CONNECTION_CODES.has(e.code)) return new AppError('DATABASE_UNAVAILABLE');
    if (typeof e.message === 'string' && /Knex: Timeout acquiring a connection|Connection terminated/.test(e.message)) return new AppError('DATABASE_UNAVAILABLE');
    // Any other client error express or its body reader raised on purpose (http-errors with a 4xx status).
    const status = e.status ?? e.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      if (status === 413) return new AppError('BODY_TOO_LARGE');
      if (status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE');
      return new AppError('BODY_UNREADABLE');
    }
  }
  return null;
}

export function errorMiddleware(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const requestId = res.locals.requestId as string | undefined;
    const known = toAppError(err, req);
    if (known) {
      // SERVER_BUSY is a login queue that is full, already logged at warn by the login.
      if (known.status >= 500 && known.code !== 'SERVER_BUSY') {
        logger.error({ requestId, err, route: req.route?.path }, 'request failed');
      } else if (!(err instanceof AppError)) {
        // Mapped from a library or database error: worth a line for the operator, never a stack.
        const e = err as { code?: unknown; type?: unknown; message?: unknown };
        logger.warn({ requestId, route: req.route?.path ?? 'unmatched', method: req.method, code: known.code, cause: { code: e.code, type: e.type, message: typeof e.message === 'string' ? scrubPhones(e.message.slice(0, 200)) : undefined } }, 'request refused');
      }
      if (!res.headersSent) {
        for (const [name, value] of Object.entries(known.headers)) res.setHeader(name, value);
        res.status(known.status).json(errorBody(known.code, known.message, known.details));
      }
      return;
    }
    logger.error({ requestId, err, route: req.route?.path, method: req.method }, 'unhandled error');
    if (!res.headersSent) res.status(500).json(errorBody('INTERNAL', undefined, requestId ? [{ code: 'request_id', message: `quote request id ${requestId}`, requestId }] : []));
  };
}
