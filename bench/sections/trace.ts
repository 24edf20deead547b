// The unit trace's latency on a generated county-year (issue 16: p95 under 50 ms): the demo county
// with BENCH_TRACE_CONTAINERS containers sold (default 1,000,000, Qingshen's year), then
// BENCH_TRACE_REQUESTS traces (default 200) of unit codes drawn from the sold units — half returned,
// half not — by a county official over HTTP, one at a time. The generator bags returned containers
// by count only, so each sampled returned code is first put into a disposed bag of the shop it was
// returned at (as a clerk scanning it into the bag would have), and its trace walks the whole path:
// sale, return, bag, manifest, transporters, receiving, disposal and the custody events. The plan of
// one trace is printed (every table reached by an index). Also the lot trace of a sale line. Not a timed test.
import type { BenchRow, BenchSection } from '../harness.js';
import { generateData } from '../../src/features/generator/generate-data.js';
import { TRACE_SQL } from '../../src/features/trace/trace-store.js';

const CONTAINERS = Number(process.env.BENCH_TRACE_CONTAINERS ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_TRACE_REQUESTS ?? 200);
const WARM_UP = Number(process.env.BENCH_TRACE_WARM_UP ?? 100);

const pctl = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

export const traceSection: BenchSection = {
  name: 'trace',
  async run(ctx) {
    const knex = ctx.knex;
    const gen = await generateData(knex, { counties: 1, year: 2026, containersPerCounty: CONTAINERS });
    console.log(`trace bench data: 511425 ${gen.containers.toLocaleString('en')} containers / ${gen.sales.toLocaleString('en')} sales / ${gen.returns.toLocaleString('en')} returns / ${gen.custodyEvents.toLocaleString('en')} custody events (${(gen.ms / 1000).toFixed(1)} s)`);
    await knex.raw('ANALYZE');
    const half = Math.ceil(REQUESTS / 2);
    const returned = (await knex.raw(`SELECT unit_code FROM sold_units WHERE county_id = '511425' AND state = 'refunded' ORDER BY md5(unit_code) LIMIT ?`, [half])).rows as Array<{ unit_code: string }>;
    const open = (await knex.raw(`SELECT unit_code FROM sold_units WHERE county_id = '511425' AND state <> 'refunded' ORDER BY md5(unit_code) LIMIT ?`, [REQUESTS - half])).rows as Array<{ unit_code: string }>;
    // Each returned code into a disposed bag of its returning shop (same material), as a scanned bag item.
    const placed = (await knex.raw(`
      INSERT INTO custody_bag_items (county_id, bag_id, item_no, container_type_id, unit_code, quantity, tare_weight_g, recorded_at)
      SELECT '511425', b.bag_id, 1000 + row_number() OVER (PARTITION BY b.bag_id ORDER BY x.unit_code), p.container_type_id, x.unit_code, 1, ct.tare_weight_g, b.sealed_at
        FROM unnest(?::text[]) AS x(unit_code)
        JOIN LATERAL (SELECT i.product_id, r.shop_id FROM return_items i JOIN returns r ON r.county_id = i.county_id AND r.id = i.return_id
                       WHERE i.county_id = '511425' AND i.unit_code = x.unit_code AND i.outcome <> 'rejected' LIMIT 1) ri ON true
        JOIN products p ON p.county_id = '511425' AND p.id = ri.product_id
        JOIN container_types ct ON ct.county_id = p.county_id AND ct.id = p.container_type_id
        JOIN LATERAL (SELECT id AS bag_id, sealed_at FROM custody_bags b WHERE b.county_id = '511425' AND b.shop_id = ri.shop_id AND b.material = ct.material
                       AND b.state = 'disposed' ORDER BY b.id LIMIT 1) b ON true
      RETURNING unit_code`, [returned.map((r) => r.unit_code)])).rows as unknown[];
    console.log(`trace bench: ${returned.length} returned and ${open.length} other sampled codes; ${placed.length} returned codes put into disposed bags`);
    const codes = [...returned, ...open].map((r) => r.unit_code);
    if (codes.length) {
      const plan = (await knex.raw(`EXPLAIN (ANALYZE, FORMAT JSON) ${TRACE_SQL}`, { county: '511425', code: codes[0] })).rows[0]['QUERY PLAN'][0];
      const scans: string[] = [];
      const walk = (n: Record<string, any>) => {
        if (/Scan/.test(n['Node Type']) && n['Relation Name']) scans.push(`${n['Node Type']} ${n['Relation Name']}${n['Index Name'] ? ` (${n['Index Name']})` : ''}`);
        for (const c of n.Plans ?? []) walk(c);
      };
      walk(plan.Plan);
      const seq = scans.filter((x) => x.startsWith('Seq Scan'));
      const jit = plan.JIT ? `; JIT ${plan.JIT.Functions} functions, ${Number(plan.JIT.Timing?.Total ?? 0).toFixed(1)} ms` : '; no JIT';
      console.log(`trace plan: ${scans.length} scans, ${seq.length} sequential${seq.length ? ` (${seq.join(', ')})` : ''}; planning ${Number(plan['Planning Time']).toFixed(2)} ms, execution ${Number(plan['Execution Time']).toFixed(2)} ms${jit}`);
      console.log(`trace plan scans: ${[...new Set(scans)].join('; ')}`);
    }
    const lots = (await knex.raw(`SELECT sale_id, line_no FROM deposit_lots WHERE county_id = '511425' AND outstanding < quantity ORDER BY md5(sale_id::text) LIMIT ?`, [REQUESTS])).rows as Array<{ sale_id: string; line_no: number }>;
    const auth = await ctx.token('qingshen.official');
    const rows: BenchRow[] = [];
    const measure = async (name: string, paths: string[]) => {
      // Warm-up, not timed: each pooled connection plans the prepared statement a few times before
      // PostgreSQL keeps its generic plan (the steady state of a running server).
      for (let i = 0; i < WARM_UP; i++) await (await fetch(`${ctx.baseUrl}${paths[i % paths.length]}`, { headers: { authorization: auth } })).arrayBuffer();
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
