// Guard: dates are the county's dates (DESIGN rule 12). An instant becomes a calendar day, month or
// year only through src/shared/business-day.ts (businessDay and its helpers, in the county's zone).
// This test reads src/, terminals/, bench/ and seeds/ and fails on the ways a UTC date sneaks in:
// slicing ISO timestamps, UTC calendar getters, fixed-offset tricks, ad-hoc Intl date formatters.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DIRS = ['src', 'terminals', 'bench', 'seeds'];
const HOME = 'src/shared/business-day.ts';

const RULES: Array<{ name: string; re: RegExp }> = [
  { name: 'slices the UTC date out of toISOString()', re: /toISOString\(\)\s*\.\s*(slice|substring|substr|split)\(/ },
  { name: 'slices a date or month out of an ISO timestamp', re: /\b\w*(Time|time|At|_at|Iso|iso|Timestamp|timestamp)\b\)?\s*\.\s*(slice|substring|substr)\(0,\s*(7|10)\)/ },
  { name: 'takes a calendar field in UTC', re: /\.getUTC(FullYear|Month|Date|Day)\(|\bDate\.UTC\(/ },
  { name: 'shifts an instant by a fixed zone offset', re: /new Date\([^)]*[+-]\s*\w*(OFFSET|[Oo]ffset)\b/ },
  { name: 'formats a date with its own Intl.DateTimeFormat', re: /new Intl\.DateTimeFormat\(/ },
];

/** Places that match a rule and are fine, each with the reason. */
const ALLOWED: Array<{ file: string; contains: string; reason: string }> = [
  { file: 'terminals/printing/layout.ts', contains: 'new Intl.DateTimeFormat(', reason: 'prints the clock time (date and hh:mm) of an instant on the county\'s clock, with the county\'s zone' },
  { file: 'src/features/dashboard/static/app.js', contains: "timeZone: tz, timeZoneName: 'shortOffset'", reason: 'the browser page (no build step, cannot import business-day.ts) names the county zone\'s UTC offset beside a time' },
  { file: 'src/features/dashboard/static/app.js', contains: "new Intl.DateTimeFormat('en-GB', { timeZone: tz,", reason: 'the browser page shows an instant on the county\'s clock, in the county\'s zone, with the zone stated' },
  { file: 'bench/sections/reconciliation.ts', contains: 'Date.UTC(year + 1, 0, 2)', reason: 'an instant after the generated year, not a date' },
  { file: 'bench/sections/reconciliation.ts', contains: 'Date.UTC(year, 5, 15, 3)', reason: 'an instant in the middle of the generated year (a day to write again), not a date' },
  { file: 'bench/sections/dashboard.ts', contains: 'Date.UTC(YEAR + 1, 0, 2)', reason: 'an instant after the generated year, not a date' },
];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (/\.(ts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

export function findUtcDates(): string[] {
  const found: string[] = [];
  for (const d of DIRS) {
    if (!fs.existsSync(path.join(ROOT, d))) continue;
    for (const f of files(path.join(ROOT, d))) {
      const rel = path.relative(ROOT, f).split(path.sep).join('/');
      if (rel === HOME) continue;
      fs.readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        if (/^\s*(\/\/|\*)/.test(line)) return; // comments may name what they avoid
        for (const r of RULES) {
          if (!r.re.test(line)) continue;
          if (ALLOWED.some((a) => a.file === rel && line.includes(a.contains))) continue;
          found.push(`${rel}:${i + 1}: ${r.name}: ${line.trim()}`);
        }
      });
    }
  }
  return found;
}

describe('dates are the county\'s dates: no UTC dates in src/, terminals/, bench/, seeds/', () => {
  it(`derives every calendar day from an instant through ${HOME} (businessDay)`, () => {
    const found = findUtcDates();
    expect(found, `use businessDay(at, county.timezone) and its helpers from ${HOME} instead:\n${found.join('\n')}`).to.deep.equal([]);
  });

  it('catches the known ways a UTC date sneaks in, and every allowed place still exists', () => {
    const bad = [
      'const today = now.toISOString().slice(0, 10);',
      'return rec.eventTime.slice(0, 10);',
      'const month = row.recorded_at.slice(0, 7);',
      'const m = d.getUTCMonth() + 1;',
      'const localDay = (ms: number) => new Date(ms + TZ_OFFSET).toISOString();',
      "const y = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric' }).format(now);",
    ];
    for (const line of bad) expect(RULES.some((r) => r.re.test(line)), line).to.equal(true);
    for (const fine of ['const from = `${today.slice(0, 4)}-01`;', 'const to = q.to ?? today.slice(0, 7);', "code.slice(0, 7)"]) {
      expect(RULES.some((r) => r.re.test(fine)), fine).to.equal(false);
    }
    for (const a of ALLOWED) expect(fs.readFileSync(path.join(ROOT, a.file), 'utf8'), `${a.file} (${a.reason})`).to.include(a.contains);
  });
});
