// Settlement periods in the county's time zone: 2026-03 (monthly), 2026-W11 (ISO week), 2026-03-15.
import { AppError } from '../../http/errors.js';
import { localParts } from '../../shared/zoned-time.js';

export type PeriodKind = 'daily' | 'weekly' | 'monthly';

export interface Period {
  key: string;
  kind: PeriodKind;
  from: Date;
  to: Date; // exclusive
}

/** Milliseconds the zone is ahead of UTC at an instant. */
function zoneOffsetMs(at: number, timeZone: string): number {
  const p = localParts(at, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - (at - (at % 1000));
}

/** The instant a calendar day starts in a zone. */
export function zonedMidnight(y: number, m: number, d: number, timeZone: string): Date {
  const guess = Date.UTC(y, m - 1, d);
  let t = guess - zoneOffsetMs(guess, timeZone);
  t = guess - zoneOffsetMs(t, timeZone);
  return new Date(t);
}

export function parsePeriod(key: string, kind: PeriodKind, timeZone: string): Period {
  const bad = () => new AppError('INVALID_PERIOD', undefined, [{ field: '/period', code: kind, message: `not a ${kind} period: ${key}` }]);
  let m: RegExpExecArray | null;
  if (kind === 'monthly' && (m = /^(\d{4})-(\d{2})$/.exec(key))) {
    const y = Number(m[1]);
    const mo = Number(m[2]);
    if (mo < 1 || mo > 12) throw bad();
    return { key, kind, from: zonedMidnight(y, mo, 1, timeZone), to: zonedMidnight(mo === 12 ? y + 1 : y, mo === 12 ? 1 : mo + 1, 1, timeZone) };
  }
  if (kind === 'weekly' && (m = /^(\d{4})-W(\d{2})$/.exec(key))) {
    const y = Number(m[1]);
    const w = Number(m[2]);
    const jan4 = new Date(Date.UTC(y, 0, 4));
    const monday1 = Date.UTC(y, 0, 4 - ((jan4.getUTCDay() + 6) % 7));
    const weeksInYear = new Date(Date.UTC(y, 11, 28)).getUTCDay() === 4 || new Date(Date.UTC(y, 0, 1)).getUTCDay() === 4 ? 53 : 52;
    if (w < 1 || w > weeksInYear) throw bad();
    const start = new Date(monday1 + (w - 1) * 7 * 86_400_000);
    const end = new Date(start.getTime() + 7 * 86_400_000);
    return {
      key, kind,
      from: zonedMidnight(start.getUTCFullYear(), start.getUTCMonth() + 1, start.getUTCDate(), timeZone),
      to: zonedMidnight(end.getUTCFullYear(), end.getUTCMonth() + 1, end.getUTCDate(), timeZone),
    };
  }
  if (kind === 'daily' && (m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key))) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const probe = new Date(Date.UTC(y, mo - 1, d));
    if (probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d) throw bad();
    const next = new Date(probe.getTime() + 86_400_000);
    return { key, kind, from: zonedMidnight(y, mo, d, timeZone), to: zonedMidnight(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone) };
  }
  throw bad();
}
