// How much text one SMS holds and how a longer reply is cut: GSM 7-bit text holds 160 characters
// (characters of the extension table count twice), anything else goes as UCS-2 and holds 70 UTF-16
// units. A longer message becomes separate SMS, each marked "(1/2)", cut at a line, sentence or word
// boundary where one is near, never inside a surrogate pair.

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '^{}\\[~]|€\f';
const GSM_BASIC_SET = new Set(GSM_BASIC);
const GSM_EXTENSION_SET = new Set(GSM_EXTENSION);

export type SmsCoding = 'gsm7' | 'ucs2';

export const SINGLE_SMS_LIMIT: Record<SmsCoding, number> = { gsm7: 160, ucs2: 70 };

export function codingFor(text: string): SmsCoding {
  for (const ch of text) if (!GSM_BASIC_SET.has(ch) && !GSM_EXTENSION_SET.has(ch)) return 'ucs2';
  return 'gsm7';
}

/** Length as the network counts it in the given coding. */
export function smsLength(text: string, coding: SmsCoding = codingFor(text)): number {
  if (coding === 'ucs2') return text.length; // UTF-16 code units = UCS-2 characters (a surrogate pair takes two)
  let n = 0;
  for (const ch of text) n += GSM_EXTENSION_SET.has(ch) ? 2 : 1;
  return n;
}

export function fitsOneSms(text: string): boolean {
  const coding = codingFor(text);
  return smsLength(text, coding) <= SINGLE_SMS_LIMIT[coding];
}

// Where a cut reads well: after a line break, then after sentence punctuation, then after a comma or
// a space. Chinese punctuation first since most replies are Chinese.
const BREAK_AFTER: string[][] = [['\n'], ['。', '；', '！', '？', '.', ';', '!', '?'], ['，', '、', '：', ',', ':', ' ', '）', ')']];

function cutPoint(chars: string[], start: number, budget: number, coding: SmsCoding): number {
  // The longest prefix from `start` that fits the budget, in whole code points.
  let used = 0;
  let end = start;
  while (end < chars.length) {
    const w = smsLength(chars[end]!, coding);
    if (used + w > budget) break;
    used += w;
    end++;
  }
  if (end >= chars.length) return chars.length;
  // Prefer a boundary in the last 40% of the part rather than a hard cut mid-word.
  const floor = start + Math.max(1, Math.floor((end - start) * 0.6));
  for (const group of BREAK_AFTER) {
    for (let i = end; i > floor; i--) if (group.includes(chars[i - 1]!)) return i;
  }
  return end;
}

/**
 * One SMS if the text fits; otherwise parts of at most one SMS each, every part starting with
 * "(i/n)". All parts use the coding of the whole text so a reply never switches alphabet midway.
 */
export function splitSms(text: string): string[] {
  const clean = text.trim();
  const coding = codingFor(clean);
  const limit = SINGLE_SMS_LIMIT[coding];
  if (smsLength(clean, coding) <= limit) return [clean];
  const chars = Array.from(clean);
  for (let guess = 2; guess < 100; guess++) {
    const budget = limit - `(${guess}/${guess})`.length;
    const pieces: string[] = [];
    let at = 0;
    while (at < chars.length) {
      while (at < chars.length && /\s/.test(chars[at]!)) at++;
      if (at >= chars.length) break;
      const end = cutPoint(chars, at, budget, coding);
      pieces.push(chars.slice(at, end).join('').trimEnd());
      at = end;
    }
    if (pieces.length <= guess) return pieces.map((p, i) => `(${i + 1}/${pieces.length})${p}`);
  }
  throw new RangeError('message too long to send as SMS');
}
