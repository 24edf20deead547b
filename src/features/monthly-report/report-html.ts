// The monthly report as one self-contained, print-ready HTML page (A4, inline CSS, charts as inline
// SVG, no script): what the browser prints and what Chromium turns into the PDF.
import { countiesChart, funnelChart, trendChart, type ChartText } from './report-charts.js';
import type { CountyMonthlyReport, OpenIssue, ProvinceMonthlyReport } from './monthly-report-service.js';

export type ReportLang = 'zh' | 'en';

const TEXT = {
  zh: {
    countyTitle: (r: CountyMonthlyReport) => `${r.county.nameZh}农药包装废弃物回收月报`,
    provinceTitle: (r: ProvinceMonthlyReport) => `${r.province.nameZh}农药包装废弃物回收月报`,
    monthLabel: (m: string) => `${m.slice(0, 4)}年${Number(m.slice(5, 7))}月`,
    place: (r: CountyMonthlyReport) => `${r.county.provinceZh} ${r.county.prefectureZh} ${r.county.nameZh}（${r.county.id}）`,
    generated: '生成时间', timeZone: '时区', cohortDays: '批次回收天数', asOf: '数据截至',
    rates: '一、回收率', thisMonth: '本月', ytd: '本年累计', sold: '收押销售（个）', returned: '回收（个）', soldKg: '投放重量（千克）', returnedKg: '回收重量（千克）',
    definitions: '定义', trend: '二、月度趋势（近12个月）', funnel: '三、回收链条', funnelScope: (s: string) => (s === 'all_time' ? '累计（全部时间），各环节均为包装个数' : s === 'period' ? '同一期间（报告月份）内各环节的包装个数；本期回收、收运、处置的可能是以前售出或回收的包装，故某环节可多于上一环节' : `口径：${s}`),
    stage: '环节', count: '数量', units: '个', soldStage: '收押销售', returnedStage: '回收', hauledStage: '已收运', disposedStage: '已处置',
    shops: '四、店铺', shop: '店铺', township: '乡镇', periodRate: '同期回收率', cohortRate: '批次回收率', massRate: '重量回收率', atShop: '店内待收运（个）', bags: '待收运袋数', flags: '标记',
    flag: { returns_above_sales: '回收多于销售', overdue_pickup: '逾期未收运', likely_counterfeit: '疑似假码', refunds_held: '退款待审核' } as Record<string, string>,
    exceptions: '五、本月对账异常', noRun: (m: string) => `${m} 尚无对账记录。`, runLine: (r: NonNullable<CountyMonthlyReport['run']>) => `对账 ${r.period}，运行于 ${r.runAtLocal}：${r.exceptionCount} 项异常，其中 ${r.errorCount} 项错误。`,
    noExceptions: '无异常。', severity: '级别', kind: '类别', book: '账目', message: '说明', records: '记录数',
    sev: { error: '错误', warning: '警告', info: '提示' } as Record<string, string>, books: { money: '资金', units: '数量', custody: '保管' } as Record<string, string>,
    issues: '六、待解决事项', noIssues: '无待解决事项。',
    issue: (i: OpenIssue) => ({
      open_discrepancies: `未结保管差异 ${i.count} 项`,
      overdue_bags: `逾期未收运 ${i.count} 袋`,
      refunds_held: `${i.count} 家店铺有待审核退款`,
      likely_counterfeit: `${i.count} 家店铺本月收到疑似假码`,
      returns_above_sales: `${i.count} 家店铺本月回收多于销售`,
      reconciliation_errors: `本月对账有 ${i.count} 项错误`,
      no_reconciliation: '本月尚未对账',
    })[i.key],
    outstanding: '未退押金（元）', openDiscrepancies: '未结差异',
    counties: '三、各县', county: '县', deposits: '未退押金（元）', run: '本月对账', noRunShort: '未对账', runShort: (x: { exceptionCount: number; errorCount: number }) => `${x.exceptionCount} 项异常（${x.errorCount} 项错误）`,
    provIssue: (k: string, names: string[]) => (k === 'no_reconciliation' ? `尚未对账：${names.join('、')}` : `对账有错误：${names.join('、')}`),
    provTrend: '二、全省月度趋势（近12个月）', provExceptions: '四、待解决事项',
    footer: '本报告由县级服务器根据维护的汇总数据生成；所有日期均按县所在时区计算。',
  },
  en: {
    countyTitle: (r: CountyMonthlyReport) => `${r.county.nameEn}: monthly report on pesticide packaging recovery`,
    provinceTitle: (r: ProvinceMonthlyReport) => `${r.province.nameZh} (${r.province.code}): monthly report on pesticide packaging recovery`,
    monthLabel: (m: string) => `${['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'][Number(m.slice(5, 7)) - 1]} ${m.slice(0, 4)}`,
    place: (r: CountyMonthlyReport) => `${r.county.nameEn} ${r.county.nameZh} (${r.county.id}), ${r.county.prefectureZh}, ${r.county.provinceZh}`,
    generated: 'Generated', timeZone: 'Time zone', cohortDays: 'Cohort days', asOf: 'Figures as of',
    rates: '1. Recovery rates', thisMonth: 'This month', ytd: 'Year to date', sold: 'Sold with deposit (containers)', returned: 'Returned (containers)', soldKg: 'Placed on the market (kg)', returnedKg: 'Collected (kg)',
    definitions: 'Definitions', trend: '2. Trend (last 12 months)', funnel: '3. Custody funnel', funnelScope: (s: string) => (s === 'all_time' ? 'Cumulative (all time); every stage in containers' : s === 'period' ? 'Containers at each stage in the same period (the report\'s month); returns, hauls and disposals may be of earlier containers, so a stage can exceed the one before it' : `Scope: ${s}`),
    stage: 'Stage', count: 'Count', units: 'containers', soldStage: 'Sold with deposit', returnedStage: 'Returned', hauledStage: 'Hauled', disposedStage: 'Disposed',
    shops: '4. Shops', shop: 'Shop', township: 'Township', periodRate: 'Period recovery', cohortRate: 'Cohort recovery', massRate: 'Recovery by mass', atShop: 'Awaiting pickup (containers)', bags: 'Bags awaiting pickup', flags: 'Flags',
    flag: { returns_above_sales: 'returns above sales', overdue_pickup: 'overdue pickup', likely_counterfeit: 'likely counterfeit codes', refunds_held: 'refunds held for review' } as Record<string, string>,
    exceptions: "5. Exceptions of the month's reconciliation", noRun: (m: string) => `No reconciliation has been run for ${m}.`, runLine: (r: NonNullable<CountyMonthlyReport['run']>) => `Reconciliation ${r.period}, run ${r.runAtLocal}: ${r.exceptionCount} exception(s), ${r.errorCount} error(s).`,
    noExceptions: 'No exceptions.', severity: 'Severity', kind: 'Kind', book: 'Book', message: 'Message', records: 'Records',
    sev: { error: 'error', warning: 'warning', info: 'info' } as Record<string, string>, books: { money: 'money', units: 'units', custody: 'custody' } as Record<string, string>,
    issues: '6. Open issues', noIssues: 'No open issues.',
    issue: (i: OpenIssue) => ({
      open_discrepancies: `${i.count} open custody discrepancy(ies)`,
      overdue_bags: `${i.count} bag(s) overdue for pickup`,
      refunds_held: `${i.count} shop(s) with refunds held for review`,
      likely_counterfeit: `${i.count} shop(s) took likely counterfeit codes this month`,
      returns_above_sales: `${i.count} shop(s) took back more than they sold this month`,
      reconciliation_errors: `${i.count} error(s) in this month's reconciliation`,
      no_reconciliation: 'This month has not been reconciled',
    })[i.key],
    outstanding: 'Deposits outstanding (yuan)', openDiscrepancies: 'Open discrepancies',
    counties: '3. Counties', county: 'County', deposits: 'Deposits outstanding (yuan)', run: "Month's reconciliation", noRunShort: 'not run', runShort: (x: { exceptionCount: number; errorCount: number }) => `${x.exceptionCount} exception(s), ${x.errorCount} error(s)`,
    provIssue: (k: string, names: string[]) => (k === 'no_reconciliation' ? `Not reconciled: ${names.join(', ')}` : `Reconciliation errors: ${names.join(', ')}`),
    provTrend: '2. Province trend (last 12 months)', provExceptions: '4. Open issues',
    footer: "Generated by the county server from its maintained aggregates; every date is in the county's time zone.",
  },
};

export const esc = (s: unknown): string => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
/** Percent with one decimal as the API gives it ("33.3%"), or a dash when there is no base. */
export const fmtPct = (v: number | null): string => (v === null ? '—' : `${v.toFixed(1)}%`);
export const fmtInt = (n: number): string => n.toLocaleString('en-US');
export const fmtYuan = (fen: number): string => `${fen < 0 ? '-' : ''}${Math.floor(Math.abs(fen) / 100).toLocaleString('en-US')}.${String(Math.abs(fen) % 100).padStart(2, '0')}`;
const fmtKg = (kg: number): string => kg.toLocaleString('en-US', { maximumFractionDigits: 3 });

const CSS = `
@page { size: A4; margin: 14mm 12mm 16mm; }
* { box-sizing: border-box; }
body { font-family: 'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif; color: #111; margin: 0 auto; max-width: 190mm; font-size: 10.5pt; line-height: 1.45; }
h1 { font-size: 17pt; margin: 0 0 2mm; } h2 { font-size: 12.5pt; margin: 6mm 0 2mm; border-bottom: 1px solid #888; padding-bottom: 1mm; break-after: avoid; }
.meta { color: #333; margin: 0 0 3mm; } .meta span { margin-right: 5mm; white-space: nowrap; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 2mm; font-size: 9.5pt; } th, td { border: 1px solid #999; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; } thead { display: table-header-group; } tr { break-inside: avoid; }
.chart { break-inside: avoid; margin: 1mm 0; } .chart svg { width: 100%; height: auto; }
dl.defs dt { font-weight: bold; } dl.defs dd { margin: 0 0 1.5mm 0; }
.note { color: #444; font-size: 9pt; } footer { margin-top: 6mm; color: #555; font-size: 8.5pt; border-top: 1px solid #ccc; padding-top: 2mm; }
ul.issues li { margin-bottom: 1mm; }
table.shops, table.counties { font-size: 8.5pt; } table.shops td:nth-child(-n+2), table.counties td:first-child { white-space: nowrap; }
@media screen { body { padding: 10mm; background: #fff; } }
`;

function page(lang: ReportLang, title: string, body: string): string {
  return `<!doctype html>
<html lang="${lang === 'zh' ? 'zh-CN' : 'en'}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head>
<body>
${body}
</body>
</html>
`;
}

function ratesTable(lang: ReportLang, r: CountyMonthlyReport['rates'], defs: CountyMonthlyReport['definitions']): string {
  const label = (key: string) => { const d = defs.find((v) => v.key === key); return d ? (lang === 'zh' ? d.label_zh : d.label_en) : key; };
  const x = TEXT[lang];
  const row = (label: string, key: string, a: string, b: string) => `<tr data-rate="${key}"><th>${esc(label)}</th><td class="n">${a}</td><td class="n">${b}</td></tr>`;
  return `<table class="rates"><thead><tr><th></th><th class="n">${x.thisMonth}</th><th class="n">${x.ytd}</th></tr></thead><tbody>
${row(label('cohort'), 'cohort', fmtPct(r.month.cohortRatePct), fmtPct(r.yearToDate.cohortRatePct))}
${row(label('period'), 'period', fmtPct(r.month.periodRatePct), fmtPct(r.yearToDate.periodRatePct))}
${row(label('mass'), 'mass', fmtPct(r.month.massRatePct), fmtPct(r.yearToDate.massRatePct))}
${row(x.sold, 'sold', fmtInt(r.month.soldUnits), fmtInt(r.yearToDate.soldUnits))}
${row(x.returned, 'returned', fmtInt(r.month.returnedUnits), fmtInt(r.yearToDate.returnedUnits))}
${row(x.soldKg, 'soldKg', fmtKg(r.month.soldKg), fmtKg(r.yearToDate.soldKg))}
${row(x.returnedKg, 'returnedKg', fmtKg(r.month.returnedKg), fmtKg(r.yearToDate.returnedKg))}
</tbody></table>`;
}

function definitions(lang: ReportLang, defs: CountyMonthlyReport['definitions']): string {
  return `<h3>${TEXT[lang].definitions}</h3><dl class="defs">${defs.map((d) => `<dt>${esc(lang === 'zh' ? d.label_zh : d.label_en)}</dt><dd>${esc(lang === 'zh' ? d.definition_zh : d.definition_en)}</dd>`).join('')}</dl>`;
}

const chartText = (lang: ReportLang): ChartText => {
  const x = TEXT[lang];
  return { sold: x.soldStage, returned: x.returnedStage, periodRate: x.periodRate, cohortRate: x.cohortRate, units: x.units };
};

export function renderCountyReport(r: CountyMonthlyReport, lang: ReportLang): string {
  const x = TEXT[lang];
  const title = `${x.countyTitle(r)} · ${x.monthLabel(r.month)}`;
  // The dashboard's funnel: one period, per stage (issue 14); the report shows containers.
  const stageOf = (k: 'sold' | 'returned' | 'hauled' | 'disposed') => r.funnel.stages.find((st) => st.key === k)?.containers ?? 0;
  const stages = [
    { label: x.soldStage, value: stageOf('sold') }, { label: x.returnedStage, value: stageOf('returned') },
    { label: x.hauledStage, value: stageOf('hauled') }, { label: x.disposedStage, value: stageOf('disposed') },
  ];
  const shopRows = r.shops.map((s) => `<tr data-shop="${esc(s.key)}"><td>${esc(s.name)}</td><td>${esc(s.township)}</td><td class="n">${fmtInt(s.soldUnits)}</td><td class="n">${fmtInt(s.returnedUnits)}</td><td class="n">${fmtPct(s.periodRatePct)}</td><td class="n">${fmtPct(s.cohortRatePct)}</td><td class="n">${fmtPct(s.massRatePct)}</td><td class="n">${fmtInt(s.containersAtShop)}</td><td class="n">${fmtInt(s.bagsAwaitingPickup)}</td><td>${s.flags.map((f) => esc(x.flag[f] ?? f)).join('；')}</td></tr>`).join('\n');
  const run = r.run;
  const exceptions = run === null
    ? `<p class="no-run">${esc(x.noRun(r.month))}</p>`
    : `<p>${esc(x.runLine(run))}</p>${run.exceptions.length === 0 ? `<p>${x.noExceptions}</p>` : `<table class="exceptions"><thead><tr><th>${x.severity}</th><th>${x.book}</th><th>${x.kind}</th><th>${x.shop}</th><th>${x.message}</th><th class="n">${x.records}</th></tr></thead><tbody>
${run.exceptions.map((e) => `<tr><td>${esc(x.sev[e.severity] ?? e.severity)}</td><td>${esc(x.books[e.book] ?? e.book)}</td><td>${esc(e.kind)}</td><td>${esc(e.shopName ?? '')}</td><td>${esc(lang === 'zh' ? e.messageZh : e.messageEn)}</td><td class="n">${e.records}</td></tr>`).join('\n')}
</tbody></table>`}`;
  const issues = r.openIssues.length === 0 ? `<p>${x.noIssues}</p>` : `<ul class="issues">${r.openIssues.map((i) => `<li data-issue="${i.key}">${esc(x.issue(i))}${i.shops.length ? `：${esc(i.shops.join('、'))}`.replace('：', lang === 'zh' ? '：' : ': ') : ''}</li>`).join('')}</ul>`;
  const body = `<header>
<h1>${esc(x.countyTitle(r))}</h1>
<p class="meta"><strong class="month">${esc(x.monthLabel(r.month))}</strong> (${esc(r.month)}) · ${esc(x.place(r))}</p>
<p class="meta"><span>${x.generated}: ${esc(r.generatedAtLocal)}</span><span>${x.timeZone}: ${esc(r.county.timeZone)}</span><span>${x.asOf}: ${esc(r.asOfDay)}</span><span>${x.cohortDays}: ${r.days}</span></p>
</header>
<section id="rates"><h2>${x.rates}</h2>
${ratesTable(lang, r.rates, r.definitions)}
<p class="note">${x.outstanding}: ${fmtYuan(r.tiles.depositsOutstandingFen)} · ${x.openDiscrepancies}: ${fmtInt(r.tiles.openDiscrepancies)}</p>
${definitions(lang, r.definitions)}</section>
<section id="trend"><h2>${x.trend}</h2><div class="chart">${trendChart(r.trend, chartText(lang))}</div></section>
<section id="funnel"><h2>${x.funnel}</h2><p class="note">${esc(x.funnelScope(r.funnel.scope))}</p>
<div class="chart">${funnelChart(stages, x.units)}</div>
<table class="funnel"><thead><tr><th>${x.stage}</th><th class="n">${x.count}</th></tr></thead><tbody>${stages.map((s) => `<tr><td>${esc(s.label)}</td><td class="n">${fmtInt(s.value)} ${x.units}</td></tr>`).join('')}</tbody></table></section>
<section id="shops"><h2>${x.shops}</h2>
<table class="shops"><thead><tr><th>${x.shop}</th><th>${x.township}</th><th class="n">${x.sold}</th><th class="n">${x.returned}</th><th class="n">${x.periodRate}</th><th class="n">${x.cohortRate}</th><th class="n">${x.massRate}</th><th class="n">${x.atShop}</th><th class="n">${x.bags}</th><th>${x.flags}</th></tr></thead><tbody>
${shopRows}
</tbody></table></section>
<section id="exceptions"><h2>${x.exceptions}</h2>${exceptions}</section>
<section id="issues"><h2>${x.issues}</h2>${issues}</section>
<footer>${x.footer}</footer>`;
  return page(lang, title, body);
}

export function renderProvinceReport(r: ProvinceMonthlyReport, lang: ReportLang): string {
  const x = TEXT[lang];
  const title = `${x.provinceTitle(r)} · ${x.monthLabel(r.month)}`;
  const name = (c: { nameZh: string; nameEn: string }) => (lang === 'zh' ? c.nameZh : `${c.nameEn} ${c.nameZh}`);
  const rows = r.counties.map((c) => `<tr data-county="${esc(c.countyId)}"><td>${esc(name(c))}</td><td class="n">${fmtInt(c.soldUnits)}</td><td class="n">${fmtInt(c.returnedUnits)}</td><td class="n">${fmtPct(c.periodRatePct)}</td><td class="n">${fmtPct(c.cohortRatePct)}</td><td class="n">${fmtPct(c.massRatePct)}</td><td class="n">${fmtPct(c.yearToDate.periodRatePct)}</td><td class="n">${fmtYuan(c.depositsOutstandingFen)}</td><td>${esc(c.run ? x.runShort(c.run) : x.noRunShort)}</td></tr>`).join('\n');
  const issues = r.openIssues.length === 0 ? `<p>${x.noIssues}</p>` : `<ul class="issues">${r.openIssues.map((i) => `<li data-issue="${i.key}">${esc(x.provIssue(i.key, i.counties.map((c) => (lang === 'zh' ? c.nameZh : c.nameEn))))}</li>`).join('')}</ul>`;
  const body = `<header>
<h1>${esc(x.provinceTitle(r))}</h1>
<p class="meta"><strong class="month">${esc(x.monthLabel(r.month))}</strong> (${esc(r.month)})</p>
<p class="meta"><span>${x.generated}: ${esc(r.generatedAtLocal)}</span><span>${x.timeZone}: ${esc(r.province.timeZone)}</span><span>${x.asOf}: ${esc(r.asOfDay)}</span><span>${x.cohortDays}: ${r.days}</span></p>
</header>
<section id="rates"><h2>${x.rates}</h2>${ratesTable(lang, r.rates, r.definitions)}${definitions(lang, r.definitions)}</section>
<section id="trend"><h2>${x.provTrend}</h2><div class="chart">${trendChart(r.trend, chartText(lang))}</div></section>
<section id="counties"><h2>${x.counties}</h2>
<div class="chart">${countiesChart(r.counties.map((c) => ({ name: lang === 'zh' ? c.nameZh : c.nameEn, periodRatePct: c.periodRatePct, cohortRatePct: c.cohortRatePct })), chartText(lang))}</div>
<table class="counties"><thead><tr><th>${x.county}</th><th class="n">${x.sold}</th><th class="n">${x.returned}</th><th class="n">${x.periodRate}</th><th class="n">${x.cohortRate}</th><th class="n">${x.massRate}</th><th class="n">${x.periodRate} · ${x.ytd}</th><th class="n">${x.deposits}</th><th>${x.run}</th></tr></thead><tbody>
${rows}
</tbody></table></section>
<section id="issues"><h2>${x.provExceptions}</h2>${issues}</section>
<footer>${x.footer}</footer>`;
  return page(lang, title, body);
}
