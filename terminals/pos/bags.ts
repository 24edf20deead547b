// The bags screen, offline-first: opening a collection bag, putting containers in (from the day's
// returns or by scanning), sealing it and signing a hauler's pickup are `bag-event` journal records,
// durable before the clerk sees them confirmed and applied on the server by the custody services under
// their client ids. What a bag holds on this screen is folded from the journal (refused records left
// out); the server's answer, once synced, is the bag as the county sees it.
import { newClientId } from '../../src/shared/client-id.js';
import { bagQrPayload, layoutBagLabel, renderPreview, type BagLabel, type PrintQueue } from '../printing/index.js';
import { CounterError, type ActionResult, type Counter, type TerminalIdentity } from './counter.js';
import type { Journal, JournalEntry, JournalRecord } from './journal.js';
import type { ReferenceCache } from './reference-cache.js';

export const BAG_MATERIALS = ['HDPE', 'PET', 'COEX', 'PP', 'glass', 'aluminium', 'plastic_bag', 'paper_bag', 'composite_bag'] as const;

export interface BagLine {
  containerTypeId: string;
  containerTypeCode: string;
  unitCode: string | null;
  quantity: number;
}

export interface LocalBag {
  id: string;
  material: string;
  sealNo: string | null;
  state: 'open' | 'sealed';
  openedAt: string;
  sealedAt: string | null;
  shopWeightG: number | null;
  lines: BagLine[];
  /** Per container type: how many, and which unit codes. */
  contents: Array<{ containerTypeId: string; containerTypeCode: string; quantity: number; unitCodes: string[] }>;
  quantity: number;
  /** Sync state of each of the bag's records, oldest first. */
  records: Array<{ id: string; action: string; state: string; error: { code: string; message: string; message_zh?: string } | null }>;
  /** The server's view after the last synced record (state, expected weight, ...). */
  server: Record<string, unknown> | null;
}

export interface PickupAwaiting {
  manifestId: string;
  trackingNo: string;
  handover: string;
  bags: Array<{ bagId: string; sealNo: string | null; material: string; declaredQuantity: number }>;
  /** A sign record is in the journal, not synced yet. */
  signedLocally: boolean;
}

type Local = { bagId?: string; action?: string; material?: string; sealNo?: string | null; lines?: BagLine[]; fromReturns?: string[]; shopWeightG?: number | null; manifestId?: string };

export class BagDesk {
  constructor(
    private readonly journal: Journal,
    private readonly counter: Counter,
    private readonly reference: () => ReferenceCache | null,
    private readonly printer: PrintQueue | null,
    private readonly paper: 58 | 80,
    private readonly now: () => Date,
    /** Manifests from the server (null when offline); the terminal's ServerClient. */
    private readonly fetchManifests: (() => Promise<unknown[]>) | null,
  ) {}

  private bagEntries(): JournalEntry[] {
    return this.journal.all().filter((e) => e.record.kind === 'bag-event');
  }

  /** Every bag opened at this terminal, newest first, as the journal says. */
  bags(): LocalBag[] {
    const byId = new Map<string, LocalBag>();
    const types = new Map((this.reference()?.snapshot.containerTypes ?? []).map((c) => [c.id, c.code]));
    for (const e of this.bagEntries()) {
      const l = e.record.local as Local;
      const bagId = l.bagId!;
      let bag = byId.get(bagId);
      if (l.action === 'open') {
        if (!bag) {
          bag = { id: bagId, material: l.material!, sealNo: l.sealNo ?? null, state: 'open', openedAt: e.record.eventTime, sealedAt: null, shopWeightG: null, lines: [], contents: [], quantity: 0, records: [], server: null };
          byId.set(bagId, bag);
        }
      }
      if (!bag) continue;
      bag.records.push({ id: e.record.id, action: l.action!, state: e.state, error: e.error ? { code: e.error.code, message: e.error.message, ...(e.error.message_zh ? { message_zh: e.error.message_zh } : {}) } : null });
      if (e.state === 'synced' && e.result && typeof e.result === 'object') bag.server = e.result as Record<string, unknown>;
      if (e.state === 'refused') continue;
      if (l.action === 'add') bag.lines.push(...(l.lines ?? []));
      if (l.action === 'seal') {
        bag.state = 'sealed';
        bag.sealNo = l.sealNo ?? bag.sealNo;
        bag.sealedAt = e.record.eventTime;
        bag.shopWeightG = l.shopWeightG ?? null;
      }
    }
    for (const bag of byId.values()) {
      const c = new Map<string, LocalBag['contents'][number]>();
      for (const line of bag.lines) {
        const row = c.get(line.containerTypeId) ?? { containerTypeId: line.containerTypeId, containerTypeCode: types.get(line.containerTypeId) ?? line.containerTypeCode, quantity: 0, unitCodes: [] };
        row.quantity += line.quantity;
        if (line.unitCode) row.unitCodes.push(line.unitCode);
        c.set(line.containerTypeId, row);
      }
      bag.contents = [...c.values()];
      bag.quantity = bag.lines.reduce((s, x) => s + x.quantity, 0);
    }
    return [...byId.values()].reverse();
  }

  bag(id: string): LocalBag {
    const b = this.bags().find((x) => x.id === id);
    if (!b) throw new CounterError('BAG_NOT_FOUND', 'No such bag at this terminal', '本终端没有该收集袋', 'bagId');
    return b;
  }

  private openBag(id: string): LocalBag {
    const b = this.bag(id);
    if (b.state !== 'open') throw new CounterError('BAG_SEALED', `Bag ${b.sealNo ?? id} is sealed: it can no longer change`, '该袋已封口，内容不能再更改', 'bagId');
    const opened = b.records.find((r) => r.action === 'open');
    if (opened?.state === 'refused') throw new CounterError('BAG_REFUSED', 'The server refused to open this bag: open a new one', '服务器拒绝了该收集袋，请另开新袋', 'bagId');
    return b;
  }

  private baggedUnitCodes(): Set<string> {
    const s = new Set<string>();
    for (const b of this.bags()) for (const l of b.lines) if (l.unitCode) s.add(l.unitCode);
    return s;
  }

  private sealNos(): Set<string> {
    return new Set(this.bags().map((b) => b.sealNo).filter((x): x is string => !!x));
  }

  private record(action: string, payload: Record<string, unknown>, local: Local & Record<string, unknown>, at: Date): JournalRecord {
    return { kind: 'bag-event', id: newClientId(at.getTime()), eventTime: at.toISOString(), payload: { action, ...payload }, local: { action, ...local } };
  }

  /** Open a bag of one material; the seal number may be given now (it goes to the server on sealing). */
  async open(input: { material: string; sealNo?: string }): Promise<ActionResult> {
    const { who } = this.counter.ready();
    if (!(BAG_MATERIALS as readonly string[]).includes(input.material)) throw new CounterError('VALIDATION_FAILED', 'Choose the bag\'s material', '请选择收集袋材质', 'material');
    const sealNo = this.checkSealNo(input.sealNo);
    const at = this.now();
    const rec = this.record('open', { shopId: who.shopId, material: input.material }, { material: input.material, sealNo, receiptNo: sealNo }, at);
    (rec.local as Local).bagId = rec.id; // the open record's id is the bag's id on the server
    return this.counter.commit(rec, null);
  }

  private checkSealNo(raw: string | undefined): string | null {
    const sealNo = raw?.trim() || null;
    if (sealNo === null) return null;
    if (!/^[A-Za-z0-9-]{1,64}$/.test(sealNo)) throw new CounterError('VALIDATION_FAILED', 'A seal number is 1–64 letters, digits or dashes', '封条号应为 1–64 位字母、数字或短横线', 'sealNo');
    return sealNo;
  }

  /**
   * Put containers in: scans (unit code or GTIN, e.g. from the scanner or the counting machine) and
   * counts per container type. The server checks the shop accepted that many on return.
   */
  async add(bagId: string, input: { scans?: string[]; counts?: Array<{ containerTypeId: string; quantity: number }>; fromReturns?: string[] }): Promise<ActionResult> {
    this.counter.ready();
    const ref = this.reference()!;
    const bag = this.openBag(bagId);
    const materialOf = (ctId: string) => ref.snapshot.containerTypes.find((c) => c.id === ctId);
    const lines: BagLine[] = [];
    const counts = new Map<string, number>();
    const bagged = this.baggedUnitCodes();
    const addCount = (ctId: string, n: number, field: string) => {
      const ct = materialOf(ctId);
      if (!ct) throw new CounterError('CONTAINER_TYPE_NOT_FOUND', 'Unknown container type', '没有该包装类型', field);
      if (ct.material !== bag.material) throw new CounterError('BAG_MATERIAL_MISMATCH', `${ct.code} is ${ct.material}, the bag holds ${bag.material}`, `${ct.code} 材质为 ${ct.material}，该袋只装 ${bag.material}`, field);
      counts.set(ctId, (counts.get(ctId) ?? 0) + n);
    };
    const unitCodes: string[] = [];
    for (const [i, scan] of (input.scans ?? []).entries()) {
      const r = ref.resolveScan(scan);
      // A cut-short or over-long digit run never enters a bag: it is a misread, not some other product.
      if (!r.ok && r.kind === 'bad_barcode') throw new CounterError('INVALID_GTIN', `Scan ${i + 1}: barcode ${r.gtin ?? ''} has a wrong check digit — scan again`, `第 ${i + 1} 次扫码：商品条码校验位不对，请重扫`, `scans/${i}`);
      if (!r.ok && r.kind === 'misread') throw new CounterError('MISREAD', `Scan ${i + 1}: misread (${r.digits} digits) — scan again`, `第 ${i + 1} 次扫码：读码不全，请重扫`, `scans/${i}`);
      if (!r.ok) throw new CounterError(r.code === 'SALE_RECEIPT' ? 'UNIT_CODE_INVALID' : r.code, `Scan ${i + 1}: ${r.code === 'PRODUCT_NOT_FOUND' ? 'not a scheme product' : 'not a container code'}`, r.code === 'PRODUCT_NOT_FOUND' ? `第 ${i + 1} 次扫码：非本县回收产品` : `第 ${i + 1} 次扫码：不是包装上的码`, `scans/${i}`);
      if (r.unitCode) {
        if (bagged.has(r.unitCode) || unitCodes.includes(r.unitCode)) throw new CounterError('UNIT_CODE_ALREADY_BAGGED', `Unit code …${r.unitCode.slice(-6)} is already in a bag`, '该单元识别码已装袋', `scans/${i}`);
        const ct = materialOf(r.product.containerTypeId);
        if (ct && ct.material !== bag.material) throw new CounterError('BAG_MATERIAL_MISMATCH', `The container is ${ct.material}, the bag holds ${bag.material}`, `该包装材质为 ${ct.material}，该袋只装 ${bag.material}`, `scans/${i}`);
        unitCodes.push(r.unitCode);
        lines.push({ containerTypeId: r.product.containerTypeId, containerTypeCode: ct?.code ?? '', unitCode: r.unitCode, quantity: 1 });
      } else {
        addCount(r.product.containerTypeId, 1, `scans/${i}`);
      }
    }
    for (const [i, c] of (input.counts ?? []).entries()) {
      if (!Number.isInteger(c.quantity) || c.quantity < 1 || c.quantity > 100_000) throw new CounterError('VALIDATION_FAILED', 'Quantity must be 1–100000', '数量应为 1–100000', `counts/${i}/quantity`);
      addCount(c.containerTypeId, c.quantity, `counts/${i}/containerTypeId`);
    }
    const fromReturns: string[] = [];
    if (input.fromReturns) {
      const taken = new Set(this.bags().flatMap((b) => b.records.filter((r) => r.state !== 'refused').map((r) => r.id)).flatMap((id) => ((this.journal.get(id)?.record.local as Local).fromReturns ?? [])));
      for (const rid of input.fromReturns) {
        const e = this.journal.get(rid);
        // A voided return's containers went back to the farmer: they are not the shop's to bag.
        if (!e || e.record.kind !== 'return' || e.state === 'refused' || this.counter.voidedIds().has(rid)) throw new CounterError('RETURN_NOT_FOUND', 'No such return at this terminal', '本终端没有该退押记录', 'fromReturns');
        for (const [j, it] of (e.record.local.items as Array<{ productId: string | null; unitCode: string | null; quantity: number; inspection: string }>).entries()) {
          const key = `${rid}#${j}`;
          if (it.inspection !== 'accepted' || !it.productId || taken.has(key)) continue;
          const ctId = ref.product(it.productId)?.containerTypeId;
          const ct = ctId ? materialOf(ctId) : undefined;
          if (!ct || ct.material !== bag.material) continue; // another bag's material
          if (it.unitCode && !bagged.has(it.unitCode) && !unitCodes.includes(it.unitCode)) {
            unitCodes.push(it.unitCode);
            lines.push({ containerTypeId: ct.id, containerTypeCode: ct.code, unitCode: it.unitCode, quantity: 1 });
          } else if (!it.unitCode) {
            counts.set(ct.id, (counts.get(ct.id) ?? 0) + it.quantity);
          } else continue;
          fromReturns.push(key);
        }
      }
    }
    for (const [ctId, n] of counts) lines.push({ containerTypeId: ctId, containerTypeCode: materialOf(ctId)?.code ?? '', unitCode: null, quantity: n });
    if (lines.length === 0) throw new CounterError('NOTHING_TO_ADD', 'Nothing to put in this bag', '没有可装袋的包装', 'scans');
    const payload: Record<string, unknown> = { bagId };
    const countLines = lines.filter((l) => !l.unitCode);
    if (countLines.length) payload.counts = countLines.map((l) => ({ containerTypeId: l.containerTypeId, quantity: l.quantity }));
    if (unitCodes.length) payload.unitCodes = unitCodes;
    return this.counter.commit(this.record('add', payload, { bagId, lines, fromReturns, receiptNo: bag.sealNo }, this.now()), null);
  }

  /** Seal the bag: the seal number (given now or at opening) and the shop's weight; prints the label. */
  async seal(bagId: string, input: { sealNo?: string; shopWeightG?: number | null }): Promise<ActionResult> {
    const { who, ref } = this.counter.ready();
    const bag = this.openBag(bagId);
    if (bag.quantity === 0) throw new CounterError('BAG_EMPTY', 'An empty bag cannot be sealed', '空袋不能封口', 'bagId');
    const sealNo = this.checkSealNo(input.sealNo) ?? bag.sealNo;
    if (!sealNo) throw new CounterError('SEAL_NO_REQUIRED', 'Enter the number on the seal', '请填写封条号', 'sealNo');
    if ([...this.sealNos()].some((s) => s === sealNo) && bag.sealNo !== sealNo) throw new CounterError('SEAL_NO_DUPLICATE', 'Another bag already carries this seal number', '已有收集袋使用该封条号', 'sealNo');
    const w = input.shopWeightG;
    if (w !== undefined && w !== null && (!Number.isInteger(w) || w < 0 || w > 10_000_000)) throw new CounterError('VALIDATION_FAILED', 'The weight is whole grams', '重量应为整数克', 'shopWeightG');
    const at = this.now();
    const payload: Record<string, unknown> = { bagId, sealNo };
    if (w !== undefined && w !== null) payload.shopWeightG = w;
    const rec = this.record('seal', payload, { bagId, sealNo, shopWeightG: w ?? null, receiptNo: sealNo }, at);
    const label = this.label({ ...bag, sealNo, sealedAt: rec.eventTime }, who, ref);
    return this.counter.commit(rec, { kind: 'bag_label', title: `袋签 ${sealNo}`, doc: layoutBagLabel(label, { paper: this.paper, timeZone: ref.timeZone }) });
  }

  private label(bag: LocalBag, who: TerminalIdentity, ref: ReferenceCache): BagLabel {
    return {
      sealNumber: bag.sealNo!, material: bag.material, county: ref.snapshot.county.nameZh, shopName: who.shopName,
      sealedAt: bag.sealedAt ?? this.now().toISOString(),
      counts: bag.contents.map((c) => ({ containerType: c.containerTypeCode, count: c.quantity })),
      qrPayload: bagQrPayload(bag.sealNo!),
    };
  }

  /** Print a sealed bag's label again (a new job; the first may have gone to an empty printer). */
  async printLabel(bagId: string): Promise<{ preview: string[]; printJobId: string | null }> {
    const { who, ref } = this.counter.ready();
    const bag = this.bag(bagId);
    if (bag.state !== 'sealed' || !bag.sealNo) throw new CounterError('BAG_NOT_SEALED', 'Seal the bag first', '请先封袋', 'bagId');
    const doc = layoutBagLabel(this.label(bag, who, ref), { paper: this.paper, timeZone: ref.timeZone });
    const job = this.printer ? await this.printer.enqueue({ kind: 'bag_label', title: `袋签 ${bag.sealNo}`, reference: bag.sealNo, doc }) : null;
    return { preview: renderPreview(doc), printJobId: job?.id ?? null };
  }

  /** Manifests whose next signature is this shop handing its bags over (needs the server). */
  async pickups(): Promise<PickupAwaiting[]> {
    const { who } = this.counter.ready();
    if (!this.fetchManifests) return [];
    const manifests = (await this.fetchManifests()) as Array<{ id: string; trackingNo: string; bags: Array<{ bagId: string; shopId: string; sealNo: string | null; material: string; declaredQuantity: number }>; nextSigner: { status: string; handover?: string; side?: string } }>;
    const signing = new Set(this.bagEntries().filter((e) => (e.record.local as Local).action === 'sign' && e.state !== 'refused' && e.state !== 'synced').map((e) => (e.record.local as Local).manifestId));
    const handover = `pickup:${who.shopId}`;
    return manifests
      .filter((m) => m.nextSigner.status === 'sign' && m.nextSigner.handover === handover && m.nextSigner.side === 'giver')
      .map((m) => ({
        manifestId: m.id, trackingNo: m.trackingNo, handover,
        bags: m.bags.filter((b) => b.shopId === who.shopId).map((b) => ({ bagId: b.bagId, sealNo: b.sealNo, material: b.material, declaredQuantity: b.declaredQuantity })),
        signedLocally: signing.has(m.id),
      }));
  }

  /** The clerk signs the hand-over of this shop's bags to the hauler (giver side). */
  async signPickup(manifestId: string, trackingNo?: string): Promise<ActionResult> {
    const { who } = this.counter.ready();
    if (!/^[0-9a-f-]{36}$/.test(manifestId)) throw new CounterError('VALIDATION_FAILED', 'Choose the pickup to sign', '请选择要签字的转运联单', 'manifestId');
    const rec = this.record('sign', { manifestId, handover: `pickup:${who.shopId}`, side: 'giver', device: `terminal:${who.terminalId}` }, { manifestId, receiptNo: trackingNo ?? null }, this.now());
    return this.counter.commit(rec, null);
  }
}
