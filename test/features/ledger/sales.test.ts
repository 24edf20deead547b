import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { GLYPHOSATE, GLYPHOSATE_5L, SHOP_A, SHOP_B, balances, expectLedgerClean, saleBody, traceUrl, unitCode, countyScoped, COUNTY } from './ledger-fixtures.js';
import { OTHER_COUNTY_ID } from '../../support/other-county.js';

describe('sales with deposit', () => {
  const t = useTestApp();
  const post = async (who: string, body: unknown) => { const c = countyScoped('/api/v1/sales', body); return t.api().post(c.path).set('Authorization', await t.token(who)).send(c.body as object); };

  it('takes the deposit from the schedule in force and answers with a receipt', async () => {
    const code = unitCode(GLYPHOSATE);
    const body = saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 3, unitCodes: [traceUrl(code)] }, { productId: GLYPHOSATE_5L.id, quantity: 2 }] });
    const res = await post('clerk.qingcheng', body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.totalDepositFen).to.equal(3 * 100 + 2 * 200);
    expect(res.body.lines[0]).to.include({ depositPerContainerFen: 100, depositFen: 300 });
    expect(res.body.lines[0].unitCodes).to.deep.equal([code]);
    expect(res.body.lines[1]).to.include({ depositPerContainerFen: 200, depositFen: 400 });
    expect(res.body.saleNo).to.match(/^XS511425-\d{8}$/);
    expect(res.body.qrPayload).to.equal(`agrireturn:sale:511425:${body.id}`);
    expect(res.body.purchaser.phoneMasked).to.not.contain('0000999');
    expect(await balances(t)).to.include({ deposits_outstanding: -700, [`shop:${SHOP_A}`]: 700 });
    await expectLedgerClean(t);
  });

  it('replays the same id and content with the original receipt (200), and refuses other content (409)', async () => {
    const body = saleBody();
    const first = await post('clerk.qingcheng', body);
    expect(first.status).to.equal(201);
    const again = await post('clerk.qingcheng', body);
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal(first.body);
    const changed = await post('clerk.qingcheng', { ...body, lines: [{ productId: GLYPHOSATE.id, quantity: 2 }] });
    expect(changed.status).to.equal(409);
    expect(changed.body.error.code).to.equal('IDEMPOTENCY_CONFLICT');
    const count = await t.db.knex('sales').where({ id: body.id }).count({ n: '*' }).first();
    expect(Number(count?.n)).to.equal(1);
  });

  it('refuses a unit code already sold (409) and a code of another product (422), changing nothing', async () => {
    const code = unitCode(GLYPHOSATE);
    expect((await post('clerk.qingcheng', saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [code] }] }))).status).to.equal(201);
    const before = await balances(t);
    const dup = await post('clerk.qingcheng', saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [code] }] }));
    expect(dup.status).to.equal(409);
    expect(dup.body.error.code).to.equal('UNIT_CODE_ALREADY_SOLD');
    const wrong = await post('clerk.qingcheng', saleBody({ lines: [{ productId: GLYPHOSATE_5L.id, quantity: 1, unitCodes: [unitCode(GLYPHOSATE)] }] }));
    expect(wrong.status).to.equal(422);
    expect(wrong.body.error.code).to.equal('UNIT_CODE_PRODUCT_MISMATCH');
    expect(wrong.body.error.details[0].field).to.equal('/body/lines/0/unitCodes/0');
    const bad = await post('clerk.qingcheng', saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: ['https://x.cn/123'] }] }));
    expect(bad.body.error.code).to.equal('UNIT_CODE_INVALID');
    const twice = await post('clerk.qingcheng', saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: [code.replace(/.$/, '0'), code.replace(/.$/, '0')] }] }));
    expect(twice.body.error.code).to.equal('UNIT_CODE_DUPLICATE');
    const many = await post('clerk.qingcheng', saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)] }] }));
    expect(many.body.error.code).to.equal('TOO_MANY_UNIT_CODES');
    expect(await balances(t)).to.deep.equal(before);
  });

  it('records an offline deposit that differs from the schedule as paid, and flags it', async () => {
    const res = await post('clerk.qingcheng', saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 2, depositChargedFen: 50 }] }));
    expect(res.status).to.equal(201);
    expect(res.body.totalDepositFen).to.equal(100);
    expect(res.body.flags).to.deep.equal(['deposit_mismatch']);
    expect(res.body.lines[0]).to.include({ depositPerContainerFen: 50, scheduleDepositFen: 100 });
    const same = await post('clerk.qingcheng', saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, depositChargedFen: 100 }] }));
    expect(same.body.flags).to.deep.equal([]);
  });

  it('finds the product by GTIN and registers a new purchaser only with a name', async () => {
    const gtin = (await t.db.knex('products').where({ id: GLYPHOSATE.id }).first('gtin')).gtin as string;
    const anon = await post('clerk.qingcheng', saleBody({ purchaser: { phone: '17460001234' }, lines: [{ gtin, quantity: 1 }] }));
    expect(anon.status).to.equal(422);
    expect(anon.body.error.code).to.equal('FARMER_NAME_REQUIRED');
    const named = await post('clerk.qingcheng', saleBody({ purchaser: { phone: '174 6000 1234', name: '新农户' }, lines: [{ gtin, quantity: 1 }] }));
    expect(named.status).to.equal(201);
    expect(named.body.purchaser.registeredNow).to.equal(true);
    const unknown = await post('clerk.qingcheng', saleBody({ lines: [{ gtin: '6900000000007', quantity: 1 }] }));
    expect(unknown.body.error.code).to.equal('PRODUCT_NOT_FOUND');
    // A wrong check digit is a misread barcode, not an unknown product (test/features/ledger/gtin-and-product-rules.test.ts).
    const misread = await post('clerk.qingcheng', saleBody({ lines: [{ gtin: '6900000000000', quantity: 1 }] }));
    expect(misread.body.error.code).to.equal('INVALID_GTIN');
  });

  it('refuses event times in the future and sales for another shop or county', async () => {
    const future = await post('clerk.qingcheng', saleBody({ eventTime: '2026-03-16T00:00:00.000Z' }));
    expect(future.body.error.code).to.equal('EVENT_TIME_IN_FUTURE');
    const other = await post('clerk.qingcheng', saleBody({ shopId: SHOP_B }));
    expect(other.status).to.equal(403);
    expect(other.body.error.code).to.equal('OUT_OF_SCOPE');
    const county = await post('clerk.qingcheng', saleBody({ countyId: OTHER_COUNTY_ID }));
    expect(county.body.error.code).to.equal('OUT_OF_SCOPE');
    const official = await post('qingshen.official', saleBody());
    expect(official.body.error.code).to.equal('FORBIDDEN');
  });
});
