// Turns a laid-out PrintDoc into what leaves the machine: ESC/POS bytes for the printer, or the
// plain-text lines the paper will show, for the clerk's screen and the docs.
import { displayWidth, padEndToWidth, padStartToWidth } from './display-width.js';
import { EscPosWriter } from './escpos-commands.js';
import { PAPER, blockColumns, type Align, type PrintDoc, type TextBlock } from './print-doc.js';

/**
 * ESC/POS bytes for a doc: `ESC @`, `FS &`, then the blocks; style commands are written only when
 * the style changes. Throws if a text line would not fit the paper (a layout bug, never silent).
 */
export function renderEscPos(doc: PrintDoc): Buffer {
  const paper = PAPER[doc.paper];
  const w = new EscPosWriter().initialize().chineseMode();
  let align: Align = 'left';
  let bold = false;
  let size = '1x1';
  for (const block of doc.blocks) {
    switch (block.kind) {
      case 'text': {
        if (blockColumns(block) > paper.columns) {
          throw new RangeError(`line wider than ${paper.columns} columns: ${JSON.stringify(block.text)}`);
        }
        if (block.align !== align) w.align((align = block.align));
        if (block.bold !== bold) w.bold((bold = block.bold));
        const blockSize = `${block.width}x${block.height}`;
        if (blockSize !== size) {
          w.size(block.width, block.height);
          size = blockSize;
        }
        w.text(block.text).newline();
        break;
      }
      case 'qr':
        if (align !== 'center') w.align((align = 'center'));
        w.qrCode(block.payload, block.moduleSize).newline();
        break;
      case 'feed':
        w.feedLines(block.lines);
        break;
      case 'cut':
        w.cut();
        break;
    }
  }
  return w.bytes();
}

function placeLine(text: string, align: Align, columns: number): string {
  if (align === 'left') return text;
  if (align === 'right') return padStartToWidth(text, columns);
  const left = Math.floor((columns - displayWidth(text)) / 2);
  return ' '.repeat(Math.max(0, left)) + text;
}

// Double-width text drawn in a monospace font: an ASCII character becomes its full-width twin (two
// columns), a character that is already two columns is followed by an ideographic space (U+3000).
function widen(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x20) out += '\u3000';
    else if (cp > 0x20 && cp < 0x7f) out += String.fromCodePoint(cp + 0xfee0);
    else out += ch + '\u3000';
  }
  return out;
}

function previewText(block: TextBlock, columns: number): string {
  const text = block.width === 2 ? widen(block.text) : block.text;
  return placeLine(text, block.align, columns).trimEnd();
}

/**
 * What the paper shows, one string per printed line, each at most the paper's columns wide (CJK
 * counting two). Double-width text is drawn wide; a QR code is a framed box with its payload;
 * feeds are blank lines; the cut is a line of scissors.
 */
export function renderPreview(doc: PrintDoc): string[] {
  const columns = PAPER[doc.paper].columns;
  const lines: string[] = [];
  for (const block of doc.blocks) {
    switch (block.kind) {
      case 'text':
        lines.push(previewText(block, columns));
        break;
      case 'qr': {
        const label = block.payload.length > columns - 4 ? `${block.payload.slice(0, columns - 7)}...` : block.payload;
        const inner = Math.max(displayWidth(label), 8);
        const pad = (s: string) => placeLine(s, 'center', columns).trimEnd();
        lines.push(pad(`+${'-'.repeat(inner + 2)}+`));
        lines.push(pad(`| ${padEndToWidth('[QR]', inner)} |`));
        lines.push(pad(`| ${padEndToWidth(label, inner)} |`));
        lines.push(pad(`+${'-'.repeat(inner + 2)}+`));
        break;
      }
      case 'feed':
        for (let i = 0; i < block.lines; i++) lines.push('');
        break;
      case 'cut':
        lines.push('- '.repeat(columns / 2 - 2) + '8<');
        break;
    }
  }
  return lines;
}
