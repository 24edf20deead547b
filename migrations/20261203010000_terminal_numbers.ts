// Every POS terminal gets a short number unique in its county (terminals.terminal_no: 1, 2, 3 …),
// given by the server when the terminal is registered and never used again in the county (terminals
// are never deleted, a revoked one keeps its number). Terminals print it in every receipt number
// (XS20261130-T007-0001): before, they printed the last four characters of their id, which two
// terminals of a county can share — and then both print the same receipt numbers on the same day.
// Existing terminals are numbered in the order they were enrolled (terminals never enrolled last, in
// the order they were registered).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE terminals ADD COLUMN terminal_no integer');
  await knex.raw(`
    UPDATE terminals t SET terminal_no = n.no
      FROM (SELECT county_id, id, row_number() OVER (PARTITION BY county_id ORDER BY enrolled_at NULLS LAST, created_at, id) AS no FROM terminals) n
     WHERE n.county_id = t.county_id AND n.id = t.id`);
  await knex.raw('ALTER TABLE terminals ALTER COLUMN terminal_no SET NOT NULL');
  await knex.raw('ALTER TABLE terminals ADD CONSTRAINT terminals_terminal_no_positive CHECK (terminal_no >= 1)');
  await knex.raw('ALTER TABLE terminals ADD CONSTRAINT terminals_county_terminal_no UNIQUE (county_id, terminal_no)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE terminals DROP CONSTRAINT IF EXISTS terminals_county_terminal_no');
  await knex.raw('ALTER TABLE terminals DROP CONSTRAINT IF EXISTS terminals_terminal_no_positive');
  await knex.raw('ALTER TABLE terminals DROP COLUMN IF EXISTS terminal_no');
}
