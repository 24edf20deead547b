// The custody book of a reconciliation (DESIGN rule 8, mass balance): of the containers accepted at
// shops, how many are still loose at the shop, sealed in bags at the shop, in transit, received at a
// facility, disposed of — and the open discrepancies. Read from custody rows by record time (custody
// records carry no separate event time), as the chain stood at min(period end, asOf).
import type { Knex } from 'knex';

export interface CustodyShopFigures {
  shopId: string;
  returnedUnits: number;
  bagged: number;
  loose: number;
  inBagsAtShop: number;
  bagsAwaitingPickup: number;
  overdueBags: number;
}

export interface CustodyDiscrepancy {
  bagId: string;
  inspectionId: string;
  type: string;
  expected: number | null;
  actual: number | null;
  comment: string;
  shopId: string;
}

export interface CustodyBook {
  available: boolean;
  returnedUnits: number;
  looseAtShops: number;
  inBagsAtShops: number;
  inTransit: number;
  received: number;
  disposed: number;
  missing: number;
  bagsAwaitingPickup: number;
  overdueBags: Array<{ bagId: string; shopId: string; sealedAt: string }>;
  openDiscrepancies: CustodyDiscrepancy[];
  shops: CustodyShopFigures[];
}

/** Sealed bags waiting longer than this for a hauler are flagged as overdue pickups. */
export const PICKUP_OVERDUE_DAYS = 14;

export async function custodyTablesExist(knex: Knex): Promise<boolean> {
  return knex.schema.hasTable('custody_bags');
}

export async function custodyBook(knex: Knex, countyId: string, to: Date, asOf: Date, returnedByShop: Map<string, number>): Promise<CustodyBook> {
  const returnedUnits = [...returnedByShop.values()].reduce((a, n) => a + n, 0);
  const empty: CustodyBook = {
    available: false, returnedUnits, looseAtShops: returnedUnits, inBagsAtShops: 0, inTransit: 0, received: 0, disposed: 0, missing: 0,
    bagsAwaitingPickup: 0, overdueBags: [], openDiscrepancies: [],
    shops: [...returnedByShop].map(([shopId, n]) => ({ shopId, returnedUnits: n, bagged: 0, loose: n, inBagsAtShop: 0, bagsAwaitingPickup: 0, overdueBags: 0 })),
  };
  if (!(await custodyTablesExist(knex))) return empty;
  const t = new Date(Math.min(to.getTime() - 1, asOf.getTime()));
  const overdueBefore = new Date(t.getTime() - PICKUP_OVERDUE_DAYS * 86_400_000);
  const b = { c: countyId, t, overdueBefore };
  // Each bag's stage at t, from the rows recorded by then.
  const bags = (await knex.raw(`
    WITH q AS (
      SELECT i.bag_id, sum(i.quantity)::bigint AS quantity
        FROM custody_bag_items i WHERE i.county_id = :c AND i.recorded_at <= :t GROUP BY i.bag_id
    ), latest AS (
      SELECT DISTINCT ON (n.bag_id) n.bag_id, n.id, n.outcome
        FROM custody_inspections n
       WHERE n.county_id = :c AND n.recorded_at <= :t
         AND NOT EXISTS (SELECT 1 FROM custody_inspections s WHERE s.county_id = n.county_id AND s.supersedes_id = n.id AND s.recorded_at <= :t)
       ORDER BY n.bag_id, n.recorded_at DESC, n.id
    )
    SELECT bg.id, bg.shop_id, q.quantity, bg.sealed_at,
           CASE
             WHEN EXISTS (SELECT 1 FROM custody_disposal_bags db JOIN custody_disposals d ON d.county_id = db.county_id AND d.id = db.disposal_id
                           WHERE db.county_id = bg.county_id AND db.bag_id = bg.id AND d.recorded_at <= :t) THEN 'disposed'
             WHEN latest.outcome = 'missing' THEN 'missing'
             WHEN latest.id IS NOT NULL THEN 'received'
             WHEN EXISTS (SELECT 1 FROM custody_manifest_bags mb JOIN custody_signatures g ON g.county_id = mb.county_id AND g.manifest_id = mb.manifest_id
                           AND g.handover = 'pickup:' || mb.shop_id::text AND g.side = 'receiver'
                           WHERE mb.county_id = bg.county_id AND mb.bag_id = bg.id AND g.recorded_at <= :t) THEN 'in_transit'
             ELSE 'at_shop'
           END AS stage
      FROM custody_bags bg JOIN q ON q.bag_id = bg.id
      LEFT JOIN latest ON latest.bag_id = bg.id
     WHERE bg.county_id = :c`, b)).rows as Array<{ id: string; shop_id: string; quantity: string; sealed_at: Date | null; stage: string }>;
  const book: CustodyBook = { ...empty, available: true, looseAtShops: 0, shops: [] };
  const perShop = new Map<string, CustodyShopFigures>();
  const shop = (id: string) => {
    let s = perShop.get(id);
    if (!s) {
      s = { shopId: id, returnedUnits: returnedByShop.get(id) ?? 0, bagged: 0, loose: 0, inBagsAtShop: 0, bagsAwaitingPickup: 0, overdueBags: 0 };
      perShop.set(id, s);
    }
    return s;
  };
  for (const id of returnedByShop.keys()) shop(id);
  for (const bg of bags) {
    const n = Number(bg.quantity);
    const s = shop(bg.shop_id);
    s.bagged += n;
    const sealed = bg.sealed_at !== null && new Date(bg.sealed_at).getTime() <= t.getTime();
    switch (bg.stage) {
      case 'disposed': book.disposed += n; break;
      case 'missing': book.missing += n; break;
      case 'received': book.received += n; break;
      case 'in_transit': book.inTransit += n; break;
      default:
        book.inBagsAtShops += n;
        s.inBagsAtShop += n;
        if (sealed) {
          book.bagsAwaitingPickup++;
          s.bagsAwaitingPickup++;
          if (new Date(bg.sealed_at!).getTime() < overdueBefore.getTime()) {
            s.overdueBags++;
            book.overdueBags.push({ bagId: bg.id, shopId: bg.shop_id, sealedAt: new Date(bg.sealed_at!).toISOString() });
          }
        }
    }
  }
  for (const s of perShop.values()) {
    s.loose = s.returnedUnits - s.bagged;
    book.looseAtShops += s.loose;
  }
  book.shops = [...perShop.values()].sort((a, c) => a.shopId.localeCompare(c.shopId));
  const disc = (await knex.raw(`
    SELECT d.bag_id, d.inspection_id, d.type, d.expected_value, d.actual_value, d.comment, bg.shop_id
      FROM custody_discrepancies d
      JOIN custody_inspections n ON n.county_id = d.county_id AND n.id = d.inspection_id
      JOIN custody_bags bg ON bg.county_id = d.county_id AND bg.id = d.bag_id
     WHERE d.county_id = :c AND n.recorded_at <= :t
       AND NOT EXISTS (SELECT 1 FROM custody_inspections s WHERE s.county_id = n.county_id AND s.supersedes_id = n.id AND s.recorded_at <= :t)
     ORDER BY n.recorded_at, d.inspection_id, d.no`, b)).rows as Array<{ bag_id: string; inspection_id: string; type: string; expected_value: number | null; actual_value: number | null; comment: string; shop_id: string }>;
  book.openDiscrepancies = disc.map((d) => ({ bagId: d.bag_id, inspectionId: d.inspection_id, type: d.type, expected: d.expected_value, actual: d.actual_value, comment: d.comment, shopId: d.shop_id }));
  return book;
}
