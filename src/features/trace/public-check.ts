// The public check (issue 16): anyone who scans the QR code on a container (a trace URL or the bare
// unit code) or on a sale receipt (its receipt number) opens /check/{countyId}?q=… and sees, Chinese
// first with English, where the container is — sold / returned / in transit / at the facility /
// disposed, with the county's dates and the disposal certificate number. No login, and no personal
// data: no purchaser, no phone, no name, no clerk. Rate-limited per client address by the shared
// throttle (auth_throttle, kind public_check): 429 with plain words when a device checks too often.
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { businessDay, DEFAULT_TIME_ZONE } from '../../shared/business-day.js';
import { extractUnitCode } from '../../shared/unit-code.js';
import { plainWords } from '../../shared/plain-words.js';
import { traceRow } from './trace-store.js';
import { shapeTrace, type UnitStatus } from './trace-service.js';

const STATUS_WORDS: Record<UnitStatus, { zh: string; en: string }> = {
  unknown: { zh: '未找到记录', en: 'No record found' },
  sold: { zh: '已售出，尚未回收', en: 'Sold, not yet returned' },
  returned: { zh: '已回收，在回收点存放', en: 'Returned, kept at the collection point' },
  in_transit: { zh: '运输途中', en: 'In transit' },
  at_facility: { zh: '已送达处置设施', en: 'At the disposal facility' },
  disposed: { zh: '已无害化处置', en: 'Disposed of' },
  rejected: { zh: '处置设施拒收', en: 'Refused by the facility' },
};

export interface PublicStep { key: 'sold' | 'returned' | 'in_transit' | 'at_facility' | 'disposed'; zh: string; en: string; day: string }

export interface PublicUnitStatus {
  kind: 'unit';
  unitCode: string;
  status: UnitStatus;
  product: { name: string; registrationNo: string } | null;
  steps: PublicStep[];
  certificateNo: string | null;
}

export interface PublicReceiptStatus {
  kind: 'receipt';
  receiptNo: string;
  soldOn: string;
  lines: Array<{ product: string; registrationNo: string; quantity: number; returned: number; units: Array<{ unitCode: string; status: UnitStatus }> }>;
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

async function countyZone(knex: Knex, countyId: string): Promise<{ name: string; tz: string } | null> {
  const c = (await knex('counties').where({ id: countyId }).first('name_zh', 'timezone')) as { name_zh: string; timezone: string } | undefined;
  return c ? { name: c.name_zh, tz: c.timezone ?? DEFAULT_TIME_ZONE } : null;
}

export async function publicUnitStatus(knex: Knex, countyId: string, code: string, tz: string): Promise<PublicUnitStatus> {
  const row = await traceRow(knex, countyId, code);
  const t = shapeTrace(countyId, code, row, null);
  const steps: PublicStep[] = [];
  const day = (at: string | null) => (at ? businessDay(at, tz) : null);
  if (t.sale && !t.sale.reversed) steps.push({ key: 'sold', zh: '售出', en: 'Sold', day: t.sale.businessDay });
  const ret = t.returns.find((r) => r.outcome !== 'rejected' && !r.reversed);
  if (ret) steps.push({ key: 'returned', zh: '回收', en: 'Returned', day: ret.businessDay });
  const pickup = t.custody.find((e) => e.type === 'custody_passed');
  if (pickup) steps.push({ key: 'in_transit', zh: '运出', en: 'Picked up', day: day(pickup.recordedAt) as string });
  if (t.receiving) steps.push({ key: 'at_facility', zh: '送达处置设施', en: 'Delivered to the facility', day: day(t.receiving.recordedAt) as string });
  if (t.disposal) steps.push({ key: 'disposed', zh: '处置', en: 'Disposed of', day: t.disposal.disposedOn });
  return {
    kind: 'unit', unitCode: code, status: t.status,
    product: t.product ? { name: t.product.name, registrationNo: t.product.registrationNo } : null,
    steps, certificateNo: t.disposal?.certificateNo ?? null,
  };
}

/**
 * The sale a receipt names: its printed number, or the server's sale id (from the server's own receipt QR).
 * Terminals printed numbers with the last four characters of their id until each had a number of its
 * own in the county, so two shops may have printed the same number on the same day: then the number
 * names no one sale and the answer is `ambiguous` — never one of them, which may be another shop's.
 */
export async function publicReceiptStatus(knex: Knex, countyId: string, ref: { receiptNo: string } | { saleId: string }): Promise<PublicReceiptStatus | { kind: 'ambiguous'; receiptNo: string } | null> {
  const q = knex('sales').where({ county_id: countyId });
  if ('receiptNo' in ref) q.where({ receipt_no: ref.receiptNo }); else q.where({ id: ref.saleId });
  const found = (await q.orderBy(['recorded_at', 'id']).limit(2).select('id', 'business_day', 'receipt_no', 'sale_no')) as Array<{ id: string; business_day: string; receipt_no: string | null; sale_no: number }>;
  const sale = found[0];
  if (!sale) return null;
  if (found.length > 1 && 'receiptNo' in ref) return { kind: 'ambiguous', receiptNo: ref.receiptNo };
  const lines = (await knex.raw(`
    SELECT sl.line_no, sl.quantity, p.name, p.registration_no,
           COALESCE((SELECT sum(a.quantity) FROM return_allocations a WHERE a.county_id = sl.county_id AND a.sale_id = sl.sale_id AND a.line_no = sl.line_no), 0)::int AS returned,
           COALESCE((SELECT json_agg(u.unit_code ORDER BY u.unit_code) FROM sold_units u WHERE u.county_id = sl.county_id AND u.sale_id = sl.sale_id AND u.line_no = sl.line_no), '[]'::json) AS codes
      FROM sale_lines sl JOIN products p ON p.county_id = sl.county_id AND p.id = sl.product_id
     WHERE sl.county_id = ? AND sl.sale_id = ? ORDER BY sl.line_no`, [countyId, sale.id])).rows as Array<{ line_no: number; quantity: number; name: string; registration_no: string; returned: number; codes: string[] }>;
  const out: PublicReceiptStatus['lines'] = [];
  for (const l of lines) {
    const units: Array<{ unitCode: string; status: UnitStatus }> = [];
    for (const c of l.codes.slice(0, 50)) {
      const r = await traceRow(knex, countyId, c);
      units.push({ unitCode: c, status: shapeTrace(countyId, c, r, null).status });
    }
    out.push({ product: l.name, registrationNo: l.registration_no, quantity: Number(l.quantity), returned: Number(l.returned), units });
  }
  return { kind: 'receipt', receiptNo: sale.receipt_no ?? `XS${countyId}-${String(sale.sale_no).padStart(8, '0')}`, soldOn: sale.business_day, lines: out };
}

const PAGE_STYLE = `body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;max-width:36rem;margin:1rem auto;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.3rem}h1 small{display:block;font-size:.9rem;color:#555;font-weight:normal}.status{font-size:1.4rem;font-weight:bold;margin:.8rem 0}
.en{color:#555}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left}code{word-break:break-all}`;

export function pageHtml(title: { zh: string; en: string }, body: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${esc(title.zh)} · ${esc(title.en)}</title><style>${PAGE_STYLE}</style></head>
<body><h1>${esc(title.zh)}<small lang="en">${esc(title.en)}</small></h1>${body}
<p class="en"><small>农药包装废弃物回收追溯 · Pesticide packaging take-back trace</small></p></body></html>`;
}

export function unitHtml(county: string, s: PublicUnitStatus): string {
  const w = STATUS_WORDS[s.status];
  const steps = s.steps.map((x) => `<tr data-step="${x.key}"><td>${esc(x.zh)} <span class="en" lang="en">${esc(x.en)}</span></td><td>${esc(x.day)}</td></tr>`).join('');
  return pageHtml({ zh: `${county} 农药包装查询`, en: 'Pesticide container check' }, `
<p>单元识别码 <span class="en" lang="en">Unit code</span>: <code>${esc(s.unitCode)}</code></p>
${s.product ? `<p>${esc(s.product.name)}（${esc(s.product.registrationNo)}）</p>` : ''}
<p class="status" data-status="${s.status}">${esc(w.zh)}<br><span class="en" lang="en">${esc(w.en)}</span></p>
${steps ? `<table><thead><tr><th>环节 <span class="en" lang="en">Step</span></th><th>日期 <span class="en" lang="en">Date</span></th></tr></thead><tbody>${steps}</tbody></table>` : ''}
${s.certificateNo ? `<p>处置证明编号 <span class="en" lang="en">Disposal certificate</span>: <strong data-certificate>${esc(s.certificateNo)}</strong></p>` : ''}`);
}

export function receiptHtml(county: string, s: PublicReceiptStatus): string {
  const rows = s.lines.map((l) => `<tr><td>${esc(l.product)}（${esc(l.registrationNo)}）</td><td>${l.quantity}</td><td>${l.returned + l.units.filter((u) => u.status !== 'sold' && u.status !== 'unknown').length}</td></tr>
${l.units.map((u) => `<tr><td colspan="3"><code>${esc(u.unitCode)}</code>: ${esc(STATUS_WORDS[u.status].zh)} <span class="en" lang="en">${esc(STATUS_WORDS[u.status].en)}</span></td></tr>`).join('')}`).join('');
  return pageHtml({ zh: `${county} 购药凭证查询`, en: 'Sale receipt check' }, `
<p>凭证号 <span class="en" lang="en">Receipt</span>: <code>${esc(s.receiptNo)}</code> · 售出日期 <span class="en" lang="en">Sold on</span> ${esc(s.soldOn)}</p>
<table><thead><tr><th>农药 <span class="en" lang="en">Product</span></th><th>数量 <span class="en" lang="en">Qty</span></th><th>已回收 <span class="en" lang="en">Returned</span></th></tr></thead><tbody>${rows}</tbody></table>`);
}

/** A receipt number more than one sale of the county carries: says so and to ask the shop, shows no sale. */
export function ambiguousReceiptHtml(county: string, receiptNo: string): string {
  const code = 'RECEIPT_AMBIGUOUS';
  return pageHtml({ zh: `${county} 购药凭证查询`, en: 'Sale receipt check' }, `
<p>凭证号 <span class="en" lang="en">Receipt</span>: <code>${esc(receiptNo)}</code></p>
<p class="status" data-error="${code}" data-status-code="409">${esc(plainWords(code, 'zh'))}<br><span class="en" lang="en">${esc(plainWords(code, 'en'))}</span></p>`);
}

export function problemHtml(code: string, status: number): string {
  return pageHtml({ zh: '无法查询', en: 'Cannot check' }, `<p class="status" data-error="${esc(code)}" data-status-code="${status}">${esc(plainWords(code, 'zh'))}<br><span class="en" lang="en">${esc(plainWords(code, 'en'))}</span></p>`);
}

/**
 * The sale a receipt's QR names: the terminal prints `AGRIRETURN:SALE:<receipt no.>`
 * (terminals/printing/models.ts), the server's receipt `agrireturn:sale:<county>:<sale id>`
 * (src/features/sales/sale-service.ts); the bare receipt number is typed by hand.
 */
export function receiptRef(countyId: string, q: string): { receiptNo: string } | { saleId: string } | null {
  const s = q.trim();
  const terminal = /^AGRIRETURN:SALE:([A-Za-z0-9-]{1,40})$/i.exec(s);
  if (terminal) return { receiptNo: terminal[1] as string };
  const server = /^agrireturn:sale:(\d{6}):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(s);
  if (server) return server[1] === countyId ? { saleId: (server[2] as string).toLowerCase() } : null;
  return /^[A-Za-z0-9-]{1,40}$/.test(s) ? { receiptNo: s } : null;
}

/** What a scan names: a unit code (bare or inside a trace URL) or a sale receipt. */
export async function publicCheckPage(knex: Knex, countyId: string, q: string): Promise<{ status: number; html: string }> {
  const county = await countyZone(knex, countyId);
  if (!county) return { status: 404, html: problemHtml('NOT_FOUND', 404) };
  const x = extractUnitCode(q);
  if (x.ok) {
    const s = await publicUnitStatus(knex, countyId, x.code, county.tz);
    return { status: s.status === 'unknown' ? 404 : 200, html: s.status === 'unknown' ? problemHtml('NOT_FOUND', 404) : unitHtml(county.name, s) };
  }
  const ref = receiptRef(countyId, q);
  const receipt = ref ? await publicReceiptStatus(knex, countyId, ref) : null;
  // More than one sale of the county has this number (receipts printed before terminals had numbers of their own).
  if (receipt?.kind === 'ambiguous') return { status: 409, html: ambiguousReceiptHtml(county.name, receipt.receiptNo) };
  if (receipt) return { status: 200, html: receiptHtml(county.name, receipt) };
  if (x.reason === 'not_found') return { status: 404, html: problemHtml('NOT_FOUND', 404) };
  throw new AppError('UNIT_CODE_INVALID');
}
