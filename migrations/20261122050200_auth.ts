// People and devices that may act: users with one role and scope each, refresh-token sessions that
// can be revoked, and POS terminals enrolled with a one-time code and bound to one shop.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Users are a global table (logins must be unique across the province); their scope columns say
  // which county, shop, hauler or facility they act for.
  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary();
    t.string('username', 64).notNullable().unique();
    t.string('display_name', 100).notNullable();
    t.string('password_hash', 200).notNullable();
    t.string('role', 32).notNullable();
    t.string('province_code', 6).nullable();
    t.string('county_id', 6).nullable().references('id').inTable('counties');
    t.uuid('shop_id').nullable();
    t.uuid('hauler_id').nullable();
    t.uuid('facility_id').nullable();
    t.string('language', 2).notNullable().defaultTo('zh');
    t.boolean('active').notNullable().defaultTo(true);
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['county_id', 'shop_id']).references(['county_id', 'id']).inTable('shops');
    t.foreign(['county_id', 'hauler_id']).references(['county_id', 'id']).inTable('haulers');
    t.foreign(['county_id', 'facility_id']).references(['county_id', 'id']).inTable('facilities');
  });
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_role CHECK (role IN ('admin', 'province_official', 'county_official', 'clerk', 'hauler', 'facility_operator'))`);
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_scope CHECK (
    (role = 'admin') OR
    (role = 'province_official' AND province_code IS NOT NULL) OR
    (role = 'county_official' AND county_id IS NOT NULL) OR
    (role = 'clerk' AND county_id IS NOT NULL AND shop_id IS NOT NULL) OR
    (role = 'hauler' AND county_id IS NOT NULL AND hauler_id IS NOT NULL) OR
    (role = 'facility_operator' AND county_id IS NOT NULL AND facility_id IS NOT NULL))`);

  await knex.schema.createTable('sessions', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('id').inTable('users');
    t.string('refresh_token_hash', 64).notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true }).nullable();
    t.string('revoked_reason', 32).nullable();
    t.uuid('replaced_by').nullable();
  });
  await knex.raw('CREATE INDEX sessions_user ON sessions (user_id)');

  await knex.schema.createTable('terminals', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.uuid('shop_id').notNullable();
    t.string('name', 100).notNullable();
    t.string('enrolment_code_hash', 64).nullable();
    t.timestamp('enrolment_expires_at', { useTz: true }).nullable();
    t.timestamp('enrolled_at', { useTz: true }).nullable();
    t.string('credential_hash', 64).nullable();
    t.timestamp('revoked_at', { useTz: true }).nullable();
    t.string('revoked_reason', 300).nullable();
    t.timestamp('last_seen_at', { useTz: true }).nullable();
    t.string('created_by', 100).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['county_id', 'id']);
    t.foreign(['county_id', 'shop_id']).references(['county_id', 'id']).inTable('shops');
  });
  await knex.raw('CREATE INDEX terminals_enrolment_code ON terminals (enrolment_code_hash) WHERE enrolment_code_hash IS NOT NULL');
  for (const table of ['users', 'terminals']) {
    await knex.raw(`CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()`);
  }
}
