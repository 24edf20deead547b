// Every change to a session, a user or a terminal's credential NOTIFYs `agrireturn_auth` with the
// row's key, in the changing transaction: each server process drops its cached copy the moment that
// transaction commits (src/auth/session-cache.ts). Logout, deactivation, password and role changes
// and terminal revocation stay immediate in every process, whichever process (or command) made them.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION agrireturn_auth_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE r record;
    BEGIN
      IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
      IF TG_TABLE_NAME = 'sessions' THEN
        PERFORM pg_notify('agrireturn_auth', 's:' || r.id);
      ELSIF TG_TABLE_NAME = 'users' THEN
        PERFORM pg_notify('agrireturn_auth', 'u:' || r.id);
      ELSE
        PERFORM pg_notify('agrireturn_auth', 't:' || r.county_id || ':' || r.id);
      END IF;
      RETURN NULL;
    END $$`);
  await knex.raw('CREATE TRIGGER sessions_auth_notify AFTER UPDATE OR DELETE ON sessions FOR EACH ROW EXECUTE FUNCTION agrireturn_auth_notify()');
  await knex.raw('CREATE TRIGGER users_auth_notify AFTER UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION agrireturn_auth_notify()');
  // last_seen_at moves once a minute per terminal and is not part of the credential: no notice for it.
  await knex.raw(`CREATE TRIGGER terminals_auth_notify AFTER UPDATE ON terminals FOR EACH ROW
    WHEN (OLD.credential_hash IS DISTINCT FROM NEW.credential_hash OR OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.shop_id IS DISTINCT FROM NEW.shop_id)
    EXECUTE FUNCTION agrireturn_auth_notify()`);
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['sessions', 'users', 'terminals']) await knex.raw(`DROP TRIGGER ${t}_auth_notify ON ${t}`);
  await knex.raw('DROP FUNCTION agrireturn_auth_notify()');
}
