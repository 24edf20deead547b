// Calendar dates in a county's time zone. Intl.DateTimeFormat is costly to build (it showed up at ~2%
// of a sale's CPU), so one formatter per zone and shape is built once and reused.

const dayFormatters = new Map<string, Intl.DateTimeFormat>();
const partFormatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar day ('YYYY-MM-DD') of an instant in a time zone. */
export function localDate(at: Date | number, timeZone = 'Asia/Shanghai'): string {
  let f = dayFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormatters.set(timeZone, f);
  }
  return f.format(at);
}

/** Year, month, day, hour, minute, second of an instant in a time zone (24-hour clock). */
export function localParts(at: Date | number, timeZone = 'Asia/Shanghai'): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  let f = partFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    partFormatters.set(timeZone, f);
  }
  const parts = f.formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') };
}
