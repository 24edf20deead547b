// Codes nobody sold are not money (issue 11, part 3; DESIGN rule 13): a well-formed unit code of a
// county product that was never sold is accepted into custody with its refund held for the county
// official's review; approval pays it exactly once (at any shop, or by mobile payment), a decline
// pays nothing; county policy may still pay at once.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { COUNTY, GLYPHOSATE, GLYPHOSATE_5L, SHOP_A, SHOP_B, balances, countyScoped, expectLedgerClean, returnBody, saleBody, traceUrl, unitCode } from './ledger-fixtures.js';

const PHONE = '17460000611';
const PHONE_E164 = '+8617460000611';

describe('held refunds: unit codes nobody sold', () => {
  const t = useTestApp();
  const as = async (who: string) => t.token(who);
  /** A top-level write goes to its county path (countyScoped), the county out of the body. */
  const post = async (path: string, who: string, body: unknown) => { const c = countyScoped(path, body); return t.api().post(c.path).set('Authorization', await as(who)).send(c.body as object); };
  const ret = (body: Record<string, unknown>, who = 'clerk.qingcheng') => post('/api/v1/returns', who, returnBody({ returner: { phone: PHONE, name: '持码农户' }, ...body }));
  const queue = async (state?: string) => {
    const res = await t.api().get(`/api/v1/counties/${COUNTY}/held-refunds${state ? `?state=${state}` : ''}`).set('Authorization', await as('qingshen.official'));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.items as Array<Record<string, any>>;
  };
  const decide = (heldRefundId: string, body: Record<string, unknown>, who = 'qingshen.official') =>
    post(`/api/v1/counties/${COUNTY}/held-refunds/${heldRefundId}/decision`, who, { id: newClientId(), ...body });
  const payAt = (shopId: string, heldRefundId: string, over: Record<string, unknown> = {}) =>
    post('/api/v1/held-refund-payouts', shopId === SHOP_A ? 'clerk.qingcheng' : 'admin', { id: newClientId(), countyId: COUNTY, shopId, heldRefundId, phone: PHONE, ...over });
  /** Returns one never-sold code and answers its held refund id. */
  const holdOne = async (product = GLYPHOSATE) => {
    const code = unitCode(product);
    const res = await ret({ items: [{ scan: traceUrl(code), inspection: 'accepted' }] });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return { code, res, heldRefundId: res.body.items[0].heldRefund.heldRefundId as string };
  };

  it('accepts a never-sold code into custody with its refund held: no money moves, the ledger stays clean', async () => {
    const before = await balances(t);
    const code = unitCode(GLYPHOSATE_5L);
    const res = await ret({ items: [{ scan: code, inspection: 'accepted' }, { productId: GLYPHOSATE.id, quantity: 1, inspection: 'accepted' }] });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const [held, gtin] = res.body.items;
    expect(held).to.include({ outcome: 'refund_held', refundFen: 0, refundPaidFen: 0, unitCode: code, productId: GLYPHOSATE_5L.id });
    expect(held.flags).to.deep.equal(['unsold_code']);
    expect(held.heldRefund).to.include({ amountFen: 200, reason: 'unsold_code' });
    expect(held.sources).to.deep.equal([{ source: 'held', quantity: 1, amountFen: 0 }]);
    // GTIN-only containers keep today's rules: the county policy pays up to the daily limit.
    expect(gtin).to.include({ outcome: 'refunded', refundFen: 100 });
    expect(res.body).to.include({ totalRefundFen: 100, totalHeldFen: 200 });
    expect(res.body.flags).to.deep.equal(['refund_held']);
    const after = await balances(t);
    expect(after.policy_refunds! - (before.policy_refunds ?? 0)).to.equal(100); // the GTIN container only
    const items = await queue('held');
    const item = items.find((i) => i.heldRefundId === held.heldRefund.heldRefundId)!;
    expect(item).to.include({ state: 'held', reason: 'unsold_code', amountFen: 200, unitCode: code, shopId: SHOP_A, returnId: res.body.returnId });
    expect(item.returner.phoneMasked).to.contain('*').and.to.not.contain('17460000611');
    expect(item.history).to.deep.equal({ otherReturns: 0, otherHeldRefunds: 0, declined: 0, likelyCounterfeit: 0 });
    expect(JSON.stringify(items)).to.not.contain('17460000611');
    // Custody: the container can go into a bag like any accepted container.
    const row = await t.db.knex('return_items').where({ county_id: COUNTY, return_id: res.body.returnId, item_no: 1 }).first();
    expect(row).to.include({ outcome: 'refund_held', inspection: 'accepted' });
    await expectLedgerClean(t);
  });

  it('refunds a code at most once: a second return of a held code is already_returned, approved or not', async () => {
    const { code, heldRefundId } = await holdOne();
    const again = await ret({ items: [{ scan: code, inspection: 'accepted' }] });
    expect(again.body.items[0]).to.include({ outcome: 'rejected', reasonCode: 'already_returned', refundFen: 0 });
    expect(again.body.items[0].heldRefund).to.equal(null);
    expect((await decide(heldRefundId, { decision: 'approve' })).status).to.equal(201);
    const fourth = await post('/api/v1/returns', 'admin', returnBody({ countyId: COUNTY, shopId: SHOP_B, returner: { phone: '17460000612', name: '另一人' }, items: [{ scan: code, inspection: 'accepted' }] }));
    expect(fourth.body.items[0]).to.include({ outcome: 'rejected', reasonCode: 'already_returned' });
  });

  it('approval pays exactly once, in cash at any shop the farmer next visits; a retry replays, a second payout is refused', async () => {
    const { code, heldRefundId } = await holdOne();
    // Not payable before approval.
    const early = await payAt(SHOP_B, heldRefundId);
    expect(early.status).to.equal(409);
    expect(early.body.error.code).to.equal('HELD_REFUND_NOT_APPROVED');
    const approved = await decide(heldRefundId, { decision: 'approve' });
    expect(approved.status, JSON.stringify(approved.body)).to.equal(201);
    expect(approved.body).to.include({ state: 'approved', decision: 'approve', decidedBy: 'user:qingshen.official' });
    const again = await decide(heldRefundId, { decision: 'decline', reason: '改主意' });
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal('HELD_REFUND_ALREADY_DECIDED');

    // The counter at shop B sees what this phone may collect.
    const payable = await post('/api/v1/held-refunds/payable', 'admin', { countyId: COUNTY, shopId: SHOP_B, phone: PHONE });
    expect(payable.status, JSON.stringify(payable.body)).to.equal(200);
    const mine = payable.body.items.find((i: { heldRefundId: string }) => i.heldRefundId === heldRefundId);
    expect(mine).to.include({ unitCode: code, amountFen: 100, returnedAtShopId: SHOP_A });
    const wrongPhone = await payAt(SHOP_B, heldRefundId, { phone: '17460000698' });
    expect(wrongPhone.status).to.equal(422);
    expect(wrongPhone.body.error.code).to.equal('HELD_REFUND_PHONE_MISMATCH');

    const before = await balances(t);
    const body = { id: newClientId(), countyId: COUNTY, shopId: SHOP_B, heldRefundId, phone: PHONE };
    const paid = await post('/api/v1/held-refund-payouts', 'admin', body);
    expect(paid.status, JSON.stringify(paid.body)).to.equal(201);
    expect(paid.body).to.include({ heldRefundId, method: 'cash', shopId: SHOP_B, amountFen: 100 });
    const retry = await post('/api/v1/held-refund-payouts', 'admin', body);
    expect(retry.status).to.equal(200);
    expect(retry.body).to.deep.equal(paid.body);
    const second = await payAt(SHOP_A, heldRefundId);
    expect(second.status).to.equal(409);
    expect(second.body.error.code).to.equal('HELD_REFUND_ALREADY_PAID');
    const mobile = await post(`/api/v1/counties/${COUNTY}/held-refunds/${heldRefundId}/mobile-payment`, 'qingshen.official', { id: newClientId(), reference: 'WX999' });
    expect(mobile.body.error.code).to.equal('HELD_REFUND_ALREADY_PAID');
    const after = await balances(t);
    expect(after.policy_refunds! - (before.policy_refunds ?? 0)).to.equal(100);
    expect(after[`shop:${SHOP_B}`]! - (before[`shop:${SHOP_B}`] ?? 0)).to.equal(-100);
    const transfers = await t.db.knex('ledger_transfers').where({ county_id: COUNTY, code: 'held_refund_paid', ref_type: 'held_refund', ref_id: body.id });
    expect(transfers).to.have.length(1);
    const item = (await queue('paid')).find((i) => i.heldRefundId === heldRefundId)!;
    expect(item.payout).to.include({ method: 'cash', shopId: SHOP_B, amountFen: 100 });
    expect((await post('/api/v1/held-refunds/payable', 'admin', { countyId: COUNTY, shopId: SHOP_B, phone: PHONE })).body.items.map((i: { heldRefundId: string }) => i.heldRefundId)).to.not.include(heldRefundId);
    // The shop's settlement statement counts the cash it paid out.
    const st = await t.api().get(`/api/v1/counties/${COUNTY}/settlements/statements/2026-03`).set('Authorization', await as('qingshen.official'));
    expect(st.body.shops.find((s: { shopId: string }) => s.shopId === SHOP_B).refundsPaidFen).to.be.at.least(100);
    await expectLedgerClean(t);
  });

  it('a decline needs a reason, stores it and pays nothing', async () => {
    const { heldRefundId } = await holdOne();
    const before = await balances(t);
    const noReason = await decide(heldRefundId, { decision: 'decline' });
    expect(noReason.status).to.equal(422);
    expect(noReason.body.error.code).to.equal('DECLINE_REASON_REQUIRED');
    const declined = await decide(heldRefundId, { decision: 'decline', reason: '同一手机号一天输入20个未售出的码' });
    expect(declined.status, JSON.stringify(declined.body)).to.equal(201);
    expect(declined.body).to.include({ state: 'declined', reason: '同一手机号一天输入20个未售出的码' });
    const pay = await payAt(SHOP_A, heldRefundId);
    expect(pay.body.error.code).to.equal('HELD_REFUND_NOT_APPROVED');
    expect(await balances(t)).to.deep.equal(before);
    const item = (await queue('declined')).find((i) => i.heldRefundId === heldRefundId)!;
    expect(item.decision).to.include({ decision: 'decline', reason: '同一手机号一天输入20个未售出的码' });
    // The phone's history now shows the decline to the next reviewer.
    const { heldRefundId: next } = await holdOne();
    const nextItem = (await queue('held')).find((i) => i.heldRefundId === next)!;
    expect(nextItem.history.declined).to.be.at.least(1);
    expect(nextItem.history.otherReturns).to.be.at.least(1);
    await expectLedgerClean(t);
  });

  it('the official can pay an approved refund by mobile payment, recorded with its reference, once', async () => {
    const { heldRefundId } = await holdOne();
    await decide(heldRefundId, { decision: 'approve' });
    const before = await balances(t);
    const path = `/api/v1/counties/${COUNTY}/held-refunds/${heldRefundId}/mobile-payment`;
    const paid = await post(path, 'qingshen.official', { id: newClientId(), reference: 'WX4200009876' });
    expect(paid.status, JSON.stringify(paid.body)).to.equal(201);
    expect(paid.body).to.include({ method: 'mobile', reference: 'WX4200009876', shopId: null, amountFen: 100 });
    const after = await balances(t);
    expect(after.policy_refunds! - (before.policy_refunds ?? 0)).to.equal(100);
    expect(after.settlements! - (before.settlements ?? 0)).to.equal(-100);
    expect((await payAt(SHOP_A, heldRefundId)).body.error.code).to.equal('HELD_REFUND_ALREADY_PAID');
    // Clerks cannot review or pay by mobile.
    const clerk = await post(path, 'clerk.qingcheng', { id: newClientId(), reference: 'X' });
    expect(clerk.status).to.equal(403);
    await expectLedgerClean(t);
  });

  it('county policy pay_at_once keeps the old behaviour: refunded at once from the policy fund', async () => {
    await t.db.knex('counties').where({ id: COUNTY }).update({ unsold_code_policy: 'pay_at_once' });
    try {
      const before = await balances(t);
      const code = unitCode(GLYPHOSATE);
      const res = await ret({ items: [{ scan: code, inspection: 'accepted' }] });
      expect(res.body.items[0]).to.include({ outcome: 'refunded', refundFen: 100 });
      expect(res.body.items[0].sources).to.deep.equal([{ source: 'policy', quantity: 1, amountFen: 100 }]);
      expect(res.body.items[0].flags).to.deep.equal(['unsold_code']);
      expect(res.body.items[0].heldRefund).to.equal(null);
      expect(res.body.totalHeldFen).to.equal(0);
      expect((await balances(t)).policy_refunds! - (before.policy_refunds ?? 0)).to.equal(100);
      const again = await ret({ items: [{ scan: code, inspection: 'accepted' }] });
      expect(again.body.items[0]).to.include({ outcome: 'rejected', reasonCode: 'already_returned' });
    } finally {
      await t.db.knex('counties').where({ id: COUNTY }).update({ unsold_code_policy: 'hold_for_review' });
    }
    await expectLedgerClean(t);
  });

  it('the policy is a county setting officials change through PATCH /counties', async () => {
    const auth = await as('qingshen.official');
    const county = await t.api().get(`/api/v1/counties/${COUNTY}`).set('Authorization', auth);
    expect(county.body.unsoldCodePolicy).to.equal('hold_for_review');
    const bad = await t.api().patch(`/api/v1/counties/${COUNTY}`).set('Authorization', await as('admin')).send({ version: county.body.version, unsoldCodePolicy: 'sometimes' });
    expect(bad.status).to.equal(400);
    const ok = await t.api().patch(`/api/v1/counties/${COUNTY}`).set('Authorization', await as('admin')).send({ version: county.body.version, unsoldCodePolicy: 'pay_at_once' });
    expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
    expect(ok.body.unsoldCodePolicy).to.equal('pay_at_once');
    const back = await t.api().patch(`/api/v1/counties/${COUNTY}`).set('Authorization', await as('admin')).send({ version: ok.body.version, unsoldCodePolicy: 'hold_for_review' });
    expect(back.status).to.equal(200);
  });

  it('without a returner there is nobody to owe: accepted without refund, flagged unsold_code', async () => {
    const res = await post('/api/v1/returns', 'clerk.qingcheng', returnBody({ items: [{ scan: unitCode(GLYPHOSATE), inspection: 'accepted' }] }));
    expect(res.body.items[0]).to.include({ outcome: 'accepted_no_refund', refundFen: 0 });
    expect(res.body.items[0].flags).to.deep.equal(['unsold_code']);
    expect(res.body.items[0].heldRefund).to.equal(null);
  });

  it('reversing a return voids its held refund (the code may come back); a paid one cannot be reversed', async () => {
    const { code, res, heldRefundId } = await holdOne();
    const rev = await post('/api/v1/reversals', 'clerk.qingcheng', { id: newClientId(), targetType: 'return', targetId: res.body.returnId, reason: '扫错了', eventTime: '2026-03-15T01:40:00.000Z' });
    expect(rev.status, JSON.stringify(rev.body)).to.equal(201);
    expect((await queue('voided')).map((i) => i.heldRefundId)).to.include(heldRefundId);
    expect((await decide(heldRefundId, { decision: 'approve' })).body.error.code).to.equal('HELD_REFUND_ALREADY_DECIDED');
    const back = await ret({ items: [{ scan: code, inspection: 'accepted' }] });
    expect(back.body.items[0].outcome).to.equal('refund_held');

    const paid = await holdOne();
    await decide(paid.heldRefundId, { decision: 'approve' });
    expect((await payAt(SHOP_A, paid.heldRefundId)).status).to.equal(201);
    const refused = await post('/api/v1/reversals', 'clerk.qingcheng', { id: newClientId(), targetType: 'return', targetId: paid.res.body.returnId, reason: '撤销', eventTime: '2026-03-15T01:45:00.000Z' });
    expect(refused.status).to.equal(409);
    expect(refused.body.error.code).to.equal('REVERSAL_NOT_POSSIBLE');
    await expectLedgerClean(t);
  });

  it('an offline till that already paid for a held code: the cash is an over-payment until approval settles it', async () => {
    const code = unitCode(GLYPHOSATE);
    const record = { kind: 'return', id: newClientId(), eventTime: '2026-03-15T01:50:00.000Z',
      payload: { shopId: SHOP_A, returner: { phone: PHONE }, items: [{ scan: code, inspection: 'accepted', refundPaidFen: 100 }] } };
    const before = await balances(t);
    const sync = await post('/api/v1/sync/batches', 'clerk.qingcheng', { records: [record] });
    expect(sync.status, JSON.stringify(sync.body)).to.equal(200);
    const result = sync.body.results[0].result;
    expect(result.items[0]).to.include({ outcome: 'refund_held', refundFen: 0, refundPaidFen: 100, refundDifferenceFen: 100 });
    expect(result.items[0].flags).to.deep.equal(['unsold_code', 'refund_mismatch']);
    const heldRefundId = result.items[0].heldRefund.heldRefundId;
    const mid = await balances(t);
    expect(mid.refund_differences! - (before.refund_differences ?? 0)).to.equal(100);
    await expectLedgerClean(t);
    const approved = await decide(heldRefundId, { decision: 'approve' });
    expect(approved.body).to.include({ state: 'paid' });
    expect(approved.body.payout).to.include({ method: 'prepaid', amountFen: 100, shopId: SHOP_A });
    const after = await balances(t);
    expect(after.refund_differences).to.equal(before.refund_differences ?? 0);
    expect(after.policy_refunds! - (before.policy_refunds ?? 0)).to.equal(100);
    expect(after[`shop:${SHOP_A}`]! - (before[`shop:${SHOP_A}`] ?? 0)).to.equal(-100); // the cash the till paid, once
    expect((await payAt(SHOP_B, heldRefundId)).body.error.code).to.equal('HELD_REFUND_ALREADY_PAID');
    await expectLedgerClean(t);
  });

  it('under races: 8 returns of one never-sold code hold it once; 8 payouts of one approval pay once', async () => {
    const code = unitCode(GLYPHOSATE);
    const auth = await as('clerk.qingcheng');
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', auth)
      .send(returnBody({ returner: { phone: PHONE }, items: [{ scan: i % 2 ? traceUrl(code) : code, inspection: 'accepted' }] }))));
    expect(results.map((r) => r.status)).to.deep.equal(Array(8).fill(201));
    const outcomes = results.map((r) => r.body.items[0].outcome as string).sort();
    expect(outcomes).to.deep.equal(['refund_held', ...Array(7).fill('rejected')]);
    const held = await t.db.knex('held_refunds').where({ county_id: COUNTY, unit_code: code });
    expect(held).to.have.length(1);
    await decide(held[0].id, { decision: 'approve' });
    const admin = await as('admin');
    const pays = await Promise.all(Array.from({ length: 8 }, (_, i) => t.api().post(`/api/v1/counties/${COUNTY}/held-refund-payouts`).set('Authorization', i % 2 ? admin : auth)
      .send({ id: newClientId(), shopId: i % 2 ? SHOP_B : SHOP_A, heldRefundId: held[0].id, phone: PHONE })));
    const statuses = pays.map((p) => p.status).sort();
    expect(statuses).to.deep.equal([201, 409, 409, 409, 409, 409, 409, 409]);
    for (const p of pays.filter((x) => x.status === 409)) expect(p.body.error.code).to.equal('HELD_REFUND_ALREADY_PAID');
    expect(await t.db.knex('held_refund_payouts').where({ county_id: COUNTY, held_refund_id: held[0].id })).to.have.length(1);
    expect(await t.db.knex('ledger_transfers').where({ county_id: COUNTY, code: 'held_refund_paid' }).whereIn('ref_id', t.db.knex('held_refund_payouts').where({ county_id: COUNTY, held_refund_id: held[0].id }).select('id'))).to.have.length(1);
    await expectLedgerClean(t);
  });

  it('keeps the sale path unchanged: a sold code is refunded its deposit at once, unflagged', async () => {
    const code = unitCode(GLYPHOSATE);
    const sold = await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [code] }] }));
    expect(sold.status).to.equal(201);
    const res = await ret({ items: [{ scan: code, inspection: 'accepted' }] });
    expect(res.body.items[0]).to.include({ outcome: 'refunded', refundFen: 100 });
    expect(res.body.items[0].flags).to.deep.equal([]);
    expect(res.body.items[0].heldRefund).to.equal(null);
  });

  it('the review queue is for officials: clerks are refused, another county is out of scope', async () => {
    const clerk = await t.api().get(`/api/v1/counties/${COUNTY}/held-refunds`).set('Authorization', await as('clerk.qingcheng'));
    expect(clerk.status).to.equal(403);
    const province = await t.api().get(`/api/v1/counties/${COUNTY}/held-refunds`).set('Authorization', await as('sichuan.official'));
    expect(province.status).to.equal(403);
    expect(PHONE_E164).to.contain(PHONE);
  });
});
