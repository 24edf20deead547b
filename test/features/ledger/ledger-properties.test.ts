// Random sequences of sales, returns, reversals, expiry runs and settlements through the API: after
// every step the ledger check is clean, and replaying the step's request changes nothing. With
// incentives in play (issue 17: a buy-back and points rate, household caps, a small fund topped up at
// random): the fund left is what was allocated less the buy-back of returns that stand, never below
// zero; the points issued are what farmers hold (plus redeemed and expired), and each farmer holds
// the points of their returns that stand.
import { expect } from 'chai';
import fc from 'fast-check';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { COUNTY, GLYPHOSATE, GLYPHOSATE_5L, SHOP_A, SHOP_B, expectLedgerClean } from './ledger-fixtures.js';
import { demoId } from '../../../seeds/demo-county.js';
import { fundIncentives, insertIncentiveRate, setCounty } from '../../support/incentives.js';

const PRODUCTS = [GLYPHOSATE, GLYPHOSATE_5L];
const SHOPS = [SHOP_A, SHOP_B];
const PHONES = ['+8617460000801', '+8617460000802'];
const NOW = Date.parse('2026-03-15T02:00:00.000Z');
const DAY = 86_400_000;

type Op =
  | { kind: 'sale'; shop: number; product: number; quantity: number; coded: number; daysAgo: number; charged: number | null; phone: number }
  | { kind: 'return'; shop: number; pick: number[]; gtinQty: number; product: number; phone: number | null; reject: boolean; daysAgo: number }
  | { kind: 'reverse'; target: 'sale' | 'return'; pick: number }
  | { kind: 'expire' }
  | { kind: 'settle'; shop: number }
  | { kind: 'fund'; fen: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('sale' as const), shop: fc.nat(1), product: fc.nat(1), quantity: fc.integer({ min: 1, max: 3 }), coded: fc.nat(3), daysAgo: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 500 })), charged: fc.option(fc.integer({ min: 0, max: 300 }), { freq: 4 }), phone: fc.nat(1) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('return' as const), shop: fc.nat(1), pick: fc.array(fc.nat(40), { maxLength: 3 }), gtinQty: fc.nat(3), product: fc.nat(1), phone: fc.option(fc.nat(1)), reject: fc.boolean(), daysAgo: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reverse' as const), target: fc.constantFrom('sale' as const, 'return' as const), pick: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'expire' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('settle' as const), shop: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fund' as const), fen: fc.integer({ min: 1, max: 150 }) }) },
);

function serial(): string {
  let s = '';
  for (let i = 0; i < 21; i++) s += String(Math.floor(Math.random() * 10));
  return s;
}

describe('ledger properties (random sequences through the API)', function () {
  this.timeout(120_000);
  const t = useTestApp();
  const codes: string[] = [];
  const sales: string[] = [];
  const returns: string[] = [];

  async function snapshot() {
    const knex = t.db.knex;
    const [acc, tr, keys, points, pointsTr] = await Promise.all([
      knex('ledger_accounts').where({ county_id: COUNTY }).orderBy('id').select('id', 'balance_fen'),
      knex('ledger_transfers').where({ county_id: COUNTY }).count({ n: '*' }).first(),
      knex('idempotency_keys').where({ county_id: COUNTY }).count({ n: '*' }).first(),
      knex('points_accounts').where({ county_id: COUNTY }).orderBy('id').select('id', 'balance_milli'),
      knex('points_transfers').where({ county_id: COUNTY }).count({ n: '*' }).first(),
    ]);
    return { acc, transfers: Number(tr?.n), keys: Number(keys?.n), points, pointsTransfers: Number(pointsTr?.n) };
  }

  /** The incentive fund and the points ledger tie to the records that stand (returns not reversed). */
  async function expectIncentivesTie() {
    const knex = t.db.knex;
    const fund = (await knex.raw(`SELECT
        (SELECT coalesce(sum(amount_fen), 0) FROM ledger_transfers WHERE county_id = :c AND code = 'incentive_allocated')::bigint AS allocated,
        (SELECT coalesce(sum(a.amount_fen), 0) FROM return_allocations a JOIN returns r ON r.county_id = a.county_id AND r.id = a.return_id
          WHERE a.county_id = :c AND a.source = 'buyback' AND NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = r.county_id AND v.target_type = 'return' AND v.target_id = r.id))::bigint AS paid,
        (SELECT coalesce(-sum(balance_fen), 0) FROM ledger_accounts WHERE county_id = :c AND kind = 'incentive_fund')::bigint AS left`, { c: COUNTY })).rows[0];
    expect(Number(fund.allocated) - Number(fund.paid), 'allocated − buy-back of returns that stand = fund left').to.equal(Number(fund.left));
    expect(Number(fund.left), 'the fund never goes below zero').to.be.at.least(0);
    const accounts = (await knex('points_accounts').where({ county_id: COUNTY }).select('kind', 'farmer_id', 'balance_milli')) as Array<{ kind: string; farmer_id: string | null; balance_milli: number }>;
    const sumOf = (kind: string) => accounts.filter((a) => a.kind === kind).reduce((s, a) => s + Number(a.balance_milli), 0);
    expect(sumOf('issued'), 'points issued = farmers’ balances + redeemed + expired').to.equal(-(sumOf('farmer') + sumOf('redeemed') + sumOf('expired')));
    const held = (await knex.raw(`SELECT r.farmer_id, sum(i.points_milli)::bigint AS milli FROM return_items i JOIN returns r ON r.county_id = i.county_id AND r.id = i.return_id
        WHERE i.county_id = :c AND r.farmer_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = r.county_id AND v.target_type = 'return' AND v.target_id = r.id)
        GROUP BY 1 HAVING sum(i.points_milli) > 0`, { c: COUNTY })).rows as Array<{ farmer_id: string; milli: number }>;
    const farmers = Object.fromEntries(accounts.filter((a) => a.kind === 'farmer' && Number(a.balance_milli) !== 0).map((a) => [a.farmer_id, -Number(a.balance_milli)]));
    expect(farmers, 'each farmer holds the points of their returns that stand').to.deep.equal(Object.fromEntries(held.map((h) => [h.farmer_id, Number(h.milli)])));
  }

  function request(op: Op): { path: string; body: Record<string, unknown> } | null {
    const id = newClientId();
    switch (op.kind) {
      case 'sale': {
        const p = PRODUCTS[op.product]!;
        const mine = Array.from({ length: Math.min(op.coded, op.quantity) }, () => `1${p.reg}1${p.pack}${serial()}`);
        codes.push(...mine);
        return {
          path: `/api/v1/counties/${COUNTY}/sales`,
          body: {
            id, shopId: SHOPS[op.shop], eventTime: new Date(NOW - op.daysAgo * DAY - 3_600_000).toISOString(),
            purchaser: { phone: PHONES[op.phone], name: '属性测试' },
            lines: [{ productId: p.id, quantity: op.quantity, unitCodes: mine, ...(op.charged !== null ? { depositChargedFen: op.charged } : {}) }],
          },
        };
      }
      case 'return': {
        const picked = [...new Set(op.pick.filter((i) => i < codes.length).map((i) => codes[i]!))];
        const items: Array<Record<string, unknown>> = picked.map((c) => (op.reject ? { scan: c, inspection: 'rejected', reasonCode: 'damaged' } : { scan: c, inspection: 'accepted' }));
        if (op.gtinQty > 0) items.push({ productId: PRODUCTS[op.product]!.id, quantity: op.gtinQty, inspection: 'accepted' });
        if (items.length === 0) return null;
        return {
          path: `/api/v1/counties/${COUNTY}/returns`,
          body: { id, shopId: SHOPS[op.shop], eventTime: new Date(NOW - op.daysAgo * DAY - 1_800_000).toISOString(), items, ...(op.phone !== null ? { returner: { phone: PHONES[op.phone], name: '属性测试' } } : {}) },
        };
      }
      case 'reverse': {
        const list = op.target === 'sale' ? sales : returns;
        if (list.length === 0) return null;
        return { path: `/api/v1/counties/${COUNTY}/reversals`, body: { id, targetType: op.target, targetId: list[op.pick % list.length], reason: 'property test' } };
      }
      default:
        return null;
    }
  }

  it('keeps every invariant after every step, and replays change nothing', async () => {
    const admin = await t.token('admin');
    // Incentives: buy-back and points for the 5 L jerrycan (no deposit beyond the returner's lots), caps that bite, a small fund.
    await insertIncentiveRate(t.db.knex, COUNTY, { containerTypeId: demoId('container_types', `${COUNTY}:HDPE-5L`), buybackFen: 40, pointsMilli: 300 });
    await setCounty(t.db.knex, COUNTY, { incentive_household_buyback_cap_fen: 400, incentive_household_points_cap_milli: 2500, incentive_when_fund_empty: 'points_only' });
    await fundIncentives(t.db.knex, COUNTY, 100);
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 10 }), async (ops) => {
        for (const op of ops) {
          if (op.kind === 'expire') {
            const path = `/api/v1/counties/${COUNTY}/ledger/expiry-runs`;
            expect((await t.api().post(path).set('Authorization', admin)).status).to.equal(200);
            await expectLedgerClean(t);
            const before = await snapshot();
            const again = await t.api().post(path).set('Authorization', admin);
            expect(again.body.amountFen).to.equal(0);
            expect((await snapshot()).acc).to.deep.equal(before.acc);
            continue;
          }
          if (op.kind === 'fund') {
            await fundIncentives(t.db.knex, COUNTY, op.fen);
            await expectLedgerClean(t);
            await expectIncentivesTie();
            continue;
          }
          let req = request(op);
          if (op.kind === 'settle') {
            const st = await t.api().get(`/api/v1/counties/${COUNTY}/settlements/statements/2026-02`).set('Authorization', admin);
            const line = st.body.shops.find((l: { shopId: string }) => l.shopId === SHOPS[op.shop]);
            if (line.outstandingFen === 0) continue;
            req = { path: `/api/v1/counties/${COUNTY}/settlements`, body: { id: newClientId(), shopId: SHOPS[op.shop], period: '2026-02', amountFen: Math.abs(line.outstandingFen), direction: line.outstandingFen > 0 ? 'from_shop' : 'to_shop', method: 'bank', reference: 'PROP' } };
          }
          if (!req) continue;
          const res = await t.api().post(req.path).set('Authorization', admin).send(req.body);
          expect([201, 409, 422], JSON.stringify(res.body)).to.include(res.status);
          if (res.status === 201 && op.kind === 'sale') sales.push(String(req.body.id));
          if (res.status === 201 && op.kind === 'return') returns.push(String(req.body.id));
          if (res.status === 409 || res.status === 422) {
            expect(['UNIT_CODE_ALREADY_SOLD', 'ALREADY_REVERSED', 'REVERSAL_NOT_POSSIBLE', 'NOTHING_TO_SETTLE']).to.include(res.body.error.code);
          }
          await expectLedgerClean(t);
          await expectIncentivesTie();
          const before = await snapshot();
          const replay = await t.api().post(req.path).set('Authorization', admin).send(req.body);
          if (res.status === 201) {
            expect(replay.status).to.equal(200);
            expect(replay.body).to.deep.equal(res.body);
          } else {
            expect(replay.body.error.code).to.equal(res.body.error.code);
          }
          expect(await snapshot()).to.deep.equal(before);
        }
      }),
      { numRuns: Number(process.env.LEDGER_PROPERTY_RUNS ?? 40), endOnFailure: true },
    );
    await expectLedgerClean(t);
    const check = await t.api().get(`/api/v1/counties/${COUNTY}/ledger/check`).set('Authorization', admin);
    expect(check.body.ok).to.equal(true);
    expect(check.body.transfers).to.be.greaterThan(0);
  });
});
