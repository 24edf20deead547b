// Possible fraud for officials (DESIGN rule 4 and issue 3): returns above sales for a product at a
// shop or by a phone, many returns by one phone in a day, unit codes sold in another county, and
// offline deposits that differ from the schedule. Computed from the records; farmers are masked.
//
// Buy-back and points (docs/incentives.md, "Refunds and buy-back in the figures"): containers the
// county paid buy-back for or gave points for never carried a deposit, and the incentive policy caps
// them (per household, per shop, the fund). So the comparisons of returns with deposit sales leave
// them out; the daily threshold per phone counts every container accepted, incentive or not (rule 9);
// refund_mismatch compares the cash the clerk paid with all the cash owed (deposit refunds and
// buy-back both leave the till), and says how much of what was owed is buy-back (buybackFen).
import type { Knex } from 'knex';
import { maskPhone } from '../../shared/phone.js';
import { loadCountyPolicy } from '../ledger/county-policy.js';
import { returnBuybackFenSql } from '../returns/return-store.js';

export interface FraudFlag {
  kind: 'returns_exceed_sales_shop' | 'returns_exceed_purchases_phone' | 'daily_returns_above_threshold' | 'other_county_unit' | 'deposit_mismatch' | 'refund_mismatch' | 'likely_counterfeit';
  shopId?: string;
  farmerId?: string;
  phoneMasked?: string;
  productId?: string;
  day?: string;
  unitCode?: string;
  returned?: number;
  sold?: number;
  refId?: string;
  threshold?: number;
  /** refund_mismatch: what the clerk paid − what the scheme owed (+ overpaid: to chase back). */
  differenceFen?: number;
  /** refund_mismatch: all cash the clerk paid, deposit refunds and buy-back. */
  paidFen?: number;
  /** refund_mismatch: all cash owed (deposit refunds, policy refunds and buy-back). */
  owedFen?: number;
  /** refund_mismatch: the part of owedFen that is buy-back from the county incentive fund. */
  buybackFen?: number;
  /** Items paid beyond what was owed (incl. refused items paid anyway: the county chases these back). */
  overpaidFen?: number;
  /** Items paid short of what was owed (owed to the farmer). */
  underpaidFen?: number;
}

const NOT_REVERSED = (alias: string, type: string) =>
  `NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = ${alias}.county_id AND v.target_type = '${type}' AND v.target_id = ${alias}.id)`;

export async function fraudFlags(knex: Knex, countyId: string, from: string, to: string): Promise<FraudFlag[]> {
  const flags: FraudFlag[] = [];
  const accepted = `SELECT r.shop_id, r.farmer_id, i.product_id, r.business_day, i.quantity, r.id AS return_id,
           i.quantity - coalesce((SELECT sum(a.quantity) FROM return_allocations a
                                   WHERE a.county_id = i.county_id AND a.return_id = i.return_id AND a.item_no = i.item_no
                                     AND (a.source = 'buyback' OR (i.points_milli > 0 AND a.source = 'none'))), 0) AS against_deposit
      FROM return_items i JOIN returns r ON r.county_id = i.county_id AND r.id = i.return_id
     WHERE i.county_id = :c AND i.outcome <> 'rejected' AND i.product_id IS NOT NULL AND ${NOT_REVERSED('r', 'return')} AND r.business_day <= :to`;
  // against_deposit: the item's containers less those paid buy-back or given points (the containers of
  // an item under an incentive rate that are not refunded from a lot are its 'buyback' and 'none' allocations).
  const sold = `SELECT s.shop_id, s.farmer_id, l.product_id, l.quantity
      FROM sale_lines l JOIN sales s ON s.county_id = l.county_id AND s.id = l.sale_id
     WHERE l.county_id = :c AND ${NOT_REVERSED('s', 'sale')} AND s.business_day <= :to`;
  const b = { c: countyId, from, to };
  const threshold = (await loadCountyPolicy(knex, countyId)).fraudDailyReturnsThreshold;
  const byShop = (await knex.raw(`
    SELECT a.shop_id, a.product_id, a.returned, coalesce(s.sold, 0) AS sold FROM
      (SELECT shop_id, product_id, sum(against_deposit)::int AS returned FROM (${accepted}) x GROUP BY shop_id, product_id) a
      LEFT JOIN (SELECT shop_id, product_id, sum(quantity)::int AS sold FROM (${sold}) y GROUP BY shop_id, product_id) s
        ON s.shop_id = a.shop_id AND s.product_id = a.product_id
     WHERE a.returned > coalesce(s.sold, 0) ORDER BY a.shop_id, a.product_id`, b)).rows;
  for (const r of byShop) flags.push({ kind: 'returns_exceed_sales_shop', shopId: r.shop_id, productId: r.product_id, returned: r.returned, sold: r.sold });
  const byPhone = (await knex.raw(`
    SELECT a.farmer_id, f.phone_e164, a.product_id, a.returned, coalesce(s.sold, 0) AS sold FROM
      (SELECT farmer_id, product_id, sum(against_deposit)::int AS returned FROM (${accepted}) x WHERE farmer_id IS NOT NULL GROUP BY farmer_id, product_id) a
      JOIN farmers f ON f.county_id = :c AND f.id = a.farmer_id
      LEFT JOIN (SELECT farmer_id, product_id, sum(quantity)::int AS sold FROM (${sold}) y GROUP BY farmer_id, product_id) s
        ON s.farmer_id = a.farmer_id AND s.product_id = a.product_id
     WHERE a.returned > coalesce(s.sold, 0) ORDER BY a.farmer_id, a.product_id`, b)).rows;
  for (const r of byPhone) flags.push({ kind: 'returns_exceed_purchases_phone', farmerId: r.farmer_id, phoneMasked: maskPhone(r.phone_e164), productId: r.product_id, returned: r.returned, sold: r.sold });
  // Every container accepted counts towards the daily threshold, those paid buy-back or points too.
  const daily = (await knex.raw(`
    SELECT x.farmer_id, f.phone_e164, x.business_day::text AS day, sum(x.quantity)::int AS returned
      FROM (${accepted}) x JOIN farmers f ON f.county_id = :c AND f.id = x.farmer_id
     WHERE x.business_day >= :from
     GROUP BY x.farmer_id, f.phone_e164, x.business_day HAVING sum(x.quantity) > :threshold
     ORDER BY day, x.farmer_id`, { ...b, threshold })).rows;
  for (const r of daily) flags.push({ kind: 'daily_returns_above_threshold', farmerId: r.farmer_id, phoneMasked: maskPhone(r.phone_e164), day: r.day, returned: r.returned, threshold });
  const other = (await knex.raw(`
    SELECT r.shop_id, i.unit_code, r.id, r.business_day::text AS day FROM return_items i JOIN returns r ON r.county_id = i.county_id AND r.id = i.return_id
     WHERE i.county_id = :c AND i.reason_code = 'other_county' AND r.business_day BETWEEN :from AND :to ORDER BY r.business_day, i.unit_code`, b)).rows;
  for (const r of other) flags.push({ kind: 'other_county_unit', shopId: r.shop_id, unitCode: r.unit_code, day: r.day, refId: r.id });
  const mismatch = (await knex.raw(`
    SELECT s.shop_id, s.id, s.business_day::text AS day FROM sales s
     WHERE s.county_id = :c AND s.deposit_mismatch AND s.business_day BETWEEN :from AND :to ORDER BY s.business_day, s.id`, b)).rows;
  for (const r of mismatch) flags.push({ kind: 'deposit_mismatch', shopId: r.shop_id, day: r.day, refId: r.id });
  // Offline refunds that differ from what the scheme owed (a refused item paid anyway is a shortfall to chase).
  const refunds = (await knex.raw(`
    SELECT r.shop_id, r.id, r.business_day::text AS day, r.total_refund_fen AS owed, r.refund_difference_fen AS diff,
           sum(greatest(i.refund_difference_fen, 0))::bigint AS over, sum(greatest(-i.refund_difference_fen, 0))::bigint AS under,
           ${returnBuybackFenSql('r')} AS buyback
      FROM returns r JOIN return_items i ON i.county_id = r.county_id AND i.return_id = r.id AND i.refund_difference_fen <> 0
     WHERE r.county_id = :c AND r.business_day BETWEEN :from AND :to AND ${NOT_REVERSED('r', 'return')}
     GROUP BY r.county_id, r.shop_id, r.id, r.business_day, r.total_refund_fen, r.refund_difference_fen
     ORDER BY r.business_day, r.id`, b)).rows;
  for (const r of refunds) {
    flags.push({
      kind: 'refund_mismatch', shopId: r.shop_id, day: r.day, refId: r.id, owedFen: Number(r.owed), paidFen: Number(r.owed) + Number(r.diff),
      differenceFen: Number(r.diff), buybackFen: Number(r.buyback), overpaidFen: Number(r.over), underpaidFen: Number(r.under),
    });
  }
  // Unit codes absent from their product's imported registry of issued codes (DESIGN rule 13).
  const counterfeit = (await knex.raw(`
    SELECT r.shop_id, r.id, r.business_day::text AS day, i.unit_code, i.product_id, r.farmer_id, f.phone_e164
      FROM return_items i JOIN returns r ON r.county_id = i.county_id AND r.id = i.return_id
      LEFT JOIN farmers f ON f.county_id = r.county_id AND f.id = r.farmer_id
     WHERE i.county_id = :c AND i.likely_counterfeit AND r.business_day BETWEEN :from AND :to AND ${NOT_REVERSED('r', 'return')}
     ORDER BY r.business_day, i.unit_code`, b)).rows;
  for (const r of counterfeit) {
    flags.push({
      kind: 'likely_counterfeit', shopId: r.shop_id, day: r.day, refId: r.id, unitCode: r.unit_code, productId: r.product_id,
      ...(r.farmer_id ? { farmerId: r.farmer_id, phoneMasked: maskPhone(r.phone_e164) } : {}),
    });
  }
  return flags;
}
