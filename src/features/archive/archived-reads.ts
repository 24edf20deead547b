// Reads that would need an archived year (docs/traceability.md "Archive by year", "What answers for an
// archived year"): an answer computed from the live tables over a period that reaches into a year the
// county has archived would silently be smaller than the truth, so it is refused 410 YEAR_ARCHIVED
// (the year and the restore command in details). Answers read from stored results that stay whole
// (reconciliation runs, recovery aggregates, the per-day books) keep answering.
import type { Knex } from 'knex';
import { addDays, businessDay } from '../../shared/business-day.js';
import { archivedYears } from './archive-store.js';
import { yearArchived } from './archive-service.js';

/**
 * Throws 410 YEAR_ARCHIVED when the period [from, to) — its county days in `timeZone` — reaches into
 * an archived year of the county; `what` names the answer refused. Otherwise returns the county's
 * archived years before the period, oldest first (what its cumulative figures may be missing).
 */
export async function refuseArchivedPeriod(knex: Knex, countyId: string, period: { from: Date; to: Date }, timeZone: string, what: string): Promise<number[]> {
  const years = [...(await archivedYears(knex, countyId)).keys()].sort((a, b) => a - b);
  const fromDay = businessDay(period.from, timeZone);
  const lastDay = addDays(businessDay(period.to, timeZone), -1);
  const within = years.find((y) => fromDay <= `${y}-12-31` && lastDay >= `${y}-01-01`);
  if (within !== undefined) throw yearArchived(countyId, within, what);
  return years.filter((y) => `${y}-12-31` < fromDay);
}
