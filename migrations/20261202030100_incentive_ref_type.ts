// The incentive fund's allocations are ledger transfers of ref type `incentive_allocation` (20
// characters), longer than ledger_transfers.ref_type allowed (16): the column grows to 32.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE ledger_transfers ALTER COLUMN ref_type TYPE varchar(32)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE ledger_transfers ALTER COLUMN ref_type TYPE varchar(16)');
}
