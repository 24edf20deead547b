// What the counter prints, as plain data: the POS terminal fills these from its journal records and
// hands them to the layout functions. Money is integer fen; times are ISO 8601 strings (they are
// persisted in print jobs as JSON) and are printed in the shop's time zone.
import type { DrawerFigures } from '../../src/shared/drawer-figures.js';
import type { ItemIncentive } from './incentive-text.js';

export type PaperWidth = 58 | 80;

/** Reasons a returned container is turned away, as recorded by the inspection at the counter. */
export type RejectReason =
  | 'not_rinsed'
  | 'damaged'
  | 'not_scheme_product'
  | 'unknown_code'
  | 'already_returned'
  | 'other_county'
  | 'other';

export const REJECT_REASON_TEXT: Readonly<Record<RejectReason, { zh: string; en: string }>> = {
  not_rinsed: { zh: '未清洗', en: 'not rinsed' },
  damaged: { zh: '破损', en: 'damaged' },
  not_scheme_product: { zh: '非本方案产品', en: 'not a scheme product' },
  unknown_code: { zh: '无法识别', en: 'unknown code' },
  already_returned: { zh: '已退回', en: 'already returned' },
  other_county: { zh: '外县产品', en: 'other county' },
  other: { zh: '其他', en: 'other' },
};

export const REJECT_REASONS = Object.keys(REJECT_REASON_TEXT) as RejectReason[];

export interface SaleReceiptLine {
  productName: string;
  /** The product's pack size as the farmer reads it on the package, e.g. "250 mL" (printed after the name). */
  packSizeLabel?: string;
  quantity: number;
  depositPerContainerFen: number;
  /** quantity × depositPerContainerFen; checked when the receipt is laid out. */
  lineDepositFen: number;
}

export interface SaleReceipt {
  shopName: string;
  saleNumber: string;
  soldAt: string;
  /** Already masked by the caller (`maskName`, `maskPhone` in src/shared/phone.ts). */
  purchaserMaskedName: string;
  purchaserMaskedPhone: string;
  lines: SaleReceiptLine[];
  totalDepositFen: number;
  /** The last county day the deposit can be refunded (sale + the county's deposit validity), YYYY-MM-DD. */
  refundableUntil?: string;
  /** What the QR code carries; `saleQrPayload()` makes the standard one. */
  qrPayload: string;
}

export interface RefundAcceptedItem {
  productName: string;
  packSizeLabel?: string;
  quantity: number;
  /** All cash for the item: deposit refunded plus buy-back (issue 17). */
  refundFen: number;
  /** Which incentive applied and why (issue 17); printed under the item when not a plain deposit refund. */
  incentive?: ItemIncentive;
}

export interface RefundRejectedItem {
  productName: string;
  quantity: number;
  reason: RejectReason;
  /** Free text the clerk typed, printed under the reason (required in practice for `other`). */
  note?: string;
}

export type RefundPayment =
  | { method: 'cash' }
  | { method: 'mobile'; reference: string };

export interface RefundReceipt {
  shopName: string;
  refundNumber: string;
  returnedAt: string;
  /** Masked returner, if known; a bearer refund may have neither. */
  returnerMaskedName?: string;
  returnerMaskedPhone?: string;
  accepted: RefundAcceptedItem[];
  rejected: RefundRejectedItem[];
  /** Sum of accepted refundFen; checked when the receipt is laid out. */
  refundedFen: number;
  payment: RefundPayment;
  qrPayload?: string;
  /** Issue 17: the buy-back part of refundedFen (paid from the county's incentive fund). */
  buybackFen?: number;
  /** Points this return earned, in milli-points. */
  pointsEarnedMilli?: number;
  /** The returner's points balance after this return (null: not known at the counter yet). */
  pointsBalanceMilli?: number | null;
  /** True when the incentives are the terminal's offline estimate, not yet the county server's answer. */
  incentivesEstimated?: boolean;
}

/** Goods a shop gave for points (issue 17): printed when the county server has recorded the redemption. */
export interface RedemptionReceipt {
  shopName: string;
  /** The terminal's receipt number (DH…); the server's redemption number beside it. */
  receiptNo: string;
  redemptionNo: string;
  redeemedAt: string;
  farmerMaskedName: string;
  farmerMaskedPhone: string;
  goods: string;
  goodsValueFen: number;
  pointsMilli: number;
  balanceAfterMilli: number;
}

/**
 * A void slip: the counter undid one of its own sales or returns of the day (a `reversal` record).
 * Voiding a sale gives the deposits back to the buyer (cash out of the drawer); voiding a return takes
 * the refund back from the farmer (cash into the drawer, or back by mobile payment).
 */
export interface VoidSlip {
  shopName: string;
  /** The void's own receipt number (ZF…). */
  voidNumber: string;
  voidedAt: string;
  target: 'sale' | 'return';
  /** The receipt number of the sale (XS…) or return (HS…) undone. */
  targetNumber: string;
  reason: { zh: string; en: string };
  lines: Array<{ productName: string; packSizeLabel?: string; quantity: number; amountFen: number }>;
  containers: number;
  /** Sum of the lines: the deposits of the sale, or the refund of the return (buy-back included). */
  amountFen: number;
  /** How the money of a voided return goes back (cash into the drawer, or by mobile payment). */
  payment?: RefundPayment;
}

/** Bag materials in words, as the clerk and the hauler read them (codes stay on the label in brackets). */
export const MATERIAL_TEXT: Readonly<Record<string, { zh: string; en: string }>> = {
  HDPE: { zh: '高密度聚乙烯 HDPE', en: 'HDPE plastic' },
  PET: { zh: '聚酯 PET', en: 'PET plastic' },
  COEX: { zh: '共挤多层塑料 COEX', en: 'co-extruded plastic (COEX)' },
  PP: { zh: '聚丙烯 PP', en: 'PP plastic' },
  glass: { zh: '玻璃', en: 'glass' },
  aluminium: { zh: '铝', en: 'aluminium' },
  plastic_bag: { zh: '塑料袋', en: 'plastic bag' },
  paper_bag: { zh: '纸袋', en: 'paper bag' },
  composite_bag: { zh: '复合袋', en: 'composite bag' },
};

export function materialText(code: string, lang: 'zh' | 'en'): string {
  return MATERIAL_TEXT[code]?.[lang] ?? code;
}

export interface BagLabelCount {
  containerType: string;
  count: number;
}

export interface BagLabel {
  sealNumber: string;
  material: string;
  county: string;
  shopName: string;
  /** ISO date (YYYY-MM-DD) or date-time the bag was sealed. */
  sealedAt: string;
  counts: BagLabelCount[];
  /** What the QR code carries; `bagQrPayload()` makes the standard one from the seal number. */
  qrPayload: string;
}

export interface DrawerReport extends DrawerFigures {
  shopName: string;
  /**
   * Voids of the day at this counter, on their own lines: deposits given back for voided sales (cash
   * out) and refunds taken back for voided returns (of which cash: back into the drawer).
   */
  voids?: { count: number; salesFen: number; returnsFen: number; returnsCashFen: number };
  /** The terminal's number in the county as officials see it (T007), or its id tail from an older server. */
  terminal?: string;
  /** The business day, YYYY-MM-DD. */
  day: string;
  printedAt: string;
}

/**
 * What a sale receipt's QR holds. Given the county server the terminal is enrolled with, the public
 * check page of the sale (issue 16): `<server>/check/<county>?q=<receipt no.>` — a farmer's phone opens
 * it, and a return counter reads the receipt number out of it. Without one (tests of the layout, a
 * terminal never enrolled) the bare payload `AGRIRETURN:SALE:<receipt no.>` of receipts printed
 * before, which return counters keep accepting.
 */
export function saleQrPayload(saleNumber: string, publicCheck?: { serverUrl: string; countyId: string }): string {
  if (publicCheck?.serverUrl) return saleCheckUrl(publicCheck.serverUrl, publicCheck.countyId, saleNumber);
  return `AGRIRETURN:SALE:${saleNumber}`;
}

/** The public check page of a sale receipt (src/features/trace/public-check.ts reads `q` as a receipt number). */
export function saleCheckUrl(serverUrl: string, countyId: string, saleNumber: string): string {
  return `${serverUrl.replace(/\/+$/, '')}/check/${encodeURIComponent(countyId)}?q=${encodeURIComponent(saleNumber)}`;
}

export function refundQrPayload(refundNumber: string): string {
  return `AGRIRETURN:REFUND:${refundNumber}`;
}

export function bagQrPayload(sealNumber: string): string {
  return `AGRIRETURN:BAG:${sealNumber}`;
}

/**
 * The shop's statutory ledgers printed at the counter for an inspector (inspector mode), from the
 * terminal's own journal: the sales ledger of Pesticide Management Regulation art. 27 and the
 * containers taken back (the recycling ledger's received part). Purchasers in clear: it is the
 * shop's own ledger, shown at the shop.
 */
export interface InspectorLedger {
  shopName: string;
  shopLicence: string | null;
  from: string;
  to: string;
  printedAt: string;
  sales: Array<{ day: string; receiptNo: string; productName: string; registrationNo: string; packSizeLabel: string; quantity: number; purchaserName: string; purchaserPhone: string }>;
  received: Array<{ day: string; productName: string; quantity: number }>;
}
