// After a restore from backup, the county asks its shop terminals to send again everything they
// recorded since an instant (issue 12). Each request is a row; the newest one travels in the
// terminals' snapshot. Kept for the record: never updated or deleted.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('terminal_resend_requests', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.timestamp('since', { useTz: true }).notNullable();
    t.timestamp('requested_at', { useTz: true }).notNullable();
    t.string('requested_by', 100).notNullable();
    t.text('reason').notNullable();
    t.primary(['county_id', 'id']);
  });
  await knex.raw('CREATE INDEX terminal_resend_requests_newest ON terminal_resend_requests (county_id, requested_at DESC)');
  await knex.raw('CREATE TRIGGER terminal_resend_requests_no_delete BEFORE DELETE ON terminal_resend_requests FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()');
  await knex.raw('CREATE TRIGGER terminal_resend_requests_no_update BEFORE UPDATE ON terminal_resend_requests FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_update()');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('terminal_resend_requests');
}
