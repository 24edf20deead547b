// An idempotency key without an answer (status_code NULL) is a claim in flight: the transaction that
// made it is still deciding. A set-based return run (src/features/returns/return-run.ts) claims every
// client id of its run in one statement and then drops, in the same transaction, the claims of returns
// the rules refused — as their own transactions would have rolled back. Such a claim was never
// answered to anyone, so dropping it loses nothing; a key with an answer stays undeletable, like every
// business record (20261122050000_no_hard_deletes).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION agrireturn_forbid_delete_answered() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.status_code IS NULL THEN RETURN OLD; END IF;
      RAISE EXCEPTION 'business records are never deleted (table %): deactivate or correct instead', TG_TABLE_NAME
        USING ERRCODE = 'P0001', HINT = 'agrireturn:no_delete';
    END;
    $$;
  `);
  await knex.raw('DROP TRIGGER idempotency_keys_no_delete ON idempotency_keys');
  await knex.raw('CREATE TRIGGER idempotency_keys_no_delete BEFORE DELETE ON idempotency_keys FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete_answered()');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER idempotency_keys_no_delete ON idempotency_keys');
  await knex.raw('CREATE TRIGGER idempotency_keys_no_delete BEFORE DELETE ON idempotency_keys FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()');
  await knex.raw('DROP FUNCTION agrireturn_forbid_delete_answered()');
}
