// What a bench section gets: the county server running as its own process (as `npm start` runs it)
// on a throwaway PostgreSQL database, reached over real HTTP; a knex pool of the bench process on the
// same database for setting data up; logins; and helpers to drive N concurrent clients for a while
// and read throughput, latency and the CPU time the server process (and PostgreSQL) spent per operation.
import fs from 'node:fs';
import type { Knex } from 'knex';

export type BenchDatabase = 'embedded' | 'external';

export interface BenchContext {
  baseUrl: string;
  /** The bench process's own pool on the server's database (setting data up, raw baselines). */
  knex: Knex;
  /** "Bearer …" for a demo user. */
  token(username: string): Promise<string>;
  seconds: number;
  concurrencies: number[];
  /** Which database this run is on: the embedded default or the external server of DATABASE_URL. */
  database: BenchDatabase;
  /** Sold unit codes the history section stores before measuring again (0 = skip it). */
  historyUnits: number;
}

export interface BenchRow {
  section: string;
  operation: string;
  concurrency: number;
  ops: number;
  errors: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Filled by the runner: which database the row was measured on. */
  database?: BenchDatabase;
  /** What the row is compared with, and its rate (a raw INSERT at the same concurrency unless a section says otherwise). */
  baselineName?: string;
  baselinePerSecond?: number;
  /** The row is a write transaction per request: print its ratio to pgbench TPC-B at 16 clients. */
  vsPgbench?: boolean;
  /** CPU time of the county server's process per operation (utime + stime from /proc). */
  appCpuMsPerOp?: number;
  /** CPU time of the PostgreSQL server's processes per operation (every process of its postmaster). */
  dbCpuMsPerOp?: number;
}

export interface BenchSection {
  name: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}

/** CPU seconds so far of the server process and of PostgreSQL, for per-operation figures. */
export interface CpuSample { appMs: number; dbMs: number }

let cpuSampler: (() => CpuSample | null) | null = null;

/** The runner points this at the current server process and PostgreSQL server. */
export function setCpuSampler(fn: (() => CpuSample | null) | null): void {
  cpuSampler = fn;
}

export function sampleCpu(): CpuSample | null {
  try {
    return cpuSampler?.() ?? null;
  } catch {
    return null;
  }
}

/** Per-operation CPU between two samples (NaN when /proc could not be read). */
export function cpuPerOp(before: CpuSample | null, after: CpuSample | null, ops: number): Pick<BenchRow, 'appCpuMsPerOp' | 'dbCpuMsPerOp'> {
  if (!before || !after || ops <= 0) return { appCpuMsPerOp: NaN, dbCpuMsPerOp: NaN };
  return { appCpuMsPerOp: (after.appMs - before.appMs) / ops, dbCpuMsPerOp: (after.dbMs - before.dbMs) / ops };
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/**
 * utime + stime of one process in ms (with `reaped`, also cutime + cstime: the children it has waited
 * for after they exited), or null when it is gone or /proc is not there.
 */
export function processCpuMs(pid: number, reaped = false): number | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the command name (which may hold spaces) start at field 3 (state).
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0)) * TICK_MS;
}

/** Parent pid of a process, or null. */
export function parentPid(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/**
 * CPU ms of a PostgreSQL server: the postmaster, its child processes alive now (backends, WAL writer,
 * checkpointer…) and those that exited (a closed connection's backend; the postmaster reaped them).
 */
export function postgresCpuMs(postmasterPid: number): number | null {
  const own = processCpuMs(postmasterPid, true);
  if (own === null) return null;
  let total = own;
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (parentPid(pid) === postmasterPid) total += processCpuMs(pid) ?? 0;
  }
  return total;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Runs `op` from `concurrency` clients until `seconds` pass or `op` returns false (nothing left to
 * do). An op that throws counts as an error.
 */
export async function drive(section: string, operation: string, concurrency: number, seconds: number, op: (client: number) => Promise<boolean>): Promise<BenchRow> {
  const latencies: number[] = [];
  let errors = 0;
  const cpu0 = sampleCpu();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async (_, client) => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      let more = true;
      try {
        more = await op(client);
      } catch {
        errors++;
      }
      if (!more) return;
      latencies.push(performance.now() - t0);
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  const cpu1 = sampleCpu();
  latencies.sort((a, b) => a - b);
  return {
    section, operation, concurrency, ops: latencies.length, errors, perSecond: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), ...cpuPerOp(cpu0, cpu1, latencies.length),
  };
}

export async function postJson(url: string, auth: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}
