// GET …/fraud-flags: possible fraud for county officials (farmers masked).
import { route, type RouteDef } from '../../http/route.js';
import { COUNTY_CODE, arr, date, obj } from '../../shared/schemas/builders.js';
import { businessDay } from '../deposit-schedules/deposit-schedule-entity.js';
import { fraudFlags } from './fraud-flag-service.js';

export const fraudFlagRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/counties/:countyId/fraud-flags', tag: 'ledger',
    auth: { permission: 'ledger:read' },
    summary: 'Returns above sales per shop or phone, heavy daily returners, other-county unit codes, deposit mismatches',
    params: obj({ countyId: COUNTY_CODE }),
    query: obj({ from: date('First business day (default: 30 days before to)'), to: date('Last business day (default: today)') }, ['from', 'to']),
    responses: { 200: { description: 'Flags', schema: obj({ items: arr({ type: 'object' }) }) } },
    handler: async ({ params, query, deps }) => {
      const now = deps.clock.now();
      const to = query.to ?? businessDay(now);
      const from = query.from ?? businessDay(new Date(Date.parse(`${to}T00:00:00Z`) - 30 * 86_400_000));
      return { body: { items: await fraudFlags(deps.db.knex, params.countyId, from, to) } };
    },
  }),
];
