// POST /api/v1/reversals: void a sale or return by new, opposite transfers.
import { route, type RouteDef } from '../../http/route.js';
import { REVERSAL_REQUEST, REVERSAL_RESULT } from '../../shared/schemas/ledger-schemas.js';
import { countyOf } from '../ledger/county-policy.js';
import { ReversalService, targetShop } from './reversal-service.js';

export const reversalRoutes: RouteDef[] = [
  route({
    method: 'post', path: '/api/v1/reversals', tag: 'reversals',
    auth: {
      permission: 'reversals:write',
      target: async (ctx) => {
        const countyId = countyOf(ctx.principal, ctx.body.countyId);
        return { countyId, shopId: await targetShop(ctx.deps.db.knex, countyId, ctx.body.targetType, ctx.body.targetId) };
      },
    },
    summary: 'Reverse a sale or a return (clerks: own shop, same business day; later only a county official)',
    body: REVERSAL_REQUEST,
    responses: {
      201: { description: 'The reversal and its transfers', schema: REVERSAL_RESULT },
      200: { description: 'A retry: the original answer', schema: REVERSAL_RESULT },
      403: { description: 'REVERSAL_WINDOW_CLOSED, OUT_OF_SCOPE' },
      409: { description: 'ALREADY_REVERSED, REVERSAL_NOT_POSSIBLE, IDEMPOTENCY_CONFLICT' },
    },
    handler: async ({ body, principal, deps }) => {
      const r = await new ReversalService(deps).reverse(principal, body);
      return { status: r.status, body: r.body };
    },
  }),
];
