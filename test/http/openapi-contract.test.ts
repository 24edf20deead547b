// The OpenAPI document is complete and third-party tools agree with it: every answer has a schema
// that lists its fields, every operation a tag, a description and its 4xx answers, every body an
// example the schema accepts; Redocly CLI and Spectral (recommended rulesets) find nothing. And the
// suite's response check (test/support/contract-check.ts) catches drift and undocumented statuses.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { buildOpenApi, TAG_DESCRIPTIONS } from '../../src/http/openapi.js';
import { allRoutes } from '../../src/http/routes.js';
import { API_VERSION } from '../../src/http/app.js';
import { sampleOfPattern } from '../../src/http/openapi-examples.js';
import { ContractChecker } from '../support/contract-check.js';
import { useTestApp } from '../support/harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

type Schema = Record<string, unknown>;
interface Op { tags: string[]; description?: string; requestBody?: { content: Record<string, { schema: Schema; example?: unknown }> }; responses: Record<string, { content?: Record<string, { schema: Schema }> }> }
const doc = buildOpenApi(allRoutes(), API_VERSION) as { paths: Record<string, Record<string, Op>>; tags: Array<{ name: string; description?: string }>; components: { schemas: Record<string, Schema> } };
const operations = Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).map(([m, op]) => ({ name: `${m.toUpperCase()} ${p}`, op })));

/** Objects that say nothing of their fields: generated clients make them empty records. */
function emptyObjects(s: unknown, at: string, out: string[]): string[] {
  if (!s || typeof s !== 'object') return out;
  if (Array.isArray(s)) {
    s.forEach((x, i) => emptyObjects(x, `${at}/${i}`, out));
    return out;
  }
  const o = s as Schema;
  const types = Array.isArray(o.type) ? o.type : [o.type];
  if (types.includes('object') && !o.properties && !o.patternProperties && (o.additionalProperties === undefined || o.additionalProperties === false)
    && !o.allOf && !o.anyOf && !o.oneOf && !o.$ref) out.push(at);
  // Parts of an allOf narrow a schema that has its own required list.
  if (types.includes('object') && o.properties && !Array.isArray(o.required) && !at.includes('/allOf/')) out.push(`${at} (no required list)`);
  for (const [k, v] of Object.entries(o)) if (k !== 'examples' && k !== 'example' && k !== 'enum') emptyObjects(v, `${at}/${k}`, out);
  return out;
}

describe('the OpenAPI document is complete', () => {
  it('every 2xx answer with a body has a schema, and no answer schema is an empty record or lacks its required list', () => {
    const problems: string[] = [];
    for (const { name, op } of operations) {
      for (const [status, res] of Object.entries(op.responses)) {
        if (/^2/.test(status) && status !== '204' && !res.content) problems.push(`${name} ${status}: no content`);
        for (const [type, media] of Object.entries(res.content ?? {})) {
          if (type.includes('json')) emptyObjects(media.schema, `${name} ${status} ${type}`, problems);
        }
      }
    }
    for (const [n, s] of Object.entries(doc.components.schemas)) emptyObjects(s, `components/${n}`, problems);
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('every operation has a defined, described tag, a description and its 4xx answers', () => {
    const defined = new Map(doc.tags.map((t) => [t.name, t.description]));
    const problems: string[] = [];
    for (const { name, op } of operations) {
      for (const t of op.tags) if (!defined.get(t) || !TAG_DESCRIPTIONS[t]) problems.push(`${name}: tag "${t}" has no description in TAG_DESCRIPTIONS (src/http/openapi.ts)`);
      if (!op.description || op.description.length < 20) problems.push(`${name}: no description`);
      if (!Object.keys(op.responses).some((s) => /^4/.test(s))) problems.push(`${name}: no 4xx answer`);
      if ('default' in op.responses) problems.push(`${name}: a default answer hides which statuses it gives`);
    }
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('every operation with a body shows an example its schema accepts', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    const problems: string[] = [];
    for (const { name, op } of operations) {
      const media = op.requestBody?.content['application/json'];
      if (!op.requestBody) continue;
      if (!media || media.example === undefined) {
        problems.push(`${name}: no request example`);
        continue;
      }
      const v = ajv.compile(media.schema);
      if (!v(media.example)) problems.push(`${name}: example refused: ${ajv.errorsText(v.errors)} — ${JSON.stringify(media.example).slice(0, 200)}`);
    }
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('makes strings that match the patterns of the schemas', () => {
    for (const p of ['^[1-8][0-9]{5}$', '^([0-9]{8}|[0-9]{12,14})$', '^(pickup:[0-9a-f-]{36}|transfer:[1-9][0-9]?|delivery)$', '^[0-9]{4}-(?:[0-9]{2}|W[0-9]{2}|[0-9]{2}-[0-9]{2})$', '\\S']) {
      const s = sampleOfPattern(p);
      expect(s, p).to.be.a('string');
      expect(new RegExp(p).test(s!), `${p}: ${s}`).to.equal(true);
    }
  });

  it('says that a cursor must be one the server returned', () => {
    for (const { name, op } of operations) {
      const cursor = (op as unknown as { parameters: Array<{ name: string; description?: string }> }).parameters.find((p) => p.name === 'cursor');
      if (cursor) expect(cursor.description, name).to.match(/exactly as the server returned it/);
    }
  });
});

describe('third-party OpenAPI linters agree with docs/openapi.json', function () {
  // Each linter is a Node process of a few seconds; generous bounds on a shared machine.
  this.timeout(300_000);
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_UPDATE_NOTIFIER: '1', NODE_OPTIONS: '' };

  it('Redocly CLI (recommended ruleset, .redocly.yaml): no error, no warning', () => {
    const r = spawnSync(path.join(ROOT, 'node_modules/.bin/redocly'), ['lint', 'docs/openapi.json', '--config', '.redocly.yaml', '--format', 'stylish'], { cwd: ROOT, env, encoding: 'utf8' });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.status, out).to.equal(0);
    expect(out, out).to.match(/Your API description is valid/);
    expect(out, out).to.not.match(/You have \d+ warnings?/);
  });

  it('Spectral (spectral:oas, .spectral.yaml): no error, no warning', () => {
    const r = spawnSync(path.join(ROOT, 'node_modules/.bin/spectral'), ['lint', 'docs/openapi.json', '--ruleset', '.spectral.yaml', '--format', 'json', '--fail-severity', 'hint'], { cwd: ROOT, env, encoding: 'utf8' });
    let findings: Array<{ code: string; message: string; path: string[]; severity: number }>;
    try {
      // The JSON list, followed by a line of text when it is empty.
      findings = JSON.parse(r.stdout.slice(r.stdout.indexOf('['), r.stdout.lastIndexOf(']') + 1));
    } catch {
      throw new Error(`spectral gave no JSON (exit ${r.status}): ${r.stdout}\n${r.stderr}`);
    }
    const shown = findings.slice(0, 20).map((f) => `${f.code} at ${f.path.join('.')}: ${f.message}`).join('\n');
    expect(findings, shown).to.deep.equal([]);
    expect(r.status, r.stderr).to.equal(0);
  });
});

describe('a test that receives drift fails, and the run goes on', function () {
  this.timeout(300_000);
  it('fails the test that saw the drift, naming the operation, status and ajv error; the next test passes', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'node_modules/mocha/bin/mocha.js', '--reporter', 'json', 'test/fixtures/contract/drift.fixture.ts'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { stats: { passes: number; failures: number }; failures: Array<{ title: string; err: { message: string } }>; passes: Array<{ title: string }> };
    expect(r.status, r.stderr).to.equal(1);
    expect(report.stats).to.include({ passes: 1, failures: 1 });
    expect(report.failures[0]!.title).to.equal('receives an answer the document does not describe');
    const message = report.failures[0]!.err.message;
    expect(message).to.contain('Contract drift seen by "contract fixture receives an answer the document does not describe"');
    expect(message).to.contain('GET /healthz (request GET /healthz) answered 200');
    expect(message).to.match(/\/status must be (string|equal to one of the allowed values)/);
    expect(report.passes.map((p) => p.title)).to.deep.equal(['sees no drift itself']);
  });
});

describe('the suite checks every response against the document', () => {
  const t = useTestApp();
  const checker = new ContractChecker();
  const seen = (o: Partial<Parameters<ContractChecker['check']>[0]>) => checker.check({
    method: 'GET', path: '/x', routePath: null, status: 200, contentType: 'application/json; charset=utf-8', body: Buffer.from('{}'), ...o,
  });
  after(() => checker.take());

  it('passes a response that matches its operation', () => {
    const body = { status: 'ok' };
    const drift = seen({ path: '/healthz', routePath: '/healthz', body: Buffer.from(JSON.stringify(body)) });
    expect(drift.map((d) => d.problem)).to.deep.equal([]);
  });

  it('flags a body that drifts from the schema, naming the operation, the status and the ajv error', () => {
    const drift = seen({ path: '/api/v1/counties/511425/custody/verify', routePath: '/api/v1/counties/:countyId/custody/verify', body: Buffer.from('{"countyId":"511425","ok":"yes"}') });
    expect(drift).to.have.length(1);
    expect(drift[0]!.operation).to.equal('GET /api/v1/counties/{countyId}/custody/verify');
    expect(drift[0]!.status).to.equal(200);
    expect(drift[0]!.problem).to.match(/must have required property 'events'|\/ok must be boolean/);
  });

  it('flags a status the operation does not declare, and an error body that is not the envelope', () => {
    const undeclared = seen({ method: 'POST', path: '/api/v1/auth/logout', routePath: '/api/v1/auth/logout', status: 409, body: Buffer.from('{"error":{"code":"DUPLICATE","message":"x","details":[]}}') });
    expect(undeclared[0]!.problem).to.match(/status 409 is not declared/);
    const notEnvelope = seen({ path: '/nowhere', status: 404, body: Buffer.from('{"message":"not here"}') });
    expect(notEnvelope[0]!.problem).to.match(/does not match the schema/);
    const wrongCode = seen({ path: '/api/v1/counties/511425/custody/verify', routePath: '/api/v1/counties/:countyId/custody/verify', status: 403, body: Buffer.from('{"error":{"code":"NOT_FOUND","message":"x","details":[]}}') });
    expect(wrongCode[0]!.problem).to.match(/must be equal to one of the allowed values/);
  });

  it('flags a content type the answer does not declare', () => {
    const drift = seen({ path: '/api/v1/counties/511425/custody/verify', routePath: '/api/v1/counties/:countyId/custody/verify', contentType: 'text/csv', body: Buffer.from('a,b') });
    expect(drift[0]!.problem).to.match(/content type text\/csv is not declared/);
  });

  it('a known path asked with a wrong method answers 405 METHOD_NOT_ALLOWED with an Allow header', async () => {
    const res = await t.api().delete('/api/v1/counties/511425/shops');
    expect(res.status).to.equal(405);
    expect(res.body.error.code).to.equal('METHOD_NOT_ALLOWED');
    expect(res.headers.allow).to.equal('GET, HEAD, POST');
    const put = await t.api().put('/healthz');
    expect(put.status).to.equal(405);
    expect(put.headers.allow).to.equal('GET, HEAD');
    const unknown = await t.api().delete('/api/v1/no-such-thing');
    expect(unknown.status).to.equal(404);
  });

  it('a cursor that is not one the server returned is refused naming /query/cursor', async () => {
    const auth = await t.token('qingshen.official');
    const res = await t.api().get('/api/v1/counties/511425/shops?cursor=page-2').set('Authorization', auth);
    expect(res.status).to.equal(400);
    expect(res.body.error.details[0].field).to.equal('/query/cursor');
    const first = await t.api().get('/api/v1/counties/511425/shops?limit=1').set('Authorization', auth);
    const next = await t.api().get(`/api/v1/counties/511425/shops?limit=1&cursor=${first.body.nextCursor}`).set('Authorization', auth);
    expect(next.status).to.equal(200);
    expect(next.body.items[0].id).to.not.equal(first.body.items[0].id);
  });
});
