// Lays the receipt models out on paper: the shop's wording, the order of lines, what is bold or
// large. Every function returns a PrintDoc whose lines fit the paper by construction.
import { assertFen, formatFen } from '../../src/shared/money.js';
import { DEFAULT_TIME_ZONE } from '../../src/shared/business-day.js';
import { displayWidth, padEndToWidth, padStartToWidth, spreadToWidth, wrapToWidth } from './display-width.js';
import {
  REJECT_REASON_TEXT,
  MATERIAL_TEXT,
  type BagLabel,
  type DrawerReport,
  type InspectorLedger,
  type PaperWidth,
  type RedemptionReceipt,
  type RefundReceipt,
  type SaleReceipt,
  type VoidSlip,
} from './models.js';
import { formatPoints, INCENTIVE_KIND_TEXT, INCENTIVE_REASON_TEXT, type ItemIncentive } from './incentive-text.js';
import { PAPER, printable, type Align, type PrintBlock, type PrintDoc, type Scale } from './print-doc.js';

export interface LayoutOptions {
  paper: PaperWidth;
  /** IANA zone the shop's clock shows; receipts print local time. */
  timeZone?: string;
}

export class ReceiptModelError extends Error {
  readonly code = 'PRINT_MODEL_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ReceiptModelError';
  }
}

interface LineStyle {
  align?: Align;
  bold?: boolean;
  width?: Scale;
  height?: Scale;
  /** Columns of indent for this line and its continuation lines. */
  indent?: number;
}

/** Collects blocks for one doc and keeps every text line within the paper's columns. */
class DocBuilder {
  private readonly blocks: PrintBlock[] = [];
  readonly columns: number;

  constructor(readonly paper: PaperWidth) {
    this.columns = PAPER[paper].columns;
  }

  /** One or more lines: `text` is wrapped to fit at its scale. */
  line(text: string, style: LineStyle = {}): this {
    const width = style.width ?? 1;
    const indent = ' '.repeat(style.indent ?? 0);
    for (const part of wrapToWidth(printable(text), Math.floor(this.columns / width) - indent.length)) {
      this.blocks.push({
        kind: 'text',
        text: indent + part,
        align: style.align ?? 'left',
        bold: style.bold ?? false,
        width,
        height: style.height ?? 1,
      });
    }
    return this;
  }

  /** `left ....... right` on one line, or `left` wrapped with `right` flush right below it. */
  spread(left: string, right: string, style: LineStyle = {}): this {
    const columns = Math.floor(this.columns / (style.width ?? 1));
    const one = spreadToWidth(printable(left), printable(right), columns);
    if (one !== null) return this.line(one, style);
    this.line(left, style);
    return this.line(padStartToWidth(printable(right), columns), style);
  }

  rule(ch: '-' | '=' = '-'): this {
    return this.line(ch.repeat(this.columns));
  }

  qr(payload: string, preferredModuleSize: number): this {
    this.blocks.push({ kind: 'qr', payload, moduleSize: qrModuleSizeFor(payload, preferredModuleSize, PAPER[this.paper].dots) });
    return this;
  }

  feed(lines: number): this {
    this.blocks.push({ kind: 'feed', lines });
    return this;
  }

  cut(): this {
    this.blocks.push({ kind: 'cut' });
    return this;
  }

  build(): PrintDoc {
    return { paper: this.paper, blocks: this.blocks };
  }
}

// Byte-mode capacity of QR versions 1–20 at error correction level M (ISO/IEC 18004 table 7).
const QR_BYTES_AT_M = [14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666];

/**
 * The largest module size up to `preferred` at which the QR code (with its 4-module quiet zone)
 * still fits the paper; a long payload needs a higher version and therefore smaller modules.
 */
export function qrModuleSizeFor(payload: string, preferred: number, dots: number): number {
  const bytes = Buffer.byteLength(payload, 'utf8');
  if (bytes < 1) throw new ReceiptModelError('a QR code needs a payload');
  const version = QR_BYTES_AT_M.findIndex((cap) => bytes <= cap) + 1;
  if (version === 0) throw new ReceiptModelError(`QR payload of ${bytes} bytes is too long for a receipt`);
  const modules = 17 + 4 * version + 8;
  return Math.max(1, Math.min(preferred, 16, Math.floor(dots / modules)));
}

function yuan(fen: number): string {
  return formatFen(fen, 'zh');
}

/** `2025-04-03T06:05:00Z` → `2025-04-03 14:05` in Asia/Shanghai; a bare date stays a date. */
export function formatLocalTime(iso: string, timeZone: string = DEFAULT_TIME_ZONE): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new ReceiptModelError(`not an ISO time: ${JSON.stringify(iso)}`);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

function assertCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new ReceiptModelError(`${what} must be a non-negative integer, got ${n}`);
}

function header(b: DocBuilder, shopName: string, titleZh: string, titleEn: string): void {
  b.line(shopName, { align: 'center', bold: true, width: 2, height: 2 });
  b.line(titleZh, { align: 'center', bold: true });
  b.line(titleEn, { align: 'center' });
  b.rule();
}

function totalLine(b: DocBuilder, label: string, amount: string): void {
  // Double height keeps the full width of the line (58 mm has no room for double width) and still
  // makes the total the line the farmer's eye lands on.
  b.spread(label, amount, { bold: true, height: 2 });
}

export function layoutSaleReceipt(receipt: SaleReceipt, options: LayoutOptions): PrintDoc {
  const b = new DocBuilder(options.paper);
  let sum = 0;
  for (const [i, line] of receipt.lines.entries()) {
    assertCount(line.quantity, `line ${i + 1} quantity`);
    assertFen(line.depositPerContainerFen);
    assertFen(line.lineDepositFen);
    if (line.lineDepositFen !== line.quantity * line.depositPerContainerFen) {
      throw new ReceiptModelError(`line ${i + 1}: line deposit ${line.lineDepositFen} ≠ ${line.quantity} × ${line.depositPerContainerFen}`);
    }
    sum += line.lineDepositFen;
  }
  assertFen(receipt.totalDepositFen);
  if (sum !== receipt.totalDepositFen) {
    throw new ReceiptModelError(`total deposit ${receipt.totalDepositFen} ≠ sum of lines ${sum}`);
  }

  header(b, receipt.shopName, '农药包装押金收据', 'PESTICIDE CONTAINER DEPOSIT RECEIPT');
  b.line(`单号 No.: ${receipt.saleNumber}`);
  b.line(`时间 Time: ${formatLocalTime(receipt.soldAt, options.timeZone)}`);
  b.line(`购买人 Buyer: ${receipt.purchaserMaskedName}`);
  b.line(`电话 Phone: ${receipt.purchaserMaskedPhone}`);
  b.rule();

  const wide = options.paper === 80;
  // 80 mm: name | qty | deposit each | line deposit in columns; 58 mm: name, then the sum under it.
  const qtyCols = 5;
  const amountCols = 12;
  const nameCols = b.columns - qtyCols - 2 * amountCols;
  if (wide) {
    b.line(
      padEndToWidth('商品 Product', nameCols) +
        padStartToWidth('数量', qtyCols) +
        padStartToWidth('押金/个', amountCols) +
        padStartToWidth('押金', amountCols),
    );
    b.line(' '.repeat(nameCols) + padStartToWidth('Qty', qtyCols) + padStartToWidth('Each', amountCols) + padStartToWidth('Deposit', amountCols));
  } else {
    b.spread('商品 Product', '押金 Deposit');
    b.line('  数量 x 押金/个 Qty x each');
  }
  b.rule();
  for (const line0 of receipt.lines) {
    const line = { ...line0, productName: line0.packSizeLabel ? `${line0.productName} ${line0.packSizeLabel}` : line0.productName };
    const qty = String(line.quantity);
    const each = yuan(line.depositPerContainerFen);
    const total = yuan(line.lineDepositFen);
    if (wide) {
      const nameParts = wrapToWidth(printable(line.productName), nameCols - 1);
      const first = nameParts.shift() ?? '';
      const rest = padStartToWidth(qty, qtyCols) + padStartToWidth(printable(each), amountCols) + padStartToWidth(printable(total), amountCols);
      b.line(first + ' '.repeat(nameCols - displayWidth(first)) + rest);
      for (const part of nameParts) b.line(part);
    } else {
      b.line(line.productName);
      b.spread(`  ${qty} x ${each}`, total);
    }
  }
  b.rule('=');
  totalLine(b, '押金合计 Total deposit', yuan(receipt.totalDepositFen));
  if (receipt.refundableUntil) {
    b.line(`押金可退至 Refundable until: ${receipt.refundableUntil}`, { bold: true });
  }
  b.rule();
  b.qr(receipt.qrPayload, wide ? 8 : 6);
  b.line(receipt.saleNumber, { align: 'center' });
  b.feed(1);
  b.line('请妥善保管此单据。空包装清洗晾干后可到本县任一门店退还押金。', { align: 'center' });
  b.line('Keep this receipt. Return empty, rinsed containers to any shop in the county for your deposit.', { align: 'center' });
  b.feed(3).cut();
  return b.build();
}

export function layoutRefundReceipt(receipt: RefundReceipt, options: LayoutOptions): PrintDoc {
  const b = new DocBuilder(options.paper);
  let sum = 0;
  for (const [i, item] of receipt.accepted.entries()) {
    assertCount(item.quantity, `accepted item ${i + 1} quantity`);
    assertFen(item.refundFen);
    sum += item.refundFen;
  }
  for (const [i, item] of receipt.rejected.entries()) {
    assertCount(item.quantity, `rejected item ${i + 1} quantity`);
    if (REJECT_REASON_TEXT[item.reason] === undefined) throw new ReceiptModelError(`unknown reject reason ${String(item.reason)}`);
  }
  assertFen(receipt.refundedFen);
  if (sum !== receipt.refundedFen) throw new ReceiptModelError(`refunded ${receipt.refundedFen} ≠ sum of accepted items ${sum}`);
  // Issue 17: the buy-back is part of the cash, item by item; points are counted apart from money.
  const buyback = receipt.accepted.reduce((n, i) => n + (i.incentive?.buybackFen ?? 0), 0);
  for (const [i, item] of receipt.accepted.entries()) {
    if (!item.incentive) continue;
    assertFen(item.incentive.buybackFen);
    assertCount(item.incentive.pointsMilli, `accepted item ${i + 1} points`);
    if (item.incentive.buybackFen > item.refundFen) throw new ReceiptModelError(`accepted item ${i + 1}: buy-back ${item.incentive.buybackFen} > its cash ${item.refundFen}`);
  }
  if (receipt.buybackFen !== undefined) {
    assertFen(receipt.buybackFen);
    if (receipt.buybackFen !== buyback) throw new ReceiptModelError(`buy-back ${receipt.buybackFen} ≠ sum of the items' buy-back ${buyback}`);
  }
  const points = receipt.accepted.reduce((n, i) => n + (i.incentive?.pointsMilli ?? 0), 0);
  if (receipt.pointsEarnedMilli !== undefined) {
    assertCount(receipt.pointsEarnedMilli, 'points earned');
    if (receipt.pointsEarnedMilli !== points) throw new ReceiptModelError(`points earned ${receipt.pointsEarnedMilli} ≠ sum of the items' points ${points}`);
  }
  if (receipt.pointsBalanceMilli !== undefined && receipt.pointsBalanceMilli !== null) assertCount(receipt.pointsBalanceMilli, 'points balance');

  header(b, receipt.shopName, '押金退还收据', 'DEPOSIT REFUND RECEIPT');
  b.line(`单号 No.: ${receipt.refundNumber}`);
  b.line(`时间 Time: ${formatLocalTime(receipt.returnedAt, options.timeZone)}`);
  if (receipt.returnerMaskedName) b.line(`退还人 Returned by: ${receipt.returnerMaskedName}`);
  if (receipt.returnerMaskedPhone) b.line(`电话 Phone: ${receipt.returnerMaskedPhone}`);
  b.rule();

  const acceptedCount = receipt.accepted.reduce((n, i) => n + i.quantity, 0);
  b.spread('已接收 Accepted', `${acceptedCount}`, { bold: true });
  for (const item of receipt.accepted) {
    b.line(item.packSizeLabel ? `${item.productName} ${item.packSizeLabel}` : item.productName);
    b.spread(`  ${item.quantity} x`, yuan(item.refundFen));
    if (item.incentive) incentiveLines(b, item.incentive);
  }
  if (receipt.accepted.length === 0) b.line('  (无 none)');
  b.rule();

  const rejectedCount = receipt.rejected.reduce((n, i) => n + i.quantity, 0);
  b.spread('未接收 Rejected', `${rejectedCount}`, { bold: true });
  for (const item of receipt.rejected) {
    const reason = REJECT_REASON_TEXT[item.reason];
    b.spread(item.productName, `x${item.quantity}`);
    b.line(`${reason.zh} ${reason.en} [${item.reason}]`, { indent: 2 });
    if (item.note) b.line(item.note, { indent: 2 });
  }
  if (receipt.rejected.length === 0) b.line('  (无 none)');
  b.rule('=');

  totalLine(b, '退款合计 Refunded', yuan(receipt.refundedFen));
  const incentives = receipt.buybackFen !== undefined || receipt.pointsEarnedMilli !== undefined || receipt.accepted.some((i) => i.incentive);
  if (incentives) {
    if (buyback > 0) {
      b.spread('  其中押金 deposits', yuan(receipt.refundedFen - buyback));
      b.spread('  其中有偿回收 buy-back', yuan(buyback));
    }
    b.spread('本次积分 Points earned', formatPoints(points), { bold: points > 0 });
    if (receipt.pointsBalanceMilli !== undefined) {
      b.spread('积分余额 Points balance', receipt.pointsBalanceMilli === null ? '联网后可查 after sync' : formatPoints(receipt.pointsBalanceMilli));
    }
    if (receipt.incentivesEstimated) {
      b.line('回收款和积分为本机估算，以县服务器核定为准。', { indent: 2 });
      b.line('Buy-back and points are this terminal\'s estimate; the county server confirms them.', { indent: 2 });
    }
  }
  if (receipt.payment.method === 'cash') {
    b.line('支付 Paid: 现金 cash');
  } else {
    b.line('支付 Paid: 移动支付 mobile');
    b.line(`参考号 Ref: ${receipt.payment.reference}`);
  }
  b.rule();
  if (receipt.qrPayload) {
    b.qr(receipt.qrPayload, options.paper === 80 ? 8 : 6);
    b.line(receipt.refundNumber, { align: 'center' });
  }
  b.feed(1);
  if (receipt.rejected.length > 0) {
    b.line('未接收的包装请清洗晾干后再来退还。', { align: 'center' });
    b.line('Rejected containers: rinse, dry and bring them back.', { align: 'center' });
  }
  b.line('请妥善保管此单据。', { align: 'center' });
  b.line('Please keep this receipt.', { align: 'center' });
  b.feed(3).cut();
  return b.build();
}

/** Under an accepted item: the incentive in words when it is more than a plain deposit refund. */
function incentiveLines(b: DocBuilder, i: ItemIncentive): void {
  if (i.kind === 'deposit' && !i.reason) return;
  const kind = INCENTIVE_KIND_TEXT[i.kind];
  if (!kind) throw new ReceiptModelError(`unknown incentive ${String(i.kind)}`);
  const what: string[] = [];
  if (i.buybackFen > 0) what.push(`有偿回收 buy-back ${yuan(i.buybackFen)}`);
  if (i.pointsMilli > 0) what.push(`积分 points ${formatPoints(i.pointsMilli)}`);
  b.line(what.length ? what.join(' · ') : `${kind.zh} ${kind.en}`, { indent: 4 });
  if (i.reason) {
    const reason = INCENTIVE_REASON_TEXT[i.reason];
    if (!reason) throw new ReceiptModelError(`unknown incentive reason ${String(i.reason)}`);
    b.line(`${reason.zh} ${reason.en}`, { indent: 4 });
  }
}

/** Goods given for points at the counter (issue 17), once the county server has recorded them. */
export function layoutRedemptionReceipt(r: RedemptionReceipt, options: LayoutOptions): PrintDoc {
  const b = new DocBuilder(options.paper);
  assertCount(r.pointsMilli, 'points');
  if (r.pointsMilli === 0) throw new ReceiptModelError('a redemption takes some points');
  assertCount(r.balanceAfterMilli, 'balance after');
  assertFen(r.goodsValueFen);
  header(b, r.shopName, '积分兑换收据', 'POINTS REDEMPTION RECEIPT');
  b.line(`单号 No.: ${r.receiptNo}`);
  b.line(`兑换号 Redemption: ${r.redemptionNo}`);
  b.line(`时间 Time: ${formatLocalTime(r.redeemedAt, options.timeZone)}`);
  b.line(`农户 Farmer: ${r.farmerMaskedName}`);
  b.line(`电话 Phone: ${r.farmerMaskedPhone}`);
  b.rule();
  b.line('兑换物品 Goods', { bold: true });
  b.line(r.goods, { indent: 2 });
  b.spread('  物品价值 Value', yuan(r.goodsValueFen));
  b.rule('=');
  totalLine(b, '使用积分 Points used', formatPoints(r.pointsMilli));
  b.spread('积分余额 Balance after', formatPoints(r.balanceAfterMilli), { bold: true });
  b.rule();
  b.feed(1);
  b.line('积分只能兑换物品，不能兑换现金。', { align: 'center' });
  b.line('Points are for goods only, never cash.', { align: 'center' });
  b.line('请妥善保管此单据。', { align: 'center' });
  b.line('Please keep this receipt.', { align: 'center' });
  b.feed(3).cut();
  return b.build();
}

export function layoutBagLabel(label: BagLabel, options: LayoutOptions): PrintDoc {
  const b = new DocBuilder(options.paper);
  for (const [i, c] of label.counts.entries()) assertCount(c.count, `count ${i + 1}`);
  b.line('农药包装废弃物回收袋', { align: 'center', bold: true });
  b.line('PESTICIDE PACKAGING WASTE BAG', { align: 'center' });
  b.rule();
  b.line('封签号 Seal No.', { align: 'center' });
  b.line(label.sealNumber, { align: 'center', bold: true, width: 2, height: 2 });
  b.qr(label.qrPayload, options.paper === 80 ? 10 : 8);
  b.rule();
  const mat = MATERIAL_TEXT[label.material];
  b.line(`材质 Material: ${mat ? `${mat.zh} / ${mat.en}` : label.material}`);
  b.line(`县 County: ${label.county}`);
  b.line(`门店 Shop: ${label.shopName}`);
  b.line(`封袋日期 Sealed: ${formatLocalTime(label.sealedAt, options.timeZone)}`);
  b.rule();
  b.spread('包装类型 Container', '数量 Count');
  for (const c of label.counts) b.spread(c.containerType, String(c.count));
  b.rule('=');
  totalLine(b, '合计 Total', String(label.counts.reduce((n, c) => n + c.count, 0)));
  b.feed(3).cut();
  return b.build();
}

export function layoutVoidSlip(slip: VoidSlip, options: LayoutOptions): PrintDoc {
  const b = new DocBuilder(options.paper);
  let sum = 0;
  let containers = 0;
  for (const [i, line] of slip.lines.entries()) {
    assertCount(line.quantity, `line ${i + 1} quantity`);
    assertFen(line.amountFen);
    sum += line.amountFen;
    containers += line.quantity;
  }
  assertFen(slip.amountFen);
  if (sum !== slip.amountFen) throw new ReceiptModelError(`void amount ${slip.amountFen} ≠ sum of lines ${sum}`);
  if (containers !== slip.containers) throw new ReceiptModelError(`void containers ${slip.containers} ≠ sum of lines ${containers}`);
  const sale = slip.target === 'sale';
  header(b, slip.shopName, sale ? '作废销售' : '作废退押', sale ? 'SALE VOIDED' : 'RETURN VOIDED');
  b.line(`作废单号 Void no.: ${slip.voidNumber}`);
  b.line(`${sale ? '原销售单 Sale' : '原退押单 Return'}: ${slip.targetNumber}`, { bold: true });
  b.line(`时间 Time: ${formatLocalTime(slip.voidedAt, options.timeZone)}`);
  b.line(`原因 Reason: ${slip.reason.zh} ${slip.reason.en}`);
  b.rule();
  for (const line of slip.lines) {
    b.line(line.packSizeLabel ? `${line.productName} ${line.packSizeLabel}` : line.productName);
    b.spread(`  ${line.quantity} x`, yuan(line.amountFen));
  }
  b.rule('=');
  b.spread('包装数 Containers', String(slip.containers));
  if (sale) {
    totalLine(b, '退还押金 Deposit back', yuan(slip.amountFen));
    b.line('押金已退还购买人，原小票作废。 Deposit handed back; the sale receipt is void.', { align: 'center' });
  } else {
    totalLine(b, '收回退款 Refund back', yuan(slip.amountFen));
    const p = slip.payment;
    b.line(p?.method === 'mobile' ? `经移动支付收回，原退押单作废。 Back by mobile payment (${p.reference}); the return receipt is void.` : '农户交回现金，原退押单作废。 Cash back into the drawer; the return receipt is void.', { align: 'center' });
  }
  b.feed(3).cut();
  return b.build();
}

export function layoutDrawerReport(report: DrawerReport, options: LayoutOptions): PrintDoc {
  const b = new DocBuilder(options.paper);
  for (const fen of [report.depositsTakenFen, report.refundsPaidFen, report.refundsPaidCashFen, report.netCashExpectedFen]) assertFen(fen);
  for (const [name, n] of Object.entries({
    salesCount: report.salesCount,
    containersSold: report.containersSold,
    returnsCount: report.returnsCount,
    containersAccepted: report.containersAccepted,
    containersRejected: report.containersRejected,
  })) {
    assertCount(n, name);
  }
  header(b, report.shopName, '日结报表', 'DRAWER REPORT');
  b.line(`营业日 Day: ${report.day}`);
  if (report.terminal) b.line(`终端 Terminal: ${report.terminal}`);
  if (report.clerkName) b.line(`店员 Clerk: ${report.clerkName}`);
  b.rule();
  if (report.openingFloatFen !== undefined) {
    assertFen(report.openingFloatFen);
    b.spread('备用金 Opening float', yuan(report.openingFloatFen));
  }
  b.spread('收取押金 Deposits taken', yuan(report.depositsTakenFen));
  // With buy-back paid, the line is what left the drawer for farmers: deposit refunds and buy-back
  // (docs/incentives.md, "Refunds and buy-back in the figures"); the buy-back part is shown below.
  b.spread((report.buybackPaidFen ?? 0) > 0 ? '退款及有偿回收 Paid out' : '退还押金 Refunds paid', yuan(report.refundsPaidFen));
  b.spread('  其中现金 of which cash', yuan(report.refundsPaidCashFen));
  if (report.buybackPaidFen !== undefined) {
    // Buy-back is cash out of the drawer like a deposit refund (it is part of the refunds above).
    assertFen(report.buybackPaidFen);
    if (report.buybackPaidFen > report.refundsPaidFen) throw new ReceiptModelError(`buy-back ${report.buybackPaidFen} > refunds paid ${report.refundsPaidFen}`);
    b.spread('  其中有偿回收 buy-back', yuan(report.buybackPaidFen));
  }
  if (report.voids && report.voids.count > 0) {
    // Voids on their own lines: a voided sale's deposits went back out, a voided return's cash came back in.
    const v = report.voids;
    for (const fen of [v.salesFen, v.returnsFen, v.returnsCashFen]) assertFen(fen);
    assertCount(v.count, 'voids');
    b.line(`作废 Voids: ${v.count}`);
    if (v.salesFen > 0) b.spread('  作废销售退押金 Sales voided', `-${yuan(v.salesFen)}`);
    if (v.returnsFen > 0) b.spread('  作废退押收回 Returns voided', `+${yuan(v.returnsFen)}`);
    if (v.returnsCashFen !== v.returnsFen) b.spread('    其中现金 of which cash', `+${yuan(v.returnsCashFen)}`);
  }
  b.rule('=');
  totalLine(b, '应有现金 Net cash', yuan(report.netCashExpectedFen));
  b.rule();
  if (report.pointsEarnedMilli !== undefined || report.pointsRedeemedMilli !== undefined) {
    assertCount(report.pointsEarnedMilli ?? 0, 'points earned');
    assertCount(report.pointsRedeemedMilli ?? 0, 'points redeemed');
    b.spread('积分发放 Points earned', formatPoints(report.pointsEarnedMilli ?? 0));
    b.spread('积分兑换 Points redeemed', formatPoints(report.pointsRedeemedMilli ?? 0));
    if (report.redemptionsCount !== undefined) {
      assertCount(report.redemptionsCount, 'redemptions');
      b.spread('  兑换笔数 Redemptions', String(report.redemptionsCount));
    }
    if (report.redeemedGoodsValueFen !== undefined) {
      assertFen(report.redeemedGoodsValueFen);
      b.spread('  物品价值 Goods value', yuan(report.redeemedGoodsValueFen));
    }
    b.line('积分兑换物品，不动现金 Points: goods, no cash', { indent: 2 });
    b.rule();
  }
  b.spread('销售笔数 Sales', String(report.salesCount));
  b.spread('售出包装 Containers sold', String(report.containersSold));
  b.spread('退还笔数 Returns', String(report.returnsCount));
  b.spread('接收包装 Accepted', String(report.containersAccepted));
  b.spread('拒收包装 Rejected', String(report.containersRejected));
  b.rule();
  b.line(`打印 Printed: ${formatLocalTime(report.printedAt, options.timeZone)}`);
  b.feed(3).cut();
  return b.build();
}

/** Inspector mode: the shop's sales ledger (art. 27) and containers taken back, for a period. */
export function layoutInspectorLedger(l: InspectorLedger, options: LayoutOptions): PrintDoc {
  const b = new DocBuilder(options.paper);
  header(b, l.shopName, '农药经营台账（检查用）', 'LEDGERS FOR INSPECTION');
  if (l.shopLicence) b.line(`许可证 Licence: ${l.shopLicence}`);
  b.line(`期间 Period: ${l.from} 至 ${l.to}`);
  b.rule('=');
  b.line('销售台账 Sales ledger', { bold: true });
  b.rule();
  let sold = 0;
  for (const s of l.sales) {
    assertCount(s.quantity, 'quantity');
    sold += s.quantity;
    b.spread(s.day, s.receiptNo);
    b.line(`${s.productName}${s.packSizeLabel ? ` ${s.packSizeLabel}` : ''}`);
    b.spread(`登记证号 ${s.registrationNo}`, `x${s.quantity}`);
    b.line(`购买人 ${s.purchaserName} ${s.purchaserPhone}`);
    b.rule();
  }
  if (l.sales.length === 0) b.line('本期无销售 No sales');
  b.spread('销售合计 Sales total', `${l.sales.length} / ${sold}`, { bold: true });
  b.rule('=');
  b.line('回收台账 Containers taken back', { bold: true });
  b.rule();
  let back = 0;
  for (const r of l.received) {
    assertCount(r.quantity, 'quantity');
    back += r.quantity;
    b.spread(`${r.day} ${r.productName}`, `x${r.quantity}`);
  }
  if (l.received.length === 0) b.line('本期无回收 None taken back');
  b.spread('回收合计 Total taken back', String(back), { bold: true });
  b.rule();
  b.line(`打印 Printed: ${formatLocalTime(l.printedAt, options.timeZone)}`);
  b.line('数据来自本终端日志 From this terminal\'s journal');
  b.feed(3).cut();
  return b.build();
}

/** A copy of a doc stamped as a reprint, so a second paper copy cannot pass for a second receipt. */
export function markAsReprint(doc: PrintDoc, reprintedAt: string, timeZone: string = DEFAULT_TIME_ZONE): PrintDoc {
  const stamp = new DocBuilder(doc.paper)
    .line('*** 重印 REPRINT ***', { align: 'center', bold: true })
    .line(formatLocalTime(reprintedAt, timeZone), { align: 'center' })
    .build().blocks;
  return { paper: doc.paper, blocks: [...stamp, ...doc.blocks] };
}
