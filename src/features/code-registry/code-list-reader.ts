// Reads a list of issued unit codes as it streams in — CSV (one code or trace URL per line, first
// column, optional header) or JSON (an array of codes, of objects with `code`/`unitCode`/`unit_code`,
// or `{"codes": [...]}`) — without ever holding more than one chunk and one value in memory.
import { StringDecoder } from 'node:string_decoder';
import { AppError } from '../../http/errors.js';

/** A value that should be a unit code, and where it was (line for CSV, byte-ish offset for JSON). */
export interface CodeCandidate {
  value: string;
  at: string;
}

/** No code, URL or key is anywhere near this long: longer means a broken or hostile file. */
const MAX_VALUE_CHARS = 4096;
const CODE_KEYS = new Set(['code', 'unitCode', 'unit_code', 'codes']);

function malformed(at: string, message: string): AppError {
  return new AppError('CODE_REGISTRY_MALFORMED', undefined, [{ field: '/body', code: 'malformed', message: `${at}: ${message}` }]);
}

export async function* readCsvCodes(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): AsyncGenerator<CodeCandidate> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let lineNo = 0;
  const take = (line: string): CodeCandidate | null => {
    lineNo++;
    let first = line.replace(/^\uFEFF/, '').split(/[,;\t]/, 1)[0]!.trim();
    if (first.startsWith('"') && first.endsWith('"') && first.length >= 2) first = first.slice(1, -1).trim();
    if (first === '') return null;
    // A header names the column: no digits in it.
    if (lineNo === 1 && !/[0-9]/.test(first)) return null;
    return { value: first, at: `line ${lineNo}` };
  };
  for await (const chunk of source) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const c = take(pending.slice(0, nl).replace(/\r$/, ''));
      pending = pending.slice(nl + 1);
      if (c) yield c;
    }
    if (pending.length > MAX_VALUE_CHARS) throw malformed(`line ${lineNo + 1}`, `longer than ${MAX_VALUE_CHARS} characters`);
  }
  pending += decoder.end();
  const last = take(pending.replace(/\r$/, ''));
  if (last) yield last;
}

type Frame = { kind: 'array'; takes: boolean } | { kind: 'object'; key: string | null; expectKey: boolean; takes: boolean };

/**
 * A small streaming JSON tokenizer: checks the structure (brackets, commas, colons, string escapes)
 * and yields the string or number values that stand where codes stand. Anything else is skipped.
 */
export async function* readJsonCodes(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): AsyncGenerator<CodeCandidate> {
  const decoder = new StringDecoder('utf8');
  const stack: Frame[] = [];
  let offset = 0;
  let token: { kind: 'string' | 'bare'; text: string; escape: boolean; unicode: number } | null = null;
  let expectValue = true; // at the top, or after '[' ',' ':'
  let done = false;
  let count = 0;
  const at = () => `character ${offset}`;
  const takesHere = (): boolean => {
    const top = stack[stack.length - 1];
    if (!top) return false;
    if (top.kind === 'array') return top.takes;
    return top.key !== null && CODE_KEYS.has(top.key) && top.key !== 'codes';
  };
  const valueDone = () => {
    expectValue = false;
    if (stack.length === 0) done = true;
  };
  const finishToken = function* (): Generator<CodeCandidate> {
    const t = token!;
    token = null;
    const top = stack[stack.length - 1];
    if (t.kind === 'string' && top?.kind === 'object' && top.expectKey) {
      top.key = t.text;
      top.expectKey = false;
      return;
    }
    if (t.kind === 'bare' && !/^(true|false|null|-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?)$/.test(t.text)) throw malformed(at(), `unexpected ${t.text.slice(0, 20)}`);
    if (takesHere() && (t.kind === 'string' || /^[0-9]+$/.test(t.text))) {
      count++;
      yield { value: t.text, at: `value ${count} (${at()})` };
    }
    valueDone();
  };
  for await (const chunk of source) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    for (const ch of text) {
      offset++;
      if (token?.kind === 'string') {
        if (token.unicode > 0) {
          if (!/[0-9a-fA-F]/.test(ch)) throw malformed(at(), 'bad \\u escape');
          token.unicode--;
          continue;
        }
        if (token.escape) {
          token.escape = false;
          if (ch === 'u') token.unicode = 4;
          else if (!'"\\/bfnrt'.includes(ch)) throw malformed(at(), `bad escape \\${ch}`);
          else token.text += ch === '"' || ch === '\\' || ch === '/' ? ch : '';
          continue;
        }
        if (ch === '\\') token.escape = true;
        else if (ch === '"') yield* finishToken();
        else if (ch < ' ') throw malformed(at(), 'control character in a string');
        else token.text += ch;
        if (token && token.text.length > MAX_VALUE_CHARS) throw malformed(at(), `a value longer than ${MAX_VALUE_CHARS} characters`);
        continue;
      }
      if (token?.kind === 'bare') {
        if (/[A-Za-z0-9.+-]/.test(ch)) {
          token.text += ch;
          if (token.text.length > MAX_VALUE_CHARS) throw malformed(at(), `a value longer than ${MAX_VALUE_CHARS} characters`);
          continue;
        }
        yield* finishToken();
      }
      if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t' || ch === '\uFEFF') continue;
      if (done) throw malformed(at(), 'text after the end of the document');
      const top = stack[stack.length - 1];
      if (ch === '"') {
        if (!(expectValue || (top?.kind === 'object' && top.expectKey))) throw malformed(at(), 'a string where a comma or bracket belongs');
        token = { kind: 'string', text: '', escape: false, unicode: 0 };
      } else if (ch === '[' || ch === '{') {
        if (!expectValue) throw malformed(at(), `unexpected ${ch}`);
        const takes = stack.length === 0 || (top?.kind === 'object' && top.key === 'codes');
        stack.push(ch === '[' ? { kind: 'array', takes } : { kind: 'object', key: null, expectKey: true, takes });
        expectValue = ch === '[';
      } else if (ch === ']' || ch === '}') {
        const want = ch === ']' ? 'array' : 'object';
        if (top?.kind !== want) throw malformed(at(), `unexpected ${ch}`);
        stack.pop();
        valueDone();
      } else if (ch === ',') {
        if (expectValue || !top) throw malformed(at(), 'unexpected ,');
        if (top.kind === 'object') {
          top.expectKey = true;
          top.key = null;
        } else expectValue = true;
      } else if (ch === ':') {
        if (top?.kind !== 'object' || top.expectKey || top.key === null || expectValue) throw malformed(at(), 'unexpected :');
        expectValue = true;
      } else {
        if (!expectValue) throw malformed(at(), `unexpected ${ch}`);
        token = { kind: 'bare', text: ch, escape: false, unicode: 0 };
      }
    }
  }
  if (token?.kind === 'bare') yield* finishToken();
  if (token || stack.length || !done) throw malformed(at(), 'the document ends too early');
}
