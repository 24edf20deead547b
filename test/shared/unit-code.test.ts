import { expect } from 'chai';
import fc from 'fast-check';
import {
  extractUnitCode,
  parseUnitCode,
  registrationNumberPrefix,
  unitCodeMatchesRegistration,
  type ExtractResult,
} from '../../src/shared/unit-code.js';

// PD20120345, own production, pack-size code 005.
const CODE = '11203451005123456789012345678901';
const SERIAL = '123456789012345678901';

function expectCode(result: ExtractResult, code: string): void {
  if (!result.ok) expect.fail(`expected ${code}, got ${result.reason}: ${result.detail}`);
  expect(result.code).to.equal(code);
}

function expectError(result: ExtractResult, reason: string): void {
  expect(result.ok, JSON.stringify(result)).to.equal(false);
  if (!result.ok) {
    expect(result.reason).to.equal(reason);
    expect(result.detail).to.be.a('string').and.not.equal('');
  }
}

const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
const validCode = fc
  .tuple(fc.constantFrom('1', '2', '3'), digits(6), fc.constantFrom('1', '2', '3'), digits(3), digits(21))
  .map((parts) => parts.join(''));
const controlChar = fc
  .oneof(fc.integer({ min: 0, max: 0x1f }), fc.constant(0x7f), fc.integer({ min: 0x80, max: 0x9f }))
  .map((c) => String.fromCharCode(c));
const controlRun = fc.string({ unit: controlChar, maxLength: 6 });
const segment = fc.stringMatching(/^[a-z][a-z0-9_~.-]{0,10}$/);
const shortNumber = fc.stringMatching(/^[0-9]{1,24}$/);
// Puts the code (or whatever digits stand in for it) into a URL in the places companies use.
const urlWrapper = fc
  .record({
    scheme: fc.constantFrom('http://', 'https://', 'HTTP://', ''),
    host: fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('.')),
    path: fc.array(segment, { maxLength: 3 }),
    key: fc.constantFrom('c', 'code', 'id', 'q'),
    extra: shortNumber,
    placement: fc.constantFrom('path', 'query', 'query-then-more', 'path-then-query'),
  })
  .map(({ scheme, host, path, key, extra, placement }) => (code: string): string => {
    const base = `${scheme}${host}/${path.map((p) => `${p}/`).join('')}`;
    switch (placement) {
      case 'path':
        return `${base}${code}`;
      case 'query':
        return `${base}?${key}=${code}`;
      case 'query-then-more':
        return `${base}?${key}=${code}&t=${extra}`;
      default:
        return `${base}${code}?v=${extra}`;
    }
  });

describe('unit-code', () => {
  describe('extractUnitCode', () => {
    it('reads the code from an ICAMA trace URL', () => {
      const r = extractUnitCode(`http://www.icama.cn/PublicWeb/?c=${CODE}`);
      expectCode(r, CODE);
      if (r.ok) {
        expect(r.parts).to.deep.equal({
          category: 'PD',
          registrationDigits: '120345',
          productionType: 'own',
          packSizeCode: '005',
          serial: SERIAL,
        });
      }
    });

    it('reads the code from a company URL path with other numbers around it', () => {
      expectCode(extractUnitCode(`https://trace.agro2018.cn/v2/q/${CODE}?from=scan&t=1700000000000`), CODE);
    });

    it('reads a bare code wrapped in scanner control characters and whitespace', () => {
      expectCode(extractUnitCode(`\x02${CODE}\x03\r\n`), CODE);
      expectCode(extractUnitCode(`\t  ${CODE}  \n`), CODE);
      expectCode(extractUnitCode(`\x1b[\x00${CODE}\x7f`), CODE);
    });

    it('strips a control character that landed inside the code', () => {
      expectCode(extractUnitCode(`${CODE.slice(0, 10)}\x00${CODE.slice(10)}`), CODE);
    });

    it('reads full-width digits typed through a Chinese IME', () => {
      const fullWidth = [...CODE].map((d) => String.fromCharCode(0xff10 + Number(d))).join('');
      expectCode(extractUnitCode(`http://www.icama.cn/PublicWeb/?c=${fullWidth}`), CODE);
    });

    it('takes the only 32-digit run even next to a shorter long run', () => {
      expectCode(extractUnitCode(`https://x.cn/${'7'.repeat(28)}/${CODE}`), CODE);
    });

    it('reports a run a few digits short as misread', () => {
      expectError(extractUnitCode(`http://www.icama.cn/PublicWeb/?c=${CODE.slice(0, 31)}`), 'misread');
      expectError(extractUnitCode(CODE.slice(0, 25)), 'misread');
    });

    it('reports nothing code-like as not_found', () => {
      expectError(extractUnitCode(''), 'not_found');
      expectError(extractUnitCode('\x02\x03\r\n'), 'not_found');
      expectError(extractUnitCode('http://www.icama.cn/PublicWeb/?c='), 'not_found');
      expectError(extractUnitCode('6901234567892'), 'not_found'); // an EAN-13, not a unit code
      expectError(extractUnitCode(CODE.slice(0, 24)), 'not_found');
    });

    it('refuses to guess when there are two codes or too many digits', () => {
      expectError(extractUnitCode(`${CODE} ${CODE}`), 'ambiguous');
      expectError(extractUnitCode(`${CODE}\n${CODE.replace(/1$/, '2')}`), 'ambiguous');
      expectError(extractUnitCode(`${CODE}9`), 'ambiguous');
      expectError(extractUnitCode(`?c=${CODE}&b=${'1'.repeat(40)}`), 'ambiguous');
    });

    it('merges digits across a stripped control character, so never splits a long run wrongly', () => {
      // "1" + ETX + code: removing the ETX leaves 33 digits; picking 32 of them would be a guess.
      expectError(extractUnitCode(`1\x03${CODE}`), 'ambiguous');
    });

    it('rejects a 32-digit run with an impossible structure', () => {
      const r = extractUnitCode(`http://www.icama.cn/PublicWeb/?c=4${CODE.slice(1)}`);
      expectError(r, 'invalid_structure');
      if (!r.ok) expect(r.digit).to.equal(1);
    });

    it('property: any valid code in any URL with control-character noise extracts back to itself', () => {
      fc.assert(
        fc.property(validCode, urlWrapper, controlRun, controlRun, fc.boolean(), (code, wrap, pre, post, bare) => {
          const scanned = `${pre}${bare ? code : wrap(code)}${post}`;
          expectCode(extractUnitCode(scanned), code);
        }),
      );
    });

    it('property: deleting any one digit never yields a code, only misread', () => {
      fc.assert(
        fc.property(
          validCode,
          fc.integer({ min: 0, max: 31 }),
          urlWrapper,
          controlRun,
          fc.boolean(),
          (code, i, wrap, pre, bare) => {
            const damaged = code.slice(0, i) + code.slice(i + 1);
            expectError(extractUnitCode(`${pre}${bare ? damaged : wrap(damaged)}`), 'misread');
          },
        ),
      );
    });

    it('property: inserting a digit anywhere makes the scan ambiguous, never a different code', () => {
      fc.assert(
        fc.property(validCode, fc.integer({ min: 0, max: 32 }), digits(1), urlWrapper, (code, i, d, wrap) => {
          const grown = code.slice(0, i) + d + code.slice(i);
          expectError(extractUnitCode(wrap(grown)), 'ambiguous');
        }),
      );
    });
  });

  describe('parseUnitCode', () => {
    it('splits every field and maps the category and production type', () => {
      const r = parseUnitCode('32304563999' + SERIAL);
      expect(r).to.deep.equal({
        ok: true,
        code: '32304563999' + SERIAL,
        parts: {
          category: 'LS',
          registrationDigits: '230456',
          productionType: 'repackaging',
          packSizeCode: '999',
          serial: SERIAL,
        },
      });
      const wp = parseUnitCode('21800122' + '000' + SERIAL);
      expect(wp.ok && wp.parts.category).to.equal('WP');
      expect(wp.ok && wp.parts.productionType).to.equal('contract');
    });

    it('names digit 1 when the registration category is not 1, 2 or 3', () => {
      for (const bad of ['0', '4', '9']) {
        const r = parseUnitCode(bad + CODE.slice(1));
        expect(r.ok).to.equal(false);
        if (!r.ok) {
          expect(r.reason).to.equal('invalid_structure');
          expect(r.digit).to.equal(1);
          expect(r.detail).to.match(/digit 1/);
        }
      }
    });

    it('names digit 8 when the production type is not 1, 2 or 3', () => {
      for (const bad of ['0', '4', '9']) {
        const r = parseUnitCode(CODE.slice(0, 7) + bad + CODE.slice(8));
        expect(r.ok).to.equal(false);
        if (!r.ok) {
          expect(r.digit).to.equal(8);
          expect(r.detail).to.match(/digit 8/);
        }
      }
    });

    it('rejects wrong lengths and non-digits, naming the position of a non-digit', () => {
      expect(parseUnitCode(CODE.slice(1)).ok).to.equal(false);
      expect(parseUnitCode(CODE + '0').ok).to.equal(false);
      expect(parseUnitCode('').ok).to.equal(false);
      const r = parseUnitCode(CODE.slice(0, 19) + 'x' + CODE.slice(20));
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.digit).to.equal(20);
      // parseUnitCode takes an isolated code, not a scan: no trimming.
      expect(parseUnitCode(` ${CODE.slice(1)}`).ok).to.equal(false);
    });

    it('property: the parts reassemble into the code', () => {
      fc.assert(
        fc.property(validCode, (code) => {
          const r = parseUnitCode(code);
          if (!r.ok) return expect.fail(r.detail);
          const p = r.parts;
          const cat = { PD: '1', WP: '2', LS: '3' }[p.category];
          const prod = { own: '1', contract: '2', repackaging: '3' }[p.productionType];
          expect(cat + p.registrationDigits + prod + p.packSizeCode + p.serial).to.equal(code);
        }),
      );
    });

    it('property: accepts exactly the codes whose digits 1 and 8 are in 1..3', () => {
      fc.assert(
        fc.property(digits(32), (code) => {
          const expected = '123'.includes(code.charAt(0)) && '123'.includes(code.charAt(7));
          expect(parseUnitCode(code).ok).to.equal(expected);
        }),
      );
    });
  });

  describe('registrationNumberPrefix', () => {
    it('maps the category to its digit and keeps the last six digits', () => {
      expect(registrationNumberPrefix('PD20120345')).to.equal('1120345');
      expect(registrationNumberPrefix('WP20180012')).to.equal('2180012');
      expect(registrationNumberPrefix('LS20230456')).to.equal('3230456');
    });

    it('tolerates case, spaces and full-width characters', () => {
      expect(registrationNumberPrefix('pd20120345')).to.equal('1120345');
      expect(registrationNumberPrefix('  PD 2012 0345 ')).to.equal('1120345');
      expect(registrationNumberPrefix('ＰＤ２０１２０３４５')).to.equal('1120345');
      expect(registrationNumberPrefix('PD\u30002012\u30000345')).to.equal('1120345');
    });

    it('returns null for older, export-only and malformed numbers', () => {
      for (const bad of ['PD85150-7', 'PD84118-12', 'PD20120345F', 'PD2012034', 'PD201203456', 'XX20120345', 'PD-20120345', '20120345', '']) {
        expect(registrationNumberPrefix(bad), bad).to.equal(null);
      }
    });
  });

  describe('unitCodeMatchesRegistration', () => {
    it('matches a code to its own registration number', () => {
      expect(unitCodeMatchesRegistration(CODE, 'PD20120345')).to.equal(true);
      expect(unitCodeMatchesRegistration(CODE, 'pd 2012 0345')).to.equal(true);
    });

    it('does not match another product, another category or a broken code', () => {
      expect(unitCodeMatchesRegistration(CODE, 'PD20120346')).to.equal(false);
      expect(unitCodeMatchesRegistration(CODE, 'WP20120345')).to.equal(false);
      expect(unitCodeMatchesRegistration(CODE, 'PD85150-7')).to.equal(false);
      expect(unitCodeMatchesRegistration(CODE.slice(0, 31), 'PD20120345')).to.equal(false);
      // right prefix, but digit 8 is invalid
      expect(unitCodeMatchesRegistration('11203450' + CODE.slice(8), 'PD20120345')).to.equal(false);
    });

    it('ignores the first two digits of the registration year, which the code does not carry', () => {
      expect(unitCodeMatchesRegistration(CODE, 'PD19120345')).to.equal(true);
    });

    it('property: a code built from a registration number matches it, and changing digits 1–7 breaks the match', () => {
      fc.assert(
        fc.property(
          fc.constantFrom('PD', 'WP', 'LS'),
          digits(8),
          fc.constantFrom('1', '2', '3'),
          digits(24),
          fc.integer({ min: 0, max: 6 }),
          fc.integer({ min: 1, max: 9 }),
          (cat, regDigits, prod, rest, i, delta) => {
            const reg = `${cat}${regDigits}`;
            const prefix = registrationNumberPrefix(reg);
            expect(prefix).to.have.length(7);
            const code = `${prefix}${prod}${rest}`;
            expect(unitCodeMatchesRegistration(code, reg)).to.equal(true);
            const changed = String((Number(code.charAt(i)) + delta) % 10);
            const other = code.slice(0, i) + changed + code.slice(i + 1);
            expect(unitCodeMatchesRegistration(other, reg)).to.equal(false);
          },
        ),
      );
    });
  });
});
