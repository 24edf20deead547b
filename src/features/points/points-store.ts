// The points ledger (积分, docs/incentives.md): double entry like the money ledger, in milli-points
// (1000 = one point) and apart from fen. A farmer's account is what the scheme owes them in points (a
// credit balance, never positive); `issued` is what the county has given (debit), `redeemed` what shops
// took back for goods and `expired` what lapsed (credits). Every movement is one transfer between two
// accounts, locked in id order, with the balances moved and their bounds checked in the caller's
// transaction. A unit code earns points once, ever (unique index points_transfers_code_once); a return
// item earns once (points_transfers_item_once).
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { newId } from '../../shared/client-id.js';

export type PointsAccountKind = 'farmer' | 'issued' | 'redeemed' | 'expired';
export type PointsBound = 'none' | 'non_negative' | 'non_positive';
export type PointsCode = 'earned' | 'redeemed' | 'expired' | 'reversal';
export type PointsRefType = 'return' | 'redemption' | 'expiry' | 'reversal';

export const POINTS_BOUNDS: Record<PointsAccountKind, PointsBound> = {
  farmer: 'non_positive',
  issued: 'non_negative',
  redeemed: 'non_positive',
  expired: 'non_positive',
};

export interface PointsAccountRef {
  id: string;
  code: string;
  kind: PointsAccountKind;
  farmerId: string | null;
}

function derivedId(countyId: string, code: string): string {
  const b = createHash('sha256').update(`agrireturn-points:${countyId}:${code}`).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function pointsCountyAccount(countyId: string, kind: Exclude<PointsAccountKind, 'farmer'>): PointsAccountRef {
  return { id: derivedId(countyId, kind), code: kind, kind, farmerId: null };
}

export function farmerPointsAccount(countyId: string, farmerId: string): PointsAccountRef {
  const code = `farmer:${farmerId}`;
  return { id: derivedId(countyId, code), code, kind: 'farmer', farmerId };
}

export interface PointsTransferInput {
  code: PointsCode;
  debit: PointsAccountRef;
  credit: PointsAccountRef;
  amountMilli: number;
  clientId: string;
  refType: PointsRefType;
  refId: string;
  itemNo?: number | null;
  unitCode?: string | null;
  farmerId: string;
  shopId: string | null;
  eventTime: Date;
  businessDay: string;
  actor: string;
  reversesTransferId?: string | null;
}

export interface PointsTransferRow {
  county_id: string;
  id: string;
  code: PointsCode;
  client_id: string;
  ref_type: PointsRefType;
  ref_id: string;
  item_no: number | null;
  unit_code: string | null;
  farmer_id: string;
  shop_id: string | null;
  debit_account_id: string;
  credit_account_id: string;
  amount_milli: number;
  event_time: Date;
  business_day: string;
  recorded_at: Date;
  reverses_transfer_id: string | null;
  actor: string;
}

/** The transfer that gives a farmer points for a returned item (issued → farmer). */
export function earnedPoints(countyId: string, t: Omit<PointsTransferInput, 'code' | 'debit' | 'credit' | 'refType'>): PointsTransferInput {
  return { ...t, code: 'earned', refType: 'return', debit: pointsCountyAccount(countyId, 'issued'), credit: farmerPointsAccount(countyId, t.farmerId) };
}

/** Locks the accounts (creating missing ones) in id order and returns their balances. */
export async function lockPointsAccounts(trx: Knex.Transaction, countyId: string, accounts: PointsAccountRef[]): Promise<Map<string, { balance: number; bound: PointsBound }>> {
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const ids = [...byId.keys()].sort();
  const select = () => trx('points_accounts').where({ county_id: countyId }).whereIn('id', ids).orderBy('id').forUpdate().select('id', 'balance_milli', 'bound');
  let rows = (await select()) as Array<{ id: string; balance_milli: number | string; bound: PointsBound }>;
  if (rows.length < ids.length) {
    const have = new Set(rows.map((r) => r.id));
    const missing = ids.filter((id) => !have.has(id)).map((id) => {
      const a = byId.get(id)!;
      return { county_id: countyId, id, code: a.code, kind: a.kind, farmer_id: a.farmerId, bound: POINTS_BOUNDS[a.kind] };
    });
    await trx('points_accounts').insert(missing).onConflict(['county_id', 'id']).ignore();
    rows = await select();
  }
  return new Map(rows.map((r) => [r.id, { balance: Number(r.balance_milli), bound: r.bound }]));
}

/**
 * Posts points transfers in order (amounts of zero skipped) after locking their accounts in id order;
 * a bound broken (a farmer redeeming more than they hold) refuses the whole call with
 * POINTS_INSUFFICIENT and writes nothing. Returns the rows written.
 */
export async function postPoints(trx: Knex.Transaction, countyId: string, inputs: PointsTransferInput[], recordedAt: Date): Promise<PointsTransferRow[]> {
  const transfers = inputs.filter((t) => t.amountMilli !== 0);
  if (transfers.length === 0) return [];
  for (const t of transfers) {
    if (!Number.isSafeInteger(t.amountMilli) || t.amountMilli < 0) throw new Error(`points amount must be a positive integer of milli-points, got ${t.amountMilli}`);
  }
  const balances = await lockPointsAccounts(trx, countyId, transfers.flatMap((t) => [t.debit, t.credit]));
  const rows: PointsTransferRow[] = [];
  for (const t of transfers) {
    const debit = balances.get(t.debit.id)!;
    const credit = balances.get(t.credit.id)!;
    debit.balance += t.amountMilli;
    credit.balance -= t.amountMilli;
    for (const [acct, state] of [[t.debit, debit], [t.credit, credit]] as const) {
      const broken = (state.bound === 'non_negative' && state.balance < 0) || (state.bound === 'non_positive' && state.balance > 0);
      if (broken) {
        if (acct.kind === 'farmer') throw new AppError('POINTS_INSUFFICIENT', `${t.code} of ${t.amountMilli / 1000} points is more than the farmer holds`);
        throw new Error(`points ${t.code} of ${t.amountMilli} would leave ${acct.code} at ${state.balance}`);
      }
    }
    rows.push({
      county_id: countyId, id: newId(), code: t.code, client_id: t.clientId, ref_type: t.refType, ref_id: t.refId, item_no: t.itemNo ?? null,
      unit_code: t.unitCode ?? null, farmer_id: t.farmerId, shop_id: t.shopId, debit_account_id: t.debit.id, credit_account_id: t.credit.id,
      amount_milli: t.amountMilli, event_time: t.eventTime, business_day: t.businessDay, recorded_at: recordedAt,
      reverses_transfer_id: t.reversesTransferId ?? null, actor: t.actor,
    });
  }
  const touched = [...new Set(transfers.flatMap((t) => [t.debit.id, t.credit.id]))].sort();
  const cols = ['county_id', 'id', 'code', 'client_id', 'ref_type', 'ref_id', 'item_no', 'unit_code', 'farmer_id', 'shop_id', 'debit_account_id',
    'credit_account_id', 'amount_milli', 'event_time', 'business_day', 'recorded_at', 'reverses_transfer_id', 'actor'].join(', ');
  const done = (await trx.raw(`WITH
      acc AS (UPDATE points_accounts a SET balance_milli = v.balance FROM json_to_recordset(?::json) AS v(id uuid, balance bigint)
               WHERE a.county_id = ? AND a.id = v.id RETURNING a.id),
      tr AS (INSERT INTO points_transfers (${cols}) SELECT ${cols} FROM json_populate_recordset(NULL::points_transfers, ?::json) RETURNING id)
    SELECT (SELECT count(*) FROM acc)::int AS accounts, (SELECT count(*) FROM tr)::int AS transfers`,
  [JSON.stringify(touched.map((id) => ({ id, balance: balances.get(id)!.balance }))), countyId, JSON.stringify(rows)])).rows;
  const n = done[0] as { accounts: number; transfers: number };
  if (n.accounts !== touched.length || n.transfers !== rows.length) throw new Error(`points posting wrote ${JSON.stringify(n)}, expected ${touched.length}/${rows.length}`);
  return rows;
}

/** A farmer's points balance in milli-points (what the scheme owes them: the account's credit balance, as a positive number). */
export async function farmerPointsMilli(knex: Knex, countyId: string, farmerId: string): Promise<number> {
  const row = await knex('points_accounts').where({ county_id: countyId, id: farmerPointsAccount(countyId, farmerId).id }).first('balance_milli');
  return row ? -Number(row.balance_milli) : 0;
}
