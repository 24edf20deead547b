// Issue 17: the ledger's ref_type 'incentive_allocation' (an official funding the incentive fund) is
// 20 characters; ledger_transfers.ref_type was varchar(16). Widened to 32 (existing rows unchanged).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE ledger_transfers ALTER COLUMN ref_type TYPE varchar(32)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE ledger_transfers ALTER COLUMN ref_type TYPE varchar(16)');
}
