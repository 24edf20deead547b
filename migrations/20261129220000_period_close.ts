// Times the clerk cannot choose (issue 11, part 2):
// - counties.max_offline_age_days: how far back a sale's, return's or reversal's event time may lie
//   (a terminal offline longer than this cannot bring its records in without an official);
// - closed_periods: a month a county official closed after its reconciliation; append-only;
// - booked_at on sales, returns, reversals and ledger transfers: set only for a late adjustment (a
//   record whose event month was already closed when the server stored it) — the instant, in the
//   first open month, where statements and reconciliation count it. NULL means "booked at its event
//   time", so existing rows keep their meaning and are not touched.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('counties', (t) => {
    t.integer('max_offline_age_days').notNullable().defaultTo(45);
  });
  await knex.raw(`ALTER TABLE counties ADD CONSTRAINT counties_max_offline_age CHECK (max_offline_age_days BETWEEN 1 AND 366)`);

  await knex.schema.createTable('closed_periods', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.string('period_key', 7).notNullable(); // 2026-03, in the county's time zone
    t.timestamp('period_from', { useTz: true }).notNullable();
    t.timestamp('period_to', { useTz: true }).notNullable(); // exclusive
    t.uuid('reconciliation_run_id').notNullable();
    t.timestamp('figures_as_of', { useTz: true }).notNullable(); // the run's record-time cut-off: the closed figures are as of it, forever
    t.string('closed_by', 100).notNullable();
    t.timestamp('closed_at', { useTz: true }).notNullable(); // record time
    t.primary(['county_id', 'period_key']);
    t.foreign(['county_id', 'reconciliation_run_id']).references(['county_id', 'id']).inTable('reconciliation_runs');
  });
  await knex.raw(`ALTER TABLE closed_periods ADD CONSTRAINT closed_periods_key CHECK (period_key ~ '^[0-9]{4}-(0[1-9]|1[0-2])$' AND period_to > period_from)`);
  await knex.raw(`CREATE TRIGGER closed_periods_no_delete BEFORE DELETE ON closed_periods FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()`);
  await knex.raw(`CREATE TRIGGER closed_periods_no_update BEFORE UPDATE ON closed_periods FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_update()`);

  for (const table of ['sales', 'returns', 'reversals', 'ledger_transfers']) {
    await knex.schema.alterTable(table, (t) => {
      t.timestamp('booked_at', { useTz: true }).nullable();
    });
    await knex.raw(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_booked_after_event CHECK (booked_at IS NULL OR booked_at > event_time)`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['sales', 'returns', 'reversals', 'ledger_transfers']) {
    await knex.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_booked_after_event`);
    await knex.schema.alterTable(table, (t) => t.dropColumn('booked_at'));
  }
  await knex.schema.dropTable('closed_periods');
  await knex.raw(`ALTER TABLE counties DROP CONSTRAINT counties_max_offline_age`);
  await knex.schema.alterTable('counties', (t) => t.dropColumn('max_offline_age_days'));
}
