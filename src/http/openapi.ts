// Generates the OpenAPI 3.1 document from the route definitions and the very JSON Schemas ajv
// validates with, so the document cannot drift from what the server accepts.
import type { RouteDef } from './route.js';
import { SCHEMA_ERROR_CODES, type JsonSchema } from '../shared/schemas/builders.js';
import { ERROR_CATALOGUE } from './errors.js';
import { PERMISSIONS } from '../auth/permissions.js';
import { bodyExample, curlOf, parameterExample } from './request-examples.js';

/**
 * Every tag a route may carry, with what it groups. A route with a tag not listed here fails the
 * contract test (both linters flag an undefined tag): add the tag and a sentence here.
 */
export const TAG_DESCRIPTIONS: Record<string, string> = {
  health: 'Liveness and readiness of the county server, for load balancers and monitoring.',
  auth: 'Logging in, refreshing and logging out user sessions (JWT access tokens and refresh tokens).',
  terminals: 'POS terminals of shops: enrolment codes, enrolment, the list of a county\'s terminals and revocation.',
  reference: 'Reference data of a county: townships, shops, collection facilities, haulers, container types, products, deposit schedules and farmers; versioned, deactivated rather than deleted, every version kept.',
  users: 'User accounts of a county, their roles and scopes, and sign-in security (failed logins, locks).',
  events: 'The event feed of a county: an append-only, commit-ordered feed of sales, returns, reversals, custody and settlement events with CloudEvents field names, resumable from any cursor, with long poll; scoped by role, manufacturers see only their products (docs/events.md).',
  traceability: 'Following one container (unit code) or a lot from sale to disposal certificate with its custody events and their hash-chain links, the public check page a QR scan opens (no login, no personal data), and the access log of personal-data reads by inspectors and officials (docs/traceability.md).',
  custody: 'Chain of custody of returned containers: bags, manifests, signatures, inspections, corrections, disposal, the hash-chained custody ledger and the mass balance.',
  sales: 'Sales of pesticide with the deposit collected per container (single sales; terminals send batches through sync).',
  returns: 'Returns of empty containers by farmers and the refunds paid for them.',
  sync: 'Offline terminals send batches of sales, returns and reversals; each item is applied exactly once by its client id.',
  ledger: 'The deposit ledger: double-entry balances, the ledger check and the expiry of unredeemed deposits.',
  reversals: 'Reversals of a sale or a return recorded in error, as new ledger entries (nothing is ever deleted).',
  settlements: 'Settlement of shop positions with the scheme: statements per period and recorded payments.',
  balances: 'A farmer\'s deposit balance: what they paid, what was refunded, what is still redeemable.',
  points: 'The points ledger (积分) after earning: redemption for goods at the counter, a farmer\'s points and their expiry (docs/incentives-points.md).',
  'held-refunds': 'Refunds held for review (large or unusual returns): decisions, mobile payment and payouts.',
  'code-registry': 'Registries of the 32-digit unit codes a manufacturer printed, imported per product.',
  reconciliation: 'Reconciliation of the money, unit and custody books of a county per month or year, and closing periods.',
  dashboard: 'The officials\' dashboard: its page and assets, county and province figures, shop tables, maps and recovery rates.',
  incentives: 'Incentives beyond the deposit (paid buy-back and points, docs/incentives.md): the county incentive fund, its allocations and what buy-back paid out of it.',
  sms: 'SMS from farmers through Kannel: inbound messages (balance queries) and delivery reports.',
};

const CURSOR_DESCRIPTION = 'The nextCursor of the previous page, exactly as the server returned it (an opaque value: do not build one). Anything else is refused with 400 VALIDATION_FAILED naming the field /query/cursor.';


const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERROR_CATALOGUE) },
        message: { type: 'string' },
        details: {
          type: 'array',
          items: {
            type: 'object', required: ['code', 'message'], additionalProperties: true,
            properties: { field: { type: 'string', description: 'JSON pointer of the offending input, e.g. /body/lines/0/quantity' }, code: { type: 'string' }, message: { type: 'string' } },
            description: 'One problem; some carry more facts (currentVersion, requestId, …)',
          },
        },
      },
    },
  },
};

/** Headers every answer of a deprecated alias carries (src/http/county-paths.ts). */
const DEPRECATION_HEADERS = {
  Deprecation: { description: 'When this path was deprecated (RFC 9745), e.g. @1795996800', schema: { type: 'string' } },
  Sunset: { description: 'When this path goes away (RFC 8594), an HTTP-date', schema: { type: 'string' } },
  Link: { description: 'The successor path: <…>; rel="successor-version"', schema: { type: 'string' } },
};

export function toOpenApiPath(p: string): string {
  return p.replace(/:([A-Za-z]+)/g, '{$1}');
}

function parametersFrom(r: RouteDef, where: 'path' | 'query') {
  const schema = where === 'path' ? r.params : r.query;
  if (!schema) return [];
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => {
    const description = where === 'query' && name === 'cursor' ? CURSOR_DESCRIPTION : s.description;
    return {
      name, in: where, required: where === 'path' ? true : required.has(name), schema: s,
      ...(typeof description === 'string' ? { description } : {}),
      example: parameterExample(r, where, name),
    };
  });
}

/** The error statuses of the catalogue, each with the codes that answer with it. */
function codesByStatus(): Map<number, string[]> {
  const m = new Map<number, string[]>();
  for (const [code, spec] of Object.entries(ERROR_CATALOGUE)) m.set(spec.status, [...(m.get(spec.status) ?? []), code]);
  return m;
}

/** `Error422` etc.: the error envelope whose code is one of the catalogue's codes of that status. */
export function errorSchemaName(status: number): string {
  return codesByStatus().has(status) ? `Error${status}` : 'Error';
}

function errorSchemasByStatus(used: Set<number>): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const [status, codes] of codesByStatus()) {
    if (!used.has(status)) continue;
    out[`Error${status}`] = {
      description: `The error envelope with a code answered as HTTP ${status}: ${codes.join(', ')}`,
      allOf: [{ $ref: '#/components/schemas/Error' }, { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string', enum: codes } } } } }],
    };
  }
  return out;
}

const codesOf = (status: number): string => (codesByStatus().get(status) ?? []).join(', ');

/**
 * The errors every operation of its kind can answer, whatever it does: a malformed request (path,
 * query or body), no or a bad token, a role or scope that does not fit, a body too large or not JSON,
 * the database out of reach, a fault of the server. Routes declare their own (404, 409, 422…) on top.
 */
export function commonErrors(r: RouteDef): RouteDef['responses'] {
  const out: RouteDef['responses'] = {
    400: { description: `The request is malformed (${codesOf(400)}); details name each field` },
    500: { description: 'INTERNAL: a fault of the server; quote the request id in details' },
  };
  if (r.auth !== 'public') {
    out[429] = { description: 'RATE_LIMITED: too many bad credentials from this address; wait the seconds in Retry-After' };
    out[401] = { description: `No valid credential (${codesOf(401).replace('INVALID_CREDENTIALS, ', '').replace('ENROLMENT_CODE_INVALID', '').replace(/, $/, '')})` };
    out[403] = { description: 'FORBIDDEN (your role may not do this) or OUT_OF_SCOPE (another county, shop or company)' };
  }
  // A field whose schema carries its own stable code (refusedAs: a phone, a registration number, a
  // period…) is refused 422 with that code when its value has the right type but not the right form.
  const own = [r.params, r.query, r.body].flatMap((s) => ownRefusalCodes(s));
  if (own.length) out[422] = { description: `A field of the right type but the wrong form (${[...new Set(own)].sort().join(', ')}); details name the field` };
  if (r.body) {
    out[413] = { description: 'BODY_TOO_LARGE' };
    out[415] = { description: 'UNSUPPORTED_MEDIA_TYPE: send application/json in UTF-8' };
  }
  if (!(r.auth === 'public' && Object.values(r.responses).every((x) => x.contentType && !x.contentType.includes('json')))) {
    out[503] = { description: 'DATABASE_UNAVAILABLE: the database is out of reach; try again shortly' };
  }
  return out;
}

/** The stable codes (refusedAs) of the schemas inside a request schema. */
function ownRefusalCodes(schema: unknown, out: string[] = [], seen = new Set<object>()): string[] {
  if (!schema || typeof schema !== 'object' || seen.has(schema)) return out;
  seen.add(schema);
  const code = SCHEMA_ERROR_CODES.get(schema as JsonSchema);
  if (code) out.push(code);
  for (const v of Object.values(schema)) ownRefusalCodes(v, out, seen);
  return out;
}

export function buildOpenApi(routes: RouteDef[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const usedStatuses = new Set<number>();
  for (const r of routes) {
    const p = toOpenApiPath(r.path);
    paths[p] ??= {};
    const responses: Record<string, unknown> = {};
    const declared = { ...commonErrors(r), ...r.responses };
    for (const status of Object.keys(declared).sort()) {
      const res = declared[Number(status)] as RouteDef['responses'][number];
      const content: Record<string, { schema: JsonSchema }> = {};
      if (res.schema || res.contentType) content[res.contentType ?? 'application/json'] = { schema: res.schema ?? { type: 'string' } };
      else if (Number(status) >= 400 && usedStatuses.add(Number(status))) content['application/json'] = { schema: { $ref: `#/components/schemas/${errorSchemaName(Number(status))}` } };
      for (const alt of res.alternatives ?? []) content[alt.contentType] = { schema: alt.schema ?? { type: 'string' } };
      responses[status] = { description: res.description, ...(r.deprecated ? { headers: DEPRECATION_HEADERS } : {}), ...(Object.keys(content).length ? { content } : {}) };
    }
    const permission = typeof r.auth === 'object' ? r.auth.permission : null;
    const who = r.auth === 'public' ? 'Public: no token needed.'
      : r.auth === 'authenticated' ? 'Any logged-in user or enrolled terminal may call it.'
      : `Needs the permission \`${r.auth.permission}\` (${PERMISSIONS[r.auth.permission]}), within the caller's scope.`;
    const bodySchema = r.documentedBody ?? r.body;
    const example = bodyExample(r);
    paths[p][r.method] = {
      summary: r.summary,
      description: `${r.description ?? `${r.summary}.`}\n\n${who}`,
      tags: [r.tag],
      operationId: `${r.method}_${r.path.replace(/^\/api\/v1\//, '').replace(/[/:{}-]+/g, '_').replace(/_$/, '')}`,
      ...(r.deprecated ? { deprecated: true } : {}),
      ...(r.auth === 'public' ? { security: [] } : {}),
      ...(permission ? { 'x-permission': permission, 'x-permission-description': PERMISSIONS[permission] } : {}),
      parameters: [...parametersFrom(r, 'path'), ...parametersFrom(r, 'query')],
      ...(bodySchema ? { requestBody: { required: true, content: { 'application/json': { schema: bodySchema, ...(example !== undefined ? { example } : {}) } } } } : {}),
      responses,
      // The example request (src/http/request-examples.ts) as a curl line; Redoc shows it.
      'x-codeSamples': [{ lang: 'Shell', label: 'curl', source: curlOf(r) }],
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'agrireturn county server',
      version,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      contact: { name: 'agrireturn maintainers (see README.md)' },
      description: 'Deposit-return of empty pesticide packaging: reference data, deposits, refunds and custody of a county. Errors: docs/errors.md.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    components: {
      schemas: { Error: ERROR_SCHEMA, ...errorSchemasByStatus(usedStatuses) },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A user access token (JWT from /api/v1/auth/login) or a terminal credential (agt_…)' },
      },
    },
    security: [{ bearer: [] }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name, ...(TAG_DESCRIPTIONS[name] ? { description: TAG_DESCRIPTIONS[name] } : {}) })),
    paths,
  };
}
