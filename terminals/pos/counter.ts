// What the clerk does at the counter, offline-first: each action is priced from the cached reference
// data, written to the journal (durable before it is confirmed), then its receipt is queued for the
// printer. The server sees the record when the sync worker gets through.
import { newClientId } from '../../src/shared/client-id.js';
import { extractUnitCode, unitCodeMatchesRegistration } from '../../src/shared/unit-code.js';
import { maskName, maskPhone, normalisePhone } from '../../src/shared/phone.js';
import {
  layoutDrawerReport, layoutInspectorLedger, saleQrPayload, refundQrPayload, layoutRefundReceipt, layoutSaleReceipt, layoutVoidSlip, renderPreview,
  type DrawerReport, type InspectorLedger, type PrintDoc, type PrintJobKind, type PrintQueue, type RefundPayment, type RefundReceipt, type RejectReason, type SaleReceipt, type VoidSlip,
} from '../printing/index.js';
import { isVoidReason, VOID_REASON_TEXT, type VoidReason } from '../../src/shared/reversal-reasons.js';
import type { Journal, JournalEntry, JournalRecord } from './journal.js';
import { scanFailureText, type ReferenceCache } from './reference-cache.js';
import { addDays, businessDay, DEFAULT_TIME_ZONE, isCalendarDay } from '../../src/shared/business-day.js';
import { incentiveFor, mergeIncentives, pickIncentiveRate, readIncentive, type CapUse, type ItemIncentive } from './incentive-estimate.js';

export class CounterError extends Error {
  constructor(readonly code: string, message: string, readonly message_zh: string, readonly field?: string) {
    super(message);
    this.name = 'CounterError';
  }
}

/** A phone the clerk typed, as E.164; INVALID_PHONE (field `phone`) when it is not a mainland mobile number. */
export function counterPhone(input: unknown): string {
  const r = normalisePhone(String(input ?? ''));
  if (!r.ok) throw new CounterError('INVALID_PHONE', 'Not a valid mobile number', '手机号码无效', 'phone');
  return r.e164;
}

/** The county server's client of an enrolled terminal; NOT_ENROLLED without one. */
export function enrolledClient<C>(client: C | null | undefined): C {
  if (!client) throw new CounterError('NOT_ENROLLED', 'This terminal is not enrolled or was stopped', '本终端未注册或已停用');
  return client;
}

export interface TerminalIdentity {
  terminalId: string;
  countyId: string;
  shopId: string;
  shopName: string;
  /** The county server this terminal is enrolled with: the sale receipt's QR is its public check page. */
  serverUrl?: string;
}

/**
 * How this terminal signs its receipt numbers (XS20261130-<tag>-0001): `T007`, its number in the county
 * as the county server gave it (in the snapshot), unique in the county so no two terminals print the
 * same receipt number; from a server that gives none (older), the last four characters of its id as
 * before (two terminals of a county may share those). The two forms never meet: T is no hex digit.
 */
export function receiptTag(who: Pick<TerminalIdentity, 'terminalId'>, ref: ReferenceCache | null): string {
  const no = ref?.terminalNo(who.terminalId) ?? null;
  return no !== null ? `T${String(no).padStart(3, '0')}` : who.terminalId.slice(-4).toUpperCase();
}

/**
 * A receipt number this terminal prints: `<prefix><day without dashes>-<receiptTag>-<seq>`, e.g.
 * XS20261130-T007-0001; `seq` a number (4 digits) or a given suffix (the drawer report's id tail).
 */
export function receiptNumber(prefix: string, day: string, who: Pick<TerminalIdentity, 'terminalId'>, ref: ReferenceCache | null, seq: number | string): string {
  return `${prefix}${day.replaceAll('-', '')}-${receiptTag(who, ref)}-${typeof seq === 'number' ? String(seq).padStart(4, '0') : seq}`;
}

/**
 * Whether a sale receipt number is of an old form two terminals of a county may both have printed:
 * `XS20261130-0001` (no terminal part) or `XS20261130-3F2A-0001` (the id tail, from a server that gave
 * no terminal number). `XS20261130-T007-0001` names one terminal of the county; a record id (older QR
 * codes) one sale.
 */
export function sharedReceiptNumber(no: string): boolean {
  return /^[A-Z]{2}\d{8}-(?:[0-9A-F]{4}-)?\d{4,}$/i.test(no);
}

/**
 * The server whose check page a sale receipt's QR opens: its public address (PUBLIC_URL, in the cached
 * snapshot, so offline receipts carry it too), else the address this terminal is enrolled with
 * (SERVER_URL: an older server, or one without PUBLIC_URL); null when neither is known.
 */
export function receiptCheckServer(who: Pick<TerminalIdentity, 'countyId' | 'serverUrl'>, ref: ReferenceCache | null): string | null {
  const pub = ref && ref.snapshot.county.id === who.countyId ? ref.publicUrl : null;
  return pub ?? who.serverUrl ?? null;
}

export interface SaleRequest {
  purchaser: { phone: string; name?: string; village?: string };
  lines: Array<{ productId: string; quantity: number; unitCodes?: string[] }>;
}

export interface ReturnRequest {
  returner?: { phone: string; name?: string; village?: string };
  items: Array<{ scan?: string; productId?: string; quantity?: number; inspection: 'accepted' | 'rejected'; reasonCode?: RejectReason }>;
  payment?: { method: 'cash' } | { method: 'mobile'; reference: string };
}

/** A void at the counter: the sale or return (its record id or printed receipt number) and why. */
export interface VoidRequest {
  target: string;
  reason: VoidReason | string;
}

/** What a void undoes, as the confirmation shows it and the void record keeps it. */
export interface VoidPreview {
  targetType: 'sale' | 'return';
  targetId: string;
  receiptNo: string;
  businessDay: string;
  eventTime: string;
  lines: Array<{ productName: string; packSizeLabel: string; quantity: number; amountFen: number }>;
  /** Containers sold (a sale) or accepted back (a return). */
  containers: number;
  /** Containers the return turned away (a return; 0 for a sale). */
  rejected: number;
  /** Deposits of the sale, or the refund of the return (buy-back included). */
  amountFen: number;
  /** Buy-back paid in the return (part of amountFen). */
  buybackFen: number;
  /** The drawer's cash: − for a voided sale (deposits handed back), + for a voided cash return. */
  cashFen: number;
  payment: RefundPayment | null;
}

/** The receipt number a terminal prints for a sale or return, read back: kind, county day, terminal tag. */
const RECEIPT_NO = /^(XS|HS)(\d{4})(\d{2})(\d{2})-(T\d{3,}|[0-9A-F]{4})-\d{4,}$/;

export interface ActionResult {
  entry: JournalEntry;
  preview: string[];
  printJobId: string | null;
}

const REASONS: readonly RejectReason[] = ['not_rinsed', 'damaged', 'not_scheme_product', 'unknown_code', 'already_returned', 'other_county', 'other'];

/** Whether the county has any incentive rate cached: then receipts and screens show incentives. */
function rates(ref: ReferenceCache): boolean {
  return ref.incentiveRates.length > 0;
}

/**
 * The incentive printed for an item: the server's decision, but never a buy-back other than what was
 * paid (the cash is what the receipt stands for; a difference is the server's refund_mismatch flag).
 */
function paidIncentive(decided: ItemIncentive | null, paid: ItemIncentive): ItemIncentive {
  if (!decided) return paid;
  if (decided.buybackFen === paid.buybackFen) return decided;
  const kind = paid.buybackFen > 0 ? (decided.pointsMilli > 0 ? 'buyback_points' : 'buyback') : decided.pointsMilli > 0 ? 'points' : decided.kind === 'buyback' || decided.kind === 'buyback_points' ? 'none' : decided.kind;
  return { ...decided, kind, buybackFen: paid.buybackFen };
}

export class Counter {
  constructor(
    private readonly journal: Journal,
    private readonly identity: () => TerminalIdentity | null,
    private readonly reference: () => ReferenceCache | null,
    private readonly printer: PrintQueue | null,
    private readonly paper: 58 | 80,
    private readonly now: () => Date,
    private readonly afterRecord: () => void,
    private readonly blocked: () => { code: string; message: string; message_zh: string } | null,
  ) {}

  ready(): { who: TerminalIdentity; ref: ReferenceCache } {
    const who = this.identity();
    if (!who) throw new CounterError('NOT_ENROLLED', 'Enrol this terminal first', '请先注册本终端');
    const stop = this.blocked();
    if (stop) throw new CounterError(stop.code, stop.message, stop.message_zh);
    const ref = this.reference();
    if (!ref) throw new CounterError('NO_REFERENCE_DATA', 'No products and deposits cached yet: connect to the server once', '尚未下载商品和押金标准，请先联网同步一次');
    return { who, ref };
  }

  /** A farmer by phone: from the cache, or registered at this counter since the last sync. */
  findFarmer(phone: string): { phoneE164: string; name: string; village: string; known: boolean } | null {
    const n = normalisePhone(phone);
    if (!n.ok) throw new CounterError('INVALID_PHONE', 'The phone number is not a valid mobile number', '手机号码无效', 'phone');
    const ref = this.reference();
    const cached = ref?.snapshot.farmers.find((f) => f.phoneE164 === n.e164);
    if (cached) return { phoneE164: n.e164, name: cached.name, village: cached.village, known: true };
    for (let i = this.journal.all().length - 1; i >= 0; i--) {
      const p = this.journal.all()[i]!.record.local.person as { phoneE164?: string; name?: string; village?: string } | undefined;
      if (p?.phoneE164 === n.e164 && p.name) return { phoneE164: n.e164, name: p.name, village: p.village ?? '', known: true };
    }
    return null;
  }

  private person(input: { phone: string; name?: string; village?: string }) {
    const found = this.findFarmer(input.phone);
    const name = input.name?.trim() || found?.name;
    if (!name) throw new CounterError('FARMER_NAME_REQUIRED', 'This phone number is not registered yet: give the farmer\'s name', '该手机号尚未登记，请填写农户姓名', 'name');
    const e164 = found?.phoneE164 ?? (normalisePhone(input.phone) as { e164: string }).e164;
    const payload: Record<string, string> = { phone: e164 };
    // The name goes to the server only to register a new farmer; a known farmer keeps theirs.
    if (!found || input.name?.trim()) payload.name = name;
    if (input.village?.trim()) payload.village = input.village.trim();
    return { payload, local: { phoneE164: e164, name, village: input.village?.trim() ?? found?.village ?? '' } };
  }

  /** While the clerk is still typing: a new farmer without a name yet still counts as a returner; a half-typed phone as none. */
  private personWhileTyping(input: { phone: string; name?: string; village?: string }): ReturnType<Counter['person']> | null {
    try {
      return this.person(input);
    } catch (err) {
      if (!(err instanceof CounterError)) throw err;
      const n = normalisePhone(input.phone);
      return n.ok ? { payload: { phone: n.e164 }, local: { phoneE164: n.e164, name: '', village: '' } } : null;
    }
  }

  resolveScan(scan: string) {
    const { ref } = this.ready();
    const day = businessDay(this.now(), ref.timeZone);
    const r = ref.resolveScan(scan);
    // A failed scan says what it was (a foreign barcode, a misread, a receipt) and which signal to give.
    if (!r.ok) return { ...r, ...scanFailureText(r) };
    return { ...r, depositFen: ref.depositFor(r.product.containerTypeId, day), businessDay: day, signal: 'accepted' as const };
  }

  /** Points redeemed for goods at this counter (issue 17), per business day; set by the terminal. */
  pointsRedeemedOn: (day: string) => { count: number; milli: number; goodsValueFen: number } = () => ({ count: 0, milli: 0, goodsValueFen: 0 });

  /** Cash paid at this counter for held refunds the county approved (issue 11), per business day. */
  heldPaidOn: (day: string) => { count: number; fen: number } = () => ({ count: 0, fen: 0 });

  /**
   * The sale a receipt QR names (its printed number, or the record id older receipts carry), from
   * this terminal's journal: what was sold and what can still come back (unit codes not yet returned).
   */
  /** Sales of the county by printed receipt number, from the county server (any shop's receipt); set by the terminal. */
  remoteSaleByReceipt: ((no: string) => Promise<Array<{ saleId: string; receiptNo: string; shopName: string; businessDay: string; eventTime: string; purchaser: { phoneMasked: string; nameMasked: string }; lines: Array<{ productId: string; productName: string; packSizeLabel: string; quantity: number; depositPerContainerFen: number; unitCodes: Array<{ unitCode: string; state: string }>; outstandingContainers: number }> }>>) | null = null;

  /**
   * The sale a receipt QR names: this counter's own from its journal, else any shop's of the county
   * from the server (the receipt number is sent with every sale). What can still come back: unit codes
   * neither refunded on the server nor returned here since, and the containers without a code still outstanding.
   */
  async findSale(no: string, opts: { confirmOwn?: boolean } = {}) {
    const key = no.trim();
    // An old-form number (printed before terminals had numbers of their own: XS20261130-0001, or with
    // the id tail XS20261130-3F2A-0001) another terminal of the county may have printed too: the
    // server, which sees every shop's, decides first (ambiguity wins over this journal's match).
    const shared = sharedReceiptNumber(key) && this.remoteSaleByReceipt !== null;
    if (!shared) {
      try {
        return this.saleByReceipt(key);
      } catch (err) {
        if (!(err instanceof CounterError) || err.code !== 'RECEIPT_NOT_FOUND' || !this.remoteSaleByReceipt || !/^[A-Za-z0-9-]{1,40}$/.test(key)) throw err;
      }
    }
    const { ref } = this.ready();
    let found;
    try {
      found = await this.remoteSaleByReceipt!(key);
    } catch (err) {
      if (err instanceof CounterError) throw err;
      const own = shared ? this.ownSale(key) : null;
      // Offline with a match here: it may still be another shop's receipt; the clerk confirms, or scans the codes.
      if (own && opts.confirmOwn) return own;
      if (own) {
        throw new CounterError('RECEIPT_MAY_BE_OTHER_TERMINAL',
          `Receipt number ${key} is of the old form, which another shop's terminal may have printed too, and the county server cannot be reached to tell: confirm it is this shop's sale (${own.businessDay}), or scan the containers' codes instead`,
          `小票号 ${key} 是旧格式，其他店的终端也可能打印过同一个号码，现在连不上县服务器无法核实：请确认这是本店 ${own.businessDay} 的销售，或改为逐个扫描包装上的追溯码`, 'no');
      }
      throw new CounterError('OFFLINE', `Sale receipt ${key} is not at this counter and the county server cannot be reached`, `本店没有这张小票，且连不上县服务器`, 'no');
    }
    if (shared && found.length <= 1) {
      // One sale (or none yet on the server: not synced): this journal's own, when it is that sale, knows returns made here since.
      const own = this.ownSale(key);
      if (own && (found.length === 0 || found[0]!.saleId === own.saleId)) return own;
    }
    const s = found[0];
    if (!s) throw new CounterError('RECEIPT_NOT_FOUND', `No sale of the county has receipt number ${key}`, `本县没有单号为 ${key} 的销售小票`, 'no');
    // Two shops printed this number (before terminals had numbers of their own): opening one of them may open the wrong sale.
    if (found.length > 1) throw new CounterError('RECEIPT_AMBIGUOUS', `${found.length} sales of the county have receipt number ${key}: scan the containers instead`, `本县有 ${found.length} 笔销售使用小票号 ${key}，请改为逐个扫描包装`, 'no');
    const returned = this.returnedCodes();
    const day = this.today();
    return {
      saleId: s.saleId, receiptNo: s.receiptNo, businessDay: s.businessDay, eventTime: s.eventTime, shopName: s.shopName,
      purchaser: { maskedPhone: s.purchaser.phoneMasked, maskedName: s.purchaser.nameMasked },
      lines: s.lines.map((l) => {
        const product = ref.product(l.productId);
        return {
          productId: l.productId, productName: l.productName, packSizeLabel: l.packSizeLabel, quantity: l.quantity, depositPerContainerFen: l.depositPerContainerFen,
          unitCodes: l.unitCodes.map((u) => ({ code: u.unitCode, returned: u.state !== 'outstanding' || returned.has(u.unitCode) })),
          returnableCodes: l.unitCodes.filter((u) => u.state === 'outstanding' && !returned.has(u.unitCode)).map((u) => u.unitCode),
          returnableCounted: l.outstandingContainers,
          depositTodayFen: product ? ref.depositFor(product.containerTypeId, day) : null,
        };
      }),
    };
  }

  /** This journal's sale with that receipt number, or null. */
  private ownSale(key: string): ReturnType<Counter['saleByReceipt']> | null {
    try {
      return this.saleByReceipt(key);
    } catch (err) {
      if (err instanceof CounterError && err.code === 'RECEIPT_NOT_FOUND') return null;
      throw err;
    }
  }

  saleByReceipt(no: string) {
    const { ref } = this.ready();
    const key = no.trim();
    const e = this.journal.all().find((x) => x.record.kind === 'sale' && x.state !== 'refused' && (x.record.local.receiptNo === key || x.record.id === key));
    if (!e) throw new CounterError('RECEIPT_NOT_FOUND', `Sale receipt ${key} is not at this counter`, `本店没有销售小票 ${key}`, 'no');
    const returned = this.returnedCodes();
    const day = this.today();
    const lines = (e.record.local.lines as Array<{ productId: string; productName: string; quantity: number; unitCodes: string[]; depositPerContainerFen: number }>).map((l) => {
      const product = ref.product(l.productId);
      const open = l.unitCodes.filter((c) => !returned.has(c));
      return {
        productId: l.productId, productName: l.productName, packSizeLabel: product?.packSizeLabel ?? '', quantity: l.quantity,
        depositPerContainerFen: l.depositPerContainerFen, unitCodes: l.unitCodes.map((c) => ({ code: c, returned: returned.has(c) })),
        // Unit-coded containers come back by their codes; the rest are counted (at today's deposit).
        returnableCodes: open, returnableCounted: l.quantity - l.unitCodes.length,
        depositTodayFen: product ? ref.depositFor(product.containerTypeId, day) : null,
      };
    });
    const person = e.record.local.person as { phoneE164?: string; name?: string } | undefined;
    return {
      saleId: e.record.id, receiptNo: e.record.local.receiptNo, businessDay: e.record.local.businessDay, eventTime: e.record.eventTime,
      purchaser: person?.phoneE164 ? { maskedPhone: maskPhone(person.phoneE164), maskedName: maskName(person.name ?? '') } : null, lines,
    };
  }

  /**
   * The void of each sale or return voided here, by the voided record's id: the one void that stands
   * (pending or synced), else the last one the server refused (its verdict on that record).
   */
  voidsByTarget(): Map<string, JournalEntry> {
    const m = new Map<string, JournalEntry>();
    for (const e of this.journal.all()) {
      if (e.record.kind !== 'reversal') continue;
      const target = e.record.payload.targetId as string;
      const prev = m.get(target);
      if (!prev || prev.state === 'refused') m.set(target, e);
    }
    return m;
  }

  /** Ids of the sales and returns voided at this counter (the void not refused by the server). */
  voidedIds(): Set<string> {
    const s = new Set<string>();
    for (const [target, e] of this.voidsByTarget()) if (e.state !== 'refused') s.add(target);
    return s;
  }

  /** A sale or return that counts at this counter: the server did not refuse it and it was not voided. */
  private stands(e: JournalEntry, voided: Set<string>): boolean {
    return e.state !== 'refused' && !voided.has(e.record.id);
  }

  private soldCodes(): Map<string, number> {
    const m = new Map<string, number>();
    const voided = this.voidedIds();
    for (const e of this.journal.all()) {
      // A voided sale's codes are no longer sold here: they can be sold again, and refund the deposit in force.
      if (e.record.kind !== 'sale' || !this.stands(e, voided)) continue;
      for (const l of (e.record.local.lines as Array<{ unitCodes: string[]; depositPerContainerFen: number }>) ?? []) for (const c of l.unitCodes) m.set(c, l.depositPerContainerFen);
    }
    return m;
  }

  private returnedCodes(): Set<string> {
    const s = new Set<string>();
    const voided = this.voidedIds();
    for (const e of this.journal.all()) {
      // A voided return's codes can be returned again.
      if (e.record.kind !== 'return' || !this.stands(e, voided)) continue;
      for (const it of (e.record.local.items as Array<{ unitCode: string | null; inspection: string }>) ?? []) if (it.unitCode && it.inspection === 'accepted') s.add(it.unitCode);
    }
    return s;
  }

  private receiptNo(prefix: string, kind: JournalRecord['kind'], day: string, who: TerminalIdentity, ref: ReferenceCache): string {
    const n = this.journal.all().filter((e) => e.record.kind === kind && e.record.local.businessDay === day).length + 1;
    return receiptNumber(prefix, day, who, ref, n);
  }

  /** Journal first (durable), then the paper; also used by the bag desk. */
  async commit(rec: JournalRecord, print: { kind: PrintJobKind; title: string; doc: PrintDoc } | null): Promise<ActionResult> {
    // The journal first: once append() resolves the record survives a crash; only then the paper.
    const entry = await this.journal.append(rec);
    this.afterRecord();
    return this.print(entry, print);
  }

  private async print(entry: JournalEntry, print: { kind: PrintJobKind; title: string; doc: PrintDoc } | null): Promise<ActionResult> {
    const rec = entry.record;
    let printJobId: string | null = null;
    if (this.printer && print) {
      try {
        printJobId = (await this.printer.enqueue({ kind: print.kind, title: print.title, reference: rec.local.receiptNo as string, doc: print.doc })).id;
      } catch {
        printJobId = null; // the record stands; the clerk can print it again from the list
      }
    }
    return { entry, preview: print ? renderPreview(print.doc) : [], printJobId };
  }

  async sale(req: SaleRequest): Promise<ActionResult> {
    const { who, ref } = this.ready();
    const at = this.now();
    const day = businessDay(at, ref.timeZone);
    if (!Array.isArray(req.lines) || req.lines.length === 0) throw new CounterError('VALIDATION_FAILED', 'Add at least one product', '请至少添加一件商品', 'lines');
    const person = this.person(req.purchaser ?? { phone: '' });
    const sold = this.soldCodes();
    const seen = new Set<string>();
    const lines = req.lines.map((l, i) => {
      const product = ref.product(l.productId);
      if (!product) throw new CounterError('PRODUCT_NOT_FOUND', `Line ${i + 1}: unknown product`, `第 ${i + 1} 行：没有该商品`, `lines/${i}`);
      if (!Number.isInteger(l.quantity) || l.quantity < 1 || l.quantity > 10_000) throw new CounterError('VALIDATION_FAILED', `Line ${i + 1}: quantity must be 1–10000`, `第 ${i + 1} 行：数量应为 1–10000`, `lines/${i}/quantity`);
      const codes: string[] = [];
      for (const raw of l.unitCodes ?? []) {
        const got = extractUnitCode(raw);
        if (!got.ok) throw new CounterError('UNIT_CODE_INVALID', `Line ${i + 1}: not a valid unit code`, `第 ${i + 1} 行：单元识别码无效`, `lines/${i}/unitCodes`);
        if (!unitCodeMatchesRegistration(got.code, product.registrationNo)) throw new CounterError('UNIT_CODE_PRODUCT_MISMATCH', `Line ${i + 1}: the unit code belongs to another product`, `第 ${i + 1} 行：单元识别码与商品不符`, `lines/${i}/unitCodes`);
        if (seen.has(got.code)) throw new CounterError('UNIT_CODE_DUPLICATE', 'The same unit code was scanned twice', '同一单元识别码扫描了两次', `lines/${i}/unitCodes`);
        if (sold.has(got.code)) throw new CounterError('UNIT_CODE_ALREADY_SOLD', 'This unit code was already sold at this counter', '该单元识别码已在本店售出', `lines/${i}/unitCodes`);
        seen.add(got.code);
        codes.push(got.code);
      }
      if (codes.length > l.quantity) throw new CounterError('TOO_MANY_UNIT_CODES', `Line ${i + 1}: more unit codes than containers`, `第 ${i + 1} 行：识别码多于数量`, `lines/${i}/quantity`);
      const deposit = ref.depositFor(product.containerTypeId, day);
      if (deposit === null) throw new CounterError('NO_DEPOSIT_SCHEDULE', `Line ${i + 1}: no deposit schedule in force for this container`, `第 ${i + 1} 行：该包装没有生效的押金标准`, `lines/${i}`);
      return { productId: product.id, productName: product.name, packSizeLabel: product.packSizeLabel ?? '', quantity: l.quantity, unitCodes: codes, depositPerContainerFen: deposit, lineDepositFen: deposit * l.quantity };
    });
    const total = lines.reduce((s, l) => s + l.lineDepositFen, 0);
    const checkServer = receiptCheckServer(who, ref);
    const id = newClientId(at.getTime());
    const receiptNo = this.receiptNo('XS', 'sale', day, who, ref);
    const rec: JournalRecord = {
      kind: 'sale', id, eventTime: at.toISOString(),
      payload: {
        shopId: who.shopId, receiptNo, purchaser: person.payload,
        // The deposit actually charged is stated per line: the server records it as paid even if the
        // schedule changed while this terminal was offline (and flags the difference).
        lines: lines.map((l) => ({ productId: l.productId, quantity: l.quantity, ...(l.unitCodes.length ? { unitCodes: l.unitCodes } : {}), depositChargedFen: l.depositPerContainerFen })),
      },
      local: { receiptNo, businessDay: day, person: person.local, lines, totalDepositFen: total },
    };
    const receipt: SaleReceipt = {
      shopName: who.shopName, saleNumber: receiptNo, soldAt: rec.eventTime,
      purchaserMaskedName: maskName(person.local.name), purchaserMaskedPhone: maskPhone(person.local.phoneE164),
      lines: lines.map((l) => ({ productName: l.productName, ...(l.packSizeLabel ? { packSizeLabel: l.packSizeLabel } : {}), quantity: l.quantity, depositPerContainerFen: l.depositPerContainerFen, lineDepositFen: l.lineDepositFen })),
      totalDepositFen: total,
      // The deposit can be refunded until the county day the validity period ends (rule 6).
      refundableUntil: businessDay(new Date(at.getTime() + ref.depositValidityDays * 86_400_000), ref.timeZone),
      // The public check page of the printed receipt number (docs/printing.md): the farmer's phone
      // opens it; a return counter scans it to open this sale.
      qrPayload: saleQrPayload(receiptNo, checkServer ? { serverUrl: checkServer, countyId: who.countyId } : undefined),
    };
    return this.commit(rec, { kind: 'sale_receipt', title: `销售 ${receiptNo}`, doc: layoutSaleReceipt(receipt, { paper: this.paper, timeZone: ref.timeZone }) });
  }

  /**
   * What each returned item gets at this counter, before anything is journaled: the same pricing the
   * return uses (the screen shows it per row while the clerk scans). Incentives are the terminal's
   * estimate from its cached rates; the county server confirms them when the return reaches it.
   */
  estimateReturn(req: ReturnRequest) {
    const priced = this.priceReturn(req, true);
    return {
      businessDay: priced.day, estimated: true,
      items: priced.items.map(({ wire: _w, ...rest }) => rest),
      refundFen: priced.refund, buybackFen: priced.buyback, pointsMilli: priced.points,
    };
  }

  /** The incentives of a journaled return item by item: the server's answer once synced, else the terminal's estimate. */
  static returnIncentives(e: JournalEntry): { items: Array<ItemIncentive | null>; fromServer: boolean; totalBuybackFen: number; totalPointsMilli: number; pointsBalanceMilli: number | null | undefined } {
    const local = (e.record.local.items as Array<{ incentive?: ItemIncentive }> | undefined) ?? [];
    const r = e.state === 'synced' ? (e.result as { items?: Array<{ itemNo?: number; incentive?: unknown }>; totalBuybackFen?: number; totalPointsMilli?: number; pointsBalanceMilli?: number | null } | undefined) : undefined;
    // A server of issue 17 answers the return-level totals (pinned); an item without an incentive of its own
    // (a rejected one, if the server leaves it out) reads as nothing due because it was not accepted.
    const answered = r && typeof r.totalPointsMilli === 'number' && Array.isArray(r.items) && r.items.length === local.length;
    const server = answered ? r.items!.map((it, i) => readIncentive(it.incentive) ?? ((local[i] as { inspection?: string }).inspection === 'accepted' ? null : { kind: 'none' as const, buybackFen: 0, pointsMilli: 0, reason: 'rejected' as const })) : null;
    if (r && server && server.every((x) => x !== null)) {
      return {
        items: server, fromServer: true,
        totalBuybackFen: typeof r.totalBuybackFen === 'number' ? r.totalBuybackFen : server.reduce((n, x) => n + x!.buybackFen, 0),
        totalPointsMilli: typeof r.totalPointsMilli === 'number' ? r.totalPointsMilli : server.reduce((n, x) => n + x!.pointsMilli, 0),
        pointsBalanceMilli: r.pointsBalanceMilli,
      };
    }
    const items = local.map((it) => it.incentive ?? null);
    return { items, fromServer: false, totalBuybackFen: items.reduce((n, x) => n + (x?.buybackFen ?? 0), 0), totalPointsMilli: items.reduce((n, x) => n + (x?.pointsMilli ?? 0), 0), pointsBalanceMilli: undefined };
  }

  /** Buy-back paid and points given at this counter in a calendar year, in all and for one phone (the caps). */
  private capUse(year: string, phoneE164: string | null): CapUse {
    const u: CapUse = { householdBuybackFen: 0, householdPointsMilli: 0, shopBuybackFen: 0 };
    const voided = this.voidedIds();
    for (const e of this.journal.all()) {
      if (e.record.kind !== 'return' || !this.stands(e, voided) || !String(e.record.local.businessDay ?? '').startsWith(year)) continue;
      const inc = Counter.returnIncentives(e);
      u.shopBuybackFen += inc.totalBuybackFen;
      if (phoneE164 && (e.record.local.person as { phoneE164?: string } | undefined)?.phoneE164 === phoneE164) {
        u.householdBuybackFen += inc.totalBuybackFen;
        u.householdPointsMilli += inc.totalPointsMilli;
      }
    }
    return u;
  }

  /** Containers without a unit code this terminal sold to a phone and that have not come back here since, per product. */
  private ownCountedLots(phoneE164: string): Map<string, number> {
    const m = new Map<string, number>();
    const voided = this.voidedIds();
    for (const e of this.journal.all()) {
      if (!this.stands(e, voided) || (e.record.local.person as { phoneE164?: string } | undefined)?.phoneE164 !== phoneE164) continue;
      if (e.record.kind === 'sale') {
        for (const l of (e.record.local.lines as Array<{ productId: string; quantity: number; unitCodes: string[] }>) ?? []) m.set(l.productId, (m.get(l.productId) ?? 0) + l.quantity - l.unitCodes.length);
      } else if (e.record.kind === 'return') {
        for (const it of (e.record.local.items as Array<{ productId: string | null; unitCode: string | null; inspection: string; quantity: number }>) ?? []) {
          if (it.inspection === 'accepted' && !it.unitCode && it.productId) m.set(it.productId, Math.max(0, (m.get(it.productId) ?? 0) - it.quantity));
        }
      }
    }
    return m;
  }

  private priceReturn(req: ReturnRequest, estimate = false) {
    const { ref } = this.ready();
    const at = this.now();
    const day = businessDay(at, ref.timeZone);
    if (!Array.isArray(req.items) || req.items.length === 0) throw new CounterError('VALIDATION_FAILED', 'Add at least one container', '请至少添加一个包装', 'items');
    const person = req.returner?.phone ? (estimate ? this.personWhileTyping(req.returner) : this.person(req.returner)) : null;
    const sold = this.soldCodes();
    const returned = this.returnedCodes();
    const seen = new Set<string>();
    // Issue 17: incentives for what carries no deposit of its own (estimated here, decided by the server).
    const rates = ref.incentiveRates;
    const settings = ref.incentiveSettings;
    const used = this.capUse(day.slice(0, 4), person?.local.phoneE164 ?? null);
    const lots = person && rates.length ? this.ownCountedLots(person.local.phoneE164) : new Map<string, number>();
    const items = req.items.map((it, i) => {
      const field = `items/${i}`;
      if ((it.scan === undefined) === (it.productId === undefined)) throw new CounterError('VALIDATION_FAILED', `Item ${i + 1}: scan or choose a product`, `第 ${i + 1} 项：请扫码或选择商品`, field);
      if (it.inspection !== 'accepted' && it.inspection !== 'rejected') throw new CounterError('VALIDATION_FAILED', `Item ${i + 1}: accept or reject`, `第 ${i + 1} 项：请选择接收或拒收`, field);
      let inspection = it.inspection;
      let reason: RejectReason | null = inspection === 'rejected' ? (it.reasonCode ?? null) : null;
      if (inspection === 'rejected' && (!reason || !REASONS.includes(reason))) throw new CounterError('REASON_CODE_REQUIRED', `Item ${i + 1}: give the reason`, `第 ${i + 1} 项：请选择拒收原因`, `${field}/reasonCode`);
      let product = it.productId ? ref.product(it.productId) : undefined;
      let unitCode: string | null = null;
      const quantity = it.scan !== undefined ? 1 : (it.quantity ?? 1);
      if (!Number.isInteger(quantity) || quantity < 1 || quantity > 10_000) throw new CounterError('VALIDATION_FAILED', `Item ${i + 1}: quantity must be 1–10000`, `第 ${i + 1} 项：数量应为 1–10000`, `${field}/quantity`);
      if (it.scan !== undefined) {
        const r = ref.resolveScan(it.scan);
        // A misread (cut-short or over-long digit run) or a receipt is not a container: scan again.
        if (!r.ok && (r.kind === 'misread' || r.kind === 'sale_receipt')) throw new CounterError('MISREAD', `Item ${i + 1}: misread — scan again`, `第 ${i + 1} 项：读码不全，请重扫`, `${field}/scan`);
        // A barcode with a wrong check digit is a misread or a typo, not some other product: rescan (the server refuses it as INVALID_GTIN).
        if (!r.ok && r.kind === 'bad_barcode') throw new CounterError('INVALID_GTIN', `Item ${i + 1}: barcode ${r.gtin ?? ''} has a wrong check digit — scan again`, `第 ${i + 1} 项：商品条码校验位不对，请重扫`, `${field}/scan`);
        if (r.ok) {
          product = r.product;
          unitCode = r.unitCode;
        } else if (r.unitCode) {
          unitCode = r.unitCode;
        }
        if (unitCode && seen.has(unitCode)) throw new CounterError('UNIT_CODE_DUPLICATE', 'The same unit code was scanned twice', '同一单元识别码扫描了两次', field);
        if (unitCode) seen.add(unitCode);
        // Mirror the server's inspection of what it cannot refund, so the clerk pays out what it will.
        if (inspection === 'accepted') {
          if (!r.ok) [inspection, reason] = ['rejected', r.code === 'UNIT_CODE_INVALID' ? 'unknown_code' : 'not_scheme_product'];
          else if (unitCode && returned.has(unitCode)) [inspection, reason] = ['rejected', 'already_returned'];
        }
      } else if (!product) {
        throw new CounterError('PRODUCT_NOT_FOUND', `Item ${i + 1}: unknown product`, `第 ${i + 1} 项：没有该商品`, field);
      }
      // What the clerk pays out for this item: deposits back, plus any buy-back (issue 17).
      let depositFen = 0;
      let incentive: ItemIncentive = { kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'rejected' };
      if (inspection === 'accepted' && product) {
        const inForce = ref.depositFor(product.containerTypeId, day);
        const type = ref.containerType(product.containerTypeId) ?? { id: product.containerTypeId, material: '', volumeMl: null };
        if (unitCode && sold.has(unitCode)) {
          depositFen = sold.get(unitCode)!;
          incentive = { kind: 'deposit', buybackFen: 0, pointsMilli: 0, reason: null };
        } else if (unitCode) {
          // Not sold here: sold elsewhere in the county (its deposit) as far as this counter can tell;
          // a product without a deposit was never sold with one, so the county reviews the code.
          depositFen = inForce ?? 0;
          incentive = inForce ? { kind: 'deposit', buybackFen: 0, pointsMilli: 0, reason: null } : { kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'held_for_review' };
        } else {
          // Counted containers: the returner's own deposits first (what this counter sold them), then the
          // county's incentive rate; only where no rate matches, the untracked policy refund as before.
          const own = Math.min(quantity, lots.get(product.id) ?? 0);
          if (own) lots.set(product.id, (lots.get(product.id) ?? 0) - own);
          const rest = quantity - own;
          const rate = rest > 0 ? pickIncentiveRate(rates, type, day) : null;
          if (rest > 0 && rate) {
            depositFen = own * (inForce ?? 0);
            incentive = mergeIncentives({ quantity: own }, incentiveFor(rate, rest, { returner: person !== null, settings, used }));
          } else {
            depositFen = quantity * (inForce ?? 0);
            incentive = inForce ? { kind: 'deposit', buybackFen: 0, pointsMilli: 0, reason: null } : { kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'no_rate' };
          }
        }
      }
      const refundFen = depositFen + incentive.buybackFen;
      const wire: Record<string, unknown> = it.scan !== undefined ? { scan: it.scan.trim() } : { productId: product!.id, quantity };
      wire.inspection = inspection;
      if (reason) wire.reasonCode = reason;
      // The ledger records what left the till, and the server flags any difference from its own
      // computation instead of silently disagreeing with the drawer.
      wire.refundPaidFen = refundFen;
      return { wire, productId: product?.id ?? null, productName: product?.name ?? (unitCode ? `…${unitCode.slice(-6)}` : '未知 unknown'), packSizeLabel: product?.packSizeLabel ?? '', unitCode, quantity, inspection, reasonCode: reason, refundFen, depositFen, incentive };
    });
    const refund = items.reduce((s, it) => s + it.refundFen, 0);
    const buyback = items.reduce((s, it) => s + it.incentive.buybackFen, 0);
    const points = items.reduce((s, it) => s + it.incentive.pointsMilli, 0);
    return { at, day, person, items, refund, buyback, points };
  }

  /** Waits a moment for the county server's answer to a record just journaled (online); null when it did not come. Set by the terminal. */
  awaitAnswer: ((id: string) => Promise<JournalEntry | null>) | null = null;

  async return(req: ReturnRequest): Promise<ActionResult> {
    const { who, ref } = this.ready();
    const { at, day, person, items, refund, buyback, points } = this.priceReturn(req);
    const payment = req.payment?.method === 'mobile' ? { method: 'mobile' as const, reference: req.payment.reference } : { method: 'cash' as const };
    if (payment.method === 'mobile' && !payment.reference?.trim()) throw new CounterError('PAYMENT_REFERENCE_REQUIRED', 'A mobile refund needs the payment reference', '移动支付退款需填写支付流水号', 'payment');
    const id = newClientId(at.getTime());
    const receiptNo = this.receiptNo('HS', 'return', day, who, ref);
    const rec: JournalRecord = {
      kind: 'return', id, eventTime: at.toISOString(),
      payload: { shopId: who.shopId, ...(person ? { returner: person.payload } : {}), items: items.map((it) => it.wire), payment },
      local: {
        receiptNo, businessDay: day, person: person?.local, refundPaidFen: refund, payment,
        // Issue 17: the buy-back part of the cash, and the points the terminal estimated.
        buybackPaidFen: buyback, pointsEstimateMilli: points,
        items: items.map(({ wire: _w, ...rest }) => rest),
      },
    };
    const incentives = rates(ref) || buyback > 0 || points > 0;
    const receipt = (inc: ReturnType<typeof Counter.returnIncentives> | null): RefundReceipt => ({
      shopName: who.shopName, refundNumber: receiptNo, returnedAt: rec.eventTime,
      ...(person ? { returnerMaskedName: maskName(person.local.name), returnerMaskedPhone: maskPhone(person.local.phoneE164) } : {}),
      // Money as paid (the cash left the till); which incentive and why as the server decided when it answered in time.
      accepted: items.flatMap((it, i) => it.inspection !== 'accepted' ? [] : [{
        productName: it.productName, ...(it.packSizeLabel ? { packSizeLabel: it.packSizeLabel } : {}), quantity: it.quantity, refundFen: it.refundFen,
        ...(incentives ? { incentive: paidIncentive(inc?.items[i] ?? it.incentive, it.incentive) } : {}),
      }]),
      rejected: items.filter((it) => it.inspection === 'rejected').map((it) => ({ productName: it.productName, quantity: it.quantity, reason: it.reasonCode! })),
      refundedFen: refund, payment, qrPayload: refundQrPayload(receiptNo),
      ...(incentives ? {
        buybackFen: buyback,
        pointsEarnedMilli: items.reduce((n, it, i) => n + (it.inspection === 'accepted' ? paidIncentive(inc?.items[i] ?? it.incentive, it.incentive).pointsMilli : 0), 0),
        ...(person ? { pointsBalanceMilli: inc?.fromServer ? (inc.pointsBalanceMilli ?? null) : null } : {}),
        incentivesEstimated: !inc?.fromServer,
      } : {}),
    });
    // The journal first (durable); then, online, a moment for the county server's answer so the paper
    // carries its points and balance; offline (or slow) the receipt says the figures are estimates.
    const entry = await this.journal.append(rec);
    this.afterRecord();
    let inc: ReturnType<typeof Counter.returnIncentives> | null = null;
    if (incentives && person && this.awaitAnswer) {
      const answered = await this.awaitAnswer(id).catch(() => null);
      if (answered) inc = Counter.returnIncentives(answered);
    }
    return this.print(entry, { kind: 'refund_receipt', title: `退押 ${receiptNo}`, doc: layoutRefundReceipt(receipt(inc), { paper: this.paper, timeZone: ref.timeZone }) });
  }

  /**
   * What voiding a sale or return would undo, or why this counter may not void it — decided from the
   * journal alone, without the server (docs/ledger.md, "Reversal window"): only a sale or return this
   * terminal recorded, of today (its journal's day), not refused by the server, not voided already.
   */
  voidPreview(target: string): VoidPreview {
    const { who, ref } = this.ready();
    let key = String(target ?? '').trim();
    // `last`: the last receipt of this counter (its latest sale or return).
    if (key === 'last') key = [...this.journal.all()].reverse().find((x) => x.record.kind === 'sale' || x.record.kind === 'return')?.record.id ?? '';
    const today = this.today();
    const all = this.journal.all();
    const e = all.find((x) => x.record.id === key || (key !== '' && x.record.local.receiptNo === key));
    if (!e) {
      // Not in this journal: a receipt number says whose and which day it is.
      const m = RECEIPT_NO.exec(key);
      if (m && m[5] !== receiptTag(who, ref)) throw new CounterError('VOID_OTHER_TERMINAL', `${key} was not recorded at this terminal`, `${key} 不是本终端的单据`, 'target');
      if (m && `${m[2]}-${m[3]}-${m[4]}` !== today) throw new CounterError('VOID_EARLIER_DAY', `${key} is of ${m[2]}-${m[3]}-${m[4]}; only today's records (${today}) can be voided here`, `${key} 是 ${m[2]}-${m[3]}-${m[4]} 的单据，只能作废今天（${today}）的单据`, 'target');
      throw new CounterError('RECORD_NOT_FOUND', `No sale or return ${key} at this terminal`, `本终端没有单据 ${key}`, 'target');
    }
    const kind = e.record.kind;
    if (kind !== 'sale' && kind !== 'return') throw new CounterError('VOID_NOT_VOIDABLE', `A ${kind} record cannot be voided`, '只有销售和退押单据可以作废', 'target');
    const l = e.record.local;
    const receiptNo = String(l.receiptNo ?? e.record.id);
    if (e.state === 'refused') throw new CounterError('VOID_TARGET_REFUSED', `The server refused ${receiptNo}: nothing to void`, `县服务器已拒绝 ${receiptNo}，无需作废`, 'target');
    if (l.businessDay !== today) throw new CounterError('VOID_EARLIER_DAY', `${receiptNo} is of ${String(l.businessDay)}; only today's records (${today}) can be voided here`, `${receiptNo} 是 ${String(l.businessDay)} 的单据，只能作废今天（${today}）的单据`, 'target');
    const prior = this.voidsByTarget().get(e.record.id);
    if (prior && prior.state !== 'refused') throw new CounterError('ALREADY_REVERSED', `${receiptNo} was already voided (${String(prior.record.local.receiptNo)})`, `${receiptNo} 已作废（${String(prior.record.local.receiptNo)}）`, 'target');
    // The server said no to voiding this record once: it says the same again.
    if (prior?.error) throw new CounterError(prior.error.code, prior.error.message, prior.error.message_zh ?? prior.error.message, 'target');
    if (kind === 'sale') {
      const lines = l.lines as Array<{ productName: string; packSizeLabel?: string; quantity: number; unitCodes: string[]; lineDepositFen: number }>;
      const returned = this.returnedCodes();
      const back = lines.flatMap((x) => x.unitCodes.filter((c) => returned.has(c)));
      if (back.length) throw new CounterError('REVERSAL_NOT_POSSIBLE', `${back.length} container(s) of ${receiptNo} were already returned`, `${receiptNo} 的 ${back.length} 个包装已退回`, 'target');
      const amount = l.totalDepositFen as number;
      return {
        targetType: 'sale', targetId: e.record.id, receiptNo, businessDay: today, eventTime: e.record.eventTime,
        lines: lines.map((x) => ({ productName: x.productName, packSizeLabel: x.packSizeLabel ?? '', quantity: x.quantity, amountFen: x.lineDepositFen })),
        containers: lines.reduce((n, x) => n + x.quantity, 0), rejected: 0, amountFen: amount, buybackFen: 0, cashFen: -amount, payment: null,
      };
    }
    const items = l.items as Array<{ productName: string; packSizeLabel?: string; quantity: number; inspection: string; refundFen: number }>;
    const lines = new Map<string, VoidPreview['lines'][number]>();
    for (const it of items) {
      if (it.inspection !== 'accepted') continue;
      const k = `${it.productName}\u0000${it.packSizeLabel ?? ''}`;
      const line = lines.get(k) ?? { productName: it.productName, packSizeLabel: it.packSizeLabel ?? '', quantity: 0, amountFen: 0 };
      line.quantity += it.quantity;
      line.amountFen += it.refundFen;
      lines.set(k, line);
    }
    const amount = l.refundPaidFen as number;
    const payment = (l.payment as RefundPayment | undefined) ?? { method: 'cash' };
    return {
      targetType: 'return', targetId: e.record.id, receiptNo, businessDay: today, eventTime: e.record.eventTime, lines: [...lines.values()],
      containers: items.filter((it) => it.inspection === 'accepted').reduce((n, it) => n + it.quantity, 0),
      rejected: items.filter((it) => it.inspection !== 'accepted').reduce((n, it) => n + it.quantity, 0),
      amountFen: amount, buybackFen: (l.buybackPaidFen as number | undefined) ?? 0, cashFen: payment.method === 'cash' ? amount : 0, payment,
    };
  }

  private voidChain: Promise<unknown> = Promise.resolve();

  /**
   * Voids a sale or return of today at this counter: a `reversal` record in the journal (durable
   * before it is confirmed; the server applies it under its client id like every record), then the
   * void slip. One void per record: a second press, however quick, is refused (ALREADY_REVERSED) and
   * writes nothing — voids are made one at a time.
   */
  async void(req: VoidRequest): Promise<ActionResult & { void: VoidPreview }> {
    const at = this.now();
    // The client id first, before anything is looked at or written: the record's key at the server.
    const id = newClientId(at.getTime());
    const run = this.voidChain.then(async () => {
      const { who, ref } = this.ready();
      if (!isVoidReason(req?.reason)) throw new CounterError('VOID_REASON_REQUIRED', 'Choose why the record is voided', '请选择作废原因', 'reason');
      const v = this.voidPreview(req.target);
      const day = businessDay(at, ref.timeZone);
      const receiptNo = this.receiptNo('ZF', 'reversal', day, who, ref);
      const reason = VOID_REASON_TEXT[req.reason as VoidReason];
      const rec: JournalRecord = {
        kind: 'reversal', id, eventTime: at.toISOString(),
        payload: { targetType: v.targetType, targetId: v.targetId, reason: req.reason },
        local: {
          receiptNo, businessDay: day, reasonCode: req.reason, targetType: v.targetType, targetId: v.targetId, targetReceiptNo: v.receiptNo,
          lines: v.lines, containers: v.containers, rejected: v.rejected, amountFen: v.amountFen, buybackFen: v.buybackFen, cashFen: v.cashFen, payment: v.payment,
        },
      };
      const slip: VoidSlip = {
        shopName: who.shopName, voidNumber: receiptNo, voidedAt: rec.eventTime, target: v.targetType, targetNumber: v.receiptNo, reason,
        lines: v.lines.map((x) => ({ productName: x.productName, ...(x.packSizeLabel ? { packSizeLabel: x.packSizeLabel } : {}), quantity: x.quantity, amountFen: x.amountFen })),
        containers: v.containers, amountFen: v.amountFen, ...(v.payment ? { payment: v.payment } : {}),
      };
      const r = await this.commit(rec, { kind: 'void_slip', title: `作废 ${receiptNo}`, doc: layoutVoidSlip(slip, { paper: this.paper, timeZone: ref.timeZone }) });
      return { ...r, void: v };
    });
    this.voidChain = run.catch(() => undefined);
    return run;
  }

  /** Today at this counter: the county's business day on the terminal's clock, in the county's zone. */
  today(): string {
    return businessDay(this.now(), this.reference()?.timeZone ?? DEFAULT_TIME_ZONE);
  }

  /** The till's figures for a business day, from this terminal's journal (live and archived). */
  drawerFigures(day?: string, openingFloatFen = 0) {
    const d = day ?? this.today();
    const f = {
      businessDay: d, depositsTakenFen: 0, refundsPaidFen: 0, refundsPaidCashFen: 0, salesCount: 0, containersSold: 0, returnsCount: 0, containersAccepted: 0, containersRejected: 0, netCashExpectedFen: 0, openingFloatFen,
      // Issue 17: buy-back is part of the refunds paid (cash out of the drawer when paid in cash); points move no cash.
      buybackPaidFen: 0, pointsEarnedMilli: 0, pointsRedeemedMilli: 0, redemptionsCount: 0, redeemedGoodsValueFen: 0,
      // Voids of the day, on their own lines: a voided sale's deposits went back out of the drawer, a
      // voided return's refund came back in (its cash part into the drawer).
      voidsCount: 0, voidedSalesFen: 0, voidedReturnsFen: 0, voidedReturnsCashFen: 0,
    };
    const voided = this.voidedIds();
    // Past days may be partly or wholly in the journal's day archive: entriesOfDay joins both, once each.
    for (const e of this.journal.entriesOfDay(d)) {
      const l = e.record.local;
      if (l.businessDay !== d) continue;
      if (e.record.kind === 'sale') {
        f.salesCount++;
        f.depositsTakenFen += l.totalDepositFen as number;
        f.containersSold += (l.lines as Array<{ quantity: number }>).reduce((s, x) => s + x.quantity, 0);
      } else if (e.record.kind === 'return') {
        f.returnsCount++;
        f.refundsPaidFen += l.refundPaidFen as number;
        if ((l.payment as { method: string }).method === 'cash') f.refundsPaidCashFen += l.refundPaidFen as number;
        // Buy-back as paid (it left the till, like the refunds above); points as the server answered (else as estimated).
        f.buybackPaidFen += (l.buybackPaidFen as number | undefined) ?? 0;
        // Points of a voided return are taken back by the server with the void.
        if (this.stands(e, voided)) f.pointsEarnedMilli += Counter.returnIncentives(e).totalPointsMilli;
        for (const it of l.items as Array<{ inspection: string; quantity: number }>) {
          if (it.inspection === 'accepted') f.containersAccepted += it.quantity;
          else f.containersRejected += it.quantity;
        }
      } else if (e.record.kind === 'reversal') {
        // The cash moved at the counter when the clerk voided, whatever the server says later.
        f.voidsCount++;
        if (l.targetType === 'sale') f.voidedSalesFen += l.amountFen as number;
        else {
          f.voidedReturnsFen += l.amountFen as number;
          f.voidedReturnsCashFen += Math.max(0, l.cashFen as number);
        }
      }
    }
    // Approved held refunds paid here in cash left the same till: they count as cash refunds.
    const held = this.heldPaidOn(d);
    f.refundsPaidFen += held.fen;
    f.refundsPaidCashFen += held.fen;
    const redeemed = this.pointsRedeemedOn(d);
    f.pointsRedeemedMilli = redeemed.milli;
    f.redemptionsCount = redeemed.count;
    f.redeemedGoodsValueFen = redeemed.goodsValueFen;
    f.netCashExpectedFen = openingFloatFen + f.depositsTakenFen - f.refundsPaidCashFen - f.voidedSalesFen + f.voidedReturnsCashFen;
    return f;
  }

  /**
   * Inspector mode: the shop's ledgers for a period (county days, default the current month to
   * today), printed from this terminal's own journal — no server needed. Sales this terminal took and
   * the containers accepted back, less what was voided here (a reversal an official made on the server
   * is not known here, so such a sale still shows). Purchasers in clear: the shop's own ledger, at the shop (docs/statutory-ledgers.md).
   */
  async inspectorLedger(input: { from?: string; to?: string }): Promise<{ ledger: InspectorLedger; preview: string[]; printJobId: string | null }> {
    const { who, ref } = this.ready();
    const today = this.today();
    const to = input.to ?? today;
    const from = input.from ?? `${today.slice(0, 7)}-01`;
    for (const [field, v] of [['from', from], ['to', to]] as const) {
      if (typeof v !== 'string' || !isCalendarDay(v)) throw new CounterError('VALIDATION_FAILED', `${field} must be a day YYYY-MM-DD`, '日期格式应为 YYYY-MM-DD', field);
    }
    if (from > to || addDays(from, 366) < to) throw new CounterError('VALIDATION_FAILED', 'from must be on or before to, at most a year apart', '起止日期无效（最长一年）', 'from');
    const ledger: InspectorLedger = { shopName: who.shopName, shopLicence: ref.snapshot.shop?.licenceNo ?? null, from, to, printedAt: this.now().toISOString(), sales: [], received: [] };
    const voided = this.voidedIds();
    for (let d = from; d <= to; d = addDays(d, 1)) {
      const back = new Map<string, number>();
      for (const e of this.journal.entriesOfDay(d)) {
        const l = e.record.local;
        if (l.businessDay !== d || !this.stands(e, voided)) continue;
        if (e.record.kind === 'sale') {
          const person = l.person as { name: string; phoneE164: string };
          for (const line of l.lines as Array<{ productId: string; productName: string; packSizeLabel: string; quantity: number }>) {
            ledger.sales.push({ day: d, receiptNo: String(l.receiptNo), productName: line.productName, registrationNo: ref.product(line.productId)?.registrationNo ?? '', packSizeLabel: line.packSizeLabel, quantity: line.quantity, purchaserName: person.name, purchaserPhone: person.phoneE164 });
          }
        } else if (e.record.kind === 'return') {
          for (const it of l.items as Array<{ inspection: string; productName: string; quantity: number }>) {
            if (it.inspection === 'accepted') back.set(it.productName, (back.get(it.productName) ?? 0) + it.quantity);
          }
        }
      }
      for (const [productName, quantity] of back) ledger.received.push({ day: d, productName, quantity });
    }
    const doc = layoutInspectorLedger(ledger, { paper: this.paper, timeZone: ref.timeZone });
    let printJobId: string | null = null;
    if (this.printer) printJobId = (await this.printer.enqueue({ kind: 'other', title: `台账 ${from}–${to}`, reference: `LEDGER-${from}-${to}`, doc })).id;
    return { ledger, preview: renderPreview(doc), printJobId };
  }

  /**
   * The day's figures as the county gets them: the day as it stands after its voids (what the county's
   * ledger shows once the voids are applied) — voided sales and returns taken out of the sums and counts.
   * The drawer-report payload has no fields for voids; the paper shows them on their own lines.
   */
  private afterVoids(f: ReturnType<Counter['drawerFigures']>) {
    const { businessDay: _d, openingFloatFen: _o, voidsCount: _n, voidedSalesFen: _s, voidedReturnsFen: _r, voidedReturnsCashFen: _c, ...figures } = f;
    const out = { ...figures };
    for (const e of this.journal.entriesOfDay(f.businessDay)) {
      const l = e.record.local;
      if (e.record.kind !== 'reversal' || l.businessDay !== f.businessDay) continue;
      if (l.targetType === 'sale') {
        out.salesCount--;
        out.containersSold -= l.containers as number;
        out.depositsTakenFen -= l.amountFen as number;
      } else {
        out.returnsCount--;
        out.containersAccepted -= l.containers as number;
        out.containersRejected -= (l.rejected as number | undefined) ?? 0;
        out.refundsPaidFen -= l.amountFen as number;
        out.refundsPaidCashFen -= Math.max(0, l.cashFen as number);
        out.buybackPaidFen -= (l.buybackFen as number | undefined) ?? 0;
      }
    }
    return out;
  }

  async drawerReport(input: { businessDay?: string; openingFloatFen?: number; clerkName?: string }): Promise<ActionResult> {
    const { who, ref } = this.ready();
    const at = this.now();
    const opening = input.openingFloatFen ?? 0;
    if (!Number.isInteger(opening) || opening < 0 || opening > 100_000_000) throw new CounterError('VALIDATION_FAILED', 'The opening float must be a whole number of fen', '备用金金额无效', 'openingFloatFen');
    const f = this.drawerFigures(input.businessDay, opening);
    const clerk = input.clerkName?.trim() || undefined;
    const id = newClientId(at.getTime());
    const receiptNo = receiptNumber('DR', f.businessDay, who, ref, id.slice(-4));
    const { businessDay, openingFloatFen, voidsCount, voidedSalesFen, voidedReturnsFen, voidedReturnsCashFen, ...figures } = f;
    const rec: JournalRecord = {
      kind: 'drawer-report', id, eventTime: at.toISOString(),
      payload: { shopId: who.shopId, businessDay, ...this.afterVoids(f), ...(opening ? { openingFloatFen } : {}), ...(clerk ? { clerkName: clerk } : {}) },
      local: { receiptNo, reportDay: businessDay, figures: f },
    };
    // The paper shows the incentive lines where the county has incentives (or some were paid or given here).
    const { buybackPaidFen, pointsEarnedMilli, pointsRedeemedMilli, redemptionsCount, redeemedGoodsValueFen, ...cash } = figures;
    const incentives = rates(ref) || buybackPaidFen > 0 || pointsEarnedMilli > 0 || pointsRedeemedMilli > 0;
    const report: DrawerReport = {
      shopName: who.shopName, terminal: receiptTag(who, ref), day: businessDay, ...cash, ...(incentives ? { buybackPaidFen, pointsEarnedMilli, pointsRedeemedMilli, redemptionsCount, redeemedGoodsValueFen } : {}),
      ...(voidsCount ? { voids: { count: voidsCount, salesFen: voidedSalesFen, returnsFen: voidedReturnsFen, returnsCashFen: voidedReturnsCashFen } } : {}),
      ...(opening ? { openingFloatFen } : {}), printedAt: rec.eventTime, ...(clerk ? { clerkName: clerk } : {}),
    };
    return this.commit(rec, { kind: 'drawer_report', title: `日结 ${businessDay}`, doc: layoutDrawerReport(report, { paper: this.paper, timeZone: ref.timeZone }) });
  }
}
