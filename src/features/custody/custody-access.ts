// Who sees which custody records. Officials see their county (province officials their province);
// a clerk or terminal sees its shop's bags and the manifests carrying them; a hauler the manifests
// it is a transporter on; a facility operator the manifests sent to its facility.
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { inScope, type Principal, type Target } from '../../auth/permissions.js';

export function requireCountyScope(principal: Principal, countyId: string): void {
  if (!inScope(principal, { countyId })) throw new AppError('OUT_OF_SCOPE');
}

/** Manifest ids visible to a party-bound principal, as a subquery; null = all of the county. */
export function visibleManifestIds(knex: Knex, principal: Principal, countyId: string): Knex.QueryBuilder | null {
  switch (principal.role) {
    case 'hauler':
      return knex('custody_manifest_transporters').where({ county_id: countyId, hauler_id: principal.haulerId }).select('manifest_id');
    case 'facility_operator':
      return knex('custody_manifests').where({ county_id: countyId, facility_id: principal.facilityId }).select('id');
    case 'clerk':
    case 'terminal':
      return knex('custody_manifest_bags').where({ county_id: countyId, shop_id: principal.shopId }).select('manifest_id');
    default:
      return null;
  }
}

/** Restricts a custody_bags query (aliased `b`) to what the principal may see. */
export function restrictBags(knex: Knex, q: Knex.QueryBuilder, principal: Principal, countyId: string): Knex.QueryBuilder {
  if (principal.role === 'clerk' || principal.role === 'terminal') return q.where('b.shop_id', principal.shopId as string);
  const manifests = visibleManifestIds(knex, principal, countyId);
  return manifests ? q.whereIn('b.manifest_id', manifests) : q;
}

export async function canSeeManifest(knex: Knex, principal: Principal, countyId: string, manifestId: string): Promise<boolean> {
  const sub = visibleManifestIds(knex, principal, countyId);
  if (!sub) return true;
  const hit = await knex.select(knex.raw('1 as hit')).from(sub.as('v')).where(principal.role === 'facility_operator' ? 'v.id' : 'v.manifest_id', manifestId).first();
  return hit !== undefined;
}

/**
 * The shop/hauler/facility scope of a custody write, checked in the handler: the router checks the
 * path's county before validating the body, and the record the write touches decides the rest.
 */
export async function requireTarget<C extends { principal: Principal; params: Record<string, string> }>(
  ctx: C, target: (ctx: C) => Target | Promise<Target>,
): Promise<void> {
  const t = await target(ctx);
  if (!inScope(ctx.principal, { countyId: ctx.params.countyId, ...t })) throw new AppError('OUT_OF_SCOPE');
}
