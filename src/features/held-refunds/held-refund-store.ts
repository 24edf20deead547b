// SQL of held refunds: written by a return, moved (held → approved/declined → paid, or voided when
// the return is reversed) under the row's lock, read by the officials' review queue and the counter.
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';

export type HeldReason = 'unsold_code' | 'likely_counterfeit';
export type HeldState = 'held' | 'approved' | 'declined' | 'paid' | 'voided';

export interface HeldRefundRow {
  county_id: string;
  id: string;
  return_id: string;
  item_no: number;
  unit_code: string;
  product_id: string;
  farmer_id: string;
  shop_id: string;
  amount_fen: number;
  prepaid_fen: number;
  reason: HeldReason;
  state: HeldState;
  event_time: Date;
  recorded_at: Date;
}

export async function insertHeldRefunds(trx: Knex.Transaction, rows: Array<Omit<HeldRefundRow, 'amount_fen' | 'prepaid_fen'> & { amount_fen: number; prepaid_fen: number }>): Promise<void> {
  if (rows.length) await trx('held_refunds').insert(rows);
}

export async function lockHeldRefund(trx: Knex.Transaction, countyId: string, id: string): Promise<HeldRefundRow> {
  const row = (await trx('held_refunds').where({ county_id: countyId, id }).forUpdate().first()) as HeldRefundRow | undefined;
  if (!row) throw new AppError('NOT_FOUND', `No held refund ${id} in county ${countyId}`);
  return { ...row, amount_fen: Number(row.amount_fen), prepaid_fen: Number(row.prepaid_fen) };
}

export async function setHeldState(trx: Knex.Transaction, countyId: string, id: string, state: HeldState): Promise<void> {
  await trx('held_refunds').where({ county_id: countyId, id }).update({ state });
}

/**
 * A reversed return takes its held refunds with it (the code may be returned again); a refund
 * already paid cannot be undone by a reversal. Called by the reversal service under its locks.
 */
export async function voidHeldRefundsOfReturn(trx: Knex.Transaction, countyId: string, returnId: string): Promise<void> {
  const rows = (await trx('held_refunds').where({ county_id: countyId, return_id: returnId }).orderBy('id').forUpdate().select('id', 'state', 'unit_code')) as Array<{ id: string; state: HeldState; unit_code: string }>;
  const paid = rows.find((r) => r.state === 'paid');
  if (paid) throw new AppError('REVERSAL_NOT_POSSIBLE', `the held refund of unit ${paid.unit_code} was already paid`);
  const open = rows.filter((r) => r.state === 'held' || r.state === 'approved').map((r) => r.id);
  if (open.length) await trx('held_refunds').where({ county_id: countyId }).whereIn('id', open).update({ state: 'voided' });
}
