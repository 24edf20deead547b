// The money and unit books of a reconciliation, each figure computed twice where the system keeps it
// twice: from the ledger (transfers and entries) and from the business records (sales, returns and
// their allocations, expiry runs, settlements). Only rows recorded at or before `asOf` count, and only
// immutable rows are read (never sold_units.state or deposit_lots.outstanding, which move), so the
// same county, period and asOf always give the same figures.
import type { Knex } from 'knex';

export interface BookWindow {
  countyId: string;
  from: Date;
  to: Date;
  asOf: Date;
}

/** Money movements by kind; amounts in fen, units in containers. */
// refund_overpaid / refund_underpaid: cash paid at the counter above / below the computed refund
// (offline returns, docs/ledger.md); they move the shop's position, not deposits outstanding.
// held_refund_paid: a refund held for review, paid after approval (docs/ledger.md); it moves the paying
// shop's position only when paid in cash at the shop.
// buyback_paid: buy-back a shop paid from the county incentive fund (docs/incentives.md); it moves the
// paying shop's position like a refund, and the fund, not deposits outstanding.
export const MONEY_KINDS = ['deposit_collected', 'refund_paid', 'late_refund', 'policy_refund', 'deposit_expired', 'settlement_from_shop', 'settlement_to_shop', 'refund_overpaid', 'refund_underpaid', 'held_refund_paid', 'buyback_paid'] as const;
export type MoneyKind = (typeof MONEY_KINDS)[number];

export interface KindFigures {
  periodFen: number;
  cumulativeFen: number; // everything before the period end
  periodUnits: number;
  cumulativeUnits: number;
}

export type ByKind = Record<MoneyKind, KindFigures>;

const zeroKinds = (): ByKind => Object.fromEntries(MONEY_KINDS.map((k) => [k, { periodFen: 0, cumulativeFen: 0, periodUnits: 0, cumulativeUnits: 0 }])) as ByKind;

export interface RecordsBook {
  county: ByKind;
  shops: Map<string, ByKind>;
  /** Accepted returns without refund (units); rejected items (units). */
  acceptedNoRefundPeriod: number;
  rejectedPeriod: number;
}

/**
 * Every money event from the records, reversals as negative rows at the reversal's own time (which is
 * how the ledger posts them). Settlements and expiry runs carry no separate event time: their record
 * time is their event time.
 */
export async function recordsBook(knex: Knex, w: BookWindow): Promise<RecordsBook> {
  const b = { c: w.countyId, from: w.from, to: w.to, asOf: w.asOf };
  const revOf = (type: string, alias: string) =>
    `JOIN reversals v ON v.county_id = ${alias}.county_id AND v.target_type = '${type}' AND v.target_id = ${alias}.id AND v.recorded_at <= :asOf`;
  const allocKind = `CASE a.source WHEN 'unit' THEN 'refund_paid' WHEN 'lot' THEN 'refund_paid' WHEN 'unit_expired' THEN 'late_refund' WHEN 'lot_expired' THEN 'late_refund' WHEN 'policy' THEN 'policy_refund' WHEN 'buyback' THEN 'buyback_paid' ELSE 'none' END`;
  const rows = (await knex.raw(`
    WITH ev AS (
      SELECT s.shop_id, 'deposit_collected' AS kind, l.deposit_fen AS fen, CASE WHEN l.deposit_per_container_fen > 0 THEN l.quantity ELSE 0 END AS units, coalesce(s.booked_at, s.event_time) AS at
        FROM sales s JOIN sale_lines l ON l.county_id = s.county_id AND l.sale_id = s.id
       WHERE s.county_id = :c AND s.recorded_at <= :asOf
      UNION ALL
      SELECT s.shop_id, 'deposit_collected', -l.deposit_fen, CASE WHEN l.deposit_per_container_fen > 0 THEN -l.quantity ELSE 0 END, coalesce(v.booked_at, v.event_time)
        FROM sales s JOIN sale_lines l ON l.county_id = s.county_id AND l.sale_id = s.id ${revOf('sale', 's')}
       WHERE s.county_id = :c AND s.recorded_at <= :asOf
      UNION ALL
      SELECT r.shop_id, ${allocKind}, a.amount_fen, a.quantity, coalesce(r.booked_at, r.event_time)
        FROM returns r JOIN return_allocations a ON a.county_id = r.county_id AND a.return_id = r.id
       WHERE r.county_id = :c AND r.recorded_at <= :asOf
      UNION ALL
      SELECT r.shop_id, ${allocKind}, -a.amount_fen, -a.quantity, coalesce(v.booked_at, v.event_time)
        FROM returns r JOIN return_allocations a ON a.county_id = r.county_id AND a.return_id = r.id ${revOf('return', 'r')}
       WHERE r.county_id = :c AND r.recorded_at <= :asOf
      UNION ALL
      SELECT r.shop_id, CASE WHEN i.refund_difference_fen > 0 THEN 'refund_overpaid' ELSE 'refund_underpaid' END, abs(i.refund_difference_fen), 0, coalesce(r.booked_at, r.event_time)
        FROM returns r JOIN return_items i ON i.county_id = r.county_id AND i.return_id = r.id
       WHERE r.county_id = :c AND r.recorded_at <= :asOf AND i.refund_difference_fen <> 0
      UNION ALL
      SELECT r.shop_id, CASE WHEN i.refund_difference_fen > 0 THEN 'refund_overpaid' ELSE 'refund_underpaid' END, -abs(i.refund_difference_fen), 0, coalesce(v.booked_at, v.event_time)
        FROM returns r JOIN return_items i ON i.county_id = r.county_id AND i.return_id = r.id ${revOf('return', 'r')}
       WHERE r.county_id = :c AND r.recorded_at <= :asOf AND i.refund_difference_fen <> 0
      UNION ALL
      SELECT NULL::uuid, 'deposit_expired', x.amount_fen, x.units_expired + x.lot_containers_expired, x.run_at
        FROM expiry_runs x WHERE x.county_id = :c AND x.run_at <= :asOf
      UNION ALL
      SELECT st.shop_id, 'settlement_' || st.direction, st.amount_fen, 0, st.recorded_at
        FROM settlements st WHERE st.county_id = :c AND st.recorded_at <= :asOf
      UNION ALL
      SELECT CASE WHEN p.method = 'cash' THEN p.shop_id END, 'held_refund_paid', p.amount_fen, 0, p.event_time
        FROM held_refund_payouts p WHERE p.county_id = :c AND p.recorded_at <= :asOf
    )
    SELECT shop_id, kind,
           coalesce(sum(fen) FILTER (WHERE at >= :from AND at < :to), 0)::bigint AS period_fen,
           coalesce(sum(fen) FILTER (WHERE at < :to), 0)::bigint AS cum_fen,
           coalesce(sum(units) FILTER (WHERE at >= :from AND at < :to), 0)::bigint AS period_units,
           coalesce(sum(units) FILTER (WHERE at < :to), 0)::bigint AS cum_units
      FROM ev GROUP BY shop_id, kind`, b)).rows as Array<{ shop_id: string | null; kind: string; period_fen: string; cum_fen: string; period_units: string; cum_units: string }>;
  const county = zeroKinds();
  const shops = new Map<string, ByKind>();
  let acceptedNoRefundPeriod = 0;
  for (const r of rows) {
    if (r.kind === 'none') {
      acceptedNoRefundPeriod += Number(r.period_units);
      continue;
    }
    const k = r.kind as MoneyKind;
    const add = (t: ByKind) => {
      t[k].periodFen += Number(r.period_fen);
      t[k].cumulativeFen += Number(r.cum_fen);
      t[k].periodUnits += Number(r.period_units);
      t[k].cumulativeUnits += Number(r.cum_units);
    };
    add(county);
    if (r.shop_id) {
      if (!shops.has(r.shop_id)) shops.set(r.shop_id, zeroKinds());
      add(shops.get(r.shop_id)!);
    }
  }
  const rejected = (await knex.raw(`
    SELECT coalesce(sum(i.quantity), 0)::bigint AS n FROM returns r JOIN return_items i ON i.county_id = r.county_id AND i.return_id = r.id
     WHERE r.county_id = :c AND r.recorded_at <= :asOf AND coalesce(r.booked_at, r.event_time) >= :from AND coalesce(r.booked_at, r.event_time) < :to AND i.outcome = 'rejected'`, b)).rows[0];
  return { county, shops, acceptedNoRefundPeriod, rejectedPeriod: Number(rejected.n) };
}

export interface LedgerBook {
  /** Movements by the original transfer's code (reversals net against it), county and per shop. */
  county: Record<MoneyKind, { periodFen: number; cumulativeFen: number }>;
  shops: Map<string, Record<MoneyKind, { periodFen: number; cumulativeFen: number }>>;
  /** Account balances (debit-positive) at the period start and end. */
  balances: Map<string, { code: string; shopId: string | null; openingFen: number; closingFen: number }>;
}

export async function ledgerBook(knex: Knex, w: BookWindow): Promise<LedgerBook> {
  const b = { c: w.countyId, from: w.from, to: w.to, asOf: w.asOf };
  const moves = (await knex.raw(`
    SELECT t.shop_id, coalesce(o.code, t.code) AS kind,
           coalesce(sum(CASE WHEN t.code = 'reversal' THEN -t.amount_fen ELSE t.amount_fen END) FILTER (WHERE coalesce(t.booked_at, t.event_time) >= :from AND coalesce(t.booked_at, t.event_time) < :to), 0)::bigint AS period_fen,
           coalesce(sum(CASE WHEN t.code = 'reversal' THEN -t.amount_fen ELSE t.amount_fen END) FILTER (WHERE coalesce(t.booked_at, t.event_time) < :to), 0)::bigint AS cum_fen
      FROM ledger_transfers t LEFT JOIN ledger_transfers o ON o.county_id = t.county_id AND o.id = t.reverses_transfer_id
     WHERE t.county_id = :c AND t.recorded_at <= :asOf
     GROUP BY t.shop_id, coalesce(o.code, t.code)`, b)).rows as Array<{ shop_id: string | null; kind: MoneyKind; period_fen: string; cum_fen: string }>;
  const zero = () => Object.fromEntries(MONEY_KINDS.map((k) => [k, { periodFen: 0, cumulativeFen: 0 }])) as LedgerBook['county'];
  const county = zero();
  const shops = new Map<string, LedgerBook['county']>();
  for (const r of moves) {
    if (!MONEY_KINDS.includes(r.kind)) continue;
    county[r.kind].periodFen += Number(r.period_fen);
    county[r.kind].cumulativeFen += Number(r.cum_fen);
    if (r.shop_id) {
      if (!shops.has(r.shop_id)) shops.set(r.shop_id, zero());
      shops.get(r.shop_id)![r.kind].periodFen += Number(r.period_fen);
      shops.get(r.shop_id)![r.kind].cumulativeFen += Number(r.cum_fen);
    }
  }
  const bal = (await knex.raw(`
    SELECT a.id, a.code, a.shop_id,
           coalesce(sum(e.amount_fen) FILTER (WHERE coalesce(t.booked_at, t.event_time) < :from), 0)::bigint AS opening,
           coalesce(sum(e.amount_fen) FILTER (WHERE coalesce(t.booked_at, t.event_time) < :to), 0)::bigint AS closing
      FROM ledger_accounts a
      LEFT JOIN ledger_entries e ON e.county_id = a.county_id AND e.account_id = a.id
      LEFT JOIN ledger_transfers t ON t.county_id = e.county_id AND t.id = e.transfer_id AND t.recorded_at <= :asOf
     WHERE a.county_id = :c AND (e.transfer_id IS NULL OR t.id IS NOT NULL)
     GROUP BY a.id, a.code, a.shop_id`, b)).rows as Array<{ id: string; code: string; shop_id: string | null; opening: string; closing: string }>;
  const balances = new Map(bal.map((r) => [r.code, { code: r.code, shopId: r.shop_id, openingFen: Number(r.opening), closingFen: Number(r.closing) }]));
  return { county, shops, balances };
}

export interface LateRecord {
  type: 'sale' | 'return';
  id: string;
  shopId: string;
  eventTime: string;
  recordedAt: string;
}

/** Records of the period that reached the server after the period ended (offline tills). */
export async function lateRecords(knex: Knex, w: BookWindow): Promise<LateRecord[]> {
  const b = { c: w.countyId, from: w.from, to: w.to, asOf: w.asOf };
  const rows = (await knex.raw(`
    SELECT 'sale' AS type, id, shop_id, event_time, recorded_at FROM sales
     WHERE county_id = :c AND booked_at IS NULL AND event_time >= :from AND event_time < :to AND recorded_at >= :to AND recorded_at <= :asOf
    UNION ALL
    SELECT 'return', id, shop_id, event_time, recorded_at FROM returns
     WHERE county_id = :c AND booked_at IS NULL AND event_time >= :from AND event_time < :to AND recorded_at >= :to AND recorded_at <= :asOf
     ORDER BY 5, 2`, b)).rows as Array<{ type: 'sale' | 'return'; id: string; shop_id: string; event_time: Date; recorded_at: Date }>;
  return rows.map((r) => ({ type: r.type, id: r.id, shopId: r.shop_id, eventTime: new Date(r.event_time).toISOString(), recordedAt: new Date(r.recorded_at).toISOString() }));
}

export interface LateAdjustment {
  type: 'sale' | 'return' | 'reversal';
  id: string;
  shopId: string;
  eventTime: string;
  recordedAt: string;
  bookedAt: string;
}

/**
 * Late adjustments booked in the period: records whose event month was already closed when the
 * server stored them, counted here, in the first open month, instead (docs/ledger.md, "Period close").
 */
export async function lateAdjustments(knex: Knex, w: BookWindow): Promise<LateAdjustment[]> {
  const b = { c: w.countyId, from: w.from, to: w.to, asOf: w.asOf };
  const rows = (await knex.raw(`
    SELECT 'sale' AS type, id, shop_id, event_time, recorded_at, booked_at FROM sales
     WHERE county_id = :c AND booked_at >= :from AND booked_at < :to AND recorded_at <= :asOf
    UNION ALL
    SELECT 'return', id, shop_id, event_time, recorded_at, booked_at FROM returns
     WHERE county_id = :c AND booked_at >= :from AND booked_at < :to AND recorded_at <= :asOf
    UNION ALL
    SELECT 'reversal', id, shop_id, event_time, recorded_at, booked_at FROM reversals
     WHERE county_id = :c AND booked_at >= :from AND booked_at < :to AND recorded_at <= :asOf
     ORDER BY 5, 2`, b)).rows as Array<{ type: LateAdjustment['type']; id: string; shop_id: string; event_time: Date; recorded_at: Date; booked_at: Date }>;
  return rows.map((r) => ({
    type: r.type, id: r.id, shopId: r.shop_id, eventTime: new Date(r.event_time).toISOString(), recordedAt: new Date(r.recorded_at).toISOString(), bookedAt: new Date(r.booked_at).toISOString(),
  }));
}

/** Unit codes refunded more than once (returns not reversed as of asOf). */
export async function unitsRefundedTwice(knex: Knex, w: BookWindow): Promise<Array<{ unitCode: string; returnIds: string[] }>> {
  const rows = (await knex.raw(`
    SELECT a.unit_code, array_agg(DISTINCT a.return_id::text ORDER BY a.return_id::text) AS returns
      FROM return_allocations a JOIN returns r ON r.county_id = a.county_id AND r.id = a.return_id
     WHERE a.county_id = :c AND a.unit_code IS NOT NULL AND a.source IN ('unit', 'unit_expired') AND r.recorded_at <= :asOf AND coalesce(r.booked_at, r.event_time) < :to
       AND NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = r.county_id AND v.target_type = 'return' AND v.target_id = r.id AND v.recorded_at <= :asOf)
     GROUP BY a.unit_code HAVING count(*) > 1 ORDER BY a.unit_code LIMIT 200`, { c: w.countyId, to: w.to, asOf: w.asOf })).rows as Array<{ unit_code: string; returns: string[] }>;
  return rows.map((r) => ({ unitCode: r.unit_code, returnIds: r.returns }));
}

/** Sales of the period whose deposit differs from the schedule (offline tills with a stale schedule). */
/** Returns of the period where the cash paid at the counter differs from the computed refund. */
export async function refundMismatches(knex: Knex, w: BookWindow): Promise<Array<{ returnId: string; shopId: string; differenceFen: number }>> {
  const rows = (await knex.raw(`
    SELECT r.id, r.shop_id, sum(i.refund_difference_fen)::bigint AS diff
      FROM returns r JOIN return_items i ON i.county_id = r.county_id AND i.return_id = r.id
     WHERE r.county_id = :c AND coalesce(r.booked_at, r.event_time) >= :from AND coalesce(r.booked_at, r.event_time) < :to AND r.recorded_at <= :asOf AND i.refund_difference_fen <> 0
     GROUP BY r.id, r.shop_id ORDER BY r.id LIMIT 500`,
  { c: w.countyId, from: w.from, to: w.to, asOf: w.asOf })).rows as Array<{ id: string; shop_id: string; diff: string }>;
  return rows.map((r) => ({ returnId: r.id, shopId: r.shop_id, differenceFen: Number(r.diff) }));
}

export async function depositMismatches(knex: Knex, w: BookWindow): Promise<Array<{ saleId: string; shopId: string }>> {
  const rows = (await knex.raw(`
    SELECT id, shop_id FROM sales WHERE county_id = :c AND deposit_mismatch AND coalesce(booked_at, event_time) >= :from AND coalesce(booked_at, event_time) < :to AND recorded_at <= :asOf ORDER BY id LIMIT 500`,
  { c: w.countyId, from: w.from, to: w.to, asOf: w.asOf })).rows as Array<{ id: string; shop_id: string }>;
  return rows.map((r) => ({ saleId: r.id, shopId: r.shop_id }));
}
