// Receiving inspections at the facility and their corrections.
import { route, type HandlerContext, type RouteDef } from '../../http/route.js';
import { AppError } from '../../http/errors.js';
import { COUNTY_CODE, arr, obj, uuid } from '../../shared/schemas/builders.js';
import { CORRECTION_CREATE, INSPECTION, RECEIVING_CREATE } from '../../shared/schemas/custody-schemas.js';
import { requireCountyScope, requireTarget } from '../custody/custody-access.js';
import { findBag } from '../bags/bag-store.js';
import { loadManifest } from '../manifests/manifest-service.js';
import { ReceivingService } from './receiving-service.js';

const manifestFacilityScope = async (ctx: HandlerContext<{ countyId: string; manifestId: string }>) => {
  requireCountyScope(ctx.principal, ctx.params.countyId);
  return { facilityId: (await loadManifest(ctx.deps.db.knex, ctx.params.countyId, ctx.params.manifestId)).row.facility_id };
};

const bagHolderScope = async (ctx: HandlerContext<{ countyId: string; bagId: string }>) => {
  requireCountyScope(ctx.principal, ctx.params.countyId);
  const bag = await findBag(ctx.deps.db.knex, ctx.params.countyId, ctx.params.bagId);
  if (!bag) throw new AppError('NOT_FOUND', 'No such bag');
  if (bag.holder_type !== 'facility') throw new AppError('BAG_NOT_INSPECTED');
  return { facilityId: bag.holder_id };
};

export const receivingRoutes: RouteDef[] = [
  route({
    method: 'post', path: '/api/v1/counties/:countyId/manifests/:manifestId/inspections', tag: 'custody',
    auth: { permission: 'receiving:write' },
    summary: 'Weigh and inspect delivered bags: discrepancies typed with a comment; full or partial rejection',
    description: 'Required discrepancies follow from the numbers: weight beyond the county\'s weight_tolerance_pct, a broken or different seal, a count that differs, a missing bag. A rejection needs at least one discrepancy.',
    params: obj({ countyId: COUNTY_CODE, manifestId: uuid() }), body: RECEIVING_CREATE,
    responses: {
      201: { description: 'The inspections recorded', schema: obj({ manifestId: uuid(), inspections: arr(INSPECTION) }) },
      409: { description: 'MANIFEST_NOT_DELIVERED, BAG_ALREADY_INSPECTED' },
      422: { description: 'DISCREPANCY_REQUIRED, BAG_NOT_ON_MANIFEST, VALIDATION_FAILED' },
    },
    handler: async (ctx) => {
      await requireTarget(ctx, () => manifestFacilityScope(ctx));
      const { params, body, principal, deps } = ctx;
      return new ReceivingService(deps).receive(principal, params.countyId, params.manifestId, body);
    },
  }),
  route({
    method: 'post', path: '/api/v1/counties/:countyId/bags/:bagId/corrections', tag: 'custody',
    auth: { permission: 'receiving:write' },
    summary: 'Correct a bag\'s inspection: a new inspection that supersedes the last one (nothing is overwritten)',
    params: obj({ countyId: COUNTY_CODE, bagId: uuid() }), body: CORRECTION_CREATE,
    responses: { 201: { description: 'The new inspection', schema: INSPECTION }, 409: { description: 'BAG_NOT_INSPECTED, BAG_WRONG_STATE' }, 422: { description: 'DISCREPANCY_REQUIRED' } },
    handler: async (ctx) => {
      await requireTarget(ctx, () => bagHolderScope(ctx));
      const { params, body, principal, deps } = ctx;
      return new ReceivingService(deps).correct(principal, params.countyId, params.bagId, body);
    },
  }),
];
