import { expect } from 'chai';
import {
  addDays, addMonths, addYears, businessDay, businessMonth, dayStart, isCalendarDay, isoWeekday, lastDayOfMonth, localParts, monthStart,
} from '../../src/shared/business-day.js';
import { parsePeriod } from '../../src/features/settlements/period.js';

describe('business day: the county\'s date of an instant, in the county\'s zone', () => {
  it('Asia/Shanghai is UTC+8 all year: from 16:00 UTC it is already the next day', () => {
    expect(businessDay(new Date('2026-03-14T15:59:59.999Z'), 'Asia/Shanghai')).to.equal('2026-03-14');
    expect(businessDay(new Date('2026-03-14T16:00:00.000Z'), 'Asia/Shanghai')).to.equal('2026-03-15');
    expect(businessDay('2026-03-14T16:30:00Z', 'Asia/Shanghai')).to.equal('2026-03-15');
    expect(businessDay(Date.parse('2026-03-14T23:30:00Z'), 'Asia/Shanghai')).to.equal('2026-03-15');
    // Summer and winter alike: no daylight saving.
    expect(businessDay('2026-07-14T16:00:00Z', 'Asia/Shanghai')).to.equal('2026-07-15');
    expect(businessMonth('2026-03-31T16:30:00Z', 'Asia/Shanghai')).to.equal('2026-04');
    expect(businessMonth('2026-12-31T16:30:00Z', 'Asia/Shanghai')).to.equal('2027-01');
  });

  it('is really driven by the zone: Europe/Berlin moves its day boundary with daylight saving', () => {
    // Winter: UTC+1, the day turns at 23:00 UTC.
    expect(businessDay('2026-01-14T22:59:59Z', 'Europe/Berlin')).to.equal('2026-01-14');
    expect(businessDay('2026-01-14T23:00:00Z', 'Europe/Berlin')).to.equal('2026-01-15');
    // Summer: UTC+2, the day turns at 22:00 UTC.
    expect(businessDay('2026-07-14T21:59:59Z', 'Europe/Berlin')).to.equal('2026-07-14');
    expect(businessDay('2026-07-14T22:00:00Z', 'Europe/Berlin')).to.equal('2026-07-15');
    // The same instant is a different day in different zones; UTC is just another zone.
    expect(businessDay('2026-07-14T23:30:00Z', 'America/New_York')).to.equal('2026-07-14');
    expect(businessDay('2026-07-14T23:30:00Z', 'UTC')).to.equal('2026-07-14');
  });

  it('gives a county day\'s midnight as an instant, across daylight-saving changes', () => {
    expect(dayStart('2026-03-15', 'Asia/Shanghai').toISOString()).to.equal('2026-03-14T16:00:00.000Z');
    expect(monthStart('2027-01', 'Asia/Shanghai').toISOString()).to.equal('2026-12-31T16:00:00.000Z');
    // Berlin springs forward on 2026-03-29 (02:00 → 03:00) and falls back on 2026-10-25.
    expect(dayStart('2026-03-29', 'Europe/Berlin').toISOString()).to.equal('2026-03-28T23:00:00.000Z');
    expect(dayStart('2026-03-30', 'Europe/Berlin').toISOString()).to.equal('2026-03-29T22:00:00.000Z');
    expect(dayStart('2026-10-25', 'Europe/Berlin').toISOString()).to.equal('2026-10-24T22:00:00.000Z');
    expect(dayStart('2026-10-26', 'Europe/Berlin').toISOString()).to.equal('2026-10-25T23:00:00.000Z');
    // A day's midnight is that day, and a millisecond earlier is the day before, in every zone.
    for (const tz of ['Asia/Shanghai', 'Europe/Berlin', 'America/New_York', 'Asia/Kathmandu', 'UTC']) {
      for (const day of ['2026-01-01', '2026-03-29', '2026-03-08', '2026-10-25', '2026-11-01', '2028-02-29']) {
        const t = dayStart(day, tz);
        expect(businessDay(t, tz), `${tz} ${day}`).to.equal(day);
        expect(businessDay(t.getTime() - 1, tz), `${tz} ${day} − 1 ms`).to.equal(addDays(day, -1));
      }
    }
  });

  it('gives the clock parts of an instant on the county\'s clock (24-hour)', () => {
    expect(localParts('2026-12-31T16:30:05Z', 'Asia/Shanghai')).to.deep.equal({ year: 2027, month: 1, day: 1, hour: 0, minute: 30, second: 5 });
    expect(localParts('2026-01-01T12:00:00Z', 'UTC').hour).to.equal(12);
    expect(localParts('2026-07-01T12:00:00Z', 'Europe/Berlin').hour).to.equal(14);
  });

  it('does calendar arithmetic on day and month strings without any zone', () => {
    expect(addDays('2026-03-01', -1)).to.equal('2026-02-28');
    expect(addDays('2028-02-28', 1)).to.equal('2028-02-29');
    expect(addDays('2026-12-31', 1)).to.equal('2027-01-01');
    expect(addDays('2026-03-29', 1)).to.equal('2026-03-30'); // a 23-hour day in Berlin is still one day
    expect(addMonths('2026-01', -1)).to.equal('2025-12');
    expect(addMonths('2026-11', 14)).to.equal('2028-01');
    expect(addYears('2028-02-29', -2)).to.equal('2026-02-28');
    expect(addYears('2026-11-29', -2)).to.equal('2024-11-29');
    expect(lastDayOfMonth('2028-02')).to.equal('2028-02-29');
    expect(lastDayOfMonth('2026-04')).to.equal('2026-04-30');
    expect(isoWeekday('2026-11-29')).to.equal(7); // a Sunday
    expect(isoWeekday('2026-11-30')).to.equal(1);
    expect(isCalendarDay('2026-02-29')).to.equal(false);
    expect(isCalendarDay('2028-02-29')).to.equal(true);
    expect(isCalendarDay('2026-13-01')).to.equal(false);
  });
});

describe('settlement periods are spans of county days', () => {
  it('runs from the county midnight of the first day to the one after the last', () => {
    const m = parsePeriod('2026-04', 'monthly', 'Asia/Shanghai');
    expect([m.from.toISOString(), m.to.toISOString()]).to.deep.equal(['2026-03-31T16:00:00.000Z', '2026-04-30T16:00:00.000Z']);
    const b = parsePeriod('2026-03', 'monthly', 'Europe/Berlin'); // March loses an hour at the end of the month
    expect([b.from.toISOString(), b.to.toISOString()]).to.deep.equal(['2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z']);
    const w = parsePeriod('2026-W14', 'weekly', 'Asia/Shanghai');
    expect([w.from.toISOString(), w.to.toISOString()]).to.deep.equal(['2026-03-29T16:00:00.000Z', '2026-04-05T16:00:00.000Z']);
    const d = parsePeriod('2026-04-01', 'daily', 'Asia/Shanghai');
    expect([d.from.toISOString(), d.to.toISOString()]).to.deep.equal(['2026-03-31T16:00:00.000Z', '2026-04-01T16:00:00.000Z']);
    expect(() => parsePeriod('2026-02-29', 'daily', 'Asia/Shanghai')).to.throw();
  });

  it('knows the 53-week ISO years, also those starting on a leap-year Wednesday', () => {
    expect(parsePeriod('2026-W53', 'weekly', 'Asia/Shanghai').from.toISOString()).to.equal('2026-12-27T16:00:00.000Z'); // 2026 starts on a Thursday
    expect(parsePeriod('2020-W53', 'weekly', 'Asia/Shanghai').from.toISOString()).to.equal('2020-12-27T16:00:00.000Z'); // 2020 ends on a Thursday
    expect(() => parsePeriod('2027-W53', 'weekly', 'Asia/Shanghai')).to.throw();
  });
});
