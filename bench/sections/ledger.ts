// Sales and returns over HTTP: every sale carries two containers (one unit-coded), every return
// brings one unit code back, so each request posts a ledger transfer under account locks.
import { randomInt } from 'node:crypto';
import { demoId, DEMO_COUNTY_ID } from '../../seeds/demo-county.js';
import { newClientId } from '../../src/shared/client-id.js';
import { drive, postJson, type BenchContext, type BenchRow, type BenchSection } from '../harness.js';

const SHOP = demoId('shops', `${DEMO_COUNTY_ID}:农药经许（川）51142520180001`);
const PRODUCT = demoId('products', `${DEMO_COUNTY_ID}:PD20070128:210`);

function code(): string {
  let s = '10701281210';
  for (let i = 0; i < 21; i++) s += String(randomInt(10));
  return s;
}

export const ledgerSection: BenchSection = {
  name: 'ledger',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const auth = await ctx.token('clerk.qingcheng');
    const rows: BenchRow[] = [];
    const sold: string[] = [];
    // A few unmeasured sales first: the server process is fresh (module loading, JIT, first connections).
    for (let i = 0; i < 10; i++) {
      const unit = code();
      const res = await postJson(`${ctx.baseUrl}/api/v1/counties/${DEMO_COUNTY_ID}/sales`, auth, {
        id: newClientId(), shopId: SHOP, eventTime: new Date().toISOString(),
        purchaser: { phone: '+8617460099999', name: '预热' }, lines: [{ productId: PRODUCT, quantity: 2, unitCodes: [unit] }],
      });
      if (res.status !== 201) throw new Error(`warm-up sale ${res.status} ${JSON.stringify(res.body)}`);
      sold.push(unit);
    }
    for (const c of ctx.concurrencies) {
      rows.push(await drive('ledger', 'POST /sales', c, ctx.seconds, async (client) => {
        const unit = code();
        const res = await postJson(`${ctx.baseUrl}/api/v1/counties/${DEMO_COUNTY_ID}/sales`, auth, {
          id: newClientId(), shopId: SHOP, eventTime: new Date().toISOString(),
          purchaser: { phone: `+86174600${String(client).padStart(5, '0')}`, name: '压测' },
          lines: [{ productId: PRODUCT, quantity: 2, unitCodes: [unit] }],
        });
        if (res.status !== 201) throw new Error(`sale ${res.status} ${JSON.stringify(res.body)}`);
        sold.push(unit);
        return true;
      }));
    }
    // Every returns row must have codes to return for its whole measurement: top the stock of sold
    // codes up (at the fastest rate measured above, for the longest row, with room to spare) so no row
    // runs out and stops early. Pre-selling is not measured.
    const salesRate = Math.max(...rows.map((r) => r.perSecond));
    const returnRate = salesRate * 3; // returns have been at most ~2× sales; leave margin
    const want = Math.ceil(returnRate * ctx.seconds) * ctx.concurrencies.length;
    await drive('ledger', 'pre-sell', 16, 600, async (client) => {
      if (sold.length >= want) return false;
      const res = await postJson(`${ctx.baseUrl}/api/v1/counties/${DEMO_COUNTY_ID}/sales`, auth, {
        id: newClientId(), shopId: SHOP, eventTime: new Date().toISOString(),
        purchaser: { phone: `+86174600${String(client).padStart(5, '0')}`, name: '压测' },
        lines: [{ productId: PRODUCT, quantity: 10, unitCodes: Array.from({ length: 10 }, code) }],
      });
      if (res.status !== 201) throw new Error(`sale ${res.status}`);
      sold.push(...(res.body.lines[0].unitCodes as string[]));
      return true;
    });
    for (const c of ctx.concurrencies) {
      const stock = sold.length;
      rows.push(await drive('ledger', 'POST /returns', c, ctx.seconds, async () => {
        const unit = sold.pop();
        if (unit === undefined) return false;
        const res = await postJson(`${ctx.baseUrl}/api/v1/counties/${DEMO_COUNTY_ID}/returns`, auth, {
          id: newClientId(), shopId: SHOP, eventTime: new Date().toISOString(), items: [{ scan: unit, inspection: 'accepted' }],
        });
        if (res.status !== 201 || res.body.totalRefundFen !== 100) throw new Error(`return ${res.status}`);
        return true;
      }));
      if (sold.length === 0) console.warn(`bench: the returns row at ${c} clients used up all ${stock} sold codes before its time was up`);
    }
    // Each request is one write transaction: the table prints its ratio to pgbench TPC-B as well.
    return rows.map((r) => ({ ...r, vsPgbench: true }));
  },
};
