// How many days shop terminals keep synced records (their journal archives) before removing them:
// the county's setting, sent in the snapshot. Long enough to cover the gap back to an older backup.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('counties', (t) => {
    t.integer('terminal_journal_keep_days').notNullable().defaultTo(90);
  });
  await knex.raw('ALTER TABLE counties ADD CONSTRAINT counties_terminal_journal_keep_days CHECK (terminal_journal_keep_days BETWEEN 7 AND 3650)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('counties', (t) => {
    t.dropColumn('terminal_journal_keep_days');
  });
}
