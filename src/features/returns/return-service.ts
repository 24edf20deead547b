// Returns and refunds (DESIGN rules 3–6): each item is accepted or rejected on inspection; an
// accepted unit-coded container refunds the deposit actually paid for it, once ever, to the bearer;
// containers without a unit code are matched first-in-first-out against the returner's outstanding
// deposits of that product, then the county's policy decides (the rules: return-rules.ts, shared with
// the set-based run of a sync batch, return-run.ts). Locks: unit codes (in code order), then lots
// (in key order), then ledger accounts (in id order), so concurrent writers never deadlock.
import type { Knex } from 'knex';
import type { AppDeps } from '../../app-deps.js';
import { actorName } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/permissions.js';
import { newId } from '../../shared/client-id.js';
import { depositInForce } from '../deposit-schedules/deposit-schedule-entity.js';
import { businessDay } from '../../shared/business-day.js';
import { findOrRegisterFarmer, type FarmerRef } from '../farmers/farmer-register.js';
import { productsForRegistrationPrefix } from '../products/product-lookup.js';
import { requireRef } from '../reference/entity-rules.js';
import { checkEventTimeBounds, countyOf, loadCountyPolicy } from '../ledger/county-policy.js';
import { bookingFor } from '../periods/booking.js';
import { idempotentWrite, type WriteResult } from '../ledger/idempotency.js';
import { runApplier, writeGroup } from '../ledger/group-commit.js';
import { applyReturnRun } from './return-run.js';
import { enqueueHeldRefundNotification, enqueueRefundNotification } from '../sms/sms-notifications.js';
import { absentFromRegistry } from '../code-registry/registry-store.js';
import { insertHeldRefunds } from '../held-refunds/held-refund-store.js';
import { SaleStore } from '../sales/sale-store.js';
import { ReturnStore } from './return-store.js';
import { composeReturn, incentiveLockKey, planReturn, validateShape, type ReturnFacts, type ReturnInput } from './return-rules.js';
import { farmerPointsMilli, postPoints } from '../points/points-store.js';

export { returnNumber, type AllocationSource, type ReturnInput, type ReturnItemInput } from './return-rules.js';

/** The questions of a single return answered by the database, a query (and lock) each, in the transaction. */
function databaseFacts(trx: Knex.Transaction, countyId: string, store: ReturnStore): ReturnFacts {
  return {
    product: async (by) => {
      const { byId, byGtin } = await new SaleStore(trx).products(countyId, [by]);
      return (by.productId !== undefined ? byId.get(by.productId) : byGtin.get(by.gtin!)) ?? null;
    },
    lockUnits: (codes) => store.lockUnits(countyId, codes),
    absentFromRegistry: (productId, code) => absentFromRegistry(trx, countyId, productId, code),
    productsForPrefix: (prefix) => productsForRegistrationPrefix(trx, countyId, prefix),
    soldInOtherCounty: async (code) => (await store.soldInOtherCounty(countyId, code)) !== null,
    lockNeverSold: (code) => store.advisoryLock(`unit:${countyId}:${code}`),
    codeAlreadyReturned: (code) => store.codeAlreadyReturned(countyId, code),
    depositInForce: (containerTypeId, day) => depositInForce(trx, countyId, containerTypeId, day),
    lockLots: (farmerId, productIds) => store.lockLots(countyId, farmerId, productIds),
    policyRefundedOn: async (day, who) => {
      await store.advisoryLock(policyLockKey(countyId, who, day));
      return store.policyRefundedOn(countyId, day, who);
    },
    incentiveRate: (containerTypeId, day) => store.incentiveRate(countyId, containerTypeId, day),
    incentiveGiven: async (year, who) => {
      await store.advisoryLock(incentiveLockKey(countyId, { ...who, year }));
      return store.incentiveGivenInYear(countyId, year, who);
    },
    incentiveFundLeft: async () => {
      await store.advisoryLock(incentiveLockKey(countyId, 'fund'));
      return store.incentiveFundLeft(countyId);
    },
    codeEarnedPoints: (code) => store.codeEarnedPoints(countyId, code),
  };
}

/** The advisory lock key of the untracked policy's daily limit (a returner's, or a shop's for returns without one). */
export function policyLockKey(countyId: string, who: { farmerId: string } | { shopId: string }, day: string): string {
  return `policy:${countyId}:${'farmerId' in who ? who.farmerId : who.shopId}:${day}`;
}

/** How a group of online returns is applied: one set-based run, as a sync batch's returns. */
const RETURN_GROUP = runApplier<ReturnInput>((trx, now, items) => applyReturnRun(trx, now, items));

export class ReturnService {
  constructor(private readonly deps: AppDeps) {}

  /** A return applied in a transaction of its own (the sync path). */
  async record(principal: Principal, input: ReturnInput): Promise<WriteResult> {
    const countyId = countyOf(principal, input.countyId);
    validateShape(input);
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: input.id, operation: 'return', content: input }, () => this.deps.clock.now(),
      (trx) => this.write(trx, countyId, principal, input));
  }

  /** POST /returns: group commit with the county's other returns of the same few milliseconds (ledger/group-commit.ts). */
  async recordOnline(principal: Principal, input: ReturnInput): Promise<WriteResult> {
    const countyId = countyOf(principal, input.countyId);
    validateShape(input);
    // The group is ONE set-based return run (return-run.ts), the path sync batches take.
    return writeGroup(this.deps, 'return', RETURN_GROUP).submit(countyId, {
      principal, input, key: { countyId, clientId: input.id, operation: 'return', content: input }, now: () => this.deps.clock.now(),
      work: (trx) => this.write(trx, countyId, principal, input),
    });
  }

  private async write(trx: Knex.Transaction, countyId: string, principal: Principal, input: ReturnInput): Promise<WriteResult> {
    const now = this.deps.clock.now();
    const eventTime = new Date(input.eventTime);
    const county = await loadCountyPolicy(trx, countyId);
    checkEventTimeBounds(eventTime, now, county, principal);
    await requireRef(trx, 'shops', countyId, input.shopId, 'shopId');
    const actor = actorName(principal);
    const returner: FarmerRef | null = input.returner ? await findOrRegisterFarmer(trx, countyId, input.returner, '/body/returner', actor) : null;
    const day = businessDay(eventTime, county.timezone);
    const store = new ReturnStore(trx);

    const planned = await planReturn(input, { county, shopId: input.shopId, day, returner, newId }, databaseFacts(trx, countyId, store));
    for (const lot of planned.changedLots) await store.updateLot(lot);
    for (const [unit, state] of planned.unitStates) await store.setUnitState(countyId, unit, state);

    // Write the return and post the refunds.
    const booking = await bookingFor(trx, countyId, eventTime, county.timezone);
    const r = composeReturn(planned.plans, { countyId, input, actor, eventTime, day, now, booking, returner });
    const returnNo = await store.insertAll(r.returnRow, r.itemRows, r.allocationRows, r.refundRow);
    await insertHeldRefunds(trx, r.heldRows as never);
    // Points earned, in the same transaction (the points accounts locked before the ledger's).
    await postPoints(trx, countyId, r.pointsTransfers, now);
    const pointsBalance = returner ? await farmerPointsMilli(trx, countyId, returner.id) : null;
    // Posted last, after the answer is stored, so the accounts stay locked for as little as possible
    // (in a group commit: once for the whole group).
    const postings = { countyId, recordedAt: now, transfers: r.transfers };
    // The farmer's SMS is queued in the same transaction, so it exists exactly when the refund does.
    const afterStore = () => enqueueRefundNotification(trx, { countyId, returnId: input.id, now })
      .then(() => enqueueHeldRefundNotification(trx, { countyId, returnId: input.id, now }))
      .then(() => undefined);
    return { status: 201, postings, afterStore, body: r.body(returnNo, pointsBalance) };
  }
}
