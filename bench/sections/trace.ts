// The unit trace's latency on a generated county-year (issue 16: p95 under 50 ms): the demo county
// with BENCH_TRACE_CONTAINERS containers sold (default 1,000,000, Qingshen's year), then
// BENCH_TRACE_REQUESTS traces (default 200) of unit codes drawn from the sold units — half returned,
// half not — by a county official over HTTP, one at a time. Also the lot trace of a sale. Not a timed test.
import type { BenchRow, BenchSection } from '../harness.js';
import { generateData } from '../../src/features/generator/generate-data.js';

const CONTAINERS = Number(process.env.BENCH_TRACE_CONTAINERS ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_TRACE_REQUESTS ?? 200);

const pctl = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

export const traceSection: BenchSection = {
  name: 'trace',
  async run(ctx) {
    const knex = ctx.knex;
    const gen = await generateData(knex, { counties: 1, year: 2026, containersPerCounty: CONTAINERS });
    console.log(`trace bench data: 511425 ${gen.containers.toLocaleString('en')} containers / ${gen.sales.toLocaleString('en')} sales / ${gen.returns.toLocaleString('en')} returns / ${gen.custodyEvents.toLocaleString('en')} custody events (${(gen.ms / 1000).toFixed(1)} s)`);
    await knex.raw('ANALYZE');
    const half = Math.ceil(REQUESTS / 2);
    const returned = (await knex.raw(`SELECT unit_code FROM sold_units TABLESAMPLE SYSTEM (1) WHERE county_id = '511425' AND state = 'refunded' LIMIT ?`, [half])).rows as Array<{ unit_code: string }>;
    const open = (await knex.raw(`SELECT unit_code FROM sold_units TABLESAMPLE SYSTEM (1) WHERE county_id = '511425' AND state <> 'refunded' LIMIT ?`, [REQUESTS - half])).rows as Array<{ unit_code: string }>;
    const codes = [...returned, ...open].map((r) => r.unit_code);
    const lots = (await knex.raw(`SELECT sale_id, line_no FROM deposit_lots TABLESAMPLE SYSTEM (1) WHERE county_id = '511425' LIMIT ?`, [REQUESTS])).rows as Array<{ sale_id: string; line_no: number }>;
    const auth = await ctx.token('qingshen.official');
    const rows: BenchRow[] = [];
    const measure = async (name: string, paths: string[]) => {
      const times: number[] = [];
      let errors = 0;
      for (const p of paths) {
        const s = performance.now();
        const res = await fetch(`${ctx.baseUrl}${p}`, { headers: { authorization: auth } });
        await res.arrayBuffer();
        times.push(performance.now() - s);
        if (res.status !== 200) errors++;
      }
      times.sort((a, b) => a - b);
      console.log(`${name}: p50 ${pctl(times, 50).toFixed(1)} ms, p95 ${pctl(times, 95).toFixed(1)} ms, p99 ${pctl(times, 99).toFixed(1)} ms (${paths.length} requests, ${errors} errors, ${CONTAINERS.toLocaleString('en')} containers)`);
      rows.push({ section: 'trace', operation: `${name} (p95 ${pctl(times, 95).toFixed(1)} ms)`, concurrency: 1, ops: paths.length, errors, perSecond: 1000 / pctl(times, 50), p50Ms: pctl(times, 50), p99Ms: pctl(times, 99) });
    };
    await measure('unit trace', codes.map((c) => `/api/v1/counties/511425/units/${c}/trace`));
    if (lots.length) await measure('lot trace (sale line)', lots.map((l) => `/api/v1/counties/511425/lots/trace?saleId=${l.sale_id}&lineNo=${l.line_no}`));
    return rows;
  },
};
