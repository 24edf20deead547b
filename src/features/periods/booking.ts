// Which period a record is booked in (DESIGN rule 12). A record counts in the month of its event
// time unless that month was closed when the server stored it: then it is a late adjustment, booked
// at the first instant of the first open month after it. "Closed" is decided by the server's record
// time — the closed_periods rows committed before the write — never by a time the client sends.
import type { Knex } from 'knex';
import { addMonths, businessDay, businessMonth, monthStart } from '../../shared/business-day.js';

export interface Booking {
  /** Null: booked at the event time. Otherwise the instant in the first open month the record counts at. */
  bookedAt: Date | null;
  lateAdjustment: boolean;
  /** The county business day and month the record counts in. */
  bookedDay: string;
  bookedPeriod: string;
}

/** The month key (2026-03) of an instant in a zone. */
export function monthOf(at: Date, timeZone: string): string {
  return businessMonth(at, timeZone);
}

export function nextMonth(key: string): string {
  return addMonths(key, 1);
}

export { monthStart };

/** The booking of a record of `eventTime`, from the set of closed month keys. Pure. */
export function bookingFrom(eventTime: Date, timeZone: string, closed: ReadonlySet<string>): Booking {
  let month = monthOf(eventTime, timeZone);
  if (!closed.has(month)) return { bookedAt: null, lateAdjustment: false, bookedDay: businessDay(eventTime, timeZone), bookedPeriod: month };
  while (closed.has(month)) month = nextMonth(month);
  const at = monthStart(month, timeZone);
  return { bookedAt: at, lateAdjustment: true, bookedDay: businessDay(at, timeZone), bookedPeriod: month };
}

/**
 * The booking of a record being written in `trx`. Takes a KEY SHARE lock on the county row first:
 * closing a month locks that row FOR UPDATE, so a close waits for writes in flight and a write that
 * starts after a close sees it. (Writers do not block each other: KEY SHARE locks share.)
 *
 * Two statements, on purpose: under READ COMMITTED a statement that waited for a lock still reads
 * every other table with the snapshot it took before the wait, so a single "lock and read the closed
 * months" statement that waited for a close would miss the month just closed and book into it. The
 * lock is taken first; the closed months are read by the next statement, whose snapshot is newer
 * than the close it waited for.
 */
export async function bookingFor(trx: Knex.Transaction, countyId: string, eventTime: Date, timeZone: string): Promise<Booking> {
  await trx.raw('SELECT 1 FROM counties WHERE id = ? FOR KEY SHARE', [countyId]);
  const row = (await trx.raw(
    'SELECT array(SELECT p.period_key FROM closed_periods p WHERE p.county_id = ? AND p.period_key >= ? ORDER BY 1) AS closed',
    [countyId, monthOf(eventTime, timeZone)])).rows[0] as { closed: string[] | string } | undefined;
  const closed = row ? (Array.isArray(row.closed) ? row.closed : parsePgArray(row.closed)) : [];
  return bookingFrom(eventTime, timeZone, new Set(closed));
}

function parsePgArray(s: string): string[] {
  const inner = s.replace(/^\{|\}$/g, '');
  return inner ? inner.split(',').map((x) => x.replace(/^"|"$/g, '')) : [];
}

/** The booking fields of an API answer. */
export function bookingView(b: Booking): { bookedDay: string; bookedPeriod: string; lateAdjustment: boolean } {
  return { bookedDay: b.bookedDay, bookedPeriod: b.bookedPeriod, lateAdjustment: b.lateAdjustment };
}

/** SQL for the instant a row counts at in statements and reconciliation. */
export function bookedTime(alias: string): string {
  return `coalesce(${alias}.booked_at, ${alias}.event_time)`;
}
