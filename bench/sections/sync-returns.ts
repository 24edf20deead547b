// Sync ingest of returns: records per second when a terminal sends a batch of returns (default 1,000;
// BENCH_SYNC_BATCHES) to POST /api/v1/sync/batches, applied set-based (applyReturnRun), beside a raw
// multi-row INSERT of the same number of rows into a scratch table shaped like `returns`. Each return
// refunds a unit code sold with deposit and one container without a code (drawn from the returner's
// lot), so every round sells first (a sync batch of sales, not timed). `npm run bench -- --sections sync-returns`.
import { performance } from 'node:perf_hooks';
import { randomInt } from 'node:crypto';
import { demoId, DEMO_COUNTY_ID } from '../../seeds/demo-county.js';
import { newClientId } from '../../src/shared/client-id.js';
import { businessDay, DEFAULT_TIME_ZONE } from '../../src/shared/business-day.js';
import { cpuPerOp, postJson, sampleCpu, type BenchContext, type BenchRow, type BenchSection } from '../harness.js';
import { SYNC_BATCHES } from './sync.js';

const SHOP = demoId('shops', `${DEMO_COUNTY_ID}:农药经许（川）51142520180001`);
const PRODUCT = demoId('products', `${DEMO_COUNTY_ID}:PD20070128:210`);
const ROUNDS = Number(process.env.BENCH_SYNC_ROUNDS ?? 3);

function code(): string {
  let serial = '';
  for (let i = 0; i < 21; i++) serial += String(randomInt(10));
  return `10701281210${serial}`;
}

/** `n` sales (one coded container and one without a code each) and the `n` returns of them. */
export function saleAndReturnRecords(n: number, round: number) {
  const at = Date.now() - 7200_000;
  const buyers = Array.from({ length: n }, (_, i) => ({ phone: `+86174610${String(round % 10)}${String(i).padStart(4, '0')}`, code: code() }));
  const sales = buyers.map((b, i) => ({
    kind: 'sale', id: newClientId(), eventTime: new Date(at + i).toISOString(),
    payload: { shopId: SHOP, purchaser: { phone: b.phone, name: '压测' }, lines: [{ productId: PRODUCT, quantity: 2, unitCodes: [b.code], depositChargedFen: 100 }] },
  }));
  const returns = buyers.map((b, i) => ({
    kind: 'return', id: newClientId(), eventTime: new Date(at + 3600_000 + i).toISOString(),
    payload: { shopId: SHOP, returner: { phone: b.phone }, items: [{ scan: b.code, inspection: 'accepted' }, { productId: PRODUCT, quantity: 1, inspection: 'accepted' }] },
  }));
  return { sales, returns };
}

function row(operation: string, size: number, samples: number[]): BenchRow {
  const total = samples.reduce((s, x) => s + x, 0);
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    section: 'sync-returns', operation, concurrency: 1, ops: samples.length * size, errors: 0,
    perSecond: (samples.length * size) / (total / 1000), p50Ms: sorted[Math.floor(sorted.length / 2)]!, p99Ms: sorted[sorted.length - 1]!,
  };
}

export const syncReturnsSection: BenchSection = {
  name: 'sync-returns',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const auth = await ctx.token('clerk.qingcheng');
    await ctx.knex.raw(`CREATE TABLE IF NOT EXISTS bench_return_raw (county_id varchar(6) NOT NULL, id uuid NOT NULL, shop_id uuid NOT NULL, farmer_id uuid,
      event_time timestamptz NOT NULL, business_day date NOT NULL, recorded_at timestamptz NOT NULL, actor varchar(100) NOT NULL,
      total_refund_fen bigint NOT NULL, PRIMARY KEY (county_id, id))`);
    const rows: BenchRow[] = [];
    const sizes = [Math.max(...SYNC_BATCHES)];
    for (const size of sizes) {
      const api: number[] = [];
      const raw: number[] = [];
      let appCpu = 0;
      let dbCpu = 0;
      for (let r = 0; r < ROUNDS; r++) {
        const { sales, returns } = saleAndReturnRecords(size, r);
        const sold = await postJson(`${ctx.baseUrl}/api/v1/sync/batches`, auth, { records: sales });
        if (sold.status !== 200 || sold.body.counts.applied !== size) throw new Error(`sync sales ${sold.status} ${JSON.stringify(sold.body.counts ?? sold.body)}`);
        const cpu0 = sampleCpu();
        const t0 = performance.now();
        const res = await postJson(`${ctx.baseUrl}/api/v1/sync/batches`, auth, { records: returns });
        api.push(performance.now() - t0);
        const cpu = cpuPerOp(cpu0, sampleCpu(), 1);
        appCpu += cpu.appCpuMsPerOp!;
        dbCpu += cpu.dbCpuMsPerOp!;
        if (res.status !== 200 || res.body.counts.applied !== size) throw new Error(`sync returns ${res.status} ${JSON.stringify(res.body.counts ?? res.body)}`);
        const refunded = (res.body.results as Array<{ result: { totalRefundFen: number } }>).reduce((s, x) => s + x.result.totalRefundFen, 0);
        if (refunded !== 200 * size) throw new Error(`sync returns refunded ${refunded} fen, expected ${200 * size}`);
        const values = returns.map((b) => ({
          county_id: DEMO_COUNTY_ID, id: b.id, shop_id: SHOP, farmer_id: newClientId(), event_time: b.eventTime, business_day: businessDay(b.eventTime, DEFAULT_TIME_ZONE),
          recorded_at: new Date().toISOString(), actor: 'terminal:bench', total_refund_fen: 200,
        }));
        const t1 = performance.now();
        await ctx.knex('bench_return_raw').insert(values);
        raw.push(performance.now() - t1);
      }
      const a = row(`sync batch of ${size} returns (records/s)`, size, api);
      const b = row(`raw multi-row INSERT of ${size} return rows (rows/s)`, size, raw);
      a.baselineName = `raw multi-row INSERT of ${size}`;
      a.baselinePerSecond = b.perSecond;
      a.appCpuMsPerOp = appCpu / (ROUNDS * size);
      a.dbCpuMsPerOp = dbCpu / (ROUNDS * size);
      b.baselineName = '-';
      rows.push(a, b);
    }
    await ctx.knex.raw('DROP TABLE bench_return_raw');
    return rows;
  },
};
