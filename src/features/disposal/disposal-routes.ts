// Disposal records that close bags.
import { route, type HandlerContext, type RouteDef } from '../../http/route.js';
import { COUNTY_CODE, obj } from '../../shared/schemas/builders.js';
import { DISPOSAL, DISPOSAL_CREATE } from '../../shared/schemas/custody-schemas.js';
import { requireCountyScope, requireTarget } from '../custody/custody-access.js';
import { findBag } from '../bags/bag-store.js';
import { DisposalService } from './disposal-service.js';

const bagsHolderScope = async (ctx: HandlerContext<{ countyId: string }, unknown, { bagIds: string[] }>) => {
  requireCountyScope(ctx.principal, ctx.params.countyId);
  const bag = await findBag(ctx.deps.db.knex, ctx.params.countyId, ctx.body.bagIds[0]!);
  return bag && bag.holder_type === 'facility' ? { facilityId: bag.holder_id } : {};
};

export const disposalRoutes: RouteDef[] = [
  route({
    method: 'post', path: '/api/v1/counties/:countyId/disposals', tag: 'custody',
    auth: { permission: 'disposal:write' },
    summary: 'Record the disposal of bags (method, facility licence, certificate number, date); closes them',
    params: obj({ countyId: COUNTY_CODE }), body: DISPOSAL_CREATE,
    responses: {
      201: { description: 'The disposal', schema: DISPOSAL }, 200: { description: 'A retry: the original answer', schema: DISPOSAL },
      409: { description: 'BAG_NOT_INSPECTED, BAG_WRONG_STATE, CERTIFICATE_DUPLICATE' }, 422: { description: 'DISPOSAL_LICENCE_MISMATCH, BAGS_NOT_AT_ONE_FACILITY, REFERENCE_NOT_FOUND' },
    },
    handler: async (ctx) => {
      await requireTarget(ctx, () => bagsHolderScope(ctx));
      const { params, body, principal, deps } = ctx;
      return new DisposalService(deps).record(principal, params.countyId, body);
    },
  }),
];
