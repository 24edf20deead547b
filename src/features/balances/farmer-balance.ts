// What a farmer is owed: containers still carrying a deposit, by product; the refundable deposit; and
// the refunds they received this calendar year. The SMS service and the terminals call this.
// Refunds are deposit refunds (and the untracked policy's refunds from the deposit pool); buy-back
// from the county's incentive fund is its own figure (docs/incentives.md, "Refunds and buy-back in
// the figures").
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { returnBuybackFenSql } from '../returns/return-store.js';
import { loadCountyPolicy } from '../ledger/county-policy.js';
import { businessDay } from '../../shared/business-day.js';

export interface FarmerBalance {
  farmerId: string;
  countyId: string;
  asOf: string;
  products: Array<{ productId: string; productName: string; containers: number; refundableFen: number; expiredContainers: number }>;
  outstandingContainers: number;
  refundableFen: number;
  expiredContainers: number;
  /** Deposits past validity still refunded on return under the county's late-return policy. */
  lateRefundableFen: number;
  year: number;
  /** Deposits refunded this calendar year (returns not reversed); buy-back is not in it. */
  refundsThisYearFen: number;
  /** Buy-back paid from the county incentive fund this calendar year (returns not reversed). */
  buybackThisYearFen: number;
}

export async function farmerBalance(knex: Knex, countyId: string, farmerId: string, now: Date): Promise<FarmerBalance> {
  const county = await loadCountyPolicy(knex, countyId);
  const farmer = await knex('farmers').where({ county_id: countyId, id: farmerId }).first('id');
  if (!farmer) throw new AppError('NOT_FOUND', 'No such farmer in this county');
  const rows = (await knex.raw(`
    SELECT p.id AS product_id, p.name AS product_name,
           sum(x.outstanding)::int AS containers, sum(x.outstanding_fen)::bigint AS refundable,
           sum(x.expired)::int AS expired, sum(x.expired_fen)::bigint AS expired_fen
      FROM (
        SELECT product_id, CASE WHEN state = 'outstanding' THEN 1 ELSE 0 END AS outstanding,
               CASE WHEN state = 'outstanding' THEN deposit_fen ELSE 0 END AS outstanding_fen,
               CASE WHEN state = 'expired' THEN 1 ELSE 0 END AS expired,
               CASE WHEN state = 'expired' THEN deposit_fen ELSE 0 END AS expired_fen
          FROM sold_units WHERE county_id = ? AND farmer_id = ? AND state IN ('outstanding', 'expired')
        UNION ALL
        SELECT product_id, outstanding, outstanding::bigint * deposit_fen, expired, expired::bigint * deposit_fen
          FROM deposit_lots WHERE county_id = ? AND farmer_id = ? AND NOT voided AND (outstanding > 0 OR expired > 0)
      ) x JOIN products p ON p.county_id = ? AND p.id = x.product_id
     GROUP BY p.id, p.name ORDER BY p.name`, [countyId, farmerId, countyId, farmerId, countyId])).rows;
  const year = Number(businessDay(now, county.timezone).slice(0, 4));
  // returns.total_refund_fen is all the cash owed for a return; its buy-back allocations are taken out.
  const paid = (await knex.raw(`
    SELECT coalesce(sum(r.total_refund_fen), 0)::bigint AS total, coalesce(sum(${returnBuybackFenSql('r')}), 0)::bigint AS buyback
      FROM returns r
     WHERE r.county_id = ? AND r.farmer_id = ? AND r.business_day BETWEEN ? AND ?
       AND NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = r.county_id AND v.target_type = 'return' AND v.target_id = r.id)`,
  [countyId, farmerId, `${year}-01-01`, `${year}-12-31`])).rows[0] as { total: string | number; buyback: string | number };
  const products = rows.map((r: Record<string, any>) => ({ productId: r.product_id, productName: r.product_name, containers: r.containers, refundableFen: Number(r.refundable), expiredContainers: r.expired }));
  const expiredFen = rows.reduce((s: number, r: Record<string, any>) => s + Number(r.expired_fen), 0);
  return {
    farmerId, countyId, asOf: now.toISOString(), products,
    outstandingContainers: products.reduce((s: number, p: { containers: number }) => s + p.containers, 0),
    refundableFen: products.reduce((s: number, p: { refundableFen: number }) => s + p.refundableFen, 0),
    expiredContainers: products.reduce((s: number, p: { expiredContainers: number }) => s + p.expiredContainers, 0),
    lateRefundableFen: county.lateReturnPolicy === 'refund_from_unredeemed' ? expiredFen : 0,
    year, refundsThisYearFen: Number(paid.total) - Number(paid.buyback), buybackThisYearFen: Number(paid.buyback),
  };
}

/** The same by phone number (E.164), or null when the number is not registered in the county. */
export async function farmerBalanceByPhone(knex: Knex, countyId: string, phoneE164: string, now: Date): Promise<FarmerBalance | null> {
  const farmer = await knex('farmers').where({ county_id: countyId, phone_e164: phoneE164 }).first('id');
  return farmer ? farmerBalance(knex, countyId, farmer.id, now) : null;
}
