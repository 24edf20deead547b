// Sales and returns queue the farmer's SMS in their own transaction: one message per event, never
// twice on a retry, none for farmers who opted out, and the refund text says what was actually paid.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { COUNTY, GLYPHOSATE, countyScoped, returnBody, saleBody, unitCode } from '../ledger/ledger-fixtures.js';

describe('sale and refund notifications from the money core', () => {
  const t = useTestApp();
  const post = async (path: string, body: unknown) => { const c = countyScoped(path, body); return t.api().post(c.path).set('Authorization', await t.token('clerk.qingcheng')).send(c.body as object); };
  const outbox = (eventKey: string) => t.db.knex('sms_outbox').where({ county_id: COUNTY }).whereLike('event_key', `${eventKey}#%`).orderBy('part_no');

  it('queues one deposit message per sale, also when the sale is retried', async () => {
    const body = saleBody({ purchaser: { phone: '17460001111', name: '周大明' }, lines: [{ productId: GLYPHOSATE.id, quantity: 3 }] });
    const first = await post('/api/v1/sales', body);
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    const retry = await post('/api/v1/sales', body);
    expect(retry.status).to.equal(200);
    const rows = await outbox(`sale:${body.id}`);
    expect(rows).to.have.length.greaterThan(0);
    expect(rows.every((r: { phone_e164: string }) => r.phone_e164 === '+8617460001111')).to.equal(true);
    expect(rows.map((r: { body: string }) => r.body).join('')).to.contain('3.00');
    expect(new Set(rows.map((r: { part_no: number }) => r.part_no)).size).to.equal(rows.length);
  });

  it('tells the farmer the refund actually paid out', async () => {
    const code = unitCode(GLYPHOSATE);
    await post('/api/v1/sales', saleBody({ purchaser: { phone: '17460002222', name: '吴小红' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [code] }] }));
    const ret = returnBody({ returner: { phone: '17460002222' }, items: [{ scan: code, inspection: 'accepted', refundPaidFen: 90 }] });
    const res = await post('/api/v1/returns', ret);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const text = (await outbox(`return:${ret.id}`)).map((r: { body: string }) => r.body).join('');
    expect(text).to.contain('0.90');
  });

  it('queues nothing for a farmer who opted out, and nothing when the sale is refused', async () => {
    const official = await t.token('qingshen.official');
    const farmer = await post('/api/v1/counties/511425/farmers', { name: '郑静', phone: '17460003333' });
    expect(farmer.status).to.equal(201);
    const off = await t.api().patch(`/api/v1/counties/511425/farmers/${farmer.body.id}`).set('Authorization', official).send({ version: 1, smsOptOut: true });
    expect(off.status).to.equal(200);
    const sale = saleBody({ purchaser: { phone: '17460003333' } });
    expect((await post('/api/v1/sales', sale)).status).to.equal(201);
    expect(await outbox(`sale:${sale.id}`)).to.have.length(0);

    const refused = saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: ['123'] }] });
    expect((await post('/api/v1/sales', refused)).status).to.be.within(400, 499);
    expect(await outbox(`sale:${refused.id}`)).to.have.length(0);
  });
});
