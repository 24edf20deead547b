// What a scan was (issue 14): the counter tells a product barcode, a scheme unit code, a foreign
// barcode, a cut-short or over-long digit run (misread: scan again, never a row or a bag line), plain
// text and the farmer's own sale-receipt QR apart, and says each in plain words.
import { expect } from 'chai';
import { ReferenceCache, classifyScan, scanFailureText, type Snapshot } from '../../../terminals/pos/reference-cache.js';

const CODE = '1120345' + '1' + '001' + '123456789012345678901'; // PD20120345, own production, pack 001
const snapshot = {
  serverTime: '2026-05-01T02:00:00Z', businessDay: '2026-05-01',
  county: { id: '511425', nameZh: '青神县', nameEn: 'Qingshen', timezone: 'Asia/Shanghai', untrackedRefundPolicy: 'x', lateReturnPolicy: 'y', depositValidityDays: 200 },
  shop: null, containerTypes: [{ id: 'ct', code: 'HDPE-250', nameZh: '瓶', nameEn: 'bottle', material: 'HDPE' }],
  products: [{ id: 'p1', name: '草甘膦', registrationNo: 'PD20120345', manufacturer: 'm', gtin: '6901234567892', containerTypeId: 'ct', packSizeCode: '001', packSizeLabel: '250 mL' }],
  depositSchedules: [], depositsInForce: [], farmers: [], farmersIncluded: false,
} as unknown as Snapshot;

describe('scan classification at the counter', () => {
  const ref = new ReferenceCache(snapshot, '2026-05-01T02:00:00Z');

  it('resolves the scheme’s barcode and unit code (bare or in a trace URL) to the product with its pack size', () => {
    const g = ref.resolveScan('6901234567892');
    expect(g.ok && g.product.packSizeLabel).to.equal('250 mL');
    const u = ref.resolveScan(`https://trace.example.cn/q?c=${CODE}`);
    expect(u.ok && u.unitCode).to.equal(CODE);
    expect(ref.depositValidityDays).to.equal(200);
  });

  it('calls a cut-short or over-long digit run a misread, whatever its length', () => {
    for (const s of [CODE.slice(0, 31), CODE.slice(0, 20), CODE.slice(0, 15), CODE.slice(0, 10), CODE + '7', `https://trace.example.cn/q?c=${CODE.slice(0, 28)}`, '12345']) {
      const r = ref.resolveScan(s);
      expect(r.ok, s).to.equal(false);
      if (!r.ok) {
        expect(r.kind, s).to.equal('misread');
        expect(r.code).to.equal('MISREAD');
        expect(scanFailureText(r).message_zh).to.contain('读码不全，请重扫');
        expect(scanFailureText(r).message).to.contain('Misread — scan again');
        expect(scanFailureText(r).signal).to.equal('misread');
      }
    }
  });

  it('says what a foreign barcode, a foreign unit code and plain text are', () => {
    const f = ref.resolveScan('4006381333931');
    expect(f).to.include({ ok: false, kind: 'foreign_barcode', gtin: '4006381333931' });
    if (!f.ok) expect(scanFailureText(f).message_zh).to.contain('商品条码 4006381333931').and.to.contain('不是本县回收的农药产品');
    const other = '1999999' + '1' + '001' + '123456789012345678901';
    const o = ref.resolveScan(other);
    expect(o).to.include({ ok: false, kind: 'foreign_unit_code', code: 'PRODUCT_NOT_FOUND' });
    const t = ref.resolveScan('abc123');
    expect(t).to.include({ ok: false, kind: 'not_a_code' });
    if (!t.ok) expect(scanFailureText(t).signal).to.equal('refused');
  });

  it('recognises the sale receipt QR by its printed number, and the record id of older receipts', () => {
    expect(classifyScan('AGRIRETURN:SALE:XS20260501-AB12-0003')).to.deep.equal({ kind: 'sale_receipt', receiptNo: 'XS20260501-AB12-0003' });
    expect(classifyScan('agrireturn:sale:511425:0190f3a4-1b2c-7d3e-8f40-123456789abc')).to.deep.equal({ kind: 'sale_receipt', receiptNo: '0190f3a4-1b2c-7d3e-8f40-123456789abc' });
    expect(classifyScan('AGRIRETURN:BAG:S-1')).to.deep.equal({ kind: 'other_receipt', what: 'BAG' });
    const r = ref.resolveScan('AGRIRETURN:SALE:XS20260501-AB12-0003');
    expect(r).to.include({ ok: false, kind: 'sale_receipt', receiptNo: 'XS20260501-AB12-0003' });
  });

  it('recognises the receipt QR printed since issue 16, the public check URL, and reads the receipt number out of it', () => {
    const receipt = { kind: 'sale_receipt', receiptNo: 'XS20260501-AB12-0003' };
    expect(classifyScan('https://agrireturn.qingshen.gov.cn/check/511425?q=XS20260501-AB12-0003')).to.deep.equal(receipt);
    expect(classifyScan('http://192.168.1.10:3000/check/511425?q=XS20260501-AB12-0003')).to.deep.equal(receipt);
    expect(classifyScan('https://gov.example.cn/agrireturn/check/511425/?lang=zh&q=XS20260501-AB12-0003')).to.deep.equal(receipt); // behind a path prefix
    expect(classifyScan(`https://x.example/check/511425?q=${encodeURIComponent('AGRIRETURN:SALE:XS20260501-AB12-0003')}`)).to.deep.equal(receipt);
    expect(ref.resolveScan('http://192.168.1.10:3000/check/511425?q=XS20260501-AB12-0003')).to.include({ ok: false, kind: 'sale_receipt', receiptNo: 'XS20260501-AB12-0003' });
    // Not a receipt: a check URL without q, or of something else, and other web addresses stay what they were.
    expect(classifyScan('https://agrireturn.qingshen.gov.cn/check/511425')).to.deep.equal({ kind: 'not_a_code' });
    expect(classifyScan('https://agrireturn.qingshen.gov.cn/check/511425?q=%E4%BD%A0%E5%A5%BD')).to.deep.equal({ kind: 'not_a_code' });
    expect(classifyScan('https://example.cn/help?q=XS20260501-AB12-0003')).to.deep.equal({ kind: 'not_a_code' });
  });
});
