// A hook that sees every response the app sends: method, matched route, status, content type and the
// body as sent (before compression). Nothing is installed in production; the test suite installs one
// that checks each response against the OpenAPI document (test/support/contract-check.ts).
import type { Request, Response, NextFunction } from 'express';

export interface ObservedResponse {
  method: string;
  /** The path the request was sent to (no query string). */
  path: string;
  /** The express route template that answered (e.g. /api/v1/counties/:countyId), or null if none matched. */
  routePath: string | null;
  status: number;
  contentType: string | undefined;
  /** The bytes sent, or null when more than OBSERVE_MAX_BYTES were sent (only the status is then checked). */
  body: Buffer | null;
}

export type ResponseObserver = (r: ObservedResponse) => void;

const OBSERVE_MAX_BYTES = 8 * 1024 * 1024;
let observer: ResponseObserver | null = null;

/** Installs (or, with null, removes) the observer of every app built by createApp in this process. */
export function setResponseObserver(fn: ResponseObserver | null): void {
  observer = fn;
}

/** Mounted after compression, so the chunks it sees are the uncompressed ones. */
export function responseObserverMiddleware(req: Request, res: Response, next: NextFunction): void {
  const watch = observer;
  if (!watch) return next();
  const chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  const keep = (chunk: unknown, encoding?: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function' || overflow) return;
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    size += b.length;
    if (size > OBSERVE_MAX_BYTES) {
      overflow = true;
      chunks.length = 0;
      return;
    }
    chunks.push(b);
  };
  const write = res.write.bind(res) as (...a: unknown[]) => boolean;
  const end = res.end.bind(res) as (...a: unknown[]) => Response;
  (res as unknown as { write: (...a: unknown[]) => boolean }).write = (...a: unknown[]) => {
    keep(a[0], a[1]);
    return write(...a);
  };
  (res as unknown as { end: (...a: unknown[]) => Response }).end = (...a: unknown[]) => {
    keep(a[0], a[1]);
    return end(...a);
  };
  res.on('finish', () => {
    const route = (req as Request & { route?: { path?: unknown } }).route;
    watch({
      method: req.method,
      path: req.path,
      routePath: route && typeof route.path === 'string' ? route.path : null,
      status: res.statusCode,
      contentType: res.getHeader('content-type') as string | undefined,
      body: overflow ? null : Buffer.concat(chunks),
    });
  });
  next();
}
