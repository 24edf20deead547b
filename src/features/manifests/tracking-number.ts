// Manifest tracking numbers: 16 digits = county code (6) + per-county serial (8) + two check digits
// by ISO 7064 MOD 97-10 (the IBAN scheme), so a mistyped or misread number is refused before any
// lookup: every single-digit error and every adjacent transposition changes the remainder.

const BODY_DIGITS = 14;

function mod97(digits: string): number {
  // Piecewise, so no number exceeds 2^53 however long the input.
  let rem = 0;
  for (const ch of digits) rem = (rem * 10 + Number(ch)) % 97;
  return rem;
}

/** The two check digits for a 14-digit body: 98 − (body × 100 mod 97). */
export function trackingCheckDigits(body: string): string {
  if (!/^[0-9]+$/.test(body)) throw new TypeError('tracking number body must be digits');
  return String(98 - mod97(`${body}00`)).padStart(2, '0');
}

export function makeTrackingNumber(countyId: string, serial: number): string {
  if (!/^[0-9]{6}$/.test(countyId)) throw new TypeError('county id must be six digits');
  if (!Number.isSafeInteger(serial) || serial < 1 || serial > 99_999_999) throw new RangeError('serial must be 1–99999999');
  const body = countyId + String(serial).padStart(8, '0');
  return body + trackingCheckDigits(body);
}

/** Valid when it is 16 digits and the whole number mod 97 is 1 (ISO 7064 MOD 97-10). */
export function isValidTrackingNumber(s: string): boolean {
  return new RegExp(`^[0-9]{${BODY_DIGITS + 2}}$`).test(s) && mod97(s) === 1;
}

/** Strips the spaces and dashes people write between digit groups. */
export function normaliseTrackingNumber(s: string): string {
  return s.replace(/[\s-]/g, '');
}
