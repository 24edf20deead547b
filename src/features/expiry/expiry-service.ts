// Deposits not redeemed within the county's validity period move to the unredeemed fund by one
// recorded transfer per run (DESIGN rule 6). Idempotent: a second run at the same time finds nothing.
import type { Knex } from 'knex';
import { newId } from '../../shared/client-id.js';
import { countyAccount } from '../ledger/accounts.js';
import { loadCountyPolicy } from '../ledger/county-policy.js';
import { postTransfers } from '../ledger/ledger-store.js';

export interface ExpiryRunResult {
  runId: string;
  countyId: string;
  runAt: string;
  cutoff: string;
  unitsExpired: number;
  lotContainersExpired: number;
  amountFen: number;
}

const DAY_MS = 86_400_000;

export async function runExpiry(knex: Knex, countyId: string, now: Date, actor: string): Promise<ExpiryRunResult> {
  return knex.transaction(async (trx) => {
    const county = await loadCountyPolicy(trx, countyId);
    const cutoff = new Date(now.getTime() - county.depositValidityDays * DAY_MS);
    // Same lock order as returns: units by code, then lots by key, then accounts.
    const units = await trx('sold_units').where({ county_id: countyId, state: 'outstanding' }).where('event_time', '<', cutoff)
      .orderBy('unit_code').forUpdate().select('sale_id', 'unit_code', 'deposit_fen');
    const lots = await trx('deposit_lots').where({ county_id: countyId, voided: false }).where('outstanding', '>', 0).where('event_time', '<', cutoff)
      .orderBy([{ column: 'sale_id' }, { column: 'line_no' }]).forUpdate().select('sale_id', 'line_no', 'outstanding', 'deposit_fen');
    let amount = 0;
    for (const u of units) amount += Number(u.deposit_fen);
    let lotContainers = 0;
    for (const l of lots) {
      amount += l.outstanding * l.deposit_fen;
      lotContainers += l.outstanding;
    }
    if (units.length) {
      await trx('sold_units').where({ county_id: countyId, state: 'outstanding' }).where('event_time', '<', cutoff).update({ state: 'expired' });
    }
    if (lots.length) {
      await trx('deposit_lots').where({ county_id: countyId, voided: false }).where('outstanding', '>', 0).where('event_time', '<', cutoff)
        .update({ expired: trx.raw('expired + outstanding'), outstanding: 0 });
    }
    const runId = newId();
    await trx('expiry_runs').insert({ county_id: countyId, id: runId, run_at: now, cutoff, units_expired: units.length, lot_containers_expired: lotContainers, amount_fen: amount, actor });
    await postTransfers(trx, countyId, [{
      code: 'deposit_expired', debit: countyAccount(countyId, 'deposits_outstanding'), credit: countyAccount(countyId, 'unredeemed'),
      amountFen: amount, clientId: runId, refType: 'expiry', refId: runId, shopId: null, eventTime: now, actor,
    }], now);
    return { runId, countyId, runAt: now.toISOString(), cutoff: cutoff.toISOString(), unitsExpired: units.length, lotContainersExpired: lotContainers, amountFen: amount };
  });
}
