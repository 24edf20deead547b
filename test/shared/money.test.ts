import { expect } from 'chai';
import fc from 'fast-check';
import { assertFen, fenToYuanString, formatFen, yuanToFen } from '../../src/shared/money.js';

const safeFen = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });

describe('money', () => {
  describe('assertFen', () => {
    it('accepts safe integers, including zero and negatives', () => {
      for (const n of [0, 1, -1, 100, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
        expect(() => assertFen(n)).to.not.throw();
      }
    });

    it('throws for fractions, non-finite, unsafe and non-number values', () => {
      for (const n of [0.5, 1.0000001, Number.NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), '100', 100n, null, undefined]) {
        expect(() => assertFen(n), String(n)).to.throw(RangeError);
      }
    });
  });

  describe('formatFen', () => {
    it('writes yuan with two decimals', () => {
      expect(formatFen(100, 'zh')).to.equal('¥1.00');
      expect(formatFen(1250, 'zh')).to.equal('¥12.50');
      expect(formatFen(1, 'en')).to.equal('¥0.01');
      expect(formatFen(10, 'en')).to.equal('¥0.10');
      expect(formatFen(0, 'zh')).to.equal('¥0.00');
    });

    it('puts a minus before the sign for negative amounts, and none on zero', () => {
      expect(formatFen(-100, 'zh')).to.equal('-¥1.00');
      expect(formatFen(-5, 'en')).to.equal('-¥0.05');
      expect(formatFen(-0, 'zh')).to.equal('¥0.00');
    });

    it('groups thousands', () => {
      expect(formatFen(123456789, 'zh')).to.equal('¥1,234,567.89');
      expect(formatFen(100000, 'en')).to.equal('¥1,000.00');
      expect(formatFen(99999, 'zh')).to.equal('¥999.99');
      expect(formatFen(-19892800, 'zh')).to.equal('-¥198,928.00');
      expect(formatFen(Number.MAX_SAFE_INTEGER, 'zh')).to.equal('¥90,071,992,547,409.91');
    });

    it('refuses amounts that are not fen', () => {
      expect(() => formatFen(1.5, 'zh')).to.throw(RangeError);
      expect(() => formatFen(Number.NaN, 'en')).to.throw(RangeError);
    });
  });

  describe('fenToYuanString', () => {
    it('writes plain decimal yuan', () => {
      expect(fenToYuanString(1250)).to.equal('12.50');
      expect(fenToYuanString(-5)).to.equal('-0.05');
      expect(fenToYuanString(0)).to.equal('0.00');
      expect(fenToYuanString(123456789)).to.equal('1234567.89');
      expect(() => fenToYuanString(0.1)).to.throw(RangeError);
    });
  });

  describe('yuanToFen', () => {
    it('parses whole and decimal yuan exactly', () => {
      expect(yuanToFen('1')).to.equal(100);
      expect(yuanToFen('12.5')).to.equal(1250);
      expect(yuanToFen('12.50')).to.equal(1250);
      expect(yuanToFen('0.01')).to.equal(1);
      expect(yuanToFen('0.1')).to.equal(10);
      expect(yuanToFen('007.05')).to.equal(705);
      // 0.29 * 100 is 28.999999999999996 in floating point
      expect(yuanToFen('0.29')).to.equal(29);
      expect(yuanToFen('1.15')).to.equal(115);
      expect(yuanToFen('90071992547409.91')).to.equal(Number.MAX_SAFE_INTEGER);
    });

    it('parses negatives, never returning -0', () => {
      expect(yuanToFen('-1.5')).to.equal(-150);
      expect(Object.is(yuanToFen('-0'), 0)).to.equal(true);
      expect(Object.is(yuanToFen('-0.00'), 0)).to.equal(true);
    });

    it('accepts a yuan sign, surrounding spaces and what a Chinese IME types', () => {
      expect(yuanToFen('¥3.00')).to.equal(300);
      expect(yuanToFen('￥3')).to.equal(300);
      expect(yuanToFen('-¥0.50')).to.equal(-50);
      expect(yuanToFen('  2.00 ')).to.equal(200);
      expect(yuanToFen('１２．５')).to.equal(1250);
      expect(yuanToFen('12。5')).to.equal(1250);
    });

    it('rejects more than two decimals instead of rounding', () => {
      expect(() => yuanToFen('1.001')).to.throw(RangeError);
      expect(() => yuanToFen('0.005')).to.throw(RangeError);
      expect(() => yuanToFen('1.000')).to.throw(RangeError);
    });

    it('rejects anything that is not a plain decimal', () => {
      for (const bad of ['', ' ', '.', '1.', '.5', '-', '+1', '1e3', '0x10', '1,000', '1 000', '1.2.3', 'abc', '¥', '--1', 'Infinity', 'NaN', '1yuan']) {
        expect(() => yuanToFen(bad), JSON.stringify(bad)).to.throw(RangeError);
      }
    });

    it('rejects amounts beyond the safe integer range', () => {
      expect(() => yuanToFen('90071992547409.92')).to.throw(RangeError);
      expect(() => yuanToFen('1' + '0'.repeat(30))).to.throw(RangeError);
    });

    it('property: round-trips every safe fen amount through its yuan string', () => {
      fc.assert(
        fc.property(safeFen, (fen) => {
          const back = yuanToFen(fenToYuanString(fen));
          expect(Object.is(back, fen === 0 ? 0 : fen)).to.equal(true);
        }),
      );
    });

    it('property: agrees with integer arithmetic on whole yuan and fen parts', () => {
      fc.assert(
        fc.property(fc.nat(999_999_999), fc.nat(99), fc.boolean(), (yuan, fen, oneDecimal) => {
          const text = oneDecimal && fen % 10 === 0 ? `${yuan}.${fen / 10}` : `${yuan}.${String(fen).padStart(2, '0')}`;
          expect(yuanToFen(text)).to.equal(yuan * 100 + fen);
        }),
      );
    });

    it('property: formatFen shows the same digits as the yuan string', () => {
      fc.assert(
        fc.property(safeFen, fc.constantFrom('zh' as const, 'en' as const), (fen, locale) => {
          const formatted = formatFen(fen, locale);
          expect(formatted.replace(/[¥,]/g, '')).to.equal(fenToYuanString(fen));
          expect(yuanToFen(formatted.replace(/,/g, ''))).to.equal(fen === 0 ? 0 : fen);
        }),
      );
    });
  });
});
