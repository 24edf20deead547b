// Money is integer fen (1 yuan = 100 fen, CNY). Amounts cross text only here, by string and integer
// arithmetic, so a deposit of ¥0.10 never turns into 0.30000000000000004 of anything.

export type MoneyLocale = 'zh' | 'en';

/** Throws unless `n` is a safe integer, i.e. a fen amount that arithmetic keeps exact. */
export function assertFen(n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new RangeError(`amount must be a safe integer number of fen, got ${String(n)}`);
  }
}

/** `1250` → `"12.50"`, `-5` → `"-0.05"`: plain decimal yuan for exports and form fields. */
export function fenToYuanString(fen: number): string {
  assertFen(fen);
  const abs = Math.abs(fen);
  const yuan = Math.floor(abs / 100);
  const cents = abs % 100;
  return `${fen < 0 ? '-' : ''}${yuan}.${String(cents).padStart(2, '0')}`;
}

/**
 * `1250` → `¥12.50`, `-100` → `-¥1.00`, `123456789` → `¥1,234,567.89`. Both locales write the
 * yuan sign and comma grouping, as Chinese receipts and bank statements do; the locale is part of
 * the signature so callers need not change if English output ever has to differ.
 */
export function formatFen(fen: number, locale: MoneyLocale): string {
  assertFen(fen);
  void locale;
  const abs = Math.abs(fen);
  const yuan = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cents = String(abs % 100).padStart(2, '0');
  return `${fen < 0 ? '-' : ''}¥${yuan}.${cents}`;
}

/**
 * Parse decimal yuan as typed (`12`, `12.5`, `-0.05`, `¥3.00`, full-width digits, `12。5`) into fen,
 * exactly. More than two decimals, exponents, grouping commas and anything else throw: a clerk's
 * typo must stop the entry, not be rounded into a different amount.
 */
export function yuanToFen(text: string): number {
  const ascii = text
    .trim()
    .replace(/[\uFF10-\uFF19\uFF0E\uFF0D]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0))
    .replace(/\u3002/g, '.') // a Chinese IME types 。 for the full stop key
    .replace(/\uFFE5/g, '¥');
  const m = /^(-)?¥?([0-9]+)(?:\.([0-9]{1,2}))?$/.exec(ascii);
  if (m === null) {
    throw new RangeError(`not a yuan amount with at most two decimals: ${JSON.stringify(text)}`);
  }
  const [, minus, whole = '', frac = ''] = m;
  const magnitude = BigInt(whole) * 100n + BigInt(frac.padEnd(2, '0'));
  if (magnitude > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`amount too large: ${JSON.stringify(text)}`);
  }
  const fen = Number(magnitude);
  // `-0` must come back as 0, not -0, or it would print and compare oddly later.
  return minus !== undefined && fen !== 0 ? -fen : fen;
}
