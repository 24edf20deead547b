// Rules about naming the product (issue 15): the schema says a sale line names exactly one of
// productId and gtin (a returned item one of scan, gtin, productId), and a GTIN whose check digit is
// wrong is a misread barcode — 422 INVALID_GTIN, never PRODUCT_NOT_FOUND — on the online paths, the
// sync path (per record) and at the POS terminal. Nothing refused is written.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { gtinCheckDigitOk } from '../../../src/shared/gtin.js';
import { ReferenceCache, scanFailureText, type Snapshot } from '../../../terminals/pos/reference-cache.js';
import { GLYPHOSATE, SHOP_A, balances, countyScoped, returnBody, saleBody } from './ledger-fixtures.js';

/** The product's own GTIN with its last digit changed: a barcode misread by one digit. */
const misread = (gtin: string): string => gtin.slice(0, -1) + String((Number(gtin.slice(-1)) + 3) % 10);

describe('naming the product: exactly one of productId / gtin, and INVALID_GTIN', () => {
  const t = useTestApp();
  let gtin: string;
  // Sales and returns go to the county paths (/api/v1/counties/{countyId}/…); the sync path is its own.
  const post = async (path: string, body: unknown) => { const c = countyScoped(path, body); return t.api().post(c.path).set('Authorization', await t.token('clerk.qingcheng')).send(c.body as object); };

  before(async () => {
    gtin = (await t.db.knex('products').where({ id: GLYPHOSATE.id }).first('gtin')).gtin as string;
    expect(gtinCheckDigitOk(gtin)).to.equal(true);
    expect(gtinCheckDigitOk(misread(gtin))).to.equal(false);
  });

  it('a sale line naming both or neither is refused by the schema, naming the line', async () => {
    const before = await balances(t);
    for (const line of [{ productId: GLYPHOSATE.id, gtin, quantity: 1 }, { quantity: 1 }]) {
      const res = await post('/api/v1/sales', saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1 }, line] }));
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      expect(res.body.error.details).to.deep.equal([{ field: '/body/lines/1', code: 'one_of', message: 'give exactly one of productId, gtin' }]);
    }
    expect(await balances(t)).to.deep.equal(before);
  });

  it('a sale line with a misread GTIN answers 422 INVALID_GTIN naming the field; a well-formed unknown one PRODUCT_NOT_FOUND', async () => {
    const before = await balances(t);
    const bad = await post('/api/v1/sales', saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1 }, { gtin: misread(gtin), quantity: 2 }] }));
    expect(bad.status).to.equal(422);
    expect(bad.body.error.code).to.equal('INVALID_GTIN');
    expect(bad.body.error.details[0]).to.include({ field: '/body/lines/1/gtin', code: 'check_digit' });
    const unknown = await post('/api/v1/sales', saleBody({ lines: [{ gtin: '6900000000007', quantity: 1 }] }));
    expect(unknown.body.error.code).to.equal('PRODUCT_NOT_FOUND');
    expect(await balances(t)).to.deep.equal(before);
    const good = await post('/api/v1/sales', saleBody({ lines: [{ gtin, quantity: 1 }] }));
    expect(good.status, JSON.stringify(good.body)).to.equal(201);
  });

  it('a returned item with a misread GTIN answers 422 INVALID_GTIN (not a rejected “not a scheme product”); a scan with quantity 2 is refused by the schema', async () => {
    const before = await balances(t);
    const bad = await post('/api/v1/returns', returnBody({ items: [{ gtin: misread(gtin), quantity: 1, inspection: 'accepted' }], payment: { method: 'cash' } }));
    expect(bad.status, JSON.stringify(bad.body)).to.equal(422);
    expect(bad.body.error.code).to.equal('INVALID_GTIN');
    expect(bad.body.error.details[0].field).to.equal('/body/items/0/gtin');
    const two = await post('/api/v1/returns', returnBody({ items: [{ scan: '1070128121000000000000000000001', quantity: 2, inspection: 'accepted' }], payment: { method: 'cash' } }));
    expect(two.status).to.equal(400);
    expect(two.body.error.details).to.deep.equal([{ field: '/body/items/0', code: 'one_of', message: 'give exactly one of scan (quantity 1 or none), gtin, productId' }]);
    expect(await balances(t)).to.deep.equal(before);
  });

  it('the sync path refuses such records one by one with the same codes and applies the rest', async () => {
    const rec = (lines: unknown[]) => ({ kind: 'sale', id: newClientId(), eventTime: '2026-03-15T01:00:00.000Z', payload: { shopId: SHOP_A, purchaser: { phone: '17460000777', name: '同步农户' }, lines } });
    const records = [
      rec([{ productId: GLYPHOSATE.id, quantity: 1, depositChargedFen: 100 }]),
      rec([{ gtin: misread(gtin), quantity: 1, depositChargedFen: 100 }]),
      rec([{ productId: GLYPHOSATE.id, gtin, quantity: 1 }]),
      rec([{ gtin, quantity: 1, depositChargedFen: 100 }]),
      { kind: 'return', id: newClientId(), eventTime: '2026-03-15T01:20:00.000Z', payload: { shopId: SHOP_A, items: [{ gtin: misread(gtin), quantity: 1, inspection: 'accepted' }], payment: { method: 'cash' } } },
    ];
    const res = await post('/api/v1/sync/batches', { records });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const results = res.body.results as Array<{ status: string; error: { code: string; details: Array<{ field: string }> } | null }>;
    expect(results.map((r) => r.status)).to.deep.equal(['applied', 'refused', 'refused', 'applied', 'refused']);
    expect(results[1]!.error!.code).to.equal('INVALID_GTIN');
    expect(results[1]!.error!.details[0]!.field).to.equal('/body/lines/0/gtin');
    expect(results[2]!.error!.code).to.equal('VALIDATION_FAILED');
    expect(results[2]!.error!.details[0]!.field).to.equal('/body/lines/0');
    expect(results[4]!.error!.code).to.equal('INVALID_GTIN');
    const stored = await t.db.knex('sales').whereIn('id', records.map((r) => r.id)).count({ n: '*' }).first();
    expect(Number(stored?.n)).to.equal(2);
  });

  it('the POS terminal calls a misread barcode INVALID_GTIN (scan again), and a well-formed foreign one PRODUCT_NOT_FOUND', () => {
    const snapshot = {
      serverTime: '2026-05-01T02:00:00Z', businessDay: '2026-05-01',
      county: { id: '511425', nameZh: '青神县', nameEn: 'Qingshen', timezone: 'Asia/Shanghai', untrackedRefundPolicy: 'x', lateReturnPolicy: 'y', depositValidityDays: 365 },
      shop: null, containerTypes: [],
      products: [{ id: 'p1', name: '草甘膦', registrationNo: 'PD20070128', manufacturer: 'm', gtin, containerTypeId: 'ct', packSizeCode: '210', packSizeLabel: '1 L' }],
      depositSchedules: [], depositsInForce: [], farmers: [], farmersIncluded: false,
    } as unknown as Snapshot;
    const ref = new ReferenceCache(snapshot, '2026-05-01T02:00:00Z');
    expect(ref.resolveScan(gtin).ok).to.equal(true);
    const bad = ref.resolveScan(misread(gtin));
    expect(bad).to.include({ ok: false, code: 'INVALID_GTIN', kind: 'bad_barcode', gtin: misread(gtin) });
    if (!bad.ok) {
      expect(scanFailureText(bad).signal).to.equal('misread');
      expect(scanFailureText(bad).message_zh).to.contain('校验位不对');
    }
    expect(ref.resolveScan('4006381333931')).to.include({ ok: false, code: 'PRODUCT_NOT_FOUND', kind: 'foreign_barcode' });
  });
});
