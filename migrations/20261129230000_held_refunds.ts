// Codes nobody sold are not money (issue 11, part 3; DESIGN rule 13):
// - counties.unsold_code_policy: what an accepted return of a well-formed unit code that was never
//   sold in the county does to the refund — `hold_for_review` (default: no cash at the counter, a
//   held refund for the county official) or `pay_at_once` (the old behaviour, county policy fund);
// - return items may end `refund_held` (accepted into custody, refund 0 at the counter), with a
//   `held` allocation of 0 fen; `likely_counterfeit` marks codes absent from an imported registry;
// - held_refunds (the review queue; its `state` moves under a row lock, never deleted),
//   held_refund_decisions (one approval or decline each, immutable) and held_refund_payouts (one
//   payout each, ever: at a shop, by mobile payment, or settling cash an offline till already paid);
// - the transfer code `held_refund_paid` (policy_refunds → shop, settlements or refund_differences).
// Existing rows are not touched.
import type { Knex } from 'knex';

/** Adds values to a `col IN (...)` CHECK constraint, keeping whatever values other migrations added. */
async function extendInCheck(knex: Knex, table: string, constraint: string, column: string, add: string[]): Promise<void> {
  const row = (await knex.raw(`SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c WHERE c.conname = ? AND c.conrelid = ?::regclass`, [constraint, table])).rows[0] as { def: string } | undefined;
  if (!row) throw new Error(`constraint ${constraint} on ${table} not found`);
  const have = [...row.def.matchAll(/'([a-z_]+)'::/g)].map((m) => m[1]!);
  const values = [...new Set([...have, ...add])];
  await knex.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${constraint}`);
  await knex.raw(`ALTER TABLE ${table} ADD CONSTRAINT ${constraint} CHECK (${column} IN (${values.map((v) => `'${v}'`).join(', ')}))`);
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('counties', (t) => {
    t.string('unsold_code_policy', 24).notNullable().defaultTo('hold_for_review');
  });
  await knex.raw(`ALTER TABLE counties ADD CONSTRAINT counties_unsold_code_policy CHECK (unsold_code_policy IN ('hold_for_review', 'pay_at_once'))`);

  await extendInCheck(knex, 'ledger_transfers', 'ledger_transfers_code', 'code', ['held_refund_paid']);
  await extendInCheck(knex, 'return_allocations', 'return_allocations_source', 'source', ['held']);
  await knex.raw(`ALTER TABLE return_items DROP CONSTRAINT return_items_outcome`);
  await knex.raw(`ALTER TABLE return_items ADD CONSTRAINT return_items_outcome CHECK (outcome IN ('refunded', 'accepted_no_refund', 'refund_held', 'rejected') AND inspection IN ('accepted', 'rejected') AND quantity > 0 AND refund_fen >= 0)`);
  await knex.schema.alterTable('return_items', (t) => {
    t.boolean('likely_counterfeit').notNullable().defaultTo(false);
  });
  await knex.raw(`CREATE INDEX return_items_counterfeit ON return_items (county_id, return_id) WHERE likely_counterfeit`);

  await knex.schema.createTable('held_refunds', (t) => {
    t.string('county_id', 6).notNullable().references('id').inTable('counties');
    t.uuid('id').notNullable();
    t.uuid('return_id').notNullable();
    t.integer('item_no').notNullable();
    t.string('unit_code', 32).notNullable();
    t.uuid('product_id').notNullable();
    t.uuid('farmer_id').notNullable(); // owed to this phone
    t.uuid('shop_id').notNullable(); // where the container was handed in
    t.bigInteger('amount_fen').notNullable(); // the schedule rate on the return's business day
    t.bigInteger('prepaid_fen').notNullable().defaultTo(0); // cash an offline till already paid for it
    t.string('reason', 24).notNullable(); // unsold_code | likely_counterfeit
    t.string('state', 16).notNullable().defaultTo('held'); // held | approved | declined | paid | voided
    t.timestamp('event_time', { useTz: true }).notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'id']);
    t.unique(['county_id', 'return_id', 'item_no']);
    t.foreign(['county_id', 'return_id', 'item_no']).references(['county_id', 'return_id', 'item_no']).inTable('return_items');
    t.foreign(['county_id', 'farmer_id']).references(['county_id', 'id']).inTable('farmers');
    t.foreign(['county_id', 'shop_id']).references(['county_id', 'id']).inTable('shops');
  });
  await knex.raw(`ALTER TABLE held_refunds ADD CONSTRAINT held_refunds_values CHECK (amount_fen > 0 AND prepaid_fen >= 0 AND reason IN ('unsold_code', 'likely_counterfeit') AND state IN ('held', 'approved', 'declined', 'paid', 'voided'))`);
  await knex.raw(`CREATE INDEX held_refunds_state ON held_refunds (county_id, state, recorded_at)`);
  await knex.raw(`CREATE INDEX held_refunds_farmer ON held_refunds (county_id, farmer_id, state)`);

  await knex.schema.createTable('held_refund_decisions', (t) => {
    t.string('county_id', 6).notNullable();
    t.uuid('held_refund_id').notNullable();
    t.uuid('client_id').notNullable();
    t.string('decision', 16).notNullable(); // approve | decline
    t.string('reason', 300).nullable();
    t.string('actor', 100).notNullable();
    t.timestamp('decided_at', { useTz: true }).notNullable();
    t.primary(['county_id', 'held_refund_id']); // one decision, ever
    t.foreign(['county_id', 'held_refund_id']).references(['county_id', 'id']).inTable('held_refunds');
  });
  await knex.raw(`ALTER TABLE held_refund_decisions ADD CONSTRAINT held_refund_decisions_values CHECK (decision IN ('approve', 'decline') AND (decision = 'approve' OR reason IS NOT NULL))`);

  await knex.schema.createTable('held_refund_payouts', (t) => {
    t.string('county_id', 6).notNullable();
    t.uuid('id').notNullable(); // client id
    t.uuid('held_refund_id').notNullable();
    t.string('method', 16).notNullable(); // cash (at a shop) | mobile (by the county) | prepaid (an offline till paid it)
    t.string('reference', 100).nullable();
    t.uuid('shop_id').nullable(); // the paying shop (cash, prepaid)
    t.bigInteger('amount_fen').notNullable();
    t.timestamp('event_time', { useTz: true }).notNullable();
    t.timestamp('recorded_at', { useTz: true }).notNullable();
    t.string('actor', 100).notNullable();
    t.primary(['county_id', 'id']);
    t.unique(['county_id', 'held_refund_id']); // paid once, ever
    t.foreign(['county_id', 'held_refund_id']).references(['county_id', 'id']).inTable('held_refunds');
    t.foreign(['county_id', 'shop_id']).references(['county_id', 'id']).inTable('shops');
  });
  await knex.raw(`ALTER TABLE held_refund_payouts ADD CONSTRAINT held_refund_payouts_values CHECK (amount_fen > 0 AND (
    (method = 'cash' AND shop_id IS NOT NULL AND reference IS NULL) OR (method = 'mobile' AND reference IS NOT NULL) OR (method = 'prepaid' AND shop_id IS NOT NULL)))`);

  await knex.raw(`CREATE TRIGGER held_refunds_no_delete BEFORE DELETE ON held_refunds FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()`);
  for (const table of ['held_refund_decisions', 'held_refund_payouts']) {
    await knex.raw(`CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()`);
    await knex.raw(`CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_update()`);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('held_refund_payouts');
  await knex.schema.dropTable('held_refund_decisions');
  await knex.schema.dropTable('held_refunds');
  await knex.raw(`DROP INDEX IF EXISTS return_items_counterfeit`);
  await knex.schema.alterTable('return_items', (t) => t.dropColumn('likely_counterfeit'));
  await knex.raw(`ALTER TABLE counties DROP CONSTRAINT counties_unsold_code_policy`);
  await knex.schema.alterTable('counties', (t) => t.dropColumn('unsold_code_policy'));
}
