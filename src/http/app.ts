// Builds the express application: request ids, JSON bodies, the route table, the OpenAPI document,
// JSON 404s and the error middleware. No listening here, so tests drive it through supertest.
import express from 'express';
import compression from 'compression';
import type { AppDeps } from '../app-deps.js';
import { errorMiddleware } from './error-middleware.js';
import { AppError, errorBody } from './errors.js';
import { buildOpenApi } from './openapi.js';
import { mountMethodNotAllowed, mountRoutes, requestIdMiddleware } from './router.js';
import { allRoutes } from './routes.js';
import { responseObserverMiddleware } from './response-observer.js';
import type { RouteDef } from './route.js';
import { STREAMED_BODY_PATH } from '../features/code-registry/registry-routes.js';

export const API_VERSION = '0.1.0';

/** Responses larger than this are compressed when the client accepts it. */
export const COMPRESS_ABOVE_BYTES = 4096;

export function createApp(deps: AppDeps, routes: RouteDef[] = allRoutes()): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  // Behind a reverse proxy the client address (login throttling) comes from X-Forwarded-For.
  app.set('trust proxy', deps.config.trustProxy);
  app.use(requestIdMiddleware);
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      // Route templates only: URLs may carry a phone number in the query string.
      deps.logger.info({
        requestId: res.locals.requestId, method: req.method, route: req.route?.path ?? 'unmatched', status: res.statusCode,
        ms: Number(process.hrtime.bigint() - started) / 1e6, actor: res.locals.actor,
      }, 'request');
    });
    next();
  });
  // Rural links are slow: JSON, CSV and pages over 4 kB go out compressed (assets that are already
  // compressed, such as the dashboard's ECharts, say so and are passed through). Smaller answers —
  // receipts of sales and returns, most API answers — go as they are: a gzip stream per response
  // costs the server more CPU (and memory to collect) than the few hundred bytes it would save.
  app.use(compression({ threshold: COMPRESS_ABOVE_BYTES }));
  // Tests watch every response here (a no-op unless an observer is installed: see response-observer.ts).
  app.use(responseObserverMiddleware);
  // JSON is UTF-8 (RFC 8259). body-parser would also decode UTF-7, UTF-16 and UTF-32 bodies, in which
  // the same text hides behind other bytes (UTF-7's "+ADw-" is "<"): refuse any other charset.
  app.use((req, _res, next) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
      next(new AppError('UNSUPPORTED_MEDIA_TYPE', `The charset "${charset.slice(0, 40)}" is not accepted: send JSON as UTF-8`));
      return;
    }
    next();
  });
  // A code registry import streams its (possibly huge) body itself: the JSON parser leaves it alone.
  const parseJson = express.json({ limit: deps.config.bodyLimitBytes, strict: true, type: ['application/json', 'application/*+json'] });
  app.use((req, res, next) => {
    if (req.method !== 'POST' || !STREAMED_BODY_PATH.test(req.path)) return parseJson(req, res, next);
    const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity') {
      req.resume();
      return next(new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the code list uncompressed (no Content-Encoding)'));
    }
    next();
  });

  const openapi = buildOpenApi(routes, API_VERSION);
  app.get('/api/v1/openapi.json', (_req, res) => {
    res.json(openapi);
  });

  const router = express.Router({ strict: false });
  mountRoutes(router, routes, deps);
  mountMethodNotAllowed(router, routes);
  app.use(router);

  app.use((req, res) => {
    res.status(404).json(errorBody('ROUTE_NOT_FOUND', `No endpoint ${req.method} ${req.path}`));
  });
  app.use(errorMiddleware(deps.logger));
  return app;
}
