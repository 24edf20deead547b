// SQL of collection bags: the bag row (its state moves), its items (written once), and what the
// shop has returned and already bagged, which bounds what may go into a bag.
import type { Knex } from 'knex';

export interface BagRow {
  county_id: string; id: string; shop_id: string; material: string; state: string; seal_no: string | null;
  declared_quantity: number; expected_weight_g: number; shop_weight_g: number | null;
  holder_type: string; holder_id: string; manifest_id: string | null; inspection_id: string | null;
  measured_weight_g: number | null; counted_quantity: number | null; rejected_quantity: number;
  disposal_id: string | null; created_at: Date; sealed_at: Date | null;
}

export interface BagItemRow {
  item_no: number; container_type_id: string; code: string; unit_code: string | null; quantity: number; tare_weight_g: number;
}

export async function findBag(knex: Knex, countyId: string, id: string, forUpdate = false): Promise<BagRow | undefined> {
  const q = knex('custody_bags').where({ county_id: countyId, id });
  if (forUpdate) q.forUpdate();
  return (await q.first()) as BagRow | undefined;
}

export async function bagItems(knex: Knex, countyId: string, bagIds: string[]): Promise<Map<string, BagItemRow[]>> {
  const rows = bagIds.length === 0 ? [] : await knex('custody_bag_items as i')
    .join('container_types as c', function () { this.on('c.county_id', 'i.county_id').andOn('c.id', 'i.container_type_id'); })
    .where('i.county_id', countyId).whereIn('i.bag_id', bagIds).orderBy(['i.bag_id', 'i.item_no'])
    .select('i.bag_id', 'i.item_no', 'i.container_type_id', 'c.code', 'i.unit_code', 'i.quantity', 'i.tare_weight_g');
  const out = new Map<string, BagItemRow[]>();
  for (const r of rows as Array<BagItemRow & { bag_id: string }>) {
    const list = out.get(r.bag_id) ?? [];
    list.push(r);
    out.set(r.bag_id, list);
  }
  return out;
}

/** Accepted returned containers at a shop per container type (reversed returns excluded). */
export async function returnedAtShop(knex: Knex, countyId: string, shopId: string, containerTypeIds: string[]): Promise<Map<string, number>> {
  const rows = await knex('return_items as i')
    .join('returns as r', function () { this.on('r.county_id', 'i.county_id').andOn('r.id', 'i.return_id'); })
    .join('products as p', function () { this.on('p.county_id', 'i.county_id').andOn('p.id', 'i.product_id'); })
    .leftJoin('reversals as v', function () { this.on('v.county_id', 'r.county_id').andOn('v.target_id', 'r.id').andOnVal('v.target_type', 'return'); })
    .where({ 'i.county_id': countyId, 'r.shop_id': shopId }).whereNot('i.outcome', 'rejected').whereNull('v.id')
    .whereIn('p.container_type_id', containerTypeIds)
    .groupBy('p.container_type_id').select('p.container_type_id as ct', knex.raw('sum(i.quantity)::int as n'));
  return new Map((rows as Array<{ ct: string; n: number }>).map((r) => [r.ct, Number(r.n)]));
}

export async function baggedAtShop(knex: Knex, countyId: string, shopId: string, containerTypeIds: string[]): Promise<Map<string, number>> {
  const rows = await knex('custody_bag_items as i')
    .join('custody_bags as b', function () { this.on('b.county_id', 'i.county_id').andOn('b.id', 'i.bag_id'); })
    .where({ 'i.county_id': countyId, 'b.shop_id': shopId }).whereIn('i.container_type_id', containerTypeIds)
    .groupBy('i.container_type_id').select('i.container_type_id as ct', knex.raw('sum(i.quantity)::int as n'));
  return new Map((rows as Array<{ ct: string; n: number }>).map((r) => [r.ct, Number(r.n)]));
}

/** The container type of an accepted, unreversed return of this unit code at this shop. */
export async function returnedUnit(knex: Knex, countyId: string, shopId: string, unitCode: string): Promise<{ container_type_id: string } | undefined> {
  return (await knex('return_items as i')
    .join('returns as r', function () { this.on('r.county_id', 'i.county_id').andOn('r.id', 'i.return_id'); })
    .join('products as p', function () { this.on('p.county_id', 'i.county_id').andOn('p.id', 'i.product_id'); })
    .leftJoin('reversals as v', function () { this.on('v.county_id', 'r.county_id').andOn('v.target_id', 'r.id').andOnVal('v.target_type', 'return'); })
    .where({ 'i.county_id': countyId, 'r.shop_id': shopId, 'i.unit_code': unitCode }).whereNot('i.outcome', 'rejected').whereNull('v.id')
    .first('p.container_type_id')) as { container_type_id: string } | undefined;
}
