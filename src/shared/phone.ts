// Farmers' phone numbers, the key for deposits owed and SMS balance checks: one E.164 spelling for
// however a clerk typed it, plus the masking that keeps names and numbers out of officials' views.

export type NormalisePhoneResult =
  | { ok: true; e164: string }
  | { ok: false; reason: 'empty' | 'invalid' | 'not_mobile' };

/** Only China is needed today; a national number without a country code is read as Chinese. */
export type DefaultCountry = 'CN';

const CN_MOBILE = /^1[3-9][0-9]{9}$/;
// Real Chinese numbers that cannot receive our SMS: a landline is an area code (10, 2x or a
// three-digit code) plus a 7–8 digit local number, written with the trunk 0 at home and without it
// after +86; people also type bare local numbers and 400/800 service lines.
const CN_FIXED = '(?:10|2[0-9]|[3-9][0-9]{2})[0-9]{7,8}';
const CN_NOT_MOBILE_DOMESTIC = new RegExp(`^(?:0${CN_FIXED}|[2-9][0-9]{6,7}|[48]00[0-9]{7})$`);
const CN_NOT_MOBILE_INTERNATIONAL = new RegExp(`^(?:0?${CN_FIXED}|[48]00[0-9]{7})$`);
// Separators people put between digit groups, including the CJK and typographic dashes an IME emits.
const SEPARATORS = /[\s\-.()\/\u2010-\u2015\u2212]/g;

function fullWidthToAscii(s: string): string {
  // U+FF01..U+FF5E mirror ASCII 0x21..0x7E (so ０-９ and ＋); U+3000 is the ideographic space.
  return s
    .replace(/[\uFF01-\uFF5E]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0))
    .replace(/\u3000/g, ' ');
}

function classifyChinese(national: string, afterCountryCode: boolean): NormalisePhoneResult {
  if (CN_MOBILE.test(national)) return { ok: true, e164: `+86${national}` };
  // Some people still dial the old long-distance 0 before a mobile.
  if (national.startsWith('0') && CN_MOBILE.test(national.slice(1))) {
    return { ok: true, e164: `+86${national.slice(1)}` };
  }
  // A mobile prefix with the wrong length is a typo, not a landline.
  if (/^1[3-9]/.test(national)) return { ok: false, reason: 'invalid' };
  const notMobile = afterCountryCode ? CN_NOT_MOBILE_INTERNATIONAL : CN_NOT_MOBILE_DOMESTIC;
  if (notMobile.test(national)) return { ok: false, reason: 'not_mobile' };
  return { ok: false, reason: 'invalid' };
}

/**
 * Normalise a typed phone number to E.164. Chinese numbers must be mobiles, since the scheme talks to
 * farmers by SMS; foreign numbers in international form are accepted as they are.
 */
export function normalisePhone(input: string, defaultCountry: DefaultCountry = 'CN'): NormalisePhoneResult {
  const compact = fullWidthToAscii(input).replace(SEPARATORS, '');
  if (compact === '') return { ok: false, reason: 'empty' };
  if (!/^\+?[0-9]+$/.test(compact)) return { ok: false, reason: 'invalid' };

  let international: string | null = null;
  if (compact.startsWith('+')) international = compact.slice(1);
  else if (compact.startsWith('00')) international = compact.slice(2);

  if (international !== null) {
    if (international.startsWith('86')) return classifyChinese(international.slice(2), true);
    // E.164: a country code never starts with 0, and the whole number is at most 15 digits.
    if (/^[1-9][0-9]{7,14}$/.test(international)) return { ok: true, e164: `+${international}` };
    return { ok: false, reason: 'invalid' };
  }

  switch (defaultCountry) {
    case 'CN':
      // "86 138 0013 8000" without the plus: only a mobile after the 86 makes this reading certain.
      if (compact.startsWith('86') && CN_MOBILE.test(compact.slice(2))) {
        return { ok: true, e164: `+${compact}` };
      }
      return classifyChinese(compact, false);
  }
}

const E164 = /^\+[1-9][0-9]{7,14}$/;
// ITU-T E.164 country codes with one or two digits; every other code has three.
const ONE_DIGIT_CC = new Set(['1', '7']);
const TWO_DIGIT_CC = new Set(
  (
    '20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 ' +
    '60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98'
  ).split(' '),
);

function countryCodeLength(digits: string): number {
  if (ONE_DIGIT_CC.has(digits.slice(0, 1))) return 1;
  if (TWO_DIGIT_CC.has(digits.slice(0, 2))) return 2;
  return 3;
}

/**
 * `+8613800138000` → `+86 138****8000`: enough for a clerk or an official to tell numbers apart,
 * not enough to call. Short national numbers show less so that at least half stays hidden; anything
 * that is not E.164 is hidden entirely rather than echoed back.
 */
export function maskPhone(e164: string): string {
  if (!E164.test(e164)) return '****';
  const digits = e164.slice(1);
  const ccLen = countryCodeLength(digits);
  const cc = digits.slice(0, ccLen);
  const national = digits.slice(ccLen);
  const [head, tail] = national.length >= 11 ? [3, 4] : national.length >= 8 ? [2, 2] : [0, 2];
  const hidden = national.length - head - tail;
  return `+${cc} ${national.slice(0, head)}${'*'.repeat(hidden)}${national.slice(national.length - tail)}`;
}

/**
 * 张三丰 → 张**; Wang Wei → W******. Counts user-perceived characters so rare CJK surnames outside
 * the BMP and accented Latin letters are masked as one character each; spaces are dropped so word
 * lengths do not show. A one-character name is hidden completely.
 */
export function maskName(name: string): string {
  const segmenter = new Intl.Segmenter('zh', { granularity: 'grapheme' });
  const chars = Array.from(segmenter.segment(name.trim()), (s) => s.segment).filter((c) => !/^\s+$/.test(c));
  const [first] = chars;
  if (first === undefined) return '';
  if (chars.length === 1) return '*';
  return first + '*'.repeat(chars.length - 1);
}

/**
 * Seed and demo data use +86 1746xxxxxxx. 1746 lies in the 174 segment that MIIT set aside for
 * satellite and emergency communications and has not assigned to any public mobile operator, so a
 * demo that sends SMS can never text a real person. The numbers still pass the mobile check above.
 */
export const DEMO_PHONE_PREFIX = '+861746';

export function isDemoPhone(e164: string): boolean {
  return e164.startsWith(DEMO_PHONE_PREFIX) && /^\+86[0-9]{11}$/.test(e164);
}

// normalisePhone's acceptance as one regular expression, for the JSON Schemas (so the schema and the
// server agree: test/shared/schema-patterns.test.ts checks both ways). Separators may sit anywhere,
// digits and the plus may be full-width, as normalisePhone allows.
const SEP = '[\\s.()/\\u2010-\\u2015\\u2212\\uFF08\\uFF09\\uFF0D-\\uFF0F-]*';
const digit = (ascii: string, fullWidth: string) => `[${ascii}${fullWidth}]${SEP}`;
const D = digit('0-9', '\\uFF10-\\uFF19');
const lit = (d: string) => digit(d, String.fromCharCode(0xff10 + Number(d)).replace(/./, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase()}`));
const MOBILE = `${lit('1')}${digit('3-9', '\\uFF13-\\uFF19')}(?:${D}){9}`;
const PLUS = `[+\\uFF0B]${SEP}`;
const INTERNATIONAL = `(?:${PLUS}|${lit('0')}${lit('0')})`;
/** A string normalisePhone accepts (a Chinese mobile in any common spelling, or a foreign E.164 number). */
export const PHONE_PATTERN =
  `^${SEP}(?:` +
  `${INTERNATIONAL}(?:${lit('8')}${lit('6')}(?:${lit('0')})?${MOBILE}|${digit('1-79', '\\uFF11-\\uFF17\\uFF19')}(?:${D}){7,14}|${lit('8')}${digit('0-57-9', '\\uFF10-\\uFF15\\uFF17-\\uFF19')}(?:${D}){6,13})` +
  `|(?:${lit('8')}${lit('6')}|${lit('0')})?${MOBILE}` +
  ')$';
