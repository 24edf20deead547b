// The monthly report per county and per province: a print-ready HTML page (charts as server-drawn
// SVG), a PDF printed from it by the shared Chromium, or the figures as JSON. Same permission and
// scope as the dashboard: a county official reads their county, the province official the province.
import { route, type HandlerContext, type RouteDef } from '../../http/route.js';
import { COUNTY_CODE, enumOf, obj, str } from '../../shared/schemas/builders.js';
import { AppError } from '../../http/errors.js';
import { COHORT_DAYS, type CohortDays } from '../recovery-rates/aggregation-job.js';
import { ensureFresh } from '../dashboard/dashboard-service.js';
import { htmlToPdf } from './chromium.js';
import { countyMonthlyReport, provinceMonthlyReport } from './monthly-report-service.js';
import { renderCountyReport, renderProvinceReport, type ReportLang } from './report-html.js';

const REPORT_QUERY = obj({
  month: str({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$', description: "The report's calendar month in the county's time zone, YYYY-MM (default: last month)", examples: ['2026-02'] }),
  format: enumOf(['html', 'pdf', 'json'], 'html (default): print-ready page; pdf: the same page printed by Chromium (A4); json: the figures'),
  lang: enumOf(['zh', 'en'], 'Language of the page (default zh)'),
  days: enumOf(COHORT_DAYS.map(String), 'N of the cohort rate (default 90)'),
}, ['month', 'format', 'lang', 'days']);
const PROVINCE = str({ pattern: '^[1-8][0-9]0000$', description: 'Province code (GB/T 2260)', examples: ['510000'] });

const RESPONSES = {
  200: { description: 'The report: text/html, application/pdf or JSON by format', contentType: 'text/html; charset=utf-8' },
  422: { description: 'REPORT_MONTH_IN_FUTURE' },
  503: { description: 'REPORT_PDF_UNAVAILABLE' },
};

type Query = { month?: string; format?: 'html' | 'pdf' | 'json'; lang?: ReportLang; days?: string };

async function answer(ctx: HandlerContext<any, Query, any>, name: string, figures: unknown, html: () => string) {
  const format = ctx.query.format ?? 'html';
  if (format === 'json') return { body: figures };
  const page = html();
  const headers = { 'Cache-Control': 'private, no-store' };
  if (format === 'html') return { contentType: 'text/html; charset=utf-8', body: page, headers };
  let pdf: Buffer;
  try {
    pdf = await htmlToPdf(page);
  } catch (err) {
    if (err instanceof AppError) throw err;
    ctx.log.error({ err }, 'monthly report PDF failed');
    throw new AppError('REPORT_PDF_UNAVAILABLE');
  }
  return { contentType: 'application/pdf', body: pdf, headers: { ...headers, 'Content-Disposition': `inline; filename="${name}.pdf"` } };
}

const days = (q: Query): CohortDays => Number(q.days ?? 90) as CohortDays;

export const monthlyReportRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/counties/:countyId/reports/monthly', tag: 'dashboard', auth: { permission: 'dashboard:read' },
    summary: 'Monthly report of a county: rates with definitions, trend, custody funnel, shops, exceptions, open issues (HTML, PDF or JSON; Chinese or English)',
    params: obj({ countyId: COUNTY_CODE }), query: REPORT_QUERY, responses: RESPONSES,
    handler: async (ctx) => {
      const knex = ctx.deps.db.knex;
      const now = ctx.deps.clock.now();
      await ensureFresh(knex, ctx.params.countyId, now);
      const r = await countyMonthlyReport(knex, ctx.params.countyId, { ...(ctx.query.month ? { month: ctx.query.month } : {}), days: days(ctx.query) }, now);
      const lang: ReportLang = ctx.query.lang ?? 'zh';
      return answer(ctx, `monthly-report-${r.county.id}-${r.month}-${lang}`, r, () => renderCountyReport(r, lang));
    },
  }),
  route({
    method: 'get', path: '/api/v1/provinces/:provinceCode/reports/monthly', tag: 'dashboard',
    auth: { permission: 'dashboard:read', target: (ctx) => ({ countyId: ctx.params.provinceCode }) },
    summary: 'Monthly report of a province: the counties compared, province trend, reconciliation status (HTML, PDF or JSON; Chinese or English)',
    params: obj({ provinceCode: PROVINCE }), query: REPORT_QUERY, responses: RESPONSES,
    handler: async (ctx) => {
      const knex = ctx.deps.db.knex;
      const now = ctx.deps.clock.now();
      const counties = (await knex('counties').where({ province_code: ctx.params.provinceCode, active: true }).select('id')) as Array<{ id: string }>;
      for (const c of counties) await ensureFresh(knex, c.id, now);
      const r = await provinceMonthlyReport(knex, ctx.params.provinceCode, { ...(ctx.query.month ? { month: ctx.query.month } : {}), days: days(ctx.query) }, now);
      const lang: ReportLang = ctx.query.lang ?? 'zh';
      return answer(ctx, `monthly-report-${r.province.code}-${r.month}-${lang}`, r, () => renderProvinceReport(r, lang));
    },
  }),
];
