// Settlement statements per shop and period, and the payments that close them.
import { route, type RouteDef } from '../../http/route.js';
import { aliasBody, deprecatedAlias, withoutFields } from '../../http/county-paths.js';
import { COUNTY_CODE, FEN, dateTime, nullable, obj, str, uuid } from '../../shared/schemas/builders.js';
import { SETTLEMENT_PERIOD, SETTLEMENT_REQUEST, STATEMENT } from '../../shared/schemas/ledger-schemas.js';
import { newClientId } from '../../shared/client-id.js';
import { countyOf } from '../ledger/county-policy.js';
import { SettlementService, settlementStatement } from './settlement-service.js';

const SETTLEMENT = obj({ settlementId: uuid(), countyId: str(), shopId: uuid(), period: str(), asOf: dateTime(), direction: str(), amountFen: FEN, method: str(), reference: nullable(str()), recordedAt: dateTime() });

const SETTLEMENT_RESPONSES: RouteDef['responses'] = {
  201: { description: 'The settlement', schema: SETTLEMENT },
  200: { description: 'A retry: the original answer', schema: SETTLEMENT },
  409: { description: 'NOTHING_TO_SETTLE, PERIOD_CLOSED, IDEMPOTENCY_CONFLICT' },
  410: { description: 'YEAR_ARCHIVED: the period is in a year the county has archived; details name the year and the command that restores it' },
  422: { description: 'SETTLEMENT_AMOUNT_MISMATCH, PERIOD_NOT_ENDED, INVALID_PERIOD' },
};

export const settlementRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/counties/:countyId/settlements/statements/:period', tag: 'settlements',
    auth: { permission: 'ledger:read' },
    summary: 'Settlement statement of every shop for a period (by event time, as known at asOf; late events shown)',
    params: obj({ countyId: COUNTY_CODE, period: SETTLEMENT_PERIOD }),
    query: obj({ asOf: dateTime('Cut-off by record time (default: now); the same cut-off always gives the same figures') }, ['asOf']),
    responses: { 200: { description: 'The statement', schema: STATEMENT }, 410: { description: 'YEAR_ARCHIVED: the period is in a year the county has archived (the live records would give a partial statement); details name the year and the command that restores it' }, 422: { description: 'INVALID_PERIOD' } },
    handler: async ({ params, query, deps }) => ({ body: await settlementStatement(deps.db.knex, params.countyId, params.period, query.asOf ? new Date(query.asOf) : deps.clock.now()) }),
  }),
  route({
    method: 'post', path: '/api/v1/counties/:countyId/settlements', tag: 'settlements',
    auth: { permission: 'settlements:write', target: (ctx) => ({ countyId: ctx.params.countyId }) },
    summary: 'Record a settlement payment between the scheme and a shop, closing its statement for the period',
    description: 'The county is the path’s.',
    params: obj({ countyId: COUNTY_CODE }),
    body: withoutFields(SETTLEMENT_REQUEST, 'countyId'),
    // 1 fen never matches a statement: in scope the answer is a 4xx about the amount, and nothing is written.
    scopeExample: ({ shopId }) => ({ body: { id: newClientId(), shopId, period: '2025-12', amountFen: 1, direction: 'from_shop', method: 'cash' } }),
    responses: SETTLEMENT_RESPONSES,
    handler: async ({ params, body, principal, deps }) => {
      const r = await new SettlementService(deps).pay(principal, aliasBody(principal, params.countyId, body));
      return { status: r.status, body: r.body };
    },
  }),
  deprecatedAlias(route({
    method: 'post', path: '/api/v1/settlements', tag: 'settlements',
    auth: { permission: 'settlements:write', target: (ctx) => ({ countyId: countyOf(ctx.principal, ctx.body.countyId) }) },
    summary: 'Record a settlement payment between the scheme and a shop, closing its statement for the period',
    body: SETTLEMENT_REQUEST,
    // 1 fen never matches a statement: in scope the answer is a 4xx about the amount, and nothing is written.
    scopeExample: ({ countyId, shopId }) => ({ body: { id: newClientId(), countyId, shopId, period: '2025-12', amountFen: 1, direction: 'from_shop', method: 'cash' } }),
    responses: SETTLEMENT_RESPONSES,
    handler: async ({ body, principal, deps }) => {
      const r = await new SettlementService(deps).pay(principal, body);
      return { status: r.status, body: r.body };
    },
  }), '/api/v1/counties/{countyId}/settlements'),
];
