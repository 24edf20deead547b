// County-level custody checks and the inspectors' export, plus every custody capability's routes,
// so the route list registers the whole chain of custody in one line.
import { requireTarget } from './custody-access.js';
import { route, type RouteDef } from '../../http/route.js';
import { AppError } from '../../http/errors.js';
import { COUNTY_CODE, date, enumOf, obj, uuid } from '../../shared/schemas/builders.js';
import { bagRoutes } from '../bags/bag-routes.js';
import { manifestRoutes } from '../manifests/manifest-routes.js';
import { receivingRoutes } from '../receiving/receiving-routes.js';
import { disposalRoutes } from '../disposal/disposal-routes.js';
import { verifyChain } from './hash-chain.js';
import { massBalance } from './mass-balance.js';
import { inspectorLedger, ledgerCsv, ledgerHtml } from './inspector-ledger.js';
import { BALANCE_REPORT, CHAIN_REPORT, INSPECTOR_LEDGER } from '../../shared/schemas/custody-schemas.js';
import { addYears, businessDay, DEFAULT_TIME_ZONE } from '../../shared/business-day.js';

const C_PARAMS = obj({ countyId: COUNTY_CODE });

export const custodyCheckRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/counties/:countyId/custody/verify', tag: 'custody', auth: { permission: 'custody:verify' },
    summary: 'Recompute the county\'s custody hash chain and name the first broken link',
    params: C_PARAMS,
    responses: { 200: { description: 'The chain\'s state: ok, events checked, the head hash, the first broken link or null', schema: CHAIN_REPORT } },
    handler: async ({ params, deps }) => ({ body: await verifyChain(deps.db.knex, params.countyId) }),
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/custody/balance', tag: 'custody', auth: { permission: 'custody:verify' },
    summary: 'Mass balance per material, in containers and kg: returned = at shops + in transit + at facilities + disposed + recorded discrepancies',
    params: C_PARAMS,
    responses: { 200: { description: 'Per material: counts, grams and kg at each stage, whether it holds; the problems found', schema: BALANCE_REPORT } },
    handler: async ({ params, deps }) => ({ body: await massBalance(deps.db.knex, params.countyId) }),
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/custody/ledger', tag: 'custody',
    auth: { permission: 'custody:export' },
    summary: 'The inspectors\' ledger (台账): per shop and period, quantities received, bags and their destinations (CSV, printable HTML or JSON)',
    description: 'Clerks and terminals get their own shop. The period defaults to the two years up to the county\'s today (its business day in the county\'s time zone).',
    params: C_PARAMS,
    query: obj({ shopId: uuid(), from: date(), to: date(), format: enumOf(['csv', 'html', 'json']) }, ['shopId', 'from', 'to', 'format']),
    responses: {
      200: {
        description: 'The ledger: CSV by default (UTF-8 with a BOM, for spreadsheets), a printable bilingual page with format=html, JSON with format=json',
        contentType: 'text/csv; charset=utf-8', schema: { type: 'string' },
        alternatives: [{ contentType: 'text/html; charset=utf-8' }, { contentType: 'application/json', schema: INSPECTOR_LEDGER }],
      },
    },
    handler: async (ctx) => {
      await requireTarget(ctx, () => (ctx.query.shopId ? { shopId: ctx.query.shopId } : {}));
      const { params, query, principal, deps } = ctx;
      const county = await deps.db.knex('counties').where({ id: params.countyId }).first('name_zh', 'timezone');
      const to = query.to ?? businessDay(deps.clock.now(), county?.timezone ?? DEFAULT_TIME_ZONE);
      const from = query.from ?? addYears(to, -2);
      if (from > to) throw new AppError('VALIDATION_FAILED', undefined, [{ field: '/query/from', code: 'order', message: 'from is after to' }]);
      const own = principal.role === 'clerk' || principal.role === 'terminal' ? principal.shopId : null;
      const shopIds = own ? [own] : query.shopId ? [query.shopId] : null;
      const shops = await inspectorLedger(deps.db.knex, { countyId: params.countyId, shopIds, from, to });
      const format = query.format ?? 'csv';
      if (format === 'json') return { body: { countyId: params.countyId, from, to, shops } };
      if (format === 'html') {
        return { contentType: 'text/html; charset=utf-8', body: ledgerHtml(county?.name_zh ?? params.countyId, from, to, shops) };
      }
      return {
        contentType: 'text/csv; charset=utf-8', body: ledgerCsv(shops),
        headers: { 'Content-Disposition': `attachment; filename="custody-ledger-${params.countyId}-${from}-${to}.csv"` },
      };
    },
  }),
];

export const custodyRoutes: RouteDef[] = [...bagRoutes, ...manifestRoutes, ...receivingRoutes, ...disposalRoutes, ...custodyCheckRoutes];
