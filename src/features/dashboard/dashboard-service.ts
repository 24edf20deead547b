// Figures for the officials' dashboard, as compact JSON: everything comes from the maintained
// aggregates (recovery_*), the ledger's account balances and the custody bags' current state, so a
// county page costs a handful of indexed reads however many containers the county has sold.
import { businessDay, DEFAULT_TIME_ZONE, lastDayOfMonth } from '../../shared/business-day.js';
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { maskPhone } from '../../shared/phone.js';
import { returnBuybackFenSql } from '../returns/return-store.js';
import { recordedSince, refreshRecoveryAggregates, type CohortDays } from '../recovery-rates/aggregation-job.js';
import { checkMonthRange, rateDefinitions, recoveryRates, recoveryTrend, type RateRow } from '../recovery-rates/recovery-rates.js';
import { custodyTablesExist, PICKUP_OVERDUE_DAYS } from '../reconciliation/custody-book.js';
import { EXCEPTION_REASONS } from './plain-words.js';

export interface DashboardRange {
  from: string;
  to: string;
  days: CohortDays;
  asOfDay: string;
}

/** Default range: January to this month of the county's year; complete cohorts judged from the county's today. */
export function resolveRange(q: { from?: string; to?: string; days?: string | number }, now: Date, timeZone: string = DEFAULT_TIME_ZONE): DashboardRange {
  const today = businessDay(now, timeZone);
  const days = Number(q.days ?? 90) as CohortDays;
  const from = q.from ?? `${today.slice(0, 4)}-01`;
  const to = q.to ?? today.slice(0, 7);
  // Every view checks its range here, before any figure is read: to before from is 422 INVALID_MONTH_RANGE.
  checkMonthRange(from, to);
  return { from, to, days, asOfDay: today };
}

/**
 * Refreshes a county's aggregates before a read when anything was recorded since the last refresh
 * (one indexed check), when the last refresh is older than maxAgeMs, or when it claims a time later
 * than now. So tiles show activity at once instead of a minute later.
 */
export async function ensureFresh(knex: Knex, countyId: string, now: Date, maxAgeMs = 60_000): Promise<void> {
  const s = await knex('recovery_aggregation_state').where({ county_id: countyId }).first('refreshed_at');
  if (s) {
    const at = new Date(s.refreshed_at);
    const age = now.getTime() - at.getTime();
    if (age >= 0 && age < maxAgeMs && !(await recordedSince(knex, countyId, at, now))) return;
  }
  await refreshRecoveryAggregates(knex, countyId, now);
}

async function countyRow(knex: Knex, countyId: string) {
  const c = await knex('counties').where({ id: countyId }).first('id', 'name_zh', 'name_en', 'province_code', 'prefecture_name_zh', 'timezone');
  if (!c) throw new AppError('NOT_FOUND', `No county ${countyId}`);
  return c as { id: string; name_zh: string; name_en: string; province_code: string; prefecture_name_zh: string; timezone: string };
}

interface CustodyNow {
  awaitingPickupContainers: number;
  bagsAwaitingPickup: number;
  hauled: number;
  disposed: number;
  openDiscrepancies: number;
  byShop: Map<string, { bagged: number; atShopInBags: number; bagsAwaitingPickup: number; overdueBags: number }>;
}

/** Custody as it stands now, from the bags' current state (one row per bag, not per container). */
async function custodyNow(knex: Knex, countyId: string, now: Date): Promise<CustodyNow> {
  const out: CustodyNow = { awaitingPickupContainers: 0, bagsAwaitingPickup: 0, hauled: 0, disposed: 0, openDiscrepancies: 0, byShop: new Map() };
  if (!(await custodyTablesExist(knex))) return out;
  const overdue = new Date(now.getTime() - PICKUP_OVERDUE_DAYS * 86_400_000);
  const rows = (await knex.raw(`
    SELECT shop_id, state, count(*)::int AS bags, coalesce(sum(declared_quantity), 0)::bigint AS n,
           count(*) FILTER (WHERE state = 'sealed' AND sealed_at < :overdue)::int AS overdue
      FROM custody_bags WHERE county_id = :c GROUP BY shop_id, state`, { c: countyId, overdue })).rows as Array<{ shop_id: string; state: string; bags: number; n: string; overdue: number }>;
  for (const r of rows) {
    const n = Number(r.n);
    const s = out.byShop.get(r.shop_id) ?? { bagged: 0, atShopInBags: 0, bagsAwaitingPickup: 0, overdueBags: 0 };
    s.bagged += n;
    if (r.state === 'open' || r.state === 'sealed') s.atShopInBags += n;
    if (r.state === 'sealed') {
      s.bagsAwaitingPickup += r.bags;
      out.bagsAwaitingPickup += r.bags;
      s.overdueBags += r.overdue;
    }
    if (['picked_up', 'received', 'disposed'].includes(r.state)) out.hauled += n;
    if (r.state === 'disposed') out.disposed += n;
    out.byShop.set(r.shop_id, s);
  }
  const d = (await knex.raw(`
    SELECT count(*)::int AS n FROM custody_discrepancies d JOIN custody_inspections n ON n.county_id = d.county_id AND n.id = d.inspection_id
     WHERE d.county_id = :c AND NOT EXISTS (SELECT 1 FROM custody_inspections s WHERE s.county_id = n.county_id AND s.supersedes_id = n.id)`, { c: countyId })).rows[0];
  out.openDiscrepancies = d.n;
  return out;
}

export interface FunnelStage { key: 'sold' | 'returned' | 'hauled' | 'disposed'; containers: number; kg: number; bags: number | null }

/**
 * The custody chain for ONE period (the months chosen, county days): containers sold with deposit,
 * accepted back, hauled from shops (bags picked up) and disposed of (bags on a disposal certificate),
 * each in containers, kilograms (container tare weights, the same basis at every stage) and bags.
 * Returns, hauls and disposals in a period may come from earlier periods' sales, returns and hauls,
 * so a stage may exceed the one before it; `exceedsPrevious` marks it and the page says why.
 */
async function periodFunnel(knex: Knex, countyId: string, range: DashboardRange, total: RateRow | undefined, timeZone: string) {
  const d0 = `${range.from}-01`;
  const d1 = lastDayOfMonth(range.to);
  const stages: FunnelStage[] = [
    { key: 'sold', containers: total?.soldUnits ?? 0, kg: total?.soldKg ?? 0, bags: null },
    { key: 'returned', containers: total?.returnedUnits ?? 0, kg: total?.returnedKg ?? 0, bags: null },
    { key: 'hauled', containers: 0, kg: 0, bags: 0 },
    { key: 'disposed', containers: 0, kg: 0, bags: 0 },
  ];
  if (await custodyTablesExist(knex)) {
    const rows = (await knex.raw(`
      WITH q AS (SELECT bag_id, sum(quantity)::bigint AS n FROM custody_bag_items WHERE county_id = :c GROUP BY bag_id),
      hauled AS (
        SELECT DISTINCT mb.bag_id FROM custody_manifest_bags mb
          JOIN custody_signatures g ON g.county_id = mb.county_id AND g.manifest_id = mb.manifest_id
           AND g.handover = 'pickup:' || mb.shop_id::text AND g.side = 'receiver'
         WHERE mb.county_id = :c AND (g.signed_at AT TIME ZONE :tz)::date BETWEEN :d0 AND :d1),
      disposed AS (
        SELECT DISTINCT db.bag_id FROM custody_disposal_bags db
          JOIN custody_disposals d ON d.county_id = db.county_id AND d.id = db.disposal_id
         WHERE db.county_id = :c AND d.disposed_on BETWEEN :d0 AND :d1)
      SELECT 'hauled' AS stage, count(*)::int AS bags, coalesce(sum(q.n), 0)::bigint AS n, coalesce(sum(bg.expected_weight_g), 0)::bigint AS g
        FROM hauled h JOIN custody_bags bg ON bg.county_id = :c AND bg.id = h.bag_id LEFT JOIN q ON q.bag_id = h.bag_id
      UNION ALL
      SELECT 'disposed', count(*)::int, coalesce(sum(q.n), 0)::bigint, coalesce(sum(bg.expected_weight_g), 0)::bigint
        FROM disposed x JOIN custody_bags bg ON bg.county_id = :c AND bg.id = x.bag_id LEFT JOIN q ON q.bag_id = x.bag_id`,
    { c: countyId, tz: timeZone, d0, d1 })).rows as Array<{ stage: 'hauled' | 'disposed'; bags: number; n: string; g: string }>;
    for (const r of rows) {
      const st = stages.find((x) => x.key === r.stage)!;
      st.bags = r.bags;
      st.containers = Number(r.n);
      st.kg = Number(r.g) / 1000;
    }
  }
  return {
    scope: 'period' as const, from: range.from, to: range.to,
    stages: stages.map((st, i) => ({ ...st, exceedsPrevious: i > 0 && st.containers > stages[i - 1]!.containers })),
  };
}

/** Accepted containers per shop, all time (from the aggregates). */
async function returnedByShop(knex: Knex, countyId: string): Promise<Map<string, number>> {
  const rows = (await knex('recovery_monthly').where({ county_id: countyId }).groupBy('shop_id').select('shop_id', knex.raw('sum(returned_units)::bigint AS n'))) as Array<{ shop_id: string; n: string }>;
  return new Map(rows.map((r) => [r.shop_id, Number(r.n)]));
}

export async function countySummary(knex: Knex, countyId: string, range: DashboardRange, now: Date) {
  const county = await countyRow(knex, countyId);
  const base = { countyIds: [countyId], from: range.from, to: range.to, days: range.days, asOfDay: range.asOfDay };
  const [total] = await recoveryRates(knex, { ...base, by: 'county' });
  const trend = await recoveryTrend(knex, base);
  const products = await recoveryRates(knex, { ...base, by: 'product' });
  const manufacturers = await recoveryRates(knex, { ...base, by: 'manufacturer' });
  const townships = await recoveryRates(knex, { ...base, by: 'township' });
  const outstanding = await knex('ledger_accounts').where({ county_id: countyId, code: 'deposits_outstanding' }).first('balance_fen');
  const unredeemed = await knex('ledger_accounts').where({ county_id: countyId, code: 'unredeemed' }).first('balance_fen');
  const custody = await custodyNow(knex, countyId, now);
  const returned = await returnedByShop(knex, countyId);
  let loose = 0;
  for (const [shopId, n] of returned) loose += Math.max(0, n - (custody.byShop.get(shopId)?.bagged ?? 0));
  let inBags = 0;
  for (const s of custody.byShop.values()) inBags += s.atShopInBags;
  const funnel = await periodFunnel(knex, countyId, range, total, county.timezone);
  const run = await periodRun(knex, countyId, range.to);
  const rank = (rows: RateRow[]) => rows.sort((a, b) => (b.periodRatePct ?? -1) - (a.periodRatePct ?? -1) || b.soldUnits - a.soldUnits).slice(0, 50);
  return {
    county: { id: county.id, nameZh: county.name_zh, nameEn: county.name_en, timeZone: county.timezone, prefectureZh: county.prefecture_name_zh, provinceCode: county.province_code },
    range,
    definitions: rateDefinitions(range.days),
    tiles: {
      cohortRatePct: total?.cohortRatePct ?? null, periodRatePct: total?.periodRatePct ?? null, massRatePct: total?.massRatePct ?? null,
      soldUnits: total?.soldUnits ?? 0, returnedUnits: total?.returnedUnits ?? 0,
      depositsOutstandingFen: -Number(outstanding?.balance_fen ?? 0), unredeemedFen: -Number(unredeemed?.balance_fen ?? 0),
      containersAwaitingPickup: loose + inBags, bagsAwaitingPickup: custody.bagsAwaitingPickup, openDiscrepancies: custody.openDiscrepancies,
    },
    trend,
    funnel,
    rankings: { products: rank(products), manufacturers: rank(manufacturers), townships: rank(townships) },
    // The reconciliation of the period shown (the range's last month): none yet → the page offers to run one.
    reconciliation: { period: range.to, run },
  };
}

export type ExceptionGrouping = 'none' | 'kind' | 'shop';

/**
 * The latest run of one period (a month), with whether records of that month reached the server after
 * its cut-off (then its figures are out of date and the page offers to run it again).
 */
export async function periodRun(knex: Knex, countyId: string, period: string) {
  const r = await knex('reconciliation_runs').where({ county_id: countyId, period_key: period })
    .orderBy([{ column: 'run_at', order: 'desc' }, { column: 'id', order: 'desc' }]).first('id', 'period_key', 'as_of', 'run_at', 'trigger', 'exception_count', 'error_count');
  if (!r) return null;
  const d0 = `${period}-01`;
  const d1 = lastDayOfMonth(period);
  const newer = (await knex.raw(`
    SELECT EXISTS (SELECT 1 FROM sales WHERE county_id = :c AND recorded_at > :asOf AND business_day BETWEEN :d0 AND :d1)
        OR EXISTS (SELECT 1 FROM returns WHERE county_id = :c AND recorded_at > :asOf AND business_day BETWEEN :d0 AND :d1) AS newer`,
  { c: countyId, asOf: r.as_of, d0, d1 })).rows[0].newer as boolean;
  return {
    id: r.id as string, period: r.period_key as string, asOf: new Date(r.as_of).toISOString(), runAt: new Date(r.run_at).toISOString(),
    trigger: r.trigger as string, exceptionCount: Number(r.exception_count), errorCount: Number(r.error_count), recordsSince: newer,
  };
}

/**
 * One page of a run's exceptions, optionally grouped (sorted by kind or by shop, with each group's
 * size), each with its reason in plain words from the dashboard's catalogue.
 */
export async function runExceptions(knex: Knex, countyId: string, runId: string, opts: { offset: number; limit: number; groupBy: ExceptionGrouping }) {
  const run = await knex('reconciliation_runs').where({ county_id: countyId, id: runId }).first('id', 'period_key');
  if (!run) throw new AppError('NOT_FOUND', 'No such reconciliation run in this county');
  const base = () => knex('reconciliation_exceptions as e').leftJoin('shops as s', function () {
    this.on('s.county_id', 'e.county_id').andOn('s.id', 'e.shop_id');
  }).where({ 'e.county_id': countyId, 'e.run_id': runId });
  const total = Number((await base().count({ n: '*' }).first())?.n ?? 0);
  const q = base().select('e.exception_no', 'e.kind', 'e.severity', 'e.book', 'e.shop_id', 's.name as shop_name', 'e.message_zh', 'e.message_en', 'e.records');
  if (opts.groupBy === 'kind') q.orderBy([{ column: 'e.kind' }, { column: 'e.exception_no' }]);
  else if (opts.groupBy === 'shop') q.orderByRaw('s.name NULLS FIRST, e.exception_no');
  else q.orderBy('e.exception_no');
  const rows = (await q.offset(opts.offset).limit(opts.limit)) as Array<Record<string, any>>;
  let groups: Array<{ key: string | null; count: number }> = [];
  if (opts.groupBy !== 'none') {
    const col = opts.groupBy === 'kind' ? 'e.kind' : 'e.shop_id';
    groups = ((await base().groupBy(col).select(knex.raw(`${col}::text AS key`), knex.raw('count(*)::int AS n'))) as Array<{ key: string | null; n: number }>)
      .map((g) => ({ key: g.key, count: g.n }));
  }
  return {
    runId, period: run.period_key as string, total, offset: opts.offset, limit: opts.limit, groupBy: opts.groupBy, groups,
    items: rows.map((e) => {
      const reason = EXCEPTION_REASONS[e.kind as string];
      const records = typeof e.records === 'string' ? JSON.parse(e.records) : e.records;
      return {
        no: Number(e.exception_no), kind: e.kind as string, severity: e.severity as string, book: e.book as string,
        shopId: (e.shop_id as string | null) ?? null, shopName: (e.shop_name as string | null) ?? null,
        reasonZh: reason?.zh ?? e.kind, reasonEn: reason?.en ?? e.kind, messageZh: e.message_zh as string, messageEn: e.message_en as string,
        records: Array.isArray(records) ? records.length : 0,
      };
    }),
  };
}

export interface ShopRow extends RateRow {
  township: string;
  positionFen: number;
  containersAtShop: number;
  bagsAwaitingPickup: number;
  overdueBags: number;
  flags: string[];
}

export async function shopTable(knex: Knex, countyId: string, range: DashboardRange, now: Date): Promise<ShopRow[]> {
  const rates = await recoveryRates(knex, { countyIds: [countyId], from: range.from, to: range.to, days: range.days, asOfDay: range.asOfDay, by: 'shop' });
  const byId = new Map(rates.map((r) => [r.key, r]));
  const shops = (await knex('shops as s').join('townships as t', function () {
    this.on('t.county_id', 's.county_id').andOn('t.id', 's.township_id');
  }).where('s.county_id', countyId).select('s.id', 's.name', 's.active', 't.name_zh as township')) as Array<{ id: string; name: string; active: boolean; township: string }>;
  const positions = (await knex('ledger_accounts').where({ county_id: countyId, kind: 'shop_position' }).select('shop_id', 'balance_fen')) as Array<{ shop_id: string; balance_fen: string }>;
  const pos = new Map(positions.map((p) => [p.shop_id, Number(p.balance_fen)]));
  const custody = await custodyNow(knex, countyId, now);
  const returned = await returnedByShop(knex, countyId);
  // Codes nobody sold (DESIGN rule 13): likely counterfeits returned in the range, refunds waiting for review.
  const suspect = (await knex.raw(`
    SELECT r.shop_id, count(*)::int AS n FROM return_items i JOIN returns r ON r.county_id = i.county_id AND r.id = i.return_id
     WHERE i.county_id = ? AND i.likely_counterfeit AND to_char(r.business_day, 'YYYY-MM') BETWEEN ? AND ?
       AND NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = r.county_id AND v.target_type = 'return' AND v.target_id = r.id)
     GROUP BY r.shop_id`, [countyId, range.from, range.to])).rows as Array<{ shop_id: string; n: number }>;
  const counterfeitAt = new Map(suspect.map((x) => [x.shop_id, x.n]));
  const heldRows = (await knex('held_refunds').where({ county_id: countyId, state: 'held' }).groupBy('shop_id').select('shop_id', knex.raw('count(*)::int AS n'))) as Array<{ shop_id: string; n: number }>;
  const heldAt = new Map(heldRows.map((x) => [x.shop_id, x.n]));
  const out: ShopRow[] = [];
  for (const s of shops) {
    const r = byId.get(s.id);
    if (!r && !s.active) continue;
    const base = r ?? { key: s.id, name: s.name, soldUnits: 0, returnedUnits: 0, soldKg: 0, returnedKg: 0, cohortSoldUnits: 0, cohortReturnedUnits: 0, periodRatePct: null, cohortRatePct: null, massRatePct: null };
    const c = custody.byShop.get(s.id);
    const loose = Math.max(0, (returned.get(s.id) ?? 0) - (c?.bagged ?? 0));
    const flags: string[] = [];
    if (base.returnedUnits > base.soldUnits) flags.push('returns_above_sales');
    if ((c?.overdueBags ?? 0) > 0) flags.push('overdue_pickup');
    if (counterfeitAt.has(s.id)) flags.push('likely_counterfeit');
    if (heldAt.has(s.id)) flags.push('refunds_held');
    out.push({ ...base, name: s.name, township: s.township, positionFen: pos.get(s.id) ?? 0, containersAtShop: loose + (c?.atShopInBags ?? 0), bagsAwaitingPickup: c?.bagsAwaitingPickup ?? 0, overdueBags: c?.overdueBags ?? 0, flags });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name, 'zh'));
}

export async function shopDetail(knex: Knex, countyId: string, shopId: string, range: DashboardRange, timeZone: string = DEFAULT_TIME_ZONE) {
  const shop = await knex('shops as s').join('townships as t', function () {
    this.on('t.county_id', 's.county_id').andOn('t.id', 's.township_id');
  }).where({ 's.county_id': countyId, 's.id': shopId }).first('s.id', 's.name', 's.address', 's.licence_no', 't.name_zh as township');
  if (!shop) throw new AppError('NOT_FOUND', 'No such shop in this county');
  const base = { countyIds: [countyId], from: range.from, to: range.to, days: range.days, asOfDay: range.asOfDay, shopId };
  const trend = await recoveryTrend(knex, base);
  const products = await recoveryRates(knex, { ...base, by: 'product' });
  const position = await knex('ledger_accounts').where({ county_id: countyId, code: `shop:${shopId}` }).first('balance_fen');
  // Recent returns at the shop within the chosen months and not after the county's today (a record
  // dated later is not shown as if it had happened); returners only as masked identifiers (DESIGN rule 11).
  // A return's deposit refund and its buy-back (from the incentive fund) are two figures (docs/incentives.md).
  const lastDay = lastDayOfMonth(range.to) < range.asOfDay ? lastDayOfMonth(range.to) : range.asOfDay;
  const recent = (await knex.raw(`
    SELECT r.id, r.event_time, r.business_day, r.total_refund_fen, f.phone_e164,
           ${returnBuybackFenSql('r')} AS buyback_fen,
           (SELECT coalesce(sum(i.quantity), 0) FROM return_items i WHERE i.county_id = r.county_id AND i.return_id = r.id AND i.outcome <> 'rejected')::int AS accepted
      FROM returns r LEFT JOIN farmers f ON f.county_id = r.county_id AND f.id = r.farmer_id
     WHERE r.county_id = :c AND r.shop_id = :s AND r.business_day BETWEEN :d0 AND :d1
     ORDER BY r.event_time DESC LIMIT 20`, { c: countyId, s: shopId, d0: `${range.from}-01`, d1: lastDay })).rows as Array<{ id: string; event_time: Date; total_refund_fen: string; buyback_fen: string; phone_e164: string | null; accepted: number }>;
  return {
    shop: { id: shop.id, name: shop.name, township: shop.township, licenceNo: shop.licence_no },
    range, definitions: rateDefinitions(range.days), timeZone,
    returnsWindow: { fromDay: `${range.from}-01`, toDay: lastDay },
    positionFen: Number(position?.balance_fen ?? 0),
    trend, products,
    recentReturns: recent.map((r) => ({ id: r.id, eventTime: new Date(r.event_time).toISOString(), refundFen: Number(r.total_refund_fen) - Number(r.buyback_fen), buybackFen: Number(r.buyback_fen), accepted: r.accepted, returner: r.phone_e164 ? maskPhone(r.phone_e164) : null })),
  };
}

export async function provinceComparison(knex: Knex, provinceCode: string, range: DashboardRange) {
  const counties = (await knex('counties').where('province_code', provinceCode).where({ active: true }).orderBy('id').select('id', 'name_zh', 'name_en')) as Array<{ id: string; name_zh: string; name_en: string }>;
  if (!counties.length) return { provinceCode, range, definitions: rateDefinitions(range.days), counties: [], trend: [] };
  const ids = counties.map((c) => c.id);
  const rates = await recoveryRates(knex, { countyIds: ids, from: range.from, to: range.to, days: range.days, asOfDay: range.asOfDay, by: 'county' });
  const byId = new Map(rates.map((r) => [r.key, r]));
  const outstanding = (await knex('ledger_accounts').whereIn('county_id', ids).where({ code: 'deposits_outstanding' }).select('county_id', 'balance_fen')) as Array<{ county_id: string; balance_fen: string }>;
  const out = new Map(outstanding.map((o) => [o.county_id, -Number(o.balance_fen)]));
  const trend = await recoveryTrend(knex, { countyIds: ids, from: range.from, to: range.to, days: range.days, asOfDay: range.asOfDay });
  return {
    provinceCode, range, definitions: rateDefinitions(range.days), trend,
    counties: counties.map((c) => {
      const r = byId.get(c.id);
      return {
        countyId: c.id, nameZh: c.name_zh, nameEn: c.name_en, soldUnits: r?.soldUnits ?? 0, returnedUnits: r?.returnedUnits ?? 0,
        periodRatePct: r?.periodRatePct ?? null, cohortRatePct: r?.cohortRatePct ?? null, massRatePct: r?.massRatePct ?? null, depositsOutstandingFen: out.get(c.id) ?? 0,
      };
    }),
  };
}
