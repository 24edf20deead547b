import { expect } from 'chai';
import fc from 'fast-check';
import { withGtinCheckDigit } from '../../../src/shared/gtin.js';
import { classifyScan } from '../../../terminals/hid/scan-classifier.js';

const CODE = '11203451005123456789012345678901';
const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
const validCode = fc
  .tuple(fc.constantFrom('1', '2', '3'), digits(6), fc.constantFrom('1', '2', '3'), digits(3), digits(21))
  .map((p) => p.join(''));

describe('scan classification', () => {
  it('finds the unit code inside a trace URL', () => {
    const c = classifyScan(`https://trace.example.cn/p?code=${CODE}&s=1`);
    expect(c).to.deep.include({ ok: true });
    if (c.ok) expect(c.payload).to.include({ kind: 'unit_code', code: CODE });
  });

  it('accepts a GTIN only with a correct check digit', () => {
    const gtin = withGtinCheckDigit('690123456789');
    expect(classifyScan(gtin)).to.deep.equal({ ok: true, payload: { kind: 'gtin', gtin } });
    const wrong = gtin.slice(0, 12) + String((Number(gtin[12]) + 1) % 10);
    expect(classifyScan(wrong)).to.include({ ok: false, reason: 'bad_check_digit' });
  });

  it('reports 25-31 digits, bad structure and over-long runs as misreads', () => {
    expect(classifyScan(CODE.slice(0, 28))).to.include({ ok: false, reason: 'misread' });
    expect(classifyScan(`9${CODE.slice(1)}`)).to.include({ ok: false, reason: 'invalid_structure' });
    expect(classifyScan(`${CODE}7`)).to.include({ ok: false, reason: 'ambiguous' });
    expect(classifyScan('\r\n')).to.include({ ok: false, reason: 'empty' });
  });

  it('passes other text through (e.g. a bag seal label)', () => {
    expect(classifyScan('BAG-000123\r')).to.deep.equal({ ok: true, payload: { kind: 'text', text: 'BAG-000123' } });
  });

  it('never turns a scan with dropped characters into a different unit code', () => {
    fc.assert(
      fc.property(validCode, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), (code, drops) => {
        let scan = `https://trace.example.cn/p?code=${code}&n=7&b=20250301`;
        for (const d of drops) {
          const i = d % scan.length;
          scan = scan.slice(0, i) + scan.slice(i + 1);
        }
        const c = classifyScan(scan);
        if (c.ok && c.payload.kind === 'unit_code') expect(c.payload.code).to.equal(code);
      }),
    );
  });
});
