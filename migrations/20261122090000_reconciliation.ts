// Reconciliation runs and the recovery-rate aggregates behind the officials' dashboard (issue 8).
// Runs and their exceptions are records an inspector may ask for: never changed, never deleted.
// The aggregates are derived from the ledger's immutable rows and rebuilt month by month by an
// idempotent job; they are overwritten in place, never deleted. Every key starts with county_id.
import type { Knex } from 'knex';

const RECORD_TABLES = ['reconciliation_runs', 'reconciliation_exceptions'];
const AGGREGATE_TABLES = ['recovery_monthly', 'recovery_county_monthly', 'recovery_aggregation_state'];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('reconciliation_runs', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.string('period_key', 16).notNullable(); // 2026-03 | 2026
    t.timestamp('period_from', { useTz: true }).notNullable();
    t.timestamp('period_to', { useTz: true }).notNullable(); // exclusive
    t.timestamp('as_of', { useTz: true }).notNullable(); // record-time cut-off: only rows recorded at or before it count
    t.timestamp('run_at', { useTz: true }).notNullable();
    t.string('trigger', 16).notNullable(); // api | scheduled
    t.string('actor', 100).notNullable();
    t.jsonb('figures').notNullable();
    t.integer('exception_count').notNullable();
    t.integer('error_count').notNullable();
    t.string('fingerprint', 64).notNullable(); // sha-256 of figures + exceptions: same inputs, same hash
    t.integer('duration_ms').notNullable();
    t.primary(['county_id', 'id']);
  });
  await knex.raw(`ALTER TABLE reconciliation_runs ADD CONSTRAINT reconciliation_runs_trigger CHECK ("trigger" IN ('api', 'scheduled'))`);
  await knex.raw(`ALTER TABLE reconciliation_runs ADD CONSTRAINT reconciliation_runs_range CHECK (period_to > period_from)`);
  await knex.raw(`CREATE INDEX reconciliation_runs_latest ON reconciliation_runs (county_id, run_at DESC)`);

  await knex.schema.createTable('reconciliation_exceptions', (t) => {
    t.string('county_id', 6).notNullable();
    t.uuid('run_id').notNullable();
    t.integer('exception_no').notNullable();
    t.string('book', 16).notNullable(); // money | units | custody
    t.string('kind', 48).notNullable();
    t.string('severity', 8).notNullable(); // error | warning | info
    t.uuid('shop_id').nullable();
    t.bigInteger('expected').nullable();
    t.bigInteger('actual').nullable();
    t.string('message_en', 500).notNullable();
    t.string('message_zh', 500).notNullable();
    t.jsonb('records').notNullable(); // [{ type, id }] — the rows behind the exception
    t.primary(['county_id', 'run_id', 'exception_no']);
    t.foreign(['county_id', 'run_id']).references(['county_id', 'id']).inTable('reconciliation_runs');
  });
  await knex.raw(`ALTER TABLE reconciliation_exceptions ADD CONSTRAINT reconciliation_exceptions_enums CHECK (book IN ('money', 'units', 'custody') AND severity IN ('error', 'warning', 'info'))`);

  // Per county, calendar month (county time), shop and product. Sales figures belong to the selling
  // shop and the month of the sale; returns to the receiving shop and the month of the return; the
  // cohort columns count this month's sales at this shop returned (anywhere) within N days.
  await knex.schema.createTable('recovery_monthly', (t) => {
    t.string('county_id', 6).notNullable();
    t.string('month', 7).notNullable();
    t.uuid('shop_id').notNullable();
    t.uuid('product_id').notNullable();
    t.integer('sold_units').notNullable().defaultTo(0);
    t.bigInteger('sold_deposit_fen').notNullable().defaultTo(0);
    t.bigInteger('sold_mass_g').notNullable().defaultTo(0);
    t.integer('returned_units').notNullable().defaultTo(0);
    t.bigInteger('returned_mass_g').notNullable().defaultTo(0);
    t.bigInteger('refunded_fen').notNullable().defaultTo(0);
    t.integer('cohort_returned_30').notNullable().defaultTo(0);
    t.integer('cohort_returned_90').notNullable().defaultTo(0);
    t.integer('cohort_returned_180').notNullable().defaultTo(0);
    t.integer('cohort_returned_365').notNullable().defaultTo(0);
    t.primary(['county_id', 'month', 'shop_id', 'product_id']);
  });
  await knex.raw(`CREATE INDEX recovery_monthly_shop ON recovery_monthly (county_id, shop_id, month)`);

  // The same per county and month, for the province's comparison of counties (a few rows per county).
  await knex.schema.createTable('recovery_county_monthly', (t) => {
    t.string('county_id', 6).notNullable();
    t.string('month', 7).notNullable();
    t.integer('sold_units').notNullable().defaultTo(0);
    t.bigInteger('sold_deposit_fen').notNullable().defaultTo(0);
    t.bigInteger('sold_mass_g').notNullable().defaultTo(0);
    t.integer('returned_units').notNullable().defaultTo(0);
    t.bigInteger('returned_mass_g').notNullable().defaultTo(0);
    t.bigInteger('refunded_fen').notNullable().defaultTo(0);
    t.integer('cohort_returned_30').notNullable().defaultTo(0);
    t.integer('cohort_returned_90').notNullable().defaultTo(0);
    t.integer('cohort_returned_180').notNullable().defaultTo(0);
    t.integer('cohort_returned_365').notNullable().defaultTo(0);
    t.primary(['county_id', 'month']);
  });

  await knex.schema.createTable('recovery_aggregation_state', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.timestamp('watermark', { useTz: true }).nullable(); // every row recorded at or before it is in the aggregates
    t.timestamp('refreshed_at', { useTz: true }).notNullable();
    t.integer('months_rebuilt').notNullable().defaultTo(0);
    t.primary(['county_id']);
  });

  // The aggregation job and reconciliation look rows up by record time.
  await knex.raw(`CREATE INDEX sales_recorded ON sales (county_id, recorded_at)`);
  await knex.raw(`CREATE INDEX returns_recorded ON returns (county_id, recorded_at)`);
  await knex.raw(`CREATE INDEX return_allocations_sale ON return_allocations (county_id, sale_id) WHERE sale_id IS NOT NULL`);

  for (const table of [...RECORD_TABLES, ...AGGREGATE_TABLES]) {
    await knex.raw(`CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()`);
  }
  for (const table of RECORD_TABLES) {
    await knex.raw(`CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_update()`);
  }
}
