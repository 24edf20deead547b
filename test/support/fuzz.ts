// The hostile-request fuzzer: from the OpenAPI document, for every operation, requests with hostile
// paths, queries, headers and bodies, sent as raw bytes with a token whose role may call the operation
// (so validation is reached). Every request is made certainly invalid — it breaks at least one rule
// the server checks before it writes anything (checked here with the server's own validators) — so
// the server must answer 4xx with the catalogue's error shape and change no business table.
// Deterministic per seed (mulberry32); used by test/http/fuzz.test.ts and `npm run fuzz`.
import querystring from 'node:querystring';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import type { Knex } from 'knex';
import jwt from 'jsonwebtoken';
import { mulberry32 } from '../../src/shared/prng.js';
import { buildOpenApi } from '../../src/http/openapi.js';
import { API_VERSION } from '../../src/http/app.js';
import { allRoutes } from '../../src/http/routes.js';
import type { RouteDef } from '../../src/http/route.js';
import { compile, nulDetails } from '../../src/http/validation.js';
import { ERROR_CATALOGUE } from '../../src/http/errors.js';
import { ROLE_PERMISSIONS, type ActorRole } from '../../src/auth/permissions.js';
import { SCHEMA_REFUSAL_CODES, type JsonSchema } from '../../src/shared/schemas/builders.js';
import type { RawRequest, RawResponse, RawServer } from './raw-http.js';

/** A caller the fuzzer may act as: its role, bearer header and the ids of its own scope. */
export interface FuzzActor {
  role: ActorRole;
  authorization: string;
  countyId: string;
  shopId?: string | null;
  haulerId?: string | null;
  facilityId?: string | null;
}

export interface Operation {
  method: string;
  /** OpenAPI path, e.g. /api/v1/counties/{countyId}/shops */
  path: string;
  route: RouteDef;
  permission: string | null;
  isPublic: boolean;
}

/** Every operation of the OpenAPI document, joined to its route definition (whose schemas ajv uses). */
export function operationsFromOpenApi(routes: RouteDef[] = allRoutes()): Operation[] {
  const doc = buildOpenApi(routes, API_VERSION) as { paths: Record<string, Record<string, { security?: unknown[]; 'x-permission'?: string }>> };
  const ops: Operation[] = [];
  for (const [p, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const express = p.replace(/\{([A-Za-z]+)\}/g, ':$1');
      const route = routes.find((r) => r.method === method && r.path === express);
      if (!route) throw new Error(`OpenAPI operation ${method} ${p} has no route`);
      ops.push({ method, path: p, route, permission: op['x-permission'] ?? null, isPublic: Array.isArray(op.security) && op.security.length === 0 });
    }
  }
  return ops;
}

export interface FuzzCase {
  op: Operation;
  kind: string;
  req: RawRequest;
}

export interface FuzzFailure {
  kind: string;
  operation: string;
  request: string;
  status: number;
  body: string;
  problem: string;
}

export interface FuzzResult {
  seed: number;
  requests: number;
  operations: number;
  byStatus: Record<string, number>;
  byKind: Record<string, number>;
  failures: FuzzFailure[];
}

type Rng = () => number;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
const DEFAULT_QUERY: JsonSchema = { type: 'object', additionalProperties: false };
const NO_PARAMS: JsonSchema = { type: 'object' };

function uuidFrom(rng: Rng): string {
  const h = () => Math.floor(rng() * 16).toString(16);
  const s = (n: number) => Array.from({ length: n }, h).join('');
  return `${s(8)}-${s(4)}-7${s(3)}-8${s(3)}-${s(12)}`;
}

/** A plausible value for a schema (not necessarily valid: patterns are not followed). */
function sample(schema: JsonSchema | undefined, rng: Rng, depth = 0): unknown {
  if (!schema || depth > 6) return 'x';
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  const alt = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (alt?.length) return sample(alt[0], rng, depth + 1);
  const type = Array.isArray(schema.type) ? (schema.type as string[]).find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((schema.required as string[] | undefined) ?? []);
      for (const [k, s] of Object.entries(props)) if (required.has(k) || rng() < 0.5) out[k] = sample(s, rng, depth + 1);
      return out;
    }
    case 'array':
      return Array.from({ length: Math.max(1, Number(schema.minItems ?? 1)) }, () => sample(schema.items as JsonSchema, rng, depth + 1));
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return true;
    case 'string':
      if (schema.format === 'uuid') return uuidFrom(rng);
      if (schema.format === 'date-time') return '2026-03-15T02:00:00.000Z';
      if (schema.format === 'date') return '2026-03-15';
      return 'x'.repeat(Math.max(1, Number(schema.minLength ?? 1)));
    default:
      return 'x';
  }
}

const HOSTILE_STRINGS = [
  'a\u0000b', '\u0000', 'x'.repeat(70_000), '', ' ', '\ud800', '\udfff\ud800', '💩'.repeat(50), "'; DROP TABLE sales; --", '../../etc/passwd',
  '%E0%A4%A', '${jndi:ldap://x}', '<script>alert(1)</script>', '\u202e\u200b', '１２３', '0x1F', '1e309', '-0', 'NaN', 'true', 'null',
];
const HOSTILE_VALUES: unknown[] = [
  null, true, false, 0, -1, 1.5, -2147483649, 2147483648, 9007199254740993, 1e308, -1e308, [], [null], {}, { '': null }, 'a\u0000b', 'x'.repeat(70_000),
];

/** A JSON pointer walk: every path to a value in `v`. */
function paths(v: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function setAt(root: unknown, at: Array<string | number>, value: unknown, remove = false): unknown {
  if (at.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let cur = copy as Record<string | number, unknown>;
  for (const k of at.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  const last = at[at.length - 1] as string | number;
  if (remove && !Array.isArray(cur)) delete cur[last];
  else cur[last] = value;
  return copy;
}

/** Whether the server's own validation refuses this value (what makes a request certainly invalid). */
function refused(where: 'body' | 'query' | 'params', schema: JsonSchema, value: unknown): boolean {
  if (nulDetails(where, value).length > 0) return true;
  // Only coercion (params, query) changes the value; a body is checked as it is (it may be deep).
  const copy = where === 'body' || value === undefined ? value : structuredClone(value);
  return !compile(schema, where !== 'body')(copy);
}

function mutateBody(schema: JsonSchema, rng: Rng): { text: string; label: string } {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = sample(schema, rng);
    const at = pick(rng, paths(base));
    const r = rng();
    let value: unknown;
    let label: string;
    if (r < 0.25) {
      value = setAt(base, at, pick(rng, HOSTILE_VALUES));
      label = 'wrong type or out of range';
    } else if (r < 0.45) {
      value = setAt(base, at, pick(rng, HOSTILE_STRINGS));
      label = 'hostile string';
    } else if (r < 0.55 && at.length > 0) {
      value = setAt(base, at, undefined, true);
      label = 'missing field';
    } else if (r < 0.65) {
      value = setAt(base, [...at.slice(0, -1), pick(rng, ['surprise', 'a\u0000b', 'constructor', '$where'])], 1);
      label = 'extra field';
    } else if (r < 0.72) {
      const depth = 2000 + Math.floor(rng() * 8000);
      const text = JSON.stringify(base).replace(/^\{/, `{"deep":${'['.repeat(depth)}${']'.repeat(depth)},`).replace(/,\}$/, '}');
      if (refused('body', schema, JSON.parse(text))) return { text, label: 'deep nesting' };
      continue;
    } else if (r < 0.78) {
      const text = JSON.stringify(base).replace(/^\{/, '{"__proto__":{"admin":true},').replace(/,\}$/, '}');
      if (refused('body', schema, JSON.parse(text))) return { text, label: '__proto__ key' };
      continue;
    } else {
      value = pick(rng, [[], [base], 'text', 42, { ...((base && typeof base === 'object') ? base : {}), id: { $gt: '' } }]);
      label = 'wrong shape';
    }
    if (value !== undefined && refused('body', schema, value)) return { text: JSON.stringify(value), label };
  }
  return { text: JSON.stringify({ 'a\u0000b': 1 }), label: 'NUL field name' };
}

const RAW_BODIES: Array<{ body: Buffer | string; label: string }> = [
  { body: 'not json', label: 'not JSON' },
  { body: '{"a":', label: 'truncated JSON' },
  { body: '{"a":1}}', label: 'trailing bytes' },
  { body: Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]), label: 'invalid UTF-8' },
  { body: '{"a":NaN}', label: 'NaN literal' },
  { body: "{'a':1}", label: 'single quotes' },
  { body: '"just a string"', label: 'top-level string (strict JSON)' },
  { body: '123', label: 'top-level number' },
  { body: `{"a":"${'\\u0000'.repeat(3)}"}`, label: 'escaped NUL' },
];

const BAD_SEGMENTS = ['%E0%A4%A', '%ZZ', '%', '%00', 'a%00b', '%C0%AF', '%ED%A0%80', 'x'.repeat(3000), '..', '%2e%2e', 'a%2Fb', '-1', '0', '1e3', 'null', '__proto__', 'constructor', '%27%3B%20DROP%20TABLE%20sales', '%F0%9F%92%A9', '99999999999999999999'];
const BAD_QUERY_VALUES = ['%E0%A4%A', '%00', 'a%00b', 'x'.repeat(4000), '-1', '1e400', 'abc', '%FF%FE', '[]', '{}', ''];

const badAuthCache = new Map<string, string[]>();

export function badAuthorizations(valid: string, secret: string): string[] {
  const cached = badAuthCache.get(`${secret} ${valid}`);
  if (cached) return cached;
  const token = valid.replace(/^Bearer /, '');
  // A terminal's credential is no JWT: forge around a user's claims shape then.
  const claims = (jwt.decode(token) as Record<string, unknown> | null) ?? { sid: '00000000-0000-7000-8000-000000000000', role: 'admin', sub: '00000000-0000-7000-8000-000000000001', iss: 'agrireturn', aud: 'agrireturn-api', iat: 1, exp: 4102444800 };
  const { exp: _exp, ...noExp } = claims;
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const list = [
    'Bearer', 'Bearer ', 'Basic YWRtaW46YWRtaW4=', 'Token abc', `Bearer ${token.slice(0, -2)}xx`, `Bearer ${token}.extra`,
    `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, `Bearer ${jwt.sign(noExp, secret, { algorithm: 'HS256' })}`,
    `Bearer ${jwt.sign(claims, secret, { algorithm: 'HS512' })}`, `Bearer ${jwt.sign({ ...claims, exp: 1 }, secret, { algorithm: 'HS256' })}`,
    'Bearer agt_511425_------------------------------------.AAAAAAAAAAAAAAAAAAAAAAAA', 'Bearer agt_511425_00000000-0000-7000-8000-000000000000.AAAAAAAAAAAAAAAAAAAAAAAA',
    'Bearer agt_', 'Bearer agt_999999_x.y', `Bearer ${'a'.repeat(6000)}`, 'Bearer a b c', `Bearer ${Buffer.from('\u00e9\u00e8').toString('latin1')}`,
  ];
  badAuthCache.set(`${secret} ${valid}`, list);
  return list;
}

function pathWith(op: Operation, values: Record<string, string>): string {
  return op.path.replace(/\{([A-Za-z]+)\}/g, (_m, name: string) => values[name] ?? '');
}

function validPathValues(op: Operation, actor: FuzzActor | null, rng: Rng): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [, name] of op.path.matchAll(/\{([A-Za-z]+)\}/g)) {
    const n = name as string;
    if (n === 'countyId') out[n] = actor?.countyId ?? '511425';
    else if (n === 'shopId' && actor?.shopId) out[n] = actor.shopId;
    else if (n === 'haulerId' && actor?.haulerId) out[n] = actor.haulerId;
    else if (n === 'facilityId' && actor?.facilityId) out[n] = actor.facilityId;
    else {
      const s = ((op.route.params?.properties ?? {}) as Record<string, JsonSchema>)[n];
      const v = sample(s, rng);
      out[n] = encodeURIComponent(typeof v === 'string' && v !== 'x' ? v : uuidFrom(rng));
    }
  }
  return out;
}

/** The actors whose role may call the operation and, for path-scoped routes, reach its validation. */
export function actorsFor(op: Operation, actors: FuzzActor[]): FuzzActor[] {
  if (op.isPublic) return [];
  if (!op.permission) return actors;
  const may = actors.filter((a) => ROLE_PERMISSIONS[a.role].has(op.permission as never));
  // A path naming a shop, hauler or facility is reached by the actor that is that party (or an admin).
  return may.filter((a) => {
    if (op.path.includes('{shopId}') && (a.role === 'clerk' || a.role === 'terminal') && !a.shopId) return false;
    if (op.path.includes('{haulerId}') && a.role === 'hauler' && !a.haulerId) return false;
    if (op.path.includes('{facilityId}') && a.role === 'facility_operator' && !a.facilityId) return false;
    return true;
  });
}

/** One certainly-invalid request for the operation. */
export function generateCase(op: Operation, actors: FuzzActor[], rng: Rng, secret: string): FuzzCase {
  const may = actorsFor(op, actors);
  const actor = may.length ? pick(rng, may) : null;
  const auth: Record<string, string> = actor ? { authorization: actor.authorization } : {};
  const pathValues = validPathValues(op, actor, rng);
  const paramsSchema = op.route.params ?? NO_PARAMS;
  const querySchema = op.route.query ?? DEFAULT_QUERY;
  const method = op.method.toUpperCase();
  const baseBody = op.route.body ? JSON.stringify(sample(op.route.body, rng)) : undefined;
  const json = { 'content-type': 'application/json' };

  const kinds: string[] = ['query', 'encoding'];
  if (Object.keys(pathValues).length) kinds.push('path', 'path');
  if (op.route.body) kinds.push('body', 'body', 'body', 'rawbody', 'content-type');
  if (!op.isPublic && actor) kinds.push('auth');
  const kind = pick(rng, kinds);

  switch (kind) {
    case 'path': {
      const names = Object.keys(pathValues);
      for (let attempt = 0; attempt < 30; attempt++) {
        const name = pick(rng, names);
        const seg = pick(rng, BAD_SEGMENTS);
        let decoded: string | null;
        try {
          decoded = decodeURIComponent(seg);
        } catch {
          decoded = null; // the router cannot decode it: 400 MALFORMED_PATH
        }
        const values = { ...pathValues, [name]: seg };
        if (decoded !== null) {
          const params: Record<string, string> = {};
          for (const [k, v] of Object.entries(values)) params[k] = k === name ? decoded : decodeURIComponent(v);
          if (decoded.includes('/') || decoded === '' || !refused('params', paramsSchema, params)) continue;
        }
        return { op, kind: `path ${seg.slice(0, 20)}`, req: { method, path: pathWith(op, values), headers: { ...auth, ...(baseBody ? json : {}) }, body: baseBody } };
      }
      break;
    }
    case 'query': {
      for (let attempt = 0; attempt < 30; attempt++) {
        const props = Object.keys((querySchema.properties ?? {}) as Record<string, unknown>);
        const name = props.length && rng() < 0.7 ? pick(rng, props) : pick(rng, ['surprise', 'a%00b', '__proto__', 'limit', '%E0%A4%A']);
        const parts = [`${name}=${pick(rng, BAD_QUERY_VALUES)}`];
        if (rng() < 0.3) parts.push(`${name}=${pick(rng, BAD_QUERY_VALUES)}`);
        const qs = parts.join('&');
        if (!refused('query', querySchema, { ...querystring.parse(qs) })) continue;
        return { op, kind: 'query', req: { method, path: `${pathWith(op, pathValues)}?${qs}`, headers: { ...auth, ...(baseBody ? json : {}) }, body: baseBody } };
      }
      break;
    }
    case 'body': {
      const { text, label } = mutateBody(op.route.body as JsonSchema, rng);
      return { op, kind: `body: ${label}`, req: { method, path: pathWith(op, pathValues), headers: { ...auth, ...json }, body: text } };
    }
    case 'rawbody': {
      const raw = pick(rng, RAW_BODIES);
      return { op, kind: `raw body: ${raw.label}`, req: { method, path: pathWith(op, pathValues), headers: { ...auth, ...json }, body: raw.body } };
    }
    case 'content-type': {
      const type = pick(rng, ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=utf-7', 'application/json; charset=latin1', 'application/merge-patch+json', 'application/octet-stream']);
      return { op, kind: `content-type ${type}`, req: { method, path: pathWith(op, pathValues), headers: { ...auth, 'content-type': type }, body: baseBody ?? '{}' } };
    }
    case 'auth': {
      const bad = pick(rng, badAuthorizations(actor?.authorization ?? 'Bearer x', secret));
      return { op, kind: 'authorization', req: { method, path: pathWith(op, pathValues), headers: { authorization: bad, ...(baseBody ? json : {}) }, body: baseBody } };
    }
    default:
      break;
  }
  // 'encoding' (and the fallback): a body the server cannot read — corrupt or cut-off compressed data,
  // or an encoding it does not support — on any route, read before anything else.
  const plain = Buffer.from(baseBody ?? '{"a":1}');
  const variants: Array<[string, () => Buffer]> = [
    ['gzip', () => plain], ['deflate', () => plain], ['br', () => brotliCompressSync(plain).subarray(0, 1)], ['gzip', () => gzipSync(plain).subarray(0, 12)],
    ['zstd', () => plain], ['compress', () => plain], ['x-unknown', () => plain], ['gzip, gzip', () => gzipSync(plain)], ['identity, br', () => plain],
  ];
  const [encoding, make] = pick(rng, variants);
  const body = make();
  return { op, kind: `content-encoding ${encoding}`, req: { method, path: pathWith(op, pathValues), headers: { ...auth, ...json, 'content-encoding': encoding }, body } };
}

/**
 * The codes a certainly-invalid request may get: those of reading, authenticating, authorising and
 * validating it, all decided before a handler runs. Any other code (a 409, a 422 of a business rule)
 * means the request got past validation: a gap the fuzzer reports.
 */
export const PRE_HANDLER_CODES = new Set<string>([
  'VALIDATION_FAILED', 'MALFORMED_JSON', 'MALFORMED_PATH', 'BODY_UNREADABLE', 'BODY_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'ROUTE_NOT_FOUND', 'METHOD_NOT_ALLOWED',
  'UNAUTHENTICATED', 'TOKEN_INVALID', 'TOKEN_EXPIRED', 'SESSION_REVOKED', 'ACCOUNT_DISABLED', 'TERMINAL_REVOKED', 'FORBIDDEN', 'OUT_OF_SCOPE',
  // Throttling of bad credentials, where the catalogue has it.
  'RATE_LIMITED',
]);

/** What a response to a certainly-invalid request must look like; null when it does. */
export function judge(res: RawResponse): string | null {
  if (res.status >= 500) return `server error ${res.status}`;
  if (res.status < 400) return `an invalid request was accepted (${res.status})`;
  const body = res.json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined;
  if (!body || typeof body !== 'object' || !body.error) return 'no JSON error body';
  const { code, message, details } = body.error;
  if (typeof code !== 'string' || !Object.prototype.hasOwnProperty.call(ERROR_CATALOGUE, code)) return `code ${String(code)} is not in the catalogue`;
  if (ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE].status !== res.status) return `code ${code} answered with ${res.status}, catalogue says ${ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE].status}`;
  if (typeof message !== 'string' || message === '') return 'no message';
  // A field whose schema carries a stable code (INVALID_PHONE, …) is refused by validation with it.
  if (!PRE_HANDLER_CODES.has(code) && !SCHEMA_REFUSAL_CODES.has(code)) return `got past validation: answered ${code}`;
  if (details !== undefined && !Array.isArray(details)) return 'details is not an array';
  const keys = Object.keys(body.error).filter((k) => !['code', 'message', 'details'].includes(k));
  if (keys.length) return `unexpected error fields ${keys.join(', ')}`;
  return null;
}

/** Row count and checksum of every business table (those carrying county_id). */
export async function snapshotBusinessTables(knex: Knex): Promise<Record<string, string>> {
  const tables = (await knex.raw(`SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
    WHERE c.table_schema = 'public' AND c.column_name = 'county_id' AND t.table_type = 'BASE TABLE' ORDER BY 1`)).rows as Array<{ table_name: string }>;
  const out: Record<string, string> = {};
  for (const { table_name: t } of tables) {
    const r = (await knex.raw(`SELECT count(*)::int AS n, coalesce(md5(string_agg(md5(x::text), '' ORDER BY md5(x::text))), '') AS sum FROM ?? x`, [t])).rows[0] as { n: number; sum: string };
    out[t] = `${r.n} rows, ${r.sum}`;
  }
  return out;
}

export interface FuzzOptions {
  server: RawServer;
  actors: FuzzActor[];
  requests: number;
  seed: number;
  jwtSecret: string;
  routes?: RouteDef[];
  onProgress?: (done: number) => void;
}

/** Sends `requests` hostile requests, round-robin over every operation; judges each answer. */
export async function runFuzz(o: FuzzOptions): Promise<FuzzResult> {
  const rng = mulberry32(o.seed);
  const ops = operationsFromOpenApi(o.routes);
  const result: FuzzResult = { seed: o.seed, requests: 0, operations: ops.length, byStatus: {}, byKind: {}, failures: [] };
  for (let i = 0; i < o.requests; i++) {
    const op = ops[i % ops.length] as Operation;
    const c = generateCase(op, o.actors, rng, o.jwtSecret);
    const res = await o.server.send(c.req);
    result.requests++;
    result.byStatus[res.status] = (result.byStatus[res.status] ?? 0) + 1;
    const kindKey = c.kind.split(/[: ]/)[0] as string;
    result.byKind[kindKey] = (result.byKind[kindKey] ?? 0) + 1;
    const problem = judge(res);
    if (process.env.FUZZ_TRACE && (problem || String(res.status) === process.env.FUZZ_TRACE)) console.log(`  [trace] ${res.status} ${c.kind} ${c.req.method} ${c.req.path.slice(0, 160)} ${typeof c.req.body === 'string' ? c.req.body.slice(0, 300) : ''} → ${res.text.slice(0, 300)}`);
    if (problem && result.failures.length < 50) {
      const shown = typeof c.req.body === 'string' ? c.req.body.slice(0, 200) : c.req.body ? `<${c.req.body.length} bytes>` : '';
      result.failures.push({ kind: c.kind, operation: `${op.method.toUpperCase()} ${op.path}`, request: `${c.req.method} ${c.req.path.slice(0, 200)} ${JSON.stringify({ ...c.req.headers, authorization: c.req.headers?.authorization ? '…' : undefined })} ${shown}`, status: res.status, body: res.text.slice(0, 300), problem });
    }
    if (o.onProgress && (i + 1) % 500 === 0) o.onProgress(i + 1);
  }
  return result;
}
