// The three recovery rates of DESIGN rule 10, each with its definition, per county, township, shop,
// product or manufacturer, read from the maintained monthly aggregates (never from the raw rows).
import type { Knex } from 'knex';
import { addDays, addMonths, lastDayOfMonth } from '../../shared/business-day.js';
import { AppError } from '../../http/errors.js';
import { COHORT_DAYS, type CohortDays } from './aggregation-job.js';

export type RateDimension = 'county' | 'township' | 'shop' | 'product' | 'manufacturer';
export const RATE_DIMENSIONS: readonly RateDimension[] = ['county', 'township', 'shop', 'product', 'manufacturer'];

export interface RateDefinition {
  key: 'cohort' | 'period' | 'mass';
  label_zh: string;
  label_en: string;
  definition_zh: string;
  definition_en: string;
}

export function rateDefinitions(days: CohortDays): RateDefinition[] {
  return [
    {
      key: 'cohort', label_zh: `批次回收率（${days}天）`, label_en: `Cohort recovery (${days} days)`,
      definition_zh: `某月收取押金售出的包装中，在售出后${days}天内被回收的比例；只计已满${days}天的月份。`,
      definition_en: `Of the containers sold with deposit in a month, the share returned within ${days} days of sale; only months whose ${days} days have passed count.`,
    },
    {
      key: 'period', label_zh: '同期回收率', label_en: 'Period recovery',
      definition_zh: '期间内回收的包装数 ÷ 同期收取押金售出的包装数；回收可来自往年销售，故可超过100%。',
      definition_en: 'Containers returned in the period ÷ containers sold with deposit in the same period; returns may come from earlier sales, so it can exceed 100%.',
    },
    {
      key: 'mass', label_zh: '重量回收率', label_en: 'Recovery by mass',
      definition_zh: '回收包装的重量 ÷ 同期投放市场包装的重量（千克，按包装物皮重计算）。',
      definition_en: 'Kilograms of packaging collected ÷ kilograms placed on the market in the same period, from container tare weights.',
    },
  ];
}

export interface RateRow {
  key: string;
  name: string;
  soldUnits: number;
  returnedUnits: number;
  soldKg: number;
  returnedKg: number;
  /** Cohort base and returns: months complete for the chosen N only. */
  cohortSoldUnits: number;
  cohortReturnedUnits: number;
  /** Percent with one decimal; null when there is no base. */
  periodRatePct: number | null;
  cohortRatePct: number | null;
  massRatePct: number | null;
}

export interface RatesQuery {
  countyIds: string[];
  from: string; // YYYY-MM, inclusive
  to: string; // YYYY-MM, inclusive
  days: CohortDays;
  by: RateDimension;
  shopId?: string;
  /** "Today" in the county: a cohort month counts once it ended `days` days before it. */
  asOfDay: string; // YYYY-MM-DD
}

export function pct(num: number, den: number): number | null {
  if (den <= 0) return null;
  return Math.round((num * 1000) / den) / 10;
}

/** A month of the years 1900–2999, as the routes' schemas take it. */
const MONTH = /^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$/;

export function checkMonthRange(from: string, to: string): void {
  const bad: Array<{ field: string; code: string; message: string }> = [];
  if (!MONTH.test(from)) bad.push({ field: '/query/from', code: 'format', message: 'expected YYYY-MM of the years 1900–2999' });
  if (!MONTH.test(to)) bad.push({ field: '/query/to', code: 'format', message: 'expected YYYY-MM of the years 1900–2999' });
  if (!bad.length && from > to) bad.push({ field: '/query/to', code: 'range', message: 'to is before from' });
  if (bad.length) throw new AppError('INVALID_MONTH_RANGE', undefined, bad);
}

/** The last month whose N-day cohort window has closed by asOfDay. */
export function lastCompleteCohortMonth(asOfDay: string, days: number): string {
  const limit = addDays(asOfDay, -days); // month end must be on or before this day (calendar days)
  const month = limit.slice(0, 7);
  // The month containing `limit` is complete only if limit is its last day.
  return limit === lastDayOfMonth(month) ? month : addMonths(month, -1);
}

export function withRates(r: Omit<RateRow, 'periodRatePct' | 'cohortRatePct' | 'massRatePct'>): RateRow {
  return {
    ...r,
    periodRatePct: pct(r.returnedUnits, r.soldUnits),
    cohortRatePct: pct(r.cohortReturnedUnits, r.cohortSoldUnits),
    massRatePct: pct(r.returnedKg, r.soldKg),
  };
}

export async function recoveryRates(knex: Knex, q: RatesQuery): Promise<RateRow[]> {
  checkMonthRange(q.from, q.to);
  if (!COHORT_DAYS.includes(q.days)) throw new AppError('INVALID_MONTH_RANGE', 'days must be one of 30, 90, 180, 365');
  const cohortTo = lastCompleteCohortMonth(q.asOfDay, q.days);
  const b: Record<string, unknown> = { from: q.from, to: q.to, cohortTo };
  const cohortCol = `cohort_returned_${q.days}`;
  const sums = `
    sum(m.sold_units)::bigint AS sold, sum(m.returned_units)::bigint AS returned,
    sum(m.sold_mass_g)::bigint AS sold_g, sum(m.returned_mass_g)::bigint AS returned_g,
    coalesce(sum(m.sold_units) FILTER (WHERE m.month <= :cohortTo), 0)::bigint AS cohort_sold,
    coalesce(sum(m.${cohortCol}) FILTER (WHERE m.month <= :cohortTo), 0)::bigint AS cohort_returned`;
  const counties = q.countyIds.map((_, i) => `:c${i}`).join(', ');
  q.countyIds.forEach((c, i) => (b[`c${i}`] = c));
  let sql: string;
  if (q.by === 'county') {
    sql = `SELECT m.county_id AS key, max(c.name_zh) AS name, ${sums}
             FROM recovery_county_monthly m JOIN counties c ON c.id = m.county_id
            WHERE m.county_id IN (${counties}) AND m.month >= :from AND m.month <= :to GROUP BY m.county_id ORDER BY m.county_id`;
  } else {
    const dims: Record<Exclude<RateDimension, 'county'>, { key: string; name: string; join: string }> = {
      township: { key: 'sh.township_id', name: 'max(tw.name_zh)', join: 'JOIN shops sh ON sh.county_id = m.county_id AND sh.id = m.shop_id JOIN townships tw ON tw.county_id = sh.county_id AND tw.id = sh.township_id' },
      shop: { key: 'm.shop_id', name: 'max(sh.name)', join: 'JOIN shops sh ON sh.county_id = m.county_id AND sh.id = m.shop_id' },
      product: { key: 'm.product_id', name: "max(p.name || ' ' || p.pack_size_label)", join: 'JOIN products p ON p.county_id = m.county_id AND p.id = m.product_id' },
      manufacturer: { key: 'p.manufacturer', name: 'p.manufacturer', join: 'JOIN products p ON p.county_id = m.county_id AND p.id = m.product_id' },
    };
    const d = dims[q.by];
    const shopFilter = q.shopId ? 'AND m.shop_id = :shopId' : '';
    if (q.shopId) b.shopId = q.shopId;
    sql = `SELECT ${d.key}::text AS key, ${d.name} AS name, ${sums}
             FROM recovery_monthly m ${d.join}
            WHERE m.county_id IN (${counties}) AND m.month >= :from AND m.month <= :to ${shopFilter}
            GROUP BY ${d.key} ORDER BY ${d.key}`;
  }
  const rows = (await knex.raw(sql, b)).rows as Array<Record<string, string>>;
  return rows.map((r) => withRates({
    key: String(r.key), name: String(r.name ?? ''),
    soldUnits: Number(r.sold ?? 0), returnedUnits: Number(r.returned ?? 0),
    soldKg: Number(r.sold_g ?? 0) / 1000, returnedKg: Number(r.returned_g ?? 0) / 1000,
    cohortSoldUnits: Number(r.cohort_sold ?? 0), cohortReturnedUnits: Number(r.cohort_returned ?? 0),
  }));
}

export interface TrendPoint {
  month: string;
  soldUnits: number;
  returnedUnits: number;
  periodRatePct: number | null;
  cohortRatePct: number | null;
  cohortComplete: boolean;
  massRatePct: number | null;
}

/** Month by month for one or more counties (optionally one shop). */
export async function recoveryTrend(knex: Knex, q: Omit<RatesQuery, 'by'>): Promise<TrendPoint[]> {
  checkMonthRange(q.from, q.to);
  const cohortTo = lastCompleteCohortMonth(q.asOfDay, q.days);
  const b: Record<string, unknown> = { from: q.from, to: q.to };
  q.countyIds.forEach((c, i) => (b[`c${i}`] = c));
  const counties = q.countyIds.map((_, i) => `:c${i}`).join(', ');
  const table = q.shopId ? 'recovery_monthly' : 'recovery_county_monthly';
  if (q.shopId) b.shopId = q.shopId;
  const rows = (await knex.raw(`
    SELECT month, sum(sold_units)::bigint AS sold, sum(returned_units)::bigint AS returned, sum(sold_mass_g)::bigint AS sold_g,
           sum(returned_mass_g)::bigint AS returned_g, sum(cohort_returned_${q.days})::bigint AS cohort
      FROM ${table} WHERE county_id IN (${counties}) AND month >= :from AND month <= :to ${q.shopId ? 'AND shop_id = :shopId' : ''}
     GROUP BY month ORDER BY month`, b)).rows as Array<Record<string, string>>;
  const byMonth = new Map(rows.map((r) => [r.month, r]));
  const out: TrendPoint[] = [];
  // Months compared as numbers: a text comparison would never end after 9999-12 ('10000-01' < '9999-12').
  const index = (m: string) => Number(m.slice(0, -3)) * 12 + Number(m.slice(-2));
  for (let m = q.from; index(m) <= index(q.to); m = nextMonth(m)) {
    const r = byMonth.get(m);
    const sold = Number(r?.sold ?? 0);
    const complete = m <= cohortTo;
    out.push({
      month: m, soldUnits: sold, returnedUnits: Number(r?.returned ?? 0),
      periodRatePct: pct(Number(r?.returned ?? 0), sold),
      cohortRatePct: complete ? pct(Number(r?.cohort ?? 0), sold) : null, cohortComplete: complete,
      massRatePct: pct(Number(r?.returned_g ?? 0), Number(r?.sold_g ?? 0)),
    });
  }
  return out;
}

export function nextMonth(m: string): string {
  const [y, mo] = m.split('-').map(Number) as [number, number];
  return mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, '0')}`;
}
