// What a bench section gets: the county server over real HTTP on a throwaway PostgreSQL database,
// logins, and helpers to drive N concurrent clients for a while and read throughput and latency.
import type { Knex } from 'knex';

export interface BenchContext {
  baseUrl: string;
  knex: Knex;
  /** "Bearer …" for a demo user. */
  token(username: string): Promise<string>;
  seconds: number;
  concurrencies: number[];
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
  /** Filled by the runner: the raw single-row INSERT transaction rate at the same concurrency. */
  baselinePerSecond?: number;
}

export interface BenchSection {
  name: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}

function percentile(sorted: number[], p: number): number {
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
  latencies.sort((a, b) => a - b);
  return {
    section, operation, concurrency, ops: latencies.length, errors, perSecond: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99),
  };
}

export async function postJson(url: string, auth: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}
