// A message queued in the SMS outbox wakes the outbox worker at once: NOTIFY on insert (delivered
// when the sale's or refund's transaction commits). The worker's poll stays as the safety net.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION agrireturn_sms_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('agrireturn_sms_outbox', '');
      RETURN NULL;
    END $$`);
  await knex.raw('CREATE TRIGGER sms_outbox_notify AFTER INSERT ON sms_outbox FOR EACH STATEMENT EXECUTE FUNCTION agrireturn_sms_outbox_notify()');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER sms_outbox_notify ON sms_outbox');
  await knex.raw('DROP FUNCTION agrireturn_sms_outbox_notify()');
}
