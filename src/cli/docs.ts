// `npm run docs`: writes docs/openapi.json, docs/api.md and docs/errors.md from the route table and
// the error catalogue. A test fails when the committed files are stale, so docs follow the code.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allRoutes } from '../http/routes.js';
import { buildOpenApi } from '../http/openapi.js';
import { API_VERSION } from '../http/app.js';
import { ERROR_CATALOGUE } from '../http/errors.js';
import { PERMISSIONS, ROLE_PERMISSIONS, ACTOR_ROLES } from '../auth/permissions.js';
import type { JsonSchema } from '../shared/schemas/builders.js';
import { API_CONVENTIONS } from './api-conventions.js';
import { exampleFor } from '../shared/schemas/example.js';
import { contextOf, exampleRequest, parameterExample } from '../http/request-examples.js';
import type { RouteDef } from '../http/route.js';

export const DOCS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs');

function typeOf(s: JsonSchema): string {
  if (s.enum) return (s.enum as unknown[]).map((v) => JSON.stringify(v)).join(' \\| ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.type)) return (s.type as string[]).join(' \\| ');
  if (s.type === 'array') return `${typeOf((s.items ?? {}) as JsonSchema)}[]`;
  if (s.anyOf && s.type === undefined) return (s.anyOf as JsonSchema[]).map(typeOf).join(' \\| ');
  if (s.oneOf && s.type === undefined) return (s.oneOf as JsonSchema[]).map(typeOf).join(' \\| ');
  return String(s.type ?? 'any');
}

/** The unit a number or amount is in, from the field's name (the house naming: …Fen, …Grams, …Kg, …Pct). */
function unitOf(name: string, s: JsonSchema): string {
  const t = Array.isArray(s.type) ? (s.type as string[]) : [String(s.type ?? '')];
  if (!t.includes('integer') && !t.includes('number')) return '';
  if (/Fen$/.test(name) || /\bin fen\b/i.test(String(s.description ?? ''))) return 'fen (1 yuan = 100 fen)';
  if (/Grams$|Weight[gG]$/.test(name)) return 'grams';
  if (/Kg$/.test(name)) return 'kg';
  if (/Pct$|Percent$/.test(name)) return 'percent';
  if (/Days$/.test(name)) return 'days';
  if (/Ms$/.test(name)) return 'ms';
  if (/Seconds$/.test(name) || /^Seconds\b/.test(String(s.description ?? ''))) return 'seconds';
  if (/Minutes$/.test(name)) return 'minutes';
  if (/Ml$/.test(name)) return 'mL';
  if (/(^q|Q)uantity$|(^c|C)ontainers$|ContainersExpired$/.test(name)) return 'containers';
  return '';
}

function constraintsOf(s: JsonSchema): string {
  const c: string[] = [];
  if (typeof s.format === 'string') c.push(`format ${s.format}`);
  // A pattern too long to read (phone numbers) is in openapi.json; the description says what it takes.
  if (typeof s.pattern === 'string') c.push(s.pattern.length > 120 ? 'pattern (long: see openapi.json)' : `pattern \`${s.pattern}\``);
  if (s.minLength !== undefined || s.maxLength !== undefined) c.push(`length ${s.minLength ?? 0}–${s.maxLength ?? '∞'}`);
  if (s.minimum !== undefined || s.maximum !== undefined) c.push(`${s.minimum ?? '−∞'} ≤ value ≤ ${s.maximum ?? '∞'}`);
  if (s.exclusiveMinimum !== undefined) c.push(`> ${String(s.exclusiveMinimum)}`);
  if (s.minItems !== undefined || s.maxItems !== undefined) c.push(`${s.minItems ?? 0}–${s.maxItems ?? '∞'} items`);
  if (s.uniqueItems) c.push('unique items');
  if (s.minProperties !== undefined) c.push(`at least ${String(s.minProperties)} field(s)`);
  if (s.default !== undefined) c.push(`default ${JSON.stringify(s.default)}`);
  return c.join('; ');
}

/** The object branch of a schema (itself, its items, or the non-null branch of a nullable one). */
function objectOf(s: JsonSchema): JsonSchema | null {
  if (s.properties) return s;
  if (s.type === 'array' && s.items) return objectOf(s.items as JsonSchema);
  const alts = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (alts && s.type === undefined) {
    const objs = alts.filter((a) => a.type !== 'null').map(objectOf).filter((a): a is JsonSchema => a !== null);
    if (objs.length === 1) return objs[0]!;
  }
  return null;
}

/** Rules between an object's fields that JSON Schema states (oneOf/anyOf of required sets, dependentRequired, not, if/then). */
function objectRules(s: JsonSchema, where: string): string[] {
  const out: string[] = [];
  const at = where ? `\`${where}\`` : 'the body';
  const reqSets = (alts: JsonSchema[]) => alts.map((a) => {
    const req = ((a.required as string[] | undefined) ?? []).map((k) => `\`${k}\``).join(' + ');
    const consts = Object.entries((a.properties ?? {}) as Record<string, JsonSchema>).filter(([, p]) => p.const !== undefined).map(([k, p]) => `\`${k}\` ${JSON.stringify(p.const)} or absent`);
    return consts.length ? `${req} (with ${consts.join(', ')})` : req;
  });
  if (Array.isArray(s.oneOf) && s.properties) out.push(`${at}: exactly one of ${reqSets(s.oneOf as JsonSchema[]).join(', ')}.`);
  if (Array.isArray(s.anyOf) && s.properties) out.push(`${at}: at least one of ${reqSets(s.anyOf as JsonSchema[]).join(', ')}.`);
  if (s.dependentRequired) {
    for (const [k, deps] of Object.entries(s.dependentRequired as Record<string, string[]>)) out.push(`${at}: \`${k}\` requires ${deps.map((d) => `\`${d}\``).join(', ')}.`);
  }
  if (typeof s['x-rule'] === 'string') out.push(`${at}: ${String(s['x-rule'])}`);
  if (Array.isArray(s.allOf)) for (const sub of s.allOf as JsonSchema[]) if (typeof sub.description === 'string') out.push(`${at}: ${sub.description}`);
  return out;
}

const cell = (v: string): string => v.replace(/\r?\n/g, ' ').replace(/(?<!\\)\|/g, '\\|');

/** One row per field, nested objects and arrays of objects expanded (`purchaser.phone`, `lines[].gtin`). */
function fieldRows(schema: JsonSchema | undefined, where: string, prefix = '', rules: string[] = [], depth = 0, route?: RouteDef): string[] {
  const o = schema ? objectOf(schema) : null;
  if (!o || depth > 8) return [];
  rules.push(...objectRules(o, prefix));
  const req = new Set((o.required as string[] | undefined) ?? []);
  const rows: string[] = [];
  for (const [k, s] of Object.entries(o.properties as Record<string, JsonSchema>)) {
    const name = prefix ? `${prefix}.${k}` : k;
    const sub = objectOf(s);
    const description = String(s.description ?? (sub && sub !== s ? sub.description ?? '' : ''));
    // A path or query parameter shows its example value (the one the example request sends).
    const example = route && (where === 'path' || where === 'query') ? `example \`${String(parameterExample(route, where, k))}\`` : '';
    const constraints = [constraintsOf(s), example].filter(Boolean).join('; ');
    rows.push(`| ${where} | \`${name}\` | ${cell(typeOf(s))} | ${req.has(k) || where === 'path' ? 'yes' : ''} | ${unitOf(k, s)} | ${cell(constraints)} | ${cell(description)} |`);
    if (sub && sub !== o) {
      const isArray = s.type === 'array';
      rows.push(...fieldRows(s, where, isArray ? `${name}[]` : name, rules, depth + 1));
    }
  }
  return rows;
}

const TABLE_HEAD = ['| in | name | type | required | unit | constraints | description |', '|---|---|---|---|---|---|---|'];

function exampleBlock(title: string, value: unknown): string[] {
  return [`${title}:`, '', '```json', JSON.stringify(value, null, 2), '```', ''];
}

export function renderApiMarkdown(): string {
  const routes = allRoutes();
  const out: string[] = [
    '# API reference',
    '',
    '_Generated by `npm run docs` from the route table and the JSON Schemas the server validates with; do not edit by hand._',
    `The machine-readable OpenAPI 3.1 document is [openapi.json](openapi.json), also served at \`/api/v1/openapi.json\`. Errors: [errors.md](errors.md). The 32-digit unit code and how scans carry it: [unit-codes.md](unit-codes.md).`,
    '',
    'Every request but the public ones carries `Authorization: Bearer <token>`: a user access token from `POST /api/v1/auth/login`, or a POS terminal credential from `POST /api/v1/terminals/enrol`. Request bodies refuse unknown fields.',
    '',
    '## Reading this reference',
    '',
    'Each operation lists every field it takes and every field it answers: `purchaser.phone` is a field of an object, `lines[].gtin` a field of each item of an array. **unit** is what a number counts (fen: 1 yuan = 100 fen; grams; kg; percent); **constraints** are what the schema enforces (pattern, length, range, items, format, default). **Rules between fields** are stated in the schema too (`oneOf`, `if`/`then`) and refused with 400 `VALIDATION_FAILED` naming the field; rules only the server can check (a GTIN check digit, a county setting) are in the field\'s description with the code they answer. A field whose form is refused keeps its own code (`INVALID_PHONE`, `INVALID_REGISTRATION_NO`, `INVALID_PERIOD`, …, 422).',
    '',
    'The example request and response of each operation are built from the schemas (`src/shared/schemas/example.ts`, `src/http/request-examples.ts`) and name records of the demo county 青神县 (511425) as `npm start` seeds it, ids included, so the example requests work against a demo server. `test/http/schema-examples.test.ts` validates every example against its schema; `test/http/example-requests.test.ts` sends every operation\'s example request to the server, which must not refuse its form.',
    '',
    ...API_CONVENTIONS,
    '## Roles and permissions',
    '',
    `| permission | meaning | ${ACTOR_ROLES.join(' | ')} |`,
    `|---|---|${ACTOR_ROLES.map(() => '---').join('|')}|`,
    ...Object.entries(PERMISSIONS).map(([p, text]) => `| \`${p}\` | ${text} | ${ACTOR_ROLES.map((r) => (ROLE_PERMISSIONS[r].has(p as keyof typeof PERMISSIONS) ? '✓' : '')).join(' | ')} |`),
    '',
    'Scope: admins act everywhere; province officials in the counties of their province; everyone else in their own county; clerks and terminals only for their own shop, haulers for their company, facility operators for their facility.',
    '',
  ];
  const byTag = new Map<string, typeof routes>();
  for (const r of routes) byTag.set(r.tag, [...(byTag.get(r.tag) ?? []), r]);
  for (const [tag, rs] of byTag) {
    out.push(`## ${tag}`, '');
    for (const r of rs) {
      const who = r.auth === 'public' ? 'public' : r.auth === 'authenticated' ? 'any logged-in user or terminal' : `\`${r.auth.permission}\``;
      out.push(`### \`${r.method.toUpperCase()} ${r.path}\``, '', r.summary + '.' + (r.deprecated ? ` **Deprecated** until ${r.deprecated.sunset}: use \`${r.method.toUpperCase()} ${r.deprecated.successor}\`.` : ''), '', `Permission: ${who}.`, '');
      if (r.description) out.push(r.description, '');
      const rules: string[] = [];
      const rows = [...fieldRows(r.params, 'path', '', [], 0, r), ...fieldRows(r.query, 'query', '', [], 0, r), ...fieldRows(r.body, 'body', '', rules)];
      if (rows.length) out.push(...TABLE_HEAD, ...rows, '');
      if (rules.length) out.push('Rules between fields:', '', ...rules.map((x) => `- ${x}`), '');
      // Every operation's example request: method, a concrete URL, the body (src/http/request-examples.ts).
      const ex = exampleRequest(r);
      out.push('Example request:', '', '```http', `${ex.method} ${ex.url}`, ...(ex.body !== undefined ? ['Content-Type: application/json', '', JSON.stringify(ex.body, null, 2)] : []), '```', '');
      out.push(`Responses: ${Object.entries(r.responses).map(([s, d]) => `${s} ${d.description}`).join('; ')}.`, '');
      const documented = Object.entries(r.responses).filter(([, d]) => d.schema);
      for (const [status, d] of documented) {
        // The same schema for several statuses (201 and the 200 of a retry) is shown once.
        if (documented.find(([, e]) => e.schema === d.schema)?.[0] !== status) continue;
        const same = documented.filter(([, e]) => e.schema === d.schema).map(([s]) => s).join(' / ');
        const resRules: string[] = [];
        const resRows = fieldRows(d.schema, 'body', '', resRules);
        out.push(`Response ${same} (\`${d.contentType ?? 'application/json'}\`):`, '');
        if (resRows.length) out.push(...TABLE_HEAD, ...resRows, '');
        if (resRules.length) out.push(...resRules.map((x) => `- ${x}`), '');
      }
      // A JSON answer shows an example; a CSV, HTML or PDF one is described by its fields and content type.
      const json = documented.filter(([, d]) => (d.contentType ?? 'application/json').includes('json'));
      const first = json.find(([s]) => s === '201') ?? json[0];
      if (first) out.push(...exampleBlock(`Example response ${first[0]}`, exampleFor(first[1].schema, undefined, 0, contextOf(r))));
    }
  }
  return out.join('\n');
}

export function renderErrorsMarkdown(): string {
  const out = [
    '# Error codes',
    '',
    '_Generated by `npm run docs` from `src/http/errors.ts`, the one catalogue; do not edit by hand._',
    '',
    'Every error answers with the HTTP status below and the body',
    '',
    '```json',
    '{ "error": { "code": "VALIDATION_FAILED", "message": "…", "details": [ { "field": "/body/lines/0/quantity", "code": "minimum", "message": "must be >= 1" } ] } }',
    '```',
    '',
    'Match on `code`, never on `message`. `details[].field` is a JSON pointer into `/body`, `/query` or `/params`. A request refused with an error has changed nothing.',
    '',
    '| code | HTTP | meaning | 中文 |',
    '|---|---|---|---|',
    ...Object.entries(ERROR_CATALOGUE).map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.message} | ${e.message_zh} |`),
    '',
  ];
  return out.join('\n');
}

export function renderOpenApiJson(): string {
  return JSON.stringify(buildOpenApi(allRoutes(), API_VERSION), null, 2) + '\n';
}

/** Where the TypeScript types of the API go: importable by src/ and terminals/ alike. */
export const API_TYPES_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../shared/api-types.gen.ts');

/**
 * TypeScript types of every path, operation and schema of docs/openapi.json (openapi-typescript), for
 * openapi-fetch clients such as the POS terminal's (terminals/pos/server-client.ts). A test fails when
 * the committed file is stale. openapi-typescript is a dev dependency: imported only here, on demand.
 */
export async function renderApiTypes(doc: Record<string, unknown> = JSON.parse(renderOpenApiJson()) as Record<string, unknown>): Promise<string> {
  const { default: openapiTS, astToString } = await import('openapi-typescript');
  const ast = await openapiTS(doc as unknown as Parameters<typeof openapiTS>[0], { alphabetize: true, emptyObjectsUnknown: true });
  return [
    '// Generated by `npm run docs` from docs/openapi.json (openapi-typescript); do not edit by hand.',
    '// Use with openapi-fetch: `createClient<paths>({ baseUrl })`. test/ops/api-types.test.ts fails when stale.',
    '/* eslint-disable */',
    astToString(ast),
  ].join('\n');
}

export const GENERATED_DOCS: Record<string, () => string> = {
  'openapi.json': renderOpenApiJson,
  'api.md': renderApiMarkdown,
  'errors.md': renderErrorsMarkdown,
};

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  fs.mkdirSync(DOCS_DIR, { recursive: true });
  for (const [file, render] of Object.entries(GENERATED_DOCS)) {
    fs.writeFileSync(path.join(DOCS_DIR, file), render());
    console.log(`wrote docs/${file}`);
  }
  fs.writeFileSync(API_TYPES_FILE, await renderApiTypes());
  console.log(`wrote ${path.relative(process.cwd(), API_TYPES_FILE)}`);
}
