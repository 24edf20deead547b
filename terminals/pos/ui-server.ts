// The clerk's screen: static files (plain HTML/CSS/JS, no build step, nothing from the internet) and a
// small JSON API, on 127.0.0.1 only. Writes need a JSON body and a local Host header, so a web page
// elsewhere cannot post sales into the till (no simple cross-site forms, no DNS rebinding).
import http from 'node:http';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PrintQueue } from '../printing/index.js';
import { Counter, CounterError, receiptTag } from './counter.js';
import type { Journal, JournalEntry } from './journal.js';
import type { ReferenceCache } from './reference-cache.js';
import { ServerRefusedError, OfflineError } from './server-client.js';
import type { SyncWorker } from './sync-worker.js';
import type { TerminalState } from './terminal.js';
import type { BagDesk } from './bags.js';
import type { ClerkNotice, DeviceBridge, Screen } from './device-bridge.js';
import type { DeviceService } from '../hid/service.js';
import { parseReplayFile } from '../hid/replay-file.js';
import { PLAIN_WORDS } from '../../src/shared/plain-words.js';
import type { HeldPayoutDesk, PayableItem } from './held-payouts.js';
import type { PointsDesk } from './points-desk.js';
import { describeIncentive } from './incentive-estimate.js';
import { VOID_REASONS, VOID_REASON_TEXT } from '../../src/shared/reversal-reasons.js';

/** What the Records screen needs to offer and show voids: the void standing on each record, and today. */
interface VoidContext {
  voids: Map<string, JournalEntry>;
  today: string;
}

const UI_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ui');
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.svg': 'image/svg+xml' };

export interface UiDeps {
  port: number;
  journal: Journal;
  counter: Counter;
  bags: BagDesk;
  heldPayouts: HeldPayoutDesk;
  points: PointsDesk;
  devices: DeviceService;
  bridge: DeviceBridge;
  /** When set, POST /replay needs `Authorization: Bearer <token>`. */
  replayToken: string | null;
  worker: SyncWorker;
  printer: PrintQueue | null;
  state: () => TerminalState | null;
  reference: () => ReferenceCache | null;
  enrol: (code: string, serverUrl?: string) => Promise<TerminalState>;
  serverUrl: () => string | null;
}

export interface UiServer {
  url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly message_zh: string, readonly field?: string) {
    super(message);
  }
}

function entryView(e: JournalEntry, vc?: VoidContext) {
  const l = e.record.local;
  const target = e.record.kind === 'sale' || e.record.kind === 'return';
  const voidedBy = target && vc ? vc.voids.get(e.record.id) : undefined;
  const r = e.result as { saleNo?: string; returnNo?: string; totalRefundFen?: number; totalDepositFen?: number; totalHeldFen?: number; flags?: string[] } | undefined;
  return {
    id: e.record.id, kind: e.record.kind, eventTime: e.record.eventTime, state: e.state,
    receiptNo: l.receiptNo ?? null, serverNo: r?.saleNo ?? r?.returnNo ?? null,
    amountFen: (l.totalDepositFen ?? l.refundPaidFen ?? l.amountFen ?? null) as number | null,
    serverAmountFen: r ? (r.totalDepositFen ?? r.totalRefundFen ?? null) : null,
    error: e.error ?? null, lastRetryError: e.lastRetryError ?? null,
    // The server's verdict the clerk must see: refund_held (a code nobody sold, waiting for the county's
    // review), likely_counterfeit (absent from the product's registry of issued codes), refund_mismatch.
    flags: r?.flags ?? [], heldFen: r?.totalHeldFen ?? 0,
    syncedAt: e.syncedAt ?? null,
    ...(e.record.kind === 'return' ? { incentives: incentivesView(e) } : {}),
    // Voids: the void that stands on a sale or return (its receipt number), whether this counter may
    // void it now (its own record of today, not refused, not voided); a void says what it undid.
    ...(vc && target ? {
      voidedBy: voidedBy && voidedBy.state !== 'refused' ? String(voidedBy.record.local.receiptNo) : null,
      voidable: e.state !== 'refused' && l.businessDay === vc.today && !(voidedBy && voidedBy.state !== 'refused'),
    } : {}),
    ...(e.record.kind === 'reversal' ? { void: { targetType: l.targetType ?? e.record.payload.targetType, targetReceiptNo: l.targetReceiptNo ?? null, reasonCode: l.reasonCode ?? e.record.payload.reason, cashFen: l.cashFen ?? null } } : {}),
  };
}

/** A return's incentives item by item, in words: the server's once it answered, else the terminal's estimate. */
function incentivesView(e: JournalEntry) {
  const inc = Counter.returnIncentives(e);
  const items = (e.record.local.items as Array<{ productName: string; quantity: number; inspection: string }> | undefined) ?? [];
  return {
    fromServer: inc.fromServer, totalBuybackFen: inc.totalBuybackFen, totalPointsMilli: inc.totalPointsMilli, pointsBalanceMilli: inc.pointsBalanceMilli ?? null,
    items: items.map((it, i) => {
      const x = inc.items[i];
      return { productName: it.productName, quantity: it.quantity, inspection: it.inspection, incentive: x ?? null, zh: x ? describeIncentive(x, 'zh') : '', en: x ? describeIncentive(x, 'en') : '' };
    }),
  };
}

export async function startUiServer(d: UiDeps): Promise<UiServer> {
  let port = 0;
  const localHost = (h: string | undefined) => h === `127.0.0.1:${port}` || h === `localhost:${port}`;

  async function body(req: http.IncomingMessage): Promise<any> {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send JSON', '请以 JSON 发送');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > 1_000_000) throw new HttpError(413, 'BODY_TOO_LARGE', 'Too large', '内容过大');
      chunks.push(c as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      throw new HttpError(400, 'MALFORMED_JSON', 'Not JSON', '不是有效的 JSON');
    }
  }

  function status() {
    const s = d.state();
    const ref = d.reference();
    const counts = d.journal.counts();
    const refused = d.journal.all().filter((e) => e.state === 'refused').map((e) => entryView(e));
    return {
      // terminalTag: the terminal's number in the county (T007) as officials see it in the terminal list; the
      // id tail its receipts carry when the server gave no number (an older server).
      enrolment: s ? { terminalId: s.terminalId, countyId: s.countyId, shopId: s.shopId, shopName: s.shopName, serverUrl: s.serverUrl, enrolledAt: s.enrolledAt, terminalNo: ref?.terminalNo(s.terminalId) ?? null, terminalTag: receiptTag(s, ref) } : null,
      stopped: s?.stopped ?? null,
      sync: { ...d.worker.view(), ...counts, waiting: counts.pending + counts.sending },
      refused,
      reference: ref ? { fetchedAt: ref.fetchedAt, businessDay: ref.snapshot.businessDay, products: ref.snapshot.products.length, county: ref.snapshot.county } : null,
      printer: d.printer
        ? { configured: true, ...d.printer.printerState(), jobs: d.printer.list().slice(0, 10).map((j) => ({ id: j.id, title: j.title, reference: j.reference, state: j.state, attempts: j.attempts, lastError: j.lastError, lastErrorCode: j.lastErrorCode, handwrittenAt: j.handwrittenAt ?? null })) }
        : { configured: false, state: 'unknown', code: null, at: null, jobs: [] },
      serverUrl: d.serverUrl(),
    };
  }

  async function api(method: string, url: URL, req: http.IncomingMessage): Promise<unknown> {
    const p = url.pathname;
    if (method === 'GET' && p === '/local/status') return status();
    // Plain words for every code the clerk can meet (src/shared/plain-words.ts): the screen shows these.
    if (method === 'GET' && p === '/local/plain-words') return PLAIN_WORDS;
    if (method === 'GET' && p === '/local/sale-receipt') return d.counter.findSale(url.searchParams.get('no') ?? '', { confirmOwn: url.searchParams.get('confirm') === '1' });
    if (method === 'GET' && p === '/local/held-payouts') return { items: d.heldPayouts.list().slice(0, 30) };
    if (method === 'GET' && p === '/local/points') return d.points.balance(url.searchParams.get('phone') ?? '');
    if (method === 'GET' && p === '/local/points/redemptions') return { items: d.points.list().slice(0, 30) };
    if (method === 'GET' && p === '/local/record') {
      const e = d.journal.get(url.searchParams.get('id') ?? '');
      if (!e) throw new HttpError(404, 'RECORD_NOT_FOUND', 'No such record at this terminal', '本终端没有这条记录');
      return entryView(e);
    }
    if (method === 'GET' && p === '/local/reference') {
      const ref = d.reference();
      if (!ref) throw new HttpError(404, 'NO_REFERENCE_DATA', 'Nothing cached yet', '尚未下载参考数据');
      // Deposits in force today (the county's today on this terminal's clock), not on the day the snapshot was fetched.
      const day = d.counter.today();
      return {
        fetchedAt: ref.fetchedAt, county: ref.snapshot.county, shop: ref.snapshot.shop,
        products: ref.snapshot.products.map((x) => ({ ...x, depositFen: ref.depositFor(x.containerTypeId, day) })),
      };
    }
    if (method === 'GET' && p === '/local/farmer') {
      const found = d.counter.findFarmer(url.searchParams.get('phone') ?? '');
      return { found };
    }
    if (method === 'GET' && p === '/local/scan') return d.counter.resolveScan(url.searchParams.get('code') ?? '');
    if (method === 'GET' && p === '/local/records') {
      const limit = Math.min(500, Number(url.searchParams.get('limit') ?? 50) || 50);
      const st = url.searchParams.get('state');
      const vc: VoidContext = { voids: d.counter.voidsByTarget(), today: d.counter.today() };
      return { items: [...d.journal.all()].reverse().filter((e) => !st || e.state === st).slice(0, limit).map((e) => entryView(e, vc)) };
    }
    if (method === 'GET' && p === '/local/void') {
      // What voiding would undo, with the reasons to choose from; or, in plain words, why not (no server asked).
      return { ...d.counter.voidPreview(url.searchParams.get('target') ?? ''), reasons: VOID_REASONS.map((code) => ({ code, ...VOID_REASON_TEXT[code] })) };
    }
    if (method === 'GET' && p === '/local/drawer') {
      const float = Number(url.searchParams.get('openingFloatFen') ?? 0);
      return d.counter.drawerFigures(url.searchParams.get('day') ?? undefined, Number.isInteger(float) && float >= 0 ? float : 0);
    }
    if (method === 'GET' && p === '/local/devices') return { ...d.bridge.view(), services: d.devices.deviceStatuses() };
    if (method === 'GET' && p === '/local/bags') {
      const voided = d.counter.voidedIds();
      const returns = d.journal.all().filter((e) => e.record.kind === 'return' && e.state !== 'refused' && !voided.has(e.record.id)).slice(-30).reverse()
        .map((e) => ({ id: e.record.id, receiptNo: e.record.local.receiptNo, eventTime: e.record.eventTime, accepted: (e.record.local.items as Array<{ inspection: string; quantity: number }>).filter((i) => i.inspection === 'accepted').reduce((n, i) => n + i.quantity, 0) }));
      return { items: d.bags.bags(), returns, weight: d.bridge.view().bagWeight };
    }
    if (method === 'GET' && p === '/local/pickups') {
      try {
        return { items: await d.bags.pickups(), online: true };
      } catch (err) {
        if (err instanceof CounterError) throw err;
        return { items: [], online: false, error: (err as Error).message };
      }
    }
    if (method !== 'POST') throw new HttpError(404, 'ROUTE_NOT_FOUND', 'No such endpoint', '没有这个接口');
    if (!localHost(req.headers.host)) throw new HttpError(403, 'FORBIDDEN', 'Only the local screen may do this', '只能在本机操作');
    if (p === '/replay') return replay(req, url);
    const b = await body(req);
    const done = (r: { entry: JournalEntry; preview: string[]; printJobId: string | null }) => ({ record: entryView(r.entry), local: r.entry.record.local, preview: r.preview, printJobId: r.printJobId, confirmed: true });
    if (p === '/local/enrol') {
      if (!(typeof b.serverUrl === 'string' && b.serverUrl.trim()) && !d.serverUrl()) throw new HttpError(422, 'SERVER_URL_MISSING', 'Type the county server address, then enrol', '请填写县服务器地址后再注册', 'serverUrl');
      try {
        const s = await d.enrol(String(b.enrolmentCode ?? ''), typeof b.serverUrl === 'string' ? b.serverUrl : undefined);
        return { terminalId: s.terminalId, shopName: s.shopName };
      } catch (err) {
        if (err instanceof ServerRefusedError) throw new HttpError(422, err.code, err.message, err.message_zh ?? '注册失败');
        if (err instanceof OfflineError) throw new HttpError(503, 'OFFLINE', err.message, '无法连接县服务器');
        throw new HttpError(422, 'ENROLMENT_FAILED', (err as Error).message, '注册失败');
      }
    }
    if (p === '/local/sales') return done(await d.counter.sale(b));
    if (p === '/local/returns') {
      // The device session's containers (scanner, counting machine) join what the clerk keyed in.
      const fromDevices = b.deviceSession === true;
      const req2 = { ...b, items: [...(fromDevices ? d.bridge.returnRequestItemsOrThrow() : []), ...(Array.isArray(b.items) ? b.items : [])] };
      delete req2.deviceSession;
      const r = done(await d.counter.return(req2));
      if (fromDevices) d.bridge.clearReturn();
      return r;
    }
    if (p === '/local/returns/estimate') {
      // What each row gets, before the clerk confirms: the same pricing as the return (device rows first).
      const req2 = { ...b, items: [...(b.deviceSession === true ? d.bridge.returnRequestItemsOrThrow() : []), ...(Array.isArray(b.items) ? b.items : [])] };
      delete req2.deviceSession;
      const est = d.counter.estimateReturn(req2);
      return { ...est, items: est.items.map((it) => ({ ...it, zh: describeIncentive(it.incentive, 'zh'), en: describeIncentive(it.incentive, 'en') })), ratesCached: (d.reference()?.incentiveRates.length ?? 0) > 0 };
    }
    if (p === '/local/points/redeem') {
      const r = await d.points.redeem({ phone: String(b.phone ?? ''), points: b.points, goods: b.goods, goodsValueFen: b.goodsValueFen });
      return { ...r, confirmed: true };
    }
    if (p === '/local/devices/screen') {
      d.bridge.setScreen(b.screen as Screen);
      return d.bridge.view();
    }
    if (p === '/local/devices/product') {
      if (b.productId !== null && !d.reference()?.product(String(b.productId))) throw new HttpError(422, 'PRODUCT_NOT_FOUND', 'Unknown product', '没有该商品', 'productId');
      d.bridge.setCurrentProduct(b.productId ?? null);
      return d.bridge.view();
    }
    if (p === '/local/devices/clear') {
      if (b.what === 'sale') d.bridge.clearSale();
      else d.bridge.clearReturn();
      return d.bridge.view();
    }
    if (p === '/local/devices/remove') {
      d.bridge.removeItem(String(b.key ?? ''));
      return d.bridge.view();
    }
    if (p === '/local/bags') return done(await d.bags.open(b));
    const bagAction = /^\/local\/bags\/([0-9a-f-]{36})\/(items|seal|label)$/.exec(p);
    if (bagAction) {
      const bagId = bagAction[1]!;
      if (bagAction[2] === 'items') {
        const scans = [...(Array.isArray(b.scans) ? b.scans : []), ...(b.deviceScans === true ? d.bridge.takeBagScans() : [])];
        return done(await d.bags.add(bagId, { scans, counts: Array.isArray(b.counts) ? b.counts : undefined, fromReturns: Array.isArray(b.fromReturns) ? b.fromReturns : undefined } as Parameters<BagDesk['add']>[1]));
      }
      if (bagAction[2] === 'seal') {
        // The scale's last stable reading fills the weight unless the clerk typed one.
        const w = b.shopWeightG ?? (b.useScale === true ? d.bridge.view().bagWeight?.weight_g ?? null : null);
        return done(await d.bags.seal(bagId, { sealNo: b.sealNo, shopWeightG: w }));
      }
      return d.bags.printLabel(bagId);
    }
    const sign = /^\/local\/pickups\/([0-9a-f-]{36})\/sign$/.exec(p);
    if (sign) return done(await d.bags.signPickup(sign[1]!, typeof b.trackingNo === 'string' ? b.trackingNo : undefined));
    if (p === '/local/drawer-report') return done(await d.counter.drawerReport(b));
    if (p === '/local/voids') {
      const r = await d.counter.void({ target: String(b.target ?? ''), reason: String(b.reason ?? '') });
      return { ...done(r), void: r.void };
    }
    if (p === '/local/inspector-ledger') return d.counter.inspectorLedger({ from: typeof b.from === 'string' ? b.from : undefined, to: typeof b.to === 'string' ? b.to : undefined });
    if (p === '/local/held-refunds/payable') return d.heldPayouts.payable(String(b.phone ?? ''));
    if (p === '/local/held-refunds/pay') return d.heldPayouts.pay(String(b.phone ?? ''), (Array.isArray(b.items) ? b.items : []) as PayableItem[]);
    if (p === '/local/sync-now') {
      d.worker.kick();
      return { ok: true };
    }
    const m = /^\/local\/print-jobs\/([A-Za-z0-9_]+)\/(reprint|retry|handwritten)$/.exec(p);
    if (m && d.printer) {
      const job = m[2] === 'reprint' ? await d.printer.reprint(m[1]!) : m[2] === 'retry' ? await d.printer.retry(m[1]!) : await d.printer.markHandwritten(m[1]!);
      return { id: job.id, state: job.state };
    }
    throw new HttpError(404, 'ROUTE_NOT_FOUND', 'No such endpoint', '没有这个接口');
  }

  /** `npm run hid -- replay FILE --to <this terminal>`: recorded reports through the same decoders. */
  async function replay(req: http.IncomingMessage, url: URL): Promise<unknown> {
    // Not a CORS-simple content type and a local Host: a web page elsewhere cannot inject scans.
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-ndjson')) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the replay file as application/x-ndjson', '请以 application/x-ndjson 发送回放文件');
    if (d.replayToken && req.headers.authorization !== `Bearer ${d.replayToken}`) throw new HttpError(401, 'UNAUTHORIZED', 'Authorization: Bearer <HID_REPLAY_TOKEN> required', '需要回放令牌');
    const speed = Number(url.searchParams.get('speed') ?? '1');
    if (!(speed >= 0)) throw new HttpError(400, 'BAD_SPEED', 'speed must be a number >= 0', '回放速度无效');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > 10 * 1024 * 1024) throw new HttpError(413, 'BODY_TOO_LARGE', 'Too large', '内容过大');
      chunks.push(c as Buffer);
    }
    let file;
    try {
      file = parseReplayFile(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      throw new HttpError(400, 'BAD_REPLAY_FILE', (err as Error).message, '回放文件无效');
    }
    void d.devices.replay(file, { speed, name: 'replay:terminal' }).catch(() => undefined);
    const last = file.records[file.records.length - 1];
    return { records: file.records.length, devices: file.devices.map((x) => x.key), duration_ms: speed === 0 ? 0 : Math.round((last?.t_ms ?? 0) / speed) };
  }

  /** The clerk's screen follows device events here (Server-Sent Events), each the moment it is handled. */
  function deviceStream(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.socket.setNoDelay(true);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(`retry: 1000\nevent: session\ndata: ${JSON.stringify(d.bridge.view())}\n\n`);
    const onNotice = (n: ClerkNotice) => {
      res.write(`id: ${n.seq}\nevent: notice\ndata: ${JSON.stringify({ ...n, sent_ms: Date.now(), session: d.bridge.view() })}\n\n`);
    };
    const onSession = (v: unknown) => res.write(`event: session\ndata: ${JSON.stringify(v)}\n\n`);
    const keepalive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    d.bridge.on('notice', onNotice);
    d.bridge.on('session', onSession);
    const end = () => {
      clearInterval(keepalive);
      d.bridge.off('notice', onNotice);
      d.bridge.off('session', onSession);
    };
    res.on('close', end);
    d.bridge.once('close', () => res.end());
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/local/devices/stream') return deviceStream(req, res);
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify(value));
    };
    if (url.pathname.startsWith('/local/') || url.pathname === '/replay') {
      api(req.method ?? 'GET', url, req).then(
        (v) => send(200, v),
        (err) => {
          if (err instanceof HttpError) return send(err.status, { error: { code: err.code, message: err.message, message_zh: err.message_zh, field: err.field ?? null } });
          if (err instanceof CounterError) return send(422, { error: { code: err.code, message: err.message, message_zh: err.message_zh, field: err.field ?? null } });
          if ((err as { code?: string }).code === 'PRINT_JOB_NOT_FOUND') return send(404, { error: { code: 'PRINT_JOB_NOT_FOUND', message: 'No such print job', message_zh: '没有该打印任务' } });
          send(500, { error: { code: 'INTERNAL', message: (err as Error).message, message_zh: '终端内部错误' } });
        },
      );
      return;
    }
    const name = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
    if (!/^[a-z0-9-]+\.(html|css|js|svg)$/.test(name)) {
      res.writeHead(404).end();
      return;
    }
    fs.readFile(path.join(UI_DIR, name)).then(
      (buf) => {
        res.writeHead(200, { 'content-type': TYPES[path.extname(name)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
        res.end(buf);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(d.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
