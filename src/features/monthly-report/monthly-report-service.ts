// The monthly report an official hands up to the prefecture and the province: the figures of one
// calendar month (county time zone) read from the same services the dashboard reads — rates and
// trend (recovery-rates), tiles, funnel and shop table (dashboard-service), the month's
// reconciliation run (reconciliation) — never computed a second way.
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { addMonths, businessDay, businessMonth, DEFAULT_TIME_ZONE, localParts } from '../../shared/business-day.js';
import type { CohortDays } from '../recovery-rates/aggregation-job.js';
import { rateDefinitions, recoveryRates, recoveryTrend, withRates, type RateDefinition, type RateRow, type TrendPoint } from '../recovery-rates/recovery-rates.js';
import { loadRun, type ReconciliationRun } from '../reconciliation/reconciliation-service.js';
import { countySummary, provinceComparison, shopTable, type DashboardRange, type ShopRow } from '../dashboard/dashboard-service.js';

/** Months of trend shown up to and including the report's month. */
export const TREND_MONTHS = 12;

export interface ReportRates {
  month: Pick<RateRow, 'soldUnits' | 'returnedUnits' | 'soldKg' | 'returnedKg' | 'cohortSoldUnits' | 'cohortReturnedUnits' | 'periodRatePct' | 'cohortRatePct' | 'massRatePct'>;
  yearToDate: ReportRates['month'];
}

export interface ReportRunSummary {
  id: string;
  period: string;
  runAt: string;
  /** runAt in the county's time zone, "YYYY-MM-DD HH:mm". */
  runAtLocal: string;
  errorCount: number;
  exceptionCount: number;
  exceptions: Array<{ severity: string; kind: string; book: string; shopId: string | null; shopName: string | null; messageZh: string; messageEn: string; records: number }>;
}

export interface OpenIssue {
  key: 'open_discrepancies' | 'overdue_bags' | 'refunds_held' | 'likely_counterfeit' | 'returns_above_sales' | 'reconciliation_errors' | 'no_reconciliation';
  count: number;
  /** Shops concerned, by name (empty for county-wide issues). */
  shops: string[];
}

export interface CountyMonthlyReport {
  kind: 'county';
  county: { id: string; nameZh: string; nameEn: string; prefectureZh: string; provinceZh: string; timeZone: string };
  month: string;
  days: CohortDays;
  generatedAt: string;
  generatedAtLocal: string;
  asOfDay: string;
  definitions: RateDefinition[];
  rates: ReportRates;
  tiles: Awaited<ReturnType<typeof countySummary>>['tiles'];
  trend: TrendPoint[];
  funnel: Awaited<ReturnType<typeof countySummary>>['funnel'];
  shops: ShopRow[];
  run: ReportRunSummary | null;
  openIssues: OpenIssue[];
}

export interface ProvinceMonthlyReport {
  kind: 'province';
  province: { code: string; nameZh: string; timeZone: string };
  month: string;
  days: CohortDays;
  generatedAt: string;
  generatedAtLocal: string;
  asOfDay: string;
  definitions: RateDefinition[];
  rates: ReportRates;
  trend: TrendPoint[];
  counties: Array<Awaited<ReturnType<typeof provinceComparison>>['counties'][number] & {
    yearToDate: { periodRatePct: number | null; cohortRatePct: number | null; massRatePct: number | null };
    run: { runAtLocal: string; errorCount: number; exceptionCount: number } | null;
  }>;
  openIssues: Array<{ key: 'no_reconciliation' | 'reconciliation_errors'; counties: Array<{ nameZh: string; nameEn: string }> }>;
}

const localTime = (at: Date | string, tz: string): string => {
  const p = localParts(at, tz);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)}`;
};

const ratesOf = (r: RateRow | undefined): ReportRates['month'] => ({
  soldUnits: r?.soldUnits ?? 0, returnedUnits: r?.returnedUnits ?? 0, soldKg: r?.soldKg ?? 0, returnedKg: r?.returnedKg ?? 0,
  cohortSoldUnits: r?.cohortSoldUnits ?? 0, cohortReturnedUnits: r?.cohortReturnedUnits ?? 0,
  periodRatePct: r?.periodRatePct ?? null, cohortRatePct: r?.cohortRatePct ?? null, massRatePct: r?.massRatePct ?? null,
});

/** The month a report may cover: a calendar month not after the county's current month. Default: last month. */
export function reportMonth(month: string | undefined, now: Date, timeZone: string): string {
  const current = businessMonth(now, timeZone);
  const m = month ?? addMonths(current, -1);
  if (m > current) throw new AppError('REPORT_MONTH_IN_FUTURE', `The report month ${m} has not begun (this month is ${current})`, [{ field: '/query/month', code: 'maximum', message: `at most ${current}` }]);
  return m;
}

/** The latest reconciliation run of exactly this period (month), or null. */
async function runForMonth(knex: Knex, countyId: string, month: string): Promise<ReconciliationRun | null> {
  const r = await knex('reconciliation_runs').where({ county_id: countyId, period_key: month }).orderBy([{ column: 'run_at', order: 'desc' }, { column: 'id', order: 'desc' }]).first('id');
  return r ? loadRun(knex, countyId, r.id) : null;
}

export async function countyMonthlyReport(knex: Knex, countyId: string, q: { month?: string; days?: CohortDays }, now: Date): Promise<CountyMonthlyReport> {
  const c = (await knex('counties').where({ id: countyId }).first('id', 'name_zh', 'name_en', 'prefecture_name_zh', 'province_name_zh', 'timezone')) as
    | { id: string; name_zh: string; name_en: string; prefecture_name_zh: string; province_name_zh: string; timezone: string } | undefined;
  if (!c) throw new AppError('NOT_FOUND', `No county ${countyId}`);
  const tz = c.timezone;
  const month = reportMonth(q.month, now, tz);
  const days = q.days ?? 90;
  const asOfDay = businessDay(now, tz);
  const range: DashboardRange = { from: month, to: month, days, asOfDay };
  const base = { countyIds: [countyId], days, asOfDay };
  const summary = await countySummary(knex, countyId, range, now);
  const [ytd] = await recoveryRates(knex, { ...base, from: `${month.slice(0, 4)}-01`, to: month, by: 'county' });
  const [monthRates] = await recoveryRates(knex, { ...base, from: month, to: month, by: 'county' });
  const trend = await recoveryTrend(knex, { ...base, from: addMonths(month, -(TREND_MONTHS - 1)), to: month });
  const shops = await shopTable(knex, countyId, range, now);
  const shopName = new Map(shops.map((s) => [s.key, s.name]));
  const run = await runForMonth(knex, countyId, month);

  const withFlag = (flag: string) => shops.filter((s) => s.flags.includes(flag)).map((s) => s.name);
  const issues: OpenIssue[] = [];
  if (run === null) issues.push({ key: 'no_reconciliation', count: 1, shops: [] });
  else if (run.errorCount > 0) issues.push({ key: 'reconciliation_errors', count: run.errorCount, shops: [] });
  if (summary.tiles.openDiscrepancies > 0) issues.push({ key: 'open_discrepancies', count: summary.tiles.openDiscrepancies, shops: [] });
  const overdue = shops.filter((s) => s.overdueBags > 0);
  if (overdue.length) issues.push({ key: 'overdue_bags', count: overdue.reduce((a, s) => a + s.overdueBags, 0), shops: overdue.map((s) => s.name) });
  for (const key of ['refunds_held', 'likely_counterfeit', 'returns_above_sales'] as const) {
    const names = withFlag(key);
    if (names.length) issues.push({ key, count: names.length, shops: names });
  }

  return {
    kind: 'county',
    county: { id: c.id, nameZh: c.name_zh, nameEn: c.name_en, prefectureZh: c.prefecture_name_zh, provinceZh: c.province_name_zh, timeZone: tz },
    month, days, generatedAt: now.toISOString(), generatedAtLocal: localTime(now, tz), asOfDay,
    definitions: rateDefinitions(days),
    rates: { month: ratesOf(monthRates), yearToDate: ratesOf(ytd) },
    tiles: summary.tiles, trend, funnel: summary.funnel, shops,
    run: run && {
      id: run.id, period: run.period, runAt: run.runAt, runAtLocal: localTime(run.runAt, tz), errorCount: run.errorCount, exceptionCount: run.exceptionCount,
      exceptions: run.exceptions.map((e) => ({ severity: e.severity, kind: e.kind, book: e.book, shopId: e.shopId, shopName: e.shopId ? (shopName.get(e.shopId) ?? null) : null, messageZh: e.messageZh, messageEn: e.messageEn, records: e.records.length })),
    },
    openIssues: issues,
  };
}

export async function provinceMonthlyReport(knex: Knex, provinceCode: string, q: { month?: string; days?: CohortDays }, now: Date): Promise<ProvinceMonthlyReport> {
  const first = (await knex('counties').where({ province_code: provinceCode, active: true }).orderBy('id').first('province_name_zh', 'timezone')) as { province_name_zh: string; timezone: string } | undefined;
  const tz = first?.timezone ?? DEFAULT_TIME_ZONE;
  const month = reportMonth(q.month, now, tz);
  const days = q.days ?? 90;
  const asOfDay = businessDay(now, tz);
  const monthly = await provinceComparison(knex, provinceCode, { from: month, to: month, days, asOfDay });
  const ytd = await provinceComparison(knex, provinceCode, { from: `${month.slice(0, 4)}-01`, to: month, days, asOfDay });
  const ids = monthly.counties.map((x) => x.countyId);
  const trend = ids.length ? await recoveryTrend(knex, { countyIds: ids, from: addMonths(month, -(TREND_MONTHS - 1)), to: month, days, asOfDay }) : [];
  const all = ids.length ? await recoveryRates(knex, { countyIds: ids, from: month, to: month, days, asOfDay, by: 'county' }) : [];
  const allYtd = ids.length ? await recoveryRates(knex, { countyIds: ids, from: `${month.slice(0, 4)}-01`, to: month, days, asOfDay, by: 'county' }) : [];
  // The province's rates are the counties' summed counts with the recovery-rates module's own rate rule.
  const sum = (rows: RateRow[]) => ratesOf(withRates(rows.reduce(
    (a, r) => ({ ...a, soldUnits: a.soldUnits + r.soldUnits, returnedUnits: a.returnedUnits + r.returnedUnits, soldKg: a.soldKg + r.soldKg, returnedKg: a.returnedKg + r.returnedKg, cohortSoldUnits: a.cohortSoldUnits + r.cohortSoldUnits, cohortReturnedUnits: a.cohortReturnedUnits + r.cohortReturnedUnits }),
    { key: provinceCode, name: provinceCode, soldUnits: 0, returnedUnits: 0, soldKg: 0, returnedKg: 0, cohortSoldUnits: 0, cohortReturnedUnits: 0 },
  )));
  const ytdById = new Map(ytd.counties.map((x) => [x.countyId, x]));
  const counties: ProvinceMonthlyReport['counties'] = [];
  for (const x of monthly.counties) {
    const run = await runForMonth(knex, x.countyId, month);
    const y = ytdById.get(x.countyId);
    counties.push({
      ...x,
      yearToDate: { periodRatePct: y?.periodRatePct ?? null, cohortRatePct: y?.cohortRatePct ?? null, massRatePct: y?.massRatePct ?? null },
      run: run && { runAtLocal: localTime(run.runAt, tz), errorCount: run.errorCount, exceptionCount: run.exceptionCount },
    });
  }
  const openIssues: ProvinceMonthlyReport['openIssues'] = [];
  const names = (x: { nameZh: string; nameEn: string }) => ({ nameZh: x.nameZh, nameEn: x.nameEn });
  const noRun = counties.filter((x) => x.run === null).map(names);
  if (noRun.length) openIssues.push({ key: 'no_reconciliation', counties: noRun });
  const errors = counties.filter((x) => (x.run?.errorCount ?? 0) > 0).map(names);
  if (errors.length) openIssues.push({ key: 'reconciliation_errors', counties: errors });
  return {
    kind: 'province',
    province: { code: provinceCode, nameZh: first?.province_name_zh ?? provinceCode, timeZone: tz },
    month, days, generatedAt: now.toISOString(), generatedAtLocal: localTime(now, tz), asOfDay,
    definitions: rateDefinitions(days),
    rates: { month: sum(all), yearToDate: sum(allYtd) },
    trend, counties, openIssues,
  };
}
