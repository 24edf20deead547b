// The examples docs/api.md and openapi.json show are real: built from the schemas (exampleFor), each
// validates against the schema it illustrates, api.md prints every field of every request and
// response body, and the server takes every request example past validation (its answer is a
// documented status, never VALIDATION_FAILED and never a 5xx).
import { expect } from 'chai';
import { allRoutes } from '../../src/http/routes.js';
import { compile } from '../../src/http/validation.js';
import { exampleFor, stringMatching } from '../../src/shared/schemas/example.js';
import { renderApiMarkdown } from '../../src/cli/docs.js';
import { bodyExample } from '../../src/http/request-examples.js';
import type { JsonSchema } from '../../src/shared/schemas/builders.js';
import { useTestApp } from '../support/harness.js';
import { fuzzActors } from '../support/fuzz-setup.js';
import { actorsFor, operationsFromOpenApi, type FuzzActor } from '../support/fuzz.js';

const errorsOf = (schema: JsonSchema, value: unknown, coerce = false): string => {
  const fn = compile(schema, coerce);
  return fn(structuredClone(value)) ? '' : JSON.stringify(fn.errors);
};

/** Every field path of a schema as api.md names it (purchaser.phone, lines[].gtin). */
function fieldPaths(schema: JsonSchema, prefix = '', out: string[] = []): string[] {
  const objectOf = (s: JsonSchema): JsonSchema | null => {
    if (s.properties) return s;
    if (s.type === 'array' && s.items) return objectOf(s.items as JsonSchema);
    const alts = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
    const objs = s.type === undefined && alts ? alts.map(objectOf).filter((a): a is JsonSchema => a !== null) : [];
    return objs.length === 1 ? objs[0]! : null;
  };
  const o = objectOf(schema);
  if (!o) return out;
  for (const [k, s] of Object.entries(o.properties as Record<string, JsonSchema>)) {
    const name = prefix ? `${prefix}.${k}` : k;
    out.push(name);
    if (objectOf(s)) fieldPaths(s, s.type === 'array' ? `${name}[]` : name, out);
  }
  return out;
}

describe('schema examples (docs/api.md, openapi.json)', () => {
  const routes = allRoutes();

  it('builds strings that match the patterns the schemas use', () => {
    for (const p of ['^[1-8][0-9]{5}$', '^[0-9]{8}$|^[0-9]{12,14}$', '^(pickup:[0-9a-f-]{36}|transfer:[1-9][0-9]?|delivery)$', '^[0-9]{4}(?:-(?:0[1-9]|1[0-2]))?$']) {
      const s = stringMatching(p);
      expect(s, p).to.be.a('string');
      expect(new RegExp(p, 'u').test(s!), `${p} → ${s}`).to.equal(true);
    }
    expect(stringMatching('^(?=x)y$')).to.equal(null);
  });

  it('every request body, query and path example validates against its schema', () => {
    const bad: string[] = [];
    for (const r of routes) {
      for (const [where, schema, coerce] of [['body', r.body, false], ['query', r.query, true], ['params', r.params, true]] as const) {
        if (!schema) continue;
        const e = errorsOf(schema, where === 'body' ? (r.bodyExample ?? exampleFor(schema)) : exampleFor(schema), coerce);
        if (e) bad.push(`${r.method} ${r.path} ${where}: ${e}`);
      }
    }
    expect(bad).to.deep.equal([]);
  });

  it('every response example validates against its schema', () => {
    const bad: string[] = [];
    let checked = 0;
    for (const r of routes) {
      for (const [status, res] of Object.entries(r.responses)) {
        if (!res.schema) continue;
        checked++;
        const e = errorsOf(res.schema, exampleFor(res.schema));
        if (e) bad.push(`${r.method} ${r.path} ${status}: ${e}`);
      }
    }
    expect(checked).to.be.greaterThan(50);
    expect(bad).to.deep.equal([]);
  });

  it('a sale line example names its product by exactly one of productId and gtin', () => {
    const sale = routes.find((r) => r.method === 'post' && r.path === '/api/v1/counties/:countyId/sales')!;
    const line = (exampleFor(sale.body) as { lines: Array<Record<string, unknown>> }).lines[0]!;
    expect(['productId' in line, 'gtin' in line].filter(Boolean)).to.have.length(1);
  });

  it('api.md shows every field of every request and response body, nested ones included, and the examples', () => {
    const md = renderApiMarkdown();
    const sections = md.split(/\n### /);
    const missing: string[] = [];
    for (const r of routes) {
      const section = sections.find((s) => s.startsWith(`\`${r.method.toUpperCase()} ${r.path}\``));
      if (!section) { missing.push(`${r.method} ${r.path}: no section`); continue; }
      const schemas = [r.body, ...Object.values(r.responses).map((x) => x.schema)].filter((s): s is JsonSchema => !!s);
      for (const s of schemas) for (const f of fieldPaths(s)) if (!section.includes(`| \`${f}\` |`)) missing.push(`${r.method} ${r.path}: ${f}`);
      if (r.body && !section.includes(JSON.stringify(bodyExample(r), null, 2))) missing.push(`${r.method} ${r.path}: request example`);
    }
    expect(missing).to.deep.equal([]);
    // The bodies the issue named are expanded, with their units and rules.
    expect(md).to.include('| body | `purchaser.phone` |');
    expect(md).to.include('| body | `lines[].depositChargedFen` | integer |  | fen (1 yuan = 100 fen) |');
    expect(md).to.include('| body | `items[].scan` |');
    expect(md).to.include('| body | `payment.method` |');
    expect(md).to.include('`lines[]`: exactly one of `productId`, `gtin`.');
  });
});

describe('the server takes every request example', function () {
  this.timeout(300_000);
  const t = useTestApp();
  let actors: FuzzActor[];
  before(async () => {
    actors = await fuzzActors(t.app);
  });

  it('answers each example with a documented status: never VALIDATION_FAILED, never 5xx', async () => {
    const problems: string[] = [];
    let sent = 0;
    for (const op of operationsFromOpenApi()) {
      const r = op.route;
      if (r.method === 'get' || r.method === 'delete') continue;
      // Signing out or changing the password would end the session the other requests use.
      if (/\/auth\/(logout|password)/.test(r.path)) continue;
      const actor = actorsFor(op, actors).find((a) => a.role === 'admin') ?? actorsFor(op, actors)[0];
      if (!op.isPublic && !actor) { problems.push(`${r.method} ${r.path}: nobody may call it`); continue; }
      const params = (r.params ? exampleFor(r.params) : {}) as Record<string, string>;
      if ('countyId' in params && actor) params.countyId = actor.countyId;
      const path = r.path.replace(/:([A-Za-z]+)/g, (_, k: string) => encodeURIComponent(String(params[k])));
      const query = (r.query ? exampleFor(r.query) : {}) as Record<string, string>;
      let req = t.api()[r.method](path).query(query);
      if (actor) req = req.set('Authorization', actor.authorization);
      const res = r.body ? await req.send((r.bodyExample ?? exampleFor(r.body)) as object) : await req;
      sent++;
      const code = res.body?.error?.code as string | undefined;
      const documented = String(res.status) in r.responses || (res.status >= 400 && res.status < 500);
      if (res.status >= 500 || code === 'VALIDATION_FAILED' || !documented || (res.status === 401 && !op.isPublic)) {
        problems.push(`${r.method} ${r.path} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      }
    }
    expect(sent).to.be.greaterThan(30);
    expect(problems).to.deep.equal([]);
  });
});
