// Figures for the officials' dashboard, as compact JSON: everything comes from the maintained
// aggregates (recovery_*), the ledger's account balances and the custody bags' current state, so a
// county page costs a handful of indexed reads however many containers the county has sold.
import { businessDay, DEFAULT_TIME_ZONE } from '../../shared/business-day.js';
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { maskPhone } from '../../shared/phone.js';
import { refreshRecoveryAggregates, type CohortDays } from '../recovery-rates/aggregation-job.js';
import { rateDefinitions, recoveryRates, recoveryTrend, type RateRow } from '../recovery-rates/recovery-rates.js';
import { custodyTablesExist, PICKUP_OVERDUE_DAYS } from '../reconciliation/custody-book.js';
import { latestRun } from '../reconciliation/reconciliation-service.js';

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
  return { from: q.from ?? `${today.slice(0, 4)}-01`, to: q.to ?? today.slice(0, 7), days, asOfDay: today };
}

/** Refreshes a county's aggregates when the last refresh is older than maxAgeMs (cheap when nothing changed). */
export async function ensureFresh(knex: Knex, countyId: string, now: Date, maxAgeMs = 60_000): Promise<void> {
  const s = await knex('recovery_aggregation_state').where({ county_id: countyId }).first('refreshed_at');
  if (s && now.getTime() - new Date(s.refreshed_at).getTime() < maxAgeMs) return;
  await refreshRecoveryAggregates(knex, countyId, now);
}

async function countyRow(knex: Knex, countyId: string) {
  const c = await knex('counties').where({ id: countyId }).first('id', 'name_zh', 'name_en', 'province_code', 'timezone');
  if (!c) throw new AppError('NOT_FOUND', `No county ${countyId}`);
  return c as { id: string; name_zh: string; name_en: string; province_code: string; timezone: string };
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
  const returnedAllTime = [...returned.values()].reduce((a, b) => a + b, 0);
  const soldRow = await knex('recovery_monthly').where({ county_id: countyId }).sum({ n: 'sold_units' }).first();
  const soldAllTime = Number(soldRow?.n ?? 0);
  let loose = 0;
  for (const [shopId, n] of returned) loose += Math.max(0, n - (custody.byShop.get(shopId)?.bagged ?? 0));
  let inBags = 0;
  for (const s of custody.byShop.values()) inBags += s.atShopInBags;
  const run = await latestRun(knex, countyId);
  const rank = (rows: RateRow[]) => rows.sort((a, b) => (b.periodRatePct ?? -1) - (a.periodRatePct ?? -1) || b.soldUnits - a.soldUnits).slice(0, 50);
  return {
    county: { id: county.id, nameZh: county.name_zh, nameEn: county.name_en },
    range,
    definitions: rateDefinitions(range.days),
    tiles: {
      cohortRatePct: total?.cohortRatePct ?? null, periodRatePct: total?.periodRatePct ?? null, massRatePct: total?.massRatePct ?? null,
      soldUnits: total?.soldUnits ?? 0, returnedUnits: total?.returnedUnits ?? 0,
      depositsOutstandingFen: -Number(outstanding?.balance_fen ?? 0), unredeemedFen: -Number(unredeemed?.balance_fen ?? 0),
      containersAwaitingPickup: loose + inBags, bagsAwaitingPickup: custody.bagsAwaitingPickup, openDiscrepancies: custody.openDiscrepancies,
    },
    trend,
    // All time, every stage: bags hauled this month may hold containers returned last year, so only
    // cumulative figures keep sold ≥ returned ≥ hauled ≥ disposed (the custody mass balance).
    funnel: { scope: 'all_time', sold: soldAllTime, returned: returnedAllTime, hauled: custody.hauled, disposed: custody.disposed },
    rankings: { products: rank(products), manufacturers: rank(manufacturers), townships: rank(townships) },
    lastRun: run && {
      id: run.id, period: run.period, asOf: run.asOf, runAt: run.runAt, errorCount: run.errorCount, exceptionCount: run.exceptionCount,
      exceptions: run.exceptions.slice(0, 50).map((e) => ({ severity: e.severity, kind: e.kind, book: e.book, shopId: e.shopId, messageZh: e.messageZh, messageEn: e.messageEn, records: e.records.length })),
    },
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

export async function shopDetail(knex: Knex, countyId: string, shopId: string, range: DashboardRange) {
  const shop = await knex('shops as s').join('townships as t', function () {
    this.on('t.county_id', 's.county_id').andOn('t.id', 's.township_id');
  }).where({ 's.county_id': countyId, 's.id': shopId }).first('s.id', 's.name', 's.address', 's.licence_no', 't.name_zh as township');
  if (!shop) throw new AppError('NOT_FOUND', 'No such shop in this county');
  const base = { countyIds: [countyId], from: range.from, to: range.to, days: range.days, asOfDay: range.asOfDay, shopId };
  const trend = await recoveryTrend(knex, base);
  const products = await recoveryRates(knex, { ...base, by: 'product' });
  const position = await knex('ledger_accounts').where({ county_id: countyId, code: `shop:${shopId}` }).first('balance_fen');
  // Recent returns at the shop: returners only as masked identifiers (DESIGN rule 11).
  const recent = (await knex.raw(`
    SELECT r.id, r.event_time, r.total_refund_fen, f.phone_e164,
           (SELECT coalesce(sum(i.quantity), 0) FROM return_items i WHERE i.county_id = r.county_id AND i.return_id = r.id AND i.outcome <> 'rejected')::int AS accepted
      FROM returns r LEFT JOIN farmers f ON f.county_id = r.county_id AND f.id = r.farmer_id
     WHERE r.county_id = :c AND r.shop_id = :s ORDER BY r.event_time DESC LIMIT 20`, { c: countyId, s: shopId })).rows as Array<{ id: string; event_time: Date; total_refund_fen: string; phone_e164: string | null; accepted: number }>;
  return {
    shop: { id: shop.id, name: shop.name, township: shop.township, licenceNo: shop.licence_no },
    range, definitions: rateDefinitions(range.days),
    positionFen: Number(position?.balance_fen ?? 0),
    trend, products,
    recentReturns: recent.map((r) => ({ id: r.id, eventTime: new Date(r.event_time).toISOString(), refundFen: Number(r.total_refund_fen), accepted: r.accepted, returner: r.phone_e164 ? maskPhone(r.phone_e164) : null })),
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
