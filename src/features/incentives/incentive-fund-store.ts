// SQL of the county incentive fund (docs/incentives.md, rule 6): what was allocated and paid out by
// buy-back, per budget year and in all, read from the ledger (reversals count against the transfer
// they reverse) and the allocation rows.
import type { Knex } from 'knex';
import { countyAccount } from '../ledger/accounts.js';

export interface FundYear { year: number; allocatedFen: number; paidFen: number }

export interface FundFigures {
  balanceFen: number;
  allocatedFen: number;
  paidFen: number;
  byYear: FundYear[];
}

/** The fund's money left (the incentive_fund account's credit balance), allocated and paid, by year. */
export async function fundFigures(knex: Knex, countyId: string, timeZone: string): Promise<FundFigures> {
  const account = await knex('ledger_accounts').where({ county_id: countyId, id: countyAccount(countyId, 'incentive_fund').id }).first('balance_fen');
  const balanceFen = -Number(account?.balance_fen ?? 0);
  // Allocations count in their budget year; buy-back in the calendar year of its business day.
  const allocated = (await knex.raw(`
    SELECT a.budget_year AS year, sum(CASE WHEN t.code = 'reversal' THEN -t.amount_fen ELSE t.amount_fen END)::bigint AS fen
      FROM ledger_transfers t
      JOIN ledger_transfers o ON o.county_id = t.county_id AND o.id = coalesce(t.reverses_transfer_id, t.id)
      JOIN incentive_allocations a ON a.county_id = o.county_id AND a.id = o.ref_id
     WHERE t.county_id = ? AND o.code = 'incentive_allocated' AND o.ref_type = 'incentive_allocation'
     GROUP BY a.budget_year`, [countyId])).rows as Array<{ year: number; fen: number }>;
  const paid = (await knex.raw(`
    SELECT extract(year FROM o.event_time AT TIME ZONE ?)::int AS year, sum(CASE WHEN t.code = 'reversal' THEN -t.amount_fen ELSE t.amount_fen END)::bigint AS fen
      FROM ledger_transfers t
      JOIN ledger_transfers o ON o.county_id = t.county_id AND o.id = coalesce(t.reverses_transfer_id, t.id)
     WHERE t.county_id = ? AND o.code = 'buyback_paid'
     GROUP BY 1`, [timeZone, countyId])).rows as Array<{ year: number; fen: number }>;
  const years = new Map<number, FundYear>();
  const year = (y: number) => {
    let v = years.get(y);
    if (!v) years.set(y, (v = { year: y, allocatedFen: 0, paidFen: 0 }));
    return v;
  };
  for (const r of allocated) year(Number(r.year)).allocatedFen = Number(r.fen);
  for (const r of paid) year(Number(r.year)).paidFen = Number(r.fen);
  const byYear = [...years.values()].sort((a, b) => a.year - b.year);
  return {
    balanceFen,
    allocatedFen: byYear.reduce((s, y) => s + y.allocatedFen, 0),
    paidFen: byYear.reduce((s, y) => s + y.paidFen, 0),
    byYear,
  };
}

export interface AllocationRow { id: string; budget_year: number; amount_fen: number; note: string; actor: string; recorded_at: Date }

export function allocationsOf(knex: Knex, countyId: string, limit: number): Promise<AllocationRow[]> {
  return knex('incentive_allocations').where({ county_id: countyId }).orderBy([{ column: 'recorded_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit);
}
