// A request example for every operation with a body, made from the body's JSON Schema: the schema's
// own `examples` where it gives one, else a value built from its type, format, enum, bounds and
// pattern. test/http/openapi-contract.test.ts validates every example against its schema, so an
// example cannot show a request the server would refuse for its shape.
import type { JsonSchema } from '../shared/schemas/builders.js';

/** A string matching a (simple) regular expression: the first alternative, the fewest repetitions. */
export function sampleOfPattern(pattern: string, minLength = 0): string | undefined {
  for (const repeat of [1, Math.max(1, minLength)]) {
    const s = sampleWith(pattern, repeat);
    if (s !== undefined && s.length >= minLength) return s;
  }
  return undefined;
}

function sampleWith(pattern: string, repeat: number): string | undefined {
  let i = 0;
  const src = pattern;
  const parseAlt = (): string => {
    const alts: string[] = [];
    let cur = '';
    while (i < src.length && src[i] !== ')') {
      if (src[i] === '|') {
        alts.push(cur);
        cur = '';
        i++;
        continue;
      }
      cur += parseQuantified();
    }
    alts.push(cur);
    return alts[0] ?? '';
  };
  const parseAtom = (): string => {
    const c = src[i]!;
    if (c === '^' || c === '$') {
      i++;
      return '';
    }
    if (c === '(') {
      i++;
      if (src.startsWith('?:', i)) i += 2;
      const inner = parseAlt();
      i++; // ')'
      return inner;
    }
    if (c === '[') {
      const end = src.indexOf(']', i + 2);
      const body = src.slice(i + 1, end);
      i = end + 1;
      if (body.startsWith('^')) return 'x';
      return body[0] === '\\' ? body[1]! : body[0]!;
    }
    if (c === '\\') {
      const e = src[i + 1]!;
      i += 2;
      return ({ d: '0', S: 'x', w: 'a', s: ' ' } as Record<string, string>)[e] ?? e;
    }
    if (c === '.') {
      i++;
      return 'x';
    }
    i++;
    return c;
  };
  const parseQuantified = (): string => {
    const atom = parseAtom();
    const q = src[i];
    if (q === '{') {
      const end = src.indexOf('}', i);
      const n = Number(src.slice(i + 1, end).split(',')[0]);
      i = end + 1;
      return atom.repeat(n);
    }
    if (q === '+' || q === '*') {
      i++;
      return atom.repeat(q === '+' ? repeat : repeat - 1);
    }
    if (q === '?') {
      i++;
      return '';
    }
    return atom;
  };
  try {
    const s = parseAlt();
    return new RegExp(pattern, 'u').test(s) ? s : undefined;
  } catch {
    return undefined;
  }
}

const FORMAT_EXAMPLES: Record<string, string> = {
  uuid: '0193a6b2-5c1e-7d3f-8a4b-2c6d8e0f1a2b',
  date: '2026-03-15',
  'date-time': '2026-03-15T02:30:00.000Z',
  email: 'official@example.org',
  uri: 'https://example.org/',
};

export function exampleOf(schema: JsonSchema | undefined, depth = 0): unknown {
  if (!schema || depth > 12) return undefined;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if (schema.example !== undefined) return schema.example;
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum.find((v) => v !== null);
  if (schema.default !== undefined) return schema.default;
  for (const k of ['oneOf', 'anyOf'] as const) {
    const options = schema[k] as JsonSchema[] | undefined;
    if (options) {
      const first = options.find((o) => o.type !== 'null') ?? options[0];
      const base = { ...schema };
      delete base[k];
      return exampleOf(mergeShallow(base, first ?? {}), depth + 1);
    }
  }
  if (Array.isArray(schema.allOf)) return exampleOf((schema.allOf as JsonSchema[]).reduce(mergeShallow, { ...schema, allOf: undefined }), depth + 1);
  const type = Array.isArray(schema.type) ? (schema.type as string[]).find((t) => t !== 'null') : (schema.type as string | undefined);
  switch (type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((schema.required as string[] | undefined) ?? []);
      const out: Record<string, unknown> = {};
      // Required fields, then optional ones up to minProperties (PATCH bodies need more than the version).
      const min = typeof schema.minProperties === 'number' ? schema.minProperties : 0;
      for (const [k, s] of Object.entries(props)) if (required.has(k)) out[k] = exampleOf(s, depth + 1);
      for (const [k, s] of Object.entries(props)) {
        if (Object.keys(out).length >= min) break;
        if (!(k in out)) out[k] = exampleOf(s, depth + 1);
      }
      for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
      return out;
    }
    case 'array': {
      const n = Math.max(1, typeof schema.minItems === 'number' ? schema.minItems : 1);
      const item = exampleOf(schema.items as JsonSchema, depth + 1);
      return item === undefined ? [] : Array.from({ length: n }, () => item);
    }
    case 'integer':
    case 'number': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : undefined;
      const max = typeof schema.maximum === 'number' ? schema.maximum : undefined;
      const v = min !== undefined ? Math.max(min, Math.min(1, max ?? 1)) : Math.min(1, max ?? 1);
      return v;
    }
    case 'boolean':
      return true;
    case 'string': {
      if (typeof schema.format === 'string' && FORMAT_EXAMPLES[schema.format]) return FORMAT_EXAMPLES[schema.format];
      if (typeof schema.pattern === 'string') {
        const s = sampleOfPattern(schema.pattern, Number(schema.minLength ?? 0));
        if (s !== undefined && s.length >= Number(schema.minLength ?? 0)) return s;
      }
      const min = Number(schema.minLength ?? 1);
      const max = Number(schema.maxLength ?? 40);
      return 'example text'.padEnd(min, 'x').slice(0, Math.max(min, Math.min(max, 12)));
    }
    default:
      return undefined;
  }
}

function mergeShallow(a: JsonSchema, b: JsonSchema): JsonSchema {
  return {
    ...a, ...b,
    ...(a.properties || b.properties ? { properties: { ...((a.properties ?? {}) as JsonSchema), ...((b.properties ?? {}) as JsonSchema) } } : {}),
    ...(a.required || b.required ? { required: [...new Set([...((a.required ?? []) as string[]), ...((b.required ?? []) as string[])])] } : {}),
  };
}
