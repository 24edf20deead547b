// Receipts and labels for the shop POS terminal: lay a model out, preview it, print it through a
// durable queue. The terminal imports from here only.
export * from './models.js';
export * from './incentive-text.js';
export { layoutSaleReceipt, layoutRefundReceipt, layoutBagLabel, layoutDrawerReport, layoutInspectorLedger, layoutRedemptionReceipt, layoutVoidSlip, markAsReprint, formatLocalTime, ReceiptModelError, type LayoutOptions } from './layout.js';
export { PAPER, type PrintDoc, type PrintBlock, type TextBlock, type QrBlock, type Align, type Scale } from './print-doc.js';
export { renderEscPos, renderPreview } from './render.js';
export { displayWidth, wrapToWidth } from './display-width.js';
export { TcpPrinterTransport, PrinterError, type PrinterTransport, type TcpPrinterOptions, type PrinterErrorCode } from './transport.js';
export { PrintQueue, PrintQueueError, type PrintJob, type PrintJobState, type PrinterState, type PrintJobKind, type PrintQueueOptions, type EnqueueInput } from './print-queue.js';
export { parseEscPos, printedLines, EscPosParseError, type EscPosCommand, type PrintedLine } from './escpos-parse.js';
