// SQL of settlement statements: a shop's figures for a period by event time, as known at a cut-off.
// Buy-back a shop paid out for the incentive fund (buyback_paid) is its own figure; late figures count
// it with the refunds (cash that left the till for the scheme).
import type { Knex } from 'knex';

export interface ShopFigures {
  shopId: string;
  depositsCollectedFen: number;
  refundsPaidFen: number;
  refundsForOtherShopsDepositsFen: number;
  buybackPaidFen: number;
  lateDepositsFen: number;
  lateRefundsFen: number;
  lateEvents: number;
  lateAdjustmentDepositsFen: number;
  lateAdjustmentRefundsFen: number;
  lateAdjustments: number;
  settledFen: number;
}

export async function statementFigures(knex: Knex, countyId: string, from: Date, to: Date, asOf: Date, periodKey: string, settledUpTo: Date): Promise<Map<string, ShopFigures>> {
  const out = new Map<string, ShopFigures>();
  const get = (shopId: string) => {
    let f = out.get(shopId);
    if (!f) {
      f = { shopId, depositsCollectedFen: 0, refundsPaidFen: 0, refundsForOtherShopsDepositsFen: 0, buybackPaidFen: 0, lateDepositsFen: 0, lateRefundsFen: 0, lateEvents: 0, lateAdjustmentDepositsFen: 0, lateAdjustmentRefundsFen: 0, lateAdjustments: 0, settledFen: 0 };
      out.set(shopId, f);
    }
    return f;
  };
  const transfers = (await knex.raw(`
    WITH t AS (
      SELECT t.shop_id, coalesce(o.code, t.code) AS base_code,
             CASE WHEN t.code = 'reversal' THEN -1 ELSE 1 END * CASE WHEN coalesce(o.code, t.code) = 'refund_underpaid' THEN -1 ELSE 1 END AS sign,
             t.amount_fen, t.recorded_at >= ? AS late, t.booked_at IS NOT NULL AS adj
        FROM ledger_transfers t
        LEFT JOIN ledger_transfers o ON o.county_id = t.county_id AND o.id = t.reverses_transfer_id
       WHERE t.county_id = ? AND t.shop_id IS NOT NULL AND coalesce(t.booked_at, t.event_time) >= ? AND coalesce(t.booked_at, t.event_time) < ? AND t.recorded_at <= ?)
    SELECT shop_id,
           coalesce(sum(sign * amount_fen) FILTER (WHERE base_code = 'deposit_collected'), 0)::bigint AS deposits,
           coalesce(sum(sign * amount_fen) FILTER (WHERE base_code IN ('refund_paid', 'late_refund', 'policy_refund', 'held_refund_paid', 'refund_overpaid', 'refund_underpaid')), 0)::bigint AS refunds,
           coalesce(sum(sign * amount_fen) FILTER (WHERE base_code = 'buyback_paid'), 0)::bigint AS buyback,
           coalesce(sum(sign * amount_fen) FILTER (WHERE late AND base_code = 'deposit_collected'), 0)::bigint AS late_deposits,
           coalesce(sum(sign * amount_fen) FILTER (WHERE late AND base_code IN ('refund_paid', 'late_refund', 'policy_refund', 'held_refund_paid', 'refund_overpaid', 'refund_underpaid', 'buyback_paid')), 0)::bigint AS late_refunds,
           count(*) FILTER (WHERE late AND base_code IN ('deposit_collected', 'refund_paid', 'late_refund', 'policy_refund', 'held_refund_paid', 'refund_overpaid', 'refund_underpaid', 'buyback_paid'))::int AS late_events,
           coalesce(sum(sign * amount_fen) FILTER (WHERE adj AND base_code = 'deposit_collected'), 0)::bigint AS adj_deposits,
           coalesce(sum(sign * amount_fen) FILTER (WHERE adj AND base_code IN ('refund_paid', 'late_refund', 'policy_refund', 'held_refund_paid', 'refund_overpaid', 'refund_underpaid', 'buyback_paid')), 0)::bigint AS adj_refunds,
           count(*) FILTER (WHERE adj AND base_code IN ('deposit_collected', 'refund_paid', 'late_refund', 'policy_refund', 'held_refund_paid', 'refund_overpaid', 'refund_underpaid', 'buyback_paid'))::int AS adj_events
      FROM t GROUP BY shop_id`, [to, countyId, from, to, asOf])).rows;
  for (const r of transfers) {
    const f = get(r.shop_id);
    f.depositsCollectedFen = Number(r.deposits);
    f.refundsPaidFen = Number(r.refunds);
    f.buybackPaidFen = Number(r.buyback);
    f.lateDepositsFen = Number(r.late_deposits);
    f.lateRefundsFen = Number(r.late_refunds);
    f.lateEvents = r.late_events;
    f.lateAdjustmentDepositsFen = Number(r.adj_deposits);
    f.lateAdjustmentRefundsFen = Number(r.adj_refunds);
    f.lateAdjustments = r.adj_events;
  }
  // Refunds of deposits another shop collected: by the return's event time, less returns reversed in the period.
  const other = (await knex.raw(`
    SELECT shop_id, sum(amount)::bigint AS amount FROM (
      SELECT r.shop_id, a.amount_fen AS amount
        FROM return_allocations a JOIN returns r ON r.county_id = a.county_id AND r.id = a.return_id
       WHERE a.county_id = ? AND a.deposit_shop_id IS NOT NULL AND a.deposit_shop_id <> r.shop_id
         AND coalesce(r.booked_at, r.event_time) >= ? AND coalesce(r.booked_at, r.event_time) < ? AND r.recorded_at <= ?
      UNION ALL
      SELECT r.shop_id, -a.amount_fen
        FROM return_allocations a JOIN returns r ON r.county_id = a.county_id AND r.id = a.return_id
        JOIN reversals v ON v.county_id = r.county_id AND v.target_type = 'return' AND v.target_id = r.id
       WHERE a.county_id = ? AND a.deposit_shop_id IS NOT NULL AND a.deposit_shop_id <> r.shop_id
         AND coalesce(v.booked_at, v.event_time) >= ? AND coalesce(v.booked_at, v.event_time) < ? AND v.recorded_at <= ?) x
     GROUP BY shop_id`, [countyId, from, to, asOf, countyId, from, to, asOf])).rows;
  for (const r of other) get(r.shop_id).refundsForOtherShopsDepositsFen = Number(r.amount);
  const settled = await knex('settlements').where({ county_id: countyId, period_key: periodKey }).where('recorded_at', '<=', settledUpTo)
    .groupBy('shop_id').select('shop_id', knex.raw(`sum(CASE WHEN direction = 'from_shop' THEN amount_fen ELSE -amount_fen END)::bigint AS settled`));
  for (const r of settled as Array<{ shop_id: string; settled: number }>) get(r.shop_id).settledFen = Number(r.settled);
  return out;
}
