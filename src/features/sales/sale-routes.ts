// POST /api/v1/counties/{countyId}/sales: a clerk or the shop's POS terminal records a sale with
// deposit (POST /api/v1/sales is its deprecated alias).
import { route, type RouteDef } from '../../http/route.js';
import { aliasBody, deprecatedAlias, withoutFields } from '../../http/county-paths.js';
import { SALE_BY_RECEIPT, SALE_RECEIPT, SALE_REQUEST } from '../../shared/schemas/ledger-schemas.js';
import { COUNTY_CODE, obj, str } from '../../shared/schemas/builders.js';
import { newClientId } from '../../shared/client-id.js';
import { SaleService } from './sale-service.js';

const SALE_RESPONSES: RouteDef['responses'] = {
  201: { description: 'The receipt', schema: SALE_RECEIPT },
  200: { description: 'A retry of a sale already recorded: the original receipt', schema: SALE_RECEIPT },
  409: { description: 'UNIT_CODE_ALREADY_SOLD, IDEMPOTENCY_CONFLICT' },
  422: { description: 'UNIT_CODE_INVALID, UNIT_CODE_PRODUCT_MISMATCH, PRODUCT_NOT_FOUND, NO_DEPOSIT_SCHEDULE, FARMER_NAME_REQUIRED, EVENT_TIME_IN_FUTURE, EVENT_TIME_TOO_OLD' },
};

export const saleRoutes: RouteDef[] = [
  route({
    method: 'post', path: '/api/v1/counties/:countyId/sales', tag: 'sales',
    auth: { permission: 'sales:write', target: (ctx) => ({ countyId: ctx.params.countyId, shopId: ctx.body.shopId }) },
    summary: 'Record a sale with deposit (idempotent by the client id)',
    description: 'The deposit per container comes from the schedule in force at eventTime; an offline terminal states depositChargedFen, which is recorded as paid and flagged when it differs. The county is the path’s.',
    params: obj({ countyId: COUNTY_CODE }),
    body: withoutFields(SALE_REQUEST, 'countyId'),
    scopeExample: ({ shopId }) => ({ body: {
      id: newClientId(), shopId, eventTime: '2026-03-01T02:00:00.000Z', purchaser: { phone: '17460009901', name: '范围' },
      lines: [{ productId: '00000000-0000-7000-8000-000000000000', quantity: 1 }],
    } }),
    responses: SALE_RESPONSES,
    handler: async ({ params, body, principal, deps }) => {
      const r = await new SaleService(deps).recordOnline(principal, aliasBody(principal, params.countyId, body));
      return { status: r.status, body: r.body };
    },
  }),
  deprecatedAlias(route({
    method: 'post', path: '/api/v1/sales', tag: 'sales',
    auth: { permission: 'sales:write', target: (ctx) => ({ countyId: ctx.body.countyId ?? ctx.principal.countyId ?? undefined, shopId: ctx.body.shopId }) },
    summary: 'Record a sale with deposit (idempotent by the client id)',
    description: 'The deposit per container comes from the schedule in force at eventTime; an offline terminal states depositChargedFen, which is recorded as paid and flagged when it differs.',
    body: SALE_REQUEST,
    // An unknown product: in scope the answer is 422 PRODUCT_NOT_FOUND, and nothing is written.
    scopeExample: ({ countyId, shopId }) => ({ body: {
      id: newClientId(), countyId, shopId, eventTime: '2026-03-01T02:00:00.000Z', purchaser: { phone: '17460009901', name: '范围' },
      lines: [{ productId: '00000000-0000-7000-8000-000000000000', quantity: 1 }],
    } }),
    responses: SALE_RESPONSES,
    handler: async ({ body, principal, deps }) => {
      const r = await new SaleService(deps).recordOnline(principal, body);
      return { status: r.status, body: r.body };
    },
  }), '/api/v1/counties/{countyId}/sales'),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/sale-receipts/:receiptNo', tag: 'sales',
    auth: { permission: 'returns:write' },
    summary: 'Open a sale from the farmer’s receipt: the number printed on it (and in its QR code), at any shop of the county',
    description: 'What was sold and what can still come back: each unit code’s state (outstanding = can come back) and the containers without a code still outstanding. Names and phones masked. Several sales only if two terminals printed the same number.',
    params: obj({ countyId: COUNTY_CODE, receiptNo: str({ min: 1, max: 40, pattern: '^[A-Za-z0-9-]+$', description: 'The printed receipt number, e.g. XS20261130-T007-0002' }) }),
    responses: { 200: { description: 'The sales with that receipt number (none: an empty list)', schema: SALE_BY_RECEIPT } },
    handler: async ({ params, deps }) => ({ body: { items: await new SaleService(deps).byReceipt(params.countyId, params.receiptNo) } }),
  }),
];
