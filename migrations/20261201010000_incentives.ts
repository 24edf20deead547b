// Incentives beyond the deposit (issue 17): paid buy-back (有偿制) and points (积分制), per county
// policy, on the same ledger as the deposit (docs/incentives.md).
//
// - incentive_rates: the county's versioned rates (reference life cycle, like deposit_schedules): for
//   a container type, or a kind of container (bottle | bag | any) within a volume band, a buy-back
//   price in fen and/or points per container (in milli-points: 5 containers = 1 point is 200), with
//   effective dates (effective_to exclusive, NULL open-ended).
// - counties: yearly caps per household (farmer) for buy-back and points, per shop for buy-back,
//   what an empty fund leaves (nothing | points_only), and how long points live.
// - the ledger: the county's incentive fund (`incentive_fund`, a credit balance: what is left to pay,
//   never below zero: bound non_positive) and where its money came from (`incentive_funding`);
//   transfer codes `incentive_allocated` (funding → fund, an official records the budget) and
//   `buyback_paid` (fund → the shop that paid the cash); return allocations of source `buyback`.
// - return_items: the points an item earned (milli-points) and which incentive applied and why.
// - the points ledger, double entry like money but in milli-points and apart from fen:
//   points_accounts (a farmer's balance: what the scheme owes them, credit, never positive; the
//   county's `issued`, `redeemed`, `expired`), points_transfers (earned | redeemed | expired |
//   reversal; a unit code earns once, ever), points_redemptions (goods a shop gave for points).
// Existing rows are not touched.
import type { Knex } from 'knex';

async function extendInCheck(knex: Knex, table: string, constraint: string, column: string, add: string[]): Promise<void> {
  const row = (await knex.raw(`SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c WHERE c.conname = ? AND c.conrelid = ?::regclass`, [constraint, table])).rows[0] as { def: string } | undefined;
  if (!row) throw new Error(`constraint ${constraint} on ${table} not found`);
  const have = [...row.def.matchAll(/'([a-z_]+)'::/g)].map((m) => m[1]!);
  const values = [...new Set([...have, ...add])];
  await knex.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${constraint}`);
  await knex.raw(`ALTER TABLE ${table} ADD CONSTRAINT ${constraint} CHECK (${column} IN (${values.map((v) => `'${v}'`).join(', ')}))`);
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('incentive_rates', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    // NULL: any container type of the kind and band below.
    t.uuid('container_type_id').nullable();
    t.string('container_kind', 8).notNullable().defaultTo('any'); // bottle | bag | any (bags: *_bag materials)
    t.integer('min_volume_ml').nullable(); // inclusive
    t.integer('max_volume_ml').nullable(); // inclusive
    t.integer('buyback_fen').notNullable().defaultTo(0);
    t.integer('points_milli').notNullable().defaultTo(0); // per container; 1000 = 1 point
    t.date('effective_from').notNullable();
    t.date('effective_to').nullable(); // exclusive; NULL = open-ended
    t.string('note', 300).notNullable().defaultTo('');
    t.boolean('active').notNullable().defaultTo(true);
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['county_id', 'id']);
    t.foreign(['county_id', 'container_type_id']).references(['county_id', 'id']).inTable('container_types');
  });
  await knex.raw(`ALTER TABLE incentive_rates ADD CONSTRAINT incentive_rates_values CHECK (
    container_kind IN ('bottle', 'bag', 'any') AND buyback_fen >= 0 AND buyback_fen <= 100000 AND points_milli >= 0 AND points_milli <= 1000000
    AND (buyback_fen > 0 OR points_milli > 0)
    AND (min_volume_ml IS NULL OR min_volume_ml > 0) AND (max_volume_ml IS NULL OR max_volume_ml >= coalesce(min_volume_ml, 1))
    AND (effective_to IS NULL OR effective_to > effective_from))`);
  await knex.raw(`CREATE INDEX incentive_rates_lookup ON incentive_rates (county_id, effective_from) WHERE active`);

  await knex.schema.alterTable('counties', (t) => {
    t.bigInteger('incentive_household_buyback_cap_fen').nullable(); // per farmer per calendar year; NULL: no cap
    t.bigInteger('incentive_household_points_cap_milli').nullable(); // per farmer per calendar year
    t.bigInteger('incentive_shop_buyback_cap_fen').nullable(); // per shop per calendar year
    t.string('incentive_when_fund_empty', 16).notNullable().defaultTo('nothing'); // nothing | points_only
    t.integer('points_expire_after_years').nullable(); // points earned in year Y expire at the end of Y + N; NULL: never
  });
  await knex.raw(`ALTER TABLE counties ADD CONSTRAINT counties_incentive_values CHECK (
    incentive_when_fund_empty IN ('nothing', 'points_only')
    AND (incentive_household_buyback_cap_fen IS NULL OR incentive_household_buyback_cap_fen >= 0)
    AND (incentive_household_points_cap_milli IS NULL OR incentive_household_points_cap_milli >= 0)
    AND (incentive_shop_buyback_cap_fen IS NULL OR incentive_shop_buyback_cap_fen >= 0)
    AND (points_expire_after_years IS NULL OR points_expire_after_years BETWEEN 1 AND 10))`);

  await extendInCheck(knex, 'ledger_accounts', 'ledger_accounts_kind', 'kind', ['incentive_fund', 'incentive_funding']);
  await extendInCheck(knex, 'ledger_transfers', 'ledger_transfers_code', 'code', ['incentive_allocated', 'buyback_paid']);
  await extendInCheck(knex, 'return_allocations', 'return_allocations_source', 'source', ['buyback']);

  await knex.schema.alterTable('return_items', (t) => {
    t.bigInteger('points_milli').notNullable().defaultTo(0);
    // Which incentive applied to an accepted item, and why (docs/incentives.md): deposit | buyback |
    // points | buyback_points | none; the reason when an item got less than the policy offers.
    t.string('incentive', 16).nullable();
    t.string('incentive_reason', 32).nullable();
  });
  await knex.raw(`ALTER TABLE return_items ADD CONSTRAINT return_items_incentive CHECK (points_milli >= 0
    AND (incentive IS NULL OR incentive IN ('deposit', 'buyback', 'points', 'buyback_points', 'none')))`);

  await knex.schema.createTable('incentive_allocations', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable(); // client id
    t.integer('budget_year').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.string('note', 300).notNullable().defaultTo('');
    t.string('actor', 100).notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'id']);
  });
  await knex.raw(`ALTER TABLE incentive_allocations ADD CONSTRAINT incentive_allocations_values CHECK (amount_fen > 0 AND budget_year BETWEEN 2000 AND 2200)`);

  await knex.schema.createTable('points_accounts', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.string('code', 64).notNullable(); // issued | redeemed | expired | farmer:<uuid>
    t.string('kind', 16).notNullable(); // farmer | issued | redeemed | expired
    t.uuid('farmer_id').nullable();
    t.string('bound', 16).notNullable(); // none | non_negative | non_positive
    t.bigInteger('balance_milli').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['county_id', 'id']);
    t.unique(['county_id', 'code']);
    t.foreign(['county_id', 'farmer_id']).references(['county_id', 'id']).inTable('farmers');
  });
  await knex.raw(`ALTER TABLE points_accounts ADD CONSTRAINT points_accounts_values CHECK (kind IN ('farmer', 'issued', 'redeemed', 'expired')
    AND (kind = 'farmer') = (farmer_id IS NOT NULL) AND bound IN ('none', 'non_negative', 'non_positive')
    AND (bound <> 'non_negative' OR balance_milli >= 0) AND (bound <> 'non_positive' OR balance_milli <= 0))`);

  await knex.schema.createTable('points_redemptions', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable(); // client id
    t.uuid('shop_id').notNullable();
    t.uuid('farmer_id').notNullable();
    t.bigInteger('points_milli').notNullable();
    t.string('goods', 200).notNullable(); // what the shop gave, as the clerk wrote it
    t.bigInteger('goods_value_fen').notNullable();
    t.timestamp('event_time', { useTz: true }).notNullable();
    t.date('business_day').notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.string('actor', 100).notNullable();
    t.primary(['county_id', 'id']);
    t.foreign(['county_id', 'shop_id']).references(['county_id', 'id']).inTable('shops');
    t.foreign(['county_id', 'farmer_id']).references(['county_id', 'id']).inTable('farmers');
  });
  await knex.raw(`ALTER TABLE points_redemptions ADD COLUMN redemption_no bigserial NOT NULL`);
  await knex.raw(`ALTER TABLE points_redemptions ADD CONSTRAINT points_redemptions_values CHECK (points_milli > 0 AND goods_value_fen >= 0)`);

  await knex.schema.createTable('points_transfers', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.string('code', 16).notNullable(); // earned | redeemed | expired | reversal
    t.uuid('client_id').notNullable(); // the request that caused it
    t.string('ref_type', 16).notNullable(); // return | redemption | expiry | reversal
    t.uuid('ref_id').notNullable();
    t.integer('item_no').nullable(); // the return item that earned it
    t.string('unit_code', 32).nullable(); // the container that earned it (a unit code earns once, ever)
    t.uuid('farmer_id').notNullable();
    t.uuid('shop_id').nullable();
    t.uuid('debit_account_id').notNullable();
    t.uuid('credit_account_id').notNullable();
    t.bigInteger('amount_milli').notNullable();
    t.timestamp('event_time', { useTz: true }).notNullable();
    t.date('business_day').notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.uuid('reverses_transfer_id').nullable();
    t.string('actor', 100).notNullable();
    t.primary(['county_id', 'id']);
    t.foreign(['county_id', 'debit_account_id']).references(['county_id', 'id']).inTable('points_accounts');
    t.foreign(['county_id', 'credit_account_id']).references(['county_id', 'id']).inTable('points_accounts');
    t.foreign(['county_id', 'farmer_id']).references(['county_id', 'id']).inTable('farmers');
    t.foreign(['county_id', 'reverses_transfer_id']).references(['county_id', 'id']).inTable('points_transfers');
  });
  await knex.raw(`ALTER TABLE points_transfers ADD COLUMN seq bigserial NOT NULL`);
  await knex.raw(`ALTER TABLE points_transfers ADD CONSTRAINT points_transfers_values CHECK (amount_milli > 0 AND debit_account_id <> credit_account_id
    AND code IN ('earned', 'redeemed', 'expired', 'reversal') AND ref_type IN ('return', 'redemption', 'expiry', 'reversal'))`);
  await knex.raw(`CREATE UNIQUE INDEX points_transfers_code_once ON points_transfers (county_id, unit_code) WHERE code = 'earned' AND unit_code IS NOT NULL`);
  await knex.raw(`CREATE UNIQUE INDEX points_transfers_item_once ON points_transfers (county_id, ref_id, item_no) WHERE code = 'earned'`);
  await knex.raw(`CREATE UNIQUE INDEX points_transfers_reversed_once ON points_transfers (county_id, reverses_transfer_id) WHERE reverses_transfer_id IS NOT NULL`);
  await knex.raw(`CREATE INDEX points_transfers_farmer ON points_transfers (county_id, farmer_id, business_day)`);
  await knex.raw(`CREATE INDEX points_transfers_ref ON points_transfers (county_id, ref_type, ref_id)`);

  for (const table of ['incentive_allocations', 'points_transfers', 'points_redemptions']) {
    await knex.raw(`CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()`);
    await knex.raw(`CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_update()`);
  }
  for (const table of ['incentive_rates', 'points_accounts']) {
    await knex.raw(`CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()`);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('points_transfers');
  await knex.schema.dropTable('points_redemptions');
  await knex.schema.dropTable('points_accounts');
  await knex.schema.dropTable('incentive_allocations');
  await knex.raw('ALTER TABLE return_items DROP CONSTRAINT return_items_incentive');
  await knex.schema.alterTable('return_items', (t) => { t.dropColumn('points_milli'); t.dropColumn('incentive'); t.dropColumn('incentive_reason'); });
  await knex.raw('ALTER TABLE counties DROP CONSTRAINT counties_incentive_values');
  await knex.schema.alterTable('counties', (t) => {
    t.dropColumn('incentive_household_buyback_cap_fen'); t.dropColumn('incentive_household_points_cap_milli');
    t.dropColumn('incentive_shop_buyback_cap_fen'); t.dropColumn('incentive_when_fund_empty'); t.dropColumn('points_expire_after_years');
  });
  await knex.schema.dropTable('incentive_rates');
}
