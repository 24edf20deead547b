// Registry of issued unit codes (issue 11, part 3): a manufacturer's or the national traceability
// platform's list of the codes it issued for a product, imported in batches. Digits 12–32 of a unit
// code are random, so there are no ranges to store: one row per code, keyed (county, code).
// A product "has a registry" once an import of it completed; a code of such a product that is absent
// is a likely counterfeit. An import that failed half-way keeps the codes it stored (each is a real
// issued code) but does not switch the check on.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('code_registry_imports', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.uuid('product_id').notNullable();
    t.string('source', 24).notNullable(); // manufacturer | national_platform
    t.string('format', 8).notNullable(); // csv | json
    t.string('state', 16).notNullable(); // importing | complete | failed
    t.bigInteger('codes_read').notNullable().defaultTo(0);
    t.bigInteger('codes_added').notNullable().defaultTo(0);
    t.bigInteger('duplicates').notNullable().defaultTo(0);
    t.bigInteger('invalid').notNullable().defaultTo(0);
    t.string('actor', 100).notNullable();
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('finished_at', { useTz: true }).nullable();
    t.primary(['county_id', 'id']);
    t.foreign(['county_id', 'product_id']).references(['county_id', 'id']).inTable('products');
  });
  await knex.raw(`ALTER TABLE code_registry_imports ADD CONSTRAINT code_registry_imports_values CHECK (source IN ('manufacturer', 'national_platform') AND format IN ('csv', 'json') AND state IN ('importing', 'complete', 'failed'))`);
  await knex.raw(`CREATE INDEX code_registry_imports_product ON code_registry_imports (county_id, product_id) WHERE state = 'complete'`);

  await knex.schema.createTable('issued_unit_codes', (t) => {
    t.string('county_id', 6).notNullable();
    t.string('unit_code', 32).notNullable();
    t.uuid('product_id').notNullable();
    t.uuid('import_id').notNullable();
    t.primary(['county_id', 'unit_code']);
    t.foreign(['county_id', 'import_id']).references(['county_id', 'id']).inTable('code_registry_imports');
  });
  await knex.raw(`ALTER TABLE issued_unit_codes ADD CONSTRAINT issued_unit_codes_code CHECK (unit_code ~ '^[0-9]{32}$')`);

  for (const table of ['code_registry_imports', 'issued_unit_codes']) {
    await knex.raw(`CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()`);
  }
  await knex.raw(`CREATE TRIGGER issued_unit_codes_no_update BEFORE UPDATE ON issued_unit_codes FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_update()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('issued_unit_codes');
  await knex.schema.dropTable('code_registry_imports');
}
