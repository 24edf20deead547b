// Ledger follow-ups (issue 3):
// - offline refunds: a return synced from a terminal states what the clerk actually paid per item;
//   the ledger records what was paid, and a difference from what the server computes is kept on the
//   item and the return and posted against the county's `refund_differences` account;
// - the fraud flag "returns of one phone in a day" reads its threshold from the county's policy.
// Existing rows are not touched: the new columns default to "paid what was computed".
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('counties', (t) => {
    t.integer('fraud_daily_returns_threshold').notNullable().defaultTo(50);
  });
  await knex.raw(`ALTER TABLE counties ADD CONSTRAINT counties_fraud_threshold CHECK (fraud_daily_returns_threshold >= 1)`);

  await knex.raw(`ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind`);
  await knex.raw(`ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind CHECK (kind IN ('shop_position', 'deposits_outstanding', 'unredeemed', 'policy_refunds', 'settlements', 'refund_differences'))`);
  await knex.raw(`ALTER TABLE ledger_transfers DROP CONSTRAINT ledger_transfers_code`);
  await knex.raw(`ALTER TABLE ledger_transfers ADD CONSTRAINT ledger_transfers_code CHECK (code IN ('deposit_collected', 'refund_paid', 'late_refund', 'policy_refund', 'refund_overpaid', 'refund_underpaid', 'deposit_expired', 'settlement_from_shop', 'settlement_to_shop', 'reversal'))`);

  // What the clerk stated as paid (null: not stated, paid what was computed) and paid − computed.
  await knex.schema.alterTable('return_items', (t) => {
    t.bigInteger('refund_paid_fen').nullable();
    t.bigInteger('refund_difference_fen').notNullable().defaultTo(0);
  });
  await knex.raw(`ALTER TABLE return_items ADD CONSTRAINT return_items_paid CHECK (refund_paid_fen IS NULL OR (refund_paid_fen >= 0 AND refund_difference_fen = refund_paid_fen - refund_fen))`);
  await knex.schema.alterTable('returns', (t) => {
    t.bigInteger('refund_difference_fen').notNullable().defaultTo(0); // total paid = total_refund_fen + this
  });
  await knex.raw(`CREATE INDEX return_items_refund_mismatch ON return_items (county_id, return_id) WHERE refund_difference_fen <> 0`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP INDEX IF EXISTS return_items_refund_mismatch`);
  await knex.schema.alterTable('returns', (t) => t.dropColumn('refund_difference_fen'));
  await knex.raw(`ALTER TABLE return_items DROP CONSTRAINT return_items_paid`);
  await knex.schema.alterTable('return_items', (t) => {
    t.dropColumn('refund_paid_fen');
    t.dropColumn('refund_difference_fen');
  });
  await knex.raw(`ALTER TABLE ledger_transfers DROP CONSTRAINT ledger_transfers_code`);
  await knex.raw(`ALTER TABLE ledger_transfers ADD CONSTRAINT ledger_transfers_code CHECK (code IN ('deposit_collected', 'refund_paid', 'late_refund', 'policy_refund', 'deposit_expired', 'settlement_from_shop', 'settlement_to_shop', 'reversal'))`);
  await knex.raw(`ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind`);
  await knex.raw(`ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind CHECK (kind IN ('shop_position', 'deposits_outstanding', 'unredeemed', 'policy_refunds', 'settlements'))`);
  await knex.raw(`ALTER TABLE counties DROP CONSTRAINT counties_fraud_threshold`);
  await knex.schema.alterTable('counties', (t) => t.dropColumn('fraud_daily_returns_threshold'));
}
