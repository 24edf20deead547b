// The ESC/POS commands this package emits, as bytes, in one place: the renderer writes them and the
// parser (escpos-parse.ts) reads them back. Only standard Epson ESC/POS is used, plus `FS &`, which
// every Chinese-market printer (and Epson's own Chinese models) understands as "Chinese mode".
import iconv from 'iconv-lite';

export const ESC = 0x1b;
export const FS = 0x1c;
export const GS = 0x1d;
export const LF = 0x0a;

/** `GS ( k` QR functions: cn = 49 (0x31) selects QR Code, fn is the function code. */
export const QR_FN = {
  model: 0x41, // fn 165: select model
  moduleSize: 0x43, // fn 167: set module size in dots
  errorCorrection: 0x45, // fn 169: select error correction level
  store: 0x50, // fn 180: store data in the symbol storage area
  print: 0x51, // fn 181: print the stored symbol
} as const;

export const QR_ERROR_CORRECTION = { L: 0x30, M: 0x31, Q: 0x32, H: 0x33 } as const;

export const TEXT_ENCODING = 'gb18030';

/** Appends ESC/POS commands to a growing byte list. */
export class EscPosWriter {
  private readonly chunks: Buffer[] = [];

  private push(...bytes: number[]): this {
    this.chunks.push(Buffer.from(bytes));
    return this;
  }

  /** ESC @ — initialise: clears the buffer and resets modes to the power-on defaults. */
  initialize(): this {
    return this.push(ESC, 0x40);
  }

  /** FS & — Chinese character mode: bytes ≥ 0x80 are read as GB18030 (GBK/GB2312 on older fonts). */
  chineseMode(): this {
    return this.push(FS, 0x26);
  }

  /** ESC a n — justification of the following lines: 0 left, 1 centre, 2 right. */
  align(align: 'left' | 'center' | 'right'): this {
    return this.push(ESC, 0x61, align === 'left' ? 0 : align === 'center' ? 1 : 2);
  }

  /** ESC E n — emphasised (bold) on or off. */
  bold(on: boolean): this {
    return this.push(ESC, 0x45, on ? 1 : 0);
  }

  /** GS ! n — character size: high nibble is width − 1, low nibble height − 1 (1–8 each). */
  size(width: number, height: number): this {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || width > 8 || height < 1 || height > 8) {
      throw new RangeError(`character size must be 1–8, got ${width}×${height}`);
    }
    return this.push(GS, 0x21, ((width - 1) << 4) | (height - 1));
  }

  /** Text encoded as GB18030; the caller has removed control characters. */
  text(text: string): this {
    this.chunks.push(iconv.encode(text, TEXT_ENCODING));
    return this;
  }

  /** LF — print the line buffer and feed one line. */
  newline(): this {
    return this.push(LF);
  }

  /** ESC d n — print and feed n lines. */
  feedLines(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 255) throw new RangeError(`feed must be 0–255 lines, got ${n}`);
    return this.push(ESC, 0x64, n);
  }

  private qrFunction(fn: number, params: Buffer): this {
    const length = params.length + 2; // cn and fn count towards pL pH
    if (length > 0xffff) throw new RangeError('QR data too long');
    this.push(GS, 0x28, 0x6b, length & 0xff, length >> 8, 0x31, fn);
    this.chunks.push(params);
    return this;
  }

  /**
   * A QR code: model 2, the module size in dots, error correction M, store the UTF-8 payload, print.
   * Five `GS ( k` commands, as in Epson's reference for fn 165/167/169/180/181.
   */
  qrCode(payload: string, moduleSize: number, level: keyof typeof QR_ERROR_CORRECTION = 'M'): this {
    if (!Number.isInteger(moduleSize) || moduleSize < 1 || moduleSize > 16) {
      throw new RangeError(`QR module size must be 1–16 dots, got ${moduleSize}`);
    }
    const data = Buffer.from(payload, 'utf8');
    if (data.length < 1 || data.length > 7089) throw new RangeError(`QR payload must be 1–7089 bytes, got ${data.length}`);
    this.qrFunction(QR_FN.model, Buffer.from([0x32, 0x00])); // n1 = 50: model 2
    this.qrFunction(QR_FN.moduleSize, Buffer.from([moduleSize]));
    this.qrFunction(QR_FN.errorCorrection, Buffer.from([QR_ERROR_CORRECTION[level]]));
    this.qrFunction(QR_FN.store, Buffer.concat([Buffer.from([0x30]), data])); // m = 48
    this.qrFunction(QR_FN.print, Buffer.from([0x30]));
    return this;
  }

  /** GS V 1 — partial cut (leaves a hinge, so a receipt does not fall on the floor). */
  cut(): this {
    return this.push(GS, 0x56, 0x01);
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
