// Archive by year (issue 16; docs/traceability.md "Archive by year"): a county's closed year of
// sales and returns moves out of the live tables into the schema archive_<year> (same table shapes),
// so today's queries read smaller tables, and comes back for an audit. Business records are never
// deleted: the no-delete trigger now lets a row of an archivable table leave only inside the
// archive command's own transaction — the session names its archive run (agrireturn.archive_run),
// and that run must be a `running` archive of the row's county recorded in archive_runs by this very
// transaction. Every run (archive or restore) stays in archive_runs with its counts and checksums.
import type { Knex } from 'knex';

/** Live tables whose rows an archive run moves (src/features/archive/archive-store.ts lists the same). */
const ARCHIVABLE = ['sales', 'sale_lines', 'sold_units', 'deposit_lots', 'returns', 'return_items', 'return_allocations', 'refunds', 'reversals'];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('archive_runs', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.integer('year').notNullable();
    t.string('action', 16).notNullable(); // archive | restore
    t.string('state', 16).notNullable(); // running | done (a failed run rolls back with its row)
    t.string('schema_name', 63).notNullable();
    t.bigInteger('txid').notNullable(); // the transaction that moves the rows
    t.string('actor', 100).notNullable();
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('finished_at', { useTz: true }).nullable();
    t.jsonb('tables').nullable(); // { table: { rows, md5, columns } } of the rows moved
    t.jsonb('kept_live').nullable(); // what of the year stayed live, and why
    t.primary(['county_id', 'id']);
  });
  await knex.raw(`ALTER TABLE archive_runs ADD CONSTRAINT archive_runs_values CHECK (action IN ('archive', 'restore') AND state IN ('running', 'done') AND year BETWEEN 2000 AND 2200)`);
  await knex.raw(`CREATE INDEX archive_runs_year ON archive_runs (county_id, year, started_at)`);
  await knex.raw(`CREATE TRIGGER archive_runs_no_delete BEFORE DELETE ON archive_runs FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()`);
  // A run row is finished once, by the transaction that started it; nothing else about it changes.
  await knex.raw(`
    CREATE OR REPLACE FUNCTION agrireturn_archive_runs_finish() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.state = 'running' AND NEW.state = 'done' AND OLD.txid = txid_current()
         AND (NEW.county_id, NEW.id, NEW.year, NEW.action, NEW.schema_name, NEW.txid, NEW.actor, NEW.started_at)
             IS NOT DISTINCT FROM (OLD.county_id, OLD.id, OLD.year, OLD.action, OLD.schema_name, OLD.txid, OLD.actor, OLD.started_at) THEN
        RETURN NEW;
      END IF;
      RAISE EXCEPTION 'archive runs are never changed once finished (table %)', TG_TABLE_NAME USING ERRCODE = 'P0001', HINT = 'agrireturn:no_update';
    END $$`);
  await knex.raw(`CREATE TRIGGER archive_runs_finish BEFORE UPDATE ON archive_runs FOR EACH ROW EXECUTE FUNCTION agrireturn_archive_runs_finish()`);

  await knex.raw(`
    CREATE OR REPLACE FUNCTION agrireturn_archiving(county text) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
    DECLARE run text := current_setting('agrireturn.archive_run', true);
    BEGIN
      IF run IS NULL OR run !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN RETURN false; END IF;
      RETURN EXISTS (SELECT 1 FROM archive_runs r WHERE r.county_id = county AND r.id = run::uuid
                        AND r.action = 'archive' AND r.state = 'running' AND r.txid = txid_current());
    END $$`);
  await knex.raw(`
    CREATE OR REPLACE FUNCTION agrireturn_forbid_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_TABLE_NAME IN (${ARCHIVABLE.map((t) => `'${t}'`).join(', ')}) AND agrireturn_archiving(OLD.county_id) THEN
        RETURN OLD; -- moved into archive_<year> by the archive run of this transaction
      END IF;
      RAISE EXCEPTION 'business records are never deleted (table %): deactivate or correct instead', TG_TABLE_NAME
        USING ERRCODE = 'P0001', HINT = 'agrireturn:no_delete';
    END;
    $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION agrireturn_forbid_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'business records are never deleted (table %): deactivate or correct instead', TG_TABLE_NAME
        USING ERRCODE = 'P0001', HINT = 'agrireturn:no_delete';
    END;
    $$;
  `);
  await knex.raw('DROP FUNCTION agrireturn_archiving(text)');
  await knex.schema.dropTable('archive_runs');
  await knex.raw('DROP FUNCTION agrireturn_archive_runs_finish()');
}
