// SQL of closed periods: which months of a county are closed, and as of when their figures stand.
import type { Knex } from 'knex';

export interface ClosedPeriodRow {
  county_id: string;
  period_key: string;
  period_from: Date;
  period_to: Date;
  reconciliation_run_id: string;
  figures_as_of: Date;
  closed_by: string;
  closed_at: Date;
}

export async function closedPeriod(knex: Knex, countyId: string, periodKey: string): Promise<ClosedPeriodRow | undefined> {
  return (await knex('closed_periods').where({ county_id: countyId, period_key: periodKey }).first()) as ClosedPeriodRow | undefined;
}

/** The record-time cut-off a closed month's figures stand at (null: the month is open, or not a month). */
export async function closedFiguresAsOf(knex: Knex, countyId: string, periodKey: string): Promise<Date | null> {
  if (!/^\d{4}-\d{2}$/.test(periodKey)) return null;
  const row = await closedPeriod(knex, countyId, periodKey);
  return row ? new Date(row.figures_as_of) : null;
}

export async function closedPeriods(knex: Knex, countyId: string): Promise<ClosedPeriodRow[]> {
  return (await knex('closed_periods').where({ county_id: countyId }).orderBy('period_key')) as ClosedPeriodRow[];
}
