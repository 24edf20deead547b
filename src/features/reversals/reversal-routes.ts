// POST /api/v1/counties/{countyId}/reversals: void a sale or return by new, opposite transfers
// (POST /api/v1/reversals is its deprecated alias).
import { createHash } from 'node:crypto';
import { route, type RouteDef } from '../../http/route.js';
import { aliasBody, deprecatedAlias, withoutFields } from '../../http/county-paths.js';
import { COUNTY_CODE, obj } from '../../shared/schemas/builders.js';
import { inScope } from '../../auth/permissions.js';
import { newClientId } from '../../shared/client-id.js';
import { REVERSAL_REQUEST, REVERSAL_RESULT } from '../../shared/schemas/ledger-schemas.js';
import { countyOf } from '../ledger/county-policy.js';
import { ReversalService, targetShop } from './reversal-service.js';

/**
 * The client id of the sale the authorisation-matrix test records at a shop so this route's scope
 * example has a record to name (a reversal's shop is the shop of what it reverses): a fixed UUIDv7
 * shape derived from the shop id.
 */
export function scopeExampleSaleId(shopId: string): string {
  const h = createHash('sha256').update(`agrireturn-scope-example:${shopId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const REVERSAL_SUMMARY = 'Reverse a sale or a return (clerks: own shop, records the server stored today; terminals: own records of the same journal day; otherwise a county official)';
const REVERSAL_RESPONSES: RouteDef['responses'] = {
  201: { description: 'The reversal and its transfers', schema: REVERSAL_RESULT },
  200: { description: 'A retry: the original answer', schema: REVERSAL_RESULT },
  403: { description: 'REVERSAL_WINDOW_CLOSED, OUT_OF_SCOPE' },
  404: { description: 'NOT_FOUND: no such sale or return in the county' },
  409: { description: 'ALREADY_REVERSED, REVERSAL_NOT_POSSIBLE, IDEMPOTENCY_CONFLICT' },
  422: { description: 'EVENT_TIME_IN_FUTURE, EVENT_TIME_TOO_OLD' },
};

export const reversalRoutes: RouteDef[] = [
  route({
    method: 'post', path: '/api/v1/counties/:countyId/reversals', tag: 'reversals',
    auth: {
      permission: 'reversals:write',
      // The path's county is checked before this runs; the shop is that of the record reversed.
      target: async (ctx) => ({ countyId: ctx.params.countyId, shopId: await targetShop(ctx.deps.db.knex, ctx.params.countyId, ctx.body.targetType, ctx.body.targetId) }),
    },
    summary: REVERSAL_SUMMARY,
    description: 'The county is the path’s.',
    params: obj({ countyId: COUNTY_CODE }),
    body: withoutFields(REVERSAL_REQUEST, 'countyId'),
    scopeExample: ({ shopId }) => ({ body: { id: newClientId(), targetType: 'sale', targetId: scopeExampleSaleId(shopId), reason: 'scope example' } }),
    responses: REVERSAL_RESPONSES,
    handler: async ({ params, body, principal, deps }) => {
      const r = await new ReversalService(deps).reverse(principal, aliasBody(principal, params.countyId, body));
      return { status: r.status, body: r.body };
    },
  }),
  deprecatedAlias(route({
    method: 'post', path: '/api/v1/reversals', tag: 'reversals',
    auth: {
      permission: 'reversals:write',
      target: async (ctx) => {
        const countyId = countyOf(ctx.principal, ctx.body.countyId);
        // Another county is refused before its records are looked up: no 404 tells what exists there.
        if (!inScope(ctx.principal, { countyId })) return { countyId };
        return { countyId, shopId: await targetShop(ctx.deps.db.knex, countyId, ctx.body.targetType, ctx.body.targetId) };
      },
    },
    summary: REVERSAL_SUMMARY,
    body: REVERSAL_REQUEST,
    scopeExample: ({ countyId, shopId }) => ({ body: { id: newClientId(), countyId, targetType: 'sale', targetId: scopeExampleSaleId(shopId), reason: 'scope example' } }),
    responses: REVERSAL_RESPONSES,
    handler: async ({ body, principal, deps }) => {
      const r = await new ReversalService(deps).reverse(principal, body);
      return { status: r.status, body: r.body };
    },
  }), '/api/v1/counties/{countyId}/reversals'),
];
