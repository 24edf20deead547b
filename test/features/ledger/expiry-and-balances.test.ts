import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { farmerBalanceByPhone } from '../../../src/features/balances/farmer-balance.js';
import { COUNTY, countyScoped, GLYPHOSATE, balances, expectLedgerClean, freshToken, returnBody, saleBody, unitCode } from './ledger-fixtures.js';

describe('expiry, late returns, farmer balances and fraud flags', () => {
  const t = useTestApp();
  // The county paths (the deprecated top-level aliases have their own test: county-paths.test.ts).
  const post = async (path: string, who: string, body: unknown) => { const c = countyScoped(path, body); return t.api().post(c.path).set('Authorization', await t.token(who)).send(c.body as object); };
  const expire = async () => (await t.api().post(`/api/v1/counties/${COUNTY}/ledger/expiry-runs`).set('Authorization', await t.token('admin'))).body;
  const PHONE = '+8617460000555';
  const code = unitCode(GLYPHOSATE);
  let farmerId = '';

  before(async () => {
    // The old sale reached the server when it was made (event times older than the county's maximum offline age are refused).
    t.clock.set('2025-03-01T02:05:00Z');
    const old = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await freshToken(t, 'clerk.qingcheng')).send(saleBody({ eventTime: '2025-03-01T02:00:00Z', purchaser: { phone: PHONE, name: '钱七' }, lines: [{ productId: GLYPHOSATE.id, quantity: 3, unitCodes: [code] }] }));
    expect(old.status, JSON.stringify(old.body)).to.equal(201);
    t.clock.set('2026-03-15T02:00:00.000Z');
    farmerId = old.body.purchaser.farmerId;
    await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ eventTime: '2026-03-01T02:00:00Z', purchaser: { phone: PHONE }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] }));
  });

  it('gives the farmer’s balance by id (HTTP) and by phone (service for SMS)', async () => {
    const res = await t.api().get(`/api/v1/counties/${COUNTY}/farmers/${farmerId}/balance`).set('Authorization', await t.token('clerk.qingcheng'));
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ outstandingContainers: 4, refundableFen: 400, expiredContainers: 0, refundsThisYearFen: 0, year: 2026 });
    const viaPhone = await farmerBalanceByPhone(t.db.knex, COUNTY, PHONE, t.clock.now());
    expect(viaPhone?.products).to.deep.equal(res.body.products);
    expect(await farmerBalanceByPhone(t.db.knex, COUNTY, '+8617460000000', t.clock.now())).to.equal(null);
  });

  it('moves deposits past validity to unredeemed, once', async () => {
    const first = await expire();
    expect(first).to.include({ unitsExpired: 1, lotContainersExpired: 2, amountFen: 300 });
    expect(await expire()).to.include({ unitsExpired: 0, lotContainersExpired: 0, amountFen: 0 });
    expect(await balances(t)).to.include({ unredeemed: -300, deposits_outstanding: -100 });
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/ledger/expiry-runs`).set('Authorization', await t.token('qingshen.official'))).status).to.equal(403);
    await expectLedgerClean(t);
  });

  it('applies the late-return policy: refund from unredeemed, or accept without refund', async () => {
    const late = await post('/api/v1/returns', 'clerk.qingcheng', returnBody({ returner: { phone: PHONE }, items: [{ scan: code, inspection: 'accepted' }, { productId: GLYPHOSATE.id, quantity: 2, inspection: 'accepted' }] }));
    expect(late.status, JSON.stringify(late.body)).to.equal(201);
    // The GTIN containers match the fresh lot first (100), then one expired lot container (100, late).
    expect(late.body.items[0].sources).to.deep.equal([{ source: 'unit_expired', quantity: 1, amountFen: 100 }]);
    expect(late.body.items[1].sources).to.deep.equal([{ source: 'lot', quantity: 1, amountFen: 100 }, { source: 'lot_expired', quantity: 1, amountFen: 100 }]);
    expect(await balances(t)).to.include({ unredeemed: -100, deposits_outstanding: 0 });
    await t.db.knex('counties').where({ id: COUNTY }).update({ late_return_policy: 'accept_without_refund', untracked_refund_policy: 'accept_without_refund' });
    const noRefund = await post('/api/v1/returns', 'clerk.qingcheng', returnBody({ returner: { phone: PHONE }, items: [{ productId: GLYPHOSATE.id, quantity: 1, inspection: 'accepted' }] }));
    expect(noRefund.body.items[0]).to.include({ outcome: 'accepted_no_refund', refundFen: 0 });
    expect(noRefund.body.items[0].sources).to.deep.equal([{ source: 'lot_expired', quantity: 1, amountFen: 0 }]);
    await t.db.knex('counties').where({ id: COUNTY }).update({ late_return_policy: 'refund_from_unredeemed', untracked_refund_policy: 'schedule_up_to_limit' });
    const res = await t.api().get(`/api/v1/counties/${COUNTY}/farmers/${farmerId}/balance`).set('Authorization', await t.token('clerk.qingcheng'));
    expect(res.body).to.include({ outstandingContainers: 0, refundableFen: 0, expiredContainers: 0, refundsThisYearFen: 300 });
    await expectLedgerClean(t);
  });

  it('flags returns above purchases, heavy daily returners and offline deposit mismatches, with masked phones', async () => {
    await post('/api/v1/returns', 'clerk.qingcheng', returnBody({ returner: { phone: PHONE }, items: [{ productId: GLYPHOSATE.id, quantity: 60, inspection: 'accepted' }] }));
    await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, depositChargedFen: 10 }] }));
    const res = await t.api().get(`/api/v1/counties/${COUNTY}/fraud-flags?from=2026-03-01&to=2026-03-31`).set('Authorization', await t.token('qingshen.official'));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const kinds = res.body.items.map((f: { kind: string }) => f.kind);
    expect(kinds).to.include.members(['returns_exceed_sales_shop', 'returns_exceed_purchases_phone', 'daily_returns_above_threshold', 'deposit_mismatch']);
    expect(JSON.stringify(res.body)).to.not.contain('17460000555');
  });
});
