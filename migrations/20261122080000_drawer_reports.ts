// Day-end drawer reports sent by shop terminals (issue 5): what the till should hold, as the clerk
// printed it. Append-only like the ledger; keyed by the terminal-made client id.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('drawer_reports', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.uuid('shop_id').notNullable();
    t.string('actor', 100).notNullable();
    t.date('business_day').notNullable();
    t.timestamp('event_time', { useTz: true }).notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.bigInteger('deposits_taken_fen').notNullable();
    t.bigInteger('refunds_paid_fen').notNullable();
    t.bigInteger('refunds_paid_cash_fen').notNullable();
    t.bigInteger('net_cash_expected_fen').notNullable();
    t.jsonb('report').notNullable();
    t.primary(['county_id', 'id']);
    t.foreign(['county_id', 'shop_id']).references(['county_id', 'id']).inTable('shops');
  });
  await knex.raw('CREATE INDEX drawer_reports_shop_day ON drawer_reports (county_id, shop_id, business_day)');
  await knex.raw('CREATE TRIGGER drawer_reports_no_delete BEFORE DELETE ON drawer_reports FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()');
  await knex.raw('CREATE TRIGGER drawer_reports_no_update BEFORE UPDATE ON drawer_reports FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_update()');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('drawer_reports');
}
