// Chain of custody (issue 4, DESIGN rules 8–9): collection bags, pickup manifests with ordered
// transporters, two-sided signatures, receiving inspections with typed discrepancies, disposals, and
// one append-only, hash-chained event log per county. Bags and manifests carry a state that moves;
// everything else is written once. Every key starts with county_id (shard key, DESIGN "Scale").
import type { Knex } from 'knex';

// Written once: neither UPDATE nor DELETE (agrireturn_forbid_update comes from the ledger migration).
const IMMUTABLE_TABLES = [
  'custody_bag_items', 'custody_manifest_transporters', 'custody_manifest_bags', 'custody_signatures',
  'custody_inspections', 'custody_discrepancies', 'custody_disposals', 'custody_disposal_bags', 'custody_events',
];
// Positions that move (a bag's state, a manifest's status): updated, never deleted.
const STATE_TABLES = ['custody_bags', 'custody_manifests'];

const BAG_STATES = ['open', 'sealed', 'picked_up', 'received', 'disposed', 'rejected', 'missing'] as const;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('custody_bags', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable(); // client id
    t.uuid('shop_id').notNullable();
    t.string('material', 32).notNullable();
    t.string('state', 16).notNullable().defaultTo('open');
    t.string('seal_no', 64).nullable();
    t.integer('declared_quantity').notNullable().defaultTo(0);
    t.integer('expected_weight_g').notNullable().defaultTo(0); // from container tare weights
    t.integer('shop_weight_g').nullable(); // weighed at the shop when sealed
    // Where custody is: shop → hauler(s) → facility.
    t.string('holder_type', 16).notNullable().defaultTo('shop');
    t.uuid('holder_id').notNullable();
    t.uuid('manifest_id').nullable();
    // From the latest receiving inspection (corrections supersede earlier ones).
    t.uuid('inspection_id').nullable();
    t.integer('measured_weight_g').nullable();
    t.integer('counted_quantity').nullable();
    t.integer('rejected_quantity').notNullable().defaultTo(0);
    t.uuid('disposal_id').nullable();
    t.string('created_by', 100).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('sealed_at', { useTz: true }).nullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'id']);
    t.foreign(['county_id', 'shop_id']).references(['county_id', 'id']).inTable('shops');
  });
  await knex.raw(`ALTER TABLE custody_bags ADD CONSTRAINT custody_bags_state CHECK (state IN (${BAG_STATES.map((s) => `'${s}'`).join(', ')}))`);
  await knex.raw(`ALTER TABLE custody_bags ADD CONSTRAINT custody_bags_holder CHECK (holder_type IN ('shop', 'hauler', 'facility'))`);
  await knex.raw(`ALTER TABLE custody_bags ADD CONSTRAINT custody_bags_sealed CHECK (state = 'open' OR seal_no IS NOT NULL)`);
  await knex.raw(`ALTER TABLE custody_bags ADD CONSTRAINT custody_bags_counts CHECK (declared_quantity >= 0 AND expected_weight_g >= 0 AND rejected_quantity >= 0)`);
  await knex.raw(`CREATE UNIQUE INDEX custody_bags_seal ON custody_bags (county_id, seal_no) WHERE seal_no IS NOT NULL`);
  await knex.raw(`CREATE INDEX custody_bags_shop ON custody_bags (county_id, shop_id, created_at)`);
  await knex.raw(`CREATE INDEX custody_bags_manifest ON custody_bags (county_id, manifest_id) WHERE manifest_id IS NOT NULL`);

  await knex.schema.createTable('custody_bag_items', (t) => {
    t.string('county_id', 6).notNullable();
    t.uuid('bag_id').notNullable();
    t.integer('item_no').notNullable();
    t.uuid('container_type_id').notNullable();
    t.string('unit_code', 32).nullable();
    t.integer('quantity').notNullable();
    t.integer('tare_weight_g').notNullable(); // per container, as in force when bagged
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'bag_id', 'item_no']);
    t.foreign(['county_id', 'bag_id']).references(['county_id', 'id']).inTable('custody_bags');
    t.foreign(['county_id', 'container_type_id']).references(['county_id', 'id']).inTable('container_types');
  });
  await knex.raw(`ALTER TABLE custody_bag_items ADD CONSTRAINT custody_bag_items_quantity CHECK (quantity > 0 AND (unit_code IS NULL OR quantity = 1))`);
  // A unit-coded container goes into one bag, ever.
  await knex.raw(`CREATE UNIQUE INDEX custody_bag_items_code ON custody_bag_items (county_id, unit_code) WHERE unit_code IS NOT NULL`);

  await knex.schema.createTable('custody_manifests', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.integer('serial').notNullable();
    t.string('tracking_no', 20).notNullable();
    t.uuid('facility_id').notNullable(); // designated receiving facility
    t.string('status', 16).notNullable().defaultTo('open');
    t.string('created_by', 100).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'id']);
    t.unique(['county_id', 'serial']);
    t.unique(['county_id', 'tracking_no']);
    t.foreign(['county_id', 'facility_id']).references(['county_id', 'id']).inTable('facilities');
  });
  await knex.raw(`ALTER TABLE custody_manifests ADD CONSTRAINT custody_manifests_status CHECK (status IN ('open', 'in_transit', 'delivered', 'closed'))`);

  await knex.schema.createTable('custody_manifest_transporters', (t) => {
    t.string('county_id', 6).notNullable();
    t.uuid('manifest_id').notNullable();
    t.integer('seq').notNullable(); // 1 = first transporter
    t.uuid('hauler_id').notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'manifest_id', 'seq']);
    t.foreign(['county_id', 'manifest_id']).references(['county_id', 'id']).inTable('custody_manifests');
    t.foreign(['county_id', 'hauler_id']).references(['county_id', 'id']).inTable('haulers');
  });
  await knex.raw(`CREATE INDEX custody_manifest_transporters_hauler ON custody_manifest_transporters (county_id, hauler_id)`);

  await knex.schema.createTable('custody_manifest_bags', (t) => {
    t.string('county_id', 6).notNullable();
    t.uuid('bag_id').notNullable(); // a bag travels on one manifest
    t.uuid('manifest_id').notNullable();
    t.uuid('shop_id').notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'bag_id']);
    t.foreign(['county_id', 'manifest_id']).references(['county_id', 'id']).inTable('custody_manifests');
    t.foreign(['county_id', 'bag_id']).references(['county_id', 'id']).inTable('custody_bags');
  });
  await knex.raw(`CREATE INDEX custody_manifest_bags_manifest ON custody_manifest_bags (county_id, manifest_id)`);

  await knex.schema.createTable('custody_signatures', (t) => {
    t.string('county_id', 6).notNullable();
    t.uuid('id').notNullable(); // client id
    t.uuid('manifest_id').notNullable();
    t.string('handover', 64).notNullable(); // pickup:<shopId> | transfer:<n> | delivery
    t.string('side', 8).notNullable(); // giver | receiver
    t.string('party_type', 16).notNullable(); // on behalf of: shop | hauler | facility
    t.uuid('party_id').notNullable();
    t.string('signer', 100).notNullable(); // user name or terminal
    t.string('signer_role', 32).notNullable();
    t.string('device', 100).notNullable();
    t.timestamp('signed_at', { useTz: true }).notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'id']);
    t.unique(['county_id', 'manifest_id', 'handover', 'side']);
    t.foreign(['county_id', 'manifest_id']).references(['county_id', 'id']).inTable('custody_manifests');
  });
  await knex.raw(`ALTER TABLE custody_signatures ADD CONSTRAINT custody_signatures_side CHECK (side IN ('giver', 'receiver') AND party_type IN ('shop', 'hauler', 'facility'))`);

  // A facility's receiving inspection of one bag; a correction is a new row that supersedes one.
  await knex.schema.createTable('custody_inspections', (t) => {
    t.string('county_id', 6).notNullable();
    t.uuid('id').notNullable();
    t.uuid('bag_id').notNullable();
    t.uuid('manifest_id').notNullable();
    t.uuid('facility_id').notNullable();
    t.string('outcome', 24).notNullable(); // accepted | partially_rejected | rejected | missing
    t.integer('measured_weight_g').nullable();
    t.string('seal_no_read', 64).nullable();
    t.boolean('seal_intact').nullable();
    t.integer('counted_quantity').nullable();
    t.integer('rejected_quantity').notNullable().defaultTo(0);
    t.uuid('supersedes_id').nullable();
    t.string('actor', 100).notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'id']);
    t.foreign(['county_id', 'bag_id']).references(['county_id', 'id']).inTable('custody_bags');
  });
  await knex.raw(`ALTER TABLE custody_inspections ADD CONSTRAINT custody_inspections_outcome CHECK (outcome IN ('accepted', 'partially_rejected', 'rejected', 'missing'))`);
  await knex.raw(`CREATE UNIQUE INDEX custody_inspections_superseded_once ON custody_inspections (county_id, supersedes_id) WHERE supersedes_id IS NOT NULL`);
  await knex.raw(`CREATE INDEX custody_inspections_bag ON custody_inspections (county_id, bag_id)`);

  await knex.schema.createTable('custody_discrepancies', (t) => {
    t.string('county_id', 6).notNullable();
    t.uuid('inspection_id').notNullable();
    t.integer('no').notNullable();
    t.uuid('bag_id').notNullable();
    t.string('type', 24).notNullable();
    t.integer('expected_value').nullable(); // containers or grams, by type
    t.integer('actual_value').nullable();
    t.string('comment', 1000).notNullable();
    t.primary(['county_id', 'inspection_id', 'no']);
    t.foreign(['county_id', 'inspection_id']).references(['county_id', 'id']).inTable('custody_inspections');
  });
  await knex.raw(`ALTER TABLE custody_discrepancies ADD CONSTRAINT custody_discrepancies_type CHECK (type IN ('count', 'weight', 'missing_bag', 'broken_seal', 'wrong_material') AND length(btrim(comment)) > 0)`);

  await knex.schema.createTable('custody_disposals', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.uuid('holder_facility_id').notNullable(); // where the bags were
    t.uuid('disposal_facility_id').nullable(); // where they were disposed of, when a county facility
    t.string('method', 16).notNullable();
    t.string('facility_licence_no', 64).notNullable();
    t.string('certificate_no', 64).notNullable();
    t.date('disposed_on').notNullable();
    t.string('actor', 100).notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'id']);
    t.unique(['county_id', 'certificate_no']);
  });
  await knex.raw(`ALTER TABLE custody_disposals ADD CONSTRAINT custody_disposals_method CHECK (method IN ('recycling', 'incineration', 'landfill'))`);

  await knex.schema.createTable('custody_disposal_bags', (t) => {
    t.string('county_id', 6).notNullable();
    t.uuid('bag_id').notNullable();
    t.uuid('disposal_id').notNullable();
    t.primary(['county_id', 'bag_id']);
    t.foreign(['county_id', 'disposal_id']).references(['county_id', 'id']).inTable('custody_disposals');
  });

  // The tamper-evident log: every custody event of a county in order, each hashing the one before.
  await knex.schema.createTable('custody_events', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.bigInteger('seq').notNullable(); // 1, 2, 3 … per county
    t.uuid('id').notNullable();
    t.string('type', 32).notNullable();
    t.uuid('bag_id').nullable();
    t.uuid('manifest_id').nullable();
    t.jsonb('content').notNullable(); // exactly what was hashed
    t.string('prev_hash', 64).notNullable();
    t.string('hash', 64).notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'seq']);
    t.unique(['county_id', 'id']);
  });
  await knex.raw(`CREATE INDEX custody_events_bag ON custody_events (county_id, bag_id) WHERE bag_id IS NOT NULL`);
  await knex.raw(`CREATE INDEX custody_events_manifest ON custody_events (county_id, manifest_id) WHERE manifest_id IS NOT NULL`);

  for (const table of [...IMMUTABLE_TABLES, ...STATE_TABLES]) {
    await knex.raw(`CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()`);
  }
  for (const table of IMMUTABLE_TABLES) {
    await knex.raw(`CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_update()`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['custody_events', 'custody_disposal_bags', 'custody_disposals', 'custody_discrepancies', 'custody_inspections',
    'custody_signatures', 'custody_manifest_bags', 'custody_manifest_transporters', 'custody_manifests', 'custody_bag_items', 'custody_bags']) {
    await knex.schema.dropTable(table);
  }
}
