// Settlement periods in the county's time zone: 2026-03 (monthly), 2026-W11 (ISO week), 2026-03-15.
// Each runs from the county midnight of its first day to the county midnight after its last.
import { AppError } from '../../http/errors.js';
import { addDays, addMonths, dayStart, isCalendarDay, isoWeekday, monthStart } from '../../shared/business-day.js';

export type PeriodKind = 'daily' | 'weekly' | 'monthly';

export interface Period {
  key: string;
  kind: PeriodKind;
  from: Date;
  to: Date; // exclusive
}

export function parsePeriod(key: string, kind: PeriodKind, timeZone: string): Period {
  const bad = () => new AppError('INVALID_PERIOD', undefined, [{ field: '/period', code: kind, message: `not a ${kind} period: ${key}` }]);
  let m: RegExpExecArray | null;
  if (kind === 'monthly' && (m = /^(\d{4})-(\d{2})$/.exec(key))) {
    const mo = Number(m[2]);
    if (mo < 1 || mo > 12) throw bad();
    return { key, kind, from: monthStart(key, timeZone), to: monthStart(addMonths(key, 1), timeZone) };
  }
  if (kind === 'weekly' && (m = /^(\d{4})-W(\d{2})$/.exec(key))) {
    const y = Number(m[1]);
    const w = Number(m[2]);
    // ISO week 1 is the week with 4 January in it; a year has 53 weeks when it starts or ends on a Thursday.
    const jan4 = `${m[1]}-01-04`;
    const monday1 = addDays(jan4, 1 - isoWeekday(jan4));
    const weeksInYear = isoWeekday(`${m[1]}-01-01`) === 4 || isoWeekday(`${m[1]}-12-31`) === 4 ? 53 : 52;
    if (y < 1 || w < 1 || w > weeksInYear) throw bad();
    const start = addDays(monday1, (w - 1) * 7);
    return { key, kind, from: dayStart(start, timeZone), to: dayStart(addDays(start, 7), timeZone) };
  }
  if (kind === 'daily' && /^\d{4}-\d{2}-\d{2}$/.test(key)) {
    if (!isCalendarDay(key)) throw bad();
    return { key, kind, from: dayStart(key, timeZone), to: dayStart(addDays(key, 1), timeZone) };
  }
  throw bad();
}

