// The schemas' patterns say exactly what the server takes (issue 15): a string matching the pattern
// is accepted by the server's own rule, and (where the rule is a pattern at heart) a string the rule
// accepts matches the pattern. Properties over generated strings, both directions.
import { expect } from 'chai';
import fc from 'fast-check';
import { PHONE_PATTERN, normalisePhone } from '../../src/shared/phone.js';
import { REGISTRATION_NO, REGISTRATION_NO_PATTERN, canonicalRegistrationNo } from '../../src/features/products/product-entity.js';
import { TRACKING_NO_PATTERN } from '../../src/features/manifests/manifest-routes.js';
import { normaliseTrackingNumber } from '../../src/features/manifests/tracking-number.js';
import { SETTLEMENT_PERIOD } from '../../src/shared/schemas/ledger-schemas.js';
import { parsePeriod } from '../../src/features/settlements/period.js';
import { reconciliationPeriod } from '../../src/features/reconciliation/reconciliation-service.js';
import { allRoutes } from '../../src/http/routes.js';
import type { JsonSchema } from '../../src/shared/schemas/builders.js';

const re = (p: string) => new RegExp(p, 'u');
const within = (min: number, max: number) => (s: string) => s.length >= min && s.length <= max;
/** Characters people and scanners put in these fields, and some they should not. */
const typed = (chars: string, maxLength: number) => fc.array(fc.constantFrom(...chars), { maxLength }).map((a) => a.join(''));
const PHONE_CHARS = '0123456789１３８６０+＋ -.()/（）－\u3000\u2014\u2212\tabx';

describe('schema patterns agree with the server’s rules', () => {
  it('phone: a string matching the pattern normalises; one that normalises matches', () => {
    const phone = re(PHONE_PATTERN);
    fc.assert(fc.property(fc.stringMatching(phone, { size: 'xsmall' }).filter(within(5, 30)), (s) => {
      expect(normalisePhone(s).ok, JSON.stringify(s)).to.equal(true);
    }), { numRuns: 300 });
    fc.assert(fc.property(fc.oneof(typed(PHONE_CHARS, 24), typed('0123456789+ -', 18), fc.constantFrom('+8613800138000', '0086 138 0013 8000', '010-12345678', '+44 20 7946 0958', '400-810-8888', '8613800138000', '138001380000')), (s) => {
      expect(phone.test(s), JSON.stringify(s)).to.equal(normalisePhone(s).ok);
    }), { numRuns: 2000 });
  });

  it('registration number: matching the pattern means PD/WP/LS + eight digits once canonical, and back', () => {
    const reg = re(REGISTRATION_NO_PATTERN);
    fc.assert(fc.property(fc.stringMatching(reg, { size: 'xsmall' }).filter(within(10, 16)), (s) => {
      expect(REGISTRATION_NO.test(canonicalRegistrationNo(s.trim())), JSON.stringify(s)).to.equal(true);
    }), { numRuns: 300 });
    fc.assert(fc.property(fc.oneof(typed('PDWLSpdwlsX0123456789 -', 16), fc.constantFrom('PD20120345', 'pd 2012-0345', 'LS2012034', 'PD85150-7', 'WP20180093F')), (s) => {
      expect(reg.test(s), JSON.stringify(s)).to.equal(REGISTRATION_NO.test(canonicalRegistrationNo(s.trim())));
    }), { numRuns: 2000 });
  });

  it('tracking number: matching the pattern is 16 digits once normalised (the check digits are the server’s)', () => {
    const tn = re(TRACKING_NO_PATTERN);
    fc.assert(fc.property(fc.stringMatching(tn, { size: 'xsmall' }).filter(within(0, 40)), (s) => {
      expect(normaliseTrackingNumber(s), JSON.stringify(s)).to.match(/^[0-9]{16}$/);
    }), { numRuns: 300 });
    fc.assert(fc.property(typed('0123456789 -x', 22), (s) => {
      expect(tn.test(s), JSON.stringify(s)).to.equal(/^[0-9]{16}$/.test(normaliseTrackingNumber(s)));
    }), { numRuns: 1000 });
  });

  it('settlement period: a match is a real month, week or day (only week 53 of a 52-week year is left to the server)', () => {
    const p = re(SETTLEMENT_PERIOD.pattern as string);
    fc.assert(fc.property(fc.stringMatching(p), (s) => {
      const kind = /W/.test(s) ? 'weekly' : s.length === 7 ? 'monthly' : 'daily';
      try {
        parsePeriod(s, kind, 'Asia/Shanghai');
      } catch (e) {
        expect(s, `${s}: ${String(e)}`).to.match(/-W53$/);
      }
    }), { numRuns: 1000 });
    for (const bad of ['2026-13', '2026-00', '2026-W00', '2026-W54', '2026-02-30', '2025-02-29', '2026-04-31', '2026-3']) expect(p.test(bad), bad).to.equal(false);
    for (const good of ['2026-03', '2026-W11', '2026-03-15', '2024-02-29', '2000-02-29', '2026-W53']) expect(p.test(good), good).to.equal(true);
    expect(p.test('1900-02-29')).to.equal(false);
    expect(p.test('0000-02-29'), 'year 0 (found by this property)').to.equal(false);
    expect(p.test('9999-12'), 'year 9999 ends in year 10000, which the server cannot reckon (found by the reconciliation property)').to.equal(false);
  });

  it('reconciliation period: a match is a month or a year the server reads', () => {
    const route = allRoutes().find((r) => r.method === 'post' && /reconciliation/.test(r.path) && r.body);
    const schema = (route!.body!.properties as Record<string, JsonSchema>).period!;
    const p = re(schema.pattern as string);
    fc.assert(fc.property(fc.stringMatching(p), (s) => {
      expect(() => reconciliationPeriod(s, 'Asia/Shanghai'), s).to.not.throw();
    }), { numRuns: 500 });
    // The other way, among the years the pattern covers (the server reads any four digits, some with a crash).
    fc.assert(fc.property(typed('0123456789-', 8).filter((s) => /^(?:19|2[0-9])/.test(s)), (s) => {
      let ok = true;
      try { reconciliationPeriod(s, 'Asia/Shanghai'); } catch { ok = false; }
      expect(p.test(s), s).to.equal(ok);
    }), { numRuns: 1000 });
    for (const s of ['9999', '0000', '1899-12']) expect(p.test(s), s).to.equal(false);
  });
});
