import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { OTHER_COUNTY_ID } from '../../support/other-county.js';
import { demoId } from '../../../seeds/demo-county.js';
import { COUNTY, FARMER_PHONE, GLYPHOSATE, GLYPHOSATE_5L, OTHER_PHONE, SHOP_A, balances, expectLedgerClean, returnBody, saleBody, traceUrl, unitCode, countyScoped } from './ledger-fixtures.js';

describe('returns and refunds', () => {
  const t = useTestApp();
  const post = async (path: string, who: string, body: unknown) => { const c = countyScoped(path, body); return t.api().post(c.path).set('Authorization', await t.token(who)).send(c.body as object); };
  const sell = async (body: Record<string, unknown>) => {
    const res = await post('/api/v1/sales', 'clerk.qingcheng', saleBody(body));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  };
  const ret = (body: Record<string, unknown>, who = 'clerk.qingcheng') => post('/api/v1/returns', who, returnBody(body));

  it('refunds a unit-coded container the deposit actually paid, to the bearer, once ever', async () => {
    const code = unitCode(GLYPHOSATE);
    await sell({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [code], depositChargedFen: 80 }] });
    const first = await ret({ items: [{ scan: traceUrl(code), inspection: 'accepted' }] });
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    expect(first.body.totalRefundFen).to.equal(80);
    expect(first.body.items[0]).to.include({ outcome: 'refunded', refundFen: 80, unitCode: code });
    expect(first.body.payment).to.deep.equal({ method: 'cash', reference: null });
    const second = await ret({ items: [{ scan: code, inspection: 'accepted' }] });
    expect(second.body.items[0]).to.include({ outcome: 'rejected', reasonCode: 'already_returned', refundFen: 0 });
    expect(second.body.totalRefundFen).to.equal(0);
    await expectLedgerClean(t);
  });

  it('records inspection rejections with their reason, and demands reasons and mobile references', async () => {
    const code = unitCode(GLYPHOSATE);
    await sell({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [code] }] });
    const res = await ret({ items: [{ scan: code, inspection: 'rejected', reasonCode: 'not_rinsed' }] });
    expect(res.body.items[0]).to.include({ outcome: 'rejected', reasonCode: 'not_rinsed', refundFen: 0 });
    expect((await ret({ items: [{ scan: code, inspection: 'rejected' }] })).body.error.code).to.equal('REASON_CODE_REQUIRED');
    expect((await ret({ items: [{ scan: code, inspection: 'accepted' }], payment: { method: 'mobile' } })).body.error.code).to.equal('PAYMENT_REFERENCE_REQUIRED');
    const paid = await ret({ items: [{ scan: code, inspection: 'accepted' }], payment: { method: 'mobile', reference: 'WX4200001234' } });
    expect(paid.body.payment).to.deep.equal({ method: 'mobile', reference: 'WX4200001234' });
    expect(paid.body.totalRefundFen).to.equal(100);
  });

  it('refuses unit codes of another county and scans without a code, as rejected items', async () => {
    const jiangeCode = `1990001150000000000000000000${String(Date.now()).slice(-4)}`;
    const sold = await post('/api/v1/sales', 'jiange.clerk', saleBody({
      countyId: OTHER_COUNTY_ID, shopId: demoId('shops', `${OTHER_COUNTY_ID}:1`), purchaser: { phone: '17469000001' },
      lines: [{ productId: demoId('products', `${OTHER_COUNTY_ID}:1`), quantity: 1, unitCodes: [jiangeCode] }],
    }));
    expect(sold.status, JSON.stringify(sold.body)).to.equal(201);
    const res = await ret({ items: [{ scan: jiangeCode, inspection: 'accepted' }, { scan: 'http://x.cn/abc', inspection: 'accepted' }] });
    expect(res.body.items.map((i: { reasonCode: string }) => i.reasonCode)).to.deep.equal(['other_county', 'unknown_code']);
  });

  it('matches GTIN-only containers first-in-first-out against the returner’s deposits, then county policy up to the daily limit', async () => {
    await sell({ eventTime: '2026-03-10T01:00:00.000Z', purchaser: { phone: OTHER_PHONE, name: '王五' }, lines: [{ productId: GLYPHOSATE.id, quantity: 2, depositChargedFen: 90 }] });
    await sell({ eventTime: '2026-03-12T01:00:00.000Z', purchaser: { phone: OTHER_PHONE }, lines: [{ productId: GLYPHOSATE.id, quantity: 2 }] });
    await t.db.knex('counties').where({ id: COUNTY }).update({ untracked_daily_limit: 2 });
    const res = await ret({ returner: { phone: OTHER_PHONE }, items: [{ productId: GLYPHOSATE.id, quantity: 7, inspection: 'accepted' }] });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    // 2 × 90 (oldest lot) + 2 × 100 (next lot) + 2 × 100 (policy, limit 2) + 1 without refund
    expect(res.body.items[0].sources).to.deep.equal([
      { source: 'lot', quantity: 4, amountFen: 380 },
      { source: 'policy', quantity: 2, amountFen: 200 },
      { source: 'none', quantity: 1, amountFen: 0 },
    ]);
    expect(res.body.totalRefundFen).to.equal(580);
    const more = await ret({ returner: { phone: OTHER_PHONE }, items: [{ productId: GLYPHOSATE.id, quantity: 1, inspection: 'accepted' }] });
    expect(more.body.items[0]).to.include({ outcome: 'accepted_no_refund', refundFen: 0 });
    await t.db.knex('counties').where({ id: COUNTY }).update({ untracked_daily_limit: 20, untracked_refund_policy: 'accept_without_refund' });
    const none = await ret({ items: [{ productId: GLYPHOSATE_5L.id, quantity: 3, inspection: 'accepted' }] });
    expect(none.body.totalRefundFen).to.equal(0);
    await t.db.knex('counties').where({ id: COUNTY }).update({ untracked_refund_policy: 'schedule_up_to_limit' });
    await expectLedgerClean(t);
  });

  it('clears between shops: the refunding shop is owed what the selling shop collected', async () => {
    const before = await balances(t);
    const code = unitCode(GLYPHOSATE_5L);
    await sell({ lines: [{ productId: GLYPHOSATE_5L.id, quantity: 1, unitCodes: [code] }] });
    const shopB = demoId('shops', `${COUNTY}:农药经许（川）51142520180002`);
    const res = await post('/api/v1/returns', 'admin', returnBody({ countyId: COUNTY, shopId: shopB, items: [{ scan: code, inspection: 'accepted' }] }));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const after = await balances(t);
    expect(after[`shop:${SHOP_A}`]! - (before[`shop:${SHOP_A}`] ?? 0)).to.equal(200);
    expect(after[`shop:${shopB}`]! - (before[`shop:${shopB}`] ?? 0)).to.equal(-200);
    expect(after.deposits_outstanding).to.equal(before.deposits_outstanding);
  });

  it('refunds a unit code exactly once when 8 terminals submit it at the same moment', async () => {
    const code = unitCode(GLYPHOSATE);
    await sell({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [code] }] });
    const auth = await t.token('clerk.qingcheng');
    const results = await Promise.all(Array.from({ length: 8 }, () =>
      t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', auth).send(returnBody({ items: [{ scan: code, inspection: 'accepted' }] }))));
    expect(results.map((r) => r.status)).to.deep.equal(Array(8).fill(201));
    const refunds = results.map((r) => r.body.totalRefundFen as number);
    expect(refunds.filter((f) => f > 0)).to.deep.equal([100]);
    const rows = await t.db.knex('return_allocations').where({ county_id: COUNTY, unit_code: code }).where('amount_fen', '>', 0);
    expect(rows).to.have.length(1);
    await expectLedgerClean(t);
  });

  it('sells a unit code once when 8 terminals submit it at the same moment, and replays concurrent twins', async () => {
    const code = unitCode(GLYPHOSATE);
    const auth = await t.token('clerk.qingcheng');
    const results = await Promise.all(Array.from({ length: 8 }, () =>
      t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', auth).send(saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [code] }] }))));
    expect(results.map((r) => r.status).sort()).to.deep.equal([201, 409, 409, 409, 409, 409, 409, 409]);
    const twin = returnBody({ items: [{ scan: code, inspection: 'accepted' }] });
    const twins = await Promise.all(Array.from({ length: 6 }, () => t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', auth).send(twin)));
    expect(twins.map((r) => r.status).sort()).to.deep.equal([200, 200, 200, 200, 200, 201]);
    for (const r of twins) expect(r.body).to.deep.equal(twins[0]!.body);
    await expectLedgerClean(t);
  });

  it('keeps the farmer’s phone out of every receipt', async () => {
    const res = await sell({ purchaser: { phone: FARMER_PHONE } });
    expect(JSON.stringify(res)).to.not.contain('17460000999');
  });
});
