// Reconciliation from the per-day books equals the full recomputation: random activity through the
// API (sales, offline sales days late, returns, reversals, expiry runs, settlements, custody bags,
// month closes that turn later records into late adjustments) with the clock moving over days and
// months and reconciliation runs in between; after every step, for the current month, the previous
// month and the year, as of now and as of an earlier instant, with and without folding the dirty
// days in first, both paths give the same figures, the same exceptions and the same fingerprint.
import { expect } from 'chai';
import fc from 'fast-check';
import { useTestApp } from '../../support/harness.js';
import { newClientId, newId } from '../../../src/shared/client-id.js';
import { addMonths, businessMonth, monthStart } from '../../../src/shared/business-day.js';
import { fingerprintOf, reconcile } from '../../../src/features/reconciliation/reconciliation-service.js';
import { COUNTY, GLYPHOSATE, GLYPHOSATE_5L, SHOP_A, SHOP_B, freshToken } from '../ledger/ledger-fixtures.js';

const PRODUCTS = [GLYPHOSATE, GLYPHOSATE_5L];
const SHOPS = [SHOP_A, SHOP_B];
const PHONES = ['+8617460000801', '+8617460000802'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TZ = 'Asia/Shanghai';

type Op =
  | { kind: 'advance'; hours: number }
  | { kind: 'sale'; shop: number; product: number; quantity: number; coded: number; hoursAgo: number; phone: number }
  | { kind: 'return'; shop: number; pick: number[]; gtinQty: number; product: number; reject: boolean; hoursAgo: number }
  | { kind: 'reverse'; target: 'sale' | 'return'; pick: number }
  | { kind: 'expire' }
  | { kind: 'settle'; shop: number }
  | { kind: 'bag'; shop: number; quantity: number }
  | { kind: 'run' }
  | { kind: 'close' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), hours: fc.integer({ min: 1, max: 96 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('sale' as const), shop: fc.nat(1), product: fc.nat(1), quantity: fc.integer({ min: 1, max: 3 }), coded: fc.nat(3), hoursAgo: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 40 * 24 })), phone: fc.nat(1) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('return' as const), shop: fc.nat(1), pick: fc.array(fc.nat(40), { maxLength: 3 }), gtinQty: fc.nat(2), product: fc.nat(1), reject: fc.boolean(), hoursAgo: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reverse' as const), target: fc.constantFrom('sale' as const, 'return' as const), pick: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'expire' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('settle' as const), shop: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bag' as const), shop: fc.nat(1), quantity: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'run' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'close' as const }) },
);

function serial(): string {
  let s = '';
  for (let i = 0; i < 21; i++) s += String(Math.floor(Math.random() * 10));
  return s;
}

describe('reconciliation books equal the full recomputation (random activity)', function () {
  this.timeout(900_000);
  const t = useTestApp({ clock: '2026-02-01T02:00:00.000Z' });
  const codes: string[] = [];
  const sales: string[] = [];
  const returns: string[] = [];
  let auth = '';
  let steps = 0;
  let compared = 0;
  const kinds = new Set<string>();
  const refused: string[] = [];

  async function as(): Promise<string> {
    if (!auth) auth = await freshToken(t, 'admin');
    return auth;
  }

  async function post(path: string, body: Record<string, unknown>) {
    return t.api().post(path).set('Authorization', await as()).send(body);
  }

  async function apply(op: Op): Promise<void> {
    const now = t.clock.now().getTime();
    switch (op.kind) {
      case 'advance':
        t.clock.set(new Date(now + op.hours * HOUR).toISOString());
        auth = '';
        return;
      case 'sale': {
        const p = PRODUCTS[op.product]!;
        const mine = Array.from({ length: Math.min(op.coded, op.quantity) }, () => `1${p.reg}1${p.pack}${serial()}`);
        const id = newClientId();
        const res = await post(`/api/v1/counties/${COUNTY}/sales`, {
          id, shopId: SHOPS[op.shop], eventTime: new Date(now - op.hoursAgo * HOUR).toISOString(),
          purchaser: { phone: PHONES[op.phone], name: '属性测试' }, lines: [{ productId: p.id, quantity: op.quantity, unitCodes: mine }],
        });
        expect([201, 409, 422], JSON.stringify(res.body)).to.include(res.status);
        if (res.status !== 201) refused.push(res.body.error?.code);
        if (res.status === 201) {
          sales.push(id);
          codes.push(...mine);
          if (res.body.lateAdjustment) kinds.add('late_adjustment');
        }
        return;
      }
      case 'return': {
        const picked = [...new Set(op.pick.filter((i) => i < codes.length).map((i) => codes[i]!))];
        const items: Array<Record<string, unknown>> = picked.map((c) => (op.reject ? { scan: c, inspection: 'rejected', reasonCode: 'damaged' } : { scan: c, inspection: 'accepted' }));
        if (op.gtinQty > 0) items.push({ productId: PRODUCTS[op.product]!.id, quantity: op.gtinQty, inspection: 'accepted' });
        if (!items.length) return;
        const id = newClientId();
        const res = await post(`/api/v1/counties/${COUNTY}/returns`, { id, shopId: SHOPS[op.shop], eventTime: new Date(now - op.hoursAgo * HOUR).toISOString(), items, returner: { phone: PHONES[0], name: '属性测试' } });
        expect([201, 409, 422], JSON.stringify(res.body)).to.include(res.status);
        if (res.status === 201) returns.push(id);
        return;
      }
      case 'reverse': {
        const list = op.target === 'sale' ? sales : returns;
        if (!list.length) return;
        const res = await post(`/api/v1/counties/${COUNTY}/reversals`, { id: newClientId(), targetType: op.target, targetId: list[op.pick % list.length], reason: 'property test' });
        expect([201, 409, 422], JSON.stringify(res.body)).to.include(res.status);
        if (res.status === 201) kinds.add('reversal');
        return;
      }
      case 'expire': {
        const res = await post(`/api/v1/counties/${COUNTY}/ledger/expiry-runs`, {});
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        return;
      }
      case 'settle': {
        const month = addMonths(businessMonth(new Date(now), TZ), -1);
        const st = await t.api().get(`/api/v1/counties/${COUNTY}/settlements/statements/${month}`).set('Authorization', await as());
        const line = st.body.shops?.find((l: { shopId: string }) => l.shopId === SHOPS[op.shop]);
        if (!line || line.outstandingFen === 0) return;
        const res = await post(`/api/v1/counties/${COUNTY}/settlements`, { id: newClientId(), shopId: SHOPS[op.shop], period: month, amountFen: Math.abs(line.outstandingFen), direction: line.outstandingFen > 0 ? 'from_shop' : 'to_shop', method: 'bank', reference: 'PROP' });
        expect([201, 409, 422], JSON.stringify(res.body)).to.include(res.status);
        return;
      }
      case 'bag': {
        const k = t.db.knex;
        const at = new Date(now);
        const bag = newId();
        const ct = await k('products').where({ county_id: COUNTY, id: GLYPHOSATE.id }).first('container_type_id');
        await k('custody_bags').insert({
          county_id: COUNTY, id: bag, shop_id: SHOPS[op.shop], material: 'HDPE', state: 'sealed', seal_no: `P-${bag.slice(-12)}`, declared_quantity: op.quantity, expected_weight_g: 55 * op.quantity,
          holder_type: 'shop', holder_id: SHOPS[op.shop], created_by: 'test', created_at: at, sealed_at: at, updated_at: at,
        });
        await k('custody_bag_items').insert({ county_id: COUNTY, bag_id: bag, item_no: 1, container_type_id: ct.container_type_id, unit_code: null, quantity: op.quantity, tare_weight_g: 55, recorded_at: at });
        return;
      }
      case 'run': {
        const res = await post(`/api/v1/counties/${COUNTY}/reconciliations`, { period: businessMonth(new Date(now), TZ) });
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        return;
      }
      case 'close': {
        const month = addMonths(businessMonth(new Date(now), TZ), -1);
        const run = await post(`/api/v1/counties/${COUNTY}/reconciliations`, { period: month });
        expect(run.status, JSON.stringify(run.body)).to.equal(201);
        const res = await t.api().post(`/api/v1/counties/${COUNTY}/periods/${month}/close`).set('Authorization', await freshToken(t, 'qingshen.official')).send();
        expect([201, 409], JSON.stringify(res.body)).to.include(res.status);
        if (res.status === 201) kinds.add('close');
        return;
      }
    }
  }

  async function compareAll(earlierHours: number, refresh: boolean): Promise<void> {
    const now = t.clock.now();
    const month = businessMonth(now, TZ);
    const asOfs = [now, new Date(now.getTime() - earlierHours * HOUR)];
    for (const period of [month, addMonths(month, -1), month.slice(0, 4)]) {
      for (const asOf of asOfs) {
        const full = await reconcile(t.db.knex, COUNTY, period, asOf, { from: 'recompute' });
        const books = await reconcile(t.db.knex, COUNTY, period, asOf, { from: 'books', refresh });
        expect(books.figures, `${period} as of ${asOf.toISOString()} (refresh ${refresh})`).to.deep.equal(full.figures);
        expect(books.exceptions, `${period} as of ${asOf.toISOString()} (refresh ${refresh})`).to.deep.equal(full.exceptions);
        expect(fingerprintOf(books.figures, books.exceptions)).to.equal(fingerprintOf(full.figures, full.exceptions));
        compared++;
      }
    }
  }

  it('after every step, for months and the year, as of now and earlier, field for field and fingerprint for fingerprint', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(opArb, fc.integer({ min: 0, max: 72 }), fc.boolean()), { minLength: 3, maxLength: 10 }), async (ops) => {
        for (const [op, earlierHours, refresh] of ops) {
          await apply(op);
          steps++;
          await compareAll(earlierHours, refresh);
        }
      }),
      { numRuns: Number(process.env.BOOKS_PROPERTY_RUNS ?? 6), endOnFailure: true },
    );
    // The random walk really went through what the books must get right.
    expect(sales.length, `sales (refused: ${refused.join(', ')})`).to.be.greaterThan(1);
    expect(returns.length, 'returns').to.be.greaterThan(0);
    expect(compared).to.be.greaterThan(steps);
    const rows = await t.db.knex('reconciliation_day_books').where({ county_id: COUNTY }).count({ n: '*' }).first();
    expect(Number(rows?.n)).to.be.greaterThan(0);
    console.log(`      ${steps} steps, ${compared} comparisons; seen: ${[...kinds].sort().join(', ')}`);
  });

  it('a late adjustment, a reversal and a closed month are among what was compared', async () => {
    // Deterministic walk through the cases the random one may miss: a sale in February, February
    // closed, then a sale of February arriving late (booked in March), and a reversal of it.
    t.clock.set(new Date(t.clock.now().getTime() + 40 * DAY).toISOString());
    auth = '';
    const now = t.clock.now().getTime();
    const month = businessMonth(new Date(now), TZ);
    const prev = addMonths(month, -1);
    await apply({ kind: 'sale', shop: 0, product: 0, quantity: 1, coded: 1, hoursAgo: Math.ceil((now - monthStart(month, TZ).getTime()) / HOUR) + 30, phone: 0 });
    await apply({ kind: 'close' });
    const closed = await t.db.knex('closed_periods').where({ county_id: COUNTY, period_key: prev }).first('period_key');
    expect(closed, `${prev} closed`).to.not.equal(undefined);
    const id = newClientId();
    const late = await post(`/api/v1/counties/${COUNTY}/sales`, { id, shopId: SHOP_B, eventTime: new Date(monthStart(month, TZ).getTime() - 2 * DAY).toISOString(), purchaser: { phone: PHONES[1], name: '属性测试' }, lines: [{ productId: GLYPHOSATE.id, quantity: 2 }] });
    expect(late.status, JSON.stringify(late.body)).to.equal(201);
    expect(late.body.lateAdjustment).to.equal(true);
    sales.push(id);
    await compareAll(0, true);
    await apply({ kind: 'reverse', target: 'sale', pick: sales.length - 1 });
    await compareAll(5, false);
    await compareAll(5, true);
    const adj = await reconcile(t.db.knex, COUNTY, month, t.clock.now(), { from: 'books' });
    expect(adj.exceptions.map((e) => e.kind)).to.include('late_adjustment');
  });
});
