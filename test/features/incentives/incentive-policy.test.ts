// Issue 17, the policy and the fund: incentive rates as versioned reference data (validation, the
// overlap rule, supersede, retire, history), the county's incentive settings, the incentive fund
// (allocations by client id, what is left, paid out by buy-back), the sync snapshot terminals
// cache, and the clearing statements that show and reimburse a shop's buy-back.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { shopAccount } from '../../../src/features/ledger/accounts.js';
import { COUNTY, SHOP_A, SHOP_B, balances, expectLedgerClean, freshToken } from '../ledger/ledger-fixtures.js';
import { postBuyback } from './incentive-fixtures.js';

const C = `/api/v1/counties/${COUNTY}`;

describe('incentives: rates, county settings, fund, snapshot and statements', function () {
  this.timeout(120_000);
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });
  const tokens = new Map<string, string>();
  const token = async (who: string) => tokens.get(who) ?? tokens.set(who, await freshToken(t, who)).get(who)!;
  const types = new Map<string, string>();
  const rate = async (body: Record<string, unknown>, who = 'qingshen.official') => t.api().post(`${C}/incentive-rates`).set('Authorization', await token(who)).send(body);
  const snapshot = async () => {
    const res = await t.api().get('/api/v1/sync/snapshot').set('Authorization', await token('clerk.qingcheng'));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };
  const inForce = (snap: { incentivesInForce: Array<{ containerTypeId: string }> }, code: string) => snap.incentivesInForce.find((x) => x.containerTypeId === types.get(code));

  before(async () => {
    for (const r of await t.db.knex('container_types').where({ county_id: COUNTY }).select('id', 'code')) types.set(r.code, r.id);
  });

  describe('incentive rates', () => {
    let small: Record<string, any>;
    it('an official creates rates by kind and volume band; the snapshot gives the one in force per container type', async () => {
      const s = await rate({ containerKind: 'bottle', maxVolumeMl: 300, buybackFen: 30, pointsMilli: 0, effectiveFrom: '2026-03-15', note: ' 300 mL 及以下 ' });
      expect(s.status, JSON.stringify(s.body)).to.equal(201);
      small = s.body;
      expect(small).to.include({ containerTypeId: null, containerKind: 'bottle', minVolumeMl: null, maxVolumeMl: 300, buybackFen: 30, pointsMilli: 0, effectiveTo: null, note: '300 mL 及以下', version: 1, active: true });
      expect((await rate({ containerKind: 'bottle', minVolumeMl: 301, buybackFen: 50, pointsMilli: 0, effectiveFrom: '2026-03-15' })).status).to.equal(201);
      expect((await rate({ containerKind: 'bag', buybackFen: 30, pointsMilli: 0, effectiveFrom: '2026-03-15' })).status).to.equal(201);
      // Points for every container, less specific than the bottle and bag rates: applies to nothing yet.
      expect((await rate({ containerKind: 'any', buybackFen: 0, pointsMilli: 200, effectiveFrom: '2026-03-15' })).status).to.equal(201);
      // One container type: more specific than any kind or band.
      expect((await rate({ containerTypeId: types.get('HDPE-5L'), containerKind: 'bottle', buybackFen: 80, pointsMilli: 1000, effectiveFrom: '2026-03-16' })).status).to.equal(201);

      const snap = await snapshot();
      expect(snap.incentiveRates).to.have.length(5);
      expect(inForce(snap, 'PET-250')).to.include({ buybackFen: 30, pointsMilli: 0, rateId: small.id });
      expect(inForce(snap, 'HDPE-1L')).to.include({ buybackFen: 50 });
      expect(inForce(snap, 'COMP-BAG-500G')).to.include({ buybackFen: 30 });
      // Aluminium is not a *_bag material: a 150 mL sachet counts as a bottle up to 300 mL.
      expect(inForce(snap, 'ALU-BAG-100G')).to.include({ buybackFen: 30 });
      // The 5 L rate starts tomorrow: today the band rate applies.
      expect(inForce(snap, 'HDPE-5L')).to.include({ buybackFen: 50, pointsMilli: 0 });
      expect(snap.containerTypes.find((c: { code: string }) => c.code === 'HDPE-5L').volumeMl).to.equal(5000);
    });

    it('refuses an equally specific rate that would match the same containers on common days (409 INCENTIVE_RATE_OVERLAP, naming the other rate)', async () => {
      // 100–400 mL is exactly as wide as "up to 300 mL" (300 mL) and both fit a 250 mL bottle.
      const overlap = await rate({ containerKind: 'bottle', minVolumeMl: 100, maxVolumeMl: 400, buybackFen: 40, pointsMilli: 0, effectiveFrom: '2026-04-01' });
      expect(overlap.status).to.equal(409);
      expect(overlap.body.error.code).to.equal('INCENTIVE_RATE_OVERLAP');
      expect(overlap.body.error.details[0]).to.include({ code: 'overlap', field: '/body/effectiveFrom', rateId: small.id });
      // The same container type from today to the 20th meets the 5 L rate that starts tomorrow (a later
      // rate of the same scope would close it instead; an earlier one overlapping it is refused).
      const again = await rate({ containerTypeId: types.get('HDPE-5L'), containerKind: 'bottle', buybackFen: 90, pointsMilli: 0, effectiveFrom: '2026-03-15', effectiveTo: '2026-03-20' });
      expect(again.status).to.equal(409);
      expect(again.body.error.code).to.equal('INCENTIVE_RATE_OVERLAP');
      // A narrower band (100 mL wide) is more specific: allowed, and wins where it fits.
      const narrow = await rate({ containerKind: 'bottle', minVolumeMl: 200, maxVolumeMl: 300, buybackFen: 35, pointsMilli: 0, effectiveFrom: '2026-03-15' });
      expect(narrow.status, JSON.stringify(narrow.body)).to.equal(201);
      const snap = await snapshot();
      expect(inForce(snap, 'PET-250')).to.include({ buybackFen: 35, rateId: narrow.body.id });
      expect(inForce(snap, 'PET-100')).to.include({ buybackFen: 30 });
      // Nothing was written by the refusals.
      expect(snap.incentiveRates).to.have.length(6);
    });

    it('checks the rule of each field with stable codes', async () => {
      const none = await rate({ containerKind: 'bag', buybackFen: 0, pointsMilli: 0, effectiveFrom: '2026-04-01' });
      expect(none.status).to.equal(400);
      expect(none.body.error.details[0]).to.include({ field: '/body/buybackFen', code: 'no_incentive' });
      const band = await rate({ containerKind: 'bag', minVolumeMl: 500, maxVolumeMl: 100, buybackFen: 10, pointsMilli: 0, effectiveFrom: '2026-04-01' });
      expect(band.body.error.details[0]).to.include({ field: '/body/maxVolumeMl', code: 'range' });
      const kind = await rate({ containerTypeId: types.get('HDPE-1L'), containerKind: 'bag', buybackFen: 10, pointsMilli: 0, effectiveFrom: '2026-04-01' });
      expect(kind.body.error.details[0]).to.include({ field: '/body/containerKind', code: 'kind_mismatch' });
      const excl = await rate({ containerTypeId: types.get('HDPE-1L'), containerKind: 'bottle', maxVolumeMl: 500, buybackFen: 10, pointsMilli: 0, effectiveFrom: '2026-04-01' });
      expect(excl.body.error.details[0]).to.include({ code: 'band_excludes_type' });
      const unknown = await rate({ containerTypeId: newClientId(), containerKind: 'bottle', buybackFen: 10, pointsMilli: 0, effectiveFrom: '2026-04-01' });
      expect(unknown.body.error.code).to.equal('REFERENCE_NOT_FOUND');
      const past = await rate({ containerKind: 'bag', buybackFen: 10, pointsMilli: 0, effectiveFrom: '2026-03-14' });
      expect(past.status).to.equal(422);
      expect(past.body.error.code).to.equal('INCENTIVE_RATE_IN_PAST');
      const ends = await rate({ containerKind: 'bag', buybackFen: 10, pointsMilli: 0, effectiveFrom: '2026-04-01', effectiveTo: '2026-04-01' });
      expect(ends.body.error.details[0]).to.include({ field: '/body/effectiveTo', code: 'range' });
      const tooMuch = await rate({ containerKind: 'bag', buybackFen: 100_001, pointsMilli: 0, effectiveFrom: '2026-04-01' });
      expect(tooMuch.status).to.equal(400);
      expect((await rate({ containerKind: 'bag', buybackFen: 10, pointsMilli: 0, effectiveFrom: '2026-04-01' }, 'clerk.qingcheng')).status).to.equal(403);
      expect(await t.db.knex('incentive_rates').where({ county_id: COUNTY }).count('* as n').first()).to.deep.equal({ n: 6 });
    });

    it('a new rate of the same scope supersedes the open-ended one; retiring and reactivating keep history and the overlap rule', async () => {
      const next = await rate({ containerKind: 'bag', buybackFen: 40, pointsMilli: 0, effectiveFrom: '2026-07-01' });
      expect(next.status, JSON.stringify(next.body)).to.equal(201);
      const bags = (await t.api().get(`${C}/incentive-rates?containerKind=bag`).set('Authorization', await token('clerk.qingcheng'))).body.items;
      const old = bags.find((b: { id: string }) => b.id !== next.body.id);
      expect(old).to.include({ effectiveFrom: '2026-03-15', effectiveTo: '2026-07-01', version: 2 });
      const h1 = await t.api().get(`${C}/incentive-rates/${old.id}/history`).set('Authorization', await token('qingshen.official'));
      expect(h1.body.items.map((h: { op: string }) => h.op)).to.deep.equal(['create', 'supersede']);

      // Retire the new rate, then let an equally specific one take its place: reactivating the first is refused.
      const off = await t.api().patch(`${C}/incentive-rates/${next.body.id}`).set('Authorization', await token('qingshen.official')).send({ version: 1, active: false });
      expect(off.status, JSON.stringify(off.body)).to.equal(200);
      expect(off.body).to.include({ active: false, version: 2 });
      const other = await rate({ containerKind: 'bag', buybackFen: 45, pointsMilli: 0, effectiveFrom: '2026-08-01' });
      expect(other.status, JSON.stringify(other.body)).to.equal(201);
      const back = await t.api().patch(`${C}/incentive-rates/${next.body.id}`).set('Authorization', await token('qingshen.official')).send({ version: 2, active: true });
      expect(back.status).to.equal(409);
      expect(back.body.error.code).to.equal('INCENTIVE_RATE_OVERLAP');
      expect(back.body.error.details[0].rateId).to.equal(other.body.id);
      // Ending it before the other starts makes it unambiguous again.
      const ended = await t.api().patch(`${C}/incentive-rates/${next.body.id}`).set('Authorization', await token('qingshen.official')).send({ version: 2, active: true, effectiveTo: '2026-08-01' });
      expect(ended.status, JSON.stringify(ended.body)).to.equal(200);
      expect(ended.body).to.include({ active: true, effectiveTo: '2026-08-01', version: 3 });
      const pastEnd = await t.api().patch(`${C}/incentive-rates/${next.body.id}`).set('Authorization', await token('qingshen.official')).send({ version: 3, effectiveTo: '2026-03-01' });
      expect(pastEnd.body.error.code).to.equal('INCENTIVE_RATE_IN_PAST');
      const h2 = await t.api().get(`${C}/incentive-rates/${next.body.id}/history`).set('Authorization', await token('qingshen.official'));
      expect(h2.body.items.map((h: { op: string }) => h.op)).to.deep.equal(['create', 'deactivate', 'reactivate']);
    });
  });

  describe('county incentive settings', () => {
    it('the administrator sets caps, the empty-fund rule and points expiry; GET and the snapshot show them', async () => {
      const county = (await t.api().get(C).set('Authorization', await token('admin'))).body;
      expect(county).to.include({ incentiveHouseholdBuybackCapFen: null, incentiveWhenFundEmpty: 'nothing', pointsExpireAfterYears: null });
      const bad = await t.api().patch(C).set('Authorization', await token('admin')).send({ version: county.version, pointsExpireAfterYears: 11 });
      expect(bad.status).to.equal(400);
      const badMode = await t.api().patch(C).set('Authorization', await token('admin')).send({ version: county.version, incentiveWhenFundEmpty: 'later' });
      expect(badMode.status).to.equal(400);
      const ok = await t.api().patch(C).set('Authorization', await token('admin')).send({
        version: county.version, incentiveHouseholdBuybackCapFen: 2000, incentiveHouseholdPointsCapMilli: 20_000, incentiveShopBuybackCapFen: 500_000,
        incentiveWhenFundEmpty: 'points_only', pointsExpireAfterYears: 2,
      });
      expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
      expect(ok.body).to.include({ incentiveHouseholdBuybackCapFen: 2000, incentiveHouseholdPointsCapMilli: 20_000, incentiveShopBuybackCapFen: 500_000, incentiveWhenFundEmpty: 'points_only', pointsExpireAfterYears: 2 });
      const snap = await snapshot();
      expect(snap.county).to.include({ incentiveHouseholdBuybackCapFen: 2000, incentiveWhenFundEmpty: 'points_only', pointsExpireAfterYears: 2 });
      const cleared = await t.api().patch(C).set('Authorization', await token('admin')).send({ version: ok.body.version, incentiveShopBuybackCapFen: null });
      expect(cleared.body.incentiveShopBuybackCapFen).to.equal(null);
      expect((await t.api().patch(C).set('Authorization', await token('qingshen.official')).send({ version: cleared.body.version, pointsExpireAfterYears: 3 })).status).to.equal(403);
    });
  });

  describe('the incentive fund', () => {
    const allocate = async (body: Record<string, unknown>, who = 'qingshen.official') => t.api().post(`${C}/incentive-fund/allocations`).set('Authorization', await token(who)).send(body);
    const fund = async () => {
      const res = await t.api().get(`${C}/incentive-fund`).set('Authorization', await token('qingshen.official'));
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      return res.body;
    };

    it('an official allocates the budget, once per client id; the fund holds it', async () => {
      const body = { id: newClientId(), budgetYear: 2026, amountFen: 100_000, note: '青农发〔2026〕12号' };
      const first = await allocate(body);
      expect(first.status, JSON.stringify(first.body)).to.equal(201);
      expect(first.body).to.include({ allocationId: body.id, budgetYear: 2026, amountFen: 100_000, fundBalanceFen: 100_000, actor: 'user:qingshen.official' });
      const retry = await allocate(body);
      expect(retry.status).to.equal(200);
      expect(retry.body).to.deep.equal(first.body);
      const reused = await allocate({ ...body, amountFen: 5 });
      expect(reused.status).to.equal(409);
      expect(reused.body.error.code).to.equal('IDEMPOTENCY_CONFLICT');
      expect((await allocate({ id: newClientId(), budgetYear: 2026, amountFen: 0 })).status).to.equal(400);
      expect((await allocate({ id: newClientId(), budgetYear: 2026, amountFen: 10 }, 'clerk.qingcheng')).status).to.equal(403);
      const f = await fund();
      expect(f).to.include({ balanceFen: 100_000, allocatedFen: 100_000, paidFen: 0 });
      expect(f.byYear).to.deep.equal([{ year: 2026, allocatedFen: 100_000, paidFen: 0 }]);
      expect(f.allocations).to.have.length(1);
      expect((await balances(t)).incentive_fund).to.equal(-100_000);
      await expectLedgerClean(t);
    });

    it('buy-back paid by shops comes out of the fund, which never goes below zero', async () => {
      await postBuyback(t, { shopId: SHOP_A, amountFen: 3000, eventTime: '2026-03-15T01:00:00Z' });
      await postBuyback(t, { shopId: SHOP_B, amountFen: 500, eventTime: '2026-03-15T01:10:00Z' });
      const f = await fund();
      expect(f).to.include({ balanceFen: 96_500, allocatedFen: 100_000, paidFen: 3500 });
      expect(f.balanceFen).to.equal(f.allocatedFen - f.paidFen);
      // A container worth more than the fund holds: accepted, nothing paid, the farmer told why; the fund stays as it was.
      const over = await postBuyback(t, { shopId: SHOP_A, amountFen: 96_501, eventTime: '2026-03-15T01:20:00Z' });
      expect(over.items[0].incentive).to.deep.equal({ kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'fund_empty' });
      expect(over.totalBuybackFen).to.equal(0);
      expect((await fund()).balanceFen).to.equal(96_500);
      // A new budget year: allocations count in their budget year, buy-back in the year of its business day.
      expect((await allocate({ id: newClientId(), budgetYear: 2027, amountFen: 50_000 })).status).to.equal(201);
      const g = await fund();
      expect(g.byYear).to.deep.equal([{ year: 2026, allocatedFen: 100_000, paidFen: 3500 }, { year: 2027, allocatedFen: 50_000, paidFen: 0 }]);
      expect(g.balanceFen).to.equal(146_500);
      await expectLedgerClean(t);
    });
  });

  describe('clearing statements', () => {
    it('show each shop’s buy-back as its own line, net it, and the settlement reimburses it', async () => {
      const get = async () => (await t.api().get(`${C}/settlements/statements/2026-03`).set('Authorization', await token('qingshen.official'))).body;
      const before = await get();
      const lineOf = (s: { shops: Array<Record<string, number | string>> }, shop: string) => s.shops.find((l) => l.shopId === shop)!;
      const a0 = lineOf(before, SHOP_B);
      // SHOP_B paid 500 fen of buy-back in the earlier test; add 700 more.
      const posBefore = (await balances(t))[shopAccount(COUNTY, SHOP_B).code] ?? 0;
      await postBuyback(t, { shopId: SHOP_B, amountFen: 700, eventTime: '2026-03-15T01:30:00Z' });
      const after = await get();
      const b = lineOf(after, SHOP_B);
      expect(b.buybackPaidFen).to.equal(Number(a0.buybackPaidFen) + 700);
      expect(b.refundsPaidFen).to.equal(a0.refundsPaidFen);
      expect(b.netFen).to.equal(Number(b.depositsCollectedFen) - Number(b.refundsPaidFen) - Number(b.buybackPaidFen));
      expect(after.totals.buybackPaidFen).to.equal(after.shops.reduce((s: number, l: { buybackPaidFen: number }) => s + l.buybackPaidFen, 0));
      // The ledger's shop position moved by the same amount: the scheme owes the shop its cash.
      expect((await balances(t))[shopAccount(COUNTY, SHOP_B).code]).to.equal(posBefore - 700);
      expect(lineOf(after, SHOP_A).buybackPaidFen).to.equal(3000);

      t.clock.set('2026-04-02T02:00:00.000Z');
      tokens.clear();
      const st = await get();
      const line = lineOf(st, SHOP_B);
      const outstanding = Number(line.outstandingFen);
      expect(outstanding).to.be.below(0); // buy-back only: the scheme owes the shop
      const pay = await t.api().post(`${C}/settlements`).set('Authorization', await token('qingshen.official'))
        .send({ id: newClientId(), shopId: SHOP_B, period: '2026-03', amountFen: -outstanding, direction: 'to_shop', method: 'bank', reference: 'BK-IN-1' });
      expect(pay.status, JSON.stringify(pay.body)).to.equal(201);
      const settled = lineOf(await get(), SHOP_B);
      expect(settled).to.include({ outstandingFen: 0, settledFen: outstanding });
      await expectLedgerClean(t);
    });
  });
});
