// Mass balance per county and material (DESIGN rule 8), in containers and grams:
//   returned = at shops (not yet bagged + in open/sealed bags) + in transit + at facilities + disposed
//              + differences explained by recorded discrepancies (missing bags, rejections, count
//              differences) — with nothing left unexplained.
// "Returned" comes from the accepted, unreversed return items; everything else from the bags. Grams:
// containers × tare weight until a bag is weighed, the measured weight after; a weight difference is
// explained when within the county's tolerance or recorded as a weight discrepancy.
import type { Knex } from 'knex';
import { weightBeyondTolerance } from '../receiving/receiving-service.js';

export interface MaterialBalance {
  material: string;
  counts: { returned: number; notBagged: number; inBagsAtShops: number; inTransit: number; atFacilities: number; disposed: number; explainedByDiscrepancies: number; unexplained: number };
  grams: { returned: number; notBagged: number; inBagsAtShops: number; inTransit: number; atFacilities: number; disposed: number; explainedByDiscrepancies: number; withinTolerance: number; unexplained: number };
  kg: { returned: number; atShops: number; inTransit: number; atFacilities: number; disposed: number; unexplained: number };
  holds: boolean;
}

export interface BalanceProblem { material: string; message: string; bagId?: string; shopId?: string }

export interface BalanceReport { countyId: string; ok: boolean; tolerancePct: number; materials: MaterialBalance[]; problems: BalanceProblem[] }

const kg = (g: number) => Math.round(g) / 1000;

export async function massBalance(knex: Knex, countyId: string): Promise<BalanceReport> {
  const county = await knex('counties').where({ id: countyId }).first('weight_tolerance_pct');
  const tol = Number(county?.weight_tolerance_pct ?? 10);
  const returned = (await knex('return_items as i')
    .join('returns as r', function () { this.on('r.county_id', 'i.county_id').andOn('r.id', 'i.return_id'); })
    .join('products as p', function () { this.on('p.county_id', 'i.county_id').andOn('p.id', 'i.product_id'); })
    .join('container_types as c', function () { this.on('c.county_id', 'p.county_id').andOn('c.id', 'p.container_type_id'); })
    .leftJoin('reversals as v', function () { this.on('v.county_id', 'r.county_id').andOn('v.target_id', 'r.id').andOnVal('v.target_type', 'return'); })
    .where('i.county_id', countyId).whereNot('i.outcome', 'rejected').whereNull('v.id')
    .groupBy('r.shop_id', 'c.id', 'c.material', 'c.tare_weight_g')
    .select('r.shop_id', 'c.id as ct', 'c.material', 'c.tare_weight_g', knex.raw('sum(i.quantity)::int as n'))) as Array<{ shop_id: string; ct: string; material: string; tare_weight_g: number; n: number }>;
  const bagged = (await knex('custody_bag_items as i')
    .join('custody_bags as b', function () { this.on('b.county_id', 'i.county_id').andOn('b.id', 'i.bag_id'); })
    .where('i.county_id', countyId).groupBy('b.shop_id', 'i.container_type_id')
    .select('b.shop_id', 'i.container_type_id as ct', knex.raw('sum(i.quantity)::int as n'), knex.raw('sum(i.quantity * i.tare_weight_g)::int as g'))) as Array<{ shop_id: string; ct: string; n: number; g: number }>;
  const bags = (await knex('custody_bags').where({ county_id: countyId })) as Array<{ id: string; material: string; state: string; declared_quantity: number; expected_weight_g: number; measured_weight_g: number | null; counted_quantity: number | null; rejected_quantity: number; inspection_id: string | null }>;
  const discrepancies = (await knex('custody_discrepancies as d')
    .join('custody_bags as b', function () { this.on('b.county_id', 'd.county_id').andOn('b.inspection_id', 'd.inspection_id'); })
    .where('d.county_id', countyId).select('d.bag_id', 'd.type', 'd.expected_value', 'd.actual_value')) as Array<{ bag_id: string; type: string; expected_value: number | null; actual_value: number | null }>;

  const problems: BalanceProblem[] = [];
  const mats = new Map<string, MaterialBalance>();
  const get = (material: string) => {
    let m = mats.get(material);
    if (!m) {
      m = { material, counts: { returned: 0, notBagged: 0, inBagsAtShops: 0, inTransit: 0, atFacilities: 0, disposed: 0, explainedByDiscrepancies: 0, unexplained: 0 },
        grams: { returned: 0, notBagged: 0, inBagsAtShops: 0, inTransit: 0, atFacilities: 0, disposed: 0, explainedByDiscrepancies: 0, withinTolerance: 0, unexplained: 0 },
        kg: { returned: 0, atShops: 0, inTransit: 0, atFacilities: 0, disposed: 0, unexplained: 0 }, holds: true };
      mats.set(material, m);
    }
    return m;
  };
  const baggedBy = new Map(bagged.map((b) => [`${b.shop_id}|${b.ct}`, b]));
  const types = new Map<string, { material: string; tare: number }>();
  for (const ct of (await knex('container_types').where({ county_id: countyId }).select('id', 'material', 'tare_weight_g')) as Array<{ id: string; material: string; tare_weight_g: number }>) {
    types.set(ct.id, { material: ct.material, tare: ct.tare_weight_g });
  }
  const seen = new Set<string>();
  for (const r of returned) {
    const m = get(r.material);
    const b = baggedBy.get(`${r.shop_id}|${r.ct}`);
    seen.add(`${r.shop_id}|${r.ct}`);
    m.counts.returned += r.n;
    m.grams.returned += r.n * r.tare_weight_g;
    const left = r.n - (b?.n ?? 0);
    if (left < 0) problems.push({ material: r.material, shopId: r.shop_id, message: `shop ${r.shop_id} bagged ${b!.n} containers of type ${r.ct} but accepted only ${r.n} on return` });
    m.counts.notBagged += left;
    m.grams.notBagged += r.n * r.tare_weight_g - (b?.g ?? 0);
  }
  for (const b of bagged) {
    if (seen.has(`${b.shop_id}|${b.ct}`)) continue;
    const t = types.get(b.ct)!;
    problems.push({ material: t.material, shopId: b.shop_id, message: `shop ${b.shop_id} bagged ${b.n} containers of type ${b.ct} that it never accepted on return` });
    get(t.material).counts.notBagged -= b.n;
    get(t.material).grams.notBagged -= b.g;
  }
  const dByBag = new Map<string, typeof discrepancies>();
  for (const d of discrepancies) dByBag.set(d.bag_id, [...(dByBag.get(d.bag_id) ?? []), d]);
  for (const b of bags) {
    const m = get(b.material);
    const ds = dByBag.get(b.id) ?? [];
    if (b.state === 'open' || b.state === 'sealed') { m.counts.inBagsAtShops += b.declared_quantity; m.grams.inBagsAtShops += b.expected_weight_g; continue; }
    if (b.state === 'picked_up' || (b.state === 'received' && !b.inspection_id)) {
      const k = b.state === 'picked_up' ? 'inTransit' : 'atFacilities';
      m.counts[k] += b.declared_quantity; m.grams[k] += b.expected_weight_g; continue;
    }
    // Inspected: what the facility holds is what it counted (or the declared count), less what it refused.
    if (b.state === 'missing') {
      const d = ds.find((x) => x.type === 'missing_bag');
      if (d) { m.counts.explainedByDiscrepancies += b.declared_quantity; m.grams.explainedByDiscrepancies += b.expected_weight_g; }
      else problems.push({ material: b.material, bagId: b.id, message: `bag ${b.id} is missing without a missing_bag discrepancy` });
      continue;
    }
    const present = b.counted_quantity ?? b.declared_quantity;
    const held = b.state === 'rejected' ? 0 : present - b.rejected_quantity;
    const k = b.state === 'disposed' ? 'disposed' : 'atFacilities';
    if (b.state !== 'rejected') m.counts[k] += held;
    // Count difference: explained by a count discrepancy of the same size.
    const countDiff = b.declared_quantity - present;
    if (countDiff !== 0) {
      const d = ds.find((x) => x.type === 'count');
      if (d && Number(d.expected_value) - Number(d.actual_value) === countDiff) m.counts.explainedByDiscrepancies += countDiff;
      else problems.push({ material: b.material, bagId: b.id, message: `bag ${b.id}: ${b.declared_quantity} declared, ${present} counted, without a matching count discrepancy` });
    }
    const refused = b.state === 'rejected' ? present : b.rejected_quantity;
    if (refused > 0) {
      if (ds.length) m.counts.explainedByDiscrepancies += refused;
      else problems.push({ material: b.material, bagId: b.id, message: `bag ${b.id}: ${refused} containers refused without a recorded discrepancy` });
    }
    // Grams: the measured weight stands for the bag; the share refused and the difference to the expectation are explained.
    const measured = b.measured_weight_g ?? b.expected_weight_g;
    const refusedG = present === 0 ? measured : Math.round((measured * refused) / present);
    if (b.state !== 'rejected') m.grams[k] += measured - refusedG;
    if (refused > 0 && ds.length) m.grams.explainedByDiscrepancies += refusedG;
    const diffG = b.expected_weight_g - measured;
    if (diffG !== 0) {
      if (ds.some((x) => x.type === 'weight' || x.type === 'count')) m.grams.explainedByDiscrepancies += diffG;
      else if (!weightBeyondTolerance(b.expected_weight_g, measured, tol)) m.grams.withinTolerance += diffG;
      else problems.push({ material: b.material, bagId: b.id, message: `bag ${b.id} weighs ${measured} g against ${b.expected_weight_g} g expected, beyond ${tol}%, without a weight discrepancy` });
    }
  }
  for (const m of mats.values()) {
    const c = m.counts;
    c.unexplained = c.returned - (c.notBagged + c.inBagsAtShops + c.inTransit + c.atFacilities + c.disposed + c.explainedByDiscrepancies);
    const g = m.grams;
    g.unexplained = g.returned - (g.notBagged + g.inBagsAtShops + g.inTransit + g.atFacilities + g.disposed + g.explainedByDiscrepancies + g.withinTolerance);
    m.kg = { returned: kg(g.returned), atShops: kg(g.notBagged + g.inBagsAtShops), inTransit: kg(g.inTransit), atFacilities: kg(g.atFacilities), disposed: kg(g.disposed), unexplained: kg(g.unexplained) };
    m.holds = c.unexplained === 0 && g.unexplained === 0 && !problems.some((p) => p.material === m.material);
    if (c.unexplained !== 0) problems.push({ material: m.material, message: `${c.unexplained} containers of ${m.material} are unaccounted for` });
    if (g.unexplained !== 0) problems.push({ material: m.material, message: `${g.unexplained} g of ${m.material} are unaccounted for` });
  }
  const materials = [...mats.values()].sort((a, b) => a.material.localeCompare(b.material));
  return { countyId, ok: problems.length === 0, tolerancePct: tol, materials, problems };
}
