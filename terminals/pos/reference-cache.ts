// The reference data a terminal sells with when the server is out of reach: refreshed on every sync,
// kept on disk, and the only source of deposits and products at the counter.
import { extractUnitCode, unitCodeMatchesRegistration } from '../../src/shared/unit-code.js';
import { DEFAULT_TIME_ZONE } from '../../src/shared/business-day.js';
import { gtinCheckDigitOk } from '../../src/shared/gtin.js';
import { NO_SETTINGS, type CachedIncentiveRate, type ContainerTypeFacts, type IncentiveSettings } from './incentive-estimate.js';

export interface CachedProduct {
  id: string;
  name: string;
  registrationNo: string;
  manufacturer: string;
  gtin: string | null;
  containerTypeId: string;
  packSizeCode: string | null;
  packSizeLabel: string;
}

export interface Snapshot {
  serverTime: string;
  businessDay: string;
  county: { id: string; nameZh: string; nameEn: string; timezone: string; untrackedRefundPolicy: string; lateReturnPolicy: string; depositValidityDays?: number } & Partial<IncentiveSettings>;
  shop: { id: string; name: string; licenceNo: string; address: string } | null;
  containerTypes: Array<{ id: string; code: string; nameZh: string; nameEn: string; material: string; volumeMl?: number | null }>;
  products: CachedProduct[];
  depositSchedules: Array<{ id: string; containerTypeId: string | null; depositFen: number; effectiveFrom: string; effectiveTo: string | null }>;
  depositsInForce: Array<{ containerTypeId: string; depositFen: number | null }>;
  farmers: Array<{ id: string; name: string; phoneE164: string; village: string }>;
  farmersIncluded: boolean;
  /** Days synced records are kept (absent from servers older than issue 12). */
  terminalJournalKeepDays?: number;
  /** The server's newest request to send again everything since an instant (after a restore). */
  resend?: { id: string; since: string; requestedAt: string } | null;
  /** The county's incentive rates (issue 17; absent from older servers): the offline incentive estimate. */
  incentiveRates?: CachedIncentiveRate[];
  /** The county's incentive settings, if the server sends them apart from `county`. */
  incentiveSettings?: Partial<IncentiveSettings> | null;
  /** The server's public address (its PUBLIC_URL): sale receipts' QR codes open its check page. Absent from older servers; null when unset. */
  publicUrl?: string | null;
  /** The terminal that fetched the snapshot and its number in the county (receipt numbers carry it). Absent from older servers. */
  terminal?: { id: string; terminalNo: number } | null;
}

/**
 * What a failed scan was, so the clerk hears and reads something distinct for each:
 * - `misread`: a digit run cut short or over-long (not a barcode length, not 32 digits) — scan again;
 *   it never becomes a return row or a bag line;
 * - `bad_barcode`: a number of barcode length whose GS1 check digit is wrong (misread or mistyped: INVALID_GTIN, as the server answers);
 * - `foreign_barcode`: a well-formed product barcode (EAN-8/UPC/EAN-13/GTIN-14) of something else;
 * - `foreign_unit_code`: a well-formed 32-digit unit code of a product not in the county's scheme;
 * - `not_a_code`: text with no barcode or unit code in it (a web address, a word);
 * - `sale_receipt` / `other_receipt`: one of our own receipts' or labels' QR codes.
 */
export type ScanFailureKind = 'misread' | 'bad_barcode' | 'foreign_barcode' | 'foreign_unit_code' | 'not_a_code' | 'sale_receipt' | 'other_receipt';

export type ScanResolution =
  | { ok: true; product: CachedProduct; unitCode: string | null }
  | { ok: false; code: 'PRODUCT_NOT_FOUND' | 'INVALID_GTIN' | 'UNIT_CODE_INVALID' | 'MISREAD' | 'SALE_RECEIPT'; kind: ScanFailureKind; reason?: string; unitCode?: string; gtin?: string; receiptNo?: string; digits?: number };

const GTIN_LENGTHS = new Set([8, 12, 13, 14]);
// Our own QR payloads (terminals/printing/models.ts): AGRIRETURN:SALE:<receipt no.> (receipts printed
// before issue 16), and the older agrireturn:sale:<county>:<record id> of receipts printed before issue 14.
const OWN_QR = /^AGRIRETURN:(SALE|REFUND|BAG|HELD):(.+)$/i;
// Sale receipts since issue 16 hold the server's public check page: <server>/check/<county>?q=<receipt no.>.
const CHECK_URL = /^https?:\/\/[^\s/?#]+(?:\/[^\s?#]*)?\/check\/[0-9]{6}\/?\?([^\s#]*)(?:#\S*)?$/i;
const RECEIPT_NO = /^[A-Za-z0-9][A-Za-z0-9-]{0,39}$/;

/** `q` of a public check URL (what the page was asked about), or null when the scan is no such URL. */
function checkUrlQuery(s: string): string | null {
  const m = CHECK_URL.exec(s);
  if (!m) return null;
  try {
    return new URLSearchParams(m[1]!).get('q')?.trim() || null;
  } catch {
    return null;
  }
}

/** Classify a raw scan without the catalogue: receipt QR, barcode, unit code, misread or other text. */
export function classifyScan(scan: string): { kind: 'gtin'; gtin: string } | { kind: 'bad_gtin'; gtin: string } | { kind: 'unit_code'; code: string } | { kind: 'sale_receipt'; receiptNo: string } | { kind: 'other_receipt'; what: string } | { kind: 'misread'; digits: number } | { kind: 'not_a_code' } {
  // eslint-disable-next-line no-control-regex
  const s = scan.replace(/\p{Cc}/gu, '').trim();
  const q = checkUrlQuery(s);
  if (q !== null) {
    // The receipt's QR as the public check page: what it asks about is the receipt (or a unit code).
    const inner = classifyScan(q);
    if (inner.kind === 'sale_receipt' || inner.kind === 'unit_code') return inner;
    if (RECEIPT_NO.test(q) && /[A-Za-z]/.test(q)) return { kind: 'sale_receipt', receiptNo: q };
  }
  const own = OWN_QR.exec(s);
  if (own) {
    const what = own[1]!.toUpperCase();
    if (what === 'SALE') {
      const rest = own[2]!;
      // Old payload: <county>:<record id>; new: the printed receipt number.
      const old = /^[0-9]{6}:([0-9a-f-]{36})$/i.exec(rest);
      return { kind: 'sale_receipt', receiptNo: old ? old[1]! : rest };
    }
    return { kind: 'other_receipt', what };
  }
  const digitsOnly = s.replace(/[\s-]/g, '').replace(/[\uFF10-\uFF19]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xff10 + 0x30));
  if (/^[0-9]+$/.test(digitsOnly)) {
    if (GTIN_LENGTHS.has(digitsOnly.length)) return gtinCheckDigitOk(digitsOnly) ? { kind: 'gtin', gtin: digitsOnly } : { kind: 'bad_gtin', gtin: digitsOnly };
    if (digitsOnly.length === 32) {
      const got = extractUnitCode(digitsOnly);
      return got.ok ? { kind: 'unit_code', code: got.code } : { kind: 'misread', digits: 32 };
    }
    return { kind: 'misread', digits: digitsOnly.length };
  }
  const got = extractUnitCode(s);
  if (got.ok) return { kind: 'unit_code', code: got.code };
  const longest = (s.match(/[0-9]+/g) ?? []).reduce((m, r) => Math.max(m, r.length), 0);
  if (got.reason === 'misread' || got.reason === 'ambiguous' || got.reason === 'invalid_structure' || longest > 14) return { kind: 'misread', digits: longest };
  return { kind: 'not_a_code' };
}

/** What the clerk reads about a scan that added nothing: says what it was and what to do. */
export function scanFailureText(r: Extract<ScanResolution, { ok: false }>): { message: string; message_zh: string; signal: 'refused' | 'misread' | 'receipt' } {
  switch (r.kind) {
    case 'misread':
      return { message: `Misread — scan again (${r.digits ?? 0} digits read; a trace code has 32)`, message_zh: `读码不全，请重扫（读到 ${r.digits ?? 0} 位，追溯码应为 32 位）`, signal: 'misread' };
    case 'bad_barcode':
      return { message: `Barcode ${r.gtin}: the check digit is wrong — misread or mistyped, scan again`, message_zh: `商品条码 ${r.gtin} 校验位不对：读错或输错了，请重扫`, signal: 'misread' };
    case 'foreign_barcode':
      return { message: `Product barcode ${r.gtin}: not a pesticide of the county’s scheme — no deposit, hand it back`, message_zh: `商品条码 ${r.gtin}：不是本县回收的农药产品，没有押金，请退还农户`, signal: 'refused' };
    case 'foreign_unit_code':
      return { message: `Trace code …${(r.unitCode ?? '').slice(-8)} of a product not in the county’s scheme — no deposit`, message_zh: `追溯码 …${(r.unitCode ?? '').slice(-8)}：该产品不在本县回收目录，没有押金`, signal: 'refused' };
    case 'sale_receipt':
      return { message: `Sale receipt ${r.receiptNo}`, message_zh: `销售小票 ${r.receiptNo}`, signal: 'receipt' };
    case 'other_receipt':
      return { message: 'This is one of our receipts or bag labels, not a container: scan the container’s code', message_zh: '这是本系统的小票或袋签，不是包装上的码，请扫包装上的码', signal: 'refused' };
    default:
      return { message: 'Not a barcode or trace code (text or a web address): scan the code on the container', message_zh: '不是商品条码或追溯码（文字或网址），请扫包装上的码', signal: 'refused' };
  }
}

export class ReferenceCache {
  constructor(readonly snapshot: Snapshot, readonly fetchedAt: string) {}

  /** The county's time zone, from the snapshot: every business day at this counter is a day of this zone. */
  get timeZone(): string {
    return this.snapshot.county.timezone || DEFAULT_TIME_ZONE;
  }

  /** Days a deposit can be refunded after the sale (the county's setting; 365 from servers before issue 14). */
  get depositValidityDays(): number {
    return this.snapshot.county.depositValidityDays ?? 365;
  }

  /**
   * This terminal's number in the county, as the server gave it (T007 in its receipt numbers); null
   * from an older server, or when the cached snapshot is another terminal's (enrolled again since).
   */
  terminalNo(terminalId: string): number | null {
    const t = this.snapshot.terminal;
    return t && t.id === terminalId && Number.isInteger(t.terminalNo) && t.terminalNo >= 1 ? t.terminalNo : null;
  }

  /** The server's public address for the receipts' check page (its PUBLIC_URL); null when it sent none or nothing usable. */
  get publicUrl(): string | null {
    const u = this.snapshot.publicUrl;
    if (typeof u !== 'string' || u.trim() === '') return null;
    try {
      return /^https?:$/.test(new URL(u).protocol) ? u.trim().replace(/\/+$/, '') : null;
    } catch {
      return null;
    }
  }

  /** The county's incentive rates as last synced (none from servers before issue 17). */
  get incentiveRates(): CachedIncentiveRate[] {
    return Array.isArray(this.snapshot.incentiveRates) ? this.snapshot.incentiveRates : [];
  }

  /** Caps and the empty-fund rule, from the county (or a settings object of their own); no caps when absent. */
  get incentiveSettings(): IncentiveSettings {
    const from = { ...this.snapshot.county, ...(this.snapshot.incentiveSettings ?? {}) } as Partial<IncentiveSettings>;
    const cap = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);
    return {
      incentiveHouseholdBuybackCapFen: cap(from.incentiveHouseholdBuybackCapFen),
      incentiveHouseholdPointsCapMilli: cap(from.incentiveHouseholdPointsCapMilli),
      incentiveShopBuybackCapFen: cap(from.incentiveShopBuybackCapFen),
      incentiveWhenFundEmpty: from.incentiveWhenFundEmpty === 'points_only' ? 'points_only' : NO_SETTINGS.incentiveWhenFundEmpty,
    };
  }

  containerType(id: string): ContainerTypeFacts | undefined {
    const t = this.snapshot.containerTypes.find((c) => c.id === id);
    return t ? { id: t.id, material: t.material, volumeMl: t.volumeMl ?? null } : undefined;
  }

  product(id: string): CachedProduct | undefined {
    return this.snapshot.products.find((p) => p.id === id);
  }

  /** The deposit per container on a day, as the server computes it: a specific schedule beats the default. */
  depositFor(containerTypeId: string, day: string): number | null {
    const fits = this.snapshot.depositSchedules.filter((s) => s.effectiveFrom <= day && (s.effectiveTo === null || s.effectiveTo > day));
    const own = fits.find((s) => s.containerTypeId === containerTypeId);
    const dflt = fits.find((s) => s.containerTypeId === null);
    return (own ?? dflt)?.depositFen ?? null;
  }

  /** What a scanner read: a GTIN (8 or 12–14 digits) or a trace URL / bare 32-digit unit code. */
  resolveScan(scan: string): ScanResolution {
    const c = classifyScan(scan);
    switch (c.kind) {
      case 'gtin': {
        const product = this.snapshot.products.find((p) => p.gtin === c.gtin);
        return product ? { ok: true, product, unitCode: null } : { ok: false, code: 'PRODUCT_NOT_FOUND', kind: 'foreign_barcode', gtin: c.gtin };
      }
      case 'bad_gtin':
        return { ok: false, code: 'INVALID_GTIN', kind: 'bad_barcode', gtin: c.gtin };
      case 'unit_code': {
        const fits = this.snapshot.products.filter((p) => unitCodeMatchesRegistration(c.code, p.registrationNo));
        const product = fits.find((p) => p.packSizeCode === c.code.slice(8, 11)) ?? fits[0];
        return product ? { ok: true, product, unitCode: c.code } : { ok: false, code: 'PRODUCT_NOT_FOUND', kind: 'foreign_unit_code', unitCode: c.code };
      }
      case 'sale_receipt':
        return { ok: false, code: 'SALE_RECEIPT', kind: 'sale_receipt', receiptNo: c.receiptNo };
      case 'other_receipt':
        return { ok: false, code: 'UNIT_CODE_INVALID', kind: 'other_receipt', reason: c.what };
      case 'misread':
        return { ok: false, code: 'MISREAD', kind: 'misread', digits: c.digits };
      default:
        return { ok: false, code: 'UNIT_CODE_INVALID', kind: 'not_a_code' };
    }
  }
}
