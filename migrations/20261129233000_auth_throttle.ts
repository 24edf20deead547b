// Failed-login and bad-credential counters, shared by every server process on the database so a
// restart or a second process does not hand an attacker a fresh budget. A global table like users and
// sessions: a login name is not yet a county's. Keys are hashes (usernames, codes) or client
// addresses; no password, code or phone number is ever stored.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('auth_throttle', (t) => {
    // login_account, login_address, device_address, enrolment_code
    t.string('kind', 32).notNullable();
    t.string('key', 64).notNullable();
    t.integer('failures').notNullable().defaultTo(0);
    t.timestamp('window_started_at', { useTz: true }).notNullable();
    t.timestamp('last_failure_at', { useTz: true }).nullable();
    // No attempt is looked at before this time (growing delay).
    t.timestamp('blocked_until', { useTz: true }).nullable();
    // An account lock: lifted by time or by an official (POST …/users/{id}/unlock).
    t.timestamp('locked_until', { useTz: true }).nullable();
    t.primary(['kind', 'key']);
  });
  await knex.raw(`ALTER TABLE auth_throttle ADD CONSTRAINT auth_throttle_kind CHECK (kind IN ('login_account', 'login_address', 'device_address', 'enrolment_code'))`);
  await knex.raw('CREATE INDEX auth_throttle_last_failure ON auth_throttle (last_failure_at)');
}

