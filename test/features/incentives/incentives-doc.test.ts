// docs/incentives.md: every request of the worked example is sent, in order, as the user it names,
// and answers what the document shows (fields shown must match; "…" stands for ids and times). The
// example's return (deposit, buy-back, points) is then built as returns record it, the points are
// redeemed at the counter (POST points-redemptions), and the statement and the dashboard must give
// the document's figures.
import fs from 'node:fs';
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { COUNTY, FARMER_PHONE, GLYPHOSATE, SHOP_A, freshToken, returnBody, saleBody, unitCode } from '../ledger/ledger-fixtures.js';
import { incentiveItems, postBuybackTransfer, postFarmerPoints } from './incentive-fixtures.js';
import { newClientId } from '../../../src/shared/client-id.js';

const DOC = fs.readFileSync(new URL('../../../docs/incentives.md', import.meta.url), 'utf8');

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
  let farmerId = '';

  it('shows requests of every kind the document explains', () => {
    expect(examples.map((e) => `${e.method} ${e.path.replace(/\d{6}/, '{c}')}`)).to.include.members([
      'PATCH /api/v1/counties/{c}', 'POST /api/v1/counties/{c}/incentive-rates', 'POST /api/v1/counties/{c}/incentive-fund/allocations', 'GET /api/v1/counties/{c}/incentive-fund',
    ]);
  });

  /** The example's return at shop A on 10 March: 2 deposit bottles by the API, 16 bought back and 15 bags for points as returns record them. */
  async function theReturn(): Promise<void> {
    const codes = [unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)];
    t.clock.set('2026-03-02T02:00:00.000Z');
    let clerk = await freshToken(t, 'clerk.qingcheng'); // a login at the clock's time: tokens expire when it jumps
    expect((await t.api().post('/api/v1/sales').set('Authorization', clerk).send(saleBody({ eventTime: '2026-03-02T02:00:00.000Z', lines: [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: codes }] }))).status).to.equal(201);
    t.clock.set('2026-03-10T03:00:00.000Z');
    clerk = await freshToken(t, 'clerk.qingcheng');
    const ret = await t.api().post('/api/v1/returns').set('Authorization', clerk).send(returnBody({ eventTime: '2026-03-10T02:00:00.000Z', returner: { phone: FARMER_PHONE }, items: codes.map((scan) => ({ scan, inspection: 'accepted' })) }));
    expect(ret.body.totalRefundFen, JSON.stringify(ret.body)).to.equal(200);
    farmerId = (await t.db.knex('farmers').where({ county_id: COUNTY, phone_e164: `+86${FARMER_PHONE}` }).first('id')).id;
    const at = { eventTime: '2026-03-10T02:00:00.000Z', businessDay: '2026-03-10' };
    await postBuybackTransfer(t, { shopId: SHOP_A, amountFen: 10 * 30, eventTime: at.eventTime });
    await incentiveItems(t, { shopId: SHOP_A, farmerId, quantity: 10, incentive: 'buyback', refundFen: 300, pointsMilli: 0, ...at });
    await postBuybackTransfer(t, { shopId: SHOP_A, amountFen: 6 * 50, eventTime: at.eventTime });
    await incentiveItems(t, { shopId: SHOP_A, farmerId, quantity: 6, incentive: 'buyback', refundFen: 300, pointsMilli: 0, ...at });
    await postFarmerPoints(t, { farmerId, shopId: SHOP_A, milli: 15 * 200, code: 'earned', ...at });
    await incentiveItems(t, { shopId: SHOP_A, farmerId, quantity: 15, incentive: 'points', refundFen: 0, pointsMilli: 3000, ...at });
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
    const dash = (await t.api().get(`/api/v1/dashboard/counties/${COUNTY}/incentives?from=2026-03&to=2026-03&by=county`).set('Authorization', official)).body;
    expect(dash.rows[0]).to.deep.include({
      depositRefundsFen: 200, depositContainers: 2, buybackFen: 600, buybackContainers: 16, pointsIssuedMilli: 3000, pointsRedeemedMilli: 3000,
      pointsRedeemedGoodsFen: 300, pointsContainers: 15, incentiveContainers: 31, incentiveSpendFen: 900, budgetLeftFen: 499_400,
    });
    expect(dash.rows[0].containersPerYuan).to.deep.equal({ deposit: 1, buyback: 2.67, points: 5, incentives: 3.44 });
    const shop = (await t.api().get(`/api/v1/dashboard/counties/${COUNTY}/incentives?from=2026-03&to=2026-03&by=shop`).set('Authorization', official)).body;
    expect(shop.rows.find((r: { key: string }) => r.key === SHOP_A).budgetLeftFen).to.equal(199_400);
    for (const figure of ['2.00', '6.00', '3.00', '8.00', '4,994.00', '2.67', '3.44', '1,994.00']) expect(DOC).to.contain(figure);
  });
});
