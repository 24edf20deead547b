// Buy-back for the incentive tests that need a fund paid out at given shops: always through a real
// return (ReturnService, what POST /returns runs), never a bare buyback_paid transfer — ledger:check
// ties the fund to the buy-back of returns that stand.
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
