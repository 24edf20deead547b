import { expect } from 'chai';
import fc from 'fast-check';
import {
  DEMO_PHONE_PREFIX,
  isDemoPhone,
  maskName,
  maskPhone,
  normalisePhone,
} from '../../src/shared/phone.js';

const fullWidth = (s: string) =>
  s.replace(/[!-~]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0)).replace(/ /g, '\u3000');

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
const cnMobile = fc
  .tuple(fc.constantFrom(...'3456789'), digits(9, 9))
  .map(([second, rest]) => `1${second}${rest}`);
const separator = fc.constantFrom('', ' ', '-', '  ', '.', '\u2014', '\u3000');

// How people write a mobile: grouped 3-4-4 or not, with any of the prefixes, maybe full-width.
const typedMobile = fc
  .record({
    national: cnMobile,
    prefix: fc.constantFrom('', '+86', '+86 ', '0086', '0086 ', '86', '86-', '(+86)', '+86 (0) ', '0'),
    sep: separator,
    wide: fc.boolean(),
    pad: fc.constantFrom('', ' ', '\t'),
  })
  .map(({ national, prefix, sep, wide, pad }) => {
    const grouped = [national.slice(0, 3), national.slice(3, 7), national.slice(7)].join(sep);
    const typed = `${pad}${prefix}${grouped}${pad}`;
    return { national, typed: wide ? fullWidth(typed) : typed };
  });

function expectE164(input: string, e164: string): void {
  expect(normalisePhone(input), JSON.stringify(input)).to.deep.equal({ ok: true, e164 });
}
function expectReject(input: string, reason: 'empty' | 'invalid' | 'not_mobile'): void {
  expect(normalisePhone(input), JSON.stringify(input)).to.deep.equal({ ok: false, reason });
}

describe('phone', () => {
  describe('normalisePhone', () => {
    it('accepts a Chinese mobile however it is typed', () => {
      for (const typed of [
        '13800138000',
        '138 0013 8000',
        '138-0013-8000',
        '138.0013.8000',
        '138\u20140013\u20148000',
        '+86 138 0013 8000',
        '+86-138-0013-8000',
        '(+86) 138 0013 8000',
        '+86 (0) 138 0013 8000',
        '0086 13800138000',
        '86-13800138000',
        '8613800138000',
        '013800138000',
        '  13800138000\t',
        '１３８００１３８０００',
        '＋８６　１３８　００１３　８０００',
        '+86\u3000138\u30000013\u30008000',
      ]) {
        expectE164(typed, '+8613800138000');
      }
    });

    it('accepts every mobile segment 13x–19x and nothing below', () => {
      for (const second of '3456789') expectE164(`1${second}012345678`, `+861${second}012345678`);
      expectReject('12012345678', 'invalid');
      expectReject('11012345678', 'invalid');
    });

    it('reports empty input as empty', () => {
      expectReject('', 'empty');
      expectReject('   ', 'empty');
      expectReject(' - ', 'empty');
      expectReject('（）', 'empty');
    });

    it('rejects mistyped mobiles and junk as invalid', () => {
      expectReject('1380013800', 'invalid'); // one digit short
      expectReject('138001380001', 'invalid'); // one digit long
      expectReject('+86 1380013800', 'invalid');
      expectReject('abc', 'invalid');
      expectReject('138 0013 8000 ext 1', 'invalid');
      expectReject('tel:13800138000', 'invalid');
      expectReject('+', 'invalid');
      expectReject('++8613800138000', 'invalid');
      expectReject('138+00138000', 'invalid');
      expectReject('+0123456789', 'invalid'); // no country code starts with 0
      expectReject('+1234567', 'invalid'); // 7 digits: too short for E.164
      expectReject('+1234567890123456', 'invalid'); // 16 digits: too long
      expectReject('12345', 'invalid');
    });

    it('rejects Chinese landlines and service numbers as not_mobile, since they cannot get SMS', () => {
      expectReject('010-12345678', 'not_mobile');
      expectReject('(0571) 8765 4321', 'not_mobile');
      expectReject('0833-5123456', 'not_mobile');
      expectReject('87654321', 'not_mobile');
      expectReject('400-810-8888', 'not_mobile');
      expectReject('+86 10 1234 5678', 'not_mobile');
      expectReject('+86 571 87654321', 'not_mobile');
      expectReject('0086 21 12345678', 'not_mobile');
    });

    it('accepts foreign numbers in international form as they are', () => {
      expectE164('+1 (415) 555-0100', '+14155550100');
      expectE164('0044 20 7946 0958', '+442079460958');
      expectE164('+49 30 901820', '+4930901820');
      expectE164('+12345678', '+12345678'); // 8 digits: the shortest accepted
      expectE164('+123456789012345', '+123456789012345'); // 15 digits: the longest
    });

    it('property: any typed form of a mobile normalises to +86 and the national number', () => {
      fc.assert(
        fc.property(typedMobile, ({ national, typed }) => {
          expectE164(typed, `+86${national}`);
        }),
      );
    });

    it('property: idempotent on its own output', () => {
      const anything = fc.oneof(
        typedMobile.map((m) => m.typed),
        fc.tuple(fc.constantFrom('+', '00'), digits(1, 16)).map(([p, d]) => p + d),
        digits(0, 14),
        fc.string(),
      );
      fc.assert(
        fc.property(anything, (input) => {
          const first = normalisePhone(input);
          if (first.ok) {
            expect(first.e164).to.match(/^\+[1-9][0-9]{7,14}$/);
            if (first.e164.startsWith('+86')) expect(first.e164).to.match(/^\+861[3-9][0-9]{9}$/);
            expect(normalisePhone(first.e164)).to.deep.equal(first);
          }
        }),
      );
    });
  });

  describe('maskPhone', () => {
    it('keeps the country code, the first three and the last four digits of a Chinese mobile', () => {
      expect(maskPhone('+8613800138000')).to.equal('+86 138****8000');
      expect(maskPhone('+8619912345678')).to.equal('+86 199****5678');
    });

    it('splits off one-, two- and three-digit country codes', () => {
      expect(maskPhone('+14155550100')).to.equal('+1 41******00');
      expect(maskPhone('+442079460958')).to.equal('+44 20******58');
      expect(maskPhone('+85291234567')).to.equal('+852 91****67');
      expect(maskPhone('+79161234567')).to.equal('+7 91******67');
    });

    it('hides anything that is not E.164 completely rather than echoing it', () => {
      expect(maskPhone('13800138000')).to.equal('****');
      expect(maskPhone('')).to.equal('****');
      expect(maskPhone('+86 138 0013 8000')).to.equal('****');
    });

    it('property: never reveals a whole number and hides at least three digits', () => {
      const e164 = fc.oneof(
        cnMobile.map((n) => `+86${n}`),
        fc.tuple(fc.constantFrom(...'123456789'), digits(7, 14)).map(([a, b]) => `+${a}${b}`),
      );
      fc.assert(
        fc.property(e164, (phone) => {
          const masked = maskPhone(phone);
          expect(masked.startsWith('+')).to.equal(true);
          expect(masked.replace(/[^*]/g, '').length).to.be.at.least(3);
          const shownDigits = masked.replace(/[^0-9]/g, '');
          expect(shownDigits.length).to.be.below(phone.length - 1);
          expect(masked.replace(/[ *]/g, '')).to.not.equal(phone);
        }),
      );
    });
  });

  describe('maskName', () => {
    it('keeps the first character of a Chinese name', () => {
      expect(maskName('张三丰')).to.equal('张**');
      expect(maskName('李四')).to.equal('李*');
      expect(maskName('欧阳修')).to.equal('欧**');
      expect(maskName(' 王五 ')).to.equal('王*');
      expect(maskName('阿卜杜·热合曼')).to.equal('阿******');
    });

    it('keeps the first letter of a Latin name and hides word lengths', () => {
      expect(maskName('Wang Wei')).to.equal('W******');
      expect(maskName('Jose\u0301 Li')).to.equal('J*****');
    });

    it('counts a character outside the BMP as one', () => {
      expect(maskName('\u{20000}三')).to.equal('\u{20000}*');
    });

    it('hides a one-character name and leaves an empty one empty', () => {
      expect(maskName('张')).to.equal('*');
      expect(maskName('')).to.equal('');
      expect(maskName('   ')).to.equal('');
    });

    it('property: output is the first character followed only by asterisks', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme', minLength: 2, maxLength: 12 }).filter((s) => !s.includes('*')), (name) => {
          const masked = maskName(name);
          if (name.trim() === '') return;
          const rest = masked.replace(/^[^*]+/u, '');
          expect(rest).to.match(/^\**$/);
          expect(name.trim().startsWith(masked.slice(0, masked.length - rest.length))).to.equal(true);
        }),
      );
    });
  });

  describe('demo phones', () => {
    it('recognises the demo block and nothing next to it', () => {
      expect(DEMO_PHONE_PREFIX).to.equal('+861746');
      expect(isDemoPhone('+8617461234567')).to.equal(true);
      expect(isDemoPhone('+8617451234567')).to.equal(false);
      expect(isDemoPhone('+8617471234567')).to.equal(false);
      expect(isDemoPhone('+8613800138000')).to.equal(false);
      expect(isDemoPhone('+861746123')).to.equal(false);
      expect(isDemoPhone('17461234567')).to.equal(false);
    });

    it('demo numbers pass as mobiles, so seeds exercise the real code path', () => {
      const r = normalisePhone('174 6123 4567');
      expect(r).to.deep.equal({ ok: true, e164: '+8617461234567' });
      if (r.ok) expect(isDemoPhone(r.e164)).to.equal(true);
    });
  });
});
