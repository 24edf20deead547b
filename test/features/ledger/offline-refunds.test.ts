// Offline refunds: a return synced from a terminal states what the clerk actually paid. The ledger
// records what was paid; a difference from what the server computes is kept, shown and flagged, never
// refused — and a unit already refunded is still refused (already_returned): the cash handed over is a
// shortfall for the county to chase, the deposit is not paid twice.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { COUNTY, GLYPHOSATE, SHOP_A, balances, expectLedgerClean, returnBody, saleBody, unitCode, countyScoped } from './ledger-fixtures.js';

describe('offline refunds: what the clerk paid', () => {
  const t = useTestApp();
  const post = async (path: string, who: string, body: unknown) => { const c = countyScoped(path, body); return t.api().post(c.path).set('Authorization', await t.token(who)).send(c.body as object); };
  const sellCoded = async () => {
    const code = unitCode(GLYPHOSATE);
    const res = await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [code] }] }));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return code;
  };
  const delta = (a: Record<string, number>, b: Record<string, number>, k: string) => (b[k] ?? 0) - (a[k] ?? 0);

  it('records what was paid when it differs from the deposit, and flags it', async () => {
    const code = await sellCoded();
    const before = await balances(t);
    const res = await post('/api/v1/returns', 'clerk.qingcheng', returnBody({ items: [{ scan: code, inspection: 'accepted', refundPaidFen: 80 }] }));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.items[0]).to.include({ outcome: 'refunded', refundFen: 100, refundPaidFen: 80, refundDifferenceFen: -20 });
    expect(res.body.items[0].flags).to.deep.equal(['refund_mismatch']);
    expect(res.body).to.include({ totalRefundFen: 100, totalPaidFen: 80, refundDifferenceFen: -20 });
    expect(res.body.flags).to.deep.equal(['refund_mismatch']);
    const after = await balances(t);
    expect(delta(before, after, `shop:${SHOP_A}`)).to.equal(-80); // what left the till
    expect(delta(before, after, 'deposits_outstanding')).to.equal(100); // the deposit is released in full
    expect(delta(before, after, 'refund_differences')).to.equal(-20); // owed to the farmer
    const refund = await t.db.knex('refunds').where({ county_id: COUNTY, return_id: res.body.returnId }).first();
    expect(Number(refund.amount_fen)).to.equal(80);
    const item = await t.db.knex('return_items').where({ county_id: COUNTY, return_id: res.body.returnId }).first();
    expect([Number(item.refund_paid_fen), Number(item.refund_difference_fen)]).to.deep.equal([80, -20]);
    await expectLedgerClean(t);
  });

  it('never pays a unit code twice: the second refund is refused already_returned and the cash is a shortfall to chase', async () => {
    const code = await sellCoded();
    const first = await post('/api/v1/returns', 'clerk.qingcheng', returnBody({ items: [{ scan: code, inspection: 'accepted', refundPaidFen: 100 }] }));
    expect(first.body.items[0]).to.include({ outcome: 'refunded', refundFen: 100, refundDifferenceFen: 0 });
    expect(first.body.flags).to.deep.equal([]);
    const before = await balances(t);
    // A second terminal, offline, paid the same container again.
    const second = await post('/api/v1/returns', 'clerk.qingcheng', returnBody({ items: [{ scan: code, inspection: 'accepted', refundPaidFen: 100 }] }));
    expect(second.status, JSON.stringify(second.body)).to.equal(201);
    expect(second.body.items[0]).to.include({ outcome: 'rejected', reasonCode: 'already_returned', refundFen: 0, refundPaidFen: 100, refundDifferenceFen: 100 });
    expect(second.body).to.include({ totalRefundFen: 0, totalPaidFen: 100, refundDifferenceFen: 100 });
    expect(second.body.payment).to.deep.equal({ method: 'cash', reference: null });
    const after = await balances(t);
    expect(delta(before, after, 'deposits_outstanding')).to.equal(0);
    expect(delta(before, after, 'refund_differences')).to.equal(100);
    expect(delta(before, after, `shop:${SHOP_A}`)).to.equal(-100);
    const refunded = await t.db.knex('return_allocations').where({ county_id: COUNTY, unit_code: code }).where('amount_fen', '>', 0);
    expect(refunded).to.have.length(1);
    const flags = (await t.api().get(`/api/v1/counties/${COUNTY}/fraud-flags?from=2026-03-01&to=2026-03-31`).set('Authorization', await t.token('qingshen.official'))).body.items;
    const flag = flags.find((f: { kind: string; refId: string }) => f.kind === 'refund_mismatch' && f.refId === second.body.returnId);
    expect(flag).to.include({ shopId: SHOP_A, owedFen: 0, paidFen: 100, differenceFen: 100, overpaidFen: 100, underpaidFen: 0 });
    await expectLedgerClean(t);
  });

  it('keeps idempotency: the same record replays, the same id with another amount is a conflict', async () => {
    const code = await sellCoded();
    const body = returnBody({ items: [{ scan: code, inspection: 'accepted', refundPaidFen: 120 }] });
    const first = await post('/api/v1/returns', 'clerk.qingcheng', body);
    expect(first.status).to.equal(201);
    expect(first.body).to.include({ totalRefundFen: 100, totalPaidFen: 120, refundDifferenceFen: 20 });
    const before = await balances(t);
    const again = await post('/api/v1/returns', 'clerk.qingcheng', body);
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal(first.body);
    const other = await post('/api/v1/returns', 'clerk.qingcheng', { ...body, items: [{ scan: code, inspection: 'accepted', refundPaidFen: 100 }] });
    expect(other.status).to.equal(409);
    expect(other.body.error.code).to.equal('IDEMPOTENCY_CONFLICT');
    expect(await balances(t)).to.deep.equal(before);
  });

  it('without a stated amount pays what is computed; a reversal takes the difference back too', async () => {
    const code = await sellCoded();
    const plain = await post('/api/v1/returns', 'clerk.qingcheng', returnBody({ items: [{ scan: code, inspection: 'accepted' }] }));
    expect(plain.body.items[0]).to.include({ refundFen: 100, refundPaidFen: 100, refundDifferenceFen: 0 });
    expect(plain.body).to.include({ totalRefundFen: 100, totalPaidFen: 100, refundDifferenceFen: 0 });
    const before = await balances(t);
    const over = await post('/api/v1/returns', 'clerk.qingcheng', returnBody({ items: [{ scan: code, inspection: 'accepted', refundPaidFen: 100 }] }));
    expect(over.body.refundDifferenceFen).to.equal(100);
    const rev = await post('/api/v1/reversals', 'clerk.qingcheng', { id: newClientId(), targetType: 'return', targetId: over.body.returnId, reason: '重复付款' });
    expect(rev.status, JSON.stringify(rev.body)).to.equal(201);
    expect(await balances(t)).to.deep.equal(before);
    await expectLedgerClean(t);
  });

  it('shows paid amounts in the settlement statement (the shop is credited with the cash it handed out)', async () => {
    const res = await t.api().get(`/api/v1/counties/${COUNTY}/settlements/statements/2026-03`).set('Authorization', await t.token('qingshen.official'));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const line = res.body.shops.find((s: { shopId: string }) => s.shopId === SHOP_A);
    const rows = await t.db.knex('refunds').where({ county_id: COUNTY }).sum({ s: 'amount_fen' }).first();
    const reversedPaid = 100; // the reversed overpayment above
    expect(line.refundsPaidFen).to.equal(Number(rows!.s) - reversedPaid);
  });
});
