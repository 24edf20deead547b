// A stored run as CSV (one table of figures, shops and exceptions an inspector can open in a
// spreadsheet) and as a printable bilingual HTML page. Money is shown in yuan with two decimals,
// computed from integer fen without floating point.
import type { ReconciliationRun } from './reconciliation-service.js';
import { csvLine } from '../dashboard/csv.js';

export function yuan(fen: number): string {
  const neg = fen < 0;
  const a = Math.abs(fen);
  return `${neg ? '-' : ''}${Math.trunc(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

const FIGURE_LABELS: Array<[string, string, string, 'fen' | 'n']> = [
  ['money.depositsCollectedFen', '收取押金（元）', 'Deposits collected (yuan)', 'fen'],
  ['money.refundsPaidFen', '退还押金（元）', 'Refunds paid (yuan)', 'fen'],
  ['money.lateRefundsFen', '逾期退还（元）', 'Late refunds from the unredeemed fund (yuan)', 'fen'],
  ['money.policyRefundsFen', '政策退款（元）', 'Policy refunds (yuan)', 'fen'],
  ['money.buybackPaidFen', '有偿回收支付（元）', 'Buy-back paid from the incentive fund (yuan)', 'fen'],
  ['money.expiredFen', '到期转出（元）', 'Expired to the unredeemed fund (yuan)', 'fen'],
  ['money.settlementsFromShopsFen', '店铺上缴（元）', 'Settlements from shops (yuan)', 'fen'],
  ['money.settlementsToShopsFen', '拨付店铺（元）', 'Settlements to shops (yuan)', 'fen'],
  ['money.outstandingOpeningFen', '期初未退押金（元）', 'Deposits outstanding, opening (yuan)', 'fen'],
  ['money.outstandingClosingFen', '期末未退押金（元）', 'Deposits outstanding, closing (yuan)', 'fen'],
  ['money.unredeemedClosingFen', '期末逾期未退押金（元）', 'Unredeemed fund, closing (yuan)', 'fen'],
  ['units.soldWithDeposit', '收押销售（个）', 'Sold with deposit (containers)', 'n'],
  ['units.returnedAccepted', '回收接收（个）', 'Returned and accepted', 'n'],
  ['units.returnedAgainstDeposit', '其中退押金', '  of which refunded against a deposit', 'n'],
  ['units.returnedLate', '其中逾期退还', '  of which refunded late', 'n'],
  ['units.returnedPolicy', '其中政策退款', '  of which refunded by policy', 'n'],
  ['units.returnedBuyback', '其中有偿回收', '  of which paid buy-back', 'n'],
  ['units.returnedNoRefund', '其中无退款接收', '  of which accepted without refund', 'n'],
  ['units.rejected', '拒收（个）', 'Rejected', 'n'],
  ['units.expired', '押金到期（个）', 'Deposits expired', 'n'],
  ['units.outstandingClosing', '期末未回收（个）', 'Outstanding at period end', 'n'],
  ['units.expiredUnreturnedClosing', '期末到期未回收（个）', 'Expired and not returned at period end', 'n'],
  ['custody.returnedUnits', '累计回收（个）', 'Accepted at shops, to period end', 'n'],
  ['custody.looseAtShops', '店内未装袋（个）', 'Loose at shops', 'n'],
  ['custody.inBagsAtShops', '店内已装袋（个）', 'In bags at shops', 'n'],
  ['custody.inTransit', '运输中（个）', 'In transit', 'n'],
  ['custody.received', '处置单位已接收（个）', 'Received at facilities', 'n'],
  ['custody.disposed', '已处置（个）', 'Disposed of', 'n'],
  ['custody.missing', '丢失（个）', 'Missing', 'n'],
  ['custody.bagsAwaitingPickup', '待收运袋数', 'Bags awaiting pickup', 'n'],
  ['custody.openDiscrepancies', '未结差异', 'Open discrepancies', 'n'],
];

function pick(obj: unknown, path: string): number {
  return Number(path.split('.').reduce((o: any, k) => (o == null ? undefined : o[k]), obj) ?? 0);
}

export function runCsv(run: ReconciliationRun): string {
  const lines: string[] = [];
  lines.push(csvLine(['section', 'key', 'label_zh', 'label_en', 'value']));
  lines.push(csvLine(['run', 'id', '对账编号', 'Run id', run.id]));
  lines.push(csvLine(['run', 'county', '县', 'County', run.countyId]));
  lines.push(csvLine(['run', 'period', '对账期', 'Period', run.period]));
  lines.push(csvLine(['run', 'asOf', '数据截止（记录时间）', 'As of (record time)', run.asOf]));
  lines.push(csvLine(['run', 'fingerprint', '指纹', 'Fingerprint', run.fingerprint]));
  for (const [key, zh, en, unit] of FIGURE_LABELS) {
    const v = pick(run.figures, key);
    lines.push(csvLine([key.split('.')[0]!, key, zh, en, unit === 'fen' ? yuan(v) : String(v)]));
  }
  lines.push('');
  lines.push(csvLine(['shop_id', 'shop', 'deposits_yuan', 'refunds_yuan', 'position_yuan', 'settlement_status', 'settlement_outstanding_yuan', 'sold', 'returned', 'loose', 'in_bags', 'overdue_bags']));
  for (const s of run.figures.shops) {
    lines.push(csvLine([s.shopId, s.shopName, yuan(s.depositsCollectedFen), yuan(s.refundsPaidFen), yuan(s.positionFen), s.settlementStatus, yuan(s.settlementOutstandingFen), s.soldUnits, s.returnedUnits, s.looseAtShop, s.inBagsAtShop, s.overdueBags]));
  }
  lines.push('');
  lines.push(csvLine(['exception_no', 'book', 'kind', 'severity', 'shop_id', 'expected', 'actual', 'message_zh', 'message_en', 'records']));
  run.exceptions.forEach((e, i) => {
    lines.push(csvLine([i + 1, e.book, e.kind, e.severity, e.shopId ?? '', e.expected ?? '', e.actual ?? '', e.messageZh, e.messageEn, e.records.map((r) => `${r.type}:${r.id}`).join(' ')]));
  });
  return '\uFEFF' + lines.join('\r\n') + '\r\n'; // BOM: spreadsheet programs in China open UTF-8 CSV correctly only with it
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function runHtml(run: ReconciliationRun, countyName: string): string {
  const rows = FIGURE_LABELS.map(([key, zh, en, unit]) => {
    const v = pick(run.figures, key);
    return `<tr><td>${esc(zh)}</td><td>${esc(en)}</td><td class="n">${unit === 'fen' ? yuan(v) : v}</td></tr>`;
  }).join('');
  const shops = run.figures.shops.map((s) => `<tr><td>${esc(s.shopName)}</td><td class="n">${yuan(s.depositsCollectedFen)}</td><td class="n">${yuan(s.refundsPaidFen)}</td><td class="n">${yuan(s.positionFen)}</td><td>${esc(s.settlementStatus)}</td><td class="n">${s.soldUnits}</td><td class="n">${s.returnedUnits}</td><td class="n">${s.looseAtShop}</td><td class="n">${s.inBagsAtShop}</td></tr>`).join('');
  const ex = run.exceptions.length
    ? run.exceptions.map((e, i) => `<tr class="${e.severity}"><td>${i + 1}</td><td>${esc(e.severity)}</td><td>${esc(e.messageZh)}<br><small>${esc(e.messageEn)}</small></td><td><small>${e.records.slice(0, 10).map((r) => esc(`${r.type}:${r.id}`)).join('<br>')}${e.records.length > 10 ? `<br>… +${e.records.length - 10}` : ''}</small></td></tr>`).join('')
    : '<tr><td colspan="4">无异常 / No exceptions</td></tr>';
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>${esc(countyName)} 对账报告 ${esc(run.period)}</title>
<style>body{font-family:"WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;margin:2em;color:#111}table{border-collapse:collapse;margin:1em 0;width:100%}td,th{border:1px solid #999;padding:3px 6px;font-size:12px;text-align:left}.n{text-align:right;font-variant-numeric:tabular-nums}tr.error td{background:#fde2e2}tr.warning td{background:#fff4d6}@media print{body{margin:0}}</style></head>
<body><h1>${esc(countyName)} 农药包装废弃物押金回收对账报告</h1>
<p>County reconciliation — ${esc(run.countyId)} · 对账期 Period <b>${esc(run.period)}</b> (${esc(run.from)} – ${esc(run.to)}) · 数据截止 As of <b>${esc(run.asOf)}</b> · 运行 Run ${esc(run.runAt)} (${esc(run.trigger)}, ${esc(run.actor)})<br>
编号 Run id ${esc(run.id)} · 指纹 Fingerprint <code>${esc(run.fingerprint)}</code></p>
<h2>汇总 Figures</h2><table><tbody>${rows}</tbody></table>
<h2>店铺 Shops</h2><table><thead><tr><th>店铺 Shop</th><th>收押 Deposits</th><th>退款 Refunds</th><th>头寸 Position</th><th>结算 Settlement</th><th>销售 Sold</th><th>回收 Returned</th><th>未装袋 Loose</th><th>已装袋 In bags</th></tr></thead><tbody>${shops}</tbody></table>
<h2>异常 Exceptions (${run.exceptions.length})</h2><table><thead><tr><th>#</th><th>级别 Severity</th><th>说明 Description</th><th>相关记录 Records</th></tr></thead><tbody>${ex}</tbody></table>
<p><small>金额单位：元 · Amounts in yuan. 相同的县、对账期和截止时间总是得出相同的数字（指纹相同）。 The same county, period and as-of always give the same figures (same fingerprint).</small></p>
</body></html>`;
}
