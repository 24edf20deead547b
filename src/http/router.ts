// Mounts route definitions on express: authenticate → permission → scope from the path → validate
// path and query → validate body → scope from the body → handler. Errors leave as the catalogue's JSON.
import express, { type Request, type Response, type NextFunction } from 'express';
import { randomUUID } from 'node:crypto';
import type { AppDeps } from '../app-deps.js';
import { authenticateRequest } from '../auth/authenticate-request.js';
import { can, inScope, type Principal, type Target } from '../auth/permissions.js';
import { AppError } from './errors.js';
import type { HandlerContext, RouteDef } from './route.js';
import { validate } from './validation.js';
import { deprecationHeaders } from './county-paths.js';

export const asyncHandler =
  (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch(next);
  };

function pathTarget(params: Record<string, unknown>): Target {
  const t: Target = {};
  if (typeof params.countyId === 'string') t.countyId = params.countyId;
  if (typeof params.shopId === 'string') t.shopId = params.shopId;
  if (typeof params.haulerId === 'string') t.haulerId = params.haulerId;
  if (typeof params.facilityId === 'string') t.facilityId = params.facilityId;
  return t;
}

const NO_PARAMS = { type: 'object' } as const;
// One object, so its validator is compiled once (a literal here was compiled again on every request).
const NO_QUERY = { type: 'object', additionalProperties: false } as const;

export function mountRoutes(router: express.Router, routes: RouteDef[], deps: AppDeps): void {
  for (const def of routes) {
    router[def.method](
      def.path,
      asyncHandler(async (req, res) => {
        const requestId = res.locals.requestId as string;
        if (def.deprecated) for (const [k, v] of Object.entries(deprecationHeaders(def.deprecated, req.params))) res.setHeader(k, v);
        let principal: Principal | null = null;
        if (def.auth !== 'public') {
          principal = await authenticateRequest(deps, req);
          if (def.auth !== 'authenticated' && !can(principal, def.auth.permission)) {
            throw new AppError('FORBIDDEN', `Your role (${principal.role}) may not do this: it needs ${def.auth.permission}`);
          }
          res.locals.actor = principal.kind === 'user' ? principal.userId : principal.terminalId;
          // The successor link of a deprecated top-level alias names the caller's own county.
          if (def.deprecated && principal.countyId) res.setHeader('Link', deprecationHeaders(def.deprecated, { countyId: principal.countyId, ...req.params }).Link as string);
        }
        const params = { ...req.params } as Record<string, unknown>;
        // Scope from the path first: another county's request is refused before anything else about
        // it is looked at, so a caller learns nothing about records outside their scope.
        if (principal && def.auth !== 'public' && def.auth !== 'authenticated') {
          const raw = pathTarget(params);
          if (raw.countyId !== undefined && !/^[1-8]\d{5}$/.test(raw.countyId)) delete raw.countyId;
          // A route with a body or query target is checked in full after validation; its path's county
          // is checked here already, so another county's caller learns nothing about its records.
          if (!inScope(principal, def.auth.target ? { countyId: raw.countyId } : raw)) throw new AppError('OUT_OF_SCOPE');
        }
        validate('params', def.params ?? NO_PARAMS, params);
        const query = { ...(req.query as Record<string, unknown>) };
        validate('query', def.query ?? NO_QUERY, query);

        let body: unknown = undefined;
        if (def.body) {
          const hasBody = req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0' || req.headers['transfer-encoding'] !== undefined;
          if (hasBody && !req.is('application/json')) throw new AppError('UNSUPPORTED_MEDIA_TYPE');
          body = req.body;
          validate('body', def.body, body);
        }

        const ctx: HandlerContext = {
          params: params as Record<string, string>,
          query,
          body,
          principal: principal as Principal,
          deps,
          log: deps.logger.child({ requestId }),
          req,
          res,
          requestId,
        };
        if (principal && def.auth !== 'public' && def.auth !== 'authenticated' && def.auth.target) {
          const target = await def.auth.target(ctx);
          if (!inScope(principal, { ...pathTarget(params), ...target })) throw new AppError('OUT_OF_SCOPE');
        }
        const result = await def.handler(ctx);
        if (result.headers) for (const [k, v] of Object.entries(result.headers)) res.setHeader(k, v);
        res.status(result.status ?? 200);
        if (result.contentType) {
          res.type(result.contentType).send(result.body);
        } else if (result.body === undefined) {
          res.end();
        } else {
          res.json(result.body);
        }
      }),
    );
  }
}

/**
 * A known path asked with a method it does not take: 405 METHOD_NOT_ALLOWED with an Allow header
 * (not 404, which would say the path does not exist). Mount after mountRoutes.
 */
export function mountMethodNotAllowed(router: express.Router, routes: RouteDef[]): void {
  const byPath = new Map<string, Set<string>>();
  for (const r of routes) byPath.set(r.path, (byPath.get(r.path) ?? new Set()).add(r.method.toUpperCase()));
  for (const [path, methods] of byPath) {
    if (methods.has('GET')) methods.add('HEAD');
    const allow = [...methods].sort().join(', ');
    router.all(path, (_req, res, next) => {
      res.setHeader('Allow', allow);
      next(new AppError('METHOD_NOT_ALLOWED', `This endpoint takes ${allow}`));
    });
  }
}

export function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && /^[A-Za-z0-9._-]{8,64}$/.test(given) ? given : randomUUID();
  res.locals.requestId = id;
  res.setHeader('X-Request-Id', id);
  next();
}
