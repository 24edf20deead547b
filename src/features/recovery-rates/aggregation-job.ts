// Keeps the recovery aggregates (recovery_monthly, recovery_county_monthly) in step with the ledger's
// immutable rows. Incremental and idempotent: each run finds the months touched by rows recorded after
// the county's watermark (sales, returns, the sales those returns refunded, reversals) and rebuilds
// exactly those months from the rows, then moves the watermark. Running it twice changes nothing;
// a crash half-way leaves the old watermark, so the next run redoes the same months.
import type { Knex } from 'knex';
import { archivedYears } from '../archive/archive-store.js';

export const COHORT_DAYS = [30, 90, 180, 365] as const;
export type CohortDays = (typeof COHORT_DAYS)[number];

export interface AggregationResult {
  countyId: string;
  monthsRebuilt: string[];
  watermark: string;
}

/** Rows recorded within this long of "now" wait for the next run, so a transaction still open then is not skipped. */
export const DEFAULT_SETTLE_MS = 60_000;

const notReversed = (alias: string, type: 'sale' | 'return') =>
  `NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = ${alias}.county_id AND v.target_type = '${type}' AND v.target_id = ${alias}.id AND v.recorded_at <= :h)`;

const FIGURES = ['sold_units', 'sold_deposit_fen', 'sold_mass_g', 'returned_units', 'returned_mass_g', 'refunded_fen', 'cohort_returned_30', 'cohort_returned_90', 'cohort_returned_180', 'cohort_returned_365'] as const;

function monthRange(month: string): { d0: string; d1: string } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
  return { d0: `${month}-01`, d1: `${next}-01` };
}

/** The months whose figures rows recorded in (w, h] can change. */
async function dirtyMonths(trx: Knex.Transaction, countyId: string, w: Date | null, h: Date): Promise<string[]> {
  const since = w ? 'AND x.recorded_at > :w' : '';
  const b = { c: countyId, w, h };
  const rows = (await trx.raw(`
    SELECT DISTINCT m FROM (
      SELECT to_char(x.business_day, 'YYYY-MM') AS m FROM sales x WHERE x.county_id = :c AND x.recorded_at <= :h ${since}
      UNION SELECT to_char(x.business_day, 'YYYY-MM') FROM returns x WHERE x.county_id = :c AND x.recorded_at <= :h ${since}
      UNION SELECT to_char(s.business_day, 'YYYY-MM') FROM returns x
              JOIN return_allocations a ON a.county_id = x.county_id AND a.return_id = x.id AND a.sale_id IS NOT NULL
              JOIN sales s ON s.county_id = a.county_id AND s.id = a.sale_id
             WHERE x.county_id = :c AND x.recorded_at <= :h ${since}
      UNION SELECT to_char(s.business_day, 'YYYY-MM') FROM reversals x JOIN sales s ON s.county_id = x.county_id AND s.id = x.target_id
             WHERE x.county_id = :c AND x.target_type = 'sale' AND x.recorded_at <= :h ${since}
      UNION SELECT to_char(r.business_day, 'YYYY-MM') FROM reversals x JOIN returns r ON r.county_id = x.county_id AND r.id = x.target_id
             WHERE x.county_id = :c AND x.target_type = 'return' AND x.recorded_at <= :h ${since}
      UNION SELECT to_char(s.business_day, 'YYYY-MM') FROM reversals x
              JOIN return_allocations a ON a.county_id = x.county_id AND a.return_id = x.target_id AND a.sale_id IS NOT NULL
              JOIN sales s ON s.county_id = a.county_id AND s.id = a.sale_id
             WHERE x.county_id = :c AND x.target_type = 'return' AND x.recorded_at <= :h ${since}
    ) d ORDER BY m`, b)).rows as Array<{ m: string }>;
  return rows.map((r) => r.m);
}

/** Rebuilds one month of a county from the rows recorded at or before h. */
async function rebuildMonth(trx: Knex.Transaction, countyId: string, month: string, h: Date): Promise<void> {
  const { d0, d1 } = monthRange(month);
  const b = { c: countyId, month, d0, d1, h };
  const cohortCols = COHORT_DAYS.map((n) => `coalesce(sum(a.quantity) FILTER (WHERE r.event_time - s.event_time <= interval '${n} days'), 0) AS c${n}`).join(', ');
  await trx('recovery_monthly').where({ county_id: countyId, month }).update(Object.fromEntries(FIGURES.map((f) => [f, 0])));
  await trx.raw(`
    INSERT INTO recovery_monthly (county_id, month, shop_id, product_id, ${FIGURES.join(', ')})
    SELECT :c, :month, shop_id, product_id,
           sum(su)::int, sum(sd)::bigint, sum(sm)::bigint, sum(ru)::int, sum(rm)::bigint, sum(rf)::bigint,
           sum(c30)::int, sum(c90)::int, sum(c180)::int, sum(c365)::int
      FROM (
        SELECT s.shop_id, l.product_id, sum(l.quantity) AS su, sum(l.deposit_fen) AS sd, sum(l.quantity::bigint * ct.tare_weight_g) AS sm,
               0 AS ru, 0 AS rm, 0 AS rf, 0 AS c30, 0 AS c90, 0 AS c180, 0 AS c365
          FROM sales s
          JOIN sale_lines l ON l.county_id = s.county_id AND l.sale_id = s.id
          JOIN products p ON p.county_id = l.county_id AND p.id = l.product_id
          JOIN container_types ct ON ct.county_id = p.county_id AND ct.id = p.container_type_id
         WHERE s.county_id = :c AND s.business_day >= :d0 AND s.business_day < :d1 AND s.recorded_at <= :h
           AND l.deposit_per_container_fen > 0 AND ${notReversed('s', 'sale')}
         GROUP BY s.shop_id, l.product_id
        UNION ALL
        SELECT r.shop_id, i.product_id, 0, 0, 0, sum(i.quantity), sum(i.quantity::bigint * ct.tare_weight_g),
               -- deposits refunded: buy-back paid from the incentive fund is no deposit (docs/incentives.md)
               sum(i.refund_fen - coalesce((SELECT sum(b.amount_fen) FROM return_allocations b WHERE b.county_id = i.county_id AND b.return_id = i.return_id AND b.item_no = i.item_no AND b.source = 'buyback'), 0)), 0, 0, 0, 0
          FROM returns r
          JOIN return_items i ON i.county_id = r.county_id AND i.return_id = r.id
          JOIN products p ON p.county_id = i.county_id AND p.id = i.product_id
          JOIN container_types ct ON ct.county_id = p.county_id AND ct.id = p.container_type_id
         WHERE r.county_id = :c AND r.business_day >= :d0 AND r.business_day < :d1 AND r.recorded_at <= :h
           AND i.outcome <> 'rejected' AND ${notReversed('r', 'return')}
         GROUP BY r.shop_id, i.product_id
        UNION ALL
        SELECT s.shop_id, l.product_id, 0, 0, 0, 0, 0, 0, ${cohortCols}
          FROM sales s
          JOIN return_allocations a ON a.county_id = s.county_id AND a.sale_id = s.id
          JOIN sale_lines l ON l.county_id = a.county_id AND l.sale_id = a.sale_id AND l.line_no = a.line_no
          JOIN returns r ON r.county_id = a.county_id AND r.id = a.return_id
         WHERE s.county_id = :c AND s.business_day >= :d0 AND s.business_day < :d1 AND s.recorded_at <= :h
           AND a.source IN ('unit', 'lot', 'unit_expired', 'lot_expired') AND l.deposit_per_container_fen > 0
           AND r.recorded_at <= :h AND ${notReversed('r', 'return')} AND ${notReversed('s', 'sale')}
         GROUP BY s.shop_id, l.product_id
      ) x
     GROUP BY shop_id, product_id
    ON CONFLICT (county_id, month, shop_id, product_id) DO UPDATE SET
      ${FIGURES.map((f) => `${f} = EXCLUDED.${f}`).join(', ')}`, b);
  await trx.raw(`
    INSERT INTO recovery_county_monthly (county_id, month, ${FIGURES.join(', ')})
    SELECT :c, :month, ${FIGURES.map((f) => `coalesce(sum(${f}), 0)`).join(', ')}
      FROM recovery_monthly WHERE county_id = :c AND month = :month
    ON CONFLICT (county_id, month) DO UPDATE SET ${FIGURES.map((f) => `${f} = EXCLUDED.${f}`).join(', ')}`, { c: countyId, month });
}

/**
 * Brings a county's aggregates up to `now`. Rows recorded in the last `settleMs` are counted at once
 * (a refresh right after activity shows it), but the watermark only moves to `now − settleMs`: a
 * transaction still open then and committed later with an earlier recorded_at is picked up by the
 * next run, which rebuilds those recent months again (idempotent). A watermark later than `now` (a
 * generator that ran with a future clock, a clock set back) is not trusted: everything is rebuilt.
 * Locks the county's state row, so two runs (the scheduler and an API call) never rebuild the same
 * county at once.
 */
export async function refreshRecoveryAggregates(knex: Knex, countyId: string, now: Date, settleMs = DEFAULT_SETTLE_MS): Promise<AggregationResult> {
  return knex.transaction(async (trx) => {
    await trx('recovery_aggregation_state').insert({ county_id: countyId, watermark: null, refreshed_at: now, months_rebuilt: 0 }).onConflict('county_id').ignore();
    const state = await trx('recovery_aggregation_state').where({ county_id: countyId }).forUpdate().first();
    let w: Date | null = state?.watermark ? new Date(state.watermark) : null;
    // An archived year's months keep the figures stored while its records were live (the archive
    // refreshes them first): rebuilt from the live tables they would lose what the archive moved.
    const archived = new Set([...(await archivedYears(trx, countyId)).keys()].map(String));
    const live = (m: string) => !archived.has(m.slice(0, 4));
    if (w && w.getTime() > now.getTime()) {
      w = null;
      // Rows are never deleted: every month goes to zero and the months with rows are rebuilt below.
      const zero = Object.fromEntries(FIGURES.map((f) => [f, 0]));
      const years = [...archived];
      await trx('recovery_monthly').where({ county_id: countyId }).whereRaw('NOT (left(month, 4) = ANY(?::text[]))', [years]).update(zero);
      await trx('recovery_county_monthly').where({ county_id: countyId }).whereRaw('NOT (left(month, 4) = ANY(?::text[]))', [years]).update(zero);
    }
    const safe = new Date(now.getTime() - settleMs);
    const months = (await dirtyMonths(trx, countyId, w, now)).filter(live);
    for (const m of months) await rebuildMonth(trx, countyId, m, now);
    const watermark = w && w.getTime() > safe.getTime() ? w : safe;
    await trx('recovery_aggregation_state').where({ county_id: countyId }).update({ watermark, refreshed_at: now, months_rebuilt: months.length });
    return { countyId, monthsRebuilt: months, watermark: watermark.toISOString() };
  });
}

/** Whether rows were recorded at or after `since` (and not after `now`): a cheap indexed check before a refresh (at, not only after: a row may share the last refresh's millisecond). */
export async function recordedSince(knex: Knex, countyId: string, since: Date, now: Date): Promise<boolean> {
  const r = await knex.raw(`
    SELECT EXISTS (SELECT 1 FROM sales WHERE county_id = :c AND recorded_at >= :s AND recorded_at <= :n)
        OR EXISTS (SELECT 1 FROM returns WHERE county_id = :c AND recorded_at >= :s AND recorded_at <= :n)
        OR EXISTS (SELECT 1 FROM reversals WHERE county_id = :c AND recorded_at >= :s AND recorded_at <= :n) AS changed`, { c: countyId, s: since, n: now });
  return Boolean(r.rows[0].changed);
}

/** Rebuilds every month of a county's year from the live tables (a restored year: what changed while it was archived). */
export async function rebuildRecoveryYear(trx: Knex.Transaction, countyId: string, year: number, now: Date): Promise<void> {
  for (let m = 1; m <= 12; m++) await rebuildMonth(trx, countyId, `${year}-${String(m).padStart(2, '0')}`, now);
}

/** The scheduled form: every active county, one transaction each. */
export async function refreshAllCounties(knex: Knex, now: Date, settleMs = DEFAULT_SETTLE_MS): Promise<AggregationResult[]> {
  const counties = (await knex('counties').where({ active: true }).orderBy('id').select('id')) as Array<{ id: string }>;
  const out: AggregationResult[] = [];
  for (const { id } of counties) out.push(await refreshRecoveryAggregates(knex, id, now, settleMs));
  return out;
}
