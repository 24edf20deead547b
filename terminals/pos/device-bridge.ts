// Device events into the clerk's screens. The terminal subscribes to the HID device service (in
// process, or its SSE endpoint GET /events) and feeds each event into the screen in front of the
// clerk: scans add containers to the open return session (or products to the sale, or containers to
// the bag), misreads and duplicates are shown and not added, counting-machine counts add containers
// (with the machine-read unit code when there is one), a sequence gap warns that containers may be
// missing, and scale readings fill the bag weight. Every handled event is pushed at once to the UI's
// stream (GET /local/devices/stream) stamped with when it was reported and when it was shown.
import { EventEmitter } from 'node:events';
import type { DeviceEvent } from '../hid/events.js';
import type { DeviceService } from '../hid/service.js';
import { CounterError, type ReturnRequest } from './counter.js';
import { scanFailureText, type ReferenceCache } from './reference-cache.js';
import { sseEvents } from './sse-reader.js';

export type Screen = 'sale' | 'return' | 'bags';

export interface SessionItem {
  key: string;
  productId: string | null;
  productName: string;
  /** Set for unit-coded containers (scanned or read by the machine's camera). */
  unitCode: string | null;
  quantity: number;
  source: 'scan' | 'machine';
}

export interface ClerkNotice {
  seq: number;
  /** The device event's type (scan, misread, count, weight, sequence_gap...). */
  type: DeviceEvent['type'];
  screen: Screen;
  level: 'ok' | 'info' | 'warning' | 'error';
  message: string;
  message_zh: string;
  deviceKey: string;
  /** When the device reported it (host ms) and when it reached the clerk's screen stream. */
  at_ms: number;
  shown_ms: number;
  added: SessionItem | null;
  /** The scan's outcome for the clerk's signal (colour and tone): accepted, refused, misread or a sale receipt. */
  signal?: 'accepted' | 'refused' | 'misread' | 'receipt' | null;
  /** A sale receipt's number, when the scan was one (the return screen opens that sale). */
  receiptNo?: string | null;
}

export interface DeviceSessionView {
  screen: Screen;
  returnItems: SessionItem[];
  /** Containers the machine counted without a code while no product was chosen: the clerk assigns them. */
  unassigned: number;
  currentProductId: string | null;
  saleScans: Array<{ text: string; productId: string | null; unitCode: string | null }>;
  bagScans: string[];
  bagWeight: { weight_g: number | null; stable: boolean; status: string; at_ms: number } | null;
  warnings: ClerkNotice[];
  devices: Record<string, { status: string; detail: string }>;
  lastSeq: number;
}

export interface DeviceBridgeOptions {
  reference: () => ReferenceCache | null;
  /** Counting-machine lane -> product for containers counted without a code. */
  laneProducts?: Record<number, string>;
  now?: () => number;
}

export class DeviceBridge extends EventEmitter {
  private screen: Screen = 'return';
  private items: SessionItem[] = [];
  private unassigned = 0;
  private currentProductId: string | null = null;
  private saleScans: DeviceSessionView['saleScans'] = [];
  private bagScans: string[] = [];
  private bagWeight: DeviceSessionView['bagWeight'] = null;
  private warnings: ClerkNotice[] = [];
  private readonly devices: DeviceSessionView['devices'] = {};
  private seq = 0;
  private nextKey = 1;
  private readonly recent: ClerkNotice[] = [];
  private readonly now: () => number;
  private readonly unsubscribers: Array<() => void> = [];

  constructor(private readonly o: DeviceBridgeOptions) {
    super();
    this.now = o.now ?? Date.now;
    this.setMaxListeners(100);
  }

  /** Take events from an in-process device service. */
  attach(service: DeviceService): void {
    const fn = (e: DeviceEvent) => this.handle(e);
    service.on('event', fn);
    this.unsubscribers.push(() => service.off('event', fn));
  }

  /** Take events from a device service's SSE endpoint (`npm run hid -- serve`); reconnects on loss. */
  connect(eventsUrl: string): void {
    let stopped = false;
    let controller = new AbortController();
    const run = async () => {
      while (!stopped) {
        try {
          controller = new AbortController();
          const res = await fetch(new URL('/events', eventsUrl), { headers: { accept: 'text/event-stream' }, signal: controller.signal });
          if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
          this.devices[`sse:${eventsUrl}`] = { status: 'connected', detail: eventsUrl };
          for await (const { data } of sseEvents(res.body)) {
            try {
              this.handle(JSON.parse(data) as DeviceEvent);
            } catch {
              /* not an event */
            }
          }
        } catch {
          /* device service not running: try again */
        }
        if (stopped) break;
        this.devices[`sse:${eventsUrl}`] = { status: 'disconnected', detail: `no device service at ${eventsUrl}` };
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    void run();
    this.unsubscribers.push(() => {
      stopped = true;
      controller.abort();
    });
  }

  close(): void {
    for (const u of this.unsubscribers.splice(0)) u();
    this.emit('close');
  }

  setScreen(screen: Screen): void {
    if (screen === 'sale' || screen === 'return' || screen === 'bags') this.screen = screen;
  }

  setCurrentProduct(productId: string | null): void {
    this.currentProductId = productId;
    if (productId && this.unassigned > 0) {
      this.addCounted(productId, this.unassigned);
      this.unassigned = 0;
    }
  }

  view(): DeviceSessionView {
    return {
      screen: this.screen, returnItems: this.items.map((i) => ({ ...i })), unassigned: this.unassigned, currentProductId: this.currentProductId,
      saleScans: [...this.saleScans], bagScans: [...this.bagScans], bagWeight: this.bagWeight, warnings: [...this.warnings],
      devices: { ...this.devices }, lastSeq: this.seq,
    };
  }

  /** Notices since a sequence number (the UI catching up after reconnecting). */
  since(seq: number): ClerkNotice[] {
    return this.recent.filter((n) => n.seq > seq);
  }

  /** The return session as the counter's request items (all accepted; the clerk may change that). */
  returnRequestItems(): ReturnRequest['items'] {
    if (this.unassigned > 0) throw Object.assign(new Error(`${this.unassigned} counted containers have no product: choose one`), { code: 'UNASSIGNED_CONTAINERS' });
    return this.items.map((i) => (i.unitCode ? { scan: i.unitCode, inspection: 'accepted' as const } : { productId: i.productId!, quantity: i.quantity, inspection: 'accepted' as const }));
  }

  /** For the UI server: a clerk-facing error when containers still need a product. */
  returnRequestItemsOrThrow(): ReturnRequest['items'] {
    if (this.unassigned > 0) throw new CounterError('UNASSIGNED_CONTAINERS', `${this.unassigned} counted container(s) have no product: choose one`, `有 ${this.unassigned} 个计数包装未指定商品，请选择`, 'items');
    return this.returnRequestItems();
  }

  clearReturn(): void {
    this.items = [];
    this.unassigned = 0;
    this.currentProductId = null;
    this.warnings = this.warnings.filter((w) => w.screen !== 'return');
    this.emit('session', this.view());
  }

  clearSale(): void {
    this.saleScans = [];
    this.emit('session', this.view());
  }

  takeBagScans(): string[] {
    const s = this.bagScans;
    this.bagScans = [];
    return s;
  }

  removeItem(key: string): void {
    this.items = this.items.filter((i) => i.key !== key);
    this.emit('session', this.view());
  }

  private productName(id: string | null): string {
    return (id && this.o.reference()?.product(id)?.name) || '未知 unknown';
  }

  private addCounted(productId: string, n: number): SessionItem {
    let line = this.items.find((i) => !i.unitCode && i.productId === productId);
    if (!line) {
      line = { key: `d${this.nextKey++}`, productId, productName: this.productName(productId), unitCode: null, quantity: 0, source: 'machine' };
      this.items.push(line);
    }
    line.quantity += n;
    return line;
  }

  private hasCode(code: string): boolean {
    return this.items.some((i) => i.unitCode === code);
  }

  private addCode(code: string, productId: string | null, source: SessionItem['source']): SessionItem {
    const item: SessionItem = { key: `d${this.nextKey++}`, productId, productName: productId ? this.productName(productId) : `…${code.slice(-6)}`, unitCode: code, quantity: 1, source };
    this.items.push(item);
    return item;
  }

  /** Handle one device event; returns the notice shown to the clerk (null for events with nothing to show). */
  handle(e: DeviceEvent): ClerkNotice | null {
    const ref = this.o.reference();
    let n: Omit<ClerkNotice, 'seq' | 'shown_ms' | 'at_ms' | 'deviceKey' | 'type' | 'screen' | 'added'> & { added?: SessionItem | null } | null = null;
    let signal: ClerkNotice['signal'] = null;
    let receiptNo: string | null = null;
    const tail = (code: string) => `…${code.slice(-8)}`;
    switch (e.type) {
      case 'scan': {
        const text = e.payload.kind === 'unit_code' ? e.payload.code : e.payload.kind === 'gtin' ? e.payload.gtin : e.payload.text;
        const r = ref?.resolveScan(text);
        const productId = r?.ok ? r.product.id : null;
        const failed = r && !r.ok ? { ...scanFailureText(r), level: (r.kind === 'misread' || r.kind === 'bad_barcode' ? 'error' : r.kind === 'sale_receipt' ? 'info' : 'warning') as ClerkNotice['level'] } : null;
        if (failed) signal = failed.signal;
        if (r && !r.ok && r.kind === 'sale_receipt') receiptNo = r.receiptNo ?? null;
        if (this.screen === 'sale') {
          if (failed) { n = { level: failed.level, message: failed.message, message_zh: failed.message_zh }; break; }
          this.saleScans.push({ text, productId, unitCode: e.payload.kind === 'unit_code' ? e.payload.code : null });
          n = productId ? { level: 'ok', message: `Scanned ${this.productName(productId)}`, message_zh: `已扫码：${this.productName(productId)}` } : { level: 'warning', message: `${text}: not a product of the scheme`, message_zh: `${text}：不是本县回收产品` };
        } else if (this.screen === 'bags') {
          // Only what resolves to a scheme container goes towards the bag; a misread never does.
          if (failed) { n = { level: failed.level, message: failed.message, message_zh: failed.message_zh }; break; }
          this.bagScans.push(text);
          n = { level: 'ok', message: `Scanned for the bag: ${text.length > 20 ? tail(text) : text}`, message_zh: `装袋扫码：${text.length > 20 ? tail(text) : text}` };
        } else if (failed) {
          n = { level: failed.level, message: `${failed.message}: not added`, message_zh: `${failed.message_zh}，未添加` };
        } else if (e.payload.kind === 'unit_code') {
          const code = e.payload.code;
          if (this.hasCode(code)) { signal = 'refused'; n = { level: 'warning', message: `Unit code ${tail(code)} is already in this return: not added`, message_zh: `识别码 ${tail(code)} 已在本次回收中，未重复添加` }; }
          else n = { level: 'ok', message: `Added ${productId ? this.productName(productId) : 'container'} ${tail(code)}`, message_zh: `已添加 ${productId ? this.productName(productId) : '包装'} ${tail(code)}`, added: this.addCode(code, productId, 'scan') };
        } else if (productId) {
          this.currentProductId = productId;
          n = { level: 'ok', message: `Added 1 × ${this.productName(productId)}`, message_zh: `已添加 1 个 ${this.productName(productId)}`, added: { ...this.addCounted(productId, 1) } };
        } else {
          n = { level: 'warning', message: `${text}: not a product of the scheme: not added`, message_zh: `${text}：不是本县回收产品，未添加` };
        }
        break;
      }
      case 'misread':
        signal = 'misread';
        n = { level: 'error', message: `Misread — scan again (${e.reason})`, message_zh: `读码不全，请重扫（${e.reason}）` };
        break;
      case 'duplicate_scan':
        n = { level: 'warning', message: `Unit code ${tail(e.code)} scanned twice: counted once`, message_zh: `识别码 ${tail(e.code)} 重复扫描，只计一次` };
        break;
      case 'count': {
        if (e.unitCode && e.unitCodeStatus === 'read') {
          if (this.hasCode(e.unitCode)) {
            n = { level: 'warning', message: `Machine read ${tail(e.unitCode)} again: already in this return, not added — check the container`, message_zh: `计数机再次读到 ${tail(e.unitCode)}：已在本次回收中，未添加，请检查` };
            break;
          }
          const r = ref?.resolveScan(e.unitCode);
          const productId = r?.ok ? r.product.id : null;
          const added = this.addCode(e.unitCode, productId, 'machine');
          n = { level: 'ok', message: `Counted ${productId ? this.productName(productId) : 'container'} ${tail(e.unitCode)} (lane ${e.lane})`, message_zh: `计数：${productId ? this.productName(productId) : '包装'} ${tail(e.unitCode)}（第 ${e.lane} 道）`, added };
          break;
        }
        const productId = this.o.laneProducts?.[e.lane] ?? this.currentProductId;
        const note = e.unitCodeStatus === 'unreadable' || e.unitCodeStatus === 'misread' ? ` (code ${e.unitCodeStatus})` : '';
        const noteZh = e.unitCodeStatus === 'unreadable' ? '（识别码无法读取）' : e.unitCodeStatus === 'misread' ? '（识别码读错）' : '';
        if (productId) {
          const line = this.addCounted(productId, 1);
          n = { level: note ? 'info' : 'ok', message: `Counted 1 × ${this.productName(productId)}${note} (lane ${e.lane})`, message_zh: `计数：1 个 ${this.productName(productId)}${noteZh}（第 ${e.lane} 道）`, added: { ...line } };
        } else {
          this.unassigned++;
          n = { level: 'warning', message: `Counted a container without code${note}: choose its product (${this.unassigned} waiting)`, message_zh: `计数到无码包装${noteZh}：请选择商品（${this.unassigned} 个待定）` };
        }
        break;
      }
      case 'sequence_gap':
        n = { level: 'warning', message: `Counting machine: ${e.missing} report(s) lost (expected #${e.expected}, got #${e.received})${e.itemsMissed !== null ? `, ${e.itemsMissed} container(s) may be missing` : ''}: recount or add them by hand`, message_zh: `计数机丢失 ${e.missing} 条报告（应为 #${e.expected}，收到 #${e.received}）${e.itemsMissed !== null ? `，可能漏计 ${e.itemsMissed} 个包装` : '，可能漏计包装'}，请复核` };
        break;
      case 'sequence_repeat':
        n = { level: 'info', message: `Counting machine repeated report #${e.sequence}: ignored`, message_zh: `计数机重复报告 #${e.sequence}，已忽略` };
        break;
      case 'counters_reset':
        n = { level: 'warning', message: `Counting machine counters were reset (total ${e.previousTotal} → ${e.totalCount}): check the count`, message_zh: `计数机计数已清零（累计 ${e.previousTotal} → ${e.totalCount}），请核对数量` };
        break;
      case 'machine_restarted':
        n = { level: 'warning', message: 'Counting machine restarted: check the count', message_zh: '计数机已重启，请核对数量' };
        break;
      case 'machine_fault':
        n = e.state === 'raised'
          ? { level: 'warning', message: e.fault === 'jam' ? `Counting machine jammed (lane ${e.lane ?? '?'})` : `Counting machine bin ${e.bin ?? '?'} full`, message_zh: e.fault === 'jam' ? `计数机卡料（第 ${e.lane ?? '?'} 道）` : `计数机 ${e.bin ?? '?'} 号料箱已满` }
          : { level: 'info', message: `Counting machine ${e.fault} cleared`, message_zh: '计数机故障已排除' };
        break;
      case 'weight':
        this.bagWeight = { weight_g: e.usable ? e.weight_g : null, stable: e.stable, status: e.status, at_ms: e.at_ms };
        n = e.usable && e.stable && e.weight_g !== null
          ? { level: 'ok', message: `Scale: ${e.weight_g} g`, message_zh: `称重：${e.weight_g} 克` }
          : { level: 'info', message: `Scale: ${e.status.replace('_', ' ')}`, message_zh: `秤：${({ in_motion: '称量中', zero: '零', overload: '超载', under_zero: '负值' } as Record<string, string>)[e.status] ?? e.status}` };
        break;
      case 'device_status':
        this.devices[e.deviceKey] = { status: e.status, detail: e.detail };
        n = { level: e.status === 'connected' ? 'info' : 'warning', message: `${e.deviceKey}: ${e.status}`, message_zh: `${e.deviceKey}：${e.status === 'connected' ? '已连接' : e.status}` };
        break;
      case 'report_error':
        n = { level: 'warning', message: `${e.deviceKey}: unreadable report (${e.reason})`, message_zh: `${e.deviceKey}：报告无法解读（${e.reason}）` };
        break;
      case 'machine_status':
        return null;
    }
    if (!n) return null;
    const notice: ClerkNotice = {
      seq: ++this.seq, type: e.type, screen: e.type === 'weight' ? 'bags' : this.screen, level: n.level, message: n.message, message_zh: n.message_zh,
      deviceKey: e.deviceKey, at_ms: e.at_ms, shown_ms: this.now(), added: n.added ?? null,
      signal: signal ?? (e.type === 'scan' || e.type === 'count' ? (n.added ? 'accepted' : n.level === 'ok' ? 'accepted' : 'refused') : null), receiptNo,
    };
    this.recent.push(notice);
    if (this.recent.length > 200) this.recent.splice(0, this.recent.length - 200);
    if (notice.level === 'warning' || notice.level === 'error') {
      this.warnings.push(notice);
      if (this.warnings.length > 20) this.warnings.shift();
    }
    this.emit('notice', notice);
    return notice;
  }
}
