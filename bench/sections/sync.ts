// Sync ingest: records per second when a terminal sends batches of 100 and 1,000 sales to
// POST /api/v1/sync/batches, beside a raw multi-row INSERT of the same number of rows (one statement)
// into a scratch table shaped like `sales`, on the same database in the same run. The ratio says what
// applying each record through the sale service (own transaction, idempotency key, ledger transfer)
// costs against the database's bulk write rate. CPU per operation is per record, measured around the
// API calls only.
import { performance } from 'node:perf_hooks';
import { demoId, DEMO_COUNTY_ID } from '../../seeds/demo-county.js';
import { newClientId } from '../../src/shared/client-id.js';
import { businessDay, DEFAULT_TIME_ZONE } from '../../src/shared/business-day.js';
import { cpuPerOp, postJson, sampleCpu, type BenchContext, type BenchRow, type BenchSection } from '../harness.js';

const SHOP = demoId('shops', `${DEMO_COUNTY_ID}:农药经许（川）51142520180001`);
const PRODUCT = demoId('products', `${DEMO_COUNTY_ID}:PD20070128:210`);
const ROUNDS = Number(process.env.BENCH_SYNC_ROUNDS ?? 3);
/** Batch sizes measured (BENCH_SYNC_BATCHES, default 100,1000); the largest is the one the responsiveness and history sections send. */
export const SYNC_BATCHES = (process.env.BENCH_SYNC_BATCHES ?? '100,1000').split(',').map(Number);
export const LARGE_BATCH = Math.max(...SYNC_BATCHES);

export function syncRecords(n: number) {
  const at = Date.now() - 3600_000;
  return Array.from({ length: n }, (_, i) => ({
    kind: 'sale', id: newClientId(), eventTime: new Date(at + i).toISOString(),
    payload: { shopId: SHOP, purchaser: { phone: `+86174600${String(i % 500).padStart(5, '0')}`, name: '压测' }, lines: [{ productId: PRODUCT, quantity: 2, depositChargedFen: 100 }] },
  }));
}

function row(operation: string, size: number, samples: number[]): BenchRow {
  const total = samples.reduce((s, x) => s + x, 0);
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    section: 'sync', operation, concurrency: 1, ops: samples.length * size, errors: 0,
    perSecond: (samples.length * size) / (total / 1000), p50Ms: sorted[Math.floor(sorted.length / 2)]!, p99Ms: sorted[sorted.length - 1]!,
  };
}

export const syncSection: BenchSection = {
  name: 'sync',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const auth = await ctx.token('clerk.qingcheng');
    await ctx.knex.raw(`CREATE TABLE IF NOT EXISTS bench_sync_raw (county_id varchar(6) NOT NULL, id uuid NOT NULL, shop_id uuid NOT NULL,
      event_time timestamptz NOT NULL, business_day date NOT NULL, recorded_at timestamptz NOT NULL, actor varchar(100) NOT NULL,
      total_deposit_fen bigint NOT NULL, PRIMARY KEY (county_id, id))`);
    const rows: BenchRow[] = [];
    for (const size of SYNC_BATCHES) {
      const api: number[] = [];
      const raw: number[] = [];
      let appCpu = 0;
      let dbCpu = 0;
      for (let r = 0; r < ROUNDS; r++) {
        const batch = syncRecords(size);
        const cpu0 = sampleCpu();
        const t0 = performance.now();
        const res = await postJson(`${ctx.baseUrl}/api/v1/sync/batches`, auth, { records: batch });
        api.push(performance.now() - t0);
        const cpu = cpuPerOp(cpu0, sampleCpu(), 1);
        appCpu += cpu.appCpuMsPerOp!;
        dbCpu += cpu.dbCpuMsPerOp!;
        if (res.status !== 200 || res.body.counts.applied !== size) throw new Error(`sync batch ${res.status} ${JSON.stringify(res.body.counts ?? res.body)}`);
        const values = batch.map((b) => ({
          county_id: DEMO_COUNTY_ID, id: b.id, shop_id: SHOP, event_time: b.eventTime, business_day: businessDay(b.eventTime, DEFAULT_TIME_ZONE),
          recorded_at: new Date().toISOString(), actor: 'terminal:bench', total_deposit_fen: 200,
        }));
        const t1 = performance.now();
        await ctx.knex('bench_sync_raw').insert(values);
        raw.push(performance.now() - t1);
      }
      const a = row(`sync batch of ${size} (records/s)`, size, api);
      const b = row(`raw multi-row INSERT of ${size} rows (rows/s)`, size, raw);
      a.baselineName = `raw multi-row INSERT of ${size}`;
      a.baselinePerSecond = b.perSecond;
      a.appCpuMsPerOp = appCpu / (ROUNDS * size);
      a.dbCpuMsPerOp = dbCpu / (ROUNDS * size);
      b.baselineName = '-';
      rows.push(a, b);
    }
    await ctx.knex.raw('DROP TABLE bench_sync_raw');
    return rows;
  },
};
