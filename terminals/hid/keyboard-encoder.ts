// Types text as a keyboard-mode scanner would: a press report and a release report per
// character, then Enter. Used by tests, fixtures and the demo; never by the live path.
import { charToKey, KEY_ENTER } from './keyboard-layout.js';

export interface KeyboardEncodeOptions {
  /** Terminator key after the text (default Enter; null for none). */
  terminator?: 'enter' | 'tab' | null;
  /** Use right shift (0x20) instead of left shift (0x02). */
  rightShift?: boolean;
}

export function keyReport(modifiers: number, ...usages: number[]): Uint8Array {
  const r = new Uint8Array(8);
  r[0] = modifiers;
  usages.slice(0, 6).forEach((u, i) => (r[2 + i] = u));
  return r;
}

export const RELEASE_REPORT = keyReport(0);
export const ROLLOVER_REPORT = keyReport(0, 1, 1, 1, 1, 1, 1);

/** Reports typing `text`; throws on characters a US keyboard cannot type. */
export function encodeKeyboardScan(text: string, options: KeyboardEncodeOptions = {}): Uint8Array[] {
  const reports: Uint8Array[] = [];
  for (const ch of text) {
    const key = charToKey(ch);
    if (key === null) throw new Error(`cannot type ${JSON.stringify(ch)} on a US keyboard`);
    const modifiers = options.rightShift && key.modifiers === 0x02 ? 0x20 : key.modifiers;
    reports.push(keyReport(modifiers, key.usage), RELEASE_REPORT);
  }
  const terminator = options.terminator === undefined ? 'enter' : options.terminator;
  if (terminator !== null) reports.push(keyReport(0, terminator === 'enter' ? KEY_ENTER : 0x2b), RELEASE_REPORT);
  return reports;
}
