// Per-day books of a reconciliation (docs/reconciliation.md, "Books"). Every figure the money and
// unit books sum — movements from the records, from the ledger, and account balances — is folded
// into reconciliation_day_books per county, record day and booked day. The source tables mark the
// record days they write (statement triggers, migration 20261130010000); refreshBooks rebuilds only
// those days. A reconciliation then reads:
//   the books of every record day before asOf's day that is not dirty in its snapshot
//   + the raw rows of asOf's own day up to asOf, and of any day still dirty
// which is exactly the set of rows recorded at or before asOf — the same rows the full recomputation
// reads — so the figures, and the fingerprint, are the same.
import type { Knex } from 'knex';
import { addDays, businessDay, dayStart } from '../../shared/business-day.js';
import { archivedYears } from '../archive/archive-store.js';
import { MONEY_KINDS, type BookWindow, type ByKind, type LedgerBook, type MoneyKind, type RecordsBook } from './money-units-book.js';

export const NIL_KEY = '00000000-0000-0000-0000-000000000000';

const allocKind = `CASE a.source WHEN 'unit' THEN 'refund_paid' WHEN 'lot' THEN 'refund_paid' WHEN 'unit_expired' THEN 'late_refund' WHEN 'lot_expired' THEN 'late_refund' WHEN 'policy' THEN 'policy_refund' WHEN 'buyback' THEN 'buyback_paid' ELSE 'none' END`;
const diffKind = `CASE WHEN i.refund_difference_fen > 0 THEN 'refund_overpaid' ELSE 'refund_underpaid' END`;

/**
 * Every contribution of a county as (source, key_id, kind, fen, units, at, rec): `at` the instant it
 * counts at, `rec` the instant it became known (for a reversal: the later of it and its target).
 * The same events the full recomputation (money-units-book.ts) reads; the caller filters on rec.
 * Binds :c.
 */
export const CONTRIBUTIONS = `
  SELECT 'records'::text AS source, s.shop_id AS key_id, 'deposit_collected'::text AS kind, l.deposit_fen::bigint AS fen,
         (CASE WHEN l.deposit_per_container_fen > 0 THEN l.quantity ELSE 0 END)::bigint AS units, coalesce(s.booked_at, s.event_time) AS at, s.recorded_at AS rec
    FROM sales s JOIN sale_lines l ON l.county_id = s.county_id AND l.sale_id = s.id WHERE s.county_id = :c
  UNION ALL
  SELECT 'records', s.shop_id, 'deposit_collected', -l.deposit_fen, (CASE WHEN l.deposit_per_container_fen > 0 THEN -l.quantity ELSE 0 END)::bigint,
         coalesce(v.booked_at, v.event_time), greatest(s.recorded_at, v.recorded_at)
    FROM reversals v JOIN sales s ON s.county_id = v.county_id AND s.id = v.target_id JOIN sale_lines l ON l.county_id = s.county_id AND l.sale_id = s.id
   WHERE v.county_id = :c AND v.target_type = 'sale'
  UNION ALL
  SELECT 'records', r.shop_id, ${allocKind}, a.amount_fen, a.quantity::bigint, coalesce(r.booked_at, r.event_time), r.recorded_at
    FROM returns r JOIN return_allocations a ON a.county_id = r.county_id AND a.return_id = r.id WHERE r.county_id = :c
  UNION ALL
  SELECT 'records', r.shop_id, ${allocKind}, -a.amount_fen, -a.quantity::bigint, coalesce(v.booked_at, v.event_time), greatest(r.recorded_at, v.recorded_at)
    FROM reversals v JOIN returns r ON r.county_id = v.county_id AND r.id = v.target_id JOIN return_allocations a ON a.county_id = r.county_id AND a.return_id = r.id
   WHERE v.county_id = :c AND v.target_type = 'return'
  UNION ALL
  SELECT 'records', r.shop_id, ${diffKind}, abs(i.refund_difference_fen)::bigint, 0::bigint, coalesce(r.booked_at, r.event_time), r.recorded_at
    FROM returns r JOIN return_items i ON i.county_id = r.county_id AND i.return_id = r.id WHERE r.county_id = :c AND i.refund_difference_fen <> 0
  UNION ALL
  SELECT 'records', r.shop_id, ${diffKind}, -abs(i.refund_difference_fen)::bigint, 0::bigint, coalesce(v.booked_at, v.event_time), greatest(r.recorded_at, v.recorded_at)
    FROM reversals v JOIN returns r ON r.county_id = v.county_id AND r.id = v.target_id JOIN return_items i ON i.county_id = r.county_id AND i.return_id = r.id
   WHERE v.county_id = :c AND v.target_type = 'return' AND i.refund_difference_fen <> 0
  UNION ALL
  -- Items by outcome at the receiving shop and the return's time: rejected (never reversed out, as
  -- in the recomputation), accepted (reversed out at the return's own time: custody counts returns
  -- not reversed as of asOf, whenever the reversal happened).
  SELECT 'records', r.shop_id, CASE WHEN i.outcome = 'rejected' THEN 'rejected' ELSE 'accepted' END, 0::bigint, i.quantity::bigint, coalesce(r.booked_at, r.event_time), r.recorded_at
    FROM returns r JOIN return_items i ON i.county_id = r.county_id AND i.return_id = r.id WHERE r.county_id = :c
  UNION ALL
  SELECT 'records', r.shop_id, 'accepted', 0::bigint, -i.quantity::bigint, coalesce(r.booked_at, r.event_time), greatest(r.recorded_at, v.recorded_at)
    FROM reversals v JOIN returns r ON r.county_id = v.county_id AND r.id = v.target_id JOIN return_items i ON i.county_id = r.county_id AND i.return_id = r.id
   WHERE v.county_id = :c AND v.target_type = 'return' AND i.outcome <> 'rejected'
  UNION ALL
  SELECT 'records', NULL::uuid, 'deposit_expired', x.amount_fen, (x.units_expired + x.lot_containers_expired)::bigint, x.run_at, x.run_at
    FROM expiry_runs x WHERE x.county_id = :c
  UNION ALL
  SELECT 'records', st.shop_id, 'settlement_' || st.direction, st.amount_fen, 0::bigint, st.recorded_at, st.recorded_at
    FROM settlements st WHERE st.county_id = :c
  UNION ALL
  SELECT 'records', CASE WHEN p.method = 'cash' THEN p.shop_id END, 'held_refund_paid', p.amount_fen, 0::bigint, p.event_time, p.recorded_at
    FROM held_refund_payouts p WHERE p.county_id = :c
  UNION ALL
  SELECT 'ledger', t.shop_id, coalesce(o.code, t.code), CASE WHEN t.code = 'reversal' THEN -t.amount_fen ELSE t.amount_fen END, 0::bigint, coalesce(t.booked_at, t.event_time), t.recorded_at
    FROM ledger_transfers t LEFT JOIN ledger_transfers o ON o.county_id = t.county_id AND o.id = t.reverses_transfer_id WHERE t.county_id = :c
  UNION ALL
  SELECT 'balance', e.account_id, '', e.amount_fen, 0::bigint, coalesce(t.booked_at, t.event_time), t.recorded_at
    FROM ledger_entries e JOIN ledger_transfers t ON t.county_id = e.county_id AND t.id = e.transfer_id WHERE e.county_id = :c`;

interface Range { lo: Date | null; hi: Date | null; hiInclusive?: boolean }

/** Contiguous runs of days as instant ranges [dayStart(first), dayStart(last + 1)). */
export function dayRanges(days: string[], timeZone: string): Array<{ firstDay: string; endDay: string; lo: Date; hi: Date }> {
  const sorted = [...new Set(days)].sort();
  const out: Array<{ firstDay: string; endDay: string; lo: Date; hi: Date }> = [];
  for (const d of sorted) {
    const last = out[out.length - 1];
    if (last && last.endDay === d) {
      last.endDay = addDays(d, 1);
      last.hi = dayStart(last.endDay, timeZone);
    } else {
      const endDay = addDays(d, 1);
      out.push({ firstDay: d, endDay, lo: dayStart(d, timeZone), hi: dayStart(endDay, timeZone) });
    }
  }
  return out;
}

function recFilter(r: Range): { sql: string; bindings: Record<string, unknown> } {
  const parts: string[] = [];
  const bindings: Record<string, unknown> = {};
  if (r.lo) { parts.push('e.rec >= :lo'); bindings.lo = r.lo; }
  if (r.hi) { parts.push(r.hiInclusive ? 'e.rec <= :hi' : 'e.rec < :hi'); bindings.hi = r.hi; }
  return { sql: parts.length ? parts.join(' AND ') : 'true', bindings };
}

const LOCK_NS = 1_331_850_101; // advisory lock namespace of the books ("Oks" + county)

async function lockCounty(trx: Knex.Transaction, countyId: string): Promise<void> {
  await trx.raw('SELECT pg_advisory_xact_lock(?, hashtext(?))', [LOCK_NS, countyId]);
}

/**
 * Folds every dirty record day of a county into its books (all days when the county has no books
 * yet or its time zone changed). Concurrent refreshes of one county queue on an advisory lock.
 * Returns the number of days rebuilt (-1: a full build).
 */
export async function refreshBooks(knex: Knex, countyId: string, now: Date = new Date()): Promise<{ days: number; full: boolean }> {
  return knex.transaction(async (trx) => {
    await lockCounty(trx, countyId);
    const county = (await trx('counties').where({ id: countyId }).first('timezone')) as { timezone: string } | undefined;
    if (!county) return { days: 0, full: false };
    const tz = county.timezone;
    const state = (await trx('reconciliation_book_state').where({ county_id: countyId }).first('timezone')) as { timezone: string } | undefined;
    const marks = (await trx.raw(`SELECT DISTINCT to_char(rec_day, 'YYYY-MM-DD') AS day, tx::text AS tx FROM reconciliation_dirty_days WHERE county_id = ?`, [countyId])).rows as Array<{ day: string; tx: string }>;
    const full = !state || state.timezone !== tz;
    if (!full && marks.length === 0) return { days: 0, full: false };
    const c = { c: countyId, tz };
    const insert = async (r: Range) => {
      const f = recFilter(r);
      await trx.raw(`
        INSERT INTO reconciliation_day_books (county_id, rec_day, at_day, source, key_id, kind, fen, units)
        SELECT :c, (e.rec AT TIME ZONE :tz)::date, (e.at AT TIME ZONE :tz)::date, e.source, coalesce(e.key_id, '${NIL_KEY}'::uuid), e.kind, sum(e.fen), sum(e.units)
          FROM (${CONTRIBUTIONS}) e WHERE ${f.sql}
         GROUP BY 2, 3, 4, 5, 6`, { ...c, ...f.bindings });
      if (!r.lo && !r.hi) {
        await trx.raw(`
          INSERT INTO book_unit_duplicates (county_id, unit_code)
          SELECT county_id, unit_code FROM return_allocations WHERE county_id = :c AND unit_code IS NOT NULL AND source IN ('unit', 'unit_expired')
           GROUP BY county_id, unit_code HAVING count(*) > 1
          ON CONFLICT DO NOTHING`, c);
        return;
      }
      await trx.raw(`
        INSERT INTO book_unit_duplicates (county_id, unit_code)
        SELECT DISTINCT a.county_id, a.unit_code FROM returns r JOIN return_allocations a ON a.county_id = r.county_id AND a.return_id = r.id
         WHERE r.county_id = :c AND ${f.sql.replace(/e\.rec/g, 'r.recorded_at')} AND a.unit_code IS NOT NULL AND a.source IN ('unit', 'unit_expired')
           AND EXISTS (SELECT 1 FROM return_allocations b WHERE b.county_id = a.county_id AND b.unit_code = a.unit_code AND b.source IN ('unit', 'unit_expired')
                        AND (b.return_id, b.item_no, b.alloc_no) <> (a.return_id, a.item_no, a.alloc_no))
        ON CONFLICT DO NOTHING`, { ...c, ...f.bindings });
    };
    let days = 0;
    if (full) {
      await trx('reconciliation_day_books').where({ county_id: countyId }).delete();
      await insert({ lo: null, hi: null });
    } else {
      const ranges = dayRanges(marks.map((m) => m.day), tz);
      for (const r of ranges) {
        await trx('reconciliation_day_books').where({ county_id: countyId }).andWhere('rec_day', '>=', r.firstDay).andWhere('rec_day', '<', r.endDay).delete();
        await insert({ lo: r.lo, hi: r.hi });
      }
      days = new Set(marks.map((m) => m.day)).size;
    }
    // Exactly the marks seen above: a writer committing after that read keeps its mark.
    if (marks.length) {
      await trx.raw(`DELETE FROM reconciliation_dirty_days d USING unnest(?::date[], ?::bigint[]) AS x(day, tx)
                      WHERE d.county_id = ? AND d.rec_day = x.day AND d.tx = x.tx`, [marks.map((m) => m.day), marks.map((m) => m.tx), countyId]);
    }
    // A full build reads the live tables only: the years archived now are missing from it (archive by year).
    const missing = full ? [...(await archivedYears(trx, countyId)).keys()] : [];
    await trx.raw(`
      INSERT INTO reconciliation_book_state (county_id, timezone, built_at, refreshed_at, days_refreshed, missing_years) VALUES (?, ?, ?, ?, ?, ?::integer[])
      ON CONFLICT (county_id) DO UPDATE SET timezone = excluded.timezone, refreshed_at = excluded.refreshed_at, days_refreshed = excluded.days_refreshed,
        built_at = CASE WHEN ? THEN excluded.built_at ELSE reconciliation_book_state.built_at END,
        missing_years = CASE WHEN ? THEN excluded.missing_years ELSE reconciliation_book_state.missing_years END`, [countyId, tz, now, now, full ? -1 : days, missing, full, full]);
    return { days: full ? -1 : days, full };
  });
}

export interface BookFigures {
  records: RecordsBook;
  ledger: LedgerBook;
  /** Accepted containers per receiving shop, to the period end, returns reversed by asOf left out. */
  acceptedByShop: Map<string, number>;
}

/**
 * The money and unit figures of a window from the books. Must run in a REPEATABLE READ transaction
 * (one snapshot for books, dirty marks and raw rows). Null when the county has no books in this
 * snapshot (the caller recomputes).
 */
export async function figuresFromBooks(trx: Knex.Transaction, w: BookWindow, timeZone: string): Promise<BookFigures | null> {
  const state = (await trx('reconciliation_book_state').where({ county_id: w.countyId }).first('timezone')) as { timezone: string } | undefined;
  if (!state || state.timezone !== timeZone) return null;
  const asOfDay = businessDay(w.asOf, timeZone);
  const fromDay = businessDay(w.from, timeZone);
  const toDay = businessDay(w.to, timeZone);
  const dirty = ((await trx.raw(`SELECT DISTINCT to_char(rec_day, 'YYYY-MM-DD') AS day FROM reconciliation_dirty_days WHERE county_id = ? AND rec_day < ?::date`, [w.countyId, asOfDay])).rows as Array<{ day: string }>).map((r) => r.day);
  // Raw parts: asOf's own day up to asOf, and each dirty run of days.
  const raws: Range[] = [{ lo: dayStart(asOfDay, timeZone), hi: w.asOf, hiInclusive: true }, ...dayRanges(dirty, timeZone).map((r) => ({ lo: r.lo, hi: r.hi }))];
  const parts: string[] = [];
  const bindings: Record<string, unknown> = { c: w.countyId, tz: timeZone, asOfDay, fromDay, toDay, dirty };
  parts.push(`SELECT source, key_id, kind, at_day, fen, units FROM reconciliation_day_books
               WHERE county_id = :c AND rec_day < :asOfDay::date AND NOT (rec_day = ANY(:dirty::date[]))`);
  raws.forEach((r, i) => {
    const f = recFilter(r);
    let sql = f.sql;
    for (const [k, v] of Object.entries(f.bindings)) {
      bindings[`${k}${i}`] = v;
      sql = sql.replace(new RegExp(`:${k}\\b`), `:${k}${i}`);
    }
    parts.push(`SELECT e.source, coalesce(e.key_id, '${NIL_KEY}'::uuid), e.kind, (e.at AT TIME ZONE :tz)::date, e.fen, e.units FROM (${CONTRIBUTIONS}) e WHERE ${sql}`);
  });
  const rows = (await trx.raw(`
    SELECT source, key_id, kind,
           coalesce(sum(fen) FILTER (WHERE at_day < :fromDay::date), 0)::bigint AS before_fen,
           coalesce(sum(fen) FILTER (WHERE at_day >= :fromDay::date AND at_day < :toDay::date), 0)::bigint AS period_fen,
           coalesce(sum(units) FILTER (WHERE at_day < :fromDay::date), 0)::bigint AS before_units,
           coalesce(sum(units) FILTER (WHERE at_day >= :fromDay::date AND at_day < :toDay::date), 0)::bigint AS period_units
      FROM (${parts.join('\n UNION ALL\n')}) b
     GROUP BY source, key_id, kind`, bindings)).rows as Array<{ source: string; key_id: string; kind: string; before_fen: string; period_fen: string; before_units: string; period_units: string }>;

  const zeroKinds = (): ByKind => Object.fromEntries(MONEY_KINDS.map((k) => [k, { periodFen: 0, cumulativeFen: 0, periodUnits: 0, cumulativeUnits: 0 }])) as ByKind;
  const zeroMoves = () => Object.fromEntries(MONEY_KINDS.map((k) => [k, { periodFen: 0, cumulativeFen: 0 }])) as LedgerBook['county'];
  const records: RecordsBook = { county: zeroKinds(), shops: new Map(), acceptedNoRefundPeriod: 0, rejectedPeriod: 0 };
  const ledger: LedgerBook = { county: zeroMoves(), shops: new Map(), balances: new Map() };
  const acceptedByShop = new Map<string, number>();
  const accountBalances = new Map<string, { openingFen: number; closingFen: number }>();
  for (const r of rows) {
    const shop = r.key_id === NIL_KEY ? null : r.key_id;
    const pf = Number(r.period_fen), bf = Number(r.before_fen), pu = Number(r.period_units), bu = Number(r.before_units);
    if (r.source === 'balance') {
      accountBalances.set(r.key_id, { openingFen: bf, closingFen: bf + pf });
    } else if (r.source === 'ledger') {
      if (!MONEY_KINDS.includes(r.kind as MoneyKind)) continue;
      const k = r.kind as MoneyKind;
      ledger.county[k].periodFen += pf;
      ledger.county[k].cumulativeFen += bf + pf;
      if (shop) {
        if (!ledger.shops.has(shop)) ledger.shops.set(shop, zeroMoves());
        ledger.shops.get(shop)![k].periodFen += pf;
        ledger.shops.get(shop)![k].cumulativeFen += bf + pf;
      }
    } else if (r.kind === 'none') {
      records.acceptedNoRefundPeriod += pu;
    } else if (r.kind === 'rejected') {
      records.rejectedPeriod += pu;
    } else if (r.kind === 'accepted') {
      // A shop whose accepted returns were all reversed has no row in the recomputation (quantities are > 0).
      if (shop && bu + pu !== 0) acceptedByShop.set(shop, bu + pu);
    } else {
      const k = r.kind as MoneyKind;
      const add = (t: ByKind) => {
        t[k].periodFen += pf;
        t[k].cumulativeFen += bf + pf;
        t[k].periodUnits += pu;
        t[k].cumulativeUnits += bu + pu;
      };
      add(records.county);
      if (shop) {
        if (!records.shops.has(shop)) records.shops.set(shop, zeroKinds());
        add(records.shops.get(shop)!);
      }
    }
  }
  // Every account of the county, as the recomputation lists them (an account without entries: 0).
  const accounts = (await trx('ledger_accounts').where({ county_id: w.countyId }).select('id', 'code', 'shop_id')) as Array<{ id: string; code: string; shop_id: string | null }>;
  for (const a of accounts) {
    const b = accountBalances.get(a.id) ?? { openingFen: 0, closingFen: 0 };
    ledger.balances.set(a.code, { code: a.code, shopId: a.shop_id, openingFen: b.openingFen, closingFen: b.closingFen });
  }
  return { records, ledger, acceptedByShop };
}

/** Unit codes refunded more than once: the recomputation's query, restricted to the candidate codes. */
export async function unitsRefundedTwiceFromBooks(trx: Knex.Transaction, w: BookWindow, timeZone: string): Promise<Array<{ unitCode: string; returnIds: string[] }>> {
  const asOfDay = businessDay(w.asOf, timeZone);
  const dirty = ((await trx.raw(`SELECT DISTINCT to_char(rec_day, 'YYYY-MM-DD') AS day FROM reconciliation_dirty_days WHERE county_id = ?`, [w.countyId])).rows as Array<{ day: string }>).map((r) => r.day);
  // Codes of returns not folded into the candidates yet: asOf's day onwards and dirty days.
  const ranges = [{ lo: dayStart(asOfDay, timeZone), hi: null as Date | null }, ...dayRanges(dirty, timeZone).map((r) => ({ lo: r.lo, hi: r.hi as Date | null }))];
  const fresh = ranges.map((_, i) => `SELECT a.unit_code FROM returns r JOIN return_allocations a ON a.county_id = r.county_id AND a.return_id = r.id
      WHERE r.county_id = :c AND r.recorded_at >= :lo${i}${ranges[i]!.hi ? ` AND r.recorded_at < :hi${i}` : ''} AND a.unit_code IS NOT NULL AND a.source IN ('unit', 'unit_expired')`).join(' UNION ');
  const b: Record<string, unknown> = { c: w.countyId, to: w.to, asOf: w.asOf };
  ranges.forEach((r, i) => { b[`lo${i}`] = r.lo; if (r.hi) b[`hi${i}`] = r.hi; });
  const codes = ((await trx.raw(`SELECT unit_code FROM book_unit_duplicates WHERE county_id = :c UNION ${fresh}`, b)).rows as Array<{ unit_code: string }>).map((r) => r.unit_code);
  if (!codes.length) return [];
  const rows = (await trx.raw(`
    SELECT a.unit_code, array_agg(DISTINCT a.return_id::text ORDER BY a.return_id::text) AS returns
      FROM return_allocations a JOIN returns r ON r.county_id = a.county_id AND r.id = a.return_id
     WHERE a.county_id = :c AND a.unit_code = ANY(:codes) AND a.source IN ('unit', 'unit_expired') AND r.recorded_at <= :asOf AND coalesce(r.booked_at, r.event_time) < :to
       AND NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = r.county_id AND v.target_type = 'return' AND v.target_id = r.id AND v.recorded_at <= :asOf)
     GROUP BY a.unit_code HAVING count(*) > 1 ORDER BY a.unit_code LIMIT 200`, { ...b, codes })).rows as Array<{ unit_code: string; returns: string[] }>;
  return rows.map((r) => ({ unitCode: r.unit_code, returnIds: r.returns }));
}
