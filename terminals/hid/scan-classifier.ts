// Decides what a scanner read: a valid 32-digit unit code, a GTIN with a good check digit, other
// text, or a misread. A damaged unit code must come out as a misread, never as a wrong code.
import { gtinCheckDigitOk } from '../../src/shared/gtin.js';
import { extractUnitCode, type UnitCodeParts } from '../../src/shared/unit-code.js';
import { stripControlChars } from './keyboard-decoder.js';

export type ScanPayload =
  | { kind: 'unit_code'; code: string; parts: UnitCodeParts }
  | { kind: 'gtin'; gtin: string }
  | { kind: 'text'; text: string };

export type ScanClassification =
  | { ok: true; payload: ScanPayload }
  | { ok: false; reason: 'misread' | 'ambiguous' | 'invalid_structure' | 'bad_check_digit' | 'empty'; detail: string };

const GTIN_LENGTHS = new Set([8, 12, 13, 14]);

export function classifyScan(scanned: string): ScanClassification {
  const text = stripControlChars(scanned).trim();
  if (text === '') return { ok: false, reason: 'empty', detail: 'the scan was empty' };

  const unit = extractUnitCode(text);
  if (unit.ok) return { ok: true, payload: { kind: 'unit_code', code: unit.code, parts: unit.parts } };
  if (unit.reason !== 'not_found') return { ok: false, reason: unit.reason, detail: unit.detail };

  if (/^[0-9]+$/.test(text)) {
    if (GTIN_LENGTHS.has(text.length) && gtinCheckDigitOk(text)) return { ok: true, payload: { kind: 'gtin', gtin: text } };
    // A bare number of barcode length that fails its check digit, or one or two digits short of
    // one, is a damaged barcode: counting it would count the wrong product.
    if (text.length >= 6 && text.length <= 14) {
      return {
        ok: false,
        reason: 'bad_check_digit',
        detail: `${text.length}-digit number is not a valid GTIN (check digit or length); rescan`,
      };
    }
  }
  return { ok: true, payload: { kind: 'text', text } };
}
