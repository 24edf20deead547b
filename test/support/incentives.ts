// Incentive set-up for tests (issue 17) before the policy and fund routes exist on every branch: an
// incentive rate inserted as the county would keep it, and the county's incentive fund funded by an
// `incentive_allocated` transfer (debit incentive_funding, credit incentive_fund) through postTransfers,
// as the allocation route posts it.
import type { Knex } from 'knex';
import { newClientId } from '../../src/shared/client-id.js';
import { countyAccount } from '../../src/features/ledger/accounts.js';
import { postTransfers } from '../../src/features/ledger/ledger-store.js';

export interface RateSpec {
  containerTypeId?: string | null;
  containerKind?: 'bottle' | 'bag' | 'any';
  minVolumeMl?: number | null;
  maxVolumeMl?: number | null;
  buybackFen?: number;
  pointsMilli?: number;
  effectiveFrom?: string;
  effectiveTo?: string | null;
}

export async function insertIncentiveRate(knex: Knex, countyId: string, spec: RateSpec): Promise<string> {
  const id = newClientId();
  await knex('incentive_rates').insert({
    county_id: countyId, id, container_type_id: spec.containerTypeId ?? null, container_kind: spec.containerKind ?? 'any',
    min_volume_ml: spec.minVolumeMl ?? null, max_volume_ml: spec.maxVolumeMl ?? null, buyback_fen: spec.buybackFen ?? 0,
    points_milli: spec.pointsMilli ?? 0, effective_from: spec.effectiveFrom ?? '2026-01-01', effective_to: spec.effectiveTo ?? null, note: 'test',
  });
  return id;
}

/** Ends every rate of the county (they are never deleted): later tests start without any. */
export async function retireIncentiveRates(knex: Knex, countyId: string): Promise<void> {
  await knex('incentive_rates').where({ county_id: countyId }).update({ active: false });
}

/**
 * Funds the county's incentive fund by amountFen (an official's allocation, as the ledger records it).
 * Tests that compare two databases' ledgers give both the same id.
 */
export async function fundIncentives(knex: Knex, countyId: string, amountFen: number, at = new Date('2026-01-05T02:00:00.000Z'), id = newClientId()): Promise<void> {
  await knex.transaction(async (trx) => {
    await postTransfers(trx, countyId, [{
      code: 'incentive_allocated', debit: countyAccount(countyId, 'incentive_funding'), credit: countyAccount(countyId, 'incentive_fund'),
      amountFen, clientId: id, refType: 'incentive_allocation', refId: id, shopId: null, eventTime: at, actor: 'test',
    }], at);
  });
}

/** What is left in the county's incentive fund, in fen. */
export async function fundLeft(knex: Knex, countyId: string): Promise<number> {
  const row = await knex('ledger_accounts').where({ county_id: countyId, id: countyAccount(countyId, 'incentive_fund').id }).first('balance_fen');
  return row ? -Number(row.balance_fen) : 0;
}

/** Sets county columns (incentive caps and settings) directly, before the county PATCH knows them. */
export async function setCounty(knex: Knex, countyId: string, values: Record<string, unknown>): Promise<void> {
  await knex('counties').where({ id: countyId }).update(values);
}
