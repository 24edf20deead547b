// Voids and corrections (DESIGN rules 7, 12): a sale or return is reversed by new transfers with the
// sides swapped; the original rows never change. Who may reverse what is judged by times the clerk
// cannot set (docs/ledger.md, "Reversal window"):
// - a clerk (online): the target reached the server on the county business day of the server's now;
// - a terminal (its synced journal): the target was recorded from the same terminal, the reversal's
//   journal time lies on the target's business day and not before it, and the target reached the
//   server on the county business day the reversal reaches it (so a sync on a later day closes the
//   window: a record synced yesterday cannot be voided from a journal today);
// - anything else: a county official (or an admin).
import type { Knex } from 'knex';
import type { AppDeps } from '../../app-deps.js';
import { AppError } from '../../http/errors.js';
import { actorName } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/permissions.js';
import { businessDay } from '../../shared/business-day.js';
import { EVENT_TIME_SKEW_MS, checkEventTimeBounds, countyOf, loadCountyPolicy } from '../ledger/county-policy.js';
import { bookingFor, bookingView } from '../periods/booking.js';
import { idempotentWrite, type WriteResult } from '../ledger/idempotency.js';
import { reverseTransfers, type TransferRow } from '../ledger/ledger-store.js';
import type { LotRow, SoldUnitRow } from '../returns/return-store.js';
import { voidHeldRefundsOfReturn } from '../held-refunds/held-refund-store.js';
import { farmerPointsAccount, pointsCountyAccount, postPoints, type PointsTransferRow } from '../points/points-store.js';

export interface ReversalInput {
  id: string;
  countyId?: string;
  targetType: 'sale' | 'return';
  targetId: string;
  reason: string;
  /** When it happened at the counter (a terminal's journal time); default: when the server receives it. Decides the window only for terminals. */
  eventTime?: string;
}

const TABLE = { sale: 'sales', return: 'returns' } as const;

/** The shop a sale or return belongs to (for the router's scope check). */
export async function targetShop(knex: Knex, countyId: string, type: 'sale' | 'return', id: string): Promise<string> {
  const row = await knex(TABLE[type]).where({ county_id: countyId, id }).first('shop_id');
  if (!row) throw new AppError('NOT_FOUND', `No ${type} ${id} in county ${countyId}`);
  return row.shop_id;
}

/**
 * Why a clerk or terminal may not reverse this target now (null: it may). Only record times the
 * server wrote and the terminal's own journal decide; a clerk's stated event time decides nothing.
 */
export function windowRefusal(
  principal: Principal, targetType: 'sale' | 'return',
  target: { actor: string; business_day: string; recorded_at: Date | string }, eventTime: Date, now: Date, timeZone: string,
): { code: string; message: string } | null {
  if (principal.role !== 'clerk' && principal.role !== 'terminal') return null;
  const today = businessDay(now, timeZone);
  const arrived = businessDay(new Date(target.recorded_at), timeZone);
  if (principal.role === 'terminal') {
    if (target.actor !== actorName(principal)) return { code: 'other_terminal', message: `The ${targetType} was not recorded from this terminal` };
    const journalDay = businessDay(eventTime, timeZone);
    if (journalDay !== target.business_day) return { code: 'other_journal_day', message: `The ${targetType} is of ${target.business_day} in this terminal's journal, the reversal of ${journalDay}` };
  }
  if (arrived !== today) return { code: 'recorded_earlier', message: `The server stored the ${targetType} on ${arrived}; today is ${today}` };
  return null;
}

export class ReversalService {
  constructor(private readonly deps: AppDeps) {}

  async reverse(principal: Principal, input: ReversalInput): Promise<WriteResult> {
    const countyId = countyOf(principal, input.countyId);
    try {
      return await idempotentWrite(this.deps.db.knex, { countyId, clientId: input.id, operation: 'reversal', content: input }, () => this.deps.clock.now(),
        (trx) => this.write(trx, countyId, principal, input));
    } catch (err) {
      const e = err as { code?: string; constraint?: string };
      if (e.code === '23505' && (e.constraint === 'reversals_county_id_target_type_target_id_unique' || e.constraint === 'ledger_transfers_reversed_once')) throw new AppError('ALREADY_REVERSED');
      throw err;
    }
  }

  private async write(trx: Knex.Transaction, countyId: string, principal: Principal, input: ReversalInput): Promise<WriteResult> {
    const now = this.deps.clock.now();
    const eventTime = input.eventTime !== undefined ? new Date(input.eventTime) : now;
    const county = await loadCountyPolicy(trx, countyId);
    checkEventTimeBounds(eventTime, now, county, principal);
    const target = await trx(TABLE[input.targetType]).where({ county_id: countyId, id: input.targetId }).first();
    if (!target) throw new AppError('NOT_FOUND', `No ${input.targetType} ${input.targetId}`);
    if (eventTime.getTime() < new Date(target.event_time).getTime() - EVENT_TIME_SKEW_MS) {
      throw new AppError('VALIDATION_FAILED', 'A reversal cannot happen before what it reverses', [{ field: '/body/eventTime', code: 'before_target', message: `event time ${eventTime.toISOString()} is before the ${input.targetType}'s ${new Date(target.event_time).toISOString()}` }]);
    }
    const reversalDay = businessDay(eventTime, county.timezone);
    // Already reversed is the whole truth, whoever asks.
    if (await trx('reversals').where({ county_id: countyId, target_type: input.targetType, target_id: input.targetId }).first('id')) throw new AppError('ALREADY_REVERSED');
    const refusal = windowRefusal(principal, input.targetType, target, eventTime, now, county.timezone);
    if (refusal) throw new AppError('REVERSAL_WINDOW_CLOSED', `${refusal.message}; only a county official may reverse it now`, [{ field: '/body/targetId', ...refusal }]);

    if (input.targetType === 'sale') await this.releaseSale(trx, countyId, input.targetId);
    else await this.restoreReturn(trx, countyId, input.targetId);

    const actor = actorName(principal);
    const booking = await bookingFor(trx, countyId, eventTime, county.timezone);
    await trx('reversals').insert({
      county_id: countyId, id: input.id, target_type: input.targetType, target_id: input.targetId, shop_id: target.shop_id,
      reason: input.reason, actor, actor_role: principal.role, event_time: eventTime, recorded_at: now, booked_at: booking.bookedAt,
    });
    // Points a reversed return earned go back (farmer → issued), before the ledger's accounts are locked.
    if (input.targetType === 'return') await this.reversePoints(trx, countyId, input, eventTime, actor, now);
    const originals = (await trx('ledger_transfers').where({ county_id: countyId, ref_type: input.targetType, ref_id: input.targetId }).orderBy('id')) as TransferRow[];
    const posted = await reverseTransfers(trx, countyId, originals, { clientId: input.id, refId: input.id, eventTime, actor, bookedAt: booking.bookedAt }, now);
    return {
      status: 201,
      body: {
        reversalId: input.id, countyId, targetType: input.targetType, targetId: input.targetId, shopId: target.shop_id, reason: input.reason,
        eventTime: eventTime.toISOString(), businessDay: reversalDay, recordedAt: now.toISOString(), ...bookingView(booking),
        transfers: posted.map((p) => ({ transferId: p.id, reversesTransferId: p.reverses_transfer_id!, amountFen: Number(p.amount_fen) })),
      },
    };
  }

  /**
   * The points a return earned, taken back by opposite transfers (reversal: farmer → issued). Points
   * the farmer has already redeemed cannot be taken back: the return then cannot be reversed.
   */
  private async reversePoints(trx: Knex.Transaction, countyId: string, input: ReversalInput, eventTime: Date, actor: string, now: Date): Promise<void> {
    const earned = (await trx('points_transfers').where({ county_id: countyId, ref_type: 'return', ref_id: input.targetId, code: 'earned' }).orderBy('id')) as PointsTransferRow[];
    if (!earned.length) return;
    const county = await loadCountyPolicy(trx, countyId);
    const day = businessDay(eventTime, county.timezone);
    try {
      await postPoints(trx, countyId, earned.map((t) => ({
        code: 'reversal' as const, debit: farmerPointsAccount(countyId, t.farmer_id), credit: pointsCountyAccount(countyId, 'issued'),
        amountMilli: Number(t.amount_milli), clientId: input.id, refType: 'reversal' as const, refId: input.id, itemNo: t.item_no,
        farmerId: t.farmer_id, shopId: t.shop_id, eventTime, businessDay: day, actor, reversesTransferId: t.id,
      })), now);
    } catch (err) {
      if (err instanceof AppError && err.code === 'POINTS_INSUFFICIENT') throw new AppError('REVERSAL_NOT_POSSIBLE', 'the farmer has already redeemed points this return earned');
      throw err;
    }
  }

  /** A sale can be voided only while every container of it is still outstanding. */
  private async releaseSale(trx: Knex.Transaction, countyId: string, saleId: string): Promise<void> {
    const units = (await trx('sold_units').where({ county_id: countyId, sale_id: saleId }).orderBy('unit_code').forUpdate().select('*')) as SoldUnitRow[];
    const lots = (await trx('deposit_lots').where({ county_id: countyId, sale_id: saleId }).orderBy('line_no').forUpdate().select('*')) as LotRow[];
    const busy = units.filter((u) => u.state !== 'outstanding').length + lots.filter((l) => l.outstanding !== l.quantity).length;
    if (busy) throw new AppError('REVERSAL_NOT_POSSIBLE', `${busy} line(s) or unit(s) of the sale were already returned or expired`);
    if (units.length) await trx('sold_units').where({ county_id: countyId, sale_id: saleId }).update({ state: 'voided' });
    if (lots.length) await trx('deposit_lots').where({ county_id: countyId, sale_id: saleId }).update({ outstanding: 0, voided: true });
  }

  /** Puts every container the return took a deposit from back where it was. */
  private async restoreReturn(trx: Knex.Transaction, countyId: string, returnId: string): Promise<void> {
    const allocs = (await trx('return_allocations').where({ county_id: countyId, return_id: returnId }).orderBy(['item_no', 'alloc_no'])) as Array<Record<string, any>>;
    const unitAllocs = allocs.filter((a) => a.source === 'unit' || a.source === 'unit_expired').sort((a, b) => String(a.unit_code).localeCompare(String(b.unit_code)));
    for (const a of unitAllocs) {
      const unit = await trx('sold_units').where({ county_id: countyId, sale_id: a.sale_id, unit_code: a.unit_code }).forUpdate().first();
      const expected = a.source === 'unit' ? ['refunded'] : ['late_refunded', 'late_returned'];
      if (!unit || !expected.includes(unit.state)) throw new AppError('REVERSAL_NOT_POSSIBLE', `unit ${a.unit_code} is no longer as this return left it`);
      await trx('sold_units').where({ county_id: countyId, sale_id: a.sale_id, unit_code: a.unit_code }).update({ state: a.source === 'unit' ? 'outstanding' : 'expired' });
    }
    const lotAllocs = allocs.filter((a) => a.source === 'lot' || a.source === 'lot_expired').sort((a, b) => String(a.sale_id).localeCompare(String(b.sale_id)) || a.line_no - b.line_no);
    for (const a of lotAllocs) {
      const lot = (await trx('deposit_lots').where({ county_id: countyId, sale_id: a.sale_id, line_no: a.line_no }).forUpdate().first()) as LotRow | undefined;
      if (!lot || lot.voided) throw new AppError('REVERSAL_NOT_POSSIBLE', 'a lot of this return was voided');
      // Containers return to where they were taken from; a lot past validity meanwhile is caught by the next expiry run.
      const toExpired = a.source === 'lot_expired';
      await trx('deposit_lots').where({ county_id: countyId, sale_id: a.sale_id, line_no: a.line_no })
        .update(toExpired ? { expired: lot.expired + a.quantity } : { outstanding: lot.outstanding + a.quantity });
    }
    await voidHeldRefundsOfReturn(trx, countyId, returnId);
  }
}
