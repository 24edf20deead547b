// The farmer's receipt opens the sale at any shop of the county (issue 14): a terminal sends the
// number it printed with the sale; GET /counties/{id}/sale-receipts/{receiptNo} finds it, with what can
// still come back, names and phones masked, and never across counties.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { COUNTY, GLYPHOSATE, SHOP_A, SHOP_B, returnBody, saleBody, unitCode } from './ledger-fixtures.js';
import { OTHER_COUNTY_ID as OTHER_COUNTY } from '../../support/other-county.js';

describe('sales by printed receipt number', () => {
  const t = useTestApp();
  const get = async (no: string, who = 'clerk.qingcheng', county = COUNTY) =>
    t.api().get(`/api/v1/counties/${county}/sale-receipts/${no}`).set('Authorization', await t.token(who));

  it('finds a sale of another shop by its receipt number, with each code’s state and the counted containers outstanding', async () => {
    const codes = [unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)];
    const sale = saleBody({ shopId: SHOP_B, receiptNo: 'XS20260315-B0B0-0007', eventTime: t.clock.now().toISOString(), lines: [{ productId: GLYPHOSATE.id, quantity: 5, unitCodes: codes }] });
    const sold = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await t.token('admin')).send(sale);
    expect(sold.status, JSON.stringify(sold.body)).to.equal(201);
    // One code comes back at shop A.
    const back = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', await t.token('clerk.qingcheng')).send(returnBody({ eventTime: t.clock.now().toISOString(), items: [{ scan: codes[0], inspection: 'accepted' }] }));
    expect(back.status, JSON.stringify(back.body)).to.equal(201);

    const res = await get('XS20260315-B0B0-0007');
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.items).to.have.length(1);
    const s = res.body.items[0];
    expect(s).to.include({ saleId: sale.id, receiptNo: 'XS20260315-B0B0-0007', shopId: SHOP_B, countyId: COUNTY });
    expect(s.purchaser.phoneMasked).to.contain('*');
    expect(JSON.stringify(res.body)).to.not.contain('17460000999');
    const [line] = s.lines;
    expect(line).to.include({ productId: GLYPHOSATE.id, quantity: 5, outstandingContainers: 3 });
    expect(line.outstandingCounted, 'the deprecated old name, kept one release').to.equal(3);
    expect(line.packSizeLabel).to.be.a('string').and.not.equal('');
    const states = Object.fromEntries(line.unitCodes.map((u: { unitCode: string; state: string }) => [u.unitCode, u.state]));
    expect(states[codes[0]!]).to.not.equal('outstanding');
    expect(states[codes[1]!]).to.equal('outstanding');
  });

  it('answers an empty list for an unknown number, refuses a malformed one, and never looks across counties', async () => {
    expect((await get('XS-NO-SUCH-0001')).body).to.deep.equal({ items: [] });
    expect((await get('XS%20bad')).status).to.equal(400);
    const res = await get('XS20260315-B0B0-0007', 'clerk.qingcheng', OTHER_COUNTY);
    expect(res.status).to.equal(403);
    expect(res.body.error.code).to.equal('OUT_OF_SCOPE');
  });

  it('keeps a sale without a receipt number (a clerk’s own entry) as before', async () => {
    const res = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await t.token('clerk.qingcheng')).send(saleBody({ shopId: SHOP_A, eventTime: t.clock.now().toISOString() }));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect((await t.db.knex('sales').where({ county_id: COUNTY, id: res.body.saleId }).first()).receipt_no).to.equal(null);
  });

  it('finds a sale that arrived in a sync batch (the set-based sale run keeps the receipt number)', async () => {
    const { id, eventTime, ...payload } = saleBody({ shopId: SHOP_A, receiptNo: 'XS20260315-A0A0-0042', eventTime: t.clock.now().toISOString() });
    const res = await t.api().post('/api/v1/sync/batches').set('Authorization', await t.token('clerk.qingcheng'))
      .send({ records: [{ kind: 'sale', id, eventTime, payload }] });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.results[0].status, JSON.stringify(res.body)).to.equal('applied');
    const found = await get('XS20260315-A0A0-0042');
    expect(found.body.items.map((s: { saleId: string }) => s.saleId)).to.deep.equal([id]);
  });
});
