// The one table `npm run bench` prints (Markdown, so docs/performance.md can keep it as printed):
// every row with its database, its baseline and ratio, its ratio to pgbench TPC-B at 16 clients on the
// same server, and the figure main had before the batch-native work (bench/before.json) beside it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchDatabase, BenchRow } from './harness.js';

export interface BeforeRow {
  section: string;
  /** A regular expression the row's operation matches. */
  operation: string;
  concurrency: number;
  perSecond?: number;
  p99Ms?: number;
  seconds?: number;
  text: string;
}

export function loadBefore(file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'before.json')): BeforeRow[] {
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { rows: BeforeRow[] }).rows;
}

export const COLUMNS = ['section', 'operation', 'database', 'clients', 'ops/s', 'p50 ms', 'p99 ms', 'app CPU ms/op', 'db CPU ms/op', 'baseline', 'baseline ops/s', 'ratio', 'vs pgbench', 'main before'] as const;

const num = (n: number | undefined, digits: number): string => (n === undefined || !Number.isFinite(n) ? '-' : n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const rate = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '-' : n >= 100 ? num(n, 0) : num(n, 1));

function beforeFor(row: BenchRow, before: BeforeRow[]): BeforeRow | undefined {
  return before.find((b) => b.section === row.section && b.concurrency === row.concurrency && new RegExp(b.operation).test(row.operation));
}

/** The table's cells: one line per row, then main's figures that no row of this run matched. */
export function tableCells(rows: BenchRow[], pgbenchTps: Map<BenchDatabase, number>, before: BeforeRow[]): string[][] {
  const out: string[][] = [];
  const matched = new Set<BeforeRow>();
  for (const r of rows) {
    const b = beforeFor(r, before);
    if (b) matched.add(b);
    const pg = r.database ? pgbenchTps.get(r.database) : undefined;
    out.push([
      r.section, r.operation, r.database ?? '-', String(r.concurrency), rate(r.perSecond), num(r.p50Ms, 1), num(r.p99Ms, 1),
      num(r.appCpuMsPerOp, 2), num(r.dbCpuMsPerOp, 2),
      r.baselineName ?? '-', rate(r.baselinePerSecond), num(r.perSecond / (r.baselinePerSecond ?? NaN), 3),
      r.vsPgbench && pg !== undefined ? num(r.perSecond / pg, 3) : '-',
      b?.text ?? '-',
    ]);
  }
  for (const b of before) {
    if (!matched.has(b)) out.push([b.section, b.operation.replace(/^\^|\$$|\\b/g, '').replace(/\\/g, ''), '-', String(b.concurrency), '-', '-', '-', '-', '-', '-', '-', '-', '-', `${b.text} (not measured in this run)`]);
  }
  return out;
}

export function formatTable(rows: BenchRow[], pgbenchTps: Map<BenchDatabase, number>, before: BeforeRow[]): string {
  const cells = tableCells(rows, pgbenchTps, before);
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const numeric = new Set<string>(['clients', 'ops/s', 'p50 ms', 'p99 ms', 'app CPU ms/op', 'db CPU ms/op', 'baseline ops/s', 'ratio', 'vs pgbench']);
  const lines = [`| ${COLUMNS.join(' | ')} |`, `|${COLUMNS.map((c) => (numeric.has(c) ? '---:' : '---')).join('|')}|`];
  for (const c of cells) lines.push(`| ${c.map(esc).join(' | ')} |`);
  return lines.join('\n');
}

/** Reads a table printed by formatTable back into rows of named cells (for the smoke test and tools). */
export function parseTable(text: string): Array<Record<(typeof COLUMNS)[number], string>> {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('|'));
  const head = lines.findIndex((l) => l.startsWith(`| ${COLUMNS[0]} | ${COLUMNS[1]} |`));
  if (head < 0) return [];
  const split = (l: string) => l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
  const names = split(lines[head]!);
  const out: Array<Record<(typeof COLUMNS)[number], string>> = [];
  for (const l of lines.slice(head + 2)) {
    const c = split(l);
    if (c.length !== names.length) break;
    out.push(Object.fromEntries(names.map((n, i) => [n, c[i]!])) as Record<(typeof COLUMNS)[number], string>);
  }
  return out;
}
