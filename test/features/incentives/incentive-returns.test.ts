// Returns and the incentives beyond the deposit (issue 17, docs/incentives.md): each rule of the
// shared spec as a return applies it — deposit or incentive, never both; the rate by container type,
// kind and volume band (most specific wins); yearly caps per household and per shop; the incentive
// fund (never below zero; an empty fund pays nothing, or points only); a returner is required; held
// codes get nothing; a unit code earns points once, ever; and the same answers whether a return is
// posted online or sent in a sync batch.
import { expect } from 'chai';
import { useTestApp, type TestContext } from '../../support/harness.js';
import { demoId } from '../../../seeds/demo-county.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { farmerPointsMilli } from '../../../src/features/points/points-store.js';
import { pinGroupApplier, savepointApplier } from '../../../src/features/ledger/group-commit.js';
import { COUNTY, GLYPHOSATE, GLYPHOSATE_5L, SHOP_A, expectLedgerClean, freshToken, returnBody, saleBody, unitCode } from '../ledger/ledger-fixtures.js';
import { fundIncentives, fundLeft, insertIncentiveRate, retireIncentiveRates, setCounty } from '../../support/incentives.js';

const CT = (code: string) => demoId('container_types', `${COUNTY}:${code}`);
/** 代森锰锌 500 g in a composite film bag (a bag, 800 mL). */
const BAG_PRODUCT = demoId('products', `${COUNTY}:PD20083920:500`);
/** 毒死蜱 500 mL (HDPE-500). */
const BOTTLE_500 = demoId('products', `${COUNTY}:PD20081306:150`);
/** 阿维菌素 100 mL (PET-100). */
const BOTTLE_100 = demoId('products', `${COUNTY}:PD20101744:110`);

let phoneNo = 0;
/** A phone no other test of this file uses (caps are per household). */
const nextPhone = () => `1747100${String(++phoneNo).padStart(4, '0')}`;

const items = (productId: string, quantity: number) => [{ productId, quantity, inspection: 'accepted' }];

const NO_CAPS = { incentive_household_buyback_cap_fen: null, incentive_household_points_cap_milli: null, incentive_shop_buyback_cap_fen: null, incentive_when_fund_empty: 'nothing' };

for (const path of ['set-based run', 'single return'] as const) describe(`returns with incentives: buy-back and points per county policy (issue 17; ${path})`, function () {
  const t = useTestApp();
  // POST /returns rides the set-based run (group commit); the single path is what it falls back to and what the property tests pin.
  if (path === 'single return') before(() => pinGroupApplier(t.deps, 'return', savepointApplier));
  let token: string | null = null;

  const post = async (ctx: TestContext, path: string, body: Record<string, unknown>) => {
    const { countyId: _c, ...rest } = body;
    return ctx.api().post(`/api/v1/counties/${COUNTY}/${path}`).set('Authorization', token ?? await ctx.token('clerk.qingcheng')).send(rest);
  };
  const ret = async (body: Record<string, unknown>, ctx = t) => {
    const res = await post(ctx, 'returns', returnBody(body));
    expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 201]);
    return res.body;
  };
  const sell = async (body: Record<string, unknown>) => {
    const res = await post(t, 'sales', saleBody(body));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  };

  beforeEach(async () => {
    await retireIncentiveRates(t.db.knex, COUNTY);
    await setCounty(t.db.knex, COUNTY, { ...NO_CAPS, unsold_code_policy: 'hold_for_review' });
  });
  afterEach(async () => {
    await expectLedgerClean(t);
  });

  it('an empty fund pays no buy-back: the return is accepted, the farmer told fund_empty, and the fund never goes below zero', async () => {
    expect(await fundLeft(t.db.knex, COUNTY)).to.equal(0);
    await insertIncentiveRate(t.db.knex, COUNTY, { containerKind: 'any', buybackFen: 30 });
    const phone = nextPhone();
    const none = await ret({ returner: { phone, name: '李四' }, items: items(GLYPHOSATE.id, 2) });
    expect(none.items[0]).to.deep.include({ outcome: 'accepted_no_refund', refundFen: 0 });
    expect(none.items[0].incentive).to.deep.equal({ kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'fund_empty' });
    expect(none.totalBuybackFen).to.equal(0);
    // No policy refund from the deposit pool either: a rate applies.
    expect(none.items[0].sources).to.deep.equal([{ source: 'none', quantity: 2, amountFen: 0 }]);

    await fundIncentives(t.db.knex, COUNTY, 100);
    const some = await ret({ returner: { phone }, items: items(GLYPHOSATE.id, 5) });
    // 100 fen pays three containers of 30; the fourth would take the fund below zero.
    expect(some.items[0].sources).to.deep.equal([{ source: 'buyback', quantity: 3, amountFen: 90 }, { source: 'none', quantity: 2, amountFen: 0 }]);
    expect(some.items[0]).to.deep.include({ outcome: 'refunded', refundFen: 90, refundedQuantity: 3 });
    expect(some.items[0].incentive).to.deep.equal({ kind: 'buyback', buybackFen: 90, pointsMilli: 0, reason: 'fund_empty' });
    expect(some).to.deep.include({ totalBuybackFen: 90, totalRefundFen: 90, totalPaidFen: 90, totalPointsMilli: 0, pointsBalanceMilli: 0 });
    expect(await fundLeft(t.db.knex, COUNTY)).to.equal(10);
    const transfer = await t.db.knex('ledger_transfers').where({ county_id: COUNTY, ref_id: some.returnId, code: 'buyback_paid' }).first();
    expect(Number(transfer.amount_fen)).to.equal(90);
    const stored = await t.db.knex('return_items').where({ county_id: COUNTY, return_id: some.returnId }).first();
    expect(stored).to.include({ incentive: 'buyback', incentive_reason: 'fund_empty', refund_fen: 90 });

    const more = await ret({ returner: { phone }, items: items(GLYPHOSATE.id, 1) });
    expect(more.items[0].incentive).to.deep.include({ buybackFen: 0, reason: 'fund_empty' });
    expect(await fundLeft(t.db.knex, COUNTY)).to.equal(10);
    await fundIncentives(t.db.knex, COUNTY, 100_000);
  });

  it('an empty fund gives points only when the county says so (points_only) and the rate has points', async () => {
    await insertIncentiveRate(t.db.knex, COUNTY, { containerKind: 'any', buybackFen: 100_000, pointsMilli: 200 });
    const left = await fundLeft(t.db.knex, COUNTY);
    const n = Math.floor(left / 100_000) + 2; // two more than the fund can pay
    const phone = nextPhone();
    const nothing = await ret({ returner: { phone, name: '赵六' }, items: items(GLYPHOSATE.id, n) });
    expect(nothing.items[0].incentive).to.deep.equal({ kind: n > 2 ? 'buyback_points' : 'none', buybackFen: (n - 2) * 100_000, pointsMilli: (n - 2) * 200, reason: 'fund_empty' });
    await fundIncentives(t.db.knex, COUNTY, 100_000 * (n - 2));
    await setCounty(t.db.knex, COUNTY, { incentive_when_fund_empty: 'points_only' });
    const points = await ret({ returner: { phone }, items: items(GLYPHOSATE.id, n) });
    expect(points.items[0].incentive).to.deep.equal({ kind: n > 2 ? 'buyback_points' : 'points', buybackFen: (n - 2) * 100_000, pointsMilli: n * 200, reason: 'fund_empty' });
    expect(points.totalPointsMilli).to.equal(n * 200);
    expect(points.pointsBalanceMilli).to.equal((2 * n - 2) * 200);
    expect(await farmerPointsMilli(t.db.knex, COUNTY, points.returner.farmerId)).to.equal((2 * n - 2) * 200);
    expect(await fundLeft(t.db.knex, COUNTY)).to.be.at.least(0);
    await fundIncentives(t.db.knex, COUNTY, 100_000);
  });

  it('a container with a deposit gets its deposit back, never buy-back or points as well; what carries none gets the rate', async () => {
    await fundIncentives(t.db.knex, COUNTY, 10_000);
    await insertIncentiveRate(t.db.knex, COUNTY, { containerKind: 'any', buybackFen: 30, pointsMilli: 500 });
    const phone = nextPhone();
    const code = unitCode(GLYPHOSATE);
    await sell({ purchaser: { phone, name: '孙七' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [code], depositChargedFen: 80 }, { productId: GLYPHOSATE_5L.id, quantity: 2 }] });
    const r = await ret({ returner: { phone }, items: [{ scan: code, inspection: 'accepted' }, ...items(GLYPHOSATE_5L.id, 3)] });
    expect(r.items[0]).to.deep.include({ refundFen: 80 });
    expect(r.items[0].incentive).to.deep.equal({ kind: 'deposit', buybackFen: 0, pointsMilli: 0, reason: null });
    // Two containers from the farmer's own lot (deposit 200 each), the third has no deposit: the rate.
    expect(r.items[1].sources).to.deep.equal([{ source: 'lot', quantity: 2, amountFen: 400 }, { source: 'buyback', quantity: 1, amountFen: 30 }]);
    expect(r.items[1].refundFen).to.equal(430);
    expect(r.items[1].incentive).to.deep.equal({ kind: 'buyback_points', buybackFen: 30, pointsMilli: 500, reason: null });
    expect(r).to.deep.include({ totalRefundFen: 510, totalBuybackFen: 30, totalPointsMilli: 500, pointsBalanceMilli: 500 });
    const earned = await t.db.knex('points_transfers').where({ county_id: COUNTY, ref_id: r.returnId }).select('code', 'item_no', 'amount_milli');
    expect(earned.map((e) => ({ ...e, amount_milli: Number(e.amount_milli) }))).to.deep.equal([{ code: 'earned', item_no: 2, amount_milli: 500 }]);
    // Rejected items get nothing.
    const rej = await ret({ returner: { phone }, items: [{ productId: GLYPHOSATE.id, quantity: 1, inspection: 'rejected', reasonCode: 'not_rinsed' }] });
    expect(rej.items[0].incentive).to.deep.equal({ kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'rejected' });
  });

  it('buy-back by container kind and volume band: the most specific rate wins, and without any rate the untracked policy applies', async () => {
    await fundIncentives(t.db.knex, COUNTY, 10_000);
    await insertIncentiveRate(t.db.knex, COUNTY, { containerKind: 'any', maxVolumeMl: 300, buybackFen: 30 });
    await insertIncentiveRate(t.db.knex, COUNTY, { containerKind: 'bottle', minVolumeMl: 301, buybackFen: 50 });
    await insertIncentiveRate(t.db.knex, COUNTY, { containerKind: 'bottle', minVolumeMl: 400, maxVolumeMl: 600, buybackFen: 45 });
    await insertIncentiveRate(t.db.knex, COUNTY, { containerTypeId: CT('HDPE-5L'), buybackFen: 80 });
    await insertIncentiveRate(t.db.knex, COUNTY, { containerKind: 'bag', buybackFen: 20 });
    // A rate not yet in force, and one ended: neither applies.
    await insertIncentiveRate(t.db.knex, COUNTY, { containerKind: 'any', buybackFen: 999, effectiveFrom: '2026-04-01' });
    await insertIncentiveRate(t.db.knex, COUNTY, { containerTypeId: CT('HDPE-1L'), buybackFen: 999, effectiveFrom: '2026-01-01', effectiveTo: '2026-03-15' });
    const r = await ret({ returner: { phone: nextPhone(), name: '周八' }, items: [...items(BOTTLE_100, 1), ...items(GLYPHOSATE.id, 1), ...items(BOTTLE_500, 1), ...items(GLYPHOSATE_5L.id, 1), ...items(BAG_PRODUCT, 1)] });
    expect(r.items.map((i: { incentive: { buybackFen: number } }) => i.incentive.buybackFen)).to.deep.equal([30, 50, 45, 80, 20]);
    expect(r.totalBuybackFen).to.equal(225);

    // No rate for bags any more: the untracked policy refunds from the deposit pool, as before incentives.
    await t.db.knex('incentive_rates').where({ county_id: COUNTY, container_kind: 'bag' }).update({ active: false });
    const policy = await ret({ returner: { phone: nextPhone(), name: '吴九' }, items: items(BAG_PRODUCT, 1) });
    expect(policy.items[0].incentive).to.deep.equal({ kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'no_rate' });
    expect(policy.items[0].sources.map((s: { source: string }) => s.source)).to.not.include('buyback');
  });

  it('caps a household’s buy-back and points per calendar year, and a shop’s buy-back', async () => {
    await fundIncentives(t.db.knex, COUNTY, 10_000);
    await insertIncentiveRate(t.db.knex, COUNTY, { containerKind: 'any', buybackFen: 30, pointsMilli: 400 });
    await setCounty(t.db.knex, COUNTY, { incentive_household_buyback_cap_fen: 100, incentive_household_points_cap_milli: 1000 });
    const phone = nextPhone();
    const first = await ret({ returner: { phone, name: '郑十' }, items: items(GLYPHOSATE.id, 5) });
    // 3 × 30 fits under 100 fen; points: 5 × 400 = 2000 cut to the cap of 1000 (points may be cut).
    expect(first.items[0].incentive).to.deep.equal({ kind: 'buyback_points', buybackFen: 90, pointsMilli: 1000, reason: 'household_cap' });
    const second = await ret({ returner: { phone }, items: items(GLYPHOSATE.id, 1) });
    expect(second.items[0].incentive).to.deep.equal({ kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'household_cap' });
    // Another year starts afresh.
    t.clock.set('2027-01-02T02:00:00.000Z');
    token = await freshToken(t, 'clerk.qingcheng');
    try {
      const nextYear = await ret({ returner: { phone }, eventTime: '2027-01-02T01:00:00.000Z', items: items(GLYPHOSATE.id, 1) });
      expect(nextYear.items[0].incentive).to.deep.equal({ kind: 'buyback_points', buybackFen: 30, pointsMilli: 400, reason: null });
    } finally {
      t.clock.set('2026-03-15T02:00:00.000Z');
      token = null;
    }

    // The shop's cap: what the shop paid this year counts, whoever returned.
    await setCounty(t.db.knex, COUNTY, { ...NO_CAPS });
    const paidByA = Number((await t.db.knex.raw(`SELECT coalesce(sum(a.amount_fen), 0)::bigint AS fen FROM return_allocations a JOIN returns r ON r.county_id = a.county_id AND r.id = a.return_id
      WHERE a.county_id = ? AND a.source = 'buyback' AND r.shop_id = ? AND r.business_day BETWEEN '2026-01-01' AND '2026-12-31'`, [COUNTY, SHOP_A])).rows[0].fen);
    await setCounty(t.db.knex, COUNTY, { incentive_shop_buyback_cap_fen: paidByA + 60 });
    const a = await ret({ returner: { phone: nextPhone(), name: '钱一' }, items: items(GLYPHOSATE.id, 1) });
    const b = await ret({ returner: { phone: nextPhone(), name: '钱二' }, items: items(GLYPHOSATE.id, 3) });
    expect(a.items[0].incentive).to.deep.include({ buybackFen: 30, reason: null });
    expect(b.items[0].incentive).to.deep.include({ buybackFen: 30, pointsMilli: 1200, reason: 'shop_cap' });
  });

  it('incentives need a returner; a never-sold code held for review gets none', async () => {
    await insertIncentiveRate(t.db.knex, COUNTY, { containerKind: 'any', buybackFen: 30, pointsMilli: 200 });
    const anonymous = await ret({ items: items(GLYPHOSATE.id, 2) });
    expect(anonymous.items[0].incentive).to.deep.equal({ kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'returner_required' });
    expect(anonymous.items[0].refundFen).to.equal(0);
    expect(anonymous.pointsBalanceMilli).to.equal(null);
    const held = await ret({ returner: { phone: nextPhone(), name: '冯二' }, items: [{ scan: unitCode(GLYPHOSATE), inspection: 'accepted' }] });
    expect(held.items[0].outcome).to.equal('refund_held');
    expect(held.items[0].incentive).to.deep.equal({ kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'held_for_review' });
    expect(held.totalPointsMilli).to.equal(0);
  });

  it('a unit code earns points once, ever: a second return of it earns none, even after the first is reversed', async () => {
    await insertIncentiveRate(t.db.knex, COUNTY, { containerKind: 'any', pointsMilli: 700 });
    await setCounty(t.db.knex, COUNTY, { unsold_code_policy: 'pay_at_once' });
    const phone = nextPhone();
    const code = unitCode(GLYPHOSATE_5L);
    const first = await ret({ returner: { phone, name: '陈三' }, items: [{ scan: code, inspection: 'accepted' }] });
    expect(first.items[0].incentive).to.deep.equal({ kind: 'points', buybackFen: 0, pointsMilli: 700, reason: null });
    expect(first.pointsBalanceMilli).to.equal(700);
    const again = await ret({ returner: { phone }, items: [{ scan: code, inspection: 'accepted' }] });
    expect(again.items[0]).to.deep.include({ outcome: 'rejected', reasonCode: 'already_returned' });
    expect(again.totalPointsMilli).to.equal(0);
    // Reversed: the points go back; returned again: accepted, but the code has earned its points.
    const official = await t.token('qingshen.official');
    const rev = await t.api().post(`/api/v1/counties/${COUNTY}/reversals`).set('Authorization', official)
      .send({ id: newClientId(), targetType: 'return', targetId: first.returnId, reason: '录错', eventTime: '2026-03-15T01:40:00.000Z' });
    expect(rev.status, JSON.stringify(rev.body)).to.equal(201);
    expect(await farmerPointsMilli(t.db.knex, COUNTY, first.returner.farmerId)).to.equal(0);
    const third = await ret({ returner: { phone }, items: [{ scan: code, inspection: 'accepted' }] });
    expect(third.items[0].outcome).to.not.equal('rejected');
    expect(third.items[0].incentive).to.deep.include({ pointsMilli: 0 });
    expect(third.pointsBalanceMilli).to.equal(0);
    const earned = await t.db.knex('points_transfers').where({ county_id: COUNTY, unit_code: code, code: 'earned' }).count({ n: '*' }).first();
    expect(Number(earned!.n)).to.equal(1);
  });
});

describe('returns with incentives: the same answer online and in a sync batch', function () {
  const online = useTestApp();
  const synced = useTestApp();
  // The online reference takes the single return path (one savepoint per request), the batch the set-based run.
  before(() => pinGroupApplier(online.deps, 'return', savepointApplier));

  async function setUp(t: TestContext): Promise<void> {
    await insertIncentiveRate(t.db.knex, COUNTY, { containerKind: 'bottle', buybackFen: 30, pointsMilli: 250 });
    await insertIncentiveRate(t.db.knex, COUNTY, { containerTypeId: CT('HDPE-5L'), pointsMilli: 1000 });
    await setCounty(t.db.knex, COUNTY, { incentive_household_buyback_cap_fen: 150, incentive_household_points_cap_milli: 5000, incentive_shop_buyback_cap_fen: 1000, unsold_code_policy: 'pay_at_once' });
    await fundIncentives(t.db.knex, COUNTY, 200);
  }

  function comparable(body: unknown): unknown {
    return JSON.parse(JSON.stringify(body ?? null), (k, v) => (k === 'farmerId' || k === 'heldRefundId' ? '<id>' : v));
  }

  it('POST /returns one by one and one sync batch answer alike, leaving the same ledger and points', async () => {
    await setUp(online);
    await setUp(synced);
    const phones = ['17471990001', '17471990002'];
    const codes = [unitCode(GLYPHOSATE), unitCode(GLYPHOSATE_5L)];
    const recs = [
      { returner: { phone: phones[0], name: '同步甲' }, items: [...items(GLYPHOSATE.id, 3), ...items(GLYPHOSATE_5L.id, 2)] },
      { returner: { phone: phones[0] }, items: [{ scan: codes[0], inspection: 'accepted' }, ...items(GLYPHOSATE.id, 3)] },
      { items: items(GLYPHOSATE.id, 2) },
      { returner: { phone: phones[1], name: '同步乙' }, items: [{ scan: codes[1], inspection: 'accepted' }, ...items(BAG_PRODUCT, 2), ...items(GLYPHOSATE.id, 4)] },
      { returner: { phone: phones[1] }, items: items(GLYPHOSATE.id, 4) },
    ].map((payload, i) => ({ kind: 'return', id: newClientId(), eventTime: new Date(Date.parse('2026-03-15T01:00:00.000Z') + i * 1000).toISOString(), payload: { shopId: SHOP_A, ...payload } }));

    const a: unknown[] = [];
    for (const r of recs) {
      const res = await online.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', await online.token('clerk.qingcheng')).send({ ...r.payload, id: r.id, eventTime: r.eventTime });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      a.push(comparable(res.body));
    }
    const res = await synced.api().post('/api/v1/sync/batches').set('Authorization', await synced.token('clerk.qingcheng')).send({ records: recs });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const b = (res.body.results as Array<{ result: unknown }>).map((r) => comparable(r.result));
    expect(b).to.deep.equal(a);
    // The journal reaches buy-back, points, the household cap and the fund running out.
    const reasons = new Set((a as Array<{ items: Array<{ incentive: { reason: string | null; kind: string } }> }>).flatMap((x) => x.items.flatMap((i) => [i.incentive.reason, i.incentive.kind])));
    for (const want of ['buyback_points', 'points', 'household_cap', 'fund_empty', 'returner_required']) expect([...reasons], want).to.include(want);

    const stateOf = async (t: TestContext) => ({
      fund: await fundLeft(t.db.knex, COUNTY),
      points: (await t.db.knex('points_accounts as a').leftJoin('farmers as f', function () { this.on('f.county_id', '=', 'a.county_id').andOn('f.id', '=', 'a.farmer_id'); })
        .where('a.county_id', COUNTY).orderBy('a.code').select('a.kind', 'f.phone_e164', 'a.balance_milli')).map((r) => ({ ...r, balance_milli: Number(r.balance_milli) })).sort((x, y) => `${x.kind}${x.phone_e164}`.localeCompare(`${y.kind}${y.phone_e164}`)),
      items: (await t.db.knex('return_items').where({ county_id: COUNTY }).orderBy(['return_id', 'item_no']).select('return_id', 'item_no', 'refund_fen', 'points_milli', 'incentive', 'incentive_reason')).map((r) => ({ ...r, points_milli: Number(r.points_milli) })),
    });
    expect(await stateOf(synced)).to.deep.equal(await stateOf(online));
    expect((await stateOf(online)).fund).to.be.at.least(0);
    await expectLedgerClean(online);
    await expectLedgerClean(synced);
  });
});
