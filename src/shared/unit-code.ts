// The 32-digit pesticide unit code of MARA announcement 2579: pulls it out of whatever a scanner
// read, checks its structure, and ties it to a product's registration number (DESIGN rule 2).

export type RegistrationCategory = 'PD' | 'WP' | 'LS';
export type ProductionType = 'own' | 'contract' | 'repackaging';

export interface UnitCodeParts {
  /** Digit 1: 1 = PD (pesticide), 2 = WP (sanitary pesticide), 3 = LS (temporary registration). */
  category: RegistrationCategory;
  /** Digits 2–7: the last six digits of the registration number. */
  registrationDigits: string;
  /** Digit 8: 1 own production, 2 contract manufacture, 3 repackaging. */
  productionType: ProductionType;
  /** Digits 9–11: chosen by the company, so only its shape can be checked. */
  packSizeCode: string;
  /** Digits 12–32: random per unit. */
  serial: string;
}

export type UnitCodeErrorReason = 'not_found' | 'misread' | 'ambiguous' | 'invalid_structure';

export interface UnitCodeOk {
  ok: true;
  code: string;
  parts: UnitCodeParts;
}

export interface UnitCodeError<R extends UnitCodeErrorReason = UnitCodeErrorReason> {
  ok: false;
  reason: R;
  detail: string;
  /** For invalid_structure: the 1-based position of the first offending digit, when there is one. */
  digit?: number;
}

export type ExtractResult = UnitCodeOk | UnitCodeError;
export type ParseResult = UnitCodeOk | UnitCodeError<'invalid_structure'>;

export const UNIT_CODE_LENGTH = 32;
/**
 * Shortest digit run reported as `misread` rather than `not_found`. Keyboard-mode scanners drop
 * characters on long URLs (DESIGN "Devices"), so a run a few digits short of 32 is almost certainly
 * a damaged unit code, and the clerk should rescan rather than be told there is no code.
 */
export const MISREAD_MIN_DIGITS = 25;

const CATEGORY_BY_DIGIT: Readonly<Record<string, RegistrationCategory>> = { '1': 'PD', '2': 'WP', '3': 'LS' };
const DIGIT_BY_CATEGORY: Readonly<Record<RegistrationCategory, string>> = { PD: '1', WP: '2', LS: '3' };
const PRODUCTION_BY_DIGIT: Readonly<Record<string, ProductionType>> = {
  '1': 'own',
  '2': 'contract',
  '3': 'repackaging',
};

// C0 and C1 controls plus DEL: scanners add STX/ETX, CR/LF/TAB and worse around (and occasionally
// inside) what they read, and none of these can ever be part of a code or a URL.
const CONTROL_CHARS = /\p{Cc}/gu;
// A scanner feeding a PC whose Chinese IME is in full-width mode types ０-９ instead of 0-9.
const FULL_WIDTH_DIGITS = /[\uFF10-\uFF19]/g;

function toAsciiDigits(s: string): string {
  return s.replace(FULL_WIDTH_DIGITS, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xff10 + 0x30));
}

/**
 * Find the unit code in a raw scan (a trace URL, a company URL with the code in its path or query,
 * or the bare code). Key records on the returned `code`, never on the URL.
 */
export function extractUnitCode(scanned: string): ExtractResult {
  const cleaned = toAsciiDigits(scanned.replace(CONTROL_CHARS, ''));
  const runs = cleaned.match(/[0-9]+/g) ?? [];

  // Too long a run cannot be split safely: which 32 of the digits are the code is a guess.
  const tooLong = runs.find((r) => r.length > UNIT_CODE_LENGTH);
  if (tooLong !== undefined) {
    return {
      ok: false,
      reason: 'ambiguous',
      detail: `found a run of ${tooLong.length} digits; a unit code has exactly ${UNIT_CODE_LENGTH}`,
    };
  }
  const exact = runs.filter((r) => r.length === UNIT_CODE_LENGTH);
  if (exact.length > 1) {
    return {
      ok: false,
      reason: 'ambiguous',
      detail: `found ${exact.length} runs of ${UNIT_CODE_LENGTH} digits; cannot tell which is the unit code`,
    };
  }
  const [only] = exact;
  if (only !== undefined) return parseUnitCode(only);

  const longest = runs.reduce((max, r) => Math.max(max, r.length), 0);
  if (longest >= MISREAD_MIN_DIGITS) {
    return {
      ok: false,
      reason: 'misread',
      detail: `found ${longest} digits where a ${UNIT_CODE_LENGTH}-digit unit code was expected; rescan`,
    };
  }
  return { ok: false, reason: 'not_found', detail: `no ${UNIT_CODE_LENGTH}-digit unit code in the scan` };
}

/** Validate an already isolated 32-digit unit code and split it into its fields. */
export function parseUnitCode(code: string): ParseResult {
  if (code.length !== UNIT_CODE_LENGTH) {
    return invalid(`a unit code has ${UNIT_CODE_LENGTH} digits, got ${code.length} characters`);
  }
  const nonDigit = code.search(/[^0-9]/);
  if (nonDigit !== -1) {
    return invalid(`digit ${nonDigit + 1} is not a digit 0-9`, nonDigit + 1);
  }
  const category = CATEGORY_BY_DIGIT[code.charAt(0)];
  if (category === undefined) {
    return invalid(
      `digit 1 (registration category) is ${code.charAt(0)}; expected 1 (PD), 2 (WP) or 3 (LS)`,
      1,
    );
  }
  const productionType = PRODUCTION_BY_DIGIT[code.charAt(7)];
  if (productionType === undefined) {
    return invalid(
      `digit 8 (production type) is ${code.charAt(7)}; expected 1 (own), 2 (contract) or 3 (repackaging)`,
      8,
    );
  }
  return {
    ok: true,
    code,
    parts: {
      category,
      registrationDigits: code.slice(1, 7),
      productionType,
      packSizeCode: code.slice(8, 11),
      serial: code.slice(11),
    },
  };
}

function invalid(detail: string, digit?: number): UnitCodeError<'invalid_structure'> {
  return digit === undefined
    ? { ok: false, reason: 'invalid_structure', detail }
    : { ok: false, reason: 'invalid_structure', detail, digit };
}

/**
 * The first seven digits a unit code must carry for a product with this registration number, or
 * null when the number is not in the standard PD/WP/LS + 8 digits form. Older numbers (e.g.
 * `PD85150-7`) and export-only ones (`...F`) have no defined mapping, so they match nothing rather
 * than something guessed.
 */
export function registrationNumberPrefix(registrationNumber: string): string | null {
  // NFKC folds full-width letters, digits and the ideographic space that Chinese input produces.
  const compact = registrationNumber.normalize('NFKC').replace(/\s+/g, '').toUpperCase();
  const m = /^(PD|WP|LS)([0-9]{8})$/.exec(compact);
  if (m === null) return null;
  const [, category, digits] = m as unknown as [string, RegistrationCategory, string];
  return DIGIT_BY_CATEGORY[category] + digits.slice(2);
}

/** Whether a (bare, 32-digit) unit code belongs to the product with this registration number. */
export function unitCodeMatchesRegistration(code: string, registrationNumber: string): boolean {
  const parsed = parseUnitCode(code);
  if (!parsed.ok) return false;
  const prefix = registrationNumberPrefix(registrationNumber);
  return prefix !== null && code.startsWith(prefix);
}
