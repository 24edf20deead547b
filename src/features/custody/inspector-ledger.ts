// The inspectors' ledger (台账, DESIGN rule 9): per shop and period, the quantity of packaging waste
// taken back and where it went — bags, their manifests, the receiving facility and the disposal.
// CSV (UTF-8 with BOM, so spreadsheet software in China opens it) and a printable HTML page.
import type { Knex } from 'knex';
import { DEFAULT_TIME_ZONE } from '../../shared/business-day.js';

export interface LedgerQuery { countyId: string; shopIds: string[] | null; from: string; to: string }

export interface LedgerShop {
  shopId: string; shopName: string; licenceNo: string;
  received: Array<{ day: string; containerType: string; material: string; quantity: number; weightKg: number }>;
  bags: Array<{
    bagId: string; sealNo: string | null; material: string; sealedOn: string | null; quantity: number; expectedWeightKg: number; measuredWeightKg: number | null;
    state: string; trackingNo: string | null; facility: string | null; facilityLicence: string | null;
    disposalMethod: string | null; disposalCertificateNo: string | null; disposedOn: string | null; disposalLicence: string | null;
  }>;
}

export async function inspectorLedger(knex: Knex, q: LedgerQuery): Promise<LedgerShop[]> {
  const tz = ((await knex('counties').where({ id: q.countyId }).first('timezone')) as { timezone: string } | undefined)?.timezone ?? DEFAULT_TIME_ZONE;
  const shopsQ = knex('shops').where({ county_id: q.countyId }).orderBy('licence_no').select('id', 'name', 'licence_no');
  if (q.shopIds) shopsQ.whereIn('id', q.shopIds);
  const shops = (await shopsQ) as Array<{ id: string; name: string; licence_no: string }>;
  const out: LedgerShop[] = [];
  for (const s of shops) {
    const received = (await knex('return_items as i')
      .join('returns as r', function () { this.on('r.county_id', 'i.county_id').andOn('r.id', 'i.return_id'); })
      .join('products as p', function () { this.on('p.county_id', 'i.county_id').andOn('p.id', 'i.product_id'); })
      .join('container_types as c', function () { this.on('c.county_id', 'p.county_id').andOn('c.id', 'p.container_type_id'); })
      .leftJoin('reversals as v', function () { this.on('v.county_id', 'r.county_id').andOn('v.target_id', 'r.id').andOnVal('v.target_type', 'return'); })
      .where({ 'i.county_id': q.countyId, 'r.shop_id': s.id }).whereNot('i.outcome', 'rejected').whereNull('v.id')
      .whereBetween('r.business_day', [q.from, q.to])
      .groupBy('r.business_day', 'c.code', 'c.material', 'c.tare_weight_g').orderBy(['r.business_day', 'c.code'])
      .select('r.business_day as day', 'c.code', 'c.material', 'c.tare_weight_g', knex.raw('sum(i.quantity)::int as n'))) as Array<{ day: string; code: string; material: string; tare_weight_g: number; n: number }>;
    const bags = (await knex('custody_bags as b')
      .leftJoin('custody_manifests as m', function () { this.on('m.county_id', 'b.county_id').andOn('m.id', 'b.manifest_id'); })
      .leftJoin('facilities as f', function () { this.on('f.county_id', 'm.county_id').andOn('f.id', 'm.facility_id'); })
      .leftJoin('custody_disposals as d', function () { this.on('d.county_id', 'b.county_id').andOn('d.id', 'b.disposal_id'); })
      .where({ 'b.county_id': q.countyId, 'b.shop_id': s.id })
      .whereRaw(`(b.created_at AT TIME ZONE ?)::date BETWEEN ?::date AND ?::date`, [tz, q.from, q.to])
      .orderBy('b.created_at')
      .select('b.id', 'b.seal_no', 'b.material', knex.raw(`to_char(b.sealed_at AT TIME ZONE ?, 'YYYY-MM-DD') as sealed_on`, [tz]), 'b.declared_quantity', 'b.expected_weight_g', 'b.measured_weight_g', 'b.state',
        'm.tracking_no', 'f.name as facility', 'f.licence_no as facility_licence', 'd.method', 'd.certificate_no', 'd.disposed_on', 'd.facility_licence_no as disposal_licence')) as Array<Record<string, any>>;
    out.push({
      shopId: s.id, shopName: s.name, licenceNo: s.licence_no,
      received: received.map((r) => ({ day: r.day, containerType: r.code, material: r.material, quantity: r.n, weightKg: (r.n * r.tare_weight_g) / 1000 })),
      bags: bags.map((b) => ({
        bagId: b.id, sealNo: b.seal_no, material: b.material, sealedOn: b.sealed_on, quantity: b.declared_quantity, expectedWeightKg: b.expected_weight_g / 1000,
        measuredWeightKg: b.measured_weight_g === null ? null : b.measured_weight_g / 1000, state: b.state, trackingNo: b.tracking_no, facility: b.facility,
        facilityLicence: b.facility_licence, disposalMethod: b.method, disposalCertificateNo: b.certificate_no, disposedOn: b.disposed_on, disposalLicence: b.disposal_licence,
      })),
    });
  }
  return out;
}

const CSV_HEADER = ['record', 'shop_licence', 'shop_name', 'date', 'material', 'container_type', 'quantity', 'weight_kg', 'bag_seal_no', 'bag_state', 'manifest_tracking_no', 'destination_facility', 'destination_licence', 'disposal_method', 'disposal_certificate_no', 'disposed_on', 'disposal_licence'];

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  // Also defuse spreadsheet formulas (=, +, -, @) in free text.
  const safe = /^[=+\-@]/.test(s) && !/^-?[0-9.]+$/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function ledgerCsv(shops: LedgerShop[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const s of shops) {
    for (const r of s.received) lines.push(['received', s.licenceNo, s.shopName, r.day, r.material, r.containerType, r.quantity, r.weightKg, '', '', '', '', '', '', '', '', ''].map(csvCell).join(','));
    for (const b of s.bags) {
      lines.push(['bag', s.licenceNo, s.shopName, b.sealedOn, b.material, '', b.quantity, b.measuredWeightKg ?? b.expectedWeightKg, b.sealNo, b.state, b.trackingNo, b.facility, b.facilityLicence, b.disposalMethod, b.disposalCertificateNo, b.disposedOn, b.disposalLicence].map(csvCell).join(','));
    }
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

const esc = (v: unknown) => (v === null || v === undefined ? '' : String(v)).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const STATE_ZH: Record<string, string> = { open: '未封口', sealed: '已封口', picked_up: '运输中', received: '已入库', disposed: '已处置', rejected: '拒收', missing: '缺失' };

export function ledgerHtml(countyName: string, from: string, to: string, shops: LedgerShop[]): string {
  const parts = shops.map((s) => `
<section>
  <h2>${esc(s.shopName)} <small>许可证 ${esc(s.licenceNo)}</small></h2>
  <h3>回收数量 Quantities received</h3>
  <table><thead><tr><th>日期 Date</th><th>包装类型 Type</th><th>材质 Material</th><th>数量 Qty</th><th>重量 kg</th></tr></thead><tbody>
  ${s.received.map((r) => `<tr><td>${esc(r.day)}</td><td>${esc(r.containerType)}</td><td>${esc(r.material)}</td><td class="n">${r.quantity}</td><td class="n">${r.weightKg.toFixed(3)}</td></tr>`).join('\n  ') || '<tr><td colspan="5">无 none</td></tr>'}
  </tbody></table>
  <h3>去向 Bags and destinations</h3>
  <table><thead><tr><th>封条号 Seal</th><th>封口日期 Sealed</th><th>材质</th><th>数量</th><th>重量 kg</th><th>状态</th><th>联单号 Manifest</th><th>接收单位 Facility</th><th>处置 Disposal</th><th>证明编号 Certificate</th></tr></thead><tbody>
  ${s.bags.map((b) => `<tr><td>${esc(b.sealNo)}</td><td>${esc(b.sealedOn)}</td><td>${esc(b.material)}</td><td class="n">${b.quantity}</td><td class="n">${(b.measuredWeightKg ?? b.expectedWeightKg).toFixed(3)}</td><td>${esc(STATE_ZH[b.state] ?? b.state)}</td><td>${esc(b.trackingNo)}</td><td>${esc(b.facility)}<br><small>${esc(b.facilityLicence)}</small></td><td>${esc(b.disposalMethod)} ${esc(b.disposedOn)}</td><td>${esc(b.disposalCertificateNo)}</td></tr>`).join('\n  ') || '<tr><td colspan="10">无 none</td></tr>'}
  </tbody></table>
</section>`);
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>农药包装废弃物回收台账 ${esc(countyName)} ${esc(from)}–${esc(to)}</title>
<style>body{font-family:"WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;margin:1.5cm}table{border-collapse:collapse;width:100%;margin-bottom:1em}th,td{border:1px solid #444;padding:3px 6px;font-size:10pt}td.n{text-align:right}section{page-break-after:always}@media print{body{margin:0}}</style>
</head><body>
<h1>农药包装废弃物回收台账 <small>Pesticide packaging waste ledger</small></h1>
<p>${esc(countyName)} · ${esc(from)} 至 ${esc(to)}</p>
${parts.join('\n')}
</body></html>`;
}
