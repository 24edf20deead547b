// A string matching a pattern, as the contract test builds probes. The examples the documents show
// are made by src/shared/schemas/example.ts and src/http/request-examples.ts.
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
