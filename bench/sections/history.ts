// Does cost grow with history? POST /sales at 16 clients and 1,000-record sync batches, measured on
// the fresh database, then again after BENCH_HISTORY_UNITS (--history, default 10,000,000) sold unit
// codes are stored in the demo county. The target: within 80 % of the empty database.
//
// The history is preloaded by the data generator (`npm run generate`, src/features/generator): a
// county-year of the demo county, the year before the current one (with the opening deposits of the
// year before that), every container unit-coded (codedShare 1), sized so the sold unit codes come to
// --history: sales, lines, units, lots, returns with their items, allocations and refunds, expiry
// runs, transfers and entries, custody, and the reconciliation books caught up — streamed by COPY in
// one transaction, its foreign keys checked once after the load (keysAfterLoad: the server waits, idle).
// Then VACUUM (ANALYZE) and a CHECKPOINT, as history written long ago would be.
// BENCH_HISTORY_FILL=sql stores the older, plainer history instead (INSERT … SELECT generate_series:
// sales of ten coded containers with their lines, units, transfers and entries only).
// --history N sets the size, --history 0 skips the section.
import type { Knex } from 'knex';
import { demoId, DEMO_COUNTY_ID } from '../../seeds/demo-county.js';
import { generateData } from '../../src/features/generator/generate-data.js';
import { businessDay } from '../../src/shared/business-day.js';
import { countyAccount, shopAccount } from '../../src/features/ledger/accounts.js';
import { DEFAULT_TIME_ZONE } from '../../src/shared/business-day.js';
import { newClientId } from '../../src/shared/client-id.js';
import { cpuPerOp, drive, postJson, sampleCpu, type BenchContext, type BenchRow, type BenchSection } from '../harness.js';
import { LARGE_BATCH, syncRecords } from './sync.js';

const SHOP = demoId('shops', `${DEMO_COUNTY_ID}:农药经许（川）51142520180001`);
const PRODUCT = demoId('products', `${DEMO_COUNTY_ID}:PD20070128:210`);
const UNITS_PER_SALE = 10;
const DEPOSIT_FEN = 100;
const SALES_PER_CHUNK = 100_000;
const SYNC_ROUNDS = Number(process.env.BENCH_SYNC_ROUNDS ?? 3);
const DAY_MS = 86_400_000;

let codeSeq = 0;
function code(): string {
  // 32 digits, never one of the history's (those start with 2).
  return `1070128121${process.pid % 10}${String(Date.now() % 1e9).padStart(9, '0')}${String(codeSeq++ % 1e12).padStart(12, '0')}`;
}

/** Opening deposits (September–December of the year before) as a share of a generated year's containers: 25/96 of its monthly weights. */
const OPENING_SHARE = 25 / 96;

/**
 * Stores about `units` sold unit codes with the data generator: the demo county's year before the
 * current one, every container coded, so units ≈ containers × (1 + OPENING_SHARE). Returns what was
 * stored, counted in the database.
 */
export async function fillHistoryByGenerator(knex: Knex, units: number, log: (m: string) => void = () => undefined): Promise<{ sales: number; units: number; ms: number }> {
  const t0 = performance.now();
  const county = (await knex('counties').where({ id: DEMO_COUNTY_ID }).first('timezone')) as { timezone: string };
  const year = Number(businessDay(Date.now(), county.timezone).slice(0, 4)) - 1;
  const before = async () => Number((await knex('sold_units').where({ county_id: DEMO_COUNTY_ID }).count({ n: '*' }).first())!.n);
  const units0 = await before();
  const sales0 = Number((await knex('sales').where({ county_id: DEMO_COUNTY_ID }).count({ n: '*' }).first())!.n);
  const containers = Math.max(1, Math.round(units / (1 + OPENING_SHARE)));
  const r = await generateData(knex, { counties: 1, year, containersPerCounty: containers, codedShare: 1, seed: 13, keysAfterLoad: true, log: (m) => log(`history: ${m.trim()}`) });
  log(`history: generated ${r.rows.sold_units ?? 0} sold units, ${r.rows.ledger_entries ?? 0} ledger entries, ${Object.values(r.rows).reduce((a, n) => a + n, 0)} rows in ${(r.ms / 1000).toFixed(1)} s`);
  await vacuumAndCheckpoint(knex, log);
  return { sales: Number((await knex('sales').where({ county_id: DEMO_COUNTY_ID }).count({ n: '*' }).first())!.n) - sales0, units: (await before()) - units0, ms: performance.now() - t0 };
}

async function vacuumAndCheckpoint(knex: Knex, log: (m: string) => void): Promise<void> {
  // As history written long ago would be: vacuumed, analysed and checkpointed, so the measurement
  // after it does not pay for the fill's own write-back (a checkpoint of a gigabyte of WAL).
  await knex.raw('VACUUM (ANALYZE)');
  await knex.raw('CHECKPOINT').catch((err: Error) => log(`history: CHECKPOINT not allowed (${err.message}); measuring without it`));
}

/** BENCH_HISTORY_FILL=sql: stores `units` sold unit codes (rounded up to whole sales of ten) with their sales and ledger rows, on a database without history. */
export async function fillHistory(knex: Knex, units: number, log: (m: string) => void = () => undefined): Promise<{ sales: number; units: number; ms: number }> {
  const c = DEMO_COUNTY_ID;
  const sales = Math.ceil(units / UNITS_PER_SALE);
  const farmers = ((await knex('farmers').where({ county_id: c }).orderBy('id').limit(200).select('id')) as Array<{ id: string }>).map((f) => f.id);
  if (farmers.length === 0) throw new Error('history: the demo county has no farmers');
  const shopAcc = shopAccount(c, SHOP).id;
  const outAcc = countyAccount(c, 'deposits_outstanding').id;
  const start = Date.now() - 365 * DAY_MS;
  const stepMs = (360 * DAY_MS) / sales;
  const amount = UNITS_PER_SALE * DEPOSIT_FEN;
  const t0 = performance.now();
  for (let a = 1; a <= sales; a += SALES_PER_CHUNK) {
    const b = Math.min(sales, a + SALES_PER_CHUNK - 1);
    await knex.transaction(async (trx) => {
      const accounts = (await trx.raw('SELECT id, balance_fen FROM ledger_accounts WHERE county_id = ? AND id = ANY(?::uuid[]) FOR UPDATE', [c, [shopAcc, outAcc]])).rows as Array<{ id: string; balance_fen: number }>;
      const shop0 = accounts.find((x) => x.id === shopAcc)?.balance_fen;
      const out0 = accounts.find((x) => x.id === outAcc)?.balance_fen;
      if (shop0 === undefined || out0 === undefined) throw new Error('history: the shop and deposits-outstanding accounts must exist (a sale creates them)');
      const p = { c, a, b, start: new Date(start).toISOString(), step: stepMs, tz: DEFAULT_TIME_ZONE, farmers, shop: SHOP, product: PRODUCT, amount, per: UNITS_PER_SALE, dep: DEPOSIT_FEN, shopAcc, outAcc, shop0, out0 };
      const series = `SELECT g, md5('bench-history-sale-' || g)::uuid AS id, :start::timestamptz + (g * :step) * interval '1 millisecond' AS t,
        (:farmers::uuid[])[1 + g % array_length(:farmers::uuid[], 1)] AS farmer FROM generate_series(:a::bigint, :b::bigint) g`;
      await trx.raw(`INSERT INTO sales (county_id, id, shop_id, farmer_id, event_time, business_day, recorded_at, actor, total_deposit_fen)
        SELECT :c, id, :shop, farmer, t, (t AT TIME ZONE :tz)::date, t, 'bench:history', :amount FROM (${series}) s ORDER BY g`, p);
      await trx.raw(`INSERT INTO sale_lines (county_id, sale_id, line_no, product_id, quantity, deposit_per_container_fen, deposit_fen)
        SELECT :c, id, 1, :product, :per, :dep, :amount FROM (${series}) s`, p);
      await trx.raw(`INSERT INTO sold_units (county_id, sale_id, unit_code, line_no, product_id, shop_id, farmer_id, deposit_fen, event_time)
        SELECT :c, s.id, '2' || lpad(((s.g - 1) * :per + k)::text, 31, '0'), 1, :product, :shop, s.farmer, :dep, s.t
          FROM (${series}) s CROSS JOIN generate_series(1, :per) k`, p);
      await trx.raw(`INSERT INTO ledger_transfers (county_id, id, code, client_id, ref_type, ref_id, shop_id, debit_account_id, credit_account_id, amount_fen, event_time, recorded_at, actor)
        SELECT :c, md5('bench-history-transfer-' || g)::uuid, 'deposit_collected', id, 'sale', id, :shop, :shopAcc, :outAcc, :amount, t, t, 'bench:history' FROM (${series}) s`, p);
      await trx.raw(`INSERT INTO ledger_entries (county_id, transfer_id, account_id, amount_fen, balance_after_fen)
        SELECT :c, md5('bench-history-transfer-' || g)::uuid, e.account, e.amount, e.after
          FROM generate_series(:a::bigint, :b::bigint) g
          CROSS JOIN LATERAL (VALUES (1, :shopAcc::uuid, :amount::bigint, :shop0::bigint + :amount::bigint * (g - :a + 1)),
                                     (2, :outAcc::uuid, -:amount::bigint, :out0::bigint - :amount::bigint * (g - :a + 1))) e(o, account, amount, after)
          ORDER BY g, e.o`, p);
      const moved = amount * (b - a + 1);
      await trx.raw('UPDATE ledger_accounts SET balance_fen = balance_fen + (CASE WHEN id = ?::uuid THEN ?::bigint ELSE -?::bigint END) WHERE county_id = ? AND id = ANY(?::uuid[])', [shopAcc, moved, moved, c, [shopAcc, outAcc]]);
    });
    log(`history: ${(b * UNITS_PER_SALE).toLocaleString('en')} / ${(sales * UNITS_PER_SALE).toLocaleString('en')} unit codes stored (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  await vacuumAndCheckpoint(knex, log);
  return { sales, units: sales * UNITS_PER_SALE, ms: performance.now() - t0 };
}

async function measure(ctx: BenchContext, label: string, clients: number): Promise<BenchRow[]> {
  const auth = await ctx.token('clerk.qingcheng');
  const sales = await drive('history', `POST /sales, ${label}`, clients, ctx.seconds, async (client) => {
    const res = await postJson(`${ctx.baseUrl}/api/v1/counties/${DEMO_COUNTY_ID}/sales`, auth, {
      id: newClientId(), shopId: SHOP, eventTime: new Date().toISOString(),
      purchaser: { phone: `+86174620${String(client).padStart(5, '0')}`, name: '压测' },
      lines: [{ productId: PRODUCT, quantity: 2, unitCodes: [code()] }],
    });
    if (res.status !== 201) throw new Error(`sale ${res.status} ${JSON.stringify(res.body)}`);
    return true;
  });
  const times: number[] = [];
  const cpu0 = sampleCpu();
  for (let r = 0; r < SYNC_ROUNDS; r++) {
    const t0 = performance.now();
    const res = await postJson(`${ctx.baseUrl}/api/v1/sync/batches`, auth, { records: syncRecords(LARGE_BATCH) });
    times.push(performance.now() - t0);
    if (res.status !== 200 || res.body.counts.applied !== LARGE_BATCH) throw new Error(`sync batch ${res.status} ${JSON.stringify(res.body.counts ?? res.body)}`);
  }
  const sorted = [...times].sort((x, y) => x - y);
  const sync: BenchRow = {
    section: 'history', operation: `sync batch of ${LARGE_BATCH}, ${label} (records/s)`, concurrency: 1, ops: SYNC_ROUNDS * LARGE_BATCH, errors: 0,
    perSecond: (SYNC_ROUNDS * LARGE_BATCH) / (times.reduce((s, x) => s + x, 0) / 1000), p50Ms: sorted[Math.floor(sorted.length / 2)]!, p99Ms: sorted[sorted.length - 1]!,
    ...cpuPerOp(cpu0, sampleCpu(), SYNC_ROUNDS * LARGE_BATCH),
  };
  return [{ ...sales, vsPgbench: true }, sync];
}

export const historySection: BenchSection = {
  name: 'history',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    if (ctx.historyUnits <= 0) {
      console.log('history: skipped (--history 0)');
      return [];
    }
    const clients = ctx.concurrencies.includes(16) ? 16 : Math.max(...ctx.concurrencies);
    const [sales0, sync0] = await measure(ctx, 'empty database', clients);
    const how = (process.env.BENCH_HISTORY_FILL ?? 'generator') === 'sql' ? 'sql' : 'generator';
    const fill = how === 'sql' ? fillHistory : fillHistoryByGenerator;
    const filled = await fill(ctx.knex, ctx.historyUnits, (m) => console.log(`  ${ctx.database} ${m}`));
    const size = Number((await ctx.knex.raw(`SELECT pg_total_relation_size('sold_units') AS n`)).rows[0].n) / 2 ** 20;
    console.log(`history (${ctx.database}): ${filled.units.toLocaleString('en')} sold unit codes in ${filled.sales.toLocaleString('en')} sales stored by the ${how === 'sql' ? 'SQL fill' : 'generator'} in ${(filled.ms / 1000).toFixed(1)} s; sold_units ${size.toFixed(0)} MB with its indexes`);
    const with_ = `with ${filled.units.toLocaleString('en')} sold units stored`;
    const [salesN, syncN] = await measure(ctx, with_, clients);
    return [
      { ...sales0!, baselineName: '-' },
      { ...salesN!, baselineName: 'same, empty database', baselinePerSecond: sales0!.perSecond },
      { ...sync0!, baselineName: '-' },
      { ...syncN!, baselineName: 'same, empty database', baselinePerSecond: sync0!.perSecond },
    ];
  },
};
