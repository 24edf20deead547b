// Archive by year (docs/traceability.md "What answers for an archived year"): the per-day books keep an
// archived year's contributions as they were folded in before the archive moved its rows, unless they
// were built afresh (a full rebuild) while the year was archived — then they hold only what stayed live.
// missing_years names the archived years a full rebuild could not see: a reconciliation whose cumulative
// figures need one is refused 410 YEAR_ARCHIVED, and restoring the year makes the next refresh rebuild whole.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE reconciliation_book_state ADD COLUMN missing_years integer[] NOT NULL DEFAULT '{}'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE reconciliation_book_state DROP COLUMN missing_years');
}
