// Does the server stay responsive while a 1,000-record sync batch applies? A separate client (its own
// connections) probes GET /healthz and POST /sales one request at a time, 10 ms apart, first with the
// server idle and then for as long as a 1,000-record batch takes, BENCH_RESPONSIVE_ROUNDS times
// (default 3). The target: p99 under 100 ms for both while the batch applies.
import { demoId, DEMO_COUNTY_ID } from '../../seeds/demo-county.js';
import { newClientId } from '../../src/shared/client-id.js';
import { percentile, postJson, type BenchContext, type BenchRow, type BenchSection } from '../harness.js';
import { LARGE_BATCH, syncRecords } from './sync.js';

const SHOP = demoId('shops', `${DEMO_COUNTY_ID}:农药经许（川）51142520180001`);
const PRODUCT = demoId('products', `${DEMO_COUNTY_ID}:PD20070128:210`);
const ROUNDS = Number(process.env.BENCH_RESPONSIVE_ROUNDS ?? 3);
const BATCH = LARGE_BATCH; // 1,000 unless BENCH_SYNC_BATCHES says otherwise
const TARGET_MS = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Probe { times: number[]; errors: number; elapsedMs: number }

/** One request at a time, `gapMs` apart, until `done()` says stop. */
async function probe(done: () => boolean, call: () => Promise<boolean>, gapMs = 10): Promise<Probe> {
  const times: number[] = [];
  let errors = 0;
  const started = performance.now();
  while (!done()) {
    const t0 = performance.now();
    let ok = false;
    try {
      ok = await call();
    } catch {
      ok = false;
    }
    if (ok) times.push(performance.now() - t0);
    else errors++;
    await sleep(gapMs);
  }
  return { times, errors, elapsedMs: performance.now() - started };
}

function toRow(operation: string, p: Probe): BenchRow {
  const sorted = [...p.times].sort((a, b) => a - b);
  return {
    section: 'responsiveness', operation, concurrency: 1, ops: sorted.length, errors: p.errors,
    perSecond: sorted.length / (p.elapsedMs / 1000), p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), baselineName: '-',
  };
}

function merge(all: Probe[]): Probe {
  return { times: all.flatMap((p) => p.times), errors: all.reduce((s, p) => s + p.errors, 0), elapsedMs: all.reduce((s, p) => s + p.elapsedMs, 0) };
}

export const responsivenessSection: BenchSection = {
  name: 'responsiveness',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const clerk = await ctx.token('clerk.qingcheng');
    let phone = 0;
    const healthz = async () => (await fetch(`${ctx.baseUrl}/healthz`)).status === 200;
    const sale = async () => {
      const res = await postJson(`${ctx.baseUrl}/api/v1/counties/${DEMO_COUNTY_ID}/sales`, clerk, {
        id: newClientId(), shopId: SHOP, eventTime: new Date().toISOString(),
        purchaser: { phone: `+86174610${String(phone++ % 1000).padStart(5, '0')}`, name: '探测' },
        lines: [{ productId: PRODUCT, quantity: 1, unitCodes: [] }],
      });
      return res.status === 201;
    };
    // Warm up both paths, then the idle figures, as long as the batches will take in all.
    for (let i = 0; i < 5; i++) await Promise.all([healthz(), sale()]);
    const idleFor = Math.max(1, ctx.seconds) * 1000;
    const idleUntil = performance.now() + idleFor;
    const idle = await Promise.all([probe(() => performance.now() >= idleUntil, healthz), probe(() => performance.now() >= idleUntil, sale)]);

    const busyHealth: Probe[] = [];
    const busySale: Probe[] = [];
    let applied = 0;
    let batchMs = 0;
    for (let r = 0; r < ROUNDS; r++) {
      let finished = false;
      const probes = Promise.all([probe(() => finished, healthz), probe(() => finished, sale)]);
      await sleep(20); // the probes are running before the batch arrives
      const t0 = performance.now();
      const res = await postJson(`${ctx.baseUrl}/api/v1/sync/batches`, clerk, { records: syncRecords(BATCH) });
      batchMs += performance.now() - t0;
      finished = true;
      const [h, s] = await probes;
      busyHealth.push(h);
      busySale.push(s);
      if (res.status !== 200) throw new Error(`sync batch ${res.status} ${JSON.stringify(res.body)}`);
      applied += res.body.counts.applied as number;
    }
    console.log(`responsiveness (${ctx.database}): ${ROUNDS} batches of ${BATCH} took ${(batchMs / ROUNDS / 1000).toFixed(2)} s each on average (${applied} records applied) while the probes ran`);
    return [
      toRow('GET /healthz, idle', idle[0]),
      toRow(`GET /healthz while a ${BATCH.toLocaleString('en')}-record sync batch applies (target p99 < ${TARGET_MS} ms)`, merge(busyHealth)),
      toRow('POST /sales (one client), idle', idle[1]),
      toRow(`POST /sales (one client) while a ${BATCH.toLocaleString('en')}-record sync batch applies (target p99 < ${TARGET_MS} ms)`, merge(busySale)),
    ];
  },
};
