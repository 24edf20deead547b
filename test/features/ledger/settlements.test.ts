import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { compile } from '../../../src/http/validation.js';
import { FEED_PAGE } from '../../../src/shared/schemas/event-schemas.js';
import { COUNTY, GLYPHOSATE, GLYPHOSATE_5L, SHOP_A, SHOP_B, countyScoped, expectLedgerClean, freshToken, returnBody, saleBody, unitCode } from './ledger-fixtures.js';

describe('settlement statements and payments (figures by hand)', () => {
  const t = useTestApp();
  const tokens = new Map<string, string>();
  const token = async (who: string) => tokens.get(who) ?? tokens.set(who, await freshToken(t, who)).get(who)!;
  const setClock = (iso: string) => { t.clock.set(iso); tokens.clear(); };
  /** A top-level write goes to its county path (countyScoped), the county out of the body. */
  const post = async (path: string, who: string, body: unknown) => { const c = countyScoped(path, body); return t.api().post(c.path).set('Authorization', await token(who)).send(c.body as object); };
  const statement = async (period: string, asOf?: string) => {
    const res = await t.api().get(`/api/v1/counties/${COUNTY}/settlements/statements/${period}${asOf ? `?asOf=${asOf}` : ''}`).set('Authorization', await token('qingshen.official'));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };
  const line = (s: { shops: Array<{ shopId: string }> }, shopId: string) => s.shops.find((l) => l.shopId === shopId) as unknown as Record<string, number>;
  const c1 = unitCode(GLYPHOSATE);
  const c2 = unitCode(GLYPHOSATE_5L);

  before(async () => {
    // A sells 3 × 1 L (100 fen each), one with code c1; B sells one 5 L (200 fen) with c2.
    expect((await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ eventTime: '2026-03-10T02:00:00Z', lines: [{ productId: GLYPHOSATE.id, quantity: 3, unitCodes: [c1] }] }))).status).to.equal(201);
    expect((await post('/api/v1/sales', 'admin', saleBody({ countyId: COUNTY, shopId: SHOP_B, eventTime: '2026-03-11T02:00:00Z', lines: [{ productId: GLYPHOSATE_5L.id, quantity: 1, unitCodes: [c2] }] }))).status).to.equal(201);
    // c1 comes back at B, c2 at A: each shop refunds a deposit the other collected.
    expect((await post('/api/v1/returns', 'admin', returnBody({ countyId: COUNTY, shopId: SHOP_B, eventTime: '2026-03-12T02:00:00Z', items: [{ scan: c1, inspection: 'accepted' }] }))).body.totalRefundFen).to.equal(100);
    expect((await post('/api/v1/returns', 'clerk.qingcheng', returnBody({ eventTime: '2026-03-12T03:00:00Z', items: [{ scan: c2, inspection: 'accepted' }] }))).body.totalRefundFen).to.equal(200);
  });

  it('nets each shop’s deposits collected against refunds paid', async () => {
    const s = await statement('2026-03');
    expect(s.from).to.equal('2026-02-28T16:00:00.000Z'); // 1 March, Beijing time
    expect(line(s, SHOP_A)).to.include({ depositsCollectedFen: 300, refundsPaidFen: 200, refundsForOtherShopsDepositsFen: 200, netFen: 100, outstandingFen: 100, lateEvents: 0 });
    expect(line(s, SHOP_B)).to.include({ depositsCollectedFen: 200, refundsPaidFen: 100, refundsForOtherShopsDepositsFen: 100, netFen: 100 });
    expect(s.totals).to.include({ depositsCollectedFen: 500, refundsPaidFen: 300, netFen: 200 });
    expect((await t.api().get(`/api/v1/counties/${COUNTY}/settlements/statements/2026-W11`).set('Authorization', await token('qingshen.official'))).body.error.code).to.equal('INVALID_PERIOD');
  });

  it('records a payment that closes the statement, only once the period has ended and for the exact amount', async () => {
    const pay = (over: Record<string, unknown>) => post('/api/v1/settlements', 'qingshen.official', { id: newClientId(), shopId: SHOP_A, period: '2026-03', amountFen: 100, direction: 'from_shop', method: 'bank', reference: 'BK-1', ...over });
    expect((await pay({})).body.error.code).to.equal('PERIOD_NOT_ENDED');
    setClock('2026-04-02T02:00:00.000Z');
    expect((await pay({ amountFen: 90 })).body.error.code).to.equal('SETTLEMENT_AMOUNT_MISMATCH');
    expect((await pay({ direction: 'to_shop' })).body.error.code).to.equal('SETTLEMENT_AMOUNT_MISMATCH');
    const ok = await pay({});
    expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
    // The payment is in the county's event feed, written in its transaction (docs/events.md).
    const feed = await t.api().get(`/api/v1/counties/${COUNTY}/events`).query({ limit: 1000 }).set('Authorization', await token('qingshen.official'));
    const validPage = compile(FEED_PAGE);
    expect(validPage(feed.body), JSON.stringify(validPage.errors)).to.equal(true);
    const ev = feed.body.items.find((e: { id: string }) => e.id === `settlement:${ok.body.settlementId}`);
    expect(ev).to.deep.include({ type: 'cn.agrireturn.settlement.recorded', subject: `settlements/${ok.body.settlementId}` });
    expect(ev.data).to.deep.include({ shopId: SHOP_A, period: '2026-03', direction: 'from_shop', amountFen: 100, method: 'bank', reference: 'BK-1' });
    expect((await pay({})).body.error.code).to.equal('NOTHING_TO_SETTLE');
    expect((await post('/api/v1/settlements', 'clerk.qingcheng', { id: newClientId(), shopId: SHOP_B, period: '2026-03', amountFen: 100, direction: 'from_shop', method: 'cash' })).body.error.code).to.equal('FORBIDDEN');
    const s = await statement('2026-03');
    expect(line(s, SHOP_A)).to.include({ netFen: 100, settledFen: 100, outstandingFen: 0 });
    await expectLedgerClean(t);
  });

  it('puts a late offline sale in the period of its event time, shows it as late, and keeps earlier cut-offs reproducible', async () => {
    const cutOff = '2026-04-02T12:00:00.000Z';
    const earlier = await statement('2026-03', cutOff);
    setClock('2026-04-03T02:00:00.000Z');
    // 31 March 18:00 Beijing: March. 1 April 00:30 Beijing (31 March 16:30 UTC): April.
    expect((await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ eventTime: '2026-03-31T10:00:00Z', lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] }))).status).to.equal(201);
    expect((await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ eventTime: '2026-03-31T16:30:00Z', lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] }))).status).to.equal(201);
    const now = await statement('2026-03');
    expect(line(now, SHOP_A)).to.include({ depositsCollectedFen: 400, lateDepositsFen: 100, lateEvents: 1, settledFen: 100, outstandingFen: 100 });
    expect(await statement('2026-03', cutOff)).to.deep.equal(earlier);
    expect(line(await statement('2026-04'), SHOP_A)).to.include({ depositsCollectedFen: 100 });
    const pay = await post('/api/v1/settlements', 'qingshen.official', { id: newClientId(), shopId: SHOP_A, period: '2026-03', amountFen: 100, direction: 'from_shop', method: 'bank', reference: 'BK-2' });
    expect(pay.status).to.equal(201);
    await expectLedgerClean(t);
  });
});
