// Reads that would need an archived year (docs/traceability.md "Archive by year", "What answers for an
// archived year"): an answer computed from the live tables over a period that reaches into a year the
// county has archived would silently be smaller than the truth, so it is refused 410 YEAR_ARCHIVED
// (the year and the restore command in details). Answers read from stored results that stay whole
// (reconciliation runs, recovery aggregates, the per-day books) keep answering.
import type { Knex } from 'knex';
import { archivedYears, type ArchiveRunRow } from './archive-store.js';
import { yearArchived } from './archive-service.js';

/** The county's archived years that the county days fromDay..toDay (YYYY-MM-DD, inclusive) reach into, oldest first. */
export async function archivedYearsWithin(knex: Knex, countyId: string, fromDay: string, toDay: string): Promise<number[]> {
  return [...(await archivedYears(knex, countyId)).keys()].filter((y) => fromDay <= `${y}-12-31` && toDay >= `${y}-01-01`).sort((a, b) => a - b);
}

/** Throws 410 YEAR_ARCHIVED when fromDay..toDay reaches into an archived year of the county; `what` names the answer refused. */
export async function refuseArchivedYears(knex: Knex, countyId: string, fromDay: string, toDay: string, what: string): Promise<void> {
  const years = await archivedYearsWithin(knex, countyId, fromDay, toDay);
  if (years.length) throw yearArchived(countyId, years[0]!, what);
}

/** The county's archived years before the county day `beforeDay`, with the run that archived each. */
export async function archivedYearsBefore(knex: Knex, countyId: string, beforeDay: string): Promise<Array<[number, ArchiveRunRow]>> {
  return [...(await archivedYears(knex, countyId))].filter(([y]) => `${y}-12-31` < beforeDay).sort((a, b) => a[0] - b[0]);
}
