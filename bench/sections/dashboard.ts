// The data for the county-year reconciliation (timed in reconciliation.ts) and the dashboard API's latency on a multi-county data set,
// each printed with the data size. Sizes: BENCH_RECON_CONTAINERS (default 1,000,000 containers in
// the demo county), BENCH_DASH_COUNTIES (default 10 counties in all) × BENCH_DASH_CONTAINERS
// (default 100,000 each for the other counties). Not a timed test.
import type { BenchRow, BenchSection } from '../harness.js';
import { generateData } from '../../src/features/generator/generate-data.js';
import { refreshRecoveryAggregates } from '../../src/features/recovery-rates/aggregation-job.js';

const RECON_CONTAINERS = Number(process.env.BENCH_RECON_CONTAINERS ?? 1_000_000);
const DASH_COUNTIES = Number(process.env.BENCH_DASH_COUNTIES ?? 10);
const DASH_CONTAINERS = Number(process.env.BENCH_DASH_CONTAINERS ?? 100_000);
const REQUESTS = Number(process.env.BENCH_DASH_REQUESTS ?? 60);
const YEAR = 2026;

const pctl = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

export const dashboardSection: BenchSection = {
  name: 'dashboard',
  async run(ctx) {
    const rows: BenchRow[] = [];
    const knex = ctx.knex;
    const gen = await generateData(knex, { counties: 1, year: YEAR, containersPerCounty: RECON_CONTAINERS });
    const more = DASH_COUNTIES > 1 ? await generateData(knex, { counties: DASH_COUNTIES - 1, startIndex: 1, year: YEAR, containersPerCounty: DASH_CONTAINERS }) : null;
    console.log(`dashboard bench data: 511425 ${gen.containers.toLocaleString('en')} containers / ${gen.sales.toLocaleString('en')} sales / ${gen.returns.toLocaleString('en')} returns (${(gen.ms / 1000).toFixed(1)} s to generate)` +
      (more ? `; ${DASH_COUNTIES - 1} more counties × ${DASH_CONTAINERS.toLocaleString('en')} containers (${(more.ms / 1000).toFixed(1)} s)` : ''));

    const aggStart = performance.now();
    const now = new Date(Date.UTC(YEAR + 1, 0, 2));
    for (const c of [...gen.counties, ...(more?.counties ?? [])]) await refreshRecoveryAggregates(knex, c, now, 0);
    const aggMs = performance.now() - aggStart;
    console.log(`recovery aggregates, full build of ${DASH_COUNTIES} county-years: ${(aggMs / 1000).toFixed(1)} s`);

    // The county-year reconciliation is timed by the reconciliation section (both ways, on this data).

    const county = await ctx.token('qingshen.official');
    const province = await ctx.token('sichuan.official');
    const q = `from=${YEAR}-01&to=${YEAR}-12&days=90`;
    const endpoints: Array<[string, string, string]> = [
      ['county summary', `/api/v1/counties/511425/dashboard?${q}`, county],
      ['shop table', `/api/v1/counties/511425/dashboard/shops?${q}`, county],
      ['province comparison', `/api/v1/provinces/510000/dashboard?${q}`, province],
      ['rates by product', `/api/v1/counties/511425/recovery-rates?by=product&${q}`, county],
    ];
    for (const [name, path, auth] of endpoints) {
      const times: number[] = [];
      let errors = 0;
      let bytes = 0;
      for (let i = 0; i < REQUESTS; i++) {
        const s = performance.now();
        const res = await fetch(`${ctx.baseUrl}${path}`, { headers: { authorization: auth } });
        const body = await res.arrayBuffer();
        times.push(performance.now() - s);
        bytes = body.byteLength;
        if (res.status !== 200) errors++;
      }
      times.sort((a, b) => a - b);
      console.log(`dashboard API ${name}: p50 ${pctl(times, 50).toFixed(1)} ms, p95 ${pctl(times, 95).toFixed(1)} ms (${REQUESTS} requests, ${bytes.toLocaleString('en')} bytes, ${DASH_COUNTIES} counties)`);
      rows.push({ section: 'dashboard', operation: `${name} (p95 ${pctl(times, 95).toFixed(1)} ms)`, concurrency: 1, ops: REQUESTS, errors, perSecond: 1000 / pctl(times, 50), p50Ms: pctl(times, 50), p99Ms: pctl(times, 99) });
    }
    return rows;
  },
};
