// The database's own yardstick in the same run: pgbench TPC-B (scale 1, 16 clients, 2 threads) on a
// throwaway database of the same server, when pgbench is installed (it ships with PostgreSQL). Each
// transaction's latency is read from pgbench's per-transaction log for p50/p99.
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { percentile, type BenchRow } from './harness.js';

const execFileAsync = promisify(execFile);

export function findPgbench(): string | null {
  const explicit = process.env.PGBENCH;
  if (explicit) return fs.existsSync(explicit) ? explicit : null;
  const r = spawnSync('sh', ['-c', 'command -v pgbench'], { encoding: 'utf8' });
  const found = r.status === 0 ? r.stdout.trim() : '';
  return found || null;
}

export interface PgbenchOptions {
  binary: string;
  url: string;
  seconds: number;
  clients: number;
  threads: number;
}

/** Initialises scale 1 on `url`'s database and runs TPC-B; the row's ops/s is pgbench's tps. */
export async function runPgbench(opts: PgbenchOptions): Promise<BenchRow & { version: string }> {
  const env = { ...process.env, PGAPPNAME: 'agrireturn-bench-pgbench' };
  const version = (await execFileAsync(opts.binary, ['--version'], { env })).stdout.trim();
  await execFileAsync(opts.binary, ['-i', '-s', '1', '-q', opts.url], { env, maxBuffer: 16 * 1024 * 1024 });
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-bench-pgbench-'));
  try {
    // A run shorter than a second (bench-smoke) counts transactions instead of time: a loaded machine may
    // finish none in a second, and a figure of nothing is no baseline. Real runs are timed (-T).
    const length = opts.seconds < 1 ? ['-t', '5'] : ['-T', String(Math.round(opts.seconds))];
    const { stdout } = await execFileAsync(opts.binary, [
      '-c', String(opts.clients), '-j', String(opts.threads), ...length, '-n', '-l', `--log-prefix=${path.join(logDir, 'tx')}`, opts.url,
    ], { env, maxBuffer: 16 * 1024 * 1024, cwd: logDir });
    const tps = /tps = ([\d.]+)/.exec(stdout);
    if (!tps) throw new Error(`pgbench printed no tps:\n${stdout}`);
    const processed = /number of transactions actually processed: (\d+)/.exec(stdout);
    const failed = /number of failed transactions: (\d+)/.exec(stdout);
    const latencies: number[] = [];
    for (const f of fs.readdirSync(logDir)) {
      for (const line of fs.readFileSync(path.join(logDir, f), 'utf8').split('\n')) {
        const cols = line.split(' ');
        if (cols.length >= 3) latencies.push(Number(cols[2]) / 1000); // µs → ms
      }
    }
    latencies.sort((a, b) => a - b);
    return {
      section: 'baseline', operation: `pgbench TPC-B, scale 1, -j ${opts.threads} (tps)`, concurrency: opts.clients,
      ops: processed ? Number(processed[1]) : latencies.length, errors: failed ? Number(failed[1]) : 0,
      perSecond: Number(tps[1]), p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), version,
    };
  } finally {
    fs.rmSync(logDir, { recursive: true, force: true });
  }
}
