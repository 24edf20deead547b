// GET a farmer's balance: what terminals show at the counter (and officials, without identity).
import { route, type RouteDef } from '../../http/route.js';
import { COUNTY_CODE, obj, uuid } from '../../shared/schemas/builders.js';
import { FARMER_BALANCE } from '../../shared/schemas/ledger-schemas.js';
import { farmerBalance } from './farmer-balance.js';

export const balanceRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/counties/:countyId/farmers/:farmerId/balance', tag: 'balances',
    auth: { permission: 'farmers:read' },
    summary: 'A farmer’s outstanding containers by product, refundable deposit, deposit refunds and buy-back this year',
    params: obj({ countyId: COUNTY_CODE, farmerId: uuid() }),
    responses: { 200: { description: 'The balance', schema: FARMER_BALANCE }, 404: { description: 'NOT_FOUND' } },
    handler: async ({ params, deps }) => ({ body: await farmerBalance(deps.db.knex, params.countyId, params.farmerId, deps.clock.now()) }),
  }),
];
