// One example value for a JSON Schema, built from the schema itself: a schema's own `examples` (or
// `default`, `const`, first `enum` value) wins; objects are assembled field by field from their
// properties' examples. docs/api.md and the OpenAPI document show these, and
// test/http/schema-examples.test.ts checks every one validates against its schema (and that the
// server takes every request example), so the documented examples cannot drift from what is accepted.
import type { JsonSchema } from './builders.js';

/** Readable values for common field names that carry no `examples` of their own. */
const BY_NAME: Record<string, unknown> = {
  name: '张建国', village: '红星村', nameZh: '红星农资店', nameEn: 'Hongxing Farm Supplies', address: '城关镇解放路 12 号',
  reason: '收银员录错数量', reference: 'WX20260315-000123', note: '包装已清洗', clerkName: '李芳', username: 'clerk.hongxing',
  manufacturer: '四川国光农化股份有限公司', productName: '草甘膦 41% 水剂', shopName: '红星农资店', packSizeLabel: '200 mL',
  timezone: 'Asia/Shanghai', message: 'is required', code: 'VALIDATION_FAILED',
};

const EXAMPLE_UUID = '01960f3c-8a2e-7b41-9c3d-5e6f7a8b9c0d';

function firstNonNull(alts: JsonSchema[]): JsonSchema | undefined {
  return alts.find((a) => a.type !== 'null') ?? alts[0];
}

function stringExample(schema: JsonSchema, key: string | undefined): string {
  switch (schema.format) {
    case 'uuid': return EXAMPLE_UUID;
    case 'date-time': return '2026-03-15T02:30:00.000Z';
    case 'date': return '2026-03-15';
    case 'email': return 'clerk@example.cn';
    case 'uri': return 'https://example.cn/';
  }
  const fits = (v: string) => (schema.maxLength === undefined || v.length <= (schema.maxLength as number))
    && (schema.minLength === undefined || v.length >= (schema.minLength as number))
    && (typeof schema.pattern !== 'string' || new RegExp(schema.pattern, 'u').test(v));
  if (key !== undefined && typeof BY_NAME[key] === 'string' && fits(BY_NAME[key] as string)) return BY_NAME[key] as string;
  if (typeof schema.pattern === 'string') {
    // Open-ended repetitions (* + {n,}) grow until the string is long enough.
    for (let extra = 0; extra <= 64; extra++) {
      const v = stringMatching(schema.pattern, extra);
      if (v === null) break;
      if (fits(v)) return v;
    }
  }
  const min = typeof schema.minLength === 'number' ? schema.minLength : 1;
  return 'x'.repeat(Math.max(1, min));
}

function numberExample(schema: JsonSchema, key: string | undefined): number {
  const lo = typeof schema.minimum === 'number' ? schema.minimum : Number.NEGATIVE_INFINITY;
  const hi = typeof schema.maximum === 'number' ? schema.maximum : Number.POSITIVE_INFINITY;
  let v = key && /Fen$/.test(key) ? 1500 : key && /(quantity|containers|count|Count|Quantity)$/i.test(key) ? 2 : 1;
  if (key && /[gG]rams$/.test(key)) v = 850;
  if (key && /Kg$/.test(key)) v = 12.5;
  if (v < lo) v = lo;
  if (v > hi) v = hi;
  return schema.type === 'integer' ? Math.round(v) : v;
}

/** An example for `schema`; `key` is the property name it sits under (for readable values). */
export function exampleFor(schema: JsonSchema | undefined, key?: string, depth = 0): unknown {
  if (!schema || depth > 12) return null;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return structuredClone(schema.examples[0]);
  if (schema.const !== undefined) return schema.const;
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum)) return (schema.enum as unknown[]).find((v) => v !== null) ?? schema.enum[0];
  if (Array.isArray(schema.anyOf) && schema.type === undefined) return exampleFor(firstNonNull(schema.anyOf as JsonSchema[]), key, depth + 1);
  if (Array.isArray(schema.oneOf) && schema.type === undefined) return exampleFor(firstNonNull(schema.oneOf as JsonSchema[]), key, depth + 1);
  const type = Array.isArray(schema.type) ? (schema.type as string[]).find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      // Required fields, the fields the first alternative of a oneOf/anyOf requires, and optional
      // fields that carry their own examples; the other optional fields are left out, so that an
      // example never names two of "exactly one of".
      const want = new Set<string>((schema.required as string[] | undefined) ?? []);
      const alt = (schema.oneOf ?? schema.anyOf) as JsonSchema[] | undefined;
      for (const k of ((alt?.[0]?.required as string[] | undefined) ?? [])) want.add(k);
      for (const [k, s] of Object.entries(props)) if (Array.isArray(s.examples) && !excludedByAlternatives(schema, k)) want.add(k);
      // A PATCH body (minProperties) names as many fields as it must, in order.
      const atLeast = typeof schema.minProperties === 'number' ? schema.minProperties : 0;
      for (const k of Object.keys(props)) if (want.size < atLeast && !excludedByAlternatives(schema, k)) want.add(k);
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(props)) if (want.has(k)) out[k] = exampleFor(s, k, depth + 1);
      // if/then/else rules (allOf): the fields the branch that applies to the example requires.
      for (const rule of (schema.allOf ?? []) as JsonSchema[]) {
        const branch = rule.if ? (matchesConsts(rule.if as JsonSchema, out) ? rule.then : rule.else) as JsonSchema | undefined : undefined;
        for (const k of ((branch?.required as string[] | undefined) ?? [])) if (!(k in out) && props[k]) out[k] = exampleFor(props[k], k, depth + 1);
      }
      return out;
    }
    case 'array': {
      const n = Math.max(1, typeof schema.minItems === 'number' ? schema.minItems : 1);
      if (schema.maxItems === 0) return [];
      return Array.from({ length: n }, () => exampleFor((schema.items ?? {}) as JsonSchema, singular(key), depth + 1));
    }
    case 'integer':
    case 'number':
      return numberExample(schema, key);
    case 'boolean':
      return false;
    case 'string':
      return stringExample(schema, key);
    case 'null':
      return null;
    default:
      return null;
  }
}

/** A field named by a later alternative of the object's oneOf/anyOf than the first (so not both). */
function excludedByAlternatives(schema: JsonSchema, k: string): boolean {
  const alt = (schema.oneOf ?? schema.anyOf) as JsonSchema[] | undefined;
  if (!alt?.length) return false;
  const first = new Set((alt[0]?.required as string[] | undefined) ?? []);
  return !first.has(k) && alt.some((a) => ((a.required as string[] | undefined) ?? []).includes(k));
}

function singular(key: string | undefined): string | undefined {
  if (!key) return key;
  return key.endsWith('ies') ? `${key.slice(0, -3)}y` : key.endsWith('s') ? key.slice(0, -1) : key;
}

/**
 * A string the (simple) regular expression matches: the first alternative, the least repetitions,
 * class members taken in turn so digits vary. Handles what the schemas use (classes, ranges, groups,
 * alternation, {n,m} + * ?, \\d \\S \\w); null when the result does not match after all.
 */
export function stringMatching(pattern: string, extra = 0): string | null {
  let i = 0;
  let turn = 0;
  const pickFrom = (chars: string): string => chars.charAt(turn++ % chars.length);
  const classChars = (): string => {
    // at '[' ; returns the members of the class in order
    i++;
    let negate = false;
    if (pattern[i] === '^') { negate = true; i++; }
    let members = '';
    while (i < pattern.length && pattern[i] !== ']') {
      let c = pattern[i]!;
      if (c === '\\') { c = escapeChars(pattern[i + 1]!); i += 2; members += c; continue; }
      if (pattern[i + 1] === '-' && pattern[i + 2] !== undefined && pattern[i + 2] !== ']') {
        const a = c.charCodeAt(0);
        const b = pattern[i + 2]!.charCodeAt(0);
        for (let k = a; k <= b; k++) members += String.fromCharCode(k);
        i += 3;
        continue;
      }
      members += c;
      i++;
    }
    i++;
    if (negate) return 'xyz7'.split('').filter((ch) => !members.includes(ch)).join('') || 'x';
    return members;
  };
  const escapeChars = (c: string): string => (c === 'd' ? '0123456789' : c === 'S' || c === 'w' ? 'x' : c === 's' ? ' ' : c);
  // Parses an alternation up to ')' or the end; returns the first alternative's text.
  const alternation = (): string => {
    const alts: string[] = [];
    let cur = '';
    while (i < pattern.length && pattern[i] !== ')') {
      if (pattern[i] === '|') { alts.push(cur); cur = ''; i++; continue; }
      let atom: () => string;
      const c = pattern[i]!;
      if (c === '^' || c === '$') { i++; continue; }
      if (c === '(') {
        i++;
        if (pattern[i] === '?' && pattern[i + 1] === ':') i += 2;
        const once = alternation();
        i++; // ')'
        atom = () => once;
      } else if (c === '[') {
        const members = classChars();
        atom = () => pickFrom(members);
      } else if (c === '\\') {
        const members = escapeChars(pattern[i + 1]!);
        i += 2;
        atom = () => pickFrom(members);
      } else if (c === '.') {
        i++;
        atom = () => 'x';
      } else {
        i++;
        atom = () => c;
      }
      let min = 1;
      const q = pattern[i];
      if (q === '{') {
        const close = pattern.indexOf('}', i);
        const [lo, hi] = pattern.slice(i + 1, close).split(',');
        min = Number(lo);
        if (hi === '') min += extra;
        i = close + 1;
      } else if (q === '+') { min = 1 + extra; i++; }
      else if (q === '*') { min = extra; i++; }
      else if (q === '?') { min = 0; i++; }
      for (let k = 0; k < min; k++) cur += atom();
    }
    alts.push(cur);
    return alts[0]!;
  };
  try {
    const out = alternation();
    return new RegExp(pattern, 'u').test(out) ? out : null;
  } catch {
    return null;
  }
}

/** Whether a value meets an `if` made of property constants (the only kind the schemas use). */
function matchesConsts(cond: JsonSchema, value: Record<string, unknown>): boolean {
  return Object.entries((cond.properties ?? {}) as Record<string, JsonSchema>).every(([k, p]) => (p.const === undefined ? true : value[k] === p.const));
}
