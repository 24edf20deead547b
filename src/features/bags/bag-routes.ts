// Collection bags of a shop: the POS terminal's bag screens (open, add containers, seal) and reads.
import { route, type HandlerContext, type RouteDef } from '../../http/route.js';
import { COUNTY_CODE, PAGE_QUERY, enumOf, obj, page, uuid } from '../../shared/schemas/builders.js';
import { BAG, BAG_CREATE, BAG_DETAIL, BAG_ITEMS_ADD, BAG_SEAL, BAG_STATES, MATERIALS } from '../../shared/schemas/custody-schemas.js';
import { requireCountyScope, requireTarget } from '../custody/custody-access.js';
import { BagService, bagShop } from './bag-service.js';

const BAG_PARAMS = obj({ countyId: COUNTY_CODE, bagId: uuid() });
const base = '/api/v1/counties/:countyId/bags';

/** Scope of a write to an existing bag: its county, then its shop. */
async function bagTarget(ctx: HandlerContext<{ countyId: string; bagId: string }>) {
  requireCountyScope(ctx.principal, ctx.params.countyId);
  return { shopId: await bagShop(ctx.deps.db.knex, ctx.params.countyId, ctx.params.bagId) };
}

export const bagRoutes: RouteDef[] = [
  route({
    method: 'post', path: base, tag: 'custody', auth: { permission: 'bags:write' },
    summary: 'Open a collection bag of one material at a shop (idempotent by the client id)',
    params: obj({ countyId: COUNTY_CODE }), body: BAG_CREATE,
    responses: { 201: { description: 'The open bag', schema: BAG }, 200: { description: 'A retry: the original answer', schema: BAG }, 422: { description: 'REFERENCE_NOT_FOUND' } },
    handler: async (ctx) => {
      await requireTarget(ctx, () => ({ shopId: ctx.body.shopId }));
      const { params, body, principal, deps } = ctx;
      return new BagService(deps).create(principal, params.countyId, body);
    },
  }),
  route({
    method: 'get', path: base, tag: 'custody', auth: { permission: 'custody:read' },
    summary: 'List bags (clerks: own shop; haulers and facilities: bags on their manifests)',
    params: obj({ countyId: COUNTY_CODE }),
    query: obj({ shopId: uuid(), state: enumOf(BAG_STATES), material: enumOf(MATERIALS), ...PAGE_QUERY }, ['shopId', 'state', 'material', 'limit', 'cursor']),
    responses: { 200: { description: 'A page of bags', schema: page(BAG) } },
    handler: async ({ params, query, principal, deps }) => ({ body: await new BagService(deps).list(principal, params.countyId, query) }),
  }),
  route({
    method: 'get', path: `${base}/:bagId`, tag: 'custody', auth: { permission: 'custody:read' },
    summary: 'One bag with its items and its custody events',
    params: BAG_PARAMS,
    responses: { 200: { description: 'The bag, its items and its custody events', schema: BAG_DETAIL }, 404: { description: 'NOT_FOUND' } },
    handler: async ({ params, principal, deps }) => ({ body: await new BagService(deps).get(principal, params.countyId, params.bagId) }),
  }),
  route({
    method: 'post', path: `${base}/:bagId/items`, tag: 'custody', auth: { permission: 'bags:write' },
    summary: 'Put returned containers into an open bag: counts per container type and scanned unit codes',
    description: 'Each unit code must have been accepted on return at the bag\'s shop and not be in another bag; per container type, the shop never bags more than it accepted on return.',
    params: BAG_PARAMS, body: BAG_ITEMS_ADD,
    responses: {
      200: { description: 'The bag after the addition', schema: BAG },
      409: { description: 'BAG_SEALED, UNIT_CODE_ALREADY_BAGGED, IDEMPOTENCY_CONFLICT' },
      422: { description: 'BAG_MATERIAL_MISMATCH, BAG_EXCEEDS_RETURNED, UNIT_CODE_NOT_RETURNED_HERE, UNIT_CODE_INVALID' },
    },
    handler: async (ctx) => {
      await requireTarget(ctx, bagTarget);
      const { params, body, principal, deps } = ctx;
      return new BagService(deps).addItems(principal, params.countyId, params.bagId, body);
    },
  }),
  route({
    method: 'post', path: `${base}/:bagId/seal`, tag: 'custody', auth: { permission: 'bags:write' },
    summary: 'Seal a bag with a numbered seal; from now on it cannot change',
    params: BAG_PARAMS, body: BAG_SEAL,
    responses: { 200: { description: 'The sealed bag', schema: BAG }, 409: { description: 'BAG_SEALED, SEAL_NO_DUPLICATE' }, 422: { description: 'BAG_EMPTY' } },
    handler: async (ctx) => {
      await requireTarget(ctx, bagTarget);
      const { params, body, principal, deps } = ctx;
      return new BagService(deps).seal(principal, params.countyId, params.bagId, body);
    },
  }),
];
