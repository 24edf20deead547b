// Dates are the county's dates (DESIGN rule 12). This is the one place an instant becomes a calendar
// day, month or year: always in the county's time zone (counties.timezone; terminals take it from
// their reference snapshot), never the UTC date of `toISOString()`. Arithmetic on 'YYYY-MM-DD' and
// 'YYYY-MM' strings here is pure calendar arithmetic and needs no zone.
//
// Intl.DateTimeFormat is costly to build (it showed up at ~2% of a sale's CPU), so one formatter per
// zone and shape is built once and reused.

/** The zone of a county that has not said otherwise (the column's default). */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

const dayFormatters = new Map<string, Intl.DateTimeFormat>();
const partFormatters = new Map<string, Intl.DateTimeFormat>();

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH_RE = /^(\d{4})-(\d{2})$/;
const DAY_MS = 86_400_000;

function toDate(at: Date | number | string): Date | number {
  return typeof at === 'string' ? Date.parse(at) : at;
}

/**
 * The county's business day ('YYYY-MM-DD') of an instant: the calendar day on the county's clock.
 * Every "today", every record's business day and every default period starts here.
 */
export function businessDay(at: Date | number | string, timeZone: string): string {
  let f = dayFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormatters.set(timeZone, f);
  }
  return f.format(toDate(at));
}

/** The county month ('YYYY-MM') of an instant. */
export function businessMonth(at: Date | number | string, timeZone: string): string {
  return businessDay(at, timeZone).slice(0, 7);
}

/** Year, month, day, hour, minute, second of an instant on the county's clock (24-hour). */
export function localParts(at: Date | number | string, timeZone: string): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  let f = partFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    partFormatters.set(timeZone, f);
  }
  const parts = f.formatToParts(toDate(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') };
}

/** Milliseconds the zone is ahead of UTC at an instant. */
function zoneOffsetMs(at: number, timeZone: string): number {
  const p = localParts(at, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - (at - (((at % 1000) + 1000) % 1000));
}

/** The instant a county day ('YYYY-MM-DD') begins: its midnight on the county's clock. */
export function dayStart(day: string, timeZone: string): Date {
  const [y, m, d] = dayParts(day);
  const guess = Date.UTC(y, m - 1, d);
  let t = guess - zoneOffsetMs(guess, timeZone);
  t = guess - zoneOffsetMs(t, timeZone);
  return new Date(t);
}

/** The instant a county month ('YYYY-MM') begins. */
export function monthStart(month: string, timeZone: string): Date {
  return dayStart(`${month}-01`, timeZone);
}

/** Is this a real calendar day 'YYYY-MM-DD' (2026-02-30 is not)? */
export function isCalendarDay(s: string): boolean {
  const m = DAY_RE.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo);
}

function dayParts(day: string): [number, number, number] {
  const m = DAY_RE.exec(day);
  if (!m) throw new RangeError(`not a calendar day: ${day}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Calendar arithmetic: the day `n` days after (or before, n < 0) a day. */
export function addDays(day: string, n: number): string {
  const [y, m, d] = dayParts(day);
  const t = new Date(Date.UTC(y, m - 1, d) + n * DAY_MS);
  return `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

/** Calendar arithmetic: the month `n` months after (or before) a month 'YYYY-MM'. */
export function addMonths(month: string, n: number): string {
  const m = MONTH_RE.exec(month);
  if (!m) throw new RangeError(`not a month: ${month}`);
  const idx = Number(m[1]) * 12 + (Number(m[2]) - 1) + n;
  return `${pad(Math.floor(idx / 12), 4)}-${pad((idx % 12) + 1)}`;
}

/** The same day `n` years later (earlier), 29 February falling back to the 28th. */
export function addYears(day: string, n: number): string {
  const [y, m, d] = dayParts(day);
  return `${pad(y + n, 4)}-${pad(m)}-${pad(Math.min(d, daysInMonth(y + n, m)))}`;
}

/** The last day of a month 'YYYY-MM'. */
export function lastDayOfMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return `${month}-${pad(daysInMonth(y, m))}`;
}

/** Calendar arithmetic: the weekday of a day, ISO numbering (1 = Monday … 7 = Sunday). */
export function isoWeekday(day: string): number {
  const [y, m, d] = dayParts(day);
  return ((new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7) + 1;
}
