// Pickup manifests: creation by a hauler, bags and transporters, both-sided signatures, reads.
import { route, type HandlerContext, type RouteDef } from '../../http/route.js';
import { COUNTY_CODE, PAGE_QUERY, enumOf, obj, page, refusedAs, str, uuid } from '../../shared/schemas/builders.js';
import { MANIFEST, MANIFEST_BAGS_ADD, MANIFEST_CREATE, MANIFEST_STATUSES, SIGNATURE_CREATE, TRANSPORTER_ADD } from '../../shared/schemas/custody-schemas.js';
import { requireCountyScope, requireTarget } from '../custody/custody-access.js';
import { loadManifest, ManifestService } from './manifest-service.js';

const M_PARAMS = obj({ countyId: COUNTY_CODE, manifestId: uuid() });
const base = '/api/v1/counties/:countyId/manifests';

/** Writes to a manifest's load are the business of a transporter company: the first (bags) or the last (next transporter). */
const transporterTarget = (which: 'first' | 'last') => async (ctx: HandlerContext<{ countyId: string; manifestId: string }>) => {
  requireCountyScope(ctx.principal, ctx.params.countyId);
  const m = await loadManifest(ctx.deps.db.knex, ctx.params.countyId, ctx.params.manifestId);
  return { haulerId: which === 'first' ? m.transporters[0] : m.transporters[m.transporters.length - 1] };
};

/** What normaliseTrackingNumber turns into 16 digits: digits with spaces or dashes anywhere between. */
export const TRACKING_NO_PATTERN = '^[\\s-]*(?:[0-9][\\s-]*){16}$';

export const manifestRoutes: RouteDef[] = [
  route({
    method: 'post', path: base, tag: 'custody', auth: { permission: 'manifests:write' },
    summary: 'Start a pickup manifest: first transporter and designated facility; the server gives the tracking number',
    params: obj({ countyId: COUNTY_CODE }), body: MANIFEST_CREATE,
    responses: { 201: { description: 'The manifest', schema: MANIFEST }, 200: { description: 'A retry: the original answer', schema: MANIFEST }, 422: { description: 'REFERENCE_NOT_FOUND' } },
    handler: async (ctx) => {
      await requireTarget(ctx, () => ({ haulerId: ctx.body.haulerId }));
      const { params, body, principal, deps } = ctx;
      return new ManifestService(deps).create(principal, params.countyId, body);
    },
  }),
  route({
    method: 'get', path: base, tag: 'custody', auth: { permission: 'custody:read' },
    summary: 'List manifests (haulers: those they carry; facilities: those sent to them; clerks: those with their bags)',
    params: obj({ countyId: COUNTY_CODE }),
    query: obj({ status: enumOf(MANIFEST_STATUSES), trackingNo: refusedAs('INVALID_TRACKING_NUMBER', str({ max: 40, pattern: TRACKING_NO_PATTERN, description: 'Find by tracking number: 16 digits (spaces and dashes between are ignored), county (6) + serial (8) + ISO 7064 MOD 97-10 check digits (2). Check digits that do not fit — which a pattern cannot state — are refused with 422 INVALID_TRACKING_NUMBER', examples: ['5114250000001290'] })), ...PAGE_QUERY }, ['status', 'trackingNo', 'limit', 'cursor']),
    responses: { 200: { description: 'A page of manifests', schema: page(MANIFEST) }, 422: { description: 'INVALID_TRACKING_NUMBER' } },
    handler: async ({ params, query, principal, deps }) => ({ body: await new ManifestService(deps).list(principal, params.countyId, query) }),
  }),
  route({
    method: 'get', path: `${base}/:manifestId`, tag: 'custody', auth: { permission: 'custody:read' },
    summary: 'One manifest: bags, transporters, signatures and who signs next',
    params: M_PARAMS,
    responses: { 200: { description: 'The manifest', schema: MANIFEST }, 404: { description: 'NOT_FOUND' } },
    handler: async ({ params, principal, deps }) => ({ body: await new ManifestService(deps).get(principal, params.countyId, params.manifestId) }),
  }),
  route({
    method: 'post', path: `${base}/:manifestId/bags`, tag: 'custody', auth: { permission: 'manifests:write' },
    summary: 'Put sealed bags on the manifest (before their shop signs the pickup)',
    params: M_PARAMS, body: MANIFEST_BAGS_ADD,
    responses: { 200: { description: 'The manifest', schema: MANIFEST }, 409: { description: 'BAG_ALREADY_ON_MANIFEST, BAG_WRONG_STATE, MANIFEST_LOCKED' } },
    handler: async (ctx) => {
      await requireTarget(ctx, transporterTarget('first'));
      const { params, body, principal, deps } = ctx;
      return new ManifestService(deps).addBags(principal, params.countyId, params.manifestId, body);
    },
  }),
  route({
    method: 'post', path: `${base}/:manifestId/transporters`, tag: 'custody', auth: { permission: 'manifests:write' },
    summary: 'Add the next transporter (by the current last transporter), before the delivery hand-over',
    params: M_PARAMS, body: TRANSPORTER_ADD,
    responses: { 200: { description: 'The manifest', schema: MANIFEST }, 409: { description: 'MANIFEST_LOCKED' } },
    handler: async (ctx) => {
      await requireTarget(ctx, transporterTarget('last'));
      const { params, body, principal, deps } = ctx;
      return new ManifestService(deps).addTransporter(principal, params.countyId, params.manifestId, body);
    },
  }),
  route({
    method: 'post', path: `${base}/:manifestId/signatures`, tag: 'custody', auth: { permission: 'custody:sign' },
    summary: 'Sign a hand-over as giver or receiver; custody passes when both have signed',
    description: 'Only the signature `nextSigner` names is accepted, by a user (or terminal) acting for that shop, hauler company or facility.',
    params: M_PARAMS, body: SIGNATURE_CREATE,
    responses: { 201: { description: 'The manifest after the signature', schema: MANIFEST }, 200: { description: 'A retry: the original answer', schema: MANIFEST }, 403: { description: 'SIGNER_NOT_PARTY' }, 409: { description: 'SIGNATURE_OUT_OF_ORDER' } },
    handler: async ({ params, body, principal, deps }) => new ManifestService(deps).sign(principal, params.countyId, params.manifestId, body),
  }),
];
