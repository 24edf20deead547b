// Secrets the server generates for itself (the JWT signing secret when JWT_SECRET is not set) live in
// the database, so every backup carries them and a restored county keeps its sessions (issue 12).
// A global table like users: not county data. Written once per name, never changed or deleted.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('server_secrets', (t) => {
    t.string('name', 50).primary();
    t.text('value').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('CREATE TRIGGER server_secrets_no_delete BEFORE DELETE ON server_secrets FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()');
  await knex.raw('CREATE TRIGGER server_secrets_no_update BEFORE UPDATE ON server_secrets FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_update()');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('server_secrets');
}
