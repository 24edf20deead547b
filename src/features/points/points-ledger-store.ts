// SQL of the points ledger's life after earning (docs/incentives-points.md): a farmer's points by
// the year they were earned and what has been taken from them (first in, first out), the farmer's
// transfers newest first, and the redemption rows shops write.
import type { Knex } from 'knex';

/** A farmer's points as lots by year earned, and what redemptions and expiries took (milli-points). */
export interface PointsLots {
  farmerId: string;
  /** Net points earned per calendar year of the earning's business day (reversed earnings taken out of their year). */
  byYear: Map<number, number>;
  /** What left the farmer's account other than by reversing an earning: redeemed + expired, less reversed redemptions. */
  consumed: number;
  earned: number;
  redeemed: number;
  expired: number;
}

/**
 * The lots of every farmer of the county (or of one). A farmer's account is credited when they earn
 * and debited when they redeem or lapse; a reversal of an earning takes points out of that earning's
 * year, any other movement counts against the lots oldest first.
 */
export async function readPointsLots(knex: Knex, countyId: string, farmerIds?: string[]): Promise<Map<string, PointsLots>> {
  const filter = farmerIds ? `AND t.farmer_id IN (SELECT json_array_elements_text(?::json)::uuid)` : '';
  const rows = (await knex.raw(`
    SELECT t.farmer_id,
           CASE WHEN t.code = 'earned' THEN extract(year FROM t.business_day)::int
                WHEN t.code = 'reversal' AND o.code = 'earned' THEN extract(year FROM o.business_day)::int END AS year,
           CASE WHEN t.code = 'reversal' THEN o.code ELSE t.code END AS kind,
           sum(CASE WHEN t.credit_account_id = a.id THEN t.amount_milli ELSE -t.amount_milli END)::bigint AS to_farmer
      FROM points_transfers t
      JOIN points_accounts a ON a.county_id = t.county_id AND a.kind = 'farmer' AND a.farmer_id = t.farmer_id
      LEFT JOIN points_transfers o ON o.county_id = t.county_id AND o.id = t.reverses_transfer_id
     WHERE t.county_id = ? ${filter}
     GROUP BY 1, 2, 3`, farmerIds ? [countyId, JSON.stringify(farmerIds)] : [countyId])).rows as Array<{ farmer_id: string; year: number | null; kind: string | null; to_farmer: number | string }>;
  const out = new Map<string, PointsLots>();
  for (const r of rows) {
    let lots = out.get(r.farmer_id);
    if (!lots) {
      lots = { farmerId: r.farmer_id, byYear: new Map(), consumed: 0, earned: 0, redeemed: 0, expired: 0 };
      out.set(r.farmer_id, lots);
    }
    const toFarmer = Number(r.to_farmer);
    if (r.year !== null && r.year !== undefined) {
      lots.byYear.set(Number(r.year), (lots.byYear.get(Number(r.year)) ?? 0) + toFarmer);
      lots.earned += toFarmer;
    } else {
      lots.consumed -= toFarmer;
      if (r.kind === 'expired') lots.expired -= toFarmer;
      else lots.redeemed -= toFarmer;
    }
  }
  return out;
}

export interface PointsTransferView {
  transferId: string;
  code: string;
  amountMilli: number;
  /** What the transfer did to the farmer's balance: + earned, − redeemed or expired. */
  deltaMilli: number;
  refType: string;
  refId: string;
  shopId: string | null;
  unitCode: string | null;
  eventTime: string;
  businessDay: string;
  recordedAt: string;
}

/** A page of a farmer's transfers, newest first (by the order the server stored them), after the cursor's transfer. */
export async function farmerTransfersPage(knex: Knex, countyId: string, farmerId: string, limit: number, cursor?: string): Promise<{ items: PointsTransferView[]; nextCursor: string | null } | null> {
  let afterSeq: number | null = null;
  if (cursor) {
    const c = await knex('points_transfers').where({ county_id: countyId, id: cursor, farmer_id: farmerId }).first('seq');
    if (!c) return null;
    afterSeq = Number(c.seq);
  }
  const q = knex('points_transfers as t')
    .join('points_accounts as a', function () { this.on('a.county_id', '=', 't.county_id').andOn('a.farmer_id', '=', 't.farmer_id').andOnVal('a.kind', '=', 'farmer'); })
    .where({ 't.county_id': countyId, 't.farmer_id': farmerId })
    .orderBy('t.seq', 'desc').limit(limit + 1)
    .select('t.id', 't.code', 't.amount_milli', 't.credit_account_id', 'a.id as account_id', 't.ref_type', 't.ref_id', 't.shop_id', 't.unit_code', 't.event_time', 't.business_day', 't.recorded_at', 't.seq');
  if (afterSeq !== null) q.where('t.seq', '<', afterSeq);
  const rows = (await q) as Array<Record<string, any>>;
  const more = rows.length > limit;
  const items = rows.slice(0, limit).map((r) => ({
    transferId: r.id, code: r.code, amountMilli: Number(r.amount_milli),
    deltaMilli: r.credit_account_id === r.account_id ? Number(r.amount_milli) : -Number(r.amount_milli),
    refType: r.ref_type, refId: r.ref_id, shopId: r.shop_id ?? null, unitCode: r.unit_code ?? null,
    eventTime: new Date(r.event_time).toISOString(), businessDay: String(r.business_day), recordedAt: new Date(r.recorded_at).toISOString(),
  }));
  return { items, nextCursor: more ? items[items.length - 1]!.transferId : null };
}

export interface RedemptionRow {
  county_id: string;
  id: string;
  shop_id: string;
  farmer_id: string;
  points_milli: number;
  goods: string;
  goods_value_fen: number;
  event_time: Date;
  business_day: string;
  recorded_at: Date;
  actor: string;
  booked_at: Date | null;
}

/** Writes a redemption; returns its number (the county server's running number). */
export async function insertRedemption(trx: Knex.Transaction, row: RedemptionRow): Promise<number> {
  const [stored] = await trx('points_redemptions').insert(row).returning('redemption_no');
  return Number((stored as { redemption_no: number | string }).redemption_no);
}

/** Farmers of the county who hold points (their account owes them something). */
export async function farmersHoldingPoints(knex: Knex, countyId: string): Promise<string[]> {
  const rows = await knex('points_accounts').where({ county_id: countyId, kind: 'farmer' }).where('balance_milli', '<', 0).orderBy('farmer_id').select('farmer_id');
  return rows.map((r: { farmer_id: string }) => r.farmer_id);
}
