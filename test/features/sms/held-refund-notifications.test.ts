// Held refunds of codes nobody sold tell the farmer by SMS (issue 11, part 3): "under review" when the
// return holds the refund, then the decision (approved: collect at any shop of the county; declined:
// the reason's category and the county office) and a mobile payment. Each is queued once in the
// transaction of its cause, also when the request is retried, in the farmer's language; a farmer who
// opted out gets none, and a refused request queues nothing.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { fitsOneSms } from '../../../src/features/sms/sms-text.js';
import { COUNTY, countyScoped, GLYPHOSATE, GLYPHOSATE_5L, SHOP_B, returnBody, unitCode } from '../ledger/ledger-fixtures.js';

type OutboxRow = { body: string; phone_e164: string; kind: string; part_no: number; language: string };

describe('held refund notifications', () => {
  const t = useTestApp();
  // The county paths (the deprecated top-level aliases have their own test: ledger/county-paths.test.ts).
  const post = async (path: string, who: string, body: unknown) => { const c = countyScoped(path, body); return t.api().post(c.path).set('Authorization', await t.token(who)).send(c.body as object); };
  const outbox = async (eventKey: string) =>
    (await t.db.knex('sms_outbox').where({ county_id: COUNTY }).whereLike('event_key', `${eventKey}#%`).orderBy('part_no')) as OutboxRow[];
  const decisionPath = (id: string) => `/api/v1/counties/${COUNTY}/held-refunds/${id}/decision`;
  /** Registers a farmer (optionally English, optionally opted out) and answers nothing. */
  const farmer = async (phone: string, opts: { language?: 'zh' | 'en'; optOut?: boolean } = {}) => {
    const res = await post(`/api/v1/counties/${COUNTY}/farmers`, 'clerk.qingcheng', { name: '持码农户', phone, ...(opts.language ? { language: opts.language } : {}) });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    if (opts.optOut) {
      const off = await t.api().patch(`/api/v1/counties/${COUNTY}/farmers/${res.body.id}`).set('Authorization', await t.token('qingshen.official')).send({ version: 1, smsOptOut: true });
      expect(off.status, JSON.stringify(off.body)).to.equal(200);
    }
  };
  /** Returns never-sold codes for a phone; answers the return body, its answer and the held refund ids. */
  const hold = async (phone: string, products = [GLYPHOSATE]) => {
    const codes = products.map((p) => unitCode(p));
    const body = returnBody({ returner: { phone, name: '持码农户' }, items: codes.map((scan) => ({ scan, inspection: 'accepted' })) });
    const res = await post('/api/v1/returns', 'clerk.qingcheng', body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return { body, res, codes, heldIds: res.body.items.map((i: { heldRefund: { heldRefundId: string } }) => i.heldRefund.heldRefundId) as string[] };
  };

  it('a held refund: one "under review" SMS per return, also on a retried return, with the total and no codes', async () => {
    const phone = '17460007101';
    // Refused (an unregistered phone without a name): nothing written, nothing queued.
    const refused = returnBody({ returner: { phone }, items: [{ scan: unitCode(GLYPHOSATE), inspection: 'accepted' }] });
    expect((await post('/api/v1/returns', 'clerk.qingcheng', refused)).status).to.equal(422);
    expect(await outbox(`return-held:${refused.id}`)).to.have.length(0);
    const { body, res, codes } = await hold(phone, [GLYPHOSATE, GLYPHOSATE_5L]);
    expect(res.body.totalHeldFen).to.equal(300);
    const retry = await post('/api/v1/returns', 'clerk.qingcheng', body);
    expect(retry.status).to.equal(200);
    const rows = await outbox(`return-held:${body.id}`);
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ phone_e164: `+86${phone}`, kind: 'refund', language: 'zh' });
    expect(rows[0]!.body).to.equal('您退还的2个包装，退款¥3.00正在审核，审核结果将短信通知您。');
    for (const c of codes) expect(rows[0]!.body).to.not.contain(c);
    expect(fitsOneSms(rows[0]!.body)).to.equal(true);
    // Nothing was paid, so there is no "refund paid" message.
    expect(await outbox(`return:${body.id}`)).to.have.length(0);
  });

  it('approval in English: collect at any shop of the county, once even when the decision is retried; a mobile payment says so once; a shop payout adds nothing', async () => {
    const phone = '17460007102';
    await farmer(phone, { language: 'en' });
    const { body, heldIds } = await hold(phone);
    const [held] = await outbox(`return-held:${body.id}`);
    expect(held!.body).to.equal('Your refund of ¥1.00 for 1 container is under review; you will get an SMS when it is decided.');
    expect(held!.language).to.equal('en');

    const decision = { id: newClientId(), decision: 'approve' };
    expect((await post(decisionPath(heldIds[0]!), 'qingshen.official', decision)).status).to.equal(201);
    expect((await post(decisionPath(heldIds[0]!), 'qingshen.official', decision)).status).to.equal(200);
    const approved = await outbox(`held-decision:${heldIds[0]}`);
    expect(approved).to.have.length(1);
    expect(approved[0]!.body).to.equal('Your refund of ¥1.00 is approved. Collect it at any shop in Qingshen County; give this phone number.');
    expect(approved[0]).to.include({ phone_e164: `+86${phone}`, language: 'en' });

    const pay = { id: newClientId(), reference: 'WX7102' };
    const path = `/api/v1/counties/${COUNTY}/held-refunds/${heldIds[0]}/mobile-payment`;
    expect((await post(path, 'qingshen.official', pay)).status).to.equal(201);
    expect((await post(path, 'qingshen.official', pay)).status).to.equal(200);
    const paid = await outbox(`held-paid:${heldIds[0]}`);
    expect(paid).to.have.length(1);
    expect(paid[0]!.body).to.contain('¥1.00').and.to.contain('mobile payment');
    expect(fitsOneSms(paid[0]!.body)).to.equal(true);

    // Paid in cash at a shop: the approval SMS already told the farmer; the counter queues nothing.
    const other = await hold(phone);
    expect((await post(decisionPath(other.heldIds[0]!), 'qingshen.official', { id: newClientId(), decision: 'approve' })).status).to.equal(201);
    const cash = await post('/api/v1/held-refund-payouts', 'admin', { id: newClientId(), countyId: COUNTY, shopId: SHOP_B, heldRefundId: other.heldIds[0], phone });
    expect(cash.status, JSON.stringify(cash.body)).to.equal(201);
    expect(await outbox(`held-paid:${other.heldIds[0]}`)).to.have.length(0);
    expect(await outbox(`held-decision:${other.heldIds[0]}`)).to.have.length(1);
  });

  it('decline in Chinese: the reason category and the county office, never the official’s own words; refused requests queue nothing', async () => {
    const phone = '17460007103';
    const { heldIds } = await hold(phone);
    const id = heldIds[0]!;
    // Refused: a decline without a reason changes nothing and queues nothing.
    const noReason = await post(decisionPath(id), 'qingshen.official', { id: newClientId(), decision: 'decline' });
    expect(noReason.status).to.equal(422);
    expect(await outbox(`held-decision:${id}`)).to.have.length(0);
    // Refused: a mobile payment of a held (undecided) refund.
    const early = await post(`/api/v1/counties/${COUNTY}/held-refunds/${id}/mobile-payment`, 'qingshen.official', { id: newClientId(), reference: 'WX7103' });
    expect(early.status).to.equal(409);
    expect(await outbox(`held-paid:${id}`)).to.have.length(0);

    const decline = { id: newClientId(), decision: 'decline', reason: '该户王某某多次异常退码' };
    expect((await post(decisionPath(id), 'qingshen.official', decline)).status).to.equal(201);
    expect((await post(decisionPath(id), 'qingshen.official', decline)).status).to.equal(200);
    // Refused: a second decision.
    const again = await post(decisionPath(id), 'qingshen.official', { id: newClientId(), decision: 'approve' });
    expect(again.status).to.equal(409);
    const rows = await outbox(`held-decision:${id}`);
    expect(rows).to.have.length(1);
    expect(rows[0]!.body).to.equal('您的退款¥1.00未获批准：包装上的码没有销售记录。如有疑问请联系青神县农业农村局。');
    expect(rows[0]!.body).to.not.contain('王某某');
    expect(rows[0]).to.include({ phone_e164: `+86${phone}`, language: 'zh' });
  });

  it('a farmer who opted out gets none of them', async () => {
    const phone = '17460007104';
    await farmer(phone, { optOut: true });
    const { body, heldIds } = await hold(phone, [GLYPHOSATE, GLYPHOSATE]);
    expect((await post(decisionPath(heldIds[0]!), 'qingshen.official', { id: newClientId(), decision: 'approve' })).status).to.equal(201);
    expect((await post(decisionPath(heldIds[1]!), 'qingshen.official', { id: newClientId(), decision: 'decline', reason: '无销售记录' })).status).to.equal(201);
    expect((await post(`/api/v1/counties/${COUNTY}/held-refunds/${heldIds[0]}/mobile-payment`, 'qingshen.official', { id: newClientId(), reference: 'WX7104' })).status).to.equal(201);
    expect(await outbox(`return-held:${body.id}`)).to.have.length(0);
    expect(await outbox(`held-decision:${heldIds[0]}`)).to.have.length(0);
    expect(await outbox(`held-decision:${heldIds[1]}`)).to.have.length(0);
    expect(await outbox(`held-paid:${heldIds[0]}`)).to.have.length(0);
    expect(await t.db.knex('sms_outbox').where({ county_id: COUNTY, phone_e164: `+86${phone}` })).to.have.length(0);
  });
});
