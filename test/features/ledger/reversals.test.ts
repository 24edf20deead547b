import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { COUNTY, GLYPHOSATE, SHOP_A, SHOP_B, balances, expectLedgerClean, freshToken, returnBody, saleBody, unitCode, countyScoped } from './ledger-fixtures.js';

describe('reversals', () => {
  const t = useTestApp();
  const post = async (path: string, who: string, body: unknown) => { const c = countyScoped(path, body); return t.api().post(c.path).set('Authorization', await t.token(who)).send(c.body as object); };
  const reversal = (targetType: string, targetId: string, over: Record<string, unknown> = {}) => ({ id: newClientId(), targetType, targetId, reason: '录错了', ...over });

  it('lets a clerk void a sale of the same business day, by new transfers, once', async () => {
    const before = await balances(t);
    const code = unitCode(GLYPHOSATE);
    const sale = (await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ eventTime: '2026-03-15T01:00:00.000Z', lines: [{ productId: GLYPHOSATE.id, quantity: 3, unitCodes: [code] }] }))).body;
    const body = reversal('sale', sale.saleId);
    const res = await post('/api/v1/reversals', 'clerk.qingcheng', body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.transfers).to.have.length(1);
    expect(res.body.transfers[0].amountFen).to.equal(300);
    const after = await balances(t);
    expect(after.deposits_outstanding).to.equal(before.deposits_outstanding ?? 0);
    expect(Object.values(after).filter((v) => v !== 0)).to.deep.equal([]);
    expect((await post('/api/v1/reversals', 'clerk.qingcheng', body)).status).to.equal(200);
    const again = await post('/api/v1/reversals', 'clerk.qingcheng', reversal('sale', sale.saleId));
    expect(again.body.error.code).to.equal('ALREADY_REVERSED');
    // The voided unit code may be sold again.
    expect((await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [code] }] }))).status).to.equal(201);
    await expectLedgerClean(t);
  });

  it('leaves records the server stored on earlier business days to county officials', async () => {
    t.clock.set('2026-03-14T02:00:00.000Z');
    const sale = (await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await freshToken(t, 'clerk.qingcheng')).send(saleBody({ eventTime: '2026-03-14T01:00:00.000Z' }))).body;
    t.clock.set('2026-03-15T02:00:00.000Z');
    const clerk = await post('/api/v1/reversals', 'clerk.qingcheng', reversal('sale', sale.saleId));
    expect(clerk.status).to.equal(403);
    expect(clerk.body.error.code).to.equal('REVERSAL_WINDOW_CLOSED');
    const official = await post('/api/v1/reversals', 'qingshen.official', reversal('sale', sale.saleId));
    expect(official.status, JSON.stringify(official.body)).to.equal(201);
    const otherCounty = await post('/api/v1/reversals', 'jiange.official', reversal('sale', sale.saleId, { countyId: '511425' }));
    expect(otherCounty.body.error.code).to.equal('OUT_OF_SCOPE');
  });

  it('refuses a clerk reversing another shop’s record, and voiding a sale whose containers came back', async () => {
    const code = unitCode(GLYPHOSATE);
    const sale = (await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [code] }] }))).body;
    const ret = (await post('/api/v1/returns', 'admin', returnBody({ countyId: '511425', shopId: SHOP_B, items: [{ scan: code, inspection: 'accepted' }] }))).body;
    const foreign = await post('/api/v1/reversals', 'clerk.qingcheng', reversal('return', ret.returnId));
    expect(foreign.body.error.code).to.equal('OUT_OF_SCOPE');
    const blocked = await post('/api/v1/reversals', 'qingshen.official', reversal('sale', sale.saleId));
    expect(blocked.body.error.code).to.equal('REVERSAL_NOT_POSSIBLE');
    // Reversing the return puts the unit back: it can be refunded again, and then the sale still cannot be voided.
    expect((await post('/api/v1/reversals', 'qingshen.official', reversal('return', ret.returnId))).status).to.equal(201);
    const again = await post('/api/v1/returns', 'clerk.qingcheng', returnBody({ items: [{ scan: code, inspection: 'accepted' }] }));
    expect(again.body.totalRefundFen).to.equal(100);
    await expectLedgerClean(t);
  });

  it('restores FIFO lots when a GTIN return is reversed', async () => {
    await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ purchaser: { phone: '17460000777', name: '赵六' }, lines: [{ productId: GLYPHOSATE.id, quantity: 2 }] }));
    const ret = (await post('/api/v1/returns', 'clerk.qingcheng', returnBody({ returner: { phone: '17460000777' }, items: [{ productId: GLYPHOSATE.id, quantity: 2, inspection: 'accepted' }] }))).body;
    expect(ret.items[0].sources).to.deep.equal([{ source: 'lot', quantity: 2, amountFen: 200 }]);
    expect((await post('/api/v1/reversals', 'clerk.qingcheng', reversal('return', ret.returnId))).status).to.equal(201);
    const lot = await t.db.knex('deposit_lots').where({ farmer_id: ret.returner.farmerId }).first();
    expect(lot.outstanding).to.equal(2);
    await expectLedgerClean(t);
  });
  describe('the window is judged by the server’s record time, never by the event time the clerk sends', () => {
    // A sale recorded at 09:00 Beijing on 15 March; the server clock is 10:00 Beijing on 16 March.
    const NEXT_MORNING = '2026-03-16T02:00:00.000Z';
    let sale: { saleId: string };
    let clerk: string;
    before(async () => {
      t.clock.set('2026-03-15T02:00:00.000Z');
      sale = (await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ eventTime: '2026-03-15T01:00:00.000Z' }))).body;
      t.clock.set(NEXT_MORNING);
      clerk = await freshToken(t, 'clerk.qingcheng');
    });
    after(() => t.clock.set('2026-03-15T02:00:00.000Z'));
    const send = (body: unknown) => t.api().post(`/api/v1/counties/${COUNTY}/reversals`).set('Authorization', clerk).send(body as object);

    it('refuses a clerk’s reversal the next day, whatever event time it states', async () => {
      const res = await send(reversal('sale', sale.saleId, { eventTime: '2026-03-16T01:30:00.000Z' })); // 09:30 on the 16th
      expect(res.status).to.equal(403);
      expect(res.body.error.code).to.equal('REVERSAL_WINDOW_CLOSED');
      expect(res.body.error.details[0].code).to.equal('recorded_earlier');
      expect((await send(reversal('sale', sale.saleId))).body.error.code).to.equal('REVERSAL_WINDOW_CLOSED');
      // A same-day event time decides nothing for a clerk: the server stored the sale yesterday.
      const forged = await send(reversal('sale', sale.saleId, { eventTime: '2026-03-15T10:00:00.000Z' }));
      expect(forged.status).to.equal(403);
      expect(forged.body.error.code).to.equal('REVERSAL_WINDOW_CLOSED');
    });

    it('refuses event times in the future (beyond clock skew) and before the record', async () => {
      const future = await send(reversal('sale', sale.saleId, { eventTime: '2026-03-16T03:00:00.000Z' }));
      expect(future.status).to.equal(422);
      expect(future.body.error.code).to.equal('EVENT_TIME_IN_FUTURE');
      const early = await send(reversal('sale', sale.saleId, { eventTime: '2026-03-15T00:30:00.000Z' }));
      expect(early.status).to.equal(400);
      expect(early.body.error.details[0].code).to.equal('before_target');
    });

    it('judges a clerk’s synced reversal record by record time too', async () => {
      const today = (await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(saleBody({ eventTime: '2026-03-16T01:00:00.000Z' }))).body;
      const record = (targetId: string, eventTime: string) => ({ kind: 'reversal', id: newClientId(), eventTime, payload: { targetType: 'sale', targetId, reason: '录错了' } });
      const res = await t.api().post('/api/v1/sync/batches').set('Authorization', clerk)
        .send({ records: [record(sale.saleId, '2026-03-15T09:00:00.000Z'), record(today.saleId, '2026-03-16T01:30:00.000Z')] });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.results.map((r: { status: string }) => r.status)).to.deep.equal(['refused', 'applied']);
      expect(res.body.results[0].error.code).to.equal('REVERSAL_WINDOW_CLOSED');
      expect(res.body.results[1].result.shopId).to.equal(SHOP_A);
      await expectLedgerClean(t);
    });
  });
});
