// POS terminal enrolment and revocation.
import { route, type RouteDef } from '../../http/route.js';
import { actorName } from '../../auth/authenticate.js';
import { clientAddress } from '../../auth/throttle.js';
import { COUNTY_CODE, PAGE_QUERY, enumOf, int, nullable, obj, page, str, text, uuid } from '../../shared/schemas/builders.js';
import { TerminalService } from './terminal-service.js';

const TERMINAL = obj({
  id: uuid(), countyId: str(),
  terminalNo: int({ min: 1, description: 'Short number of the terminal, unique in its county and never reused (given at registration): receipts it prints carry it, e.g. XS20261130-T007-0001' }),
  shopId: uuid(), name: str({ examples: ['丰收农资店收银台1'] }),
  status: enumOf(['awaiting_enrolment', 'enrolled', 'revoked']),
  enrolmentExpiresAt: nullable(str({ format: 'date-time' })), enrolledAt: nullable(str({ format: 'date-time' })),
  revokedAt: nullable(str({ format: 'date-time' })), revokedReason: nullable(str()), lastSeenAt: nullable(str({ format: 'date-time' })),
});
const COUNTY_PARAMS = obj({ countyId: COUNTY_CODE });
const ITEM_PARAMS = obj({ countyId: COUNTY_CODE, id: uuid() });

export const terminalRoutes: RouteDef[] = [
  route({
    method: 'post', path: '/api/v1/counties/:countyId/terminals', tag: 'terminals',
    auth: { permission: 'terminals:manage' },
    summary: 'Register a POS terminal for a shop and issue its one-time enrolment code (valid 72 hours)',
    params: COUNTY_PARAMS,
    body: obj({ shopId: uuid(), name: { ...text(100), examples: ['丰收农资店收银台1'] } }),
    responses: { 201: { description: 'The terminal and its enrolment code, shown once', schema: obj({ terminal: TERMINAL, enrolmentCode: str() }) } },
    handler: async ({ params, body, principal, deps }) => ({ status: 201, body: await new TerminalService(deps).issue(params.countyId, body.shopId, body.name, actorName(principal)) }),
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/terminals', tag: 'terminals',
    auth: { permission: 'terminals:manage' },
    summary: 'List the POS terminals of a county', params: COUNTY_PARAMS,
    query: obj({ ...PAGE_QUERY }, ['limit', 'cursor']),
    responses: { 200: { description: 'A page of terminals', schema: page(TERMINAL) } },
    handler: async ({ params, query, deps }) => ({ body: await new TerminalService(deps).list(params.countyId, query.limit, query.cursor ?? null) }),
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/terminals/:id', tag: 'terminals',
    auth: { permission: 'terminals:manage' }, summary: 'One terminal', params: ITEM_PARAMS,
    responses: { 200: { description: 'The terminal', schema: TERMINAL }, 404: { description: 'NOT_FOUND' } },
    handler: async ({ params, deps }) => ({ body: await new TerminalService(deps).get(params.countyId, params.id) }),
  }),
  route({
    method: 'post', path: '/api/v1/counties/:countyId/terminals/:id/revoke', tag: 'terminals',
    auth: { permission: 'terminals:manage' },
    summary: 'Revoke a terminal: its credential stops working at once (records it already synced stay)',
    params: ITEM_PARAMS, body: obj({ reason: text(300) }),
    responses: { 200: { description: 'The revoked terminal', schema: TERMINAL }, 404: { description: 'NOT_FOUND' } },
    handler: async ({ params, body, deps }) => ({ body: await new TerminalService(deps).revoke(params.countyId, params.id, body.reason) }),
  }),
  route({
    method: 'post', path: '/api/v1/terminals/enrol', tag: 'terminals', auth: 'public',
    summary: 'A terminal trades its one-time enrolment code for its device credential (shown once)',
    body: obj({ enrolmentCode: str({ min: 12, max: 20 }) }),
    responses: {
      200: { description: 'Enrolled', schema: obj({ terminalId: uuid(), countyId: str(), shopId: uuid(), shopName: str(), credential: str() }) },
      401: { description: 'ENROLMENT_CODE_INVALID' },
      429: { description: 'RATE_LIMITED: too many wrong codes from this address or for this code; wait the seconds in Retry-After' },
    },
    handler: async ({ body, deps, req, log }) => ({ body: await new TerminalService(deps).enrol(body.enrolmentCode, clientAddress(req), log) }),
  }),
];
