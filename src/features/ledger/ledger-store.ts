// Posting transfers: lock the accounts involved in id order, move balances, check bounds, write the
// transfer and its two entries with the balance after each — all inside the caller's transaction.
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { newId } from '../../shared/client-id.js';
import { ACCOUNT_BOUNDS, type AccountBound, type AccountRef } from './accounts.js';

export const TRANSFER_CODES = [
  'deposit_collected', 'refund_paid', 'late_refund', 'policy_refund', 'refund_overpaid', 'refund_underpaid', 'deposit_expired',
  'settlement_from_shop', 'settlement_to_shop', 'reversal', 'held_refund_paid',
  // Incentives (docs/incentives.md): an official funds the county's incentive fund; a shop pays buy-back from it.
  'incentive_allocated', 'buyback_paid',
] as const;
export type TransferCode = (typeof TRANSFER_CODES)[number];
export type RefType = 'sale' | 'return' | 'reversal' | 'settlement' | 'expiry' | 'held_refund' | 'incentive_allocation';

export interface TransferInput {
  code: TransferCode;
  debit: AccountRef;
  credit: AccountRef;
  amountFen: number;
  clientId: string;
  refType: RefType;
  refId: string;
  shopId: string | null;
  eventTime: Date;
  actor: string;
  reversesTransferId?: string;
  /** Set for a late adjustment only: where statements count it (see periods/booking.ts). */
  bookedAt?: Date | null;
  /** When the write that caused it was recorded (a group commit posts several writes' transfers at once); default: postTransfers' recordedAt. */
  recordedAt?: Date;
}

export interface TransferRow {
  county_id: string;
  id: string;
  code: TransferCode;
  client_id: string;
  ref_type: RefType;
  ref_id: string;
  shop_id: string | null;
  debit_account_id: string;
  credit_account_id: string;
  amount_fen: number;
  event_time: Date;
  recorded_at: Date;
  reverses_transfer_id: string | null;
  actor: string;
  booked_at?: Date | null;
}

export function boundBroken(bound: AccountBound, balance: number): boolean {
  return (bound === 'non_negative' && balance < 0) || (bound === 'non_positive' && balance > 0);
}

/** Locks the accounts (creating missing ones) in id order and returns their balances. */
export async function lockAccounts(trx: Knex.Transaction, countyId: string, accounts: AccountRef[]): Promise<Map<string, { balance: number; bound: AccountBound }>> {
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const ids = [...byId.keys()].sort();
  const select = () => trx('ledger_accounts').where({ county_id: countyId }).whereIn('id', ids).orderBy('id').forUpdate().select('id', 'balance_fen', 'bound');
  let rows = (await select()) as Array<{ id: string; balance_fen: number; bound: AccountBound }>;
  if (rows.length < ids.length) {
    const have = new Set(rows.map((r) => r.id));
    const missing = ids.filter((id) => !have.has(id)).map((id) => {
      const a = byId.get(id)!;
      return { county_id: countyId, id, code: a.code, kind: a.kind, shop_id: a.shopId, bound: ACCOUNT_BOUNDS[a.kind] };
    });
    await trx('ledger_accounts').insert(missing).onConflict(['county_id', 'id']).ignore();
    rows = await select();
  }
  return new Map(rows.map((r) => [r.id, { balance: Number(r.balance_fen), bound: r.bound }]));
}

/** Posts transfers in order; amounts of zero are skipped. Returns the rows written. */
export async function postTransfers(trx: Knex.Transaction, countyId: string, inputs: TransferInput[], recordedAt: Date): Promise<TransferRow[]> {
  const transfers = inputs.filter((t) => t.amountFen !== 0);
  if (transfers.length === 0) return [];
  for (const t of transfers) {
    if (!Number.isSafeInteger(t.amountFen) || t.amountFen < 0) throw new Error(`transfer amount must be a positive integer of fen, got ${t.amountFen}`);
  }
  const balances = await lockAccounts(trx, countyId, transfers.flatMap((t) => [t.debit, t.credit]));
  const rows: TransferRow[] = [];
  const entries: Array<Record<string, unknown>> = [];
  for (const t of transfers) {
    const id = newId();
    const debit = balances.get(t.debit.id)!;
    const credit = balances.get(t.credit.id)!;
    debit.balance += t.amountFen;
    credit.balance -= t.amountFen;
    for (const [acct, state] of [[t.debit, debit], [t.credit, credit]] as const) {
      if (boundBroken(state.bound, state.balance)) {
        throw new AppError('LEDGER_BOUND_BROKEN', `${t.code} of ${t.amountFen} fen would leave ${acct.code} at ${state.balance} fen`);
      }
    }
    rows.push({
      county_id: countyId, id, code: t.code, client_id: t.clientId, ref_type: t.refType, ref_id: t.refId, shop_id: t.shopId,
      debit_account_id: t.debit.id, credit_account_id: t.credit.id, amount_fen: t.amountFen, event_time: t.eventTime,
      recorded_at: t.recordedAt ?? recordedAt, reverses_transfer_id: t.reversesTransferId ?? null, actor: t.actor, booked_at: t.bookedAt ?? null,
    });
    entries.push(
      { county_id: countyId, transfer_id: id, account_id: t.debit.id, amount_fen: t.amountFen, balance_after_fen: debit.balance },
      { county_id: countyId, transfer_id: id, account_id: t.credit.id, amount_fen: -t.amountFen, balance_after_fen: credit.balance },
    );
  }
  // One statement after the lock: new balances, transfers and entries (a data-modifying CTE; the
  // foreign keys are checked at its end). Fewer round trips while the accounts stay locked.
  // Rows travel as one JSON parameter per table (json_populate_recordset): a batch of a thousand
  // transfers is three parameters, not tens of thousands, and nothing for knex to build per row.
  const touched = [...new Set(transfers.flatMap((t) => [t.debit.id, t.credit.id]))].sort();
  const transferCols = ['county_id', 'id', 'code', 'client_id', 'ref_type', 'ref_id', 'shop_id', 'debit_account_id', 'credit_account_id', 'amount_fen',
    'event_time', 'recorded_at', 'reverses_transfer_id', 'actor', 'booked_at'].join(', ');
  const entryCols = 'county_id, transfer_id, account_id, amount_fen, balance_after_fen';
  const done = (await trx.raw(`WITH
      acc AS (UPDATE ledger_accounts a SET balance_fen = v.balance FROM json_to_recordset(?::json) AS v(id uuid, balance bigint)
               WHERE a.county_id = ? AND a.id = v.id RETURNING a.id),
      tr AS (INSERT INTO ledger_transfers (${transferCols}) SELECT ${transferCols} FROM json_populate_recordset(NULL::ledger_transfers, ?::json) RETURNING id),
      en AS (INSERT INTO ledger_entries (${entryCols}) SELECT ${entryCols} FROM json_populate_recordset(NULL::ledger_entries, ?::json) RETURNING transfer_id)
    SELECT (SELECT count(*) FROM acc)::int AS accounts, (SELECT count(*) FROM tr)::int AS transfers, (SELECT count(*) FROM en)::int AS entries`,
  [JSON.stringify(touched.map((id) => ({ id, balance: balances.get(id)!.balance }))), countyId, JSON.stringify(rows), JSON.stringify(entries)])).rows;
  const n = done[0] as { accounts: number; transfers: number; entries: number };
  if (n.accounts !== touched.length || n.transfers !== rows.length || n.entries !== entries.length) {
    throw new Error(`ledger posting wrote ${JSON.stringify(n)}, expected ${touched.length}/${rows.length}/${entries.length}`);
  }
  return rows;
}

/** Reverses transfers: each gets a new transfer with the sides swapped, pointing at the original. */
export async function reverseTransfers(
  trx: Knex.Transaction, countyId: string, originals: TransferRow[],
  meta: { clientId: string; refId: string; eventTime: Date; actor: string; bookedAt?: Date | null }, recordedAt: Date,
): Promise<TransferRow[]> {
  const accountRows = (await trx('ledger_accounts').where({ county_id: countyId })
    .whereIn('id', originals.flatMap((o) => [o.debit_account_id, o.credit_account_id]))
    .select('id', 'code', 'kind', 'shop_id')) as Array<{ id: string; code: string; kind: AccountRef['kind']; shop_id: string | null }>;
  const refs = new Map(accountRows.map((a) => [a.id, { id: a.id, code: a.code, kind: a.kind, shopId: a.shop_id } satisfies AccountRef]));
  return postTransfers(trx, countyId, originals.map((o) => ({
    code: 'reversal' as const,
    debit: refs.get(o.credit_account_id)!,
    credit: refs.get(o.debit_account_id)!,
    amountFen: Number(o.amount_fen),
    clientId: meta.clientId,
    refType: 'reversal' as const,
    refId: meta.refId,
    shopId: o.shop_id,
    eventTime: meta.eventTime,
    actor: meta.actor,
    reversesTransferId: o.id,
    bookedAt: meta.bookedAt ?? null,
  })), recordedAt);
}
