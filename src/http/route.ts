// A route is data: method, path, who may call it, what it accepts, what it answers. The router mounts
// these, the OpenAPI document is generated from them, and the authorisation-matrix test walks them.
import type { Request, Response } from 'express';
import type { Permission, Principal, Target } from '../auth/permissions.js';
import type { JsonSchema } from '../shared/schemas/builders.js';
import type { AppDeps } from '../app-deps.js';
import type { Logger } from '../logger.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface HandlerContext<P = Record<string, string>, Q = Record<string, unknown>, B = unknown> {
  params: P;
  query: Q;
  body: B;
  /** Null only on public routes. */
  principal: Principal;
  deps: AppDeps;
  log: Logger;
  req: Request;
  res: Response;
  requestId: string;
}

export interface HandlerResult {
  status?: number;
  body?: unknown;
  /** For exports: a string body sent with this content type. */
  contentType?: string;
  headers?: Record<string, string>;
}

export interface RouteAuth {
  permission: Permission;
  /**
   * The county/shop/hauler/facility the request touches. Default: taken from the path parameters
   * `countyId`, `shopId`, `haulerId`, `facilityId`. Runs after the body is validated.
   */
  target?: (ctx: HandlerContext<any, any, any>) => Target | Promise<Target>;
}

export interface RouteDef {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  description?: string;
  /** 'public' routes need no token (login, enrolment, health). */
  auth: 'public' | 'authenticated' | RouteAuth;
  params?: JsonSchema;
  query?: JsonSchema;
  body?: JsonSchema;
  /**
   * What the document shows for the body when it says more than validation of the request as a whole
   * may refuse (the sync batch: each record's payload is typed by its kind, but a bad payload is that
   * record's `refused` answer, not a 400). Default: `body`.
   */
  documentedBody?: JsonSchema;
  /** The request example OpenAPI shows; default: one made from the body schema (src/shared/schemas/example.ts). */
  bodyExample?: unknown;
  /**
   * Every status the route itself answers, with the body's schema (JSON unless contentType says
   * otherwise). `alternatives` are other content types of the same status (a CSV or HTML form chosen
   * by a query parameter). The common errors (400, 401, 403, 413, 415, 500, 503) are added by
   * src/http/openapi.ts; the suite fails on any response that the document does not describe.
   */
  responses: Record<number, { description: string; schema?: JsonSchema; contentType?: string; alternatives?: Array<{ contentType: string; schema?: JsonSchema }> }>;
  /**
   * For routes whose scope comes from the body or query (auth with a `target`): a minimal request
   * that passes validation and names this county and shop. The authorisation-matrix test sends it for
   * the caller's own shop and county (must be let through) and for another county's or shop's (must be
   * 403 OUT_OF_SCOPE). Give fresh client ids on every call.
   */
  scopeExample?: (fx: { countyId: string; shopId: string }) => { body?: unknown; query?: Record<string, string> };
  /**
   * A deprecated alias (src/http/county-paths.ts): `deprecated: true` in the OpenAPI document, and
   * every answer carries Deprecation, Sunset and a Link to the successor path.
   */
  deprecated?: { successor: string; since: string; sunset: string };
  handler: (ctx: HandlerContext<any, any, any>) => Promise<HandlerResult>;
}

export function route(def: RouteDef): RouteDef {
  return def;
}
