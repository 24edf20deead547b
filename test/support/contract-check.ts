// The document tells the truth: every response the app sends to any test is checked against the
// OpenAPI operation that answered it (docs/openapi.json is generated from the same route data). The
// status must be one the operation declares, the content type one declared for that status, and a
// JSON body must validate (ajv, draft 2020-12) against its schema; 405/404 answers that no operation
// matched must be the error envelope. Drift is collected here and fails the test that saw it
// (test/support/root-hooks.ts); set CONTRACT_DRIFT_LOG=file to also append each drift there as JSON.
import { appendFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { buildOpenApi, toOpenApiPath } from '../../src/http/openapi.js';
import { allRoutes } from '../../src/http/routes.js';
import { API_VERSION } from '../../src/http/app.js';
import type { ObservedResponse } from '../../src/http/response-observer.js';

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

interface MediaType { schema?: unknown }
interface Operation { operationId: string; responses: Record<string, { content?: Record<string, MediaType> }> }

export interface Drift {
  operation: string;
  request: string;
  status: number;
  contentType: string | undefined;
  problem: string;
  /** The start of the body, to see what was answered. */
  body?: string;
}

const mediaType = (ct: string | undefined): string => (ct ?? '').split(';')[0]!.trim().toLowerCase();

export class ContractChecker {
  readonly doc = buildOpenApi(allRoutes(), API_VERSION) as { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();
  /** Drift seen since the last take(). */
  private pending: Drift[] = [];
  /** How many responses were checked, for the run's closing line. */
  checked = 0;

  constructor() {
    this.ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addKeyword({ keyword: 'example' });
    this.ajv.addSchema({ $id: 'openapi', $defs: JSON.parse(JSON.stringify(this.doc.components.schemas).replace(/"#\/components\/schemas\//g, '"#/$defs/')) });
  }

  private validator(key: string, schema: unknown): ValidateFunction {
    let v = this.validators.get(key);
    if (!v) {
      // $refs of the document (#/components/schemas/…) resolve against the document's components.
      const rewritten = JSON.parse(JSON.stringify(schema).replace(/"#\/components\/schemas\//g, '"openapi#/$defs/'));
      v = this.ajv.compile(rewritten);
      this.validators.set(key, v);
    }
    return v;
  }

  private operationFor(method: string, routePath: string | null): { name: string; op: Operation } | null {
    if (!routePath) return null;
    const p = toOpenApiPath(routePath);
    const m = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
    const op = this.doc.paths[p]?.[m];
    return op ? { name: `${method.toUpperCase()} ${p}`, op } : null;
  }

  check(r: ObservedResponse): Drift[] {
    this.checked++;
    const drifts: Drift[] = [];
    const request = `${r.method} ${r.path}`;
    const bodyText = r.body ? r.body.toString('utf8') : '';
    const drift = (operation: string, problem: string) =>
      drifts.push({ operation, request, status: r.status, contentType: r.contentType, problem, ...(bodyText ? { body: bodyText.slice(0, 300) } : {}) });
    const found = this.operationFor(r.method, r.routePath);
    if (!found) {
      // No operation answered: an unknown path (404), a wrong method (405) or a request refused before
      // routing (bad charset, unreadable body…). Only the error envelope may come back.
      if (r.status < 400) {
        // A route of the app not in the document (e.g. the document itself).
        if (r.path === '/api/v1/openapi.json') return drifts;
        drift(`(no operation for ${request})`, `status ${r.status} from a route the OpenAPI document does not list`);
      } else this.checkJson(`error:${r.status}`, { $ref: `#/components/schemas/Error` }, r, bodyText, (p) => drift(`(no operation: ${request})`, p));
      return this.record(drifts);
    }
    const { name, op } = found;
    const declared = op.responses[String(r.status)];
    if (!declared) {
      drift(name, `status ${r.status} is not declared (declared: ${Object.keys(op.responses).join(', ')})`);
      return this.record(drifts);
    }
    const content = declared.content ?? {};
    const types = Object.keys(content);
    if (r.method === 'HEAD' || r.status === 204 || r.status === 304) {
      if (bodyText && r.method !== 'HEAD') drift(name, `status ${r.status} must have no body`);
      return this.record(drifts);
    }
    if (!types.length) {
      if (bodyText) drift(name, `status ${r.status} is declared without a body, but one was sent`);
      return this.record(drifts);
    }
    const sent = mediaType(r.contentType);
    const match = types.find((t) => mediaType(t) === sent);
    if (!match) {
      drift(name, `content type ${r.contentType ?? '(none)'} is not declared for ${r.status} (declared: ${types.join(', ')})`);
      return this.record(drifts);
    }
    const sample = process.env.CONTRACT_SAMPLE_LOG;
    if (sample && r.status < 300 && sent === 'application/json' && r.body && r.body.length < 200_000) appendFileSync(sample, JSON.stringify({ operation: name, status: r.status, body: bodyText }) + '\n');
    const schema = content[match]!.schema;
    if (schema === undefined) return this.record(drifts);
    if (sent === 'application/json' || sent.endsWith('+json')) {
      this.checkJson(`${name} ${r.status} ${match}`, schema, r, bodyText, (p) => drift(name, p));
    } else if (r.body !== null) {
      const v = this.validator(`${name} ${r.status} ${match}`, schema);
      if (!v(bodyText)) drift(name, `the ${match} body does not match its schema: ${this.ajv.errorsText(v.errors, { dataVar: 'body' })}`);
    }
    return this.record(drifts);
  }

  private checkJson(key: string, schema: unknown, r: ObservedResponse, text: string, fail: (problem: string) => void): void {
    if (r.body === null) return; // too large to keep: status and content type were checked
    if (r.status >= 400 && r.method === 'HEAD') return;
    if (mediaType(r.contentType) !== 'application/json') {
      fail(`content type ${r.contentType ?? '(none)'} where JSON is declared`);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      fail('the body is not JSON');
      return;
    }
    let v: ValidateFunction;
    try {
      v = this.validator(key, schema);
    } catch (e) {
      fail(`its schema does not compile: ${(e as Error).message}`);
      return;
    }
    if (!v(value)) {
      const errors = (v.errors ?? []).slice(0, 6).map((e) => `${e.instancePath || '(body)'} ${e.message ?? ''}${e.params && Object.keys(e.params).length ? ' ' + JSON.stringify(e.params) : ''}`);
      fail(`the body does not match the schema: ${errors.join('; ')}`);
    }
  }

  private record(drifts: Drift[]): Drift[] {
    if (drifts.length) {
      this.pending.push(...drifts);
      const log = process.env.CONTRACT_DRIFT_LOG;
      if (log) for (const d of drifts) appendFileSync(log, JSON.stringify(d) + '\n');
    }
    return drifts;
  }

  /** The drift seen since the last call, and forget it. */
  take(): Drift[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}

export function describeDrift(drifts: Drift[]): string {
  const lines = drifts.slice(0, 10).map((d) => `  - ${d.operation} (request ${d.request}) answered ${d.status} ${d.contentType ?? ''}: ${d.problem}${d.body ? `\n      body: ${d.body}` : ''}`);
  const more = drifts.length > 10 ? `\n  … and ${drifts.length - 10} more` : '';
  return `The app answered what docs/openapi.json does not describe (fix the route's responses in its *-routes.ts, or the code; then npm run docs):\n${lines.join('\n')}${more}`;
}
