// Traceability and inspection (issue 16):
// - the read-only `inspector` role (执法人员), scoped to one county like a county official;
// - the access log of personal-data reads by inspectors and officials (who, when, which record,
//   why), a county table written once and never changed;
// - `public_check` counters in auth_throttle: the public status page is rate-limited per client
//   address by the same shared counters as logins;
// - an index that finds a disposal's custody event (bags_disposed names its bags in its content),
//   and two that lead from a sale line or a product's lots to the returns matched to them.
import type { Knex } from 'knex';

const ROLES = ['admin', 'province_official', 'county_official', 'clerk', 'hauler', 'facility_operator'];
const THROTTLE_KINDS = ['login_account', 'login_address', 'device_address', 'enrolment_code'];

const SCOPE = (withInspector: boolean) => `
    (role = 'admin') OR
    (role = 'province_official' AND province_code IS NOT NULL) OR
    (role = 'county_official' AND county_id IS NOT NULL) OR
    ${withInspector ? "(role = 'inspector' AND county_id IS NOT NULL AND shop_id IS NULL AND hauler_id IS NULL AND facility_id IS NULL) OR" : ''}
    (role = 'clerk' AND county_id IS NOT NULL AND shop_id IS NOT NULL) OR
    (role = 'hauler' AND county_id IS NOT NULL AND hauler_id IS NOT NULL) OR
    (role = 'facility_operator' AND county_id IS NOT NULL AND facility_id IS NOT NULL)`;

const list = (xs: string[]) => xs.map((x) => `'${x}'`).join(', ');

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE users DROP CONSTRAINT users_role');
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_role CHECK (role IN (${list([...ROLES, 'inspector'])}))`);
  await knex.raw('ALTER TABLE users DROP CONSTRAINT users_scope');
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_scope CHECK (${SCOPE(true)})`);

  await knex.raw('ALTER TABLE auth_throttle DROP CONSTRAINT auth_throttle_kind');
  await knex.raw(`ALTER TABLE auth_throttle ADD CONSTRAINT auth_throttle_kind CHECK (kind IN (${list([...THROTTLE_KINDS, 'public_check'])}))`);

  await knex.schema.createTable('access_log', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties'); // the county of the record read
    t.uuid('id').notNullable();
    t.uuid('user_id').notNullable();
    t.string('username', 64).notNullable();
    t.string('role', 32).notNullable();
    t.string('record_type', 32).notNullable(); // farmer | sale_purchaser | held_refund_queue | …
    t.string('record_id', 100).notNullable();
    t.string('action', 100).notNullable(); // the route template read
    t.string('why', 300).nullable();
    t.timestamp('accessed_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'id']);
  });
  await knex.raw('CREATE INDEX access_log_time ON access_log (county_id, accessed_at)');
  await knex.raw('CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()');
  await knex.raw('CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_update()');

  await knex.raw(`CREATE INDEX custody_events_disposal ON custody_events (county_id, ((content->'data'->>'disposalId'))) WHERE type = 'bags_disposed'`);
  // Lot trace: a sale line's FIFO allocations, and a product's lots in a period.
  await knex.raw('CREATE INDEX return_allocations_lot ON return_allocations (county_id, sale_id, line_no) WHERE sale_id IS NOT NULL');
  await knex.raw('CREATE INDEX deposit_lots_product ON deposit_lots (county_id, product_id, event_time)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS deposit_lots_product');
  await knex.raw('DROP INDEX IF EXISTS return_allocations_lot');
  await knex.raw('DROP INDEX IF EXISTS custody_events_disposal');
  await knex.schema.dropTable('access_log');
  await knex.raw('ALTER TABLE auth_throttle DROP CONSTRAINT auth_throttle_kind');
  await knex.raw(`ALTER TABLE auth_throttle ADD CONSTRAINT auth_throttle_kind CHECK (kind IN (${list(THROTTLE_KINDS)}))`);
  await knex.raw('ALTER TABLE users DROP CONSTRAINT users_scope');
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_scope CHECK (${SCOPE(false)})`);
  await knex.raw('ALTER TABLE users DROP CONSTRAINT users_role');
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_role CHECK (role IN (${list(ROLES)}))`);
}
