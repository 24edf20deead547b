// Reference data of a county: the places, organisations, products, container types, deposit schedules
// and farmers every business record points at. Every table but `counties` carries county_id and every
// key includes it, so the schema can later be distributed by county (Citus).
import type { Knex } from 'knex';

const BUSINESS_TABLES = [
  'townships', 'shops', 'facilities', 'haulers', 'container_types', 'products', 'deposit_schedules', 'farmers',
  'counties', 'entity_history',
];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('counties', (t) => {
    t.string('id', 6).primary(); // GB/T 2260 six-digit code
    t.string('name_zh', 100).notNullable();
    t.string('name_en', 100).notNullable();
    t.string('province_code', 6).notNullable();
    t.string('province_name_zh', 100).notNullable();
    t.string('prefecture_name_zh', 100).notNullable();
    t.string('timezone', 64).notNullable().defaultTo('Asia/Shanghai');
    t.integer('deposit_validity_days').notNullable().defaultTo(365);
    t.string('untracked_refund_policy', 32).notNullable().defaultTo('schedule_up_to_limit');
    t.integer('untracked_daily_limit').notNullable().defaultTo(20);
    t.string('late_return_policy', 32).notNullable().defaultTo('refund_from_unredeemed');
    t.string('settlement_period', 16).notNullable().defaultTo('monthly');
    t.integer('weight_tolerance_pct').notNullable().defaultTo(10);
    t.boolean('active').notNullable().defaultTo(true);
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE counties ADD CONSTRAINT counties_code_format CHECK (id ~ '^[1-8][0-9]{5}$')`);
  await knex.raw(`ALTER TABLE counties ADD CONSTRAINT counties_province_matches CHECK (substr(province_code, 1, 2) = substr(id, 1, 2))`);
  await knex.raw(`ALTER TABLE counties ADD CONSTRAINT counties_refund_policy CHECK (untracked_refund_policy IN ('schedule_up_to_limit', 'accept_without_refund'))`);
  await knex.raw(`ALTER TABLE counties ADD CONSTRAINT counties_late_policy CHECK (late_return_policy IN ('refund_from_unredeemed', 'accept_without_refund'))`);
  await knex.raw(`ALTER TABLE counties ADD CONSTRAINT counties_settlement_period CHECK (settlement_period IN ('daily', 'weekly', 'monthly'))`);

  const countyScoped = (name: string, build: (t: Knex.CreateTableBuilder) => void) =>
    knex.schema.createTable(name, (t) => {
      t.string('county_id', 6).notNullable().references('id').inTable('counties');
      t.uuid('id').notNullable();
      build(t);
      t.boolean('active').notNullable().defaultTo(true);
      t.integer('version').notNullable().defaultTo(1);
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.primary(['county_id', 'id']);
    });

  await countyScoped('townships', (t) => {
    t.string('code', 12).nullable(); // GB/T 2260 / statistical township code, where known
    t.string('name_zh', 100).notNullable();
    t.string('name_en', 100).notNullable();
    t.unique(['county_id', 'name_zh']);
  });

  await countyScoped('shops', (t) => {
    t.uuid('township_id').notNullable();
    t.string('name', 200).notNullable();
    t.string('licence_no', 64).notNullable(); // 农药经营许可证号
    t.string('address', 300).notNullable().defaultTo('');
    t.boolean('is_collection_point').notNullable().defaultTo(true);
    t.string('contact_phone', 20).nullable();
    t.unique(['county_id', 'licence_no']);
    t.foreign(['county_id', 'township_id']).references(['county_id', 'id']).inTable('townships');
  });

  await countyScoped('facilities', (t) => {
    t.string('name', 200).notNullable();
    t.string('kind', 32).notNullable();
    t.string('licence_no', 64).notNullable();
    t.string('address', 300).notNullable().defaultTo('');
    t.unique(['county_id', 'licence_no']);
  });
  await knex.raw(`ALTER TABLE facilities ADD CONSTRAINT facilities_kind CHECK (kind IN ('collection_centre', 'recycler', 'incinerator', 'landfill'))`);

  await countyScoped('haulers', (t) => {
    t.string('name', 200).notNullable();
    t.string('licence_no', 64).notNullable(); // 道路危险货物运输经营许可证
    t.string('contact_phone', 20).nullable();
    t.unique(['county_id', 'licence_no']);
  });

  await countyScoped('container_types', (t) => {
    t.string('code', 32).notNullable();
    t.string('name_zh', 100).notNullable();
    t.string('name_en', 100).notNullable();
    t.string('material', 32).notNullable();
    t.integer('volume_ml').notNullable();
    t.integer('tare_weight_g').notNullable();
    t.unique(['county_id', 'code']);
  });
  await knex.raw(`ALTER TABLE container_types ADD CONSTRAINT container_types_material CHECK (material IN ('HDPE', 'PET', 'COEX', 'PP', 'glass', 'aluminium', 'plastic_bag', 'paper_bag', 'composite_bag'))`);
  await knex.raw(`ALTER TABLE container_types ADD CONSTRAINT container_types_positive CHECK (volume_ml > 0 AND tare_weight_g > 0)`);

  await countyScoped('products', (t) => {
    t.string('registration_no', 16).notNullable(); // PD20120345
    t.string('name', 200).notNullable();
    t.string('manufacturer', 200).notNullable();
    t.string('gtin', 14).nullable();
    t.uuid('container_type_id').notNullable();
    t.string('pack_size_code', 3).nullable(); // digits 9–11 of the unit code, set by the company
    t.string('pack_size_label', 32).notNullable().defaultTo('');
    t.foreign(['county_id', 'container_type_id']).references(['county_id', 'id']).inTable('container_types');
  });
  await knex.raw(`CREATE UNIQUE INDEX products_county_gtin ON products (county_id, gtin) WHERE gtin IS NOT NULL AND active`);
  await knex.raw(`CREATE INDEX products_county_registration ON products (county_id, registration_no)`);
  await knex.raw(`ALTER TABLE products ADD CONSTRAINT products_registration_format CHECK (registration_no ~ '^(PD|WP|LS)[0-9]{8}$')`);
  await knex.raw(`ALTER TABLE products ADD CONSTRAINT products_gtin_format CHECK (gtin IS NULL OR gtin ~ '^[0-9]{8}$|^[0-9]{12,14}$')`);

  await countyScoped('deposit_schedules', (t) => {
    // NULL container type: the county's default for every container type without its own schedule.
    t.uuid('container_type_id').nullable();
    t.integer('deposit_fen').notNullable();
    t.date('effective_from').notNullable();
    t.date('effective_to').nullable(); // exclusive; NULL = open-ended
    t.string('note', 300).notNullable().defaultTo('');
    t.foreign(['county_id', 'container_type_id']).references(['county_id', 'id']).inTable('container_types');
  });
  await knex.raw(`ALTER TABLE deposit_schedules ADD CONSTRAINT deposit_schedules_amount CHECK (deposit_fen >= 0 AND deposit_fen <= 100000)`);
  await knex.raw(`ALTER TABLE deposit_schedules ADD CONSTRAINT deposit_schedules_range CHECK (effective_to IS NULL OR effective_to > effective_from)`);
  await knex.raw(`CREATE INDEX deposit_schedules_lookup ON deposit_schedules (county_id, container_type_id, effective_from)`);

  await countyScoped('farmers', (t) => {
    t.string('name', 100).notNullable();
    t.string('village', 100).notNullable().defaultTo('');
    t.uuid('township_id').nullable();
    t.string('phone_e164', 20).notNullable();
    t.string('language', 2).notNullable().defaultTo('zh');
    t.boolean('sms_opt_out').notNullable().defaultTo(false);
    t.unique(['county_id', 'phone_e164']);
    t.foreign(['county_id', 'township_id']).references(['county_id', 'id']).inTable('townships');
  });
  await knex.raw(`ALTER TABLE farmers ADD CONSTRAINT farmers_language CHECK (language IN ('zh', 'en'))`);
  await knex.raw(`ALTER TABLE farmers ADD CONSTRAINT farmers_phone_e164 CHECK (phone_e164 ~ '^\\+[1-9][0-9]{7,14}$')`);

  // Every change to reference data, as the full row after the change: "history kept" without
  // updating anything in place that an inspector might need later.
  await knex.schema.createTable('entity_history', (t) => {
    t.string('county_id', 6).notNullable();
    t.string('entity', 32).notNullable();
    t.string('entity_id', 64).notNullable();
    t.integer('version').notNullable();
    t.string('op', 16).notNullable(); // create | update | deactivate | reactivate | supersede
    t.jsonb('data').notNullable();
    t.string('actor', 100).notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['county_id', 'entity', 'entity_id', 'version']);
  });

  for (const table of BUSINESS_TABLES) {
    await knex.raw(`CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()`);
  }
}
