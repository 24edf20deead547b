// Reads captured printer bytes the way the tests need them: the parsed commands, the printed text
// lines, and the QR codes (each a model/size/level/store/print sequence) with their payloads.
import { parseEscPos, printedLines, type EscPosCommand, type PrintedLine } from '../../../../terminals/printing/escpos-parse.js';

export interface QrCode {
  model: number;
  moduleSize: number;
  level: string;
  payload: string;
  /** True when the print command came right after the store command. */
  printedRightAfterStore: boolean;
}

export interface ReadReceipt {
  commands: EscPosCommand[];
  lines: PrintedLine[];
  text: string;
  qrCodes: QrCode[];
}

export function readReceipt(bytes: Buffer): ReadReceipt {
  const commands = parseEscPos(bytes);
  const lines = printedLines(commands);
  const qrCodes: QrCode[] = [];
  let pending: Partial<QrCode> = {};
  for (const [i, c] of commands.entries()) {
    if (c.op === 'qr_model') pending = { model: c.model };
    else if (c.op === 'qr_module_size') pending.moduleSize = c.dots;
    else if (c.op === 'qr_error_correction') pending.level = c.level;
    else if (c.op === 'qr_store') {
      const next = commands[i + 1];
      qrCodes.push({
        model: pending.model ?? -1,
        moduleSize: pending.moduleSize ?? -1,
        level: pending.level ?? '?',
        payload: c.data.toString('utf8'),
        printedRightAfterStore: next?.op === 'qr_print',
      });
      pending = {};
    }
  }
  return { commands, lines, text: lines.map((l) => l.text).join('\n'), qrCodes };
}
