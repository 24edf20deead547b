// One ledger table, three renderings: CSV (UTF-8 with a BOM, so Excel in China opens the Chinese
// correctly), XLSX (exceljs: frozen header row, Chinese column names, number formats for yuan and kg,
// column widths) and a printable HTML page (Chinese first, one table per shop, a page per shop).
import ExcelJS from 'exceljs';

/** text and date are written as text; int, yuan (the row holds fen) and kg as numbers. */
export type ColumnKind = 'text' | 'date' | 'int' | 'yuan' | 'kg';
export interface LedgerColumn { key: string; zh: string; en: string; kind: ColumnKind; width: number; /** Shown in the shop's heading on the page instead. */ shop?: boolean }
export type LedgerCell = string | number | null;
export interface LedgerTable {
  /** e.g. 农药销售台账 */ titleZh: string; titleEn: string; sheetName: string; fileStem: string;
  countyName: string; from: string; to: string;
  /** A line under the title: the legal basis, masking. */ notes: string[];
  columns: LedgerColumn[];
  /** Sales whose purchaser the table shows (sales ledger): written to the access log for officials and inspectors. */
  purchaserReads?: string[];
  shops: Array<{ id: string; name: string; licenceNo: string; rows: Array<Record<string, LedgerCell>> }>;
}

export const NUM_FMT: Record<ColumnKind, string | undefined> = { text: '@', date: '@', int: '0', yuan: '#,##0.00', kg: '#,##0.000' };

/** The value as a number or string in the unit the column shows (yuan from fen). */
function shown(c: LedgerColumn, v: LedgerCell): LedgerCell {
  if (v === null || v === undefined || v === '') return null;
  if (c.kind === 'yuan') return Number(v) / 100;
  return v;
}

function csvText(c: LedgerColumn, v: LedgerCell): string {
  const x = shown(c, v);
  if (x === null) return '';
  if (c.kind === 'yuan') return (x as number).toFixed(2);
  if (c.kind === 'kg') return (x as number).toFixed(3);
  return String(x);
}

function csvCell(s: string): string {
  // Defuse spreadsheet formulas (=, +, -, @) in free text; quote what needs it.
  const safe = /^[=+\-@]/.test(s) && !/^-?[0-9.]+$/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function tableCsv(t: LedgerTable): string {
  const lines = [t.columns.map((c) => csvCell(c.zh)).join(',')];
  for (const s of t.shops) for (const r of s.rows) lines.push(t.columns.map((c) => csvCell(csvText(c, r[c.key] ?? null))).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

export async function tableXlsx(t: LedgerTable): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'agrireturn';
  wb.title = `${t.titleZh} ${t.countyName} ${t.from}–${t.to}`;
  const ws = wb.addWorksheet(t.sheetName, { views: [{ state: 'frozen', xSplit: 0, ySplit: 1 }] });
  ws.columns = t.columns.map((c) => ({ header: c.zh, key: c.key, width: c.width, style: NUM_FMT[c.kind] ? { numFmt: NUM_FMT[c.kind] } : {} }));
  const header = ws.getRow(1);
  header.font = { bold: true };
  header.alignment = { vertical: 'middle', horizontal: 'center', wrapText: true };
  for (const s of t.shops) {
    for (const r of s.rows) ws.addRow(Object.fromEntries(t.columns.map((c) => [c.key, shown(c, r[c.key] ?? null)])));
  }
  ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: t.columns.length } };
  return Buffer.from(await wb.xlsx.writeBuffer());
}

const esc = (v: unknown) => (v === null || v === undefined ? '' : String(v)).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function tableHtml(t: LedgerTable): string {
  const cols = t.columns.filter((c) => !c.shop);
  const numeric = (c: LedgerColumn) => c.kind === 'int' || c.kind === 'yuan' || c.kind === 'kg';
  const sections = t.shops.map((s) => `
<section data-shop-id="${esc(s.id)}">
  <h2>${esc(s.name)} <small>农药经营许可证 ${esc(s.licenceNo)}</small></h2>
  <table><thead><tr>${cols.map((c) => `<th data-key="${esc(c.key)}">${esc(c.zh)}<br><small>${esc(c.en)}</small></th>`).join('')}</tr></thead><tbody>
  ${s.rows.map((r) => `<tr>${cols.map((c) => `<td${numeric(c) ? ' class="n"' : ''}>${esc(csvText(c, r[c.key] ?? null))}</td>`).join('')}</tr>`).join('\n  ') || `<tr class="empty"><td colspan="${cols.length}">本期无记录 No records in this period</td></tr>`}
  </tbody></table>
</section>`);
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>${esc(t.titleZh)} ${esc(t.countyName)} ${esc(t.from)}–${esc(t.to)}</title>
<style>body{font-family:"WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;margin:1.5cm}table{border-collapse:collapse;width:100%;margin-bottom:1em}th,td{border:1px solid #444;padding:3px 6px;font-size:10pt}th small{font-weight:normal;color:#555}td.n{text-align:right}section{page-break-after:always}section:last-child{page-break-after:auto}thead{display:table-header-group}@media print{body{margin:0}}</style>
</head><body>
<h1>${esc(t.titleZh)} <small>${esc(t.titleEn)}</small></h1>
<p class="period">${esc(t.countyName)} · ${esc(t.from)} 至 ${esc(t.to)}</p>
${t.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('\n')}
${sections.join('\n')}
</body></html>`;
}
