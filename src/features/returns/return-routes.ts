// POST /api/v1/counties/{countyId}/returns: containers handed in at any shop of the county, inspected
// and refunded (POST /api/v1/returns is its deprecated alias).
import { route, type RouteDef } from '../../http/route.js';
import { aliasBody, deprecatedAlias, withoutFields } from '../../http/county-paths.js';
import { COUNTY_CODE, obj } from '../../shared/schemas/builders.js';
import { RETURN_RECEIPT, RETURN_REQUEST } from '../../shared/schemas/ledger-schemas.js';
import { newClientId } from '../../shared/client-id.js';
import { ReturnService } from './return-service.js';

const RETURN_RESPONSES: RouteDef['responses'] = {
  201: { description: 'Each item’s outcome and the total to pay', schema: RETURN_RECEIPT },
  200: { description: 'A retry of a return already recorded: the original answer', schema: RETURN_RECEIPT },
  409: { description: 'IDEMPOTENCY_CONFLICT' },
  422: { description: 'REASON_CODE_REQUIRED, PAYMENT_REFERENCE_REQUIRED, UNIT_CODE_DUPLICATE, FARMER_NAME_REQUIRED, EVENT_TIME_IN_FUTURE, EVENT_TIME_TOO_OLD' },
};

export const returnRoutes: RouteDef[] = [
  route({
    method: 'post', path: '/api/v1/counties/:countyId/returns', tag: 'returns',
    auth: { permission: 'returns:write', target: (ctx) => ({ countyId: ctx.params.countyId, shopId: ctx.body.shopId }) },
    summary: 'Record returned containers, their inspection and the refund paid (idempotent by the client id)',
    description: 'A unit-coded container refunds the deposit paid for it, once ever; others are matched first-in-first-out against the returner’s deposits of that product, then the county policy applies. The county is the path’s.',
    params: obj({ countyId: COUNTY_CODE }),
    body: withoutFields(RETURN_REQUEST, 'countyId'),
    scopeExample: ({ shopId }) => ({ body: {
      id: newClientId(), shopId, eventTime: '2026-03-01T02:00:00.000Z',
      items: [{ scan: 'https://trace.example.cn/q?c=scope', inspection: 'rejected', reasonCode: 'damaged' }],
    } }),
    responses: RETURN_RESPONSES,
    handler: async ({ params, body, principal, deps }) => {
      const r = await new ReturnService(deps).recordOnline(principal, aliasBody(principal, params.countyId, body));
      return { status: r.status, body: r.body };
    },
  }),
  deprecatedAlias(route({
    method: 'post', path: '/api/v1/returns', tag: 'returns',
    auth: { permission: 'returns:write', target: (ctx) => ({ countyId: ctx.body.countyId ?? ctx.principal.countyId ?? undefined, shopId: ctx.body.shopId }) },
    summary: 'Record returned containers, their inspection and the refund paid (idempotent by the client id)',
    description: 'A unit-coded container refunds the deposit paid for it, once ever; others are matched first-in-first-out against the returner’s deposits of that product, then the county policy applies.',
    body: RETURN_REQUEST,
    // One container rejected on inspection: in scope it is recorded with no refund and no ledger entry.
    scopeExample: ({ countyId, shopId }) => ({ body: {
      id: newClientId(), countyId, shopId, eventTime: '2026-03-01T02:00:00.000Z',
      items: [{ scan: 'https://trace.example.cn/q?c=scope', inspection: 'rejected', reasonCode: 'damaged' }],
    } }),
    responses: RETURN_RESPONSES,
    handler: async ({ body, principal, deps }) => {
      const r = await new ReturnService(deps).recordOnline(principal, body);
      return { status: r.status, body: r.body };
    },
  }), '/api/v1/counties/{countyId}/returns'),
];
