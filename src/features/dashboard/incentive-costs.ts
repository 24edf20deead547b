// What each incentive cost and what it brought back (docs/incentives.md, docs/dashboard.md): per
// county, township or shop and the chosen months, the deposit refunds, the buy-back paid out of the
// incentive fund, the points issued and redeemed (with the value of the goods shops gave for them),
// the containers accepted under each incentive, containers recovered per yuan, and the budget left
// (the county's fund; a shop's yearly buy-back cap less what it paid this year). Read straight from
// the ledgers and the return items of the period (reversals count against what they reverse).
import type { Knex } from 'knex';
import { addMonths, lastDayOfMonth, monthStart } from '../../shared/business-day.js';
import { AppError } from '../../http/errors.js';
import { fundFigures } from '../incentives/incentive-fund-store.js';
import type { DashboardRange } from './dashboard-service.js';

export const INCENTIVE_DIMENSIONS = ['county', 'township', 'shop'] as const;
export type IncentiveDimension = (typeof INCENTIVE_DIMENSIONS)[number];

/** Refund codes of deposits (what settlement statements count as refunds paid). */
const DEPOSIT_REFUND_CODES = ['refund_paid', 'late_refund', 'policy_refund', 'held_refund_paid', 'refund_overpaid', 'refund_underpaid'];

interface ShopFigures {
  depositRefundsFen: number;
  buybackFen: number;
  pointsIssuedMilli: number;
  pointsRedeemedMilli: number;
  pointsRedeemedGoodsFen: number;
  containersRecovered: number;
  depositContainers: number;
  buybackContainers: number;
  pointsContainers: number;
  /** Containers that got buy-back, points or both (each counted once). */
  incentiveContainers: number;
  noIncentiveContainers: number;
  buybackThisYearFen: number;
}

const zero = (): ShopFigures => ({
  depositRefundsFen: 0, buybackFen: 0, pointsIssuedMilli: 0, pointsRedeemedMilli: 0, pointsRedeemedGoodsFen: 0,
  containersRecovered: 0, depositContainers: 0, buybackContainers: 0, pointsContainers: 0, incentiveContainers: 0, noIncentiveContainers: 0, buybackThisYearFen: 0,
});

export interface IncentiveRow extends Omit<ShopFigures, 'buybackThisYearFen'> {
  key: string;
  name: string;
  township: string | null;
  /** Buy-back fen plus the value of goods given for points: what the incentives beyond the deposit cost. */
  incentiveSpendFen: number;
  containersPerYuan: { deposit: number | null; buyback: number | null; points: number | null; incentives: number | null };
  budgetLeftFen: number | null;
}

/** Containers per yuan with two decimals; null without spending. */
export function perYuan(containers: number, fen: number): number | null {
  return fen > 0 ? Math.round((containers * 100 * 100) / fen) / 100 : null;
}

export async function incentiveCosts(knex: Knex, countyId: string, range: DashboardRange, by: IncentiveDimension) {
  const county = await knex('counties').where({ id: countyId }).first('id', 'name_zh', 'timezone', 'incentive_shop_buyback_cap_fen');
  if (!county) throw new AppError('NOT_FOUND', `No county ${countyId}`);
  const tz = county.timezone as string;
  const from = monthStart(range.from, tz);
  const to = monthStart(addMonths(range.to, 1), tz);
  const firstDay = `${range.from}-01`;
  const lastDay = lastDayOfMonth(range.to);
  const year = range.to.slice(0, 4);
  const byShop = new Map<string, ShopFigures>();
  const get = (shopId: string) => {
    let f = byShop.get(shopId);
    if (!f) byShop.set(shopId, (f = zero()));
    return f;
  };

  const money = (await knex.raw(`
    WITH t AS (
      SELECT t.shop_id, coalesce(o.code, t.code) AS base_code, coalesce(o.event_time, t.event_time) AS base_time,
             CASE WHEN t.code = 'reversal' THEN -1 ELSE 1 END * CASE WHEN coalesce(o.code, t.code) = 'refund_underpaid' THEN -1 ELSE 1 END * t.amount_fen AS fen,
             t.event_time
        FROM ledger_transfers t
        LEFT JOIN ledger_transfers o ON o.county_id = t.county_id AND o.id = t.reverses_transfer_id
       WHERE t.county_id = :c AND t.shop_id IS NOT NULL)
    SELECT shop_id,
           coalesce(sum(fen) FILTER (WHERE base_code IN (${DEPOSIT_REFUND_CODES.map((c) => `'${c}'`).join(', ')}) AND event_time >= :from AND event_time < :to), 0)::bigint AS refunds,
           coalesce(sum(fen) FILTER (WHERE base_code = 'buyback_paid' AND event_time >= :from AND event_time < :to), 0)::bigint AS buyback,
           coalesce(sum(fen) FILTER (WHERE base_code = 'buyback_paid' AND extract(year FROM base_time AT TIME ZONE :tz)::int = :year), 0)::bigint AS buyback_year
      FROM t GROUP BY shop_id`, { c: countyId, from, to, tz, year: Number(year) })).rows as Array<{ shop_id: string; refunds: string; buyback: string; buyback_year: string }>;
  for (const r of money) {
    const f = get(r.shop_id);
    f.depositRefundsFen = Number(r.refunds);
    f.buybackFen = Number(r.buyback);
    f.buybackThisYearFen = Number(r.buyback_year);
  }

  const points = (await knex.raw(`
    SELECT t.shop_id,
           coalesce(sum(CASE WHEN t.code = 'reversal' THEN -t.amount_milli ELSE t.amount_milli END) FILTER (WHERE coalesce(o.code, t.code) = 'earned'), 0)::bigint AS issued,
           coalesce(sum(CASE WHEN t.code = 'reversal' THEN -t.amount_milli ELSE t.amount_milli END) FILTER (WHERE coalesce(o.code, t.code) = 'redeemed'), 0)::bigint AS redeemed
      FROM points_transfers t
      LEFT JOIN points_transfers o ON o.county_id = t.county_id AND o.id = t.reverses_transfer_id
     WHERE t.county_id = :c AND t.shop_id IS NOT NULL AND t.business_day BETWEEN :first AND :last
     GROUP BY t.shop_id`, { c: countyId, first: firstDay, last: lastDay })).rows as Array<{ shop_id: string; issued: string; redeemed: string }>;
  for (const r of points) {
    const f = get(r.shop_id);
    f.pointsIssuedMilli = Number(r.issued);
    f.pointsRedeemedMilli = Number(r.redeemed);
  }
  const goods = (await knex('points_redemptions').where({ county_id: countyId }).whereBetween('business_day', [firstDay, lastDay])
    .groupBy('shop_id').select('shop_id', knex.raw('sum(goods_value_fen)::bigint AS fen'))) as Array<{ shop_id: string; fen: string }>;
  for (const r of goods) get(r.shop_id).pointsRedeemedGoodsFen = Number(r.fen);

  // Containers accepted in the period, by the incentive that applied (items recorded before incentives
  // existed: a refund is the deposit's, none is none). Reversed returns do not count.
  const items = (await knex.raw(`
    SELECT r.shop_id, coalesce(i.incentive, CASE WHEN i.refund_fen > 0 THEN 'deposit' ELSE 'none' END) AS kind, sum(i.quantity)::bigint AS n
      FROM return_items i JOIN returns r ON r.county_id = i.county_id AND r.id = i.return_id
     WHERE i.county_id = :c AND r.business_day BETWEEN :first AND :last AND i.inspection = 'accepted' AND i.outcome <> 'rejected'
       AND NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = r.county_id AND v.target_type = 'return' AND v.target_id = r.id)
     GROUP BY 1, 2`, { c: countyId, first: firstDay, last: lastDay })).rows as Array<{ shop_id: string; kind: string; n: string }>;
  for (const r of items) {
    const f = get(r.shop_id);
    const n = Number(r.n);
    f.containersRecovered += n;
    if (r.kind === 'deposit') f.depositContainers += n;
    if (r.kind === 'buyback' || r.kind === 'buyback_points') f.buybackContainers += n;
    if (r.kind === 'points' || r.kind === 'buyback_points') f.pointsContainers += n;
    if (r.kind === 'buyback' || r.kind === 'points' || r.kind === 'buyback_points') f.incentiveContainers += n;
    if (r.kind === 'none') f.noIncentiveContainers += n;
  }

  const shops = (await knex('shops as s').leftJoin('townships as t', function () {
    this.on('t.county_id', 's.county_id').andOn('t.id', 's.township_id');
  }).where('s.county_id', countyId).orderBy('s.name').select('s.id', 's.name', 's.active', 's.township_id', 't.name_zh as township')) as Array<{ id: string; name: string; active: boolean; township_id: string | null; township: string | null }>;
  const fund = await fundFigures(knex, countyId, tz);
  const cap = county.incentive_shop_buyback_cap_fen === null ? null : Number(county.incentive_shop_buyback_cap_fen);

  const groups = new Map<string, { key: string; name: string; township: string | null; f: ShopFigures; budgetLeftFen: number | null }>();
  for (const s of shops) {
    const f = byShop.get(s.id);
    if (by === 'shop' && !f && !s.active) continue;
    const key = by === 'county' ? countyId : by === 'township' ? (s.township_id ?? '') : s.id;
    const name = by === 'county' ? county.name_zh : by === 'township' ? (s.township ?? '') : s.name;
    let g = groups.get(key);
    if (!g) {
      const budgetLeftFen = by === 'county' ? fund.balanceFen : by === 'shop' && cap !== null ? Math.max(0, cap - (f?.buybackThisYearFen ?? 0)) : null;
      groups.set(key, (g = { key, name, township: by === 'shop' ? s.township : null, f: zero(), budgetLeftFen }));
    }
    if (!f) continue;
    for (const k of Object.keys(f) as Array<keyof ShopFigures>) g.f[k] += f[k];
  }
  if (by === 'county' && groups.size === 0) groups.set(countyId, { key: countyId, name: county.name_zh, township: null, f: zero(), budgetLeftFen: fund.balanceFen });

  const rows: IncentiveRow[] = [...groups.values()].map(({ key, name, township, f, budgetLeftFen }) => {
    const { buybackThisYearFen: _ignored, ...figures } = f;
    const incentiveSpendFen = f.buybackFen + f.pointsRedeemedGoodsFen;
    return {
      key, name, township, ...figures, incentiveSpendFen,
      containersPerYuan: {
        deposit: perYuan(f.depositContainers, f.depositRefundsFen),
        buyback: perYuan(f.buybackContainers, f.buybackFen),
        points: perYuan(f.pointsContainers, f.pointsRedeemedGoodsFen),
        incentives: perYuan(f.incentiveContainers, incentiveSpendFen),
      },
      budgetLeftFen,
    };
  });
  return {
    range, by,
    fund: { balanceFen: fund.balanceFen, allocatedFen: fund.allocatedFen, paidFen: fund.paidFen, year: Number(year), allocatedThisYearFen: fund.byYear.find((y) => y.year === Number(year))?.allocatedFen ?? 0, paidThisYearFen: fund.byYear.find((y) => y.year === Number(year))?.paidFen ?? 0 },
    shopBuybackCapFen: cap,
    rows,
  };
}
