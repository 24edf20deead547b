// Held refunds (DESIGN rule 13, docs/ledger.md "Codes nobody sold"): the county official's review
// queue, approval or decline, and the one payout an approval allows — in cash at any shop the farmer
// next visits, or by a mobile payment the official records. Every payout is a `held_refund_paid`
// transfer from the county's policy fund; the held refund's row lock and the unique payout per held
// refund make it exactly once.
import type { Knex } from 'knex';
import type { AppDeps } from '../../app-deps.js';
import { AppError } from '../../http/errors.js';
import { actorName } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/permissions.js';
import { maskPhone } from '../../shared/phone.js';
import { countyAccount, shopAccount, type AccountRef } from '../ledger/accounts.js';
import { checkEventTime, countyOf } from '../ledger/county-policy.js';
import { idempotentWrite, type WriteResult } from '../ledger/idempotency.js';
import { postTransfers } from '../ledger/ledger-store.js';
import { normalisedPhoneOrThrow } from '../farmers/farmer-entity.js';
import { requireRef } from '../reference/entity-rules.js';
import { enqueueHeldDecisionNotification } from '../sms/sms-notifications.js';
import { lockHeldRefund, setHeldState, type HeldRefundRow, type HeldState } from './held-refund-store.js';

export interface DecisionInput {
  id: string;
  decision: 'approve' | 'decline';
  reason?: string;
}

export interface ShopPayoutInput {
  id: string;
  countyId?: string;
  shopId: string;
  heldRefundId: string;
  phone: string;
  eventTime?: string;
}

export interface MobilePayoutInput {
  id: string;
  reference: string;
  paidAt?: string;
}

/** Why a held refund cannot be paid now, as the catalogue's code. */
function refusePayout(row: HeldRefundRow): never {
  if (row.state === 'paid') throw new AppError('HELD_REFUND_ALREADY_PAID', undefined, [{ field: '/body/heldRefundId', code: 'paid', message: `held refund ${row.id} was already paid` }]);
  throw new AppError('HELD_REFUND_NOT_APPROVED', undefined, [{ field: '/body/heldRefundId', code: row.state, message: `held refund ${row.id} is ${row.state}` }]);
}

function payoutView(p: Record<string, any>) {
  return {
    payoutId: p.id, heldRefundId: p.held_refund_id, method: p.method, reference: p.reference ?? null, shopId: p.shop_id ?? null,
    amountFen: Number(p.amount_fen), eventTime: new Date(p.event_time).toISOString(), recordedAt: new Date(p.recorded_at).toISOString(),
  };
}

export class HeldRefundService {
  constructor(private readonly deps: AppDeps) {}

  /** The review queue: who (masked), where, when, which code, and the phone's history. */
  async list(countyId: string, q: { state?: HeldState; limit: number; cursor?: string }): Promise<{ items: unknown[]; nextCursor: string | null }> {
    const knex = this.deps.db.knex;
    // The cursor is the last held refund of the previous page (its id): the next page starts after
    // its (recorded_at, id), compared in the database so no precision is lost on the way.
    if (q.cursor && !(await knex('held_refunds').where({ county_id: countyId, id: q.cursor }).first('id'))) {
      throw new AppError('VALIDATION_FAILED', undefined, [{ field: '/query/cursor', code: 'cursor', message: 'is not a cursor this server gave (pass back nextCursor unchanged)' }]);
    }
    const rows = (await knex.raw(`
      SELECT h.*, f.phone_e164, s.name AS shop_name, p.name AS product_name, r.return_no,
             d.decision, d.reason AS decision_reason, d.actor AS decided_by, d.decided_at,
             (SELECT count(*) FROM returns r2 WHERE r2.county_id = h.county_id AND r2.farmer_id = h.farmer_id AND r2.id <> h.return_id
                 AND NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = r2.county_id AND v.target_type = 'return' AND v.target_id = r2.id))::int AS other_returns,
             (SELECT count(*) FROM held_refunds h2 WHERE h2.county_id = h.county_id AND h2.farmer_id = h.farmer_id AND h2.id <> h.id)::int AS other_held,
             (SELECT count(*) FROM held_refunds h2 WHERE h2.county_id = h.county_id AND h2.farmer_id = h.farmer_id AND h2.state = 'declined')::int AS declined,
             (SELECT count(*) FROM held_refunds h2 WHERE h2.county_id = h.county_id AND h2.farmer_id = h.farmer_id AND h2.reason = 'likely_counterfeit')::int AS counterfeit
        FROM held_refunds h
        JOIN farmers f ON f.county_id = h.county_id AND f.id = h.farmer_id
        JOIN shops s ON s.county_id = h.county_id AND s.id = h.shop_id
        JOIN products p ON p.county_id = h.county_id AND p.id = h.product_id
        JOIN returns r ON r.county_id = h.county_id AND r.id = h.return_id
        LEFT JOIN held_refund_decisions d ON d.county_id = h.county_id AND d.held_refund_id = h.id
       WHERE h.county_id = ? ${q.state ? 'AND h.state = ?' : ''}
         ${q.cursor ? 'AND (h.recorded_at, h.id) > (SELECT c.recorded_at, c.id FROM held_refunds c WHERE c.county_id = h.county_id AND c.id = ?)' : ''}
       ORDER BY h.recorded_at, h.id LIMIT ?`, [countyId, ...(q.state ? [q.state] : []), ...(q.cursor ? [q.cursor] : []), q.limit + 1])).rows as Array<Record<string, any>>;
    const more = rows.length > q.limit;
    if (more) rows.pop();
    const payouts = rows.length
      ? ((await knex('held_refund_payouts').where({ county_id: countyId }).whereIn('held_refund_id', rows.map((r) => r.id))) as Array<Record<string, any>>)
      : [];
    const payoutOf = new Map(payouts.map((p) => [p.held_refund_id, payoutView(p)]));
    const items = rows.map((r) => ({
      heldRefundId: r.id, state: r.state, reason: r.reason, amountFen: Number(r.amount_fen), prepaidFen: Number(r.prepaid_fen),
      unitCode: r.unit_code, productId: r.product_id, productName: r.product_name,
      returnId: r.return_id, returnNo: `HS${countyId}-${String(r.return_no).padStart(8, '0')}`, itemNo: r.item_no,
      shopId: r.shop_id, shopName: r.shop_name, eventTime: new Date(r.event_time).toISOString(), recordedAt: new Date(r.recorded_at).toISOString(),
      returner: { farmerId: r.farmer_id, phoneMasked: maskPhone(r.phone_e164) },
      history: { otherReturns: r.other_returns, otherHeldRefunds: r.other_held, declined: r.declined, likelyCounterfeit: r.counterfeit },
      decision: r.decision ? { decision: r.decision, reason: r.decision_reason ?? null, decidedBy: r.decided_by, decidedAt: new Date(r.decided_at).toISOString() } : null,
      payout: payoutOf.get(r.id) ?? null,
    }));
    return { items, nextCursor: more ? (rows[rows.length - 1]!.id as string) : null };
  }

  /** Approve or decline (once). An approval of an item an offline till already paid settles that payment at once. */
  async decide(principal: Principal, countyId: string, heldRefundId: string, input: DecisionInput): Promise<WriteResult> {
    if (input.decision === 'decline' && !input.reason?.trim()) {
      throw new AppError('DECLINE_REASON_REQUIRED', undefined, [{ field: '/body/reason', code: 'required', message: 'say why the refund is declined' }]);
    }
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: input.id, operation: 'held_refund_decision', content: { ...input, heldRefundId } }, () => this.deps.clock.now(), async (trx) => {
      const now = this.deps.clock.now();
      const actor = actorName(principal);
      const row = await lockHeldRefund(trx, countyId, heldRefundId);
      if (row.state !== 'held') {
        throw new AppError('HELD_REFUND_ALREADY_DECIDED', undefined, [{ field: '/path/heldRefundId', code: row.state, message: `held refund ${row.id} is already ${row.state}` }]);
      }
      await trx('held_refund_decisions').insert({
        county_id: countyId, held_refund_id: row.id, client_id: input.id, decision: input.decision, reason: input.reason?.trim() ?? null, actor, decided_at: now,
      });
      let payout: Record<string, any> | null = null;
      let state: HeldState = input.decision === 'approve' ? 'approved' : 'declined';
      if (input.decision === 'approve' && row.prepaid_fen > 0) {
        // The till already paid this item (an offline return): that cash sits in refund_differences as
        // an over-payment to chase; the approval turns it into a policy refund instead of paying twice.
        payout = await this.pay(trx, row, { id: input.id, method: 'prepaid', reference: null, shopId: row.shop_id, amountFen: Math.min(row.prepaid_fen, row.amount_fen), eventTime: now, actor, now },
          countyAccount(countyId, 'refund_differences'));
        state = 'paid';
      }
      await setHeldState(trx, countyId, row.id, state);
      // The farmer's SMS, in this transaction: it exists exactly when the decision does.
      await enqueueHeldDecisionNotification(trx, { countyId, heldRefundId: row.id, event: 'decision', now });
      return {
        status: 201,
        body: { heldRefundId: row.id, state, decision: input.decision, reason: input.reason?.trim() ?? null, decidedAt: now.toISOString(), decidedBy: actor, payout },
      };
    });
  }

  /** Approved refunds not yet paid, for the phone standing at the counter (any shop of the county). */
  async payable(principal: Principal, bodyCountyId: string | undefined, phone: string): Promise<{ countyId: string; items: unknown[]; totalFen: number }> {
    const countyId = countyOf(principal, bodyCountyId);
    const phoneE164 = normalisedPhoneOrThrow(phone, '/body/phone');
    const rows = (await this.deps.db.knex('held_refunds as h')
      .join('farmers as f', function () { this.on('f.county_id', '=', 'h.county_id').andOn('f.id', '=', 'h.farmer_id'); })
      .join('products as p', function () { this.on('p.county_id', '=', 'h.county_id').andOn('p.id', '=', 'h.product_id'); })
      .join('shops as s', function () { this.on('s.county_id', '=', 'h.county_id').andOn('s.id', '=', 'h.shop_id'); })
      .where({ 'h.county_id': countyId, 'f.phone_e164': phoneE164, 'h.state': 'approved' })
      .orderBy([{ column: 'h.recorded_at' }, { column: 'h.id' }])
      .select('h.id', 'h.unit_code', 'h.amount_fen', 'h.event_time', 'h.shop_id', 's.name as shop_name', 'p.name as product_name')) as Array<Record<string, any>>;
    const items = rows.map((r) => ({
      heldRefundId: r.id, unitCode: r.unit_code, productName: r.product_name, amountFen: Number(r.amount_fen),
      returnedAt: new Date(r.event_time).toISOString(), returnedAtShopId: r.shop_id, returnedAtShopName: r.shop_name,
    }));
    return { countyId, items, totalFen: items.reduce((s, i) => s + i.amountFen, 0) };
  }

  /** The farmer is paid in cash at a shop (a payout made by the clerk or terminal). */
  async payAtShop(principal: Principal, input: ShopPayoutInput): Promise<WriteResult> {
    const countyId = countyOf(principal, input.countyId);
    const phoneE164 = normalisedPhoneOrThrow(input.phone, '/body/phone');
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: input.id, operation: 'held_refund_payout', content: input }, () => this.deps.clock.now(), async (trx) => {
      const now = this.deps.clock.now();
      const eventTime = input.eventTime ? new Date(input.eventTime) : now;
      checkEventTime(eventTime, now);
      await requireRef(trx, 'shops', countyId, input.shopId, 'shopId');
      const row = await lockHeldRefund(trx, countyId, input.heldRefundId);
      const farmer = await trx('farmers').where({ county_id: countyId, id: row.farmer_id }).first('phone_e164');
      if (farmer?.phone_e164 !== phoneE164) {
        throw new AppError('HELD_REFUND_PHONE_MISMATCH', undefined, [{ field: '/body/phone', code: 'mismatch', message: 'the held refund is owed to another phone number' }]);
      }
      if (row.state !== 'approved') refusePayout(row);
      const payout = await this.pay(trx, row, { id: input.id, method: 'cash', reference: null, shopId: input.shopId, amountFen: row.amount_fen, eventTime, actor: actorName(principal), now },
        shopAccount(countyId, input.shopId));
      await setHeldState(trx, countyId, row.id, 'paid');
      return { status: 201, body: payout };
    });
  }

  /** The county paid the farmer by mobile payment; the official records it with its reference. */
  async payByMobile(principal: Principal, countyId: string, heldRefundId: string, input: MobilePayoutInput): Promise<WriteResult> {
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: input.id, operation: 'held_refund_payout', content: { ...input, heldRefundId } }, () => this.deps.clock.now(), async (trx) => {
      const now = this.deps.clock.now();
      const eventTime = input.paidAt ? new Date(input.paidAt) : now;
      checkEventTime(eventTime, now);
      const row = await lockHeldRefund(trx, countyId, heldRefundId);
      if (row.state !== 'approved') refusePayout(row);
      const payout = await this.pay(trx, row, { id: input.id, method: 'mobile', reference: input.reference, shopId: null, amountFen: row.amount_fen, eventTime, actor: actorName(principal), now },
        countyAccount(countyId, 'settlements'));
      await setHeldState(trx, countyId, row.id, 'paid');
      await enqueueHeldDecisionNotification(trx, { countyId, heldRefundId: row.id, event: 'mobile_paid', now });
      return { status: 201, body: payout };
    });
  }

  /** Writes the payout row (unique per held refund: paid once, ever) and its transfer from the policy fund. */
  private async pay(trx: Knex.Transaction, row: HeldRefundRow,
    p: { id: string; method: 'cash' | 'mobile' | 'prepaid'; reference: string | null; shopId: string | null; amountFen: number; eventTime: Date; actor: string; now: Date },
    credit: AccountRef): Promise<Record<string, unknown>> {
    const [stored] = await trx('held_refund_payouts').insert({
      county_id: row.county_id, id: p.id, held_refund_id: row.id, method: p.method, reference: p.reference, shop_id: p.shopId,
      amount_fen: p.amountFen, event_time: p.eventTime, recorded_at: p.now, actor: p.actor,
    }).returning('*');
    await postTransfers(trx, row.county_id, [{
      code: 'held_refund_paid', debit: countyAccount(row.county_id, 'policy_refunds'), credit, amountFen: p.amountFen,
      clientId: p.id, refType: 'held_refund', refId: p.id, shopId: p.method === 'cash' ? p.shopId : null, eventTime: p.eventTime, actor: p.actor,
    }], p.now);
    return payoutView(stored);
  }
}
