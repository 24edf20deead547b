// The monthly report per county and per province: a print-ready HTML page (charts as server-drawn
// SVG), a PDF printed from it by the shared Chromium, or the figures as JSON. Same permission and
// scope as the dashboard: a county official reads their county, the province official the province.
import { route, type HandlerContext, type RouteDef } from '../../http/route.js';
import { COUNTY_CODE, arr, date, dateTime, enumOf, int, nullable, obj, str, uuid } from '../../shared/schemas/builders.js';
import { DEFINITIONS, FUNNEL, MONTH, PCT, PROVINCE_COUNTY_PROPS, SHOP_ROW, TILES, TREND, UNITS } from '../dashboard/dashboard-schemas.js';
import { AppError } from '../../http/errors.js';
import { COHORT_DAYS, type CohortDays } from '../recovery-rates/aggregation-job.js';
import { ensureFresh } from '../dashboard/dashboard-service.js';
import { htmlToPdf } from './chromium.js';
import { countyMonthlyReport, provinceMonthlyReport } from './monthly-report-service.js';
import { renderCountyReport, renderProvinceReport, type ReportLang } from './report-html.js';

const REPORT_QUERY = obj({
  month: str({ pattern: '^(?:19|2[0-9])[0-9]{2}-(?:0[1-9]|1[0-2])$', description: "The report's calendar month in the county's time zone, YYYY-MM of the years 1900–2999 (default: last month); otherwise 400 VALIDATION_FAILED", examples: ['2026-02'] }),
  format: enumOf(['html', 'pdf', 'json'], 'html (default): print-ready page; pdf: the same page printed by Chromium (A4); json: the figures'),
  lang: enumOf(['zh', 'en'], 'Language of the page (default zh)'),
  days: enumOf(COHORT_DAYS.map(String), 'N of the cohort rate (default 90)'),
}, ['month', 'format', 'lang', 'days']);
const PROVINCE = str({ pattern: '^[1-8][0-9]0000$', description: 'Province code (GB/T 2260)', examples: ['510000'] });

const RATE_FIGURES = obj({
  soldUnits: UNITS('Sold with deposit'), returnedUnits: UNITS('Returned'),
  soldKg: { type: 'number', description: 'kg' }, returnedKg: { type: 'number', description: 'kg' },
  cohortSoldUnits: UNITS('Cohort base'), cohortReturnedUnits: UNITS('Cohort returned within N days'),
  periodRatePct: PCT, cohortRatePct: PCT, massRatePct: PCT,
});
const REPORT_COMMON = {
  month: MONTH,
  days: { type: 'integer', enum: [...COHORT_DAYS], description: 'N of the cohort rate' },
  generatedAt: dateTime(),
  generatedAtLocal: str({ description: 'generatedAt in the time zone, YYYY-MM-DD HH:mm' }),
  asOfDay: date(),
  definitions: DEFINITIONS,
  rates: obj({ month: RATE_FIGURES, yearToDate: RATE_FIGURES }),
  trend: TREND,
};

/** format=json of the county report (CountyMonthlyReport). */
const COUNTY_REPORT = obj({
  kind: enumOf(['county']),
  county: obj({ id: COUNTY_CODE, nameZh: str(), nameEn: str(), prefectureZh: str(), provinceZh: str(), timeZone: str() }),
  ...REPORT_COMMON,
  tiles: TILES,
  funnel: FUNNEL,
  shops: arr(SHOP_ROW),
  run: nullable(obj({
    id: uuid(), period: str(), runAt: dateTime(), runAtLocal: str(), errorCount: int({ min: 0 }), exceptionCount: int({ min: 0 }),
    exceptions: arr(obj({
      severity: enumOf(['error', 'warning', 'info']), kind: str(), book: enumOf(['money', 'units', 'custody']),
      shopId: nullable(uuid()), shopName: nullable(str()), messageZh: str(), messageEn: str(), records: int({ min: 0 }),
    })),
  })),
  openIssues: arr(obj({
    key: enumOf(['open_discrepancies', 'overdue_bags', 'refunds_held', 'likely_counterfeit', 'returns_above_sales', 'reconciliation_errors', 'no_reconciliation']),
    count: int({ min: 0 }),
    shops: arr(str(), {}),
  })),
});

/** format=json of the province report (ProvinceMonthlyReport). */
const PROVINCE_REPORT = obj({
  kind: enumOf(['province']),
  province: obj({ code: COUNTY_CODE, nameZh: str(), timeZone: str() }),
  ...REPORT_COMMON,
  counties: arr(obj({
    ...PROVINCE_COUNTY_PROPS,
    yearToDate: obj({ periodRatePct: PCT, cohortRatePct: PCT, massRatePct: PCT }),
    run: nullable(obj({ runAtLocal: str(), errorCount: int({ min: 0 }), exceptionCount: int({ min: 0 }) })),
  })),
  openIssues: arr(obj({ key: enumOf(['no_reconciliation', 'reconciliation_errors']), counties: arr(obj({ nameZh: str(), nameEn: str() })) })),
});

const responses = (json: typeof COUNTY_REPORT) => ({
  200: {
    description: 'The report: a print-ready page (format=html, the default), the same page as A4 PDF (format=pdf) or the figures (format=json)',
    contentType: 'text/html; charset=utf-8',
    alternatives: [{ contentType: 'application/pdf', schema: { type: 'string', contentMediaType: 'application/pdf' } }, { contentType: 'application/json', schema: json }],
  },
  404: { description: 'NOT_FOUND: no such county or province on this server' },
  422: { description: 'REPORT_MONTH_IN_FUTURE' },
  503: { description: 'REPORT_PDF_UNAVAILABLE (the PDF printer is not available) or DATABASE_UNAVAILABLE' },
});

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
    params: obj({ countyId: COUNTY_CODE }), query: REPORT_QUERY, responses: responses(COUNTY_REPORT),
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
    params: obj({ provinceCode: PROVINCE }), query: REPORT_QUERY, responses: responses(PROVINCE_REPORT),
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
