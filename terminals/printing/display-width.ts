// Column arithmetic for receipt paper. A thermal printer in Chinese mode prints a CJK character
// (and a full-width form such as ￥) two columns wide, so padding by `string.length` would push
// amounts off the paper; everything that lays out columns goes through these functions.

/**
 * Columns one character takes on the paper: 0, 1 or 2. In Chinese mode the printer prints every
 * single-byte (ASCII) character from the 12×24 font and every multi-byte GB18030 character from the
 * 24×24 font, so the rule is by encoding, not by Unicode's East Asian Width: `×` and `·` are
 * "ambiguous" in Unicode but two columns on the paper, because GB18030 encodes them in two bytes.
 */
export function charWidth(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x20 || cp === 0x7f) return 0; // control characters print nothing (we never emit them as text)
  return cp < 0x80 ? 1 : 2;
}

/** Columns a string takes on the paper at normal size: `"押金 x2"` → 7. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += charWidth(ch);
  return width;
}

/** The longest prefix of `text` that fits in `columns`, never splitting a wide character. */
export function truncateToWidth(text: string, columns: number): string {
  let width = 0;
  let out = '';
  for (const ch of text) {
    const w = charWidth(ch);
    if (width + w > columns) break;
    width += w;
    out += ch;
  }
  return out;
}

/**
 * Break `text` into lines of at most `columns`. Latin words stay whole where they fit; CJK text may
 * break between any two characters, as Chinese typesetting does.
 */
export function wrapToWidth(text: string, columns: number): string[] {
  if (columns < 2) throw new RangeError(`cannot wrap into ${columns} columns`);
  const lines: string[] = [];
  let line = '';
  let width = 0;
  // Tokens: a run of printable ASCII (a word), a run of spaces, or one other character.
  const tokens = text.match(/[\x21-\x7e]+|\s+|[\s\S]/gu) ?? [];
  for (const token of tokens) {
    const w = displayWidth(token);
    if (/^\s+$/.test(token)) {
      // Spaces are kept (they pad columns and indent) unless they fall at a line break.
      if (width + w <= columns) {
        line += token;
        width += w;
      } else {
        lines.push(line.trimEnd());
        line = '';
        width = 0;
      }
      continue;
    }
    if (width + w <= columns) {
      line += token;
      width += w;
      continue;
    }
    if (width > 0) {
      // Chinese typesetting never starts a line with closing punctuation: take the character
      // before it down to the new line too.
      let carry = '';
      if (NO_LINE_START.test(token)) {
        const chars = Array.from(line.trimEnd());
        if (chars.length > 1) carry = chars.pop()!;
        line = chars.join('');
      }
      lines.push(line.trimEnd());
      line = carry;
      width = displayWidth(carry);
      if (width + w <= columns) {
        line += token;
        width += w;
        continue;
      }
    }
    let rest = line + token;
    line = '';
    while (displayWidth(rest) > columns) {
      const head = truncateToWidth(rest, columns);
      lines.push(head);
      rest = rest.slice(head.length);
    }
    line = rest;
    width = displayWidth(rest);
  }
  if (line.trimEnd() !== '' || lines.length === 0) lines.push(line.trimEnd());
  return lines;
}

const NO_LINE_START = /^[，。、；：？！）」』》〉】,.;:?!)]/u;

/** `left` and `right` on one line, `right` flush with the right edge; null when they do not fit. */
export function spreadToWidth(left: string, right: string, columns: number): string | null {
  const gap = columns - displayWidth(left) - displayWidth(right);
  if (gap < 1) return null;
  return left + ' '.repeat(gap) + right;
}

export function padEndToWidth(text: string, columns: number): string {
  return text + ' '.repeat(Math.max(0, columns - displayWidth(text)));
}

export function padStartToWidth(text: string, columns: number): string {
  return ' '.repeat(Math.max(0, columns - displayWidth(text))) + text;
}
