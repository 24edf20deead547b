// Colocation for Citus (docs/scale.md): users is a global (reference) table — province officials and
// admins belong to no county — and a reference table may not hold foreign keys into distributed
// (county) tables. The user's shop, hauler company and facility are checked by the users route in
// the same transaction (requireRef), and none of those rows is ever deleted (no-hard-deletes
// trigger), so these three keys only duplicated that check; the key to counties (also global) stays.
import type { Knex } from 'knex';

const REFS = [['shop_id', 'shops'], ['hauler_id', 'haulers'], ['facility_id', 'facilities']] as const;

export async function up(knex: Knex): Promise<void> {
  for (const [col] of REFS) await knex.raw(`ALTER TABLE users DROP CONSTRAINT IF EXISTS users_county_id_${col}_foreign`);
}

export async function down(knex: Knex): Promise<void> {
  for (const [col, table] of REFS) {
    await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_county_id_${col}_foreign FOREIGN KEY (county_id, ${col}) REFERENCES ${table} (county_id, id)`);
  }
}
