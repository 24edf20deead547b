// The report's charts, drawn on the server by ECharts' SSR renderer as SVG strings (no browser, no
// script in the page): the same library and chart kinds as the live dashboard.
import * as echarts from 'echarts';
import type { TrendPoint } from '../recovery-rates/recovery-rates.js';

export interface ChartText {
  sold: string;
  returned: string;
  periodRate: string;
  cohortRate: string;
  units: string;
}

const FONT = { fontFamily: 'WenQuanYi Micro Hei, Noto Sans CJK SC, Microsoft YaHei, sans-serif' };

function render(option: echarts.EChartsCoreOption, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, textStyle: FONT, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** Sold and returned per month (bars, containers) with the period and cohort rates (lines, %). */
export function trendChart(trend: TrendPoint[], t: ChartText, width = 680, height = 280): string {
  return render({
    legend: { top: 0, data: [t.sold, t.returned, t.periodRate, t.cohortRate] },
    grid: { left: 56, right: 56, top: 40, bottom: 36 },
    xAxis: { type: 'category', data: trend.map((p) => p.month), axisLabel: { interval: 0, fontSize: 10 } },
    yAxis: [{ type: 'value', name: t.units, minInterval: 1 }, { type: 'value', name: '%', min: 0 }],
    series: [
      { name: t.sold, type: 'bar', data: trend.map((p) => p.soldUnits) },
      { name: t.returned, type: 'bar', data: trend.map((p) => p.returnedUnits) },
      { name: t.periodRate, type: 'line', yAxisIndex: 1, data: trend.map((p) => p.periodRatePct) },
      { name: t.cohortRate, type: 'line', yAxisIndex: 1, data: trend.map((p) => p.cohortRatePct) },
    ],
  }, width, height);
}

/** One horizontal bar per custody stage, each labelled with its count and unit. */
export function funnelChart(stages: Array<{ label: string; value: number }>, unit: string, width = 680, height = 200): string {
  return render({
    grid: { left: 110, right: 90, top: 10, bottom: 24 },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', inverse: true, data: stages.map((s) => s.label) },
    series: [{ type: 'bar', data: stages.map((s) => s.value), label: { show: true, position: 'right', formatter: `{c} ${unit}` } }],
  }, width, height);
}

/** Counties side by side: period and cohort rate of the month (%). */
export function countiesChart(rows: Array<{ name: string; periodRatePct: number | null; cohortRatePct: number | null }>, t: ChartText, width = 680, height = 280): string {
  return render({
    legend: { top: 0, data: [t.periodRate, t.cohortRate] },
    grid: { left: 56, right: 24, top: 40, bottom: 48 },
    xAxis: { type: 'category', data: rows.map((r) => r.name), axisLabel: { interval: 0, rotate: rows.length > 8 ? 30 : 0 } },
    yAxis: { type: 'value', name: '%', min: 0 },
    series: [
      { name: t.periodRate, type: 'bar', data: rows.map((r) => r.periodRatePct) },
      { name: t.cohortRate, type: 'bar', data: rows.map((r) => r.cohortRatePct) },
    ],
  }, width, height);
}
