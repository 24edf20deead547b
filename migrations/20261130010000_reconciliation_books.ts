// Per-day books for reconciliation (issue 13): the money, ledger and balance movements a
// reconciliation sums, pre-aggregated per county, record day and booked day, so a county-year
// reconciles from a few hundred thousand book rows instead of every sale, return and entry.
//
// - reconciliation_day_books: derived rows, rebuilt day by day (delete + insert) from the immutable
//   source tables; never a business record, so they may be deleted and rebuilt at will.
//   rec_day: the county day the contribution was recorded (the asOf cut-off works on it);
//   at_day: the county day it counts in (coalesce(booked_at, event_time)); source: records |
//   ledger | balance; key_id: the shop (records, ledger) or the ledger account (balance), the nil
//   uuid for none; kind: the movement (deposit_collected, …, plus accepted/rejected/none units).
// - reconciliation_dirty_days: which record days changed since their books were built. Written by
//   statement-level AFTER INSERT triggers with transition tables on every source table (so a
//   multi-row INSERT and COPY mark them once per statement and day), tagged with the writing
//   transaction's id: writers only ever append (no hot row, no unique-key wait between
//   transactions), and a rebuild deletes exactly the marks it saw, never one committed after it looked.
// - reconciliation_book_state: per county, the time zone the days were cut in (a changed zone
//   rebuilds the county's books) and when they were last refreshed.
// - book_unit_duplicates: unit codes allocated more than once (candidates for unit_refunded_twice).
// Every key starts with county_id (Citus colocation).
import type { Knex } from 'knex';

const NIL = '00000000-0000-0000-0000-000000000000';

/** For each source table: SQL over the transition table `n` giving (county_id, rec) rows. */
const MARKS: Record<string, string> = {
  sales: `SELECT n.county_id, n.recorded_at AS rec FROM n`,
  returns: `SELECT n.county_id, n.recorded_at AS rec FROM n`,
  settlements: `SELECT n.county_id, n.recorded_at AS rec FROM n`,
  held_refund_payouts: `SELECT n.county_id, n.recorded_at AS rec FROM n`,
  ledger_transfers: `SELECT n.county_id, n.recorded_at AS rec FROM n`,
  expiry_runs: `SELECT n.county_id, n.run_at AS rec FROM n`,
  // A reversal's contribution is recorded when both it and its target are.
  reversals: `SELECT n.county_id, greatest(n.recorded_at, coalesce(s.recorded_at, r.recorded_at, n.recorded_at)) AS rec FROM n
      LEFT JOIN sales s ON n.target_type = 'sale' AND s.county_id = n.county_id AND s.id = n.target_id
      LEFT JOIN returns r ON n.target_type = 'return' AND r.county_id = n.county_id AND r.id = n.target_id`,
  sale_lines: `SELECT n.county_id, greatest(s.recorded_at, coalesce(v.recorded_at, s.recorded_at)) AS rec FROM n
      JOIN sales s ON s.county_id = n.county_id AND s.id = n.sale_id
      LEFT JOIN reversals v ON v.county_id = n.county_id AND v.target_type = 'sale' AND v.target_id = n.sale_id
    UNION ALL SELECT n.county_id, s.recorded_at FROM n JOIN sales s ON s.county_id = n.county_id AND s.id = n.sale_id`,
  return_items: `SELECT n.county_id, greatest(r.recorded_at, coalesce(v.recorded_at, r.recorded_at)) AS rec FROM n
      JOIN returns r ON r.county_id = n.county_id AND r.id = n.return_id
      LEFT JOIN reversals v ON v.county_id = n.county_id AND v.target_type = 'return' AND v.target_id = n.return_id
    UNION ALL SELECT n.county_id, r.recorded_at FROM n JOIN returns r ON r.county_id = n.county_id AND r.id = n.return_id`,
  return_allocations: `SELECT n.county_id, greatest(r.recorded_at, coalesce(v.recorded_at, r.recorded_at)) AS rec FROM n
      JOIN returns r ON r.county_id = n.county_id AND r.id = n.return_id
      LEFT JOIN reversals v ON v.county_id = n.county_id AND v.target_type = 'return' AND v.target_id = n.return_id
    UNION ALL SELECT n.county_id, r.recorded_at FROM n JOIN returns r ON r.county_id = n.county_id AND r.id = n.return_id`,
  ledger_entries: `SELECT n.county_id, t.recorded_at AS rec FROM n JOIN ledger_transfers t ON t.county_id = n.county_id AND t.id = n.transfer_id`,
};

export const BOOK_SOURCE_TABLES = Object.keys(MARKS);

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('reconciliation_day_books', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.date('rec_day').notNullable();
    t.date('at_day').notNullable();
    t.string('source', 8).notNullable(); // records | ledger | balance
    t.uuid('key_id').notNullable(); // shop or account; the nil uuid for none
    t.string('kind', 32).notNullable();
    t.bigInteger('fen').notNullable();
    t.bigInteger('units').notNullable();
    t.primary(['county_id', 'rec_day', 'at_day', 'source', 'key_id', 'kind']);
  });
  await knex.raw(`ALTER TABLE reconciliation_day_books ADD CONSTRAINT reconciliation_day_books_source CHECK (source IN ('records', 'ledger', 'balance'))`);

  await knex.schema.createTable('reconciliation_dirty_days', (t) => {
    t.string('county_id', 6).notNullable();
    t.date('rec_day').notNullable();
    t.bigInteger('tx').notNullable(); // txid_current() of the writing transaction
  });
  // No unique key on purpose: a restore COPYs a backup's marks after its own triggers wrote some, and
  // a transaction id of the source cluster may equal the restoring one. A few duplicate marks (one
  // per statement and day) cost nothing; a refresh deletes them all.
  await knex.raw(`CREATE INDEX reconciliation_dirty_days_day ON reconciliation_dirty_days (county_id, rec_day, tx)`);

  await knex.schema.createTable('reconciliation_book_state', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.string('timezone', 64).notNullable();
    t.timestamp('built_at', { useTz: true }).notNullable();
    t.timestamp('refreshed_at', { useTz: true }).notNullable();
    t.integer('days_refreshed').notNullable().defaultTo(0);
    t.primary(['county_id']);
  });

  await knex.schema.createTable('book_unit_duplicates', (t) => {
    t.string('county_id', 6).notNullable();
    t.string('unit_code', 32).notNullable();
    t.primary(['county_id', 'unit_code']);
  });

  for (const [table, select] of Object.entries(MARKS)) {
    await knex.raw(`
      CREATE OR REPLACE FUNCTION agrireturn_books_mark_${table}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- A restore or db:move copies the source's books and marks as they were (src/backup/table-copy.ts).
        IF current_setting('agrireturn.copying', true) = 'on' THEN RETURN NULL; END IF;
        INSERT INTO reconciliation_dirty_days (county_id, rec_day, tx)
        SELECT DISTINCT x.county_id, (x.rec AT TIME ZONE c.timezone)::date, txid_current()
          FROM (${select}) x JOIN counties c ON c.id = x.county_id;
        RETURN NULL;
      END;
      $$;`);
    await knex.raw(`CREATE TRIGGER ${table}_books_mark_insert AFTER INSERT ON ${table} REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION agrireturn_books_mark_${table}()`);
    // Source rows are immutable (no_update triggers refuse every UPDATE); should one ever be allowed,
    // its new version marks its day too.
    await knex.raw(`CREATE TRIGGER ${table}_books_mark_update AFTER UPDATE ON ${table} REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION agrireturn_books_mark_${table}()`);
  }

  // The few-row queries of a reconciliation that would otherwise read a whole table.
  for (const table of ['sales', 'returns', 'reversals']) {
    await knex.raw(`CREATE INDEX ${table}_booked ON ${table} (county_id, booked_at) WHERE booked_at IS NOT NULL`);
  }
  await knex.raw(`CREATE INDEX sales_deposit_mismatch ON sales (county_id) WHERE deposit_mismatch`);
  await knex.raw(`CREATE INDEX expiry_runs_run_at ON expiry_runs (county_id, run_at)`);
  await knex.raw(`CREATE INDEX ledger_transfers_recorded ON ledger_transfers (county_id, recorded_at)`);
  await knex.raw(`CREATE INDEX reversals_recorded ON reversals (county_id, recorded_at)`);
  void NIL;
}

export async function down(knex: Knex): Promise<void> {
  for (const table of Object.keys(MARKS)) {
    await knex.raw(`DROP TRIGGER IF EXISTS ${table}_books_mark_insert ON ${table}`);
    await knex.raw(`DROP TRIGGER IF EXISTS ${table}_books_mark_update ON ${table}`);
    await knex.raw(`DROP FUNCTION IF EXISTS agrireturn_books_mark_${table}()`);
  }
  for (const table of ['sales', 'returns', 'reversals']) await knex.raw(`DROP INDEX IF EXISTS ${table}_booked`);
  for (const ix of ['sales_deposit_mismatch', 'expiry_runs_run_at', 'ledger_transfers_recorded', 'reversals_recorded']) await knex.raw(`DROP INDEX IF EXISTS ${ix}`);
  for (const table of ['book_unit_duplicates', 'reconciliation_book_state', 'reconciliation_dirty_days', 'reconciliation_day_books']) await knex.schema.dropTableIfExists(table);
}
