// The paper as data: a receipt is laid out once into lines and codes (a PrintDoc), and both the
// ESC/POS bytes and the plain-text preview are made from that same doc, so the preview the clerk
// and the docs see is what the printer gets. Docs are plain JSON, which is how print jobs keep them.
import { displayWidth } from './display-width.js';
import type { PaperWidth } from './models.js';

export type Align = 'left' | 'center' | 'right';

/** Character scale: 1 = normal, 2 = double. Double width halves the columns a line may use. */
export type Scale = 1 | 2;

export interface TextBlock {
  kind: 'text';
  /** One printed line, already laid out: displayWidth(text) × width ≤ the paper's columns. */
  text: string;
  align: Align;
  bold: boolean;
  width: Scale;
  height: Scale;
}

export interface QrBlock {
  kind: 'qr';
  payload: string;
  /** Dots per QR module, 1–16. */
  moduleSize: number;
}

export interface FeedBlock {
  kind: 'feed';
  lines: number;
}

export interface CutBlock {
  kind: 'cut';
}

export type PrintBlock = TextBlock | QrBlock | FeedBlock | CutBlock;

export interface PrintDoc {
  paper: PaperWidth;
  blocks: PrintBlock[];
}

export interface PaperSpec {
  /** Characters per line in font A (12×24 dots) at normal size. */
  columns: number;
  /** Printable dots per line at 203 dpi. */
  dots: number;
}

export const PAPER: Readonly<Record<PaperWidth, PaperSpec>> = {
  58: { columns: 32, dots: 384 },
  80: { columns: 48, dots: 576 },
};

/**
 * Text as the printer can print it: control characters (a product name pasted with a newline)
 * become spaces, and the half-width yen sign becomes the full-width ￥, because GB18030 encodes `¥`
 * (U+00A5) as a four-byte sequence that printers with GB2312/GBK fonts print as garbage, while `￥`
 * is the two-byte A3A4 every Chinese printer has.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').replace(/\u00a5/g, '\uffe5');
}

/** The columns a text block occupies on the paper. */
export function blockColumns(block: TextBlock): number {
  return displayWidth(block.text) * block.width;
}
