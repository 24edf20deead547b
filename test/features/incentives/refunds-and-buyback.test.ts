// docs/incentives.md, "Refunds and buy-back in the figures": a figure called refunds (退押金, 已退)
// means deposit refunds, never buy-back from the county's incentive fund; buy-back is its own figure.
// One farmer returns 2 coded bottles that carry a deposit (2 × ¥1.00), 10 bottles without one
// (buy-back 10 × ¥0.30) and 5 bags for points: the balance, the SMS replies, the dashboard's recent
// returns and the fraud flags each keep the two apart.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { useTestApp } from '../../support/harness.js';
import { demoId } from '../../../seeds/demo-county.js';
import { COUNTY, GLYPHOSATE, SHOP_A, expectLedgerClean, returnBody, saleBody, unitCode } from '../ledger/ledger-fixtures.js';
import { fundIncentives, insertIncentiveRate, retireIncentiveRates, setCounty } from '../../support/incentives.js';
import { configureSms, demoFarmer, replyTo, textIn, type DemoFarmer } from '../sms/sms-fixtures.js';

/** 代森锰锌 500 g in a composite film bag. */
const BAG_PRODUCT = demoId('products', `${COUNTY}:PD20083920:500`);
const C = `/api/v1/counties/${COUNTY}`;

describe('refunds and buy-back are two figures (docs/incentives.md)', function () {
  this.timeout(120_000);
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });
  let farmer: DemoFarmer;
  let returnId: string;
  type Flag = { kind: string; shopId?: string; farmerId?: string; productId?: string; refId?: string; returned?: number; sold?: number; [k: string]: unknown };
  let flagsBefore: Flag[];
  const flags = async (): Promise<Flag[]> => {
    const res = await t.api().get(`${C}/fraud-flags?from=2026-03-01&to=2026-03-31`).set('Authorization', await t.token('qingshen.official'));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.items;
  };
  const post = async (path: string, body: Record<string, unknown>) => {
    const res = await t.api().post(`${C}/${path}`).set('Authorization', await t.token('clerk.qingcheng')).send(body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  };

  before(async () => {
    configureSms(t);
    await retireIncentiveRates(t.db.knex, COUNTY);
    await setCounty(t.db.knex, COUNTY, { incentive_household_buyback_cap_fen: null, incentive_household_points_cap_milli: null, incentive_shop_buyback_cap_fen: null });
    await fundIncentives(t.db.knex, COUNTY, 100_000);
    await insertIncentiveRate(t.db.knex, COUNTY, { containerKind: 'any', buybackFen: 30 });
    await insertIncentiveRate(t.db.knex, COUNTY, { containerKind: 'bag', pointsMilli: 200 });
    farmer = await demoFarmer(t, 5);
    flagsBefore = await flags();
    const codes = [unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)];
    await post('sales', saleBody({ purchaser: { phone: farmer.phone }, lines: [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: codes }] }));
    // The latest return of the shop that day, so the dashboard's 20 most recent surely list it.
    const ret = await post('returns', returnBody({
      eventTime: '2026-03-15T01:59:00.000Z', returner: { phone: farmer.phone },
      items: [...codes.map((scan) => ({ scan, inspection: 'accepted' })), { productId: GLYPHOSATE.id, quantity: 10, inspection: 'accepted' }, { productId: BAG_PRODUCT, quantity: 5, inspection: 'accepted' }],
    }));
    returnId = ret.returnId;
    // What the return itself says: all cash owed 5.00, of which buy-back 3.00; 1 point for the bags.
    expect(ret).to.deep.include({ totalRefundFen: 500, totalBuybackFen: 300, totalPointsMilli: 1000 });
    expect(ret.items.map((i: { incentive: { kind: string } }) => i.incentive.kind)).to.deep.equal(['deposit', 'deposit', 'buyback', 'points']);
  });

  it('the farmer’s balance: refunds this year are deposit refunds; buy-back this year beside them', async () => {
    const res = await t.api().get(`${C}/farmers/${farmer.id}/balance`).set('Authorization', await t.token('clerk.qingcheng'));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ year: 2026, refundsThisYearFen: 200, buybackThisYearFen: 300, outstandingContainers: 0 });
  });

  it('the SMS balance reply says what was refunded and what was bought back, in Chinese and in English', async () => {
    const zh = randomUUID();
    expect((await textIn(t, farmer.phone, '余额', { id: zh })).status).to.equal(200);
    const zhText = (await replyTo(t, zh)).map((p) => p.body.replace(/^\(\d+\/\d+\)/, '')).join('');
    expect(zhText).to.contain('2026年已退¥2.00，有偿回收¥3.00。').and.contain('积分1分。');
    await t.db.knex('farmers').where({ county_id: COUNTY, id: farmer.id }).update({ language: 'en' });
    try {
      const en = randomUUID();
      await textIn(t, farmer.phone, 'BAL', { id: en });
      const enText = (await replyTo(t, en)).map((p) => p.body.replace(/^\(\d+\/\d+\)/, '')).join('');
      expect(enText).to.contain('Refunded in 2026: ¥2.00; buy-back ¥3.00.');
    } finally {
      await t.db.knex('farmers').where({ county_id: COUNTY, id: farmer.id }).update({ language: 'zh' });
    }
  });

  it('the SMS history reply names the deposit refund and the buy-back of a return apart', async () => {
    const id = randomUUID();
    await textIn(t, farmer.phone, '记录', { id });
    expect((await replyTo(t, id)).map((p) => p.body).join('')).to.equal('最近退还：3/15青城镇丰收农资店17个退¥2.00，有偿回收¥3.00');
    await t.db.knex('farmers').where({ county_id: COUNTY, id: farmer.id }).update({ language: 'en' });
    try {
      const en = randomUUID();
      await textIn(t, farmer.phone, 'HIST', { id: en });
      expect((await replyTo(t, en)).map((p) => p.body.replace(/^\(\d+\/\d+\)/, '')).join('')).to.match(/^Last returns: 3\/15 .+ 17 containers, refund ¥2\.00, buy-back ¥3\.00$/);
    } finally {
      await t.db.knex('farmers').where({ county_id: COUNTY, id: farmer.id }).update({ language: 'zh' });
    }
  });

  it('the dashboard’s recent returns of the shop: the deposit refund and the buy-back in two columns', async () => {
    const res = await t.api().get(`/api/v1/counties/${COUNTY}/dashboard/shops/${SHOP_A}?from=2026-03&to=2026-03`).set('Authorization', await t.token('qingshen.official'));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const row = res.body.recentReturns.find((r: { id: string }) => r.id === returnId);
    expect(row).to.include({ refundFen: 200, buybackFen: 300, accepted: 17 });
  });

  it('fraud flags: returns above sales or purchases leave out containers paid buy-back or given points', async () => {
    const now = await flags();
    const mine = (f: Flag) => f.productId === GLYPHOSATE.id || f.productId === BAG_PRODUCT;
    // The farmer bought 2 bottles with a deposit and returned 2 against it: no flag for the phone.
    expect(now.filter((f) => f.kind === 'returns_exceed_purchases_phone' && f.farmerId === farmer.id)).to.deep.equal([]);
    // The shop sold 2 more and took 2 more back against a deposit: its comparison moved by as much on both sides.
    for (const productId of [GLYPHOSATE.id, BAG_PRODUCT]) {
      const was = flagsBefore.find((f) => f.kind === 'returns_exceed_sales_shop' && f.shopId === SHOP_A && f.productId === productId);
      const is = now.find((f) => f.kind === 'returns_exceed_sales_shop' && f.shopId === SHOP_A && f.productId === productId);
      const moved = productId === GLYPHOSATE.id ? 2 : 0;
      if (was) expect(is, productId).to.include({ returned: was.returned! + moved, sold: was.sold! + moved });
      else expect(is, productId).to.equal(undefined);
    }
    expect(now.filter((f) => mine(f) && f.kind.startsWith('returns_exceed') && f.farmerId === farmer.id)).to.deep.equal([]);
  });

  it('fraud flags: the daily threshold per phone counts every container accepted, those paid buy-back or points too', async () => {
    await setCounty(t.db.knex, COUNTY, { fraud_daily_returns_threshold: 16 });
    try {
      const daily = (await flags()).filter((f) => f.kind === 'daily_returns_above_threshold' && f.farmerId === farmer.id);
      expect(daily).to.have.length(1);
      expect(daily[0]).to.include({ day: '2026-03-15', returned: 17, threshold: 16 });
    } finally {
      await setCounty(t.db.knex, COUNTY, { fraud_daily_returns_threshold: 50 });
    }
  });

  it('fraud flags: refund_mismatch compares all the cash paid with all the cash owed, and gives the buy-back part', async () => {
    // An offline till paid ¥1.00 for 3 bottles without a deposit, owed 3 × ¥0.30 of buy-back.
    const other = await demoFarmer(t, 6);
    const ret = await post('returns', returnBody({ returner: { phone: other.phone }, items: [{ productId: GLYPHOSATE.id, quantity: 3, inspection: 'accepted', refundPaidFen: 100 }] }));
    expect(ret).to.deep.include({ totalRefundFen: 90, totalBuybackFen: 90, totalPaidFen: 100, refundDifferenceFen: 10 });
    const flag = (await flags()).find((f) => f.kind === 'refund_mismatch' && f.refId === ret.returnId);
    expect(flag).to.deep.equal({
      kind: 'refund_mismatch', shopId: SHOP_A, day: '2026-03-15', refId: ret.returnId, owedFen: 90, paidFen: 100, differenceFen: 10, buybackFen: 90, overpaidFen: 10, underpaidFen: 0,
    });
    // Its buy-back containers stay out of the comparison with that phone's purchases too.
    expect((await flags()).filter((f) => f.kind === 'returns_exceed_purchases_phone' && f.farmerId === other.id)).to.deep.equal([]);
  });

  it('the ledger stays clean: the fund paid the buy-back, the deposits the refunds', async () => {
    await expectLedgerClean(t);
  });
});
