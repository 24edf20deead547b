// The example request of every operation, for docs/api.md ("Example request") and openapi.json
// (each parameter's `example`, the body's `example`, an `x-codeSamples` curl line): method, a concrete
// URL with path and query values, and the JSON body where there is one. Built from the route's schemas
// (src/shared/schemas/example.ts) in the context of the route's collection, so `GET
// /counties/511425/townships/:id` names the seeded 青城镇. test/http/example-requests.test.ts sends
// every one of them to the server, which must not refuse its form.
import type { RouteDef } from './route.js';
import type { JsonSchema } from '../shared/schemas/builders.js';
import { exampleFor, resourceOfPath, type ExampleContext } from '../shared/schemas/example.js';

export interface ExampleRequest {
  method: string;
  /** The concrete path, parameters filled in. */
  path: string;
  /** Query values as sent (strings). */
  query: Record<string, string>;
  /** Path and query together: `/api/v1/counties/511425/townships?limit=50&active=true`. */
  url: string;
  body?: unknown;
}

/** Query parameters a first request leaves out: where to read on from is an answer's, not a guess. */
const READ_ON = new Set(['cursor', 'after']);

export function contextOf(r: RouteDef): ExampleContext {
  const q = (r.query?.properties ?? {}) as Record<string, JsonSchema>;
  const cursor = q.cursor ?? q.after;
  return { resource: resourceOfPath(r.path), ...(cursor ? { cursor } : {}) };
}

/** The example value of one path or query parameter (OpenAPI `example` on the parameter object). */
export function parameterExample(r: RouteDef, where: 'path' | 'query', name: string): unknown {
  const schema = ((where === 'path' ? r.params : r.query)?.properties as Record<string, JsonSchema> | undefined)?.[name];
  return exampleFor(schema, name, 1, contextOf(r));
}

/** The example body: the route's own bodyExample (a request that makes sense end to end), else one built from the schema. */
export function bodyExample(r: RouteDef): unknown {
  const schema = r.documentedBody ?? r.body;
  if (!schema) return undefined;
  return r.bodyExample ?? exampleFor(schema, undefined, 0, contextOf(r));
}

const asParam = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

export function exampleRequest(r: RouteDef): ExampleRequest {
  const ctx = contextOf(r);
  const params = (r.params ? exampleFor(r.params, undefined, 0, ctx) : {}) as Record<string, unknown>;
  const path = r.path.replace(/:([A-Za-z]+)/g, (_, k: string) => encodeURIComponent(asParam(params[k] ?? parameterExample(r, 'path', k))));
  const query: Record<string, string> = {};
  if (r.query) {
    const props = (r.query.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((r.query.required as string[] | undefined) ?? []);
    // What the schema's own example names (required fields, the first of alternatives, fields with
    // examples), and the page size and active filter of a list; never a cursor of a later page.
    const built = exampleFor(r.query, undefined, 0, ctx) as Record<string, unknown>;
    for (const k of ['limit', 'active']) if (props[k] && !(k in built)) built[k] = parameterExample(r, 'query', k);
    for (const k of Object.keys(props)) {
      if (!(k in built) || (READ_ON.has(k) && !required.has(k))) continue;
      query[k] = asParam(built[k]);
    }
  }
  const qs = new URLSearchParams(query).toString();
  const body = bodyExample(r);
  return { method: r.method.toUpperCase(), path, query, url: qs ? `${path}?${qs}` : path, ...(body !== undefined ? { body } : {}) };
}

/** A curl line for the example request (OpenAPI `x-codeSamples`, shown by Redoc). */
export function curlOf(r: RouteDef, base = 'http://127.0.0.1:3000'): string {
  const ex = exampleRequest(r);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const parts = [`curl -X ${ex.method} ${q(base + ex.url)}`];
  if (r.auth !== 'public') parts.push('-H "Authorization: Bearer $TOKEN"');
  if (ex.body !== undefined) parts.push(`-H 'Content-Type: application/json' -d ${q(JSON.stringify(ex.body))}`);
  return parts.join(' \\\n  ');
}
