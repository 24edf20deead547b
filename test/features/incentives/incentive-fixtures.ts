// Buy-back and points data for the incentive tests, posted straight through the ledgers' own
// posting functions (postTransfers, postPoints) as returns will post them: the statements, the fund
// and the dashboard read these rows whoever wrote them.
import { countyAccount, shopAccount } from '../../../src/features/ledger/accounts.js';
import { postTransfers, type TransferRow } from '../../../src/features/ledger/ledger-store.js';
import { farmerPointsAccount, pointsCountyAccount, postPoints } from '../../../src/features/points/points-store.js';
import { newClientId } from '../../../src/shared/client-id.js';
import type { TestContext } from '../../support/harness.js';
import { COUNTY } from '../ledger/ledger-fixtures.js';

/** A shop pays `amountFen` of buy-back out of the county incentive fund (transfer buyback_paid). */
export async function postBuyback(t: TestContext, o: { shopId: string; amountFen: number; eventTime: string; countyId?: string; refId?: string }): Promise<TransferRow[]> {
  const countyId = o.countyId ?? COUNTY;
  const at = new Date(o.eventTime);
  return t.db.knex.transaction((trx) => postTransfers(trx, countyId, [{
    code: 'buyback_paid', debit: countyAccount(countyId, 'incentive_fund'), credit: shopAccount(countyId, o.shopId),
    amountFen: o.amountFen, clientId: newClientId(), refType: 'return', refId: o.refId ?? newClientId(), shopId: o.shopId, eventTime: at, actor: 'test:buyback',
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
