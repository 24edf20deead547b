// The money core (issue 3): a double-entry ledger per county, and the sales, returns, refunds,
// reversals, settlements and expiry runs that post to it. Ledger rows (transfers, entries) are
// never updated or deleted; corrections are new transfers. Every table carries county_id and every
// key includes it (shard key, DESIGN "Scale").
import type { Knex } from 'knex';

// Append-only: neither UPDATE nor DELETE.
const IMMUTABLE_TABLES = ['ledger_transfers', 'ledger_entries', 'sales', 'sale_lines', 'returns', 'return_items', 'return_allocations', 'refunds', 'reversals', 'settlements', 'expiry_runs'];
// Positions that move under row locks (balances, what is still outstanding): updated, never deleted.
const STATE_TABLES = ['ledger_accounts', 'sold_units', 'deposit_lots', 'idempotency_keys'];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION agrireturn_forbid_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'ledger records are never changed (table %): post a correcting transfer instead', TG_TABLE_NAME
        USING ERRCODE = 'P0001', HINT = 'agrireturn:no_update';
    END;
    $$;
  `);

  await knex.schema.createTable('ledger_accounts', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.string('code', 64).notNullable(); // deposits_outstanding | unredeemed | policy_refunds | settlements | shop:<uuid>
    t.string('kind', 32).notNullable();
    t.uuid('shop_id').nullable();
    t.string('bound', 16).notNullable(); // none | non_negative | non_positive
    t.bigInteger('balance_fen').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['county_id', 'id']);
    t.unique(['county_id', 'code']);
    t.foreign(['county_id', 'shop_id']).references(['county_id', 'id']).inTable('shops');
  });
  await knex.raw(`ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind CHECK (kind IN ('shop_position', 'deposits_outstanding', 'unredeemed', 'policy_refunds', 'settlements'))`);
  await knex.raw(`ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_bound CHECK (bound IN ('none', 'non_negative', 'non_positive'))`);
  await knex.raw(`ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_bound_kept CHECK (
    (bound <> 'non_negative' OR balance_fen >= 0) AND (bound <> 'non_positive' OR balance_fen <= 0))`);

  await knex.schema.createTable('ledger_transfers', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.string('code', 32).notNullable();
    t.uuid('client_id').notNullable(); // the client id of the request that caused it
    t.string('ref_type', 16).notNullable(); // sale | return | reversal | settlement | expiry
    t.uuid('ref_id').notNullable();
    t.uuid('shop_id').nullable();
    t.uuid('debit_account_id').notNullable();
    t.uuid('credit_account_id').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.timestamp('event_time', { useTz: true }).notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.uuid('reverses_transfer_id').nullable();
    t.string('actor', 100).notNullable();
    t.primary(['county_id', 'id']);
    t.foreign(['county_id', 'debit_account_id']).references(['county_id', 'id']).inTable('ledger_accounts');
    t.foreign(['county_id', 'credit_account_id']).references(['county_id', 'id']).inTable('ledger_accounts');
    t.foreign(['county_id', 'reverses_transfer_id']).references(['county_id', 'id']).inTable('ledger_transfers');
  });
  await knex.raw(`ALTER TABLE ledger_transfers ADD CONSTRAINT ledger_transfers_amount CHECK (amount_fen > 0)`);
  await knex.raw(`ALTER TABLE ledger_transfers ADD CONSTRAINT ledger_transfers_two_sides CHECK (debit_account_id <> credit_account_id)`);
  await knex.raw(`ALTER TABLE ledger_transfers ADD CONSTRAINT ledger_transfers_code CHECK (code IN ('deposit_collected', 'refund_paid', 'late_refund', 'policy_refund', 'deposit_expired', 'settlement_from_shop', 'settlement_to_shop', 'reversal'))`);
  await knex.raw(`CREATE UNIQUE INDEX ledger_transfers_reversed_once ON ledger_transfers (county_id, reverses_transfer_id) WHERE reverses_transfer_id IS NOT NULL`);
  await knex.raw(`CREATE INDEX ledger_transfers_ref ON ledger_transfers (county_id, ref_type, ref_id)`);
  await knex.raw(`CREATE INDEX ledger_transfers_shop_time ON ledger_transfers (county_id, shop_id, event_time)`);

  await knex.schema.createTable('ledger_entries', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('transfer_id').notNullable();
    t.uuid('account_id').notNullable();
    t.bigInteger('amount_fen').notNullable(); // + debit, − credit
    t.bigInteger('balance_after_fen').notNullable();
    t.primary(['county_id', 'transfer_id', 'account_id']);
    t.foreign(['county_id', 'transfer_id']).references(['county_id', 'id']).inTable('ledger_transfers');
    t.foreign(['county_id', 'account_id']).references(['county_id', 'id']).inTable('ledger_accounts');
  });
  // Taken after the account's row lock, so per account it follows the order balances moved in.
  await knex.raw(`ALTER TABLE ledger_entries ADD COLUMN seq bigserial NOT NULL`);
  await knex.raw(`ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_nonzero CHECK (amount_fen <> 0)`);
  await knex.raw(`CREATE INDEX ledger_entries_account ON ledger_entries (county_id, account_id, seq)`);

  await knex.schema.createTable('sales', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable(); // client id
    t.uuid('shop_id').notNullable();
    t.uuid('farmer_id').notNullable();
    t.timestamp('event_time', { useTz: true }).notNullable();
    t.date('business_day').notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.string('actor', 100).notNullable();
    t.bigInteger('total_deposit_fen').notNullable();
    t.boolean('deposit_mismatch').notNullable().defaultTo(false);
    t.primary(['county_id', 'id']);
    t.foreign(['county_id', 'shop_id']).references(['county_id', 'id']).inTable('shops');
    t.foreign(['county_id', 'farmer_id']).references(['county_id', 'id']).inTable('farmers');
  });
  await knex.raw(`ALTER TABLE sales ADD COLUMN sale_no bigserial NOT NULL`);
  await knex.raw(`CREATE INDEX sales_shop_time ON sales (county_id, shop_id, event_time)`);
  await knex.raw(`CREATE INDEX sales_farmer ON sales (county_id, farmer_id)`);

  await knex.schema.createTable('sale_lines', (t) => {
    t.string('county_id', 6).notNullable();
    t.uuid('sale_id').notNullable();
    t.integer('line_no').notNullable();
    t.uuid('product_id').notNullable();
    t.integer('quantity').notNullable();
    t.integer('deposit_per_container_fen').notNullable(); // what the farmer actually paid
    t.integer('schedule_deposit_fen').nullable(); // the schedule in force at the event time
    t.uuid('schedule_id').nullable();
    t.bigInteger('deposit_fen').notNullable(); // line total
    t.boolean('deposit_mismatch').notNullable().defaultTo(false);
    t.primary(['county_id', 'sale_id', 'line_no']);
    t.foreign(['county_id', 'sale_id']).references(['county_id', 'id']).inTable('sales');
    t.foreign(['county_id', 'product_id']).references(['county_id', 'id']).inTable('products');
  });
  await knex.raw(`ALTER TABLE sale_lines ADD CONSTRAINT sale_lines_amounts CHECK (quantity > 0 AND deposit_per_container_fen >= 0 AND deposit_fen = quantity::bigint * deposit_per_container_fen)`);

  // One row per unit code sold with deposit. `state` is the unit's position; history is in the
  // returns, reversals and expiry runs that moved it.
  await knex.schema.createTable('sold_units', (t) => {
    t.string('county_id', 6).notNullable();
    t.uuid('sale_id').notNullable();
    t.string('unit_code', 32).notNullable();
    t.integer('line_no').notNullable();
    t.uuid('product_id').notNullable();
    t.uuid('shop_id').notNullable();
    t.uuid('farmer_id').notNullable();
    t.integer('deposit_fen').notNullable();
    t.timestamp('event_time', { useTz: true }).notNullable();
    t.string('state', 16).notNullable().defaultTo('outstanding');
    t.primary(['county_id', 'sale_id', 'unit_code']);
    t.foreign(['county_id', 'sale_id', 'line_no']).references(['county_id', 'sale_id', 'line_no']).inTable('sale_lines');
  });
  await knex.raw(`ALTER TABLE sold_units ADD CONSTRAINT sold_units_state CHECK (state IN ('outstanding', 'refunded', 'expired', 'late_refunded', 'late_returned', 'voided'))`);
  await knex.raw(`ALTER TABLE sold_units ADD CONSTRAINT sold_units_code CHECK (unit_code ~ '^[0-9]{32}$')`);
  // A unit code is sold once per county (a voided sale frees it to be sold again).
  await knex.raw(`CREATE UNIQUE INDEX sold_units_code_once ON sold_units (county_id, unit_code) WHERE state <> 'voided'`);
  await knex.raw(`CREATE INDEX sold_units_code ON sold_units (unit_code)`); // other-county lookups
  await knex.raw(`CREATE INDEX sold_units_expiry ON sold_units (county_id, event_time) WHERE state = 'outstanding'`);
  await knex.raw(`CREATE INDEX sold_units_farmer ON sold_units (county_id, farmer_id) WHERE state = 'outstanding'`);

  // Containers sold without a scanned unit code, per sale line: matched first-in-first-out.
  await knex.schema.createTable('deposit_lots', (t) => {
    t.string('county_id', 6).notNullable();
    t.uuid('sale_id').notNullable();
    t.integer('line_no').notNullable();
    t.uuid('product_id').notNullable();
    t.uuid('shop_id').notNullable();
    t.uuid('farmer_id').notNullable();
    t.integer('deposit_fen').notNullable(); // per container
    t.integer('quantity').notNullable();
    t.integer('outstanding').notNullable();
    t.integer('expired').notNullable().defaultTo(0); // expired and not (yet) returned late
    t.boolean('voided').notNullable().defaultTo(false);
    t.timestamp('event_time', { useTz: true }).notNullable();
    t.primary(['county_id', 'sale_id', 'line_no']);
    t.foreign(['county_id', 'sale_id', 'line_no']).references(['county_id', 'sale_id', 'line_no']).inTable('sale_lines');
  });
  await knex.raw(`ALTER TABLE deposit_lots ADD CONSTRAINT deposit_lots_counts CHECK (outstanding >= 0 AND expired >= 0 AND outstanding + expired <= quantity)`);
  await knex.raw(`CREATE INDEX deposit_lots_fifo ON deposit_lots (county_id, farmer_id, product_id, event_time) WHERE outstanding > 0 OR expired > 0`);
  await knex.raw(`CREATE INDEX deposit_lots_expiry ON deposit_lots (county_id, event_time) WHERE outstanding > 0`);

  await knex.schema.createTable('returns', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.uuid('shop_id').notNullable();
    t.uuid('farmer_id').nullable();
    t.timestamp('event_time', { useTz: true }).notNullable();
    t.date('business_day').notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.string('actor', 100).notNullable();
    t.bigInteger('total_refund_fen').notNullable();
    t.primary(['county_id', 'id']);
    t.foreign(['county_id', 'shop_id']).references(['county_id', 'id']).inTable('shops');
    t.foreign(['county_id', 'farmer_id']).references(['county_id', 'id']).inTable('farmers');
  });
  await knex.raw(`ALTER TABLE returns ADD COLUMN return_no bigserial NOT NULL`);
  await knex.raw(`CREATE INDEX returns_shop_time ON returns (county_id, shop_id, event_time)`);
  await knex.raw(`CREATE INDEX returns_farmer_day ON returns (county_id, farmer_id, business_day)`);

  await knex.schema.createTable('return_items', (t) => {
    t.string('county_id', 6).notNullable();
    t.uuid('return_id').notNullable();
    t.integer('item_no').notNullable();
    t.string('unit_code', 32).nullable();
    t.string('scanned', 300).nullable();
    t.uuid('product_id').nullable();
    t.integer('quantity').notNullable();
    t.string('inspection', 16).notNullable(); // what the clerk saw
    t.string('outcome', 24).notNullable(); // refunded | accepted_no_refund | rejected
    t.string('reason_code', 32).nullable();
    t.bigInteger('refund_fen').notNullable();
    t.primary(['county_id', 'return_id', 'item_no']);
    t.foreign(['county_id', 'return_id']).references(['county_id', 'id']).inTable('returns');
  });
  await knex.raw(`ALTER TABLE return_items ADD CONSTRAINT return_items_outcome CHECK (outcome IN ('refunded', 'accepted_no_refund', 'rejected') AND inspection IN ('accepted', 'rejected') AND quantity > 0 AND refund_fen >= 0)`);
  await knex.raw(`CREATE INDEX return_items_code ON return_items (county_id, unit_code) WHERE unit_code IS NOT NULL`);

  // Where each accepted item's refund came from: a unit's deposit, a lot, the unredeemed fund, policy.
  await knex.schema.createTable('return_allocations', (t) => {
    t.string('county_id', 6).notNullable();
    t.uuid('return_id').notNullable();
    t.integer('item_no').notNullable();
    t.integer('alloc_no').notNullable();
    t.string('source', 16).notNullable(); // unit | lot | unit_expired | lot_expired | policy | none
    t.uuid('sale_id').nullable();
    t.integer('line_no').nullable();
    t.string('unit_code', 32).nullable();
    t.uuid('deposit_shop_id').nullable(); // the shop that collected the deposit
    t.uuid('product_id').nullable();
    t.integer('quantity').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.primary(['county_id', 'return_id', 'item_no', 'alloc_no']);
    t.foreign(['county_id', 'return_id', 'item_no']).references(['county_id', 'return_id', 'item_no']).inTable('return_items');
  });
  await knex.raw(`ALTER TABLE return_allocations ADD CONSTRAINT return_allocations_source CHECK (source IN ('unit', 'lot', 'unit_expired', 'lot_expired', 'policy', 'none'))`);
  await knex.raw(`CREATE INDEX return_allocations_unit ON return_allocations (county_id, unit_code) WHERE unit_code IS NOT NULL`);

  await knex.schema.createTable('refunds', (t) => {
    t.string('county_id', 6).notNullable();
    t.uuid('return_id').notNullable();
    t.string('method', 16).notNullable();
    t.string('reference', 100).nullable();
    t.bigInteger('amount_fen').notNullable();
    t.timestamp('paid_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'return_id']);
    t.foreign(['county_id', 'return_id']).references(['county_id', 'id']).inTable('returns');
  });
  await knex.raw(`ALTER TABLE refunds ADD CONSTRAINT refunds_method CHECK ((method = 'cash' AND reference IS NULL) OR (method = 'mobile' AND reference IS NOT NULL))`);

  await knex.schema.createTable('reversals', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.string('target_type', 16).notNullable();
    t.uuid('target_id').notNullable();
    t.uuid('shop_id').notNullable();
    t.string('reason', 300).notNullable();
    t.string('actor', 100).notNullable();
    t.string('actor_role', 32).notNullable();
    t.timestamp('event_time', { useTz: true }).notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'id']);
    t.unique(['county_id', 'target_type', 'target_id']);
  });
  await knex.raw(`ALTER TABLE reversals ADD CONSTRAINT reversals_target CHECK (target_type IN ('sale', 'return'))`);

  await knex.schema.createTable('settlements', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.uuid('shop_id').notNullable();
    t.string('period_key', 16).notNullable(); // 2026-03 | 2026-W11 | 2026-03-15
    t.timestamp('as_of', { useTz: true }).notNullable();
    t.string('direction', 16).notNullable(); // from_shop | to_shop
    t.bigInteger('amount_fen').notNullable();
    t.string('method', 16).notNullable();
    t.string('reference', 100).nullable();
    t.string('actor', 100).notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'id']);
    t.foreign(['county_id', 'shop_id']).references(['county_id', 'id']).inTable('shops');
  });
  await knex.raw(`ALTER TABLE settlements ADD CONSTRAINT settlements_amount CHECK (amount_fen > 0 AND direction IN ('from_shop', 'to_shop'))`);
  await knex.raw(`CREATE INDEX settlements_period ON settlements (county_id, shop_id, period_key)`);

  await knex.schema.createTable('expiry_runs', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.timestamp('run_at', { useTz: true }).notNullable();
    t.timestamp('cutoff', { useTz: true }).notNullable();
    t.integer('units_expired').notNullable();
    t.integer('lot_containers_expired').notNullable();
    t.bigInteger('amount_fen').notNullable();
    t.string('actor', 100).notNullable();
    t.primary(['county_id', 'id']);
  });

  await knex.schema.createTable('idempotency_keys', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('client_id').notNullable();
    t.string('operation', 32).notNullable();
    t.string('request_hash', 64).notNullable();
    t.integer('status_code').nullable();
    t.jsonb('response').nullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'client_id']);
  });

  for (const table of [...IMMUTABLE_TABLES, ...STATE_TABLES]) {
    await knex.raw(`CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()`);
  }
  for (const table of IMMUTABLE_TABLES) {
    await knex.raw(`CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_update()`);
  }
}
