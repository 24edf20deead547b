// A strict parser for the ESC/POS subset this package emits: it turns captured printer bytes back
// into commands and printed lines, for tests and for anyone debugging what a printer was sent. An
// unknown command or a truncated one is an error with its byte offset, never skipped.
import iconv from 'iconv-lite';
import { displayWidth } from './display-width.js';
import { ESC, FS, GS, LF, QR_ERROR_CORRECTION, QR_FN, TEXT_ENCODING } from './escpos-commands.js';

export type EscPosCommand =
  | { op: 'init'; offset: number }
  | { op: 'chinese_mode'; on: boolean; offset: number }
  | { op: 'align'; align: 'left' | 'center' | 'right'; offset: number }
  | { op: 'bold'; on: boolean; offset: number }
  | { op: 'size'; width: number; height: number; offset: number }
  | { op: 'text'; bytes: Buffer; text: string; offset: number }
  | { op: 'newline'; offset: number }
  | { op: 'feed'; lines: number; offset: number }
  | { op: 'qr_model'; model: number; offset: number }
  | { op: 'qr_module_size'; dots: number; offset: number }
  | { op: 'qr_error_correction'; level: 'L' | 'M' | 'Q' | 'H'; offset: number }
  | { op: 'qr_store'; data: Buffer; offset: number }
  | { op: 'qr_print'; offset: number }
  | { op: 'cut'; partial: boolean; feedLines: number | null; offset: number }
  | { op: 'status_request'; n: number; offset: number };

export class EscPosParseError extends Error {
  readonly code = 'ESCPOS_PARSE';
  constructor(message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'EscPosParseError';
  }
}

const ALIGNS = ['left', 'center', 'right'] as const;
const LEVEL_BY_BYTE = new Map(Object.entries(QR_ERROR_CORRECTION).map(([k, v]) => [v, k as 'L' | 'M' | 'Q' | 'H']));

export function parseEscPos(bytes: Buffer): EscPosCommand[] {
  const out: EscPosCommand[] = [];
  let i = 0;
  const need = (n: number, at: number, what: string) => {
    if (i + n > bytes.length) throw new EscPosParseError(`truncated ${what}`, at);
  };
  const byte = (k: number) => bytes[k]!;
  while (i < bytes.length) {
    const at = i;
    const b = byte(i);
    if (b === LF) {
      out.push({ op: 'newline', offset: at });
      i += 1;
    } else if (b === ESC) {
      need(2, at, 'ESC command');
      const c = byte(i + 1);
      if (c === 0x40) {
        out.push({ op: 'init', offset: at });
        i += 2;
      } else if (c === 0x61) {
        need(3, at, 'ESC a');
        const n = byte(i + 2);
        const align = ALIGNS[n > 2 ? n - 48 : n]; // 0–2 or ASCII '0'–'2'
        if (align === undefined) throw new EscPosParseError(`bad ESC a ${n}`, at);
        out.push({ op: 'align', align, offset: at });
        i += 3;
      } else if (c === 0x45) {
        need(3, at, 'ESC E');
        out.push({ op: 'bold', on: (byte(i + 2) & 1) === 1, offset: at });
        i += 3;
      } else if (c === 0x64) {
        need(3, at, 'ESC d');
        out.push({ op: 'feed', lines: byte(i + 2), offset: at });
        i += 3;
      } else {
        throw new EscPosParseError(`unknown command ESC 0x${c.toString(16)}`, at);
      }
    } else if (b === FS) {
      need(2, at, 'FS command');
      const c = byte(i + 1);
      if (c === 0x26 || c === 0x2e) {
        out.push({ op: 'chinese_mode', on: c === 0x26, offset: at });
        i += 2;
      } else {
        throw new EscPosParseError(`unknown command FS 0x${c.toString(16)}`, at);
      }
    } else if (b === GS) {
      need(2, at, 'GS command');
      const c = byte(i + 1);
      if (c === 0x21) {
        need(3, at, 'GS !');
        const n = byte(i + 2);
        out.push({ op: 'size', width: (n >> 4) + 1, height: (n & 0x0f) + 1, offset: at });
        i += 3;
      } else if (c === 0x56) {
        need(3, at, 'GS V');
        const m = byte(i + 2);
        if (m === 0 || m === 1 || m === 0x30 || m === 0x31) {
          out.push({ op: 'cut', partial: m === 1 || m === 0x31, feedLines: null, offset: at });
          i += 3;
        } else if (m === 65 || m === 66) {
          need(4, at, 'GS V m n');
          out.push({ op: 'cut', partial: m === 66, feedLines: byte(i + 3), offset: at });
          i += 4;
        } else {
          throw new EscPosParseError(`bad GS V ${m}`, at);
        }
      } else if (c === 0x28 && byte(i + 2) === 0x6b) {
        need(5, at, 'GS ( k');
        const length = byte(i + 3) | (byte(i + 4) << 8);
        need(5 + length, at, 'GS ( k parameters');
        const params = bytes.subarray(i + 5, i + 5 + length);
        i += 5 + length;
        out.push(parseQrFunction(params, at));
      } else {
        throw new EscPosParseError(`unknown command GS 0x${c.toString(16)}`, at);
      }
    } else if (b === 0x10) {
      need(3, at, 'DLE EOT');
      if (byte(i + 1) !== 0x04) throw new EscPosParseError(`unknown command DLE 0x${byte(i + 1).toString(16)}`, at);
      out.push({ op: 'status_request', n: byte(i + 2), offset: at });
      i += 3;
    } else if (b < 0x20 || b === 0x7f) {
      throw new EscPosParseError(`unexpected control byte 0x${b.toString(16)}`, at);
    } else {
      // A text run: up to the next control byte. GB18030 never uses bytes below 0x30 inside a
      // multi-byte character, so a control byte always ends the run cleanly.
      let j = i;
      while (j < bytes.length && byte(j) >= 0x20 && byte(j) !== 0x7f) j++;
      const run = bytes.subarray(i, j);
      out.push({ op: 'text', bytes: Buffer.from(run), text: iconv.decode(run, TEXT_ENCODING), offset: at });
      i = j;
    }
  }
  return out;
}

function parseQrFunction(params: Buffer, at: number): EscPosCommand {
  const cn = params[0];
  const fn = params[1];
  if (cn !== 0x31) throw new EscPosParseError(`GS ( k for symbol type cn=${String(cn)}, only QR (49) is expected`, at);
  const arg = (k: number) => {
    const v = params[2 + k];
    if (v === undefined) throw new EscPosParseError(`GS ( k fn ${String(fn)} is missing parameters`, at);
    return v;
  };
  const exact = (n: number) => {
    if (params.length !== n + 2) throw new EscPosParseError(`GS ( k fn ${String(fn)} has ${params.length - 2} parameter bytes, expected ${n}`, at);
  };
  switch (fn) {
    case QR_FN.model:
      exact(2);
      return { op: 'qr_model', model: arg(0) - 48, offset: at };
    case QR_FN.moduleSize:
      exact(1);
      return { op: 'qr_module_size', dots: arg(0), offset: at };
    case QR_FN.errorCorrection: {
      exact(1);
      const level = LEVEL_BY_BYTE.get(arg(0) as 0x30);
      if (level === undefined) throw new EscPosParseError(`bad QR error correction ${arg(0)}`, at);
      return { op: 'qr_error_correction', level, offset: at };
    }
    case QR_FN.store:
      if (arg(0) !== 0x30) throw new EscPosParseError('QR store with m ≠ 48', at);
      return { op: 'qr_store', data: Buffer.from(params.subarray(3)), offset: at };
    case QR_FN.print:
      exact(1);
      if (arg(0) !== 0x30) throw new EscPosParseError('QR print with m ≠ 48', at);
      return { op: 'qr_print', offset: at };
    default:
      throw new EscPosParseError(`unknown QR function fn=${String(fn)}`, at);
  }
}

export interface PrintedLine {
  text: string;
  align: 'left' | 'center' | 'right';
  bold: boolean;
  width: number;
  height: number;
  /** Columns the line takes on the paper: display width × character width. */
  columns: number;
}

/** Replays the commands the way a printer would and returns the text lines it printed. */
export function printedLines(commands: EscPosCommand[]): PrintedLine[] {
  const lines: PrintedLine[] = [];
  let style = { align: 'left' as PrintedLine['align'], bold: false, width: 1, height: 1 };
  let current = '';
  for (const c of commands) {
    switch (c.op) {
      case 'init':
        style = { align: 'left', bold: false, width: 1, height: 1 };
        current = '';
        break;
      case 'align':
        style = { ...style, align: c.align };
        break;
      case 'bold':
        style = { ...style, bold: c.on };
        break;
      case 'size':
        style = { ...style, width: c.width, height: c.height };
        break;
      case 'text':
        current += c.text;
        break;
      case 'newline':
        lines.push({ text: current, ...style, columns: displayWidth(current) * style.width });
        current = '';
        break;
      default:
        break;
    }
  }
  if (current !== '') lines.push({ text: current, ...style, columns: displayWidth(current) * style.width });
  return lines;
}
