// The clerk's screen. Plain script, no build step, nothing loaded from the internet. Everything goes
// through the terminal process on 127.0.0.1 (/local/...), which journals before it confirms.
'use strict';
const T = {
  zh: {
    title: '农药包装押金收银', terminal: '终端', online: '在线', offline: '离线', unknown: '连接中…', waiting: '待同步', lastSync: '上次同步', never: '从未',
    refusedN: '被拒记录', syncNow: '立即同步', tabSale: '销售 F1', tabReturn: '回收退押 F2', tabBags: '收集袋 F3', tabDayEnd: '日结 F4', tabRecords: '记录 F5',
    enrolTitle: '注册本终端', enrolHelp: '请输入县农业农村局发放的一次性注册码。', serverUrl: '县服务器地址', enrolCode: '注册码', enrolGo: '注册',
    phone: '农户手机号', phoneOptional: '农户手机号（可不填）', farmerName: '姓名（新农户必填）', scan: '扫码（商品条码或追溯码）', scanHelp: '扫描或输入后按回车',
    qty: '数量', product: '商品', depositEach: '押金/个', deposit: '押金', total: '押金合计', confirmSale: '确认收款 Ctrl+Enter', clear: '清空',
    countProduct: '按商品计数', add: '添加', item: '包装', inspection: '检查', refund: '退款', refundTotal: '退款合计', payment: '支付方式', cash: '现金', mobile: '移动支付',
    payRef: '支付流水号', confirmReturn: '确认退款 Ctrl+Enter', accepted: '接收',
    reasons: { not_rinsed: '拒收：未清洗', damaged: '拒收：破损', not_scheme_product: '拒收：非本方案产品', unknown_code: '拒收：无法识别', already_returned: '拒收：已退回', other_county: '拒收：外县产品', other: '拒收：其他' },
    material: '材质', sealNo: '封条号', openBag: '开袋', noScale: '秤：无读数', scale: '秤', contents: '内容', bagChosen: '当前袋', bagScan: '装袋扫码', fromReturn: '从回收单', addFromReturn: '装入该回收单的包装',
    weightG: '重量（克，空则用秤读数）', sealBag: '封袋并打印袋签', printLabel: '重印袋签', pickupsTitle: '待签字的收运', signPickup: '交接签字', bagStates: { open: '未封口', sealed: '已封口' }, bagOpened: '已开袋', bagAdded: '已装袋', bagSealed: '已封袋', signed: '已签字（待同步）', offlinePickups: '离线：联网后显示待签字的收运', noPickups: '没有待签字的收运', device: '设备',
    day: '营业日', openingFloat: '备用金（元）', clerk: '收银员', confirmDayEnd: '打印并上报日结',
    fig: { salesCount: '销售笔数', containersSold: '售出包装数', depositsTakenFen: '收取押金', returnsCount: '回收笔数', containersAccepted: '接收包装数', containersRejected: '拒收包装数', refundsPaidFen: '退还押金', refundsPaidCashFen: '其中现金', buybackPaidFen: '其中有偿回收', voidsCount: '作废笔数', voidedSalesFen: '作废销售（退还押金）', voidedReturnsFen: '作废退押（收回退款）', voidedReturnsCashFen: '其中收回现金', netCashExpectedFen: '钱箱应有现金', pointsEarnedMilli: '积分发放', pointsRedeemedMilli: '积分兑换', redemptionsCount: '兑换笔数' },
    refusedTitle: '服务器拒绝的记录', recentTitle: '最近记录', printTitle: '打印任务', time: '时间', kind: '类型', receipt: '单号', reason: '原因', amount: '金额', state: '状态',
    kinds: { sale: '销售', return: '退押', 'drawer-report': '日结', reversal: '作废', 'bag-event': '收集袋' },
    states: { pending: '待同步', sending: '同步中', synced: '已同步', refused: '被拒绝', queued: '等待打印', printing: '打印中', printed: '已打印', failed: '打印失败', handwritten: '已给手写收据' },
    flags: { refund_held: '未售出的码：退款待县里审核', likely_counterfeit: '疑似假码（不在发码清单中）', refund_mismatch: '实付与应退不符' },
    reprint: '重印', retry: '重试', confirmed: '已确认（已保存在本机）', saleDone: '销售已确认，单号', returnDone: '退款已确认，应付', dayDone: '日结已保存', newFarmer: '新农户，请填写姓名', known: '农户',
    keys: 'F1 销售 · F2 回收 · F3 收集袋 · F4 日结 · F5 记录 · F6 审核退款 · F7 积分兑换 · F8 作废上一单 · Ctrl+Enter 确认 · Esc 清空 · Delete 删除所在行',
    voidBtn: '作废', voidTitle: { sale: '作废销售', return: '作废退押' }, voidCannot: '不能作废', voidReason: '作废原因', voidChoose: '— 请选择原因 —', voidConfirm: '确认作废 Ctrl+Enter', voidClose: '关闭 Esc',
    voidSale: '将撤销：包装 {n} 个，押金 {fen}。请从钱箱取出 {fen} 现金退还购买人。', voidReturnCash: '将撤销：接收的包装 {n} 个，退款 {fen}。请向农户收回 {fen} 现金放回钱箱，包装交还农户。',
    voidReturnMobile: '将撤销：接收的包装 {n} 个，退款 {fen}（移动支付，请按原方式收回），包装交还农户。', voidDone: '已作废', voidNo: '作废单', voidedBy: '已作废', voidOf: '作废', noLines: '请先扫码添加商品', stoppedPrefix: '终端已停止同步：',
    tabHeld: '审核退款 F6', retryPrint: '重试打印', handwritten: '已给手写收据', printFailed: '小票没有打印出来：', handwrittenDone: '已记录：给了手写收据', printedNow: '小票已打印',
    printer: { ok: '打印机正常', off: '打印机未连接', unknown: '打印机', none: '未配置打印机' },
    canComeBack: '可退回', addSaleItems: '把可退回的包装加入本次回收', close: '关闭', saleOpened: '已打开销售小票', confirmOwnSale: '确认是本店的销售', saleNone: '这张小票的包装都已退回', codesLeft: '个追溯码', counted: '个按数量',
    heldHelp: '县里审核批准的退款（未售出的追溯码）可在本县任一门店领取。输入或扫描农户手机号，查看可领取的退款。', heldFind: '查询 Enter', heldPay: '支付现金并打印 Ctrl+Enter', returnedAt: '退回时间与门店',
    heldDone: '已支付审核退款', noneToPay: '这个手机号没有县里已批准、可在本店领取的退款。', heldPending: '上次未完成，将用同一编号重发',
    materials: { HDPE: '高密度聚乙烯 HDPE', PET: '聚酯 PET', COEX: '共挤多层塑料 COEX', PP: '聚丙烯 PP', glass: '玻璃', aluminium: '铝', plastic_bag: '塑料袋', paper_bag: '纸袋', composite_bag: '复合袋' },
    scanOk: '已添加', removed: '已删除一行',
    incentive: '奖励', pointsTotal: '积分合计', estimateNote: '回收款和积分为本机估算，以县服务器核定为准。', estimateOffline: '离线：回收款和积分为本机估算，联网后由县服务器核定。',
    incServer: '县服务器已核定', incEstimate: '本机估算，县服务器确认后以其为准', pointsBalance: '积分余额', paidDiffers: '县服务器核定的金额与实付不同，已记录差额',
    tabPoints: '积分兑换 F7', pointsHelp: '农户用积分兑换物品。输入或扫描农户手机号查积分余额，再填使用的积分、物品和物品价值，确认后打印兑换收据。积分只能兑换物品，不能兑换现金。',
    pointsFind: '查询积分 Enter', pointsToUse: '使用积分', goods: '兑换物品', goodsValue: '物品价值（元）', pointsConfirm: '确认兑换 Ctrl+Enter',
    pointsOffline: '离线：积分只能在连上县服务器时兑换。', pointsDone: '已兑换', balanceAfter: '兑换后余额', earned: '累计获得', redeemed: '已兑换', expired: '已过期', expiring: '年底将过期',
    unfinished: '上次兑换没有收到回复，已填好原内容：请按原样再确认（不会重复扣分）', farmer: '农户', points: '积分',
  },
  en: {
    title: 'Container deposit till', terminal: 'Terminal', online: 'Online', offline: 'Offline', unknown: 'Connecting…', waiting: 'to sync', lastSync: 'Last sync', never: 'never',
    refusedN: 'refused', syncNow: 'Sync now', tabSale: 'Sale F1', tabReturn: 'Return F2', tabBags: 'Bags F3', tabDayEnd: 'Day end F4', tabRecords: 'Records F5',
    enrolTitle: 'Enrol this terminal', enrolHelp: 'Enter the one-time code from the county agriculture bureau.', serverUrl: 'County server URL', enrolCode: 'Enrolment code', enrolGo: 'Enrol',
    phone: 'Farmer phone', phoneOptional: 'Farmer phone (optional)', farmerName: 'Name (new farmers)', scan: 'Scan (barcode or trace code)', scanHelp: 'scan or type, then Enter',
    qty: 'Qty', product: 'Product', depositEach: 'Deposit each', deposit: 'Deposit', total: 'Total deposit', confirmSale: 'Take payment Ctrl+Enter', clear: 'Clear',
    countProduct: 'Count by product', add: 'Add', item: 'Container', inspection: 'Inspection', refund: 'Refund', refundTotal: 'Refund total', payment: 'Payment', cash: 'Cash', mobile: 'Mobile',
    payRef: 'Payment reference', confirmReturn: 'Pay refund Ctrl+Enter', accepted: 'Accepted',
    reasons: { not_rinsed: 'Rejected: not rinsed', damaged: 'Rejected: damaged', not_scheme_product: 'Rejected: not a scheme product', unknown_code: 'Rejected: unknown code', already_returned: 'Rejected: already returned', other_county: 'Rejected: other county', other: 'Rejected: other' },
    material: 'Material', sealNo: 'Seal no.', openBag: 'Open bag', noScale: 'Scale: no reading', scale: 'Scale', contents: 'Contents', bagChosen: 'Bag', bagScan: 'Scan into bag', fromReturn: 'From return', addFromReturn: 'Add that return\'s containers',
    weightG: 'Weight (g; empty = scale)', sealBag: 'Seal and print label', printLabel: 'Reprint label', pickupsTitle: 'Pickups awaiting your signature', signPickup: 'Sign hand-over', bagStates: { open: 'open', sealed: 'sealed' }, bagOpened: 'Bag opened', bagAdded: 'Added to bag', bagSealed: 'Bag sealed', signed: 'Signed (to sync)', offlinePickups: 'Offline: pickups show when online', noPickups: 'No pickups waiting', device: 'device',
    day: 'Business day', openingFloat: 'Opening float (yuan)', clerk: 'Clerk', confirmDayEnd: 'Print and send day end',
    fig: { salesCount: 'Sales', containersSold: 'Containers sold', depositsTakenFen: 'Deposits taken', returnsCount: 'Returns', containersAccepted: 'Accepted', containersRejected: 'Rejected', refundsPaidFen: 'Refunds paid', refundsPaidCashFen: 'of which cash', buybackPaidFen: 'of which buy-back', voidsCount: 'Voids', voidedSalesFen: 'Sales voided (deposits back)', voidedReturnsFen: 'Returns voided (refunds back)', voidedReturnsCashFen: 'of which cash back', netCashExpectedFen: 'Cash expected in drawer', pointsEarnedMilli: 'Points earned', pointsRedeemedMilli: 'Points redeemed', redemptionsCount: 'Redemptions' },
    refusedTitle: 'Records the server refused', recentTitle: 'Recent records', printTitle: 'Print jobs', time: 'Time', kind: 'Kind', receipt: 'No.', reason: 'Reason', amount: 'Amount', state: 'State',
    kinds: { sale: 'Sale', return: 'Refund', 'drawer-report': 'Day end', reversal: 'Void', 'bag-event': 'Bag' },
    states: { pending: 'to sync', sending: 'sending', synced: 'synced', refused: 'refused', queued: 'waiting', printing: 'printing', printed: 'printed', failed: 'failed', handwritten: 'handwritten receipt given' },
    flags: { refund_held: 'Code nobody sold: refund held for the county\'s review', likely_counterfeit: 'Likely counterfeit (not on the issued-code list)', refund_mismatch: 'Paid differs from refund owed' },
    reprint: 'Reprint', retry: 'Retry', confirmed: 'Confirmed (saved on this PC)', saleDone: 'Sale confirmed, no.', returnDone: 'Refund confirmed, pay', dayDone: 'Day end saved', newFarmer: 'New farmer: enter the name', known: 'Farmer',
    keys: 'F1 Sale · F2 Return · F3 Bags · F4 Day end · F5 Records · F6 Held refunds · F7 Points · F8 Void last receipt · Ctrl+Enter confirm · Esc clear · Delete removes the row',
    voidBtn: 'Void', voidTitle: { sale: 'Void sale', return: 'Void return' }, voidCannot: 'Cannot void', voidReason: 'Reason', voidChoose: '— choose the reason —', voidConfirm: 'Void it Ctrl+Enter', voidClose: 'Close Esc',
    voidSale: 'This undoes {n} containers, deposit {fen}. Take {fen} cash from the drawer and hand it back to the buyer.', voidReturnCash: 'This undoes {n} containers accepted, refund {fen}. Take {fen} cash back from the farmer into the drawer; the containers go back to the farmer.',
    voidReturnMobile: 'This undoes {n} containers accepted, refund {fen} (paid by mobile: take it back the same way); the containers go back to the farmer.', voidDone: 'Voided', voidNo: 'void no.', voidedBy: 'voided', voidOf: 'void of', noLines: 'Scan a product first', stoppedPrefix: 'This terminal stopped syncing: ',
    tabHeld: 'Held refunds F6', retryPrint: 'Retry printing', handwritten: 'Gave a handwritten receipt', printFailed: 'The receipt did not print: ', handwrittenDone: 'Recorded: a handwritten receipt was given', printedNow: 'Receipt printed',
    printer: { ok: 'Printer ready', off: 'Printer not reachable', unknown: 'Printer', none: 'No printer set up' },
    canComeBack: 'Can come back', addSaleItems: 'Add what can come back to this return', close: 'Close', saleOpened: 'Opened sale receipt', confirmOwnSale: 'Confirm: this shop’s sale', saleNone: 'Everything on this receipt has come back', codesLeft: 'trace codes', counted: 'counted',
    heldHelp: 'Refunds the county approved (trace codes nobody sold) can be collected at any shop of the county. Type or scan the farmer’s phone to see them.', heldFind: 'Look up Enter', heldPay: 'Pay cash and print Ctrl+Enter', returnedAt: 'Returned (when, where)',
    heldDone: 'Approved refunds paid', noneToPay: 'This phone has no county-approved refund to collect here.', heldPending: 'unfinished last time: sent again with the same id',
    materials: { HDPE: 'HDPE plastic', PET: 'PET plastic', COEX: 'co-extruded plastic (COEX)', PP: 'PP plastic', glass: 'glass', aluminium: 'aluminium', plastic_bag: 'plastic bag', paper_bag: 'paper bag', composite_bag: 'composite bag' },
    scanOk: 'Added', removed: 'Row removed',
    incentive: 'Incentive', pointsTotal: 'Points total', estimateNote: 'Buy-back and points are this terminal\'s estimate; the county server confirms them.', estimateOffline: 'Offline: buy-back and points are this terminal\'s estimate; the county server confirms them when the line is back.',
    incServer: 'Confirmed by the county server', incEstimate: 'Terminal estimate — the county server confirms', pointsBalance: 'Points balance', paidDiffers: 'The county server\'s amount differs from what was paid; the difference is recorded',
    tabPoints: 'Points F7', pointsHelp: 'Farmers redeem points for goods. Type or scan the farmer’s phone to see the balance, then the points, the goods and their value; confirm to print the redemption receipt. Points are for goods only, never cash.',
    pointsFind: 'Look up Enter', pointsToUse: 'Points to use', goods: 'Goods', goodsValue: 'Goods value (yuan)', pointsConfirm: 'Redeem Ctrl+Enter',
    pointsOffline: 'Offline: points can only be redeemed when the terminal reaches the county server.', pointsDone: 'Redeemed', balanceAfter: 'Balance after', earned: 'Earned', redeemed: 'Redeemed', expired: 'Expired', expiring: 'Expiring at year end',
    unfinished: 'The last redemption got no answer; its content is filled in: confirm it again as it was (points are never taken twice)', farmer: 'Farmer', points: 'Points',
  },
};
let lang = localStorage.getItem('lang') || 'zh';
const $ = (id) => document.getElementById(id);
const t = (k) => T[lang][k] ?? k;
const yuan = (fen) => (fen == null ? '—' : `¥${(fen / 100).toFixed(2)}`);
/** Milli-points as a farmer reads them: 1500 → 1.5. */
const pts = (milli) => (milli == null ? '—' : String(Math.round(milli) / 1000));
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
let status = null;
let reference = null;
let tab = 'sale';
const sale = { lines: [] };
const ret = { items: [] };

// Plain words for every code (src/shared/plain-words.ts, served by the terminal): the sentence is
// what the clerk reads; the code and the precise detail stay in small print for support calls.
let WORDS = {};
const words = (code) => { const w = code && WORDS[code]; return w ? w[lang] : null; };
async function call(method, path, body) {
  let res;
  try { res = await fetch(path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined }); }
  catch { throw Object.assign(new Error('terminal not answering'), { code: 'HTTP_ERROR', detail: '' }); }
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    const code = json.error?.code || 'HTTP_ERROR';
    const detail = json.error ? (lang === 'zh' ? json.error.message_zh || json.error.message : json.error.message) : `HTTP ${res.status}`;
    throw Object.assign(new Error(words(code) || detail), { code, detail });
  }
  return json;
}
function msg(id, text, ok) { const el = $(id); el.textContent = text; el.className = `msg ${ok ? 'ok' : 'err'}`; }
/** An error as the clerk reads it: the plain sentence, then the code and detail in small print. */
function fail(id, e) {
  const el = $(id);
  const sentence = words(e.code) || e.message;
  const small = [e.code, e.detail && e.detail !== sentence ? e.detail : ''].filter(Boolean).join(' · ');
  el.innerHTML = `${esc(sentence)}${small ? ` <small class="code">${esc(small)}</small>` : ''}`;
  el.className = 'msg err';
}
/** A code met outside a request (a refused record, a print job, a stopped terminal) as plain words. */
function plain(code, detail) { return `${esc(words(code) || detail || code)} <small class="code">${esc(code)}</small>`; }

// --- the signal of a scan: colour, message and a short tone, distinct per outcome ---
let audio = null;
function tone(kind) {
  // accepted: one high short beep; refused: one low long beep; misread: two short buzzes; receipt: two rising beeps.
  const plan = { accepted: [[1320, 0, 0.08]], refused: [[330, 0, 0.25]], misread: [[220, 0, 0.09], [220, 0.14, 0.09]], receipt: [[660, 0, 0.07], [990, 0.1, 0.07]] }[kind] || [];
  window.__tones = (window.__tones || []).concat([{ kind, freqs: plan.map((p) => p[0]) }]);
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === 'suspended') audio.resume().catch(() => undefined);
    for (const [f, at, dur] of plan) {
      const o = audio.createOscillator(); const g = audio.createGain();
      o.type = kind === 'misread' ? 'square' : 'sine'; o.frequency.value = f; g.gain.value = 0.2;
      o.connect(g); g.connect(audio.destination);
      o.start(audio.currentTime + at); o.stop(audio.currentTime + at + dur);
    }
  } catch { /* no audio device: the colour and the message still show */ }
}
let flashTimer = null;
function flash(kind, text, code) {
  const el = $('scan-flash');
  el.hidden = false;
  el.className = kind;
  el.dataset.kind = kind;
  el.innerHTML = `${esc(text)}${code ? ` <small class="code">${esc(code)}</small>` : ''}`;
  tone(kind);
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { el.hidden = true; }, 8000);
}

function applyLang() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll('[data-t-ph]')) el.placeholder = t(el.dataset.tPh);
  $('lang').textContent = lang === 'zh' ? 'EN' : '中文';
  fillProducts();
  renderSale(); renderReturn(); renderStatus();
}

function show(name) {
  tab = name;
  const enrolled = status && status.enrolment;
  $('enrol').hidden = !!enrolled;
  for (const s of document.querySelectorAll('.screen')) s.hidden = !enrolled || s.id !== name;
  for (const b of document.querySelectorAll('[data-tab]')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
  if (!enrolled) { $('enrol-code').focus(); return; }
  // Every screen starts clean: the last confirmation and preview do not linger into the next job.
  freshen(name);
  closeVoid(false);
  $('scan-flash').hidden = true;
  if (name === 'sale') $(sale.lines.length ? 'sale-scan' : 'sale-phone').focus();
  if (name === 'return') $('ret-scan').focus();
  if (name === 'dayend') { loadDrawer(); $('de-float').focus(); $('de-float').select(); }
  if (name === 'records') loadRecords().then(() => { if (tab === 'records' && !$('records').contains(document.activeElement)) $('records').querySelector('button, [tabindex]')?.focus(); });
  if (name === 'bags') { loadBags(); $('bag-scan').focus(); }
  if (name === 'held') { $('held-phone').focus(); }
  if (name === 'points') { renderPointsOffline(); $('pts-phone').focus(); }
  if (name === 'sale' || name === 'return' || name === 'bags') call('POST', '/local/devices/screen', { screen: name }).catch(() => undefined);
}

const RESULT = { sale: ['sale-msg', 'sale-result'], return: ['ret-msg', 'ret-result'], bags: ['bag-msg', 'bag-result'], dayend: ['de-msg', 'de-result'], held: ['held-msg', 'held-result'], points: ['pts-msg', 'pts-result'] };
/** Hide the last confirmation and receipt preview of a screen (a new transaction starts). */
function freshen(name) {
  const r = RESULT[name];
  if (!r) return;
  msg(r[0], '', true);
  $(r[1]).hidden = true;
  if (name === 'return') { $('ret-sale').hidden = true; $('ret-incentives').hidden = true; }
}

function renderStatus() {
  if (!status) return;
  const s = status.sync;
  const net = $('net');
  net.textContent = s.online === true ? t('online') : s.online === false ? t('offline') : t('unknown');
  net.className = `pill ${s.online === false ? 'off' : ''}`;
  $('waiting').textContent = `${s.waiting} ${t('waiting')}`;
  $('last-sync').textContent = `${t('lastSync')}: ${s.lastSyncAt ? new Date(s.lastSyncAt).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB') : t('never')}`;
  const r = $('show-refused');
  r.hidden = status.refused.length === 0;
  r.textContent = `${status.refused.length} ${t('refusedN')}`;
  $('shop-name').textContent = status.enrolment ? `${status.enrolment.shopName} · ${t('title')}` : t('title');
  // The terminal's own number, as officials see it in the terminal list (T007).
  const tn = $('terminal-no');
  tn.hidden = !status.enrolment;
  tn.textContent = status.enrolment ? `${t('terminal')} ${status.enrolment.terminalTag}` : '';
  const st = $('stopped');
  st.hidden = !status.stopped;
  if (status.stopped) st.innerHTML = esc(t('stoppedPrefix')) + plain(status.stopped.code, lang === 'zh' ? status.stopped.message_zh : status.stopped.message);
  const pr = status.printer;
  const pState = !pr.configured ? 'none' : pr.state;
  $('printer').textContent = t('printer')[pState] || t('printer').unknown;
  $('printer').className = `pill printer-${pState === 'none' ? 'unknown' : pState}`;
  $('printer').dataset.state = pState;
  $('printer').title = pr.code ? `${words(pr.code) || ''} (${pr.code})` : '';
  renderPrintFail();
  if (!$('enrol-server').value && status.serverUrl) $('enrol-server').value = status.serverUrl;
  renderPointsOffline();
  renderEstimateNote();
}

async function poll() {
  try {
    const wasEnrolled = status && status.enrolment;
    status = await call('GET', '/local/status');
    if (status.reference && (!reference || reference.fetchedAt !== status.reference.fetchedAt)) {
      reference = await call('GET', '/local/reference').catch(() => reference);
      fillProducts();
    }
    renderStatus();
    if (!wasEnrolled && status.enrolment) show(tab);
    if (tab === 'records') loadRecords();
  } catch { /* the terminal process restarts; keep polling */ }
}

// --- a receipt that did not print, shown at the counter with retry and handwritten-receipt paths ---
let watchedJob = null;
function watchPrint(jobId) { watchedJob = jobId || null; $('scan-flash').hidden = true; renderPrintFail(); }
function renderPrintFail() {
  const box = $('print-fail');
  const job = watchedJob && status && status.printer.jobs.find((j) => j.id === watchedJob);
  if (!job || job.state === 'printed' || job.state === 'handwritten' || !job.lastErrorCode) { box.hidden = true; return; }
  box.hidden = false;
  box.dataset.job = job.id;
  $('print-fail-text').textContent = `${t('printFailed')}${job.title} — ${words(job.lastErrorCode) || job.lastError || ''}`;
  $('print-fail-code').textContent = job.lastErrorCode;
}
$('print-retry').onclick = () => watchedJob && call('POST', `/local/print-jobs/${watchedJob}/retry`, {}).then(poll).catch(() => undefined);
$('print-hand').onclick = () => {
  if (!watchedJob) return;
  const screen = RESULT[tab] ? RESULT[tab][0] : null;
  call('POST', `/local/print-jobs/${watchedJob}/handwritten`, {}).then(() => { if (screen) msg(screen, t('handwrittenDone'), true); watchedJob = null; $('print-fail').hidden = true; poll(); }).catch((e) => screen && fail(screen, e));
};

// --- sale ---
async function lookupFarmer(phoneId, nameId, hintId) {
  const phone = $(phoneId).value.trim();
  if (!phone) return;
  try {
    const r = await call('GET', `/local/farmer?phone=${encodeURIComponent(phone)}`);
    $(hintId).textContent = r.found ? `${t('known')}: ${r.found.name} ${r.found.village || ''}` : t('newFarmer');
    if (r.found) $(nameId).value = '';
    return r.found;
  } catch (e) { $(hintId).innerHTML = plain(e.code, e.detail); }
}

async function saleScan(code, qty) {
  if (!code) return;
  try {
    freshen('sale');
    const r = await call('GET', `/local/scan?code=${encodeURIComponent(code)}`);
    if (!r.ok) { flash(r.signal === 'misread' ? 'misread' : 'refused', lang === 'zh' ? r.message_zh : r.message, r.code); return; }
    let line = sale.lines.find((l) => l.productId === r.product.id);
    if (!line) sale.lines.push(line = { productId: r.product.id, name: r.product.name, pack: r.product.packSizeLabel || '', quantity: 0, unitCodes: [], depositFen: r.depositFen });
    if (r.unitCode) {
      if (line.unitCodes.includes(r.unitCode)) { flash('refused', words('UNIT_CODE_DUPLICATE'), 'UNIT_CODE_DUPLICATE'); return; }
      line.unitCodes.push(r.unitCode);
      line.quantity = Math.max(line.quantity, line.unitCodes.length);
    } else {
      line.quantity += qty;
    }
    $('sale-qty').value = 1;
    msg('sale-msg', '', true);
    flash('accepted', `${t('scanOk')}: ${r.product.name} ${r.product.packSizeLabel || ''}`);
    renderSale();
  } catch (e) { fail('sale-msg', e); }
}

function renderSale() {
  const tb = $('sale-lines').tBodies[0];
  tb.innerHTML = sale.lines.map((l, i) => `<tr><td>${esc(l.name)} <span class="pack">${esc(l.pack || '')}</span>${l.unitCodes.length ? ` <small>(${l.unitCodes.length} 码)</small>` : ''}</td>
    <td><input class="qty" data-i="${i}" type="number" min="${Math.max(1, l.unitCodes.length)}" value="${l.quantity}" aria-label="${t('qty')}"></td>
    <td class="num">${yuan(l.depositFen)}</td><td class="num">${yuan(l.depositFen == null ? null : l.depositFen * l.quantity)}</td>
    <td><button class="small del" data-i="${i}" aria-label="remove">✕</button></td></tr>`).join('');
  $('sale-total').textContent = yuan(sale.lines.reduce((s, l) => s + (l.depositFen ?? 0) * l.quantity, 0));
  for (const el of tb.querySelectorAll('input.qty')) el.onchange = () => { sale.lines[el.dataset.i].quantity = Math.max(1, parseInt(el.value, 10) || 1); renderSale(); };
  for (const el of tb.querySelectorAll('button.del')) el.onclick = () => { sale.lines.splice(Number(el.dataset.i), 1); renderSale(); };
}

async function confirmSale() {
  await scans;
  if (!sale.lines.length) return msg('sale-msg', t('noLines'), false);
  const purchaser = { phone: $('sale-phone').value.trim() };
  if ($('sale-name').value.trim()) purchaser.name = $('sale-name').value.trim();
  try {
    const r = await call('POST', '/local/sales', { purchaser, lines: sale.lines.map((l) => ({ productId: l.productId, quantity: l.quantity, unitCodes: l.unitCodes })) });
    msg('sale-msg', `${t('saleDone')} ${r.record.receiptNo} · ${t('total')} ${yuan(r.local.totalDepositFen)} · ${t('confirmed')}`, true);
    $('sale-result').hidden = false;
    $('sale-result').textContent = r.preview.join('\n');
    watchPrint(r.printJobId);
    clearSale(true);
    poll();
  } catch (e) { fail('sale-msg', e); }
}
function clearSale(keepMsg) {
  sale.lines = [];
  for (const id of ['sale-phone', 'sale-name', 'sale-scan']) $(id).value = '';
  $('sale-farmer').textContent = '';
  if (!keepMsg) { msg('sale-msg', '', true); $('sale-result').hidden = true; }
  renderSale();
  $('sale-phone').focus();
}

// --- return ---
function fillProducts() {
  const sel = $('ret-product');
  if (!reference) return;
  sel.innerHTML = '<option value="">—</option>' + reference.products.map((p) => `<option value="${p.id}">${esc(p.name)} ${esc(p.packSizeLabel)}</option>`).join('');
  for (const o of $('bag-material').options) o.textContent = t('materials')[o.value] || o.value;
}
async function retScan(code, qty) {
  if (!code) return;
  let r;
  msg('ret-msg', '', true); $('ret-result').hidden = true;
  try { r = await call('GET', `/local/scan?code=${encodeURIComponent(code)}`); } catch (e) { return fail('ret-msg', e); }
  const text = (x) => (lang === 'zh' ? x.message_zh : x.message);
  if (!r.ok && r.kind === 'misread') { flash('misread', text(r), r.code); return; } // never a row
  if (!r.ok && r.kind === 'sale_receipt') { flash('receipt', text(r)); return openSale(r.receiptNo); }
  if (r.ok && r.unitCode && ret.items.some((it) => it.unitCode === r.unitCode)) { flash('refused', words('UNIT_CODE_DUPLICATE'), 'UNIT_CODE_DUPLICATE'); return; }
  if (r.ok && !r.unitCode) ret.items.push({ productId: r.product.id, name: r.product.name, pack: r.product.packSizeLabel || '', quantity: qty, depositFen: r.depositFen, decision: 'accepted' });
  else if (r.ok) ret.items.push({ scan: code, unitCode: r.unitCode, name: r.product.name, pack: r.product.packSizeLabel || '', quantity: 1, depositFen: r.depositFen, decision: 'accepted' });
  // A foreign barcode or text stays on the return as rejected (the farmer's receipt says why), with its words.
  else ret.items.push({ scan: code, name: text(r), quantity: 1, depositFen: 0, decision: r.kind === 'not_a_code' || r.kind === 'other_receipt' ? 'unknown_code' : 'not_scheme_product' });
  if (r.ok) flash('accepted', `${t('scanOk')}: ${r.product.name} ${r.product.packSizeLabel || ''}`);
  else flash('refused', text(r), r.code);
  $('ret-qty').value = 1;
  renderReturn();
}
// The farmer's sale-receipt QR: open that sale and list what can still come back.
let openedSale = null;
async function openSale(receiptNo, confirmOwn) {
  try {
    openedSale = await call('GET', `/local/sale-receipt?no=${encodeURIComponent(receiptNo)}${confirmOwn ? '&confirm=1' : ''}`);
  } catch (e) {
    openedSale = null; $('ret-sale').hidden = true; fail('ret-msg', e);
    // Offline, an old-form number another shop's terminal may have printed too: the clerk confirms it is this shop's sale, or scans the codes.
    if (e.code === 'RECEIPT_MAY_BE_OTHER_TERMINAL') {
      const b = document.createElement('button');
      b.id = 'ret-sale-confirm';
      b.textContent = t('confirmOwnSale');
      b.onclick = () => openSale(receiptNo, true);
      $('ret-msg').append(' ', b);
      b.focus();
    }
    return;
  }
  const s = openedSale;
  $('ret-sale').hidden = false;
  $('ret-sale-title').textContent = `${t('saleOpened')} ${s.receiptNo} · ${s.businessDay}${s.shopName ? ` · ${s.shopName}` : ''}${s.purchaser ? ` · ${s.purchaser.maskedName} ${s.purchaser.maskedPhone}` : ''}`;
  const left = s.lines.reduce((n, l) => n + l.returnableCodes.length + l.returnableCounted, 0);
  $('ret-sale-lines').tBodies[0].innerHTML = s.lines.map((l) => `<tr><td>${esc(l.productName)} ${esc(l.packSizeLabel)}</td><td>${l.quantity}</td>
    <td>${l.returnableCodes.length ? `${l.returnableCodes.length} ${t('codesLeft')} <small>(${l.returnableCodes.map((c) => '…' + esc(c.slice(-6))).join(', ')})</small>` : ''}${l.returnableCounted ? ` ${l.returnableCounted} ${t('counted')}` : ''}${!l.returnableCodes.length && !l.returnableCounted ? '0' : ''}</td></tr>`).join('');
  $('ret-sale-add').hidden = left === 0;
  if (left === 0) msg('ret-msg', t('saleNone'), true);
  $(left ? 'ret-sale-add' : 'ret-scan').focus();
}
$('ret-sale-add').onclick = () => {
  if (!openedSale) return;
  for (const l of openedSale.lines) {
    for (const c of l.returnableCodes) if (!ret.items.some((it) => it.unitCode === c)) ret.items.push({ scan: c, unitCode: c, name: l.productName, pack: l.packSizeLabel, quantity: 1, depositFen: l.depositPerContainerFen, decision: 'accepted' });
    if (l.returnableCounted) ret.items.push({ productId: l.productId, name: l.productName, pack: l.packSizeLabel, quantity: l.returnableCounted, depositFen: l.depositTodayFen ?? 0, decision: 'accepted' });
  }
  $('ret-sale').hidden = true;
  renderReturn();
  $('ret-scan').focus();
};
$('ret-sale-close').onclick = () => { $('ret-sale').hidden = true; $('ret-scan').focus(); };
function retAdd() {
  const id = $('ret-product').value;
  const p = reference && reference.products.find((x) => x.id === id);
  if (!p) return;
  ret.items.push({ productId: p.id, name: p.name, quantity: Math.max(1, parseInt($('ret-qty').value, 10) || 1), depositFen: p.depositFen, decision: 'accepted' });
  $('ret-qty').value = 1;
  renderReturn();
}
// The incentive of each row (issue 17): asked of the terminal whenever the return changes; the same
// pricing the confirmation uses. Offline (or before the server answers) these are estimates.
let retEstimate = null;
let estimateSeq = 0;
let estimateTimer = null;
function returnBody() {
  const withDevices = (dev.returnItems || []).length > 0 || dev.unassigned > 0;
  const body = {
    deviceSession: withDevices,
    items: ret.items.map((it) => ({ ...(it.scan ? { scan: it.scan } : { productId: it.productId, quantity: it.quantity }), inspection: it.decision === 'accepted' ? 'accepted' : 'rejected', ...(it.decision === 'accepted' ? {} : { reasonCode: it.decision }) })),
  };
  if ($('ret-phone').value.trim()) body.returner = { phone: $('ret-phone').value.trim(), ...($('ret-name').value.trim() ? { name: $('ret-name').value.trim() } : {}) };
  return body;
}
function scheduleEstimate() {
  clearTimeout(estimateTimer);
  const seq = ++estimateSeq;
  if (!ret.items.length && !(dev.returnItems || []).length) { retEstimate = null; return; }
  estimateTimer = setTimeout(async () => {
    const body = returnBody();
    const r = await call('POST', '/local/returns/estimate', body).catch(() => null);
    if (seq !== estimateSeq) return; // a newer change asked again
    retEstimate = r;
    paintReturn();
  }, 120);
}
/** The estimate of the row at position i of the request (device rows first), if it still fits the table. */
function estimateAt(i) {
  const n = (dev.returnItems || []).length + ret.items.length;
  return retEstimate && retEstimate.items.length === n ? retEstimate.items[i] : null;
}
function incentiveCell(e) {
  if (!e) return '<td class="inc"></td>';
  const kind = e.incentive.kind;
  return `<td class="inc inc-${esc(kind)}" data-kind="${esc(kind)}" data-reason="${esc(e.incentive.reason || '')}">${esc(lang === 'zh' ? e.zh : e.en)}</td>`;
}
function renderEstimateNote() {
  const note = $('ret-estimate-note');
  const any = retEstimate && (retEstimate.ratesCached || retEstimate.items.some((x) => x.incentive.kind !== 'deposit' && x.incentive.reason !== 'rejected'));
  note.hidden = !any;
  if (any) note.textContent = status && status.sync.online === false ? t('estimateOffline') : t('estimateNote');
}
function renderReturn() {
  paintReturn();
  scheduleEstimate();
}
function paintReturn() {
  const tb = $('ret-items').tBodies[0];
  const nDev = (dev.returnItems || []).length;
  const devRows = (dev.returnItems || []).map((it, j) => { const e = estimateAt(j); return `<tr class="device"><td>${esc(it.productName)}${it.unitCode ? ` <small>…${esc(it.unitCode.slice(-8))}</small>` : ''}</td><td>${it.quantity}</td><td>${t('accepted')} (${t('device')})</td>${incentiveCell(e)}<td class="num">${yuan(e ? e.refundFen : depositOf(it.productId) * it.quantity)}</td>
    <td><button class="small devdel" data-k="${esc(it.key)}" aria-label="remove">✕</button></td></tr>`; }).join('');
  const opts = (sel) => [`<option value="accepted"${sel === 'accepted' ? ' selected' : ''}>${t('accepted')}</option>`]
    .concat(Object.entries(t('reasons')).map(([k, v]) => `<option value="${k}"${sel === k ? ' selected' : ''}>${esc(v)}</option>`)).join('');
  const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('#ret-items tr[data-i]');
  const focusAt = focused ? [Number(focused.dataset.i), document.activeElement.classList.contains('dec') ? 'select.dec' : 'button.del'] : null;
  tb.innerHTML = ret.items.map((it, i) => { const e = estimateAt(nDev + i); return `<tr data-i="${i}"><td>${esc(it.name)} <span class="pack">${esc(it.pack || '')}</span></td><td>${it.quantity}</td>
    <td><select class="dec" data-i="${i}" aria-label="${t('inspection')}">${opts(it.decision)}</select></td>
    ${incentiveCell(e && it.decision === (e.inspection === 'accepted' ? 'accepted' : e.reasonCode) ? e : null)}
    <td class="num">${yuan(it.decision === 'accepted' ? (e && e.inspection === 'accepted' ? e.refundFen : (it.depositFen ?? 0) * it.quantity) : 0)}</td>
    <td><button class="small del" data-i="${i}" aria-label="remove">✕</button></td></tr>`; }).join('') + devRows;
  // Repainting keeps the clerk where they were (an estimate arriving must not steal the focus).
  if (focusAt) tb.querySelector(`tr[data-i="${focusAt[0]}"] ${focusAt[1]}`)?.focus();
  const fresh = retEstimate && retEstimate.items.length === nDev + ret.items.length && ret.items.every((it, i) => (it.decision === 'accepted') === (retEstimate.items[nDev + i].inspection === 'accepted'));
  $('ret-total').textContent = yuan(fresh ? retEstimate.refundFen : ret.items.reduce((s, it) => s + (it.decision === 'accepted' ? (it.depositFen ?? 0) * it.quantity : 0), 0) + (dev.returnItems || []).reduce((s, it) => s + depositOf(it.productId) * it.quantity, 0));
  $('ret-points-row').hidden = !(fresh && retEstimate.pointsMilli > 0);
  $('ret-points').textContent = fresh ? pts(retEstimate.pointsMilli) : '0';
  renderEstimateNote();
  for (const el of tb.querySelectorAll('button.devdel')) el.onclick = () => call('POST', '/local/devices/remove', { key: el.dataset.k }).then((v) => { dev = v; renderReturn(); });
  for (const el of tb.querySelectorAll('select.dec')) el.onchange = () => { ret.items[el.dataset.i].decision = el.value; renderReturn(); };
  for (const el of tb.querySelectorAll('button.del')) el.onclick = () => removeReturnRow(Number(el.dataset.i));
}
/** Remove a return row and keep focus where the next keystroke belongs: the same place in the next row, else the scan field. */
function removeReturnRow(i) {
  ret.items.splice(i, 1);
  renderReturn();
  const rows = $('ret-items').tBodies[0].querySelectorAll('select.dec');
  const next = rows[Math.min(i, rows.length - 1)];
  (next || $('ret-scan')).focus();
  msg('ret-msg', t('removed'), true);
}
// Delete on a focused return row (its inspection choice or its ✕) removes it: no tabbing to ✕.
$('ret-items').addEventListener('keydown', (e) => {
  if (e.key !== 'Delete') return;
  const tr = e.target.closest('tr[data-i]');
  if (!tr) return;
  e.preventDefault();
  removeReturnRow(Number(tr.dataset.i));
});
async function confirmReturn() {
  await scans;
  const withDevices = (dev.returnItems || []).length > 0 || dev.unassigned > 0;
  if (!ret.items.length && !withDevices) return msg('ret-msg', t('noLines'), false);
  const body = { ...returnBody(), payment: $('ret-pay').value === 'mobile' ? { method: 'mobile', reference: $('ret-payref').value.trim() } : { method: 'cash' } };
  try {
    const r = await call('POST', '/local/returns', body);
    msg('ret-msg', `${t('returnDone')} ${yuan(r.local.refundPaidFen)} · ${r.record.receiptNo} · ${t('confirmed')}`, true);
    $('ret-result').hidden = false;
    $('ret-result').textContent = r.preview.join('\n');
    watchPrint(r.printJobId);
    $('ret-sale').hidden = true; openedSale = null;
    showIncentives(r.record);
    clearReturn(true);
    poll();
  } catch (e) { fail('ret-msg', e); }
}
// After the confirmation: what each item got and why — the server's answer once it has it, else the estimate.
let incentiveWatch = null;
function showIncentives(rec) {
  clearTimeout(incentiveWatch);
  const inc = rec && rec.incentives;
  const box = $('ret-incentives');
  if (!inc || !inc.items.some((x) => x.incentive && (x.incentive.kind !== 'deposit' || x.incentive.reason) && x.inspection === 'accepted')) { box.hidden = true; return; }
  box.hidden = false;
  box.dataset.source = inc.fromServer ? 'server' : 'estimate';
  $('ret-incentives-title').textContent = `${rec.receiptNo} · ${inc.fromServer ? t('incServer') : (status && status.sync.online === false ? t('estimateOffline') : t('incEstimate'))}`;
  const rows = inc.items.filter((x) => x.inspection === 'accepted').map((x) => `<tr><td>${esc(x.productName)} × ${x.quantity}</td><td class="inc inc-${esc(x.incentive ? x.incentive.kind : '')}">${esc(lang === 'zh' ? x.zh : x.en)}</td></tr>`);
  rows.push(`<tr><th>${esc(t('pointsTotal'))}</th><td id="ret-inc-points">${pts(inc.totalPointsMilli)}</td></tr>`);
  if (inc.fromServer && inc.pointsBalanceMilli != null) rows.push(`<tr><th>${esc(t('pointsBalance'))}</th><td id="ret-inc-balance">${pts(inc.pointsBalanceMilli)}</td></tr>`);
  if (inc.fromServer && rec.serverAmountFen != null && rec.serverAmountFen !== rec.amountFen) rows.push(`<tr><td colspan="2" class="err">${esc(t('paidDiffers'))}: ${yuan(rec.amountFen)} ≠ ${yuan(rec.serverAmountFen)}</td></tr>`);
  box.querySelector('tbody').innerHTML = rows.join('');
  // Not answered yet: look again until the server has it (the screen may have moved on: then stop).
  if (!inc.fromServer && rec.state !== 'refused') {
    incentiveWatch = setTimeout(async () => {
      if (tab !== 'return' || box.hidden) return;
      const again = await call('GET', `/local/record?id=${encodeURIComponent(rec.id)}`).catch(() => null);
      if (again && !box.hidden) showIncentives(again);
    }, 1500);
  }
}
function clearReturn(keepMsg) {
  ret.items = [];
  retEstimate = null;
  if (!keepMsg) $('ret-incentives').hidden = true;
  if (!keepMsg) call('POST', '/local/devices/clear', { what: 'return' }).then((v) => { dev = v; renderReturn(); }).catch(() => undefined);
  for (const id of ['ret-phone', 'ret-name', 'ret-scan', 'ret-payref']) $(id).value = '';
  $('ret-farmer').textContent = '';
  if (!keepMsg) { msg('ret-msg', '', true); $('ret-result').hidden = true; }
  renderReturn();
  $('ret-scan').focus();
}

// --- day end ---
const floatFen = () => Math.max(0, Math.round((parseFloat($('de-float').value) || 0) * 100));
async function loadDrawer() {
  const q = new URLSearchParams({ openingFloatFen: String(floatFen()) });
  if ($('de-day').value) q.set('day', $('de-day').value);
  const f = await call('GET', `/local/drawer?${q}`).catch(() => null);
  if (!f) return;
  if (!$('de-day').value) $('de-day').value = f.businessDay;
  $('de-figures').tBodies[0].innerHTML = Object.entries(t('fig')).filter(([k]) => f[k] !== undefined && (!k.startsWith('void') || f.voidsCount > 0)).map(([k, label]) => `<tr data-fig="${k}"><th>${esc(label)}</th><td class="num">${k.endsWith('Fen') ? yuan(f[k]) : k.endsWith('Milli') ? pts(f[k]) : f[k]}</td></tr>`).join('');
}
async function confirmDayEnd() {
  try {
    const r = await call('POST', '/local/drawer-report', { businessDay: $('de-day').value || undefined, openingFloatFen: floatFen(), clerkName: $('de-clerk').value.trim() || undefined });
    msg('de-msg', `${t('dayDone')} · ${t('confirmed')}`, true);
    $('de-result').hidden = false;
    $('de-result').textContent = r.preview.join('\n');
    watchPrint(r.printJobId);
    $('de-confirm').focus();
    loadDrawer();
    poll();
  } catch (e) { fail('de-msg', e); }
}

// --- records ---
async function loadRecords() {
  const rec = await call('GET', '/local/records?limit=30').catch(() => null);
  if (!rec || !status) return;
  const when = (iso) => new Date(iso).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB');
  // The table is repainted every poll: keep the clerk's focus on the same button.
  const a = document.activeElement;
  const keep = a && a.closest && a.closest('#recent, #jobs') && a.dataset ? { id: a.dataset.id, op: a.dataset.op } : null;
  $('refused').tBodies[0].innerHTML = status.refused.map((r) => `<tr><td>${when(r.eventTime)}</td><td>${esc(t('kinds')[r.kind] || r.kind)}</td><td>${esc(r.receiptNo)}</td>
    <td>${plain(r.error.code, lang === 'zh' ? r.error.message_zh || r.error.message : r.error.message)}</td></tr>`).join('');
  $('recent').tBodies[0].innerHTML = rec.items.map((r) => `<tr data-id="${esc(r.id)}"${r.voidedBy ? ' class="voided"' : ''}><td>${when(r.eventTime)}</td><td>${esc(t('kinds')[r.kind] || r.kind)}</td><td>${esc(r.receiptNo)}${r.serverNo ? ` / ${esc(r.serverNo)}` : ''}${r.void ? ` <small>${esc(t('voidOf'))} ${esc(r.void.targetReceiptNo || '')}</small>` : ''}</td>
    <td class="num">${yuan(r.amountFen)}${r.serverAmountFen != null && r.serverAmountFen !== r.amountFen ? ` ≠ ${yuan(r.serverAmountFen)}` : ''}</td><td>${esc(t('states')[r.state])}${r.voidedBy ? ` · <span class="voided-by">${esc(t('voidedBy'))} ${esc(r.voidedBy)}</span>` : ''}${r.state === 'refused' && r.error ? `<br><small>${plain(r.error.code, lang === 'zh' ? r.error.message_zh || r.error.message : r.error.message)}</small>` : ''}${r.lastRetryError && r.state !== 'synced' ? `<br><small>${plain(r.lastRetryError.code, r.lastRetryError.message)}</small>` : ''}${(r.flags || []).map((f) => `<br><small class="flag err">${esc(t('flags')[f] || f)}${f === 'refund_held' && r.heldFen ? ` ${yuan(r.heldFen)}` : ''}</small>`).join('')}</td>
    <td>${r.voidable ? `<button class="small void" data-id="${esc(r.id)}" data-op="void">${esc(t('voidBtn'))}</button>` : ''}</td></tr>`).join('');
  // A printed (or handwritten) job shows its state only: an earlier failure is history.
  $('jobs').tBodies[0].innerHTML = status.printer.jobs.map((j) => `<tr data-job="${j.id}"><td>${esc(j.title)}</td><td class="jstate">${esc(t('states')[j.state] || j.state)}${j.lastErrorCode && j.state !== 'printed' && j.state !== 'handwritten' ? `<br><small>${plain(j.lastErrorCode, j.lastError)}</small>` : ''}</td>
    <td><button class="small job" data-id="${j.id}" data-op="reprint">${t('reprint')}</button> ${j.state !== 'printed' && j.state !== 'handwritten' ? `<button class="small job" data-id="${j.id}" data-op="retry">${t('retry')}</button> <button class="small job" data-id="${j.id}" data-op="handwritten">${t('handwritten')}</button>` : ''}</td></tr>`).join('');
  for (const b of document.querySelectorAll('button.job')) b.onclick = () => call('POST', `/local/print-jobs/${b.dataset.id}/${b.dataset.op}`, {}).then(poll);
  for (const b of document.querySelectorAll('#recent button.void')) b.onclick = () => openVoid(b.dataset.id);
  if (keep && keep.id) document.querySelector(`#recent button[data-id="${CSS.escape(keep.id)}"][data-op="${keep.op}"], #jobs button[data-id="${CSS.escape(keep.id)}"][data-op="${keep.op}"]`)?.focus();
}

// --- void (作废): a sale or return of today at this counter, undone by a reversal record ---
let voiding = null; // { preview, busy, done }
const fmt = (s2, v) => s2.replace(/\{(\w+)\}/g, (_, k) => v[k]);
/** Opens the void confirmation for a record (its id, receipt number, or `last`): what it undoes, or why not. */
async function openVoid(target) {
  const box = $('void-panel');
  box.hidden = false;
  $('void-result').hidden = true;
  msg('void-msg', '', true);
  $('void-lines').tBodies[0].innerHTML = '';
  $('void-summary').textContent = '';
  voiding = null;
  try {
    const v = await call('GET', `/local/void?target=${encodeURIComponent(target)}`);
    voiding = { preview: v, busy: false, done: false };
    box.dataset.state = 'confirm';
    $('void-title').textContent = `${t('voidTitle')[v.targetType]} ${v.receiptNo}`;
    $('void-lines').tBodies[0].innerHTML = v.lines.map((l) => `<tr><td>${esc(l.productName)} ${esc(l.packSizeLabel)}</td><td>${l.quantity}</td><td class="num">${yuan(l.amountFen)}</td></tr>`).join('');
    const key = v.targetType === 'sale' ? 'voidSale' : v.payment && v.payment.method === 'mobile' ? 'voidReturnMobile' : 'voidReturnCash';
    $('void-summary').textContent = fmt(t(key), { n: v.containers, fen: yuan(v.amountFen) });
    $('void-reason').innerHTML = `<option value="">${esc(t('voidChoose'))}</option>` + v.reasons.map((r) => `<option value="${esc(r.code)}">${esc(r[lang])}</option>`).join('');
    $('void-reason-label').hidden = false;
    $('void-confirm').hidden = false;
    $('void-reason').focus();
  } catch (e) {
    // Refused here, in plain words, without asking the server: another terminal's, an earlier day, already voided.
    box.dataset.state = 'refused';
    $('void-title').textContent = t('voidCannot');
    $('void-reason-label').hidden = true;
    $('void-confirm').hidden = true;
    fail('void-msg', e);
    $('void-cancel').focus();
  }
}
async function confirmVoid() {
  if (!voiding || voiding.busy || voiding.done) return;
  const reason = $('void-reason').value;
  if (!reason) { fail('void-msg', { code: 'VOID_REASON_REQUIRED', message: t('voidChoose') }); $('void-reason').focus(); return; }
  voiding.busy = true;
  try {
    const r = await call('POST', '/local/voids', { target: voiding.preview.targetId, reason });
    voiding.done = true;
    $('void-panel').dataset.state = 'done';
    msg('void-msg', `${t('voidDone')} ${voiding.preview.receiptNo} · ${t('voidNo')} ${r.record.receiptNo} · ${yuan(r.void.amountFen)} · ${t('confirmed')}`, true);
    $('void-result').hidden = false;
    $('void-result').textContent = r.preview.join('\n');
    $('void-reason-label').hidden = true;
    $('void-confirm').hidden = true;
    watchPrint(r.printJobId);
    $('void-cancel').focus();
    poll();
  } catch (e) { fail('void-msg', e); } finally { if (voiding) voiding.busy = false; }
}
/** Closes the void panel; `refocus`: back to where the screen's next key belongs. */
function closeVoid(refocus) {
  if ($('void-panel').hidden) return;
  $('void-panel').hidden = true;
  voiding = null;
  if (refocus) show(tab);
}
onEnter('void-reason', () => $('void-reason').value && $('void-confirm').focus());
$('void-confirm').onclick = confirmVoid;
$('void-cancel').onclick = () => closeVoid(true);

// --- devices (scanners, counting machine, scale) ---
let dev = { returnItems: [], unassigned: 0, bagWeight: null };
function depositOf(productId) { const p = reference && reference.products.find((x) => x.id === productId); return (p && p.depositFen) || 0; }
function notice(n) {
  const box = $('dev-notices');
  const p = document.createElement('p');
  p.className = n.level;
  p.textContent = lang === 'zh' ? n.message_zh : n.message;
  box.prepend(p);
  while (box.children.length > 3) box.lastChild.remove();
}
function renderScale() {
  const w = dev.bagWeight;
  $('bag-scale').textContent = w && w.weight_g != null ? `${t('scale')}: ${w.weight_g} g${w.stable ? '' : ' …'}` : t('noScale');
  if (w && w.stable && w.weight_g != null && document.activeElement !== $('bag-weight-g')) $('bag-weight-g').placeholder = String(w.weight_g);
}
function connectDevices() {
  const es = new EventSource('/local/devices/stream');
  es.addEventListener('session', (e) => { dev = JSON.parse(e.data); renderReturn(); renderScale(); });
  es.addEventListener('notice', (e) => {
    const n = JSON.parse(e.data);
    dev = n.session;
    notice(n);
    // A scan on the sale screen goes through the same path as a typed one (which gives its own signal).
    if (n.type === 'scan' && n.screen === 'sale' && n.signal === 'accepted' && dev.saleScans.length) {
      const last = dev.saleScans[dev.saleScans.length - 1];
      scans = scans.then(() => saleScan(last.text, 1)).catch(() => undefined);
      call('POST', '/local/devices/clear', { what: 'sale' }).catch(() => undefined);
    } else if (n.signal && n.screen === tab) {
      flash(n.signal, lang === 'zh' ? n.message_zh : n.message, n.signal === 'misread' ? 'MISREAD' : '');
    }
    if (n.signal === 'receipt' && n.screen === 'return' && n.receiptNo) openSale(n.receiptNo);
    // Only a scan that resolved to a scheme container goes towards the bag; a misread never does.
    if (n.type === 'scan' && n.screen === 'bags' && n.signal === 'accepted' && $('bag-chosen').value) bagDo(`/local/bags/${$('bag-chosen').value}/items`, { deviceScans: true }, t('bagAdded'));
    renderReturn(); renderScale();
    window.__deviceNotices = (window.__deviceNotices || []).concat([{ seq: n.seq, type: n.type, at_ms: n.at_ms, shown_ms: Date.now() }]);
  });
}

// --- bags ---
let bagsData = { items: [], returns: [] };
async function loadBags() {
  try {
    bagsData = await call('GET', '/local/bags');
    const chosen = $('bag-chosen').value;
    $('bag-list').tBodies[0].innerHTML = bagsData.items.map((b) => `<tr><td>${esc(b.sealNo || '—')}</td><td>${esc(t('materials')[b.material] || b.material)}</td>
      <td>${b.contents.map((c) => `${esc(c.containerTypeCode)} × ${c.quantity}${c.unitCodes.length ? ` <small>(${c.unitCodes.map((u) => '…' + esc(u.slice(-6))).join(', ')})</small>` : ''}`).join('<br>')}</td>
      <td>${b.quantity}</td><td>${esc(t('bagStates')[b.state] || b.state)} · ${b.records.map((r) => esc(t('states')[r.state] || r.state)).join('/')}${b.records.filter((r) => r.error).map((r) => `<br><small class="err">${plain(r.error.code, lang === 'zh' ? r.error.message_zh || r.error.message : r.error.message)}</small>`).join('')}</td></tr>`).join('');
    $('bag-chosen').innerHTML = bagsData.items.map((b) => `<option value="${b.id}">${esc(b.sealNo || b.id.slice(-6))} ${esc(t('materials')[b.material] || b.material)} (${esc(t('bagStates')[b.state])})</option>`).join('');
    if (chosen && bagsData.items.some((b) => b.id === chosen)) $('bag-chosen').value = chosen;
    $('bag-return').innerHTML = '<option value="">—</option>' + bagsData.returns.map((r) => `<option value="${r.id}">${esc(r.receiptNo)} (${r.accepted})</option>`).join('');
    if (bagsData.weight) { dev.bagWeight = bagsData.weight; renderScale(); }
    const pk = await call('GET', '/local/pickups');
    $('pickups').tBodies[0].innerHTML = !pk.online ? `<tr><td>${t('offlinePickups')}</td></tr>` : pk.items.length === 0 ? `<tr><td>${t('noPickups')}</td></tr>`
      : pk.items.map((m) => `<tr><td>${esc(m.trackingNo)}</td><td>${m.bags.map((b) => esc(b.sealNo)).join(', ')}</td><td>${m.signedLocally ? t('signed') : `<button class="sign" data-m="${m.manifestId}" data-tn="${esc(m.trackingNo)}">${t('signPickup')}</button>`}</td></tr>`).join('');
    for (const el of $('pickups').querySelectorAll('button.sign')) el.onclick = () => call('POST', `/local/pickups/${el.dataset.m}/sign`, { trackingNo: el.dataset.tn }).then(() => { msg('bag-msg', t('signed'), true); loadBags(); poll(); }, (e) => fail('bag-msg', e));
  } catch (e) { fail('bag-msg', e); }
}
async function bagDo(path, body, okText) {
  try {
    const r = await call('POST', path, body);
    msg('bag-msg', `${okText} · ${t('confirmed')}`, true);
    if (r.preview && r.preview.length) { $('bag-result').hidden = false; $('bag-result').textContent = r.preview.join('\n'); }
    if (r.printJobId) watchPrint(r.printJobId);
    await loadBags();
    poll();
    return r;
  } catch (e) {
    fail('bag-msg', e);
    if (e.code === 'MISREAD') flash('misread', words('MISREAD'), 'MISREAD');
    else if (body && (body.scans || body.deviceScans)) flash('refused', words(e.code) || e.message, e.code);
  }
}
$('bag-open').onclick = async () => {
  const r = await bagDo('/local/bags', { material: $('bag-material').value, sealNo: $('bag-seal').value.trim() || undefined }, t('bagOpened'));
  if (r) { $('bag-seal').value = ''; $('bag-chosen').value = r.record.id; $('bag-scan').focus(); }
};
onEnter('bag-scan', () => {
  const code = $('bag-scan').value.trim();
  $('bag-scan').value = '';
  if (code && $('bag-chosen').value) bagDo(`/local/bags/${$('bag-chosen').value}/items`, { scans: [code], deviceScans: true }, t('bagAdded')).then((r) => r && flash('accepted', t('bagAdded')));
});
$('bag-add-return').onclick = () => $('bag-return').value && $('bag-chosen').value && bagDo(`/local/bags/${$('bag-chosen').value}/items`, { fromReturns: [$('bag-return').value] }, t('bagAdded'));
$('bag-seal-go').onclick = () => {
  const typed = $('bag-weight-g').value.trim();
  return $('bag-chosen').value && bagDo(`/local/bags/${$('bag-chosen').value}/seal`, typed ? { shopWeightG: parseInt(typed, 10) } : { useScale: true }, t('bagSealed'));
};
$('bag-label').onclick = () => $('bag-chosen').value && bagDo(`/local/bags/${$('bag-chosen').value}/label`, {}, t('printLabel'));

// --- held refunds the county approved, paid at this counter (needs the county server) ---
let held = { items: [], phone: '' };
function renderHeld() {
  $('held-items').tBodies[0].innerHTML = held.items.map((it, i) => `<tr data-i="${i}"><td><input type="checkbox" class="hsel" data-i="${i}" ${it.chosen ? 'checked' : ''} aria-label="pay"></td>
    <td>${esc(it.productName)} <small>…${esc(it.unitCode.slice(-8))}</small>${it.pending ? `<br><small>${esc(t('heldPending'))}</small>` : ''}</td>
    <td>${esc(new Date(it.returnedAt).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB'))} · ${esc(it.returnedAtShopName)}</td><td class="num">${yuan(it.amountFen)}</td></tr>`).join('');
  $('held-total').textContent = yuan(held.items.filter((x) => x.chosen).reduce((s2, x) => s2 + x.amountFen, 0));
  for (const el of document.querySelectorAll('input.hsel')) el.onchange = () => { held.items[el.dataset.i].chosen = el.checked; renderHeld(); };
}
async function findHeld() {
  freshen('held');
  const phone = $('held-phone').value.trim();
  if (!phone) return;
  try {
    const r = await call('POST', '/local/held-refunds/payable', { phone });
    held = { phone, items: r.items.map((x) => ({ ...x, chosen: true })) };
    renderHeld();
    if (!r.items.length) { msg('held-msg', t('noneToPay'), false); $('held-phone').select(); return; }
    $('held-pay').focus();
  } catch (e) { held = { items: [], phone: '' }; renderHeld(); fail('held-msg', e); }
}
let paying = false;
async function payHeld() {
  const chosen = held.items.filter((x) => x.chosen);
  if (!chosen.length || paying) return;
  paying = true;
  try {
    const r = await call('POST', '/local/held-refunds/pay', { phone: held.phone, items: chosen });
    if (r.paid.length) {
      msg('held-msg', `${t('heldDone')} ${yuan(r.paid.reduce((s2, p) => s2 + p.amountFen, 0))} · ${r.receiptNo}`, true);
      $('held-result').hidden = false;
      $('held-result').textContent = r.preview.join('\n');
      watchPrint(r.printJobId);
    }
    if (r.refused.length) fail(r.paid.length ? 'held-msg' : 'held-msg', { code: r.refused[0].error.code, detail: lang === 'zh' ? r.refused[0].error.message_zh : r.refused[0].error.message });
    const done = new Set([...r.paid, ...r.refused].map((p) => p.heldRefundId));
    held.items = held.items.filter((x) => !done.has(x.heldRefundId));
    renderHeld();
    $('held-phone').value = '';
    $('held-phone').focus();
    poll();
  } catch (e) { fail('held-msg', e); } finally { paying = false; }
}
$('held-find').onclick = findHeld;
$('held-pay').onclick = payHeld;

// --- points for goods (issue 17; needs the county server) ---
let pointsFor = null; // the phone whose balance is shown
function renderPointsOffline() {
  const off = !!(status && status.sync.online === false);
  $('pts-offline').hidden = !off;
  if (off) $('pts-offline').innerHTML = plain('POINTS_NEED_SERVER', t('pointsOffline'));
}
function showBalance(r) {
  const p = r.points;
  const rows = [[t('farmer'), `${r.name} ${r.phoneMasked}`], [t('pointsBalance'), pts(p.balanceMilli)], [t('earned'), pts(p.earnedMilli)], [t('redeemed'), pts(p.redeemedMilli)]];
  if (p.expiringNext && p.expiringNext.milli > 0) rows.push([`${t('expiring')} ${p.expiringNext.atEndOf}`, pts(p.expiringNext.milli)]);
  $('pts-balance').tBodies[0].innerHTML = rows.map(([k, v], i) => `<tr><th>${esc(k)}</th><td class="num"${i === 1 ? ' id="pts-balance-now"' : ''}>${esc(v)}</td></tr>`).join('');
  $('pts-balance').hidden = false;
}
async function findPoints() {
  freshen('points');
  const phone = $('pts-phone').value.trim();
  if (!phone) return;
  $('pts-balance').hidden = true; $('pts-unfinished').hidden = true; pointsFor = null;
  try {
    const r = await call('GET', `/local/points?phone=${encodeURIComponent(phone)}`);
    pointsFor = phone;
    showBalance(r);
    if (r.unfinished) {
      // The last redemption of this phone got no answer: the same content goes again under the same id.
      $('pts-points').value = String(r.unfinished.pointsMilli / 1000);
      $('pts-goods').value = r.unfinished.goods;
      $('pts-value').value = (r.unfinished.goodsValueFen / 100).toFixed(2);
      $('pts-unfinished').hidden = false;
      $('pts-unfinished').textContent = t('unfinished');
      focusIfStill('pts-phone', 'pts-confirm');
      return;
    }
    focusIfStill('pts-phone', 'pts-points');
  } catch (e) { fail('pts-msg', e); $('pts-phone').select(); }
}
let redeeming = false;
async function redeemPoints() {
  if (redeeming) return;
  const phone = $('pts-phone').value.trim();
  if (!phone) { $('pts-phone').focus(); return; }
  const value = Math.round((parseFloat($('pts-value').value) || 0) * 100);
  redeeming = true;
  try {
    const r = await call('POST', '/local/points/redeem', { phone, points: $('pts-points').value.trim(), goods: $('pts-goods').value.trim(), goodsValueFen: value });
    const red = r.redemption;
    msg('pts-msg', `${t('pointsDone')} ${pts(red.pointsMilli)} · ${red.goods} · ${t('balanceAfter')} ${pts(red.balanceAfterMilli)} · ${red.receiptNo}`, true);
    $('pts-result').hidden = false;
    $('pts-result').textContent = r.preview.join('\n');
    watchPrint(r.printJobId);
    if ($('pts-balance-now')) $('pts-balance-now').textContent = pts(red.balanceAfterMilli);
    for (const id of ['pts-points', 'pts-goods', 'pts-value']) $(id).value = '';
    $('pts-unfinished').hidden = true;
    $('pts-phone').value = '';
    $('pts-phone').focus();
    poll();
  } catch (e) { fail('pts-msg', e); } finally { redeeming = false; }
}
$('pts-find').onclick = findPoints;
$('pts-confirm').onclick = redeemPoints;

// --- wiring ---
function onEnter(id, fn) { $(id).addEventListener('keydown', (e) => { if (e.key === 'Enter' && !e.ctrlKey) { e.preventDefault(); fn(); } }); }
// The lookup answers later than the clerk may type: move focus only if the clerk is still on the
// phone field, never pull it out of the field they have moved on to.
function focusIfStill(fromId, toId) { const a = document.activeElement; if (a === $(fromId) || a === document.body || !a) $(toId).focus(); }
onEnter('sale-phone', async () => { const f = await lookupFarmer('sale-phone', 'sale-name', 'sale-farmer'); focusIfStill('sale-phone', f ? 'sale-scan' : 'sale-name'); });
onEnter('sale-name', () => $('sale-scan').focus());
// A scanner types faster than the terminal answers: take each scan as it ends, handle them in order.
let scans = Promise.resolve();
function queueScan(inputId, fn) {
  const code = $(inputId).value.trim();
  $(inputId).value = '';
  const qtyId = inputId === 'sale-scan' ? 'sale-qty' : 'ret-qty';
  const qty = Math.max(1, parseInt($(qtyId).value, 10) || 1);
  scans = scans.then(() => fn(code, qty)).catch(() => undefined);
}
onEnter('sale-scan', () => queueScan('sale-scan', saleScan));
onEnter('sale-qty', () => $('sale-scan').focus());
onEnter('ret-phone', async () => { const f = await lookupFarmer('ret-phone', 'ret-name', 'ret-farmer'); focusIfStill('ret-phone', f ? 'ret-scan' : 'ret-name'); scheduleEstimate(); });
onEnter('ret-name', () => $('ret-scan').focus());
onEnter('ret-scan', () => queueScan('ret-scan', retScan));
onEnter('ret-qty', retAdd);
onEnter('enrol-code', () => $('enrol-go').click());
onEnter('held-phone', findHeld);
onEnter('pts-phone', findPoints);
onEnter('pts-points', () => $('pts-goods').focus());
onEnter('pts-goods', () => $('pts-value').focus());
onEnter('pts-value', () => $('pts-confirm').focus());
$('ret-phone').addEventListener('change', scheduleEstimate);
onEnter('de-float', () => $('de-clerk').focus());
onEnter('de-clerk', () => $('de-confirm').focus());
$('ret-add').onclick = retAdd;
$('sale-confirm').onclick = confirmSale;
$('sale-clear').onclick = () => clearSale(false);
$('ret-confirm').onclick = confirmReturn;
$('ret-clear').onclick = () => clearReturn(false);
$('de-confirm').onclick = confirmDayEnd;
$('de-float').onchange = loadDrawer;
$('de-day').onchange = loadDrawer;
$('sync-now').onclick = () => call('POST', '/local/sync-now', {}).then(poll);
$('show-refused').onclick = () => show('records');
$('lang').onclick = () => { lang = lang === 'zh' ? 'en' : 'zh'; localStorage.setItem('lang', lang); applyLang(); };
$('enrol-go').onclick = async () => {
  try {
    const r = await call('POST', '/local/enrol', { enrolmentCode: $('enrol-code').value, serverUrl: $('enrol-server').value.trim() || undefined });
    msg('enrol-msg', `OK: ${r.shopName}`, true);
    await poll();
    show('sale');
  } catch (e) { fail('enrol-msg', e); }
};
for (const b of document.querySelectorAll('[data-tab]')) b.onclick = () => show(b.dataset.tab);
document.addEventListener('keydown', (e) => {
  const keys = { F1: 'sale', F2: 'return', F3: 'bags', F4: 'dayend', F5: 'records', F6: 'held', F7: 'points' };
  if (keys[e.key]) { e.preventDefault(); show(keys[e.key]); return; }
  // F8: void the last receipt of this counter (its latest sale or return).
  if (e.key === 'F8') { e.preventDefault(); if (status && status.enrolment) openVoid('last'); return; }
  // While the void panel is open, Ctrl+Enter confirms the void and Esc closes it.
  if (!$('void-panel').hidden && ((e.key === 'Enter' && e.ctrlKey) || e.key === 'Escape')) {
    e.preventDefault();
    if (e.key === 'Escape') closeVoid(true); else confirmVoid();
    return;
  }
  if (e.key === 'Enter' && e.ctrlKey) {
    e.preventDefault();
    if (tab === 'sale') confirmSale(); else if (tab === 'return') confirmReturn(); else if (tab === 'dayend') confirmDayEnd(); else if (tab === 'bags') $('bag-seal-go').click(); else if (tab === 'held') payHeld(); else if (tab === 'points') redeemPoints();
  }
  if (e.key === 'Escape') { if (tab === 'sale') clearSale(false); else if (tab === 'return') clearReturn(false); }
});
applyLang();
connectDevices();
call('GET', '/local/plain-words').then((w) => { WORDS = w; }).catch(() => undefined).then(poll).then(() => show('sale'));
setInterval(poll, 1500);
