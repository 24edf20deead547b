// Every operation has an example request an integrator can send as is (docs/api.md "Example request",
// openapi.json parameter examples and x-codeSamples): every parameter has an example valid against its
// schema, no example anywhere is a placeholder ("x"), a list's nextCursor example is one its own
// cursor parameter takes, the ids are the demo county's seeded records, and the server, with the demo
// county seeded and the clock at the moment the examples are written for, does not refuse the form of
// any example request (no VALIDATION_FAILED, no 422 form code; a 404 for an id that is not there is fine).
import { expect } from 'chai';
import request from 'supertest';
import { allRoutes } from '../../src/http/routes.js';
import { compile } from '../../src/http/validation.js';
import { exampleFor } from '../../src/shared/schemas/example.js';
import { DEMO_IDS, DEMO_FACTS, EXAMPLE_NOW } from '../../src/shared/schemas/demo-examples.js';
import { SCHEMA_REFUSAL_CODES, type JsonSchema } from '../../src/shared/schemas/builders.js';
import { bodyExample, contextOf, exampleRequest, parameterExample } from '../../src/http/request-examples.js';
import { renderApiMarkdown, renderOpenApiJson } from '../../src/cli/docs.js';
import { demoId, DEMO_PASSWORD } from '../../seeds/demo-county.js';
import { useTestApp } from '../support/harness.js';
import { fuzzActors } from '../support/fuzz-setup.js';
import { actorsFor, operationsFromOpenApi, type FuzzActor } from '../support/fuzz.js';

const errorsOf = (schema: JsonSchema, value: unknown): string => {
  const fn = compile(schema, false);
  return fn(structuredClone(value)) ? '' : JSON.stringify(fn.errors);
};

/** A value no real record has: the fallbacks the example builder used to print. */
function placeholderPaths(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return /^(x+|xyz7?|a|A|example text.*|string|todo|tbd|foo|bar)$/i.test(value.trim()) ? [`${path || '(value)'} = ${JSON.stringify(value)}`] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => placeholderPaths(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => placeholderPaths(v, path ? `${path}.${k}` : k));
  return [];
}

/** Codes that refuse a request for its form (rather than for the state of the data it names). */
const FORM_CODES = new Set([
  'VALIDATION_FAILED', 'MALFORMED_JSON', 'BODY_UNREADABLE', 'MALFORMED_PATH', 'EVENT_CURSOR_INVALID', 'INVALID_PERIOD',
  'INVALID_TRACKING_NUMBER', 'LOT_TRACE_QUERY_INVALID', 'RECONCILIATION_PERIOD_INVALID', 'RECONCILIATION_AS_OF_IN_FUTURE',
  'INVALID_MONTH_RANGE', 'REPORT_MONTH_IN_FUTURE', 'EVENT_TIME_IN_FUTURE', 'EVENT_TIME_TOO_OLD', 'SCHEDULE_IN_PAST',
  'INCENTIVE_RATE_IN_PAST', 'UNIT_CODE_INVALID', 'CODE_REGISTRY_MALFORMED', 'TOO_MANY_UNIT_CODES', 'UNSUPPORTED_MEDIA_TYPE',
  ...SCHEMA_REFUSAL_CODES,
]);

const jsonResponses = (r: ReturnType<typeof allRoutes>[number]) =>
  Object.entries(r.responses).filter(([, d]) => d.schema && (d.contentType ?? 'application/json').includes('json'));

describe('example requests (docs/api.md, openapi.json)', () => {
  const routes = allRoutes();
  const doc = JSON.parse(renderOpenApiJson()) as { paths: Record<string, Record<string, { parameters: Array<{ name: string; in: string; schema: JsonSchema; example?: unknown }>; 'x-codeSamples'?: Array<{ source: string }> }>> };

  it('names the demo county\'s seeded records by their seeded ids', () => {
    const c = (table: string, key: string) => demoId(table, `511425:${key}`);
    expect(DEMO_IDS).to.deep.equal({
      township: c('townships', '青城镇'), farmerTownship: c('townships', '高台镇'), shop: c('shops', DEMO_FACTS.shopLicence),
      facility: c('facilities', 'collection-centre'), disposalFacility: c('facilities', 'incinerator'),
      hauler: c('haulers', '川交运管许可眉字511402000123号'), containerType: c('container_types', 'HDPE-1L'),
      product: c('products', `${DEMO_FACTS.productRegistrationNo}:210`), depositSchedule: c('deposit_schedules', 'default:2024-01-01'),
      farmer: c('farmers', DEMO_FACTS.farmerPhone), user: demoId('users', 'qingshen.official'), clerkUser: demoId('users', DEMO_FACTS.clerkUsername),
    });
  });

  it('every path and query parameter in openapi.json has an example valid against its schema', () => {
    const bad: string[] = [];
    let n = 0;
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        for (const prm of op.parameters) {
          n++;
          if (prm.example === undefined) { bad.push(`${m} ${p} ${prm.in} ${prm.name}: no example`); continue; }
          const e = errorsOf(prm.schema, prm.example);
          if (e) bad.push(`${m} ${p} ${prm.in} ${prm.name} = ${JSON.stringify(prm.example)}: ${e}`);
        }
      }
    }
    expect(n).to.be.greaterThan(300);
    expect(bad).to.deep.equal([]);
  });

  it('no generated example (request, response, parameter) is a placeholder or off its own schema', () => {
    const bad: string[] = [];
    for (const r of routes) {
      const at = `${r.method} ${r.path}`;
      const ex = exampleRequest(r);
      bad.push(...placeholderPaths(ex.body).map((x) => `${at} body ${x}`));
      bad.push(...placeholderPaths(ex.query).map((x) => `${at} query ${x}`));
      for (const where of ['path', 'query'] as const) {
        for (const k of Object.keys(((where === 'path' ? r.params : r.query)?.properties ?? {}) as object)) {
          bad.push(...placeholderPaths(parameterExample(r, where, k)).map((x) => `${at} ${where} ${k} ${x}`));
        }
      }
      for (const [status, d] of jsonResponses(r)) {
        const value = exampleFor(d.schema, undefined, 0, contextOf(r));
        bad.push(...placeholderPaths(value).map((x) => `${at} ${status} ${x}`));
        const e = errorsOf(d.schema!, value);
        if (e) bad.push(`${at} ${status}: ${e}`);
      }
      const body = r.documentedBody ?? r.body;
      if (body) {
        const e = errorsOf(body, bodyExample(r));
        if (e) bad.push(`${at} body: ${e}`);
      }
    }
    // And in the generated documents themselves.
    for (const [name, text] of [['api.md', renderApiMarkdown()], ['openapi.json', renderOpenApiJson()]]) {
      for (const m of text!.matchAll(/(?:": |=)"?(x+|xyz7?|example text)"?(?=[,\s&}\n])/g)) bad.push(`${name}: ${m[0]}`);
    }
    expect(bad).to.deep.equal([]);
  });

  it('a list\'s nextCursor example is one the same operation\'s cursor parameter takes, and its items are active', () => {
    const bad: string[] = [];
    let lists = 0;
    for (const r of routes) {
      const props = (r.query?.properties ?? {}) as Record<string, JsonSchema>;
      const cursorName = props.cursor ? 'cursor' : props.after ? 'after' : null;
      for (const [status, d] of jsonResponses(r)) {
        const value = exampleFor(d.schema, undefined, 0, contextOf(r)) as Record<string, unknown>;
        if (!value || typeof value !== 'object' || !('nextCursor' in value)) continue;
        lists++;
        if (!cursorName) { bad.push(`${r.method} ${r.path} ${status}: answers nextCursor but takes no cursor`); continue; }
        const e = errorsOf(props[cursorName]!, value.nextCursor);
        if (e) bad.push(`${r.method} ${r.path} ${status}: nextCursor ${JSON.stringify(value.nextCursor)} refused by ${cursorName}: ${e}`);
        const items = Array.isArray(value.items) ? (value.items as Array<Record<string, unknown>>) : [];
        for (const it of items) if ('active' in it && it.active !== true) bad.push(`${r.method} ${r.path}: a listed item is not active`);
      }
    }
    expect(lists).to.be.greaterThan(10);
    expect(bad).to.deep.equal([]);
  });

  it('every operation shows its example request: method and concrete URL in api.md, a curl line in openapi.json', () => {
    const md = renderApiMarkdown();
    const missing: string[] = [];
    for (const r of routes) {
      const ex = exampleRequest(r);
      expect(ex.url, `${r.method} ${r.path}`).not.to.match(/:[A-Za-z]/);
      if (!md.includes(`\`\`\`http\n${ex.method} ${ex.url}\n`)) missing.push(`api.md: ${r.method} ${r.path}`);
      const op = doc.paths[r.path.replace(/:([A-Za-z]+)/g, '{$1}')]?.[r.method];
      if (!op?.['x-codeSamples']?.[0]?.source.includes(ex.url)) missing.push(`openapi.json: ${r.method} ${r.path}`);
    }
    expect(missing).to.deep.equal([]);
    expect(md).to.include('```http\nGET /api/v1/counties/511425/townships?limit=50&active=true\n```');
  });
});

describe('the server takes every operation\'s example request', function () {
  this.timeout(300_000);
  // The SMS gateway's routes answer 503 where SMS is not set up: set up as the examples say.
  const t = useTestApp({ clock: EXAMPLE_NOW, env: { SMS_COUNTY_ID: '511425', SMS_INBOUND_SECRET: String(exampleFor({ type: 'string' }, 'secret')) } });
  let actors: FuzzActor[];
  before(async () => {
    actors = await fuzzActors(t.app);
  });

  it('a GET of a seeded record answers what its example response shows (before any example changes the data)', async () => {
    const clerk = actors.find((a) => a.role === 'clerk')!;
    const official = actors.find((a) => a.role === 'county_official')!;
    const drift: string[] = [];
    let checked = 0;
    for (const r of allRoutes()) {
      if (r.method !== 'get' || !/\/:id$/.test(r.path) || !r.responses[200]?.schema) continue;
      const example = exampleFor(r.responses[200].schema, undefined, 0, contextOf(r)) as Record<string, unknown>;
      if (!Object.values(DEMO_IDS).includes(example.id as never)) continue;
      // A clerk sees a farmer unmasked; users are read by officials.
      const res = await t.api().get(exampleRequest(r).url).set('Authorization', (/\/users\//.test(r.path) ? official : clerk).authorization);
      if (res.status !== 200) { drift.push(`${r.path}: ${res.status}`); continue; }
      checked++;
      for (const [k, v] of Object.entries(example)) {
        if (['createdAt', 'updatedAt', 'version'].includes(k)) continue;
        if (JSON.stringify(res.body[k]) !== JSON.stringify(v)) drift.push(`${r.path} ${k}: example ${JSON.stringify(v)}, seeded ${JSON.stringify(res.body[k])}`);
      }
    }
    expect(drift).to.deep.equal([]);
    expect(checked).to.be.greaterThan(5);
  });

  it('sends each one (GETs included) as a caller allowed to, and none is refused for its form', async () => {
    const problems: string[] = [];
    const sent = new Set<string>();
    const ops = operationsFromOpenApi();
    // Signing out ends the session it is sent with: last, on a session of its own.
    const last = (o: (typeof ops)[number]) => (/\/auth\/logout$/.test(o.route.path) ? 1 : 0);
    for (const op of [...ops].sort((a, b) => last(a) - last(b))) {
      const r = op.route;
      const allowed = actorsFor(op, actors);
      // The demo official, admin, or whoever the operation is for (a clerk for the demo shop, a terminal for sync).
      const actor = ['county_official', 'admin', 'clerk', 'terminal', 'hauler', 'facility_operator', 'province_official']
        .map((role) => allowed.find((a) => a.role === role)).find((a) => a !== undefined);
      if (!op.isPublic && !actor) { problems.push(`${r.method} ${r.path}: nobody may call it`); continue; }
      let authorization = actor?.authorization;
      if (/\/auth\/logout$/.test(r.path)) {
        const login = await request(t.app).post('/api/v1/auth/login').send({ username: 'qingshen.official', password: DEMO_PASSWORD });
        authorization = `Bearer ${login.body.accessToken}`;
      }
      const ex = exampleRequest(r);
      let req = t.api()[r.method](ex.url);
      if (authorization && !op.isPublic) req = req.set('Authorization', authorization);
      const res = ex.body !== undefined ? await req.send(ex.body as object) : await req;
      sent.add(`${r.method} ${r.path}`);
      const code = res.body?.error?.code as string | undefined;
      // A credential in an example (a refresh token, an enrolment code) is one the server never gave out: 401 is its answer.
      if (res.status >= 500 || (code && FORM_CODES.has(code)) || (res.status === 401 && !/\/auth\/(refresh|logout)$|\/terminals\/enrol$/.test(r.path))) {
        problems.push(`${ex.method} ${ex.url} (${actor?.role ?? 'public'}) → ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`);
      }
    }
    expect(problems).to.deep.equal([]);
    // Every operation of the document, none left out: a new operation is sent (and must work) too.
    const documented = Object.entries(JSON.parse(renderOpenApiJson()).paths as Record<string, object>)
      .flatMap(([p, o]) => Object.keys(o).map((m) => `${m} ${p}`)).sort();
    expect([...sent].map((s) => s.replace(/:([A-Za-z]+)/g, '{$1}')).sort()).to.deep.equal(documented);
  });
});
