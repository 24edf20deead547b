// Checks shared by several entities' rules.
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';

/** The referenced record must exist in the same county (and be active for new references). */
export async function requireRef(trx: Knex, table: string, countyId: string, id: unknown, field: string): Promise<Record<string, unknown>> {
  if (id === undefined || id === null) return {};
  const row = await trx(table).where({ county_id: countyId, id }).first();
  return refRowOrThrow(row, countyId, field);
}

/** requireRef's rule on a row already read (undefined: not found). */
export function refRowOrThrow(row: Record<string, unknown> | undefined, countyId: string, field: string): Record<string, unknown> {
  if (!row) throw new AppError('REFERENCE_NOT_FOUND', `${field} does not name a record of this county`, [{ field: `/body/${field}`, code: 'not_found', message: `no such record in county ${countyId}` }]);
  if (row.active === false) throw new AppError('RECORD_INACTIVE', `${field} names a deactivated record`, [{ field: `/body/${field}`, code: 'inactive', message: 'the record is deactivated' }]);
  return row as Record<string, unknown>;
}

/** Trims every string field: people paste names with trailing spaces. */
export function trimStrings(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) out[k] = typeof v === 'string' ? v.trim() : v;
  return out;
}

/**
 * EntityDef.lockFirst for dated reference data of a county (deposit schedules, incentive rates): the
 * county row FOR UPDATE serialises every create and update of them, so two officials cannot write
 * overlapping versions, and a create (county, then the older rows it supersedes) and an update (county,
 * then its row) take their locks in one order. A county that does not exist is left to the rules.
 */
export async function lockCountyRow(trx: Knex, countyId: string): Promise<void> {
  await trx('counties').where({ id: countyId }).forUpdate().first('id');
}
