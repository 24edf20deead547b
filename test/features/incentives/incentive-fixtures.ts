// Buy-back and points data for the incentive tests, posted straight through the ledgers' own
// posting functions (postTransfers, postPoints) as returns will post them: the statements, the fund
// and the dashboard read these rows whoever wrote them.
import { farmerPointsAccount, pointsCountyAccount, postPoints } from '../../../src/features/points/points-store.js';
import { countyAccount, shopAccount } from '../../../src/features/ledger/accounts.js';
import { postTransfers } from '../../../src/features/ledger/ledger-store.js';
import { newClientId } from '../../../src/shared/client-id.js';
import type { TestContext } from '../../support/harness.js';
import { COUNTY, GLYPHOSATE } from '../ledger/ledger-fixtures.js';
import { ReturnService } from '../../../src/features/returns/return-service.js';
import type { Principal } from '../../../src/auth/permissions.js';
import { insertIncentiveRate, retireIncentiveRates, setCounty } from '../../support/incentives.js';

/**
 * A shop pays `amountFen` of buy-back out of the county incentive fund, as a return records it: the
 * county's one rate in force pays `amountFen` for a container, and a farmer no other call used returns
 * one container without a deposit at the shop (through the service POST /returns uses, as the shop's
 * clerk). ledger:check ties the fund to the buy-back of returns that stand, so buy-back is never posted
 * without its return. Answers the return (its items' incentive says what was paid, or why not).
 */
let buybackPhone = 0;
export async function postBuyback(t: TestContext, o: { shopId: string; amountFen: number; eventTime: string; countyId?: string }): Promise<Record<string, any>> {
  const countyId = o.countyId ?? COUNTY;
  await retireIncentiveRates(t.db.knex, countyId);
  await insertIncentiveRate(t.db.knex, countyId, { containerKind: 'any', buybackFen: o.amountFen, effectiveFrom: '2026-01-01' });
  await setCounty(t.db.knex, countyId, { incentive_household_buyback_cap_fen: null, incentive_household_points_cap_milli: null, incentive_shop_buyback_cap_fen: null });
  const clerk = { kind: 'user', role: 'clerk', username: 'test.buyback', userId: 'test-buyback', countyId, shopId: o.shopId } as unknown as Principal;
  const phone = `1748800${String(++buybackPhone).padStart(4, '0')}`;
  const res = await new ReturnService(t.deps).record(clerk, {
    id: newClientId(), countyId, shopId: o.shopId, eventTime: o.eventTime, returner: { phone, name: '回收测试' },
    items: [{ productId: GLYPHOSATE.id, quantity: 1, inspection: 'accepted' }],
  });
  await retireIncentiveRates(t.db.knex, countyId);
  return res.body as Record<string, any>;
}

/**
 * Buy-back money alone (transfer buyback_paid), without the return that would carry it: the dashboard
 * and doc tests pair it with incentiveItems below to build figures. ledger:check rightly flags such a
 * fund (it ties the fund to returns that stand), so tests that check the ledger use postBuyback.
 */
export async function postBuybackTransfer(t: TestContext, o: { shopId: string; amountFen: number; eventTime: string; countyId?: string }): Promise<void> {
  const countyId = o.countyId ?? COUNTY;
  const at = new Date(o.eventTime);
  await t.db.knex.transaction((trx) => postTransfers(trx, countyId, [{
    code: 'buyback_paid', debit: countyAccount(countyId, 'incentive_fund'), credit: shopAccount(countyId, o.shopId),
    amountFen: o.amountFen, clientId: newClientId(), refType: 'return', refId: newClientId(), shopId: o.shopId, eventTime: at, actor: 'test:buyback',
  }], at));
}

/** Points a farmer earned (`earned`: issued → farmer) or redeemed at a shop (`redeemed`: farmer → redeemed). */
export async function postFarmerPoints(t: TestContext, o: { farmerId: string; shopId: string; milli: number; code: 'earned' | 'redeemed'; eventTime: string; businessDay: string; countyId?: string }): Promise<void> {
  const countyId = o.countyId ?? COUNTY;
  const at = new Date(o.eventTime);
  const farmer = farmerPointsAccount(countyId, o.farmerId);
  const id = newClientId();
  await t.db.knex.transaction((trx) => postPoints(trx, countyId, [{
    code: o.code,
    debit: o.code === 'earned' ? pointsCountyAccount(countyId, 'issued') : farmer,
    credit: o.code === 'earned' ? farmer : pointsCountyAccount(countyId, 'redeemed'),
    amountMilli: o.milli, clientId: id, refType: o.code === 'earned' ? 'return' : 'redemption', refId: id,
    farmerId: o.farmerId, shopId: o.shopId, eventTime: at, businessDay: o.businessDay, actor: 'test:points',
  }], at));
}

/**
 * An accepted return of `quantity` containers with the incentive that applied, written as returns
 * record it (return_items.incentive, points_milli): for the dashboard's containers per incentive until
 * POST /returns applies incentive rates on this branch. The money and points are posted separately.
 */
export async function incentiveItems(t: TestContext, o: { shopId: string; farmerId: string; quantity: number; incentive: 'buyback' | 'points' | 'buyback_points'; refundFen: number; pointsMilli: number; eventTime: string; businessDay: string }): Promise<void> {
  const id = newClientId();
  await t.db.knex('returns').insert({ county_id: COUNTY, id, shop_id: o.shopId, farmer_id: o.farmerId, event_time: o.eventTime, business_day: o.businessDay, recorded_at: o.eventTime, actor: 'test:incentives', total_refund_fen: o.refundFen });
  await t.db.knex('return_items').insert({ county_id: COUNTY, return_id: id, item_no: 1, product_id: null, quantity: o.quantity, inspection: 'accepted', outcome: o.refundFen > 0 ? 'refunded' : 'accepted_no_refund', refund_fen: o.refundFen, incentive: o.incentive, points_milli: o.pointsMilli });
}
