// US keyboard layout for HID boot keyboard usages (HID Usage Tables, page 0x07): what a
// keyboard-mode scanner's key presses mean, and the reverse for the encoder.

export const KEY_ENTER = 0x28;
export const KEY_ESCAPE = 0x29;
export const KEY_BACKSPACE = 0x2a;
export const KEY_TAB = 0x2b;
export const KEYPAD_ENTER = 0x58;
/** Keyboard ErrorRollOver: sent in every key slot when too many keys are down. */
export const KEY_ERROR_ROLLOVER = 0x01;
/** POSTFail and ErrorUndefined: never a key. */
export const KEY_ERROR_POST_FAIL = 0x02;
export const KEY_ERROR_UNDEFINED = 0x03;

export const MOD_LEFT_CTRL = 0x01;
export const MOD_LEFT_SHIFT = 0x02;
export const MOD_LEFT_ALT = 0x04;
export const MOD_RIGHT_CTRL = 0x10;
export const MOD_RIGHT_SHIFT = 0x20;
export const MOD_RIGHT_ALT = 0x40;
export const MOD_SHIFT = MOD_LEFT_SHIFT | MOD_RIGHT_SHIFT;
export const MOD_CTRL = MOD_LEFT_CTRL | MOD_RIGHT_CTRL;
export const MOD_ALT = MOD_LEFT_ALT | MOD_RIGHT_ALT;

/** usage → [unshifted, shifted] for keys that type a printable character. */
const PRINTABLE: ReadonlyMap<number, readonly [string, string]> = (() => {
  const m = new Map<number, readonly [string, string]>();
  for (let i = 0; i < 26; i++) {
    const ch = String.fromCharCode(0x61 + i);
    m.set(0x04 + i, [ch, ch.toUpperCase()]);
  }
  const digits = '1234567890';
  const shiftedDigits = '!@#$%^&*()';
  for (let i = 0; i < 10; i++) m.set(0x1e + i, [digits.charAt(i), shiftedDigits.charAt(i)]);
  const rest: Array<[number, string, string]> = [
    [0x2c, ' ', ' '],
    [0x2d, '-', '_'],
    [0x2e, '=', '+'],
    [0x2f, '[', '{'],
    [0x30, ']', '}'],
    [0x31, '\\', '|'],
    [0x33, ';', ':'],
    [0x34, "'", '"'],
    [0x35, '`', '~'],
    [0x36, ',', '<'],
    [0x37, '.', '>'],
    [0x38, '/', '?'],
  ];
  for (const [usage, plain, shifted] of rest) m.set(usage, [plain, shifted]);
  // Keypad: some scanners type digits on the keypad; NumLock state is not in the report, so
  // they are taken as digits.
  const keypad: Array<[number, string]> = [
    [0x54, '/'], [0x55, '*'], [0x56, '-'], [0x57, '+'],
    [0x59, '1'], [0x5a, '2'], [0x5b, '3'], [0x5c, '4'], [0x5d, '5'],
    [0x5e, '6'], [0x5f, '7'], [0x60, '8'], [0x61, '9'], [0x62, '0'], [0x63, '.'],
  ];
  for (const [usage, ch] of keypad) m.set(usage, [ch, ch]);
  return m;
})();

/** The character a key press types, a control character for Ctrl+letter, or null. */
export function usageToChar(usage: number, modifiers: number): string | null {
  const keys = PRINTABLE.get(usage);
  if (keys === undefined) {
    if (usage === KEY_BACKSPACE) return '\b';
    if (usage === KEY_ESCAPE) return '\u001b';
    return null;
  }
  // Ctrl+letter is how scanners send prefixes like STX (Ctrl+B) and ETX (Ctrl+C).
  if ((modifiers & MOD_CTRL) !== 0) {
    return usage >= 0x04 && usage <= 0x1d ? String.fromCharCode(usage - 0x04 + 1) : null;
  }
  // Alt combinations are Windows Alt-code input or menu shortcuts, never plain text.
  if ((modifiers & MOD_ALT) !== 0) return null;
  return (modifiers & MOD_SHIFT) !== 0 ? keys[1] : keys[0];
}

/** For the encoder: the key and shift state that type `ch`, or null if US layout cannot type it. */
export function charToKey(ch: string): { usage: number; modifiers: number } | null {
  if (ch === '\n' || ch === '\r') return { usage: KEY_ENTER, modifiers: 0 };
  if (ch === '\t') return { usage: KEY_TAB, modifiers: 0 };
  const code = ch.charCodeAt(0);
  if (ch.length === 1 && code >= 1 && code <= 26 && ch !== '\b') {
    return { usage: 0x04 + code - 1, modifiers: MOD_LEFT_CTRL };
  }
  for (const [usage, [plain, shifted]] of PRINTABLE) {
    if (usage >= 0x54) break; // prefer the main block over the keypad
    if (plain === ch) return { usage, modifiers: 0 };
    if (shifted === ch) return { usage, modifiers: MOD_LEFT_SHIFT };
  }
  return null;
}
