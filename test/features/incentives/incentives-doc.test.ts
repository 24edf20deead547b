// docs/incentives.md: every request of the worked example is sent, in order, as the user it names,
// and answers what the document shows (fields shown must match; "…" stands for ids and times). The
// example's return (2 bottles with a deposit, 16 bottles bought back, 15 bags for points) goes through
// POST /returns at the shop like any other, the points are redeemed at the counter (POST
// points-redemptions), and the statement, the dashboard and ledger:check must agree with the document.
import fs from 'node:fs';
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { demoId } from '../../../seeds/demo-county.js';
import { COUNTY, FARMER_PHONE, GLYPHOSATE, SHOP_A, expectLedgerClean, freshToken, returnBody, saleBody, unitCode } from '../ledger/ledger-fixtures.js';
import { newClientId } from '../../../src/shared/client-id.js';

const DOC = fs.readFileSync(new URL('../../../docs/incentives.md', import.meta.url), 'utf8');

/** 阿维菌素 250 mL in a PET-250 bottle (a bottle up to 300 mL). */
const BOTTLE_250 = demoId('products', `${COUNTY}:PD20121953:125`);
/** 代森锰锌 500 g in a composite film bag (COMP-BAG-500G: a bag). */
const BAG_500G = demoId('products', `${COUNTY}:PD20083920:500`);
/** Containers of a product returned by its barcode, without unit codes: nothing ties them to a deposit. */
const byBarcode = (productId: string, quantity: number) => ({ productId, quantity, inspection: 'accepted' });

interface Example { method: string; path: string; user: string; body: unknown; answer: unknown }

export function docExamples(doc: string): Example[] {
  const blocks = [...doc.matchAll(/```(http|json)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, text: m[2]!.trim() }));
  const out: Example[] = [];
  for (const b of blocks) {
    if (b.lang === 'http') {
      const [first, ...rest] = b.text.split('\n');
      const m = /^(GET|POST|PATCH) (\S+)\s+# ([a-z.]+)$/.exec(first!);
      if (!m) throw new Error(`an example line the test cannot read: ${first}`);
      out.push({ method: m[1]!, path: m[2]!, user: m[3]!, body: rest.length ? JSON.parse(rest.join('\n')) : undefined, answer: undefined });
    } else {
      const last = out[out.length - 1];
      if (!last || last.answer !== undefined) throw new Error('a JSON answer without its request');
      last.answer = JSON.parse(b.text);
    }
  }
  return out;
}

/** The shown answer is a part of the actual one: every field shown matches; "…" matches anything. */
function expectShown(actual: unknown, shown: unknown, at = ''): void {
  if (shown === '…') return;
  if (Array.isArray(shown)) {
    expect(actual, at).to.be.an('array').with.length(shown.length);
    shown.forEach((s, i) => expectShown((actual as unknown[])[i], s, `${at}[${i}]`));
    return;
  }
  if (shown && typeof shown === 'object') {
    expect(actual, at).to.be.an('object');
    for (const [k, v] of Object.entries(shown)) expectShown((actual as Record<string, unknown>)[k], v, `${at}.${k}`);
    return;
  }
  expect(actual, at).to.equal(shown);
}

describe('docs/incentives.md: the worked example', function () {
  this.timeout(300_000);
  const t = useTestApp({ clock: '2026-03-01T02:00:00.000Z' });
  const examples = docExamples(DOC);

  it('shows requests of every kind the document explains', () => {
    expect(examples.map((e) => `${e.method} ${e.path.replace(/\d{6}/, '{c}')}`)).to.include.members([
      'PATCH /api/v1/counties/{c}', 'POST /api/v1/counties/{c}/incentive-rates', 'POST /api/v1/counties/{c}/incentive-fund/allocations', 'GET /api/v1/counties/{c}/incentive-fund',
    ]);
  });

  /**
   * The example's return at shop A on 10 March, in one POST /returns: the 2 bottles sold on 2 March by
   * their unit codes (deposit), and by barcode only 10 × 250 mL bottles, 6 × 1 L bottles (bought back)
   * and 15 bags (points). The answer is what the document's table and the clerk's 8.00 yuan say.
   */
  async function theReturn(): Promise<void> {
    const codes = [unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)];
    t.clock.set('2026-03-02T02:00:00.000Z');
    let clerk = await freshToken(t, 'clerk.qingcheng'); // a login at the clock's time: tokens expire when it jumps
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(saleBody({ eventTime: '2026-03-02T02:00:00.000Z', lines: [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: codes }] }))).status).to.equal(201);
    t.clock.set('2026-03-10T03:00:00.000Z');
    clerk = await freshToken(t, 'clerk.qingcheng');
    const ret = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', clerk).send(returnBody({
      eventTime: '2026-03-10T02:00:00.000Z', returner: { phone: FARMER_PHONE },
      items: [...codes.map((scan) => ({ scan, inspection: 'accepted' })), byBarcode(BOTTLE_250, 10), byBarcode(GLYPHOSATE.id, 6), byBarcode(BAG_500G, 15)],
    }));
    expect(ret.status, JSON.stringify(ret.body)).to.equal(201);
    const answer = ret.body as { items: Array<{ refundFen: number; incentive: unknown }> } & Record<string, unknown>;
    expect(answer.items.map((i) => i.incentive)).to.deep.equal([
      { kind: 'deposit', buybackFen: 0, pointsMilli: 0, reason: null },
      { kind: 'deposit', buybackFen: 0, pointsMilli: 0, reason: null },
      { kind: 'buyback', buybackFen: 10 * 30, pointsMilli: 0, reason: null },
      { kind: 'buyback', buybackFen: 6 * 50, pointsMilli: 0, reason: null },
      { kind: 'points', buybackFen: 0, pointsMilli: 15 * 200, reason: null },
    ]);
    expect(answer.items.map((i) => i.refundFen)).to.deep.equal([100, 100, 300, 300, 0]);
    // 8.00 yuan handed over (2.00 deposit + 6.00 buy-back), 3 points earned and held.
    expect(answer).to.include({ totalRefundFen: 800, totalBuybackFen: 600, totalPointsMilli: 3000, pointsBalanceMilli: 3000 });
    for (const figure of ['`totalBuybackFen` 600', '`totalPointsMilli` 3000', '**8.00 yuan**']) expect(DOC).to.contain(figure);
  }

  it('every request answers as the document shows', async () => {
    for (const e of examples) {
      if (e.method === 'GET' && e.path.endsWith('/incentive-fund')) await theReturn();
      const token = await freshToken(t, e.user);
      const req = e.method === 'GET' ? t.api().get(e.path) : e.method === 'POST' ? t.api().post(e.path) : t.api().patch(e.path);
      const res = await req.set('Authorization', token).send(e.body as object);
      const refused = (e.answer as { error?: unknown } | undefined)?.error !== undefined;
      if (refused) expect(res.status, `${e.method} ${e.path}`).to.be.within(400, 499);
      else expect(res.status, `${e.method} ${e.path}: ${JSON.stringify(res.body)}`).to.be.within(200, 201);
      if (e.answer !== undefined) expectShown(res.body, e.answer, `${e.method} ${e.path}`);
    }
    expect(await t.db.knex('incentive_rates').where({ county_id: COUNTY }).count('* as n').first()).to.deep.equal({ n: 3 });
  });

  it('the statement and the dashboard give the document\'s figures', async () => {
    // 20 March: the clerk redeems Wang's 3 points for gloves worth 3.00 yuan at the counter.
    t.clock.set('2026-03-20T02:30:00.000Z');
    const redeemed = await t.api().post(`/api/v1/counties/${COUNTY}/points-redemptions`).set('Authorization', await freshToken(t, 'clerk.qingcheng'))
      .send({ id: newClientId(), shopId: SHOP_A, phone: FARMER_PHONE, points: 3, goods: '劳保手套一副', goodsValueFen: 300, eventTime: '2026-03-20T02:00:00.000Z' });
    expect(redeemed.status, JSON.stringify(redeemed.body)).to.equal(201);
    expect(redeemed.body).to.include({ pointsMilli: 3000, balanceAfterMilli: 0 });
    t.clock.set('2026-04-02T02:00:00.000Z');
    const official = await freshToken(t, 'qingshen.official');
    const st = (await t.api().get(`/api/v1/counties/${COUNTY}/settlements/statements/2026-03`).set('Authorization', official)).body;
    expect(st.shops.find((l: { shopId: string }) => l.shopId === SHOP_A)).to.include({ depositsCollectedFen: 200, refundsPaidFen: 200, buybackPaidFen: 600, netFen: -600, outstandingFen: -600 });
    const pay = await t.api().post(`/api/v1/counties/${COUNTY}/settlements`).set('Authorization', official).send({ id: newClientId(), shopId: SHOP_A, period: '2026-03', amountFen: 600, direction: 'to_shop', method: 'bank', reference: 'BK-0402' });
    expect(pay.status, JSON.stringify(pay.body)).to.equal(201);
    const dash = (await t.api().get(`/api/v1/counties/${COUNTY}/dashboard/incentives?from=2026-03&to=2026-03&by=county`).set('Authorization', official)).body;
    expect(dash.rows[0]).to.deep.include({
      depositRefundsFen: 200, depositContainers: 2, buybackFen: 600, buybackContainers: 16, pointsIssuedMilli: 3000, pointsRedeemedMilli: 3000,
      pointsRedeemedGoodsFen: 300, pointsContainers: 15, incentiveContainers: 31, incentiveSpendFen: 900, budgetLeftFen: 499_400,
    });
    expect(dash.rows[0].containersPerYuan).to.deep.equal({ deposit: 1, buyback: 2.67, points: 5, incentives: 3.44 });
    const shop = (await t.api().get(`/api/v1/counties/${COUNTY}/dashboard/incentives?from=2026-03&to=2026-03&by=shop`).set('Authorization', official)).body;
    expect(shop.rows.find((r: { key: string }) => r.key === SHOP_A).budgetLeftFen).to.equal(199_400);
    for (const figure of ['2.00', '6.00', '3.00', '8.00', '4,994.00', '2.67', '3.44', '1,994.00']) expect(DOC).to.contain(figure);
    // Every figure above came from requests: the ledger ties the fund to the buy-back of returns that stand.
    await expectLedgerClean(t);
  });
});
