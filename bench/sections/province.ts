// The dashboard at province scale (issue 8: "loads in under a second for a province-sized data set"):
// 150 counties of Sichuan (plus the demo county) with 24 months of recovery aggregates each, read
// over HTTP as a province official. Raw records for 150 county-years of ~1 million containers cannot
// be generated here, but the dashboard never reads raw records: it reads recovery_monthly (county ×
// month × shop × product) and recovery_county_monthly (county × month), whose size does not depend
// on the number of containers. So this section writes those aggregate rows directly — the rows a
// province-year-and-a-half would leave — with seasonal, self-consistent figures. Sizes:
// BENCH_PROVINCE_COUNTIES (150), BENCH_PROVINCE_SHOPS (12 per county), BENCH_PROVINCE_PRODUCTS (30),
// BENCH_PROVINCE_MONTHS (24), BENCH_PROVINCE_CONTAINERS (1,000,000 per county-year on average),
// BENCH_PROVINCE_REQUESTS (40 per endpoint). Not a timed test.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { BenchRow, BenchSection } from '../harness.js';
import { countyAccount, shopAccount } from '../../src/features/ledger/accounts.js';
import { addMonths, businessDay, businessMonth, DEFAULT_TIME_ZONE } from '../../src/shared/business-day.js';
import { DEMO_COUNTY_ID } from '../../seeds/demo-county.js';

const COUNTIES = Number(process.env.BENCH_PROVINCE_COUNTIES ?? 150);
const SHOPS = Number(process.env.BENCH_PROVINCE_SHOPS ?? 12);
const PRODUCTS = Number(process.env.BENCH_PROVINCE_PRODUCTS ?? 30);
const MONTHS = Number(process.env.BENCH_PROVINCE_MONTHS ?? 24);
const CONTAINERS = Number(process.env.BENCH_PROVINCE_CONTAINERS ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_PROVINCE_REQUESTS ?? 40);
const TOWNSHIPS = 6;
const PROVINCE = '510000';

// Share of a year's sales per calendar month: spring peak (March–May), an autumn bump, quiet winter.
const SEASON = [0.03, 0.04, 0.12, 0.16, 0.14, 0.09, 0.08, 0.09, 0.08, 0.07, 0.05, 0.05];
// Container types: tare weight (g) and deposit (fen), as in the demo county's range of packs.
const CONTAINER_TYPES = [
  { code: 'B100', material: 'HDPE', ml: 100, tare: 18, deposit: 50 },
  { code: 'B250', material: 'HDPE', ml: 250, tare: 32, deposit: 100 },
  { code: 'B500', material: 'HDPE', ml: 500, tare: 55, deposit: 100 },
  { code: 'B1000', material: 'HDPE', ml: 1000, tare: 95, deposit: 200 },
  { code: 'BAG200', material: 'composite_bag', ml: 200, tare: 8, deposit: 50 },
];

const pctl = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
/** The uuid PostgreSQL's md5(text)::uuid gives. */
const md5uuid = (s: string) => createHash('md5').update(s).digest('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
const kb = (bytes: number) => (bytes / 1024).toFixed(1);

/** 150 GB/T 2260-style county codes 51PP8C (county-level city range 81–90 of prefectures 01–15): never 511425, never 5190xx. */
function countyCodes(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const code = `51${String(1 + Math.floor(i / 10)).padStart(2, '0')}${81 + (i % 10)}`;
    if (code !== DEMO_COUNTY_ID) out.push(code);
  }
  if (new Set(out).size !== out.length || out.some((c) => Number(c.slice(2, 4)) > 99)) throw new Error('province bench: county codes collide');
  return out;
}

function lastMonths(n: number, now: Date): string[] {
  const month = businessMonth(now, DEFAULT_TIME_ZONE);
  const out: string[] = [];
  for (let k = n - 1; k >= 0; k--) out.push(addMonths(month, -k));
  return out;
}

/** Zipf-like weights summing to 1 (a few big shops, a few best-selling products). */
const zipf = (n: number, s: number) => {
  const w = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** s);
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / sum);
};

async function synthesise(knex: Knex, codes: string[], months: string[], now: Date): Promise<void> {
  const arr = { codes, months };
  await knex.raw(`
    INSERT INTO counties (id, name_zh, name_en, province_code, province_name_zh, prefecture_name_zh)
    SELECT c, '测试县' || c, 'Bench County ' || c, :p, '四川省', '测试市' || substr(c, 3, 2)
      FROM unnest(:codes::text[]) c`, { ...arr, p: PROVINCE });
  await knex.raw(`
    INSERT INTO townships (county_id, id, name_zh, name_en)
    SELECT c, md5('township:' || c || ':' || t)::uuid, '第' || t || '镇', 'Town ' || t
      FROM unnest(:codes::text[]) c CROSS JOIN generate_series(1, ${TOWNSHIPS}) t`, arr);
  await knex.raw(`
    INSERT INTO shops (county_id, id, township_id, name, licence_no, address)
    SELECT c, md5('shop:' || c || ':' || s)::uuid, md5('township:' || c || ':' || ((s - 1) % ${TOWNSHIPS} + 1))::uuid,
           '第' || ((s - 1) % ${TOWNSHIPS} + 1) || '镇农资店' || s, '农药经许（川）' || c || lpad(s::text, 8, '0'), '四川省测试市' || c
      FROM unnest(:codes::text[]) c CROSS JOIN generate_series(1, ${SHOPS}) s`, arr);
  await knex.raw(`
    INSERT INTO container_types (county_id, id, code, name_zh, name_en, material, volume_ml, tare_weight_g)
    SELECT c, md5('ct:' || c || ':' || t.code)::uuid, t.code, t.code || '包装', t.code || ' pack', t.material, t.ml, t.tare
      FROM unnest(:codes::text[]) c
     CROSS JOIN unnest(:ctCodes::text[], :ctMaterials::text[], :ctMl::int[], :ctTare::int[]) t(code, material, ml, tare)`,
  { ...arr, ctCodes: CONTAINER_TYPES.map((t) => t.code), ctMaterials: CONTAINER_TYPES.map((t) => t.material), ctMl: CONTAINER_TYPES.map((t) => t.ml), ctTare: CONTAINER_TYPES.map((t) => t.tare) });
  await knex.raw(`
    INSERT INTO products (county_id, id, registration_no, name, manufacturer, container_type_id, pack_size_label)
    SELECT c, md5('product:' || c || ':' || p)::uuid, 'PD' || (20200000 + p), '测试农药' || p, '生产企业' || (p % 8 + 1),
           md5('ct:' || c || ':' || (:ctCodes::text[])[(p - 1) % ${CONTAINER_TYPES.length} + 1])::uuid, (:ctMl::int[])[(p - 1) % ${CONTAINER_TYPES.length} + 1] || 'ml'
      FROM unnest(:codes::text[]) c CROSS JOIN generate_series(1, ${PRODUCTS}) p`,
  { ...arr, ctCodes: CONTAINER_TYPES.map((t) => t.code), ctMl: CONTAINER_TYPES.map((t) => t.ml) });

  // The aggregates, in batches of counties. Per cell (county, month, shop, product): sales from the
  // county's yearly volume × season × shop share × product share × noise; returns lag sales (30 %
  // the same month, 45 % the month after, 25 % two months after) at the shop's return rate of 70–95 %,
  // so returned ≤ sold overall; mass and money from the pack's tare weight and deposit; the cohort
  // columns the share of the month's sales back within 30/90/180/365 days (≤ sold).
  const b = {
    months, season: SEASON, shopW: zipf(SHOPS, 0.6), productW: zipf(PRODUCTS, 0.8),
    tare: CONTAINER_TYPES.map((t) => t.tare), dep: CONTAINER_TYPES.map((t) => t.deposit), annual: CONTAINERS,
  };
  await knex.raw('SELECT setseed(0.8)');
  for (let i = 0; i < codes.length; i += 25) {
    await knex.raw(`
      INSERT INTO recovery_monthly (county_id, month, shop_id, product_id, sold_units, sold_deposit_fen, sold_mass_g, returned_units,
                                    returned_mass_g, refunded_fen, cohort_returned_30, cohort_returned_90, cohort_returned_180, cohort_returned_365)
      WITH cells AS (
        SELECT c.id AS county_id, m.month, m.mi, s.s, p.p, (p.p - 1) % ${CONTAINER_TYPES.length} + 1 AS ct,
               0.70 + 0.25 * ((c.ord * 7 + s.s * 13) % 20) / 19.0 AS rate,
               round(:annual * (0.6 + 0.8 * ((c.ord * 37) % 100) / 99.0) * (:season::float8[])[substr(m.month, 6, 2)::int]
                     * (:shopW::float8[])[s.s] * (:productW::float8[])[p.p] * (0.8 + 0.4 * random()))::int AS sold
          FROM unnest(:codes::text[]) WITH ORDINALITY c(id, ord)
         CROSS JOIN unnest(:months::text[]) WITH ORDINALITY m(month, mi)
         CROSS JOIN generate_series(1, ${SHOPS}) s(s) CROSS JOIN generate_series(1, ${PRODUCTS}) p(p)
      ), lagged AS (
        SELECT *, round(rate * (0.30 * sold + 0.45 * coalesce(lag(sold, 1) OVER w, sold) + 0.25 * coalesce(lag(sold, 2) OVER w, sold)))::int AS ret
          FROM cells WINDOW w AS (PARTITION BY county_id, s, p ORDER BY mi)
      )
      SELECT county_id, month, md5('shop:' || county_id || ':' || s)::uuid, md5('product:' || county_id || ':' || p)::uuid,
             sold, sold::bigint * (:dep::int[])[ct], sold::bigint * (:tare::int[])[ct],
             ret, ret::bigint * (:tare::int[])[ct], ret::bigint * (:dep::int[])[ct],
             round(sold * rate * 0.30)::int, round(sold * rate * 0.75)::int, round(sold * rate * 0.93)::int, round(sold * rate)::int
        FROM lagged`, { ...b, codes: codes.slice(i, i + 25) });
  }
  await knex.raw(`
    INSERT INTO recovery_county_monthly (county_id, month, sold_units, sold_deposit_fen, sold_mass_g, returned_units, returned_mass_g, refunded_fen,
                                         cohort_returned_30, cohort_returned_90, cohort_returned_180, cohort_returned_365)
    SELECT county_id, month, sum(sold_units), sum(sold_deposit_fen), sum(sold_mass_g), sum(returned_units), sum(returned_mass_g), sum(refunded_fen),
           sum(cohort_returned_30), sum(cohort_returned_90), sum(cohort_returned_180), sum(cohort_returned_365)
      FROM recovery_monthly WHERE county_id = ANY(:codes::text[]) GROUP BY county_id, month`, arr);

  // Ledger balances the pages show: deposits outstanding per county, each shop's position.
  const out = codes.map((c) => countyAccount(c, 'deposits_outstanding'));
  await knex.raw(`
    INSERT INTO ledger_accounts (county_id, id, code, kind, bound, balance_fen)
    SELECT a.c, a.id::uuid, 'deposits_outstanding', 'deposits_outstanding', 'non_positive',
           -greatest(0, (SELECT sum(sold_deposit_fen) - sum(refunded_fen) FROM recovery_county_monthly m WHERE m.county_id = a.c))
      FROM unnest(:codes::text[], :ids::text[]) a(c, id)`, { codes, ids: out.map((a) => a.id) });
  const shopRefs = codes.flatMap((c) => Array.from({ length: SHOPS }, (_, s) => ({ c, ref: shopAccount(c, md5uuid(`shop:${c}:${s + 1}`)) })));
  await knex.raw(`
    INSERT INTO ledger_accounts (county_id, id, code, kind, shop_id, bound, balance_fen)
    SELECT a.c, a.id::uuid, a.code, 'shop_position', a.shop::uuid, 'none',
           (SELECT (sum(sold_deposit_fen) - sum(refunded_fen)) / 10 FROM recovery_monthly m WHERE m.county_id = a.c AND m.shop_id = a.shop::uuid AND m.month = :last)
      FROM unnest(:cs::text[], :ids::text[], :codes::text[], :shops::text[]) a(c, id, code, shop)`,
  { cs: shopRefs.map((r) => r.c), ids: shopRefs.map((r) => r.ref.id), codes: shopRefs.map((r) => r.ref.code), shops: shopRefs.map((r) => r.ref.shopId!), last: months[months.length - 1]! });
  // Aggregates up to date as of now: the dashboard's refresh-on-read finds nothing to rebuild (no raw rows).
  await knex.raw(`INSERT INTO recovery_aggregation_state (county_id, watermark, refreshed_at, months_rebuilt) SELECT c, :now, :now, 0 FROM unnest(:codes::text[]) c`, { codes, now });
  await knex.raw('ANALYZE counties, townships, shops, products, container_types, ledger_accounts, recovery_monthly, recovery_county_monthly, recovery_aggregation_state');
}

interface Timed {
  times: number[];
  bytes: number;
  errors: number;
}

async function timeGet(url: string, auth: string | null, n: number): Promise<Timed> {
  const times: number[] = [];
  let bytes = 0;
  let errors = 0;
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    const res = await fetch(url, { headers: auth ? { authorization: auth } : {} });
    const body = await res.arrayBuffer();
    times.push(performance.now() - s);
    bytes = body.byteLength;
    if (res.status !== 200) errors++;
  }
  times.sort((a, b) => a - b);
  return { times, bytes, errors };
}

/** The SQL a call sends (caught from knex), then run directly n times and once under EXPLAIN ANALYZE. */
async function rawSql(knex: Knex, call: () => Promise<unknown>, pick: (sql: string) => boolean, n: number) {
  const seen: Array<{ sql: string; bindings: unknown[] }> = [];
  const listener = (q: { sql: string; bindings?: unknown[] }) => seen.push({ sql: q.sql, bindings: q.bindings ?? [] });
  knex.on('query', listener);
  try {
    await call();
  } finally {
    knex.removeListener('query', listener);
  }
  const q = seen.find((s) => pick(s.sql));
  if (!q) throw new Error('province bench: query not seen');
  const conn = await knex.client.acquireConnection();
  try {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      await conn.query(q.sql, q.bindings);
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    const plan = (await conn.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${q.sql}`, q.bindings)).rows[0]['QUERY PLAN'][0];
    const text = (await conn.query(`EXPLAIN (ANALYZE, BUFFERS) ${q.sql}`, q.bindings)).rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
    return { times, executionMs: Number(plan['Execution Time']), planningMs: Number(plan['Planning Time']), rows: Number(plan.Plan['Actual Rows']), text };
  } finally {
    await knex.client.releaseConnection(conn);
  }
}

export const provinceSection: BenchSection = {
  name: 'province',
  async run(ctx) {
    const rows: BenchRow[] = [];
    const knex = ctx.knex;
    const now = new Date();
    const codes = countyCodes(COUNTIES);
    const months = lastMonths(MONTHS, now);
    const t0 = performance.now();
    await synthesise(knex, codes, months, now);
    const synthMs = performance.now() - t0;
    const count = async (sql: string) => Number((await knex.raw(sql)).rows[0].n);
    const provinceCounties = await count(`SELECT count(*) AS n FROM counties WHERE province_code = '${PROVINCE}'`);
    const sizeOf = async (t: string) => Number((await knex.raw(`SELECT pg_total_relation_size('${t}') AS n`)).rows[0].n) / 1024 / 1024;
    const totals = (await knex.raw(`SELECT sum(sold_units)::bigint AS sold, sum(returned_units)::bigint AS returned FROM recovery_county_monthly WHERE county_id <> '${DEMO_COUNTY_ID}'`)).rows[0];
    console.log(`province bench data (aggregates synthesised, not generated from raw records): ${provinceCounties} counties in ${PROVINCE} (${codes.length} synthesised ${codes[0]}…${codes[codes.length - 1]} + the demo county), ` +
      `${months[0]}…${months[months.length - 1]} (${months.length} months), ${(synthMs / 1000).toFixed(1)} s to write`);
    console.log(`  townships ${await count('SELECT count(*) AS n FROM townships')}, shops ${await count('SELECT count(*) AS n FROM shops')}, products ${await count('SELECT count(*) AS n FROM products')}, ` +
      `recovery_monthly ${(await count('SELECT count(*) AS n FROM recovery_monthly')).toLocaleString('en')} rows (${(await sizeOf('recovery_monthly')).toFixed(0)} MB with indexes), ` +
      `recovery_county_monthly ${(await count('SELECT count(*) AS n FROM recovery_county_monthly')).toLocaleString('en')} rows; ` +
      `${Number(totals.sold).toLocaleString('en')} containers sold, ${Number(totals.returned).toLocaleString('en')} returned in the synthesised counties (${(Number(totals.sold) / codes.length / (months.length / 12)).toLocaleString('en', { maximumFractionDigits: 0 })} per county-year)`);

    const province = await ctx.token('sichuan.official');
    const county = codes[0]!;
    const q = `from=${months[0]}&to=${months[months.length - 1]}&days=90`;
    const endpoints: Array<[string, string]> = [
      ['province comparison', `/api/v1/provinces/${PROVINCE}/dashboard?${q}`],
      ['county summary', `/api/v1/counties/${county}/dashboard?${q}`],
      ['shop table', `/api/v1/counties/${county}/dashboard/shops?${q}`],
      ['rates by product', `/api/v1/counties/${county}/recovery-rates?by=product&${q}`],
    ];
    const p50s = new Map<string, number>();
    for (const [name, path] of endpoints) {
      await timeGet(`${ctx.baseUrl}${path}`, province, 2); // warm-up
      const r = await timeGet(`${ctx.baseUrl}${path}`, province, REQUESTS);
      p50s.set(name, pctl(r.times, 50));
      console.log(`province API ${name}: p50 ${pctl(r.times, 50).toFixed(1)} ms, p95 ${pctl(r.times, 95).toFixed(1)} ms, max ${r.times[r.times.length - 1]!.toFixed(1)} ms ` +
        `(${REQUESTS} requests, ${kb(r.bytes)} kB, ${r.errors} errors; ${path.split('?')[0]}, ${months.length} months)`);
      rows.push({ section: 'province', operation: `${name} (p95 ${pctl(r.times, 95).toFixed(1)} ms, ${kb(r.bytes)} kB)`, concurrency: 1, ops: REQUESTS, errors: r.errors, perSecond: 1000 / pctl(r.times, 50), p50Ms: pctl(r.times, 50), p99Ms: pctl(r.times, 99) });
    }

    // The largest aggregate reads, straight to PostgreSQL: the province's county rates (every county's
    // months) and a county's rates by product (every shop × product × month of the county).
    const { recoveryRates } = await import('../../src/features/recovery-rates/recovery-rates.js');
    const asOfDay = businessDay(now, DEFAULT_TIME_ZONE);
    const ids = ((await knex('counties').where({ province_code: PROVINCE }).select('id')) as Array<{ id: string }>).map((c) => c.id);
    const direct: Array<[string, string, () => Promise<unknown>, (s: string) => boolean]> = [
      ['province comparison', 'county rates, whole province', () => recoveryRates(knex, { countyIds: ids, from: months[0]!, to: months[months.length - 1]!, days: 90, asOfDay, by: 'county' }), (s) => s.includes('recovery_county_monthly')],
      ['rates by product', 'product rates, one county', () => recoveryRates(knex, { countyIds: [county], from: months[0]!, to: months[months.length - 1]!, days: 90, asOfDay, by: 'product' }), (s) => s.includes('recovery_monthly')],
    ];
    for (const [endpoint, what, call, pick] of direct) {
      const r = await rawSql(knex, call, pick, REQUESTS);
      const p50 = pctl(r.times, 50);
      console.log(`  PostgreSQL direct, ${what}: p50 ${p50.toFixed(1)} ms (EXPLAIN ANALYZE: execution ${r.executionMs.toFixed(1)} ms, planning ${r.planningMs.toFixed(1)} ms, ${r.rows} rows); ` +
        `HTTP ${endpoint} p50 / SQL p50 = ${((p50s.get(endpoint) ?? NaN) / p50).toFixed(2)}`);
      if (process.env.BENCH_PROVINCE_PLANS) console.log(r.text.split('\n').map((l: string) => `    ${l}`).join('\n'));
    }

    // The page as a browser loads it for a province official: the HTML, its stylesheet and scripts
    // (first visit, nothing cached), the login, then the province JSON the page asks for with its
    // default range (?days=90). Summed sequentially; a browser fetches the three assets in parallel.
    const pageLoads: Array<{ steps: Array<[string, number, number]> }> = [];
    for (let i = 0; i < 10; i++) {
      const steps: Array<[string, number, number]> = [];
      for (const asset of ['/dashboard', '/dashboard/app.css', '/dashboard/echarts.min.js', '/dashboard/app.js']) {
        const r = await timeGet(`${ctx.baseUrl}${asset}`, null, 1);
        steps.push([asset, r.times[0]!, r.bytes]);
      }
      let s = performance.now();
      const login = await fetch(`${ctx.baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'sichuan.official', password: (await import('../../seeds/demo-county.js')).DEMO_PASSWORD }) });
      const loginBody = await login.text();
      steps.push(['login', performance.now() - s, Buffer.byteLength(loginBody)]);
      const auth = `Bearer ${(JSON.parse(loginBody) as { accessToken: string }).accessToken}`;
      const r = await timeGet(`${ctx.baseUrl}/api/v1/provinces/${PROVINCE}/dashboard?days=90`, auth, 1);
      steps.push(['province JSON', r.times[0]!, r.bytes]);
      // Then a click on a county: its summary and shop table, fetched together by the page.
      s = performance.now();
      const two = await Promise.all([timeGet(`${ctx.baseUrl}/api/v1/counties/${county}/dashboard?days=90`, auth, 1), timeGet(`${ctx.baseUrl}/api/v1/counties/${county}/dashboard/shops?days=90`, auth, 1)]);
      steps.push(['county click (summary + shops, in parallel)', performance.now() - s, two[0].bytes + two[1].bytes]);
      pageLoads.push({ steps });
    }
    const names = pageLoads[0]!.steps.map((x) => x[0]);
    const med = (i: number) => pctl(pageLoads.map((p) => p.steps[i]![1]).sort((a, b) => a - b), 50);
    const total = (upTo: number) => pctl(pageLoads.map((p) => p.steps.slice(0, upTo).reduce((a, x) => a + x[1], 0)).sort((a, b) => a - b), 50);
    console.log(`province page load, first visit (10 runs, medians): ${names.map((n, i) => `${n} ${med(i).toFixed(1)} ms / ${kb(pageLoads[0]!.steps[i]![2])} kB`).join('; ')}`);
    const loginIdx = names.indexOf('province JSON') + 1;
    const bytes = pageLoads[0]!.steps.slice(0, loginIdx).reduce((a, x) => a + x[2], 0);
    console.log(`  HTML + assets + login + province JSON summed sequentially: p50 ${total(loginIdx).toFixed(1)} ms, ${kb(bytes)} kB uncompressed ` +
      `(without the login: ${(total(loginIdx) - med(loginIdx - 2)).toFixed(1)} ms); county click ${med(loginIdx).toFixed(1)} ms`);
    rows.push({ section: 'province', operation: `page load, first visit (${kb(bytes)} kB)`, concurrency: 1, ops: pageLoads.length, errors: 0, perSecond: 1000 / total(loginIdx), p50Ms: total(loginIdx), p99Ms: Math.max(...pageLoads.map((p) => p.steps.slice(0, loginIdx).reduce((a, x) => a + x[1], 0))) });
    return rows;
  },
};
