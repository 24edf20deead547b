// POST /api/v1/sync/batches: per-record results through the sale and return services; a bad record
// never blocks the others; re-sending is harmless; late records land on their event day.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { KIND_HANDLERS } from '../../../src/features/sync/sync-service.js';
import { COUNTY, GLYPHOSATE, SHOP_A, SHOP_B, unitCode } from '../ledger/ledger-fixtures.js';

describe('sync batches', () => {
  const t = useTestApp();
  const sale = (eventTime: string, over: Record<string, unknown> = {}) => ({
    kind: 'sale', id: newClientId(), eventTime,
    payload: { shopId: SHOP_A, purchaser: { phone: '17460000777', name: '同步农户' }, lines: [{ productId: GLYPHOSATE.id, quantity: 2, depositChargedFen: 100 }], ...over },
  });
  const send = async (records: unknown[]) => t.api().post('/api/v1/sync/batches').set('Authorization', await t.token('clerk.qingcheng')).send({ records });

  it('applies each record, refuses bad ones with their code, answers re-sends with the stored result', async () => {
    const good1 = sale('2026-02-10T03:00:00.000Z');
    const bad = sale('2026-03-15T01:00:00.000Z', { lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: ['not a code'] }] });
    const otherShop = sale('2026-03-15T01:00:00.000Z', { shopId: SHOP_B });
    const code = unitCode(GLYPHOSATE);
    const good2 = sale('2026-03-15T01:10:00.000Z', { lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [code], depositChargedFen: 100 }] });
    const ret = { kind: 'return', id: newClientId(), eventTime: '2026-03-15T01:20:00.000Z', payload: { shopId: SHOP_A, items: [{ scan: code, inspection: 'accepted' }] } };
    const res = await send([good1, bad, otherShop, good2, ret]);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.results.map((r: { status: string }) => r.status)).to.deep.equal(['applied', 'refused', 'refused', 'applied', 'applied']);
    expect(res.body.results[1].error.code).to.equal('UNIT_CODE_INVALID');
    expect(res.body.results[2].error.code).to.equal('OUT_OF_SCOPE');
    expect(res.body.results[4].result.totalRefundFen).to.equal(100);

    const again = await send([good1, good2, ret]);
    expect(again.body.results.map((r: { status: string }) => r.status)).to.deep.equal(['duplicate', 'duplicate', 'duplicate']);
    expect(again.body.results[0].result).to.deep.equal(res.body.results[0].result);

    const changed = { ...good1, payload: { ...good1.payload, lines: [{ productId: GLYPHOSATE.id, quantity: 3, depositChargedFen: 100 }] } };
    const conflict = await send([changed]);
    expect(conflict.body.results[0].status).to.equal('conflict');
    expect(conflict.body.results[0].error.code).to.equal('IDEMPOTENCY_CONFLICT');

    // The late sale is booked on its own business day, not the day it arrived.
    const row = await t.db.knex('sales').where({ county_id: COUNTY, id: good1.id }).first('business_day');
    expect(String(row.business_day instanceof Date ? row.business_day.toISOString().slice(0, 10) : row.business_day)).to.equal('2026-02-10');
    expect(await t.db.knex('sales').where({ county_id: COUNTY }).whereIn('id', [good1.id, good2.id, bad.id]).count({ n: '*' }).first()).to.deep.equal({ n: 2 });
  });

  it('stores drawer reports once, refuses a bag event without its action, and keeps kinds this server lacks for later', async () => {
    const report = { kind: 'drawer-report', id: newClientId(), eventTime: '2026-03-15T01:00:00.000Z', payload: {
      shopId: SHOP_A, businessDay: '2026-03-15', depositsTakenFen: 300, refundsPaidFen: 100, refundsPaidCashFen: 100, netCashExpectedFen: 200,
      salesCount: 2, containersSold: 3, returnsCount: 1, containersAccepted: 1, containersRejected: 0 } };
    const bag = { kind: 'bag-event', id: newClientId(), eventTime: '2026-03-15T01:00:00.000Z', payload: {} };
    const res = await send([report, bag, report]);
    expect(res.body.results.map((r: { status: string }) => r.status)).to.deep.equal(['applied', 'refused', 'duplicate']);
    expect(res.body.results[1].error.code).to.equal('VALIDATION_FAILED');
    expect(Number((await t.db.knex('drawer_reports').count({ n: '*' }).first())!.n)).to.equal(1);
    // An older server without the bag handler answers retry: the terminal keeps the record.
    const handler = KIND_HANDLERS['bag-event'];
    delete KIND_HANDLERS['bag-event'];
    try {
      const later = await send([{ ...bag, id: newClientId(), payload: { action: 'open', shopId: SHOP_A, material: 'HDPE' } }]);
      expect(later.body.results[0].status).to.equal('retry');
      expect(later.body.results[0].error.code).to.equal('SYNC_KIND_UNAVAILABLE');
    } finally {
      KIND_HANDLERS['bag-event'] = handler;
    }
  });

  it('refuses a malformed batch whole, with the record named', async () => {
    const res = await send([{ kind: 'sale', id: 'nope', eventTime: 'x', payload: {} }]);
    expect(res.status).to.equal(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field)).to.include('/body/records/0/id');
  });

  it('gives a terminal-shaped snapshot to a clerk', async () => {
    const res = await t.api().get('/api/v1/sync/snapshot').set('Authorization', await t.token('clerk.qingcheng'));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.shop.id).to.equal(SHOP_A);
    expect(res.body.products.length).to.be.greaterThan(10);
    expect(res.body.farmersIncluded).to.equal(true);
    expect(res.body.depositSchedules.length).to.be.greaterThan(0);
    const official = await t.api().get('/api/v1/sync/snapshot').set('Authorization', await t.token('qingshen.official'));
    expect(official.status).to.equal(200);
    expect(official.body.farmers).to.deep.equal([]);
  });
});
