// A points redemption is booked like any other counter record (DESIGN rule 12): when its event
// time falls in a month already closed when the server stores it, it counts at the first instant of
// the first open month (booked_at, as sales, returns and reversals have it). NULL: at its event time.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('points_redemptions', (t) => {
    t.timestamp('booked_at', { useTz: true }).nullable();
  });
  await knex.raw('CREATE INDEX points_redemptions_farmer ON points_redemptions (county_id, farmer_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX points_redemptions_farmer');
  await knex.schema.alterTable('points_redemptions', (t) => { t.dropColumn('booked_at'); });
}
