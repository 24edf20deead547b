// ajv validators compiled once per schema. Bodies are validated strictly (no coercion, unknown
// fields refused); path and query parameters arrive as text and are coerced to their declared types.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { SCHEMA_ERROR_CODES, type JsonSchema } from '../shared/schemas/builders.js';
import { AppError, type ErrorCode, type ErrorDetail } from './errors.js';
import { CLIENT_ID_EXPECTED, CLIENT_ID_PATTERN } from '../shared/client-id.js';
import { PLAIN_WORDS } from '../shared/plain-words.js';

// ajv-formats is CommonJS with a default export; under NodeNext the callable sits on .default.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, coerceTypes: coerce ? 'array' : false, useDefaults: coerce, strictRequired: false, allowUnionTypes: true });
  addFormats(ajv);
  return ajv;
}

const bodyAjv = makeAjv(false);
const paramAjv = makeAjv(true);
const cache = new WeakMap<JsonSchema, ValidateFunction>();
/** Validators compiled so far: a test checks requests do not compile new ones (a profile once showed it). */
export const validatorStats = { compiled: 0 };
const paramCache = new WeakMap<JsonSchema, ValidateFunction>();

export function compile(schema: JsonSchema, coerce = false): ValidateFunction {
  const c = coerce ? paramCache : cache;
  let fn = c.get(schema);
  if (!fn) {
    fn = (coerce ? paramAjv : bodyAjv).compile(schema);
    validatorStats.compiled++;
    c.set(schema, fn);
  }
  return fn;
}

/** "exactly one of" in words, from the required sets (and constants) of a oneOf's branches. */
function oneOfWords(branches: JsonSchema[]): string {
  return branches.map((b) => {
    const req = ((b.required as string[] | undefined) ?? []).join(' and ');
    const consts = Object.entries((b.properties ?? {}) as Record<string, JsonSchema>).filter(([, p]) => p.const !== undefined).map(([k, p]) => `${k} ${JSON.stringify(p.const)} or none`);
    return consts.length ? `${req} (${consts.join(', ')})` : req;
  }).join(', ');
}

function toDetail(where: string, e: ErrorObject, root: JsonSchema): ErrorDetail {
  let field = `/${where}${e.instancePath}`;
  let message = e.message ?? 'is not valid';
  if (e.keyword === 'not') {
    // not: { required: [k] }: the field is not allowed in this case; the rule's description says when.
    const negated = schemaAt(root, `${e.schemaPath}/x`) as JsonSchema | undefined;
    const rule = schemaAt(root, e.schemaPath.replace(/\/(?:then|else)\/not$/, '/x')) as JsonSchema | undefined;
    const only = Array.isArray(negated?.required) && negated.required.length === 1 ? String(negated.required[0]) : null;
    if (only) return { field: `${field}/${only}`, code: 'not_allowed', message: typeof rule?.description === 'string' ? `is not allowed here: ${rule.description}` : 'is not allowed here' };
  } else if (e.keyword === 'oneOf') {
    const branches = schemaAt(root, `${e.schemaPath}/x`) as JsonSchema[] | undefined;
    if (Array.isArray(branches) && branches.every((b) => Array.isArray(b.required))) return { field, code: 'one_of', message: `give exactly one of ${oneOfWords(branches)}` };
  } else if (e.keyword === 'pattern' && String((e.params as { pattern: string }).pattern).length > 60) {
    // A long pattern (phone numbers) helps nobody in a message; the field's description says the form.
    message = 'is not in the accepted form (see the field’s description in docs/api.md)';
  }
  if (e.keyword === 'required') {
    field += `/${(e.params as { missingProperty: string }).missingProperty}`;
    message = 'is required';
  } else if (e.keyword === 'additionalProperties') {
    field += `/${(e.params as { additionalProperty: string }).additionalProperty}`;
    message = 'is not a known field';
  } else if (e.keyword === 'pattern' && (e.params as { pattern?: string }).pattern === CLIENT_ID_PATTERN) {
    // A client id: say what is expected in words, naming the field, not the regular expression.
    const name = field.split('/').pop() ?? 'id';
    const words = PLAIN_WORDS.INVALID_CLIENT_ID!;
    return { field, code: 'invalid_client_id', message: `${name} must be ${CLIENT_ID_EXPECTED}`, message_zh: `${name}：${words.zh}`, plain: { zh: words.zh, en: words.en } };
  }
  return { field, code: e.keyword, message };
}

const escapePointer = (k: string): string => k.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Every string (and object key) holding U+0000, as details: PostgreSQL refuses NUL in text, so such a
 * value must be refused here, by field, before it reaches SQL. No schema can let NUL through.
 */
export function nulDetails(where: string, value: unknown, pointer = '', depth = 0, out: ErrorDetail[] = []): ErrorDetail[] {
  if (out.length >= 20 || depth > 64) return out;
  if (typeof value === 'string') {
    if (value.includes('\u0000')) out.push({ field: `/${where}${pointer}`, code: 'nul', message: 'must not contain the character U+0000' });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => nulDetails(where, v, `${pointer}/${i}`, depth + 1, out));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = `${pointer}/${escapePointer(k.replace(/\u0000/g, '\\u0000'))}`;
      if (k.includes('\u0000')) out.push({ field: `/${where}${p}`, code: 'nul', message: 'a field name must not contain the character U+0000' });
      nulDetails(where, v, p, depth + 1, out);
    }
  }
  return out;
}

/** The schema object an ajv error's keyword sits in, found by walking its schemaPath from the root. */
function schemaAt(root: JsonSchema, schemaPath: string): JsonSchema | undefined {
  const parts = schemaPath.replace(/^#\/?/, '').split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p).replace(/~1/g, '/').replace(/~0/g, '~'));
  let cur: unknown = root;
  for (const p of parts.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur !== null && typeof cur === 'object' ? (cur as JsonSchema) : undefined;
}

/** The stable code of a refusal: the schemas' own (SCHEMA_ERROR_CODES) when all problems agree on one. */
function refusalCode(root: JsonSchema, errors: ErrorObject[], nul: number): ErrorCode {
  if (nul > 0 || errors.length === 0) return 'VALIDATION_FAILED';
  // The schema's own code says "right type, wrong form"; a value of the wrong type is malformed (400).
  const codes = new Set(errors.map((e) => { const s = e.keyword === 'type' ? undefined : schemaAt(root, e.schemaPath); return s ? SCHEMA_ERROR_CODES.get(s) : undefined; }));
  const [only] = codes;
  return codes.size === 1 && only !== undefined ? (only as ErrorCode) : 'VALIDATION_FAILED';
}

/** Validates (and for params, coerces in place); throws VALIDATION_FAILED naming every bad field. */
export function validate(where: 'body' | 'query' | 'params', schema: JsonSchema, value: unknown): void {
  const nul = nulDetails(where, value);
  const fn = compile(schema, where !== 'body');
  if (!fn(value) || nul.length) {
    // Inside an "exactly one of" the branches' own failures only repeat it: one line per oneOf.
    const oneOfs = (fn.errors ?? []).filter((e) => e.keyword === 'oneOf');
    // An if/then/else failure is said by the then/else branch's own errors.
    const errors = (fn.errors ?? []).filter((e) => e.keyword !== 'if' && !oneOfs.some((o) => o !== e && e.schemaPath.startsWith(`${o.schemaPath}/`)));
    const details = [...nul, ...errors.map((e) => toDetail(where, e, schema))];
    // One line per field is enough; ajv may report the same field for several keywords.
    const seen = new Set<string>();
    const unique = details.filter((d) => {
      const k = `${d.field}|${d.code}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    throw new AppError(refusalCode(schema, errors, nul.length), undefined, unique);
  }
}
