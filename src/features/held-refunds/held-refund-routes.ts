// Held refunds over HTTP: the county official's review queue and decisions, mobile payments the
// official records, and — at any shop of the county — the approved refunds a phone may collect.
import { route, type RouteDef } from '../../http/route.js';
import { aliasBody, deprecatedAlias, withoutFields } from '../../http/county-paths.js';
import { CLIENT_ID } from '../../shared/schemas/ledger-schemas.js';
import { COUNTY_CODE, FEN, arr, dateTime, enumOf, int, nullable, obj, str, text, uuid } from '../../shared/schemas/builders.js';
import { newClientId } from '../../shared/client-id.js';
import { countyOf } from '../ledger/county-policy.js';
import { HeldRefundService } from './held-refund-service.js';
import { accessReason, logAccess } from '../access-log/access-log.js';

const STATES = ['held', 'approved', 'declined', 'paid', 'voided'] as const;
const PHONE = str({ min: 5, max: 30, description: 'The farmer’s mobile number (sent in the body, never in a URL)' });

const PAYOUT = obj({
  payoutId: uuid(), heldRefundId: uuid(), method: enumOf(['cash', 'mobile', 'prepaid']), reference: nullable(str()), shopId: nullable(uuid()),
  amountFen: FEN, eventTime: dateTime(), recordedAt: dateTime(),
});

const HELD_REFUND = obj({
  heldRefundId: uuid(), state: enumOf(STATES), reason: enumOf(['unsold_code', 'likely_counterfeit']), amountFen: FEN, prepaidFen: FEN,
  unitCode: str(), productId: uuid(), productName: str(), returnId: uuid(), returnNo: str(), itemNo: int(),
  shopId: uuid(), shopName: str(), eventTime: dateTime(), recordedAt: dateTime(),
  returner: obj({ farmerId: uuid(), phoneMasked: str() }),
  history: obj({ otherReturns: int(), otherHeldRefunds: int(), declined: int(), likelyCounterfeit: int() }),
  decision: nullable(obj({ decision: str(), reason: nullable(str()), decidedBy: str(), decidedAt: dateTime() })),
  payout: nullable(PAYOUT),
});

const DECISION = obj({ heldRefundId: uuid(), state: enumOf(STATES), decision: str(), reason: nullable(str()), decidedAt: dateTime(), decidedBy: str(), payout: nullable(PAYOUT) });

const PAYABLE_REQUEST = obj({ countyId: COUNTY_CODE, shopId: uuid('The shop asking (the counter that will pay)'), phone: PHONE }, ['countyId']);
const PAYABLE = obj({ countyId: str(), totalFen: FEN, items: arr(obj({ heldRefundId: uuid(), unitCode: str(), productName: str(), amountFen: FEN, returnedAt: dateTime(), returnedAtShopId: uuid(), returnedAtShopName: str() })) });
const PAYOUT_REQUEST = obj({ id: CLIENT_ID, countyId: COUNTY_CODE, shopId: uuid(), heldRefundId: uuid(), phone: PHONE, eventTime: dateTime('When it was paid at the counter (default: now)') }, ['countyId', 'eventTime']);
const PAYOUT_RESPONSES: RouteDef['responses'] = {
  201: { description: 'The payout', schema: PAYOUT }, 200: { description: 'A retry: the original answer', schema: PAYOUT },
  404: { description: 'NOT_FOUND' }, 409: { description: 'HELD_REFUND_NOT_APPROVED, HELD_REFUND_ALREADY_PAID, IDEMPOTENCY_CONFLICT' }, 422: { description: 'HELD_REFUND_PHONE_MISMATCH' },
};

const ONE = obj({ countyId: COUNTY_CODE, heldRefundId: uuid() });

export const heldRefundRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/counties/:countyId/held-refunds', tag: 'held-refunds',
    auth: { permission: 'held_refunds:review' },
    summary: 'Refunds held for review: unit codes nobody sold and likely counterfeits (who, masked; where; when; which code; the phone’s history)',
    params: obj({ countyId: COUNTY_CODE }),
    description: 'A page of the queue, oldest first: pass `nextCursor` back as `cursor` (with the same `state`) for the next page.',
    query: obj({
      state: enumOf(STATES, 'Only this state (default: all)'),
      limit: int({ min: 1, max: 1000, description: 'Page size (default 200, as before paging)' }),
      cursor: { ...uuid(), description: 'The nextCursor of the previous page, exactly as the server returned it' },
    }, ['state', 'limit', 'cursor']),
    responses: { 200: { description: 'The queue, oldest first', schema: obj({ items: arr(HELD_REFUND), nextCursor: nullable(str({ description: 'Pass back as cursor for the next page; null on the last page' })) }) } },
    handler: async ({ params, query, principal, deps, req }) => {
      const page = await new HeldRefundService(deps).list(params.countyId, { state: query.state, limit: query.limit ?? 200, cursor: query.cursor });
      const items = page.items as Array<{ returner: { farmerId: string } }>;
      // The queue shows returners (masked): an official's read is logged, one row per farmer shown.
      const farmers = [...new Set(items.map((i) => i.returner.farmerId))];
      await logAccess(deps.db.knex, deps, principal, req, farmers.map((id) => ({ countyId: params.countyId, recordType: 'held_refund_queue' as const, recordId: id, action: 'GET /api/v1/counties/:countyId/held-refunds' })), accessReason(req));
      return { body: page };
    },
  }),
  route({
    method: 'post', path: '/api/v1/counties/:countyId/held-refunds/:heldRefundId/decision', tag: 'held-refunds',
    auth: { permission: 'held_refunds:review' },
    summary: 'Approve or decline a held refund (once; a decline needs a reason). Approval makes it payable at any shop or by mobile payment',
    params: ONE,
    body: obj({ id: CLIENT_ID, decision: enumOf(['approve', 'decline']), reason: text(300, 'Why: required to decline (422 DECLINE_REASON_REQUIRED without it)') }, ['reason']),
    responses: {
      201: { description: 'The decision', schema: DECISION }, 200: { description: 'A retry: the original answer', schema: DECISION },
      404: { description: 'NOT_FOUND' }, 409: { description: 'HELD_REFUND_ALREADY_DECIDED, IDEMPOTENCY_CONFLICT' }, 422: { description: 'DECLINE_REASON_REQUIRED' },
    },
    handler: async ({ params, body, principal, deps }) => {
      const r = await new HeldRefundService(deps).decide(principal, params.countyId, params.heldRefundId, body);
      return { status: r.status, body: r.body };
    },
  }),
  route({
    method: 'post', path: '/api/v1/counties/:countyId/held-refunds/:heldRefundId/mobile-payment', tag: 'held-refunds',
    auth: { permission: 'held_refunds:review' },
    summary: 'Record that the county paid an approved held refund by mobile payment (once, with its reference)',
    params: ONE,
    body: obj({ id: CLIENT_ID, reference: str({ min: 1, max: 100, description: 'The mobile payment’s transaction reference' }), paidAt: dateTime('When it was paid (default: now)') }, ['paidAt']),
    responses: {
      201: { description: 'The payout', schema: PAYOUT }, 200: { description: 'A retry: the original answer', schema: PAYOUT },
      404: { description: 'NOT_FOUND' }, 409: { description: 'HELD_REFUND_NOT_APPROVED, HELD_REFUND_ALREADY_PAID, IDEMPOTENCY_CONFLICT' },
    },
    handler: async ({ params, body, principal, deps }) => {
      const r = await new HeldRefundService(deps).payByMobile(principal, params.countyId, params.heldRefundId, body);
      return { status: r.status, body: r.body };
    },
  }),
  route({
    method: 'post', path: '/api/v1/counties/:countyId/held-refunds/payable', tag: 'held-refunds',
    auth: { permission: 'returns:write', target: (ctx) => ({ countyId: ctx.params.countyId, shopId: ctx.body.shopId }) },
    summary: 'Approved held refunds not yet paid for a phone, to pay at the counter (any shop of the county)',
    description: 'The county is the path’s.',
    params: obj({ countyId: COUNTY_CODE }),
    body: withoutFields(PAYABLE_REQUEST, 'countyId'),
    scopeExample: ({ shopId }) => ({ body: { shopId, phone: '17460009903' } }),
    responses: { 200: { description: 'What the counter may pay now', schema: PAYABLE } },
    handler: async ({ params, body, principal, deps }) => ({ body: await new HeldRefundService(deps).payable(principal, params.countyId, body.phone) }),
  }),
  deprecatedAlias(route({
    method: 'post', path: '/api/v1/held-refunds/payable', tag: 'held-refunds',
    auth: { permission: 'returns:write', target: (ctx) => ({ countyId: countyOf(ctx.principal, ctx.body.countyId), shopId: ctx.body.shopId }) },
    summary: 'Approved held refunds not yet paid for a phone, to pay at the counter (any shop of the county)',
    body: PAYABLE_REQUEST,
    scopeExample: ({ countyId, shopId }) => ({ body: { countyId, shopId, phone: '17460009903' } }),
    responses: { 200: { description: 'What the counter may pay now', schema: PAYABLE } },
    handler: async ({ body, principal, deps }) => ({ body: await new HeldRefundService(deps).payable(principal, body.countyId, body.phone) }),
  }), '/api/v1/counties/{countyId}/held-refunds/payable'),
  route({
    method: 'post', path: '/api/v1/counties/:countyId/held-refund-payouts', tag: 'held-refunds',
    auth: { permission: 'returns:write', target: (ctx) => ({ countyId: ctx.params.countyId, shopId: ctx.body.shopId }) },
    summary: 'Pay an approved held refund in cash at this shop (idempotent by the client id; paid once, ever)',
    description: 'The county is the path’s.',
    params: obj({ countyId: COUNTY_CODE }),
    body: withoutFields(PAYOUT_REQUEST, 'countyId'),
    // No held refund has this id: in scope the answer is 404 NOT_FOUND and nothing is written.
    scopeExample: ({ shopId }) => ({ body: { id: newClientId(), shopId, heldRefundId: newClientId(), phone: '17460009903' } }),
    responses: PAYOUT_RESPONSES,
    handler: async ({ params, body, principal, deps }) => {
      const r = await new HeldRefundService(deps).payAtShop(principal, aliasBody(principal, params.countyId, body));
      return { status: r.status, body: r.body };
    },
  }),
  deprecatedAlias(route({
    method: 'post', path: '/api/v1/held-refund-payouts', tag: 'held-refunds',
    auth: { permission: 'returns:write', target: (ctx) => ({ countyId: countyOf(ctx.principal, ctx.body.countyId), shopId: ctx.body.shopId }) },
    summary: 'Pay an approved held refund in cash at this shop (idempotent by the client id; paid once, ever)',
    body: PAYOUT_REQUEST,
    // No held refund has this id: in scope the answer is 404 NOT_FOUND and nothing is written.
    scopeExample: ({ countyId, shopId }) => ({ body: { id: newClientId(), countyId, shopId, heldRefundId: newClientId(), phone: '17460009903' } }),
    responses: PAYOUT_RESPONSES,
    handler: async ({ body, principal, deps }) => {
      const r = await new HeldRefundService(deps).payAtShop(principal, body);
      return { status: r.status, body: r.body };
    },
  }), '/api/v1/counties/{countyId}/held-refund-payouts'),
];
