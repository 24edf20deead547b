// GET …/fraud-flags: possible fraud for county officials (farmers masked).
import { route, type RouteDef } from '../../http/route.js';
import { COUNTY_CODE, arr, date, enumOf, int, obj, str, uuid } from '../../shared/schemas/builders.js';
import { addDays, businessDay } from '../../shared/business-day.js';
import { loadCountyPolicy } from '../ledger/county-policy.js';
import { fraudFlags } from './fraud-flag-service.js';

/** One flag: its kind and the fields that kind carries (the others are absent). Mirrors FraudFlag. */
const FRAUD_FLAG = obj({
  kind: enumOf(['returns_exceed_sales_shop', 'returns_exceed_purchases_phone', 'daily_returns_above_threshold', 'other_county_unit', 'deposit_mismatch', 'refund_mismatch', 'likely_counterfeit']),
  shopId: uuid(), farmerId: uuid(), phoneMasked: str({ description: 'The farmer\'s phone, masked' }), productId: uuid(),
  day: date(), unitCode: str(), returned: int({ description: 'Containers returned; in returns_exceed_* flags those paid buy-back or given points are left out (they carry no deposit), in daily_returns_above_threshold every container accepted counts' }), sold: int({ description: 'Containers sold with deposit' }),
  refId: str({ description: 'The sale or return behind the flag' }), threshold: int(),
  differenceFen: int({ description: 'refund_mismatch: what the clerk paid − what the scheme owed, fen (+: overpaid)' }),
  paidFen: int({ description: 'refund_mismatch: all cash the clerk paid (deposit refunds and buy-back), fen' }),
  owedFen: int({ description: 'refund_mismatch: all cash owed (deposit refunds, policy refunds and buy-back), fen' }),
  buybackFen: int({ description: 'refund_mismatch: the part of owedFen that is buy-back from the county incentive fund, fen' }),
  overpaidFen: int({ description: 'Paid beyond what was owed, fen (the county chases it back)' }),
  underpaidFen: int({ description: 'Paid short of what was owed, fen (owed to the farmer)' }),
}, ['shopId', 'farmerId', 'phoneMasked', 'productId', 'day', 'unitCode', 'returned', 'sold', 'refId', 'threshold', 'differenceFen', 'paidFen', 'owedFen', 'buybackFen', 'overpaidFen', 'underpaidFen']);

export const fraudFlagRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/counties/:countyId/fraud-flags', tag: 'ledger',
    auth: { permission: 'ledger:read' },
    summary: 'Returns above sales per shop or phone, heavy daily returners, other-county unit codes, deposit mismatches',
    params: obj({ countyId: COUNTY_CODE }),
    query: obj({ from: date('First business day (default: 30 days before to)'), to: date('Last business day (default: the county\'s today)') }, ['from', 'to']),
    responses: { 200: { description: 'Flags', schema: obj({ items: arr(FRAUD_FLAG) }) } },
    handler: async ({ params, query, deps }) => {
      const county = await loadCountyPolicy(deps.db.knex, params.countyId);
      const to = query.to ?? businessDay(deps.clock.now(), county.timezone);
      const from = query.from ?? addDays(to, -30);
      return { body: { items: await fraudFlags(deps.db.knex, params.countyId, from, to) } };
    },
  }),
];
