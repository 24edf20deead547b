// The farmers' SMS service (issue 7): every message in and out, the outbox that sends each event at
// most once (unique per county and event key, also across restarts), Kannel's delivery reports, and
// per-number rate-limit counters kept in the database so a restart does not reset them.
// Every table carries county_id and every key starts with it (shard key, DESIGN "Scale").
import type { Knex } from 'knex';

const TABLES = ['sms_inbound', 'sms_outbox', 'sms_delivery_reports', 'sms_rate_counters'];

export async function up(knex: Knex): Promise<void> {
  // One row per message Kannel handed us; Kannel's message id makes a repeated callback a no-op.
  await knex.schema.createTable('sms_inbound', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.string('kannel_id', 64).notNullable();
    t.string('phone_e164', 20).nullable(); // NULL: the network reported something that is not a number
    t.uuid('farmer_id').nullable();
    t.string('receiver', 32).notNullable().defaultTo('');
    t.text('text').notNullable();
    t.string('command', 16).notNullable(); // balance | history | help | stop | start | unknown
    t.string('outcome', 24).notNullable(); // replied | rate_limited | silenced | unregistered | invalid_sender
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'kannel_id']);
  });
  await knex.raw(`CREATE INDEX sms_inbound_phone_time ON sms_inbound (county_id, phone_e164, received_at)`);

  // One row per SMS part to send. event_key names what caused it (reply:<kannel id>, sale:<id>,
  // return:<id>, expiry:<farmer>:<date>) plus the part number, so an event is enqueued once.
  await knex.schema.createTable('sms_outbox', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.string('event_key', 160).notNullable();
    t.string('kind', 16).notNullable(); // reply | sale | refund | expiry
    t.string('phone_e164', 20).notNullable();
    t.uuid('farmer_id').nullable();
    t.string('language', 2).notNullable();
    t.text('body').notNullable();
    t.integer('part_no').notNullable();
    t.integer('part_count').notNullable();
    t.string('status', 16).notNullable().defaultTo('pending'); // pending | sending | sent | failed
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable();
    t.timestamp('sending_since', { useTz: true }).nullable();
    t.string('last_error', 300).nullable();
    t.timestamp('sent_at', { useTz: true }).nullable();
    t.string('delivery', 16).nullable(); // latest delivery report: delivered | undeliverable | buffered | smsc_ack | smsc_nack
    t.timestamp('delivery_at', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'id']);
    t.unique(['county_id', 'event_key']);
  });
  await knex.raw(`ALTER TABLE sms_outbox ADD CONSTRAINT sms_outbox_status CHECK (status IN ('pending', 'sending', 'sent', 'failed'))`);
  await knex.raw(`ALTER TABLE sms_outbox ADD CONSTRAINT sms_outbox_kind CHECK (kind IN ('reply', 'sale', 'refund', 'expiry'))`);
  await knex.raw(`ALTER TABLE sms_outbox ADD CONSTRAINT sms_outbox_parts CHECK (part_no >= 1 AND part_no <= part_count)`);
  await knex.raw(`CREATE INDEX sms_outbox_due ON sms_outbox (county_id, next_attempt_at) WHERE status = 'pending'`);
  await knex.raw(`CREATE INDEX sms_outbox_due_all ON sms_outbox (next_attempt_at) WHERE status = 'pending'`);

  // Kannel's delivery reports as they came (append-only); the outbox row keeps the latest state.
  await knex.schema.createTable('sms_delivery_reports', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('outbox_id').notNullable();
    t.integer('seq').notNullable();
    t.integer('dlr_type').notNullable(); // Kannel %d: 1 delivered, 2 failed, 4 buffered, 8 SMSC ack, 16 SMSC nack
    t.string('answer', 300).notNullable().defaultTo('');
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'outbox_id', 'seq']);
    t.foreign(['county_id', 'outbox_id']).references(['county_id', 'id']).inTable('sms_outbox');
  });

  // Messages per sender per hour. The phone is stored as a keyed hash: counters need no number.
  await knex.schema.createTable('sms_rate_counters', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.string('phone_hash', 64).notNullable();
    t.string('kind', 16).notNullable(); // inbound | limited_reply
    t.timestamp('window_start', { useTz: true }).notNullable();
    t.integer('count').notNullable().defaultTo(0);
    t.primary(['county_id', 'phone_hash', 'kind', 'window_start']);
  });

  for (const table of TABLES) {
    await knex.raw(`CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()`);
  }
}
