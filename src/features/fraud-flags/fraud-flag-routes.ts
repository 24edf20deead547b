// GET …/fraud-flags: possible fraud for county officials (farmers masked).
import { route, type RouteDef } from '../../http/route.js';
import { COUNTY_CODE, arr, date, obj } from '../../shared/schemas/builders.js';
import { addDays, businessDay } from '../../shared/business-day.js';
import { loadCountyPolicy } from '../ledger/county-policy.js';
import { fraudFlags } from './fraud-flag-service.js';

export const fraudFlagRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/counties/:countyId/fraud-flags', tag: 'ledger',
    auth: { permission: 'ledger:read' },
    summary: 'Returns above sales per shop or phone, heavy daily returners, other-county unit codes, deposit mismatches',
    params: obj({ countyId: COUNTY_CODE }),
    query: obj({ from: date('First business day (default: 30 days before to)'), to: date('Last business day (default: the county\'s today)') }, ['from', 'to']),
    responses: { 200: { description: 'Flags', schema: obj({ items: arr({ type: 'object' }) }) } },
    handler: async ({ params, query, deps }) => {
      const county = await loadCountyPolicy(deps.db.knex, params.countyId);
      const to = query.to ?? businessDay(deps.clock.now(), county.timezone);
      const from = query.from ?? addDays(to, -30);
      return { body: { items: await fraudFlags(deps.db.knex, params.countyId, from, to) } };
    },
  }),
];
