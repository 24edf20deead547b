// SQL of returns: locking what a return may refund (unit codes, then lots, in a fixed order) and
// writing the return, its items, where each refund came from, and how it was paid.
import type { Knex } from 'knex';
import { incentiveRateFromRow, matchIncentiveRate } from '../../shared/incentive-rate-match.js';
import { countyAccount } from '../ledger/accounts.js';

/**
 * SQL for the buy-back a return paid from the county incentive fund (fen, 0 when none): its
 * `buyback` allocations. `returns.total_refund_fen` is all the cash owed for a return, so a figure of
 * deposit refunds is total_refund_fen less this (docs/incentives.md, "Refunds and buy-back in the
 * figures"). `r` is the alias of the returns row in the caller's query.
 */
export function returnBuybackFenSql(r: string): string {
  return `coalesce((SELECT sum(a.amount_fen) FROM return_allocations a WHERE a.county_id = ${r}.county_id AND a.return_id = ${r}.id AND a.source = 'buyback'), 0)::bigint`;
}

export interface SoldUnitRow {
  county_id: string;
  sale_id: string;
  unit_code: string;
  line_no: number;
  product_id: string;
  shop_id: string;
  farmer_id: string;
  deposit_fen: number;
  event_time: Date;
  state: 'outstanding' | 'refunded' | 'expired' | 'late_refunded' | 'late_returned' | 'voided';
}

export interface LotRow {
  county_id: string;
  sale_id: string;
  line_no: number;
  product_id: string;
  shop_id: string;
  farmer_id: string;
  deposit_fen: number;
  quantity: number;
  outstanding: number;
  expired: number;
  voided: boolean;
  event_time: Date;
}

export class ReturnStore {
  constructor(private readonly trx: Knex.Transaction) {}

  /** Locks the sold units with these codes, in code order (the first lock of every writer). */
  async lockUnits(countyId: string, codes: string[]): Promise<Map<string, SoldUnitRow>> {
    if (codes.length === 0) return new Map();
    const rows = (await this.trx('sold_units').where({ county_id: countyId }).whereIn('unit_code', codes).whereNot({ state: 'voided' })
      .orderBy('unit_code').forUpdate().select('*')) as SoldUnitRow[];
    return new Map(rows.map((r) => [r.unit_code, r]));
  }

  async setUnitState(countyId: string, unit: SoldUnitRow, state: SoldUnitRow['state']): Promise<void> {
    await this.trx('sold_units').where({ county_id: countyId, sale_id: unit.sale_id, unit_code: unit.unit_code }).update({ state });
  }

  /** Serialises work on one key (a never-sold unit code, a returner's daily policy limit). */
  async advisoryLock(key: string): Promise<void> {
    await this.trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [key]);
  }

  /** Whether an accepted return of this (never sold) unit code already exists and stands. */
  async codeAlreadyReturned(countyId: string, code: string): Promise<boolean> {
    const row = await this.trx('return_items as i')
      .leftJoin('reversals as v', function () {
        this.on('v.county_id', '=', 'i.county_id').andOn('v.target_id', '=', 'i.return_id').andOnVal('v.target_type', '=', 'return');
      })
      .where({ 'i.county_id': countyId, 'i.unit_code': code }).whereNot('i.outcome', 'rejected').whereNull('v.id').first('i.return_id');
    return row !== undefined;
  }

  async soldInOtherCounty(countyId: string, code: string): Promise<string | null> {
    const row = await this.trx('sold_units').where({ unit_code: code }).whereNot({ county_id: countyId }).whereNot({ state: 'voided' }).first('county_id');
    return row ? row.county_id : null;
  }

  /** Locks the returner's lots of these products that still hold deposits, in key order. */
  async lockLots(countyId: string, farmerId: string, productIds: string[]): Promise<LotRow[]> {
    if (productIds.length === 0) return [];
    return (await this.trx('deposit_lots').where({ county_id: countyId, farmer_id: farmerId, voided: false }).whereIn('product_id', productIds)
      .where((w) => w.where('outstanding', '>', 0).orWhere('expired', '>', 0))
      .orderBy([{ column: 'sale_id' }, { column: 'line_no' }]).forUpdate().select('*')) as LotRow[];
  }

  async updateLot(lot: LotRow): Promise<void> {
    await this.trx('deposit_lots').where({ county_id: lot.county_id, sale_id: lot.sale_id, line_no: lot.line_no }).update({ outstanding: lot.outstanding, expired: lot.expired });
  }

  /** Containers refunded under the untracked policy for this returner (or shop) on a business day. */
  async policyRefundedOn(countyId: string, day: string, who: { farmerId: string } | { shopId: string }): Promise<number> {
    const q = this.trx('return_allocations as a')
      .join('returns as r', function () { this.on('r.county_id', '=', 'a.county_id').andOn('r.id', '=', 'a.return_id'); })
      .leftJoin('reversals as v', function () {
        this.on('v.county_id', '=', 'r.county_id').andOn('v.target_id', '=', 'r.id').andOnVal('v.target_type', '=', 'return');
      })
      .where({ 'a.county_id': countyId, 'a.source': 'policy', 'r.business_day': day }).whereNull('v.id');
    if ('farmerId' in who) void q.where('r.farmer_id', who.farmerId);
    else void q.whereNull('r.farmer_id').where('r.shop_id', who.shopId);
    const row = await q.sum({ n: 'a.quantity' }).first();
    return Number(row?.n ?? 0);
  }

  /** The county incentive rate in force for a container type on a business day (docs/incentives.md, rule 2). */
  async incentiveRate(countyId: string, containerTypeId: string, day: string): Promise<{ id: string; buybackFen: number; pointsMilli: number } | null> {
    const ct = await this.trx('container_types').where({ county_id: countyId, id: containerTypeId }).first('id', 'material', 'volume_ml');
    if (!ct) return null;
    const rows = await this.trx('incentive_rates').where({ county_id: countyId, active: true }).where('effective_from', '<=', day)
      .where((w) => w.whereNull('effective_to').orWhere('effective_to', '>', day))
      .where((w) => w.whereNull('container_type_id').orWhere('container_type_id', containerTypeId)).select('*');
    const r = matchIncentiveRate(rows.map(incentiveRateFromRow), { id: ct.id, material: ct.material, volumeMl: Number(ct.volume_ml) }, day);
    return r ? { id: r.id, buybackFen: r.buybackFen, pointsMilli: r.pointsMilli } : null;
  }

  /** What incentives gave a household (farmer) or a shop in a calendar year: buy-back fen and points earned (reversed returns left out). */
  async incentiveGivenInYear(countyId: string, year: string, who: { farmerId: string } | { shopId: string }): Promise<{ buybackFen: number; pointsMilli: number }> {
    const [whoSql, whoId] = 'farmerId' in who ? ['r.farmer_id = ?', who.farmerId] : ['r.shop_id = ?', who.shopId];
    const q = (await this.trx.raw(`SELECT
        coalesce(sum(x.buyback), 0)::bigint AS buyback_fen, coalesce(sum(x.points), 0)::bigint AS points_milli
        FROM (
          SELECT (SELECT coalesce(sum(a.amount_fen), 0) FROM return_allocations a WHERE a.county_id = r.county_id AND a.return_id = r.id AND a.source = 'buyback') AS buyback,
                 (SELECT coalesce(sum(i.points_milli), 0) FROM return_items i WHERE i.county_id = r.county_id AND i.return_id = r.id) AS points
            FROM returns r
            LEFT JOIN reversals v ON v.county_id = r.county_id AND v.target_id = r.id AND v.target_type = 'return'
           WHERE r.county_id = ? AND ${whoSql} AND r.business_day >= ?::date AND r.business_day <= ?::date AND v.id IS NULL
        ) x`, [countyId, whoId, `${year}-01-01`, `${year}-12-31`])).rows[0] as { buyback_fen: number; points_milli: number };
    return { buybackFen: Number(q.buyback_fen), pointsMilli: Number(q.points_milli) };
  }

  /** What is left in the county's incentive fund, in fen (its credit balance). */
  async incentiveFundLeft(countyId: string): Promise<number> {
    const row = await this.trx('ledger_accounts').where({ county_id: countyId, id: countyAccount(countyId, 'incentive_fund').id }).first('balance_fen');
    return row ? -Number(row.balance_fen) : 0;
  }

  /** Whether a unit code already earned points (a code earns once, ever). */
  async codeEarnedPoints(countyId: string, code: string): Promise<boolean> {
    return (await this.trx('points_transfers').where({ county_id: countyId, code: 'earned', unit_code: code }).first('id')) !== undefined;
  }

  /** The return, its items, where each refund came from and how it was paid, in one statement; answers the return number. */
  async insertAll(ret: Record<string, unknown>, items: Array<Record<string, unknown>>, allocations: Array<Record<string, unknown>>, refund: Record<string, unknown> | null): Promise<number> {
    const t = this.trx;
    let q = t.with('r', t('returns').insert(ret).returning('return_no')).with('i', t('return_items').insert(items).returning('item_no'));
    if (allocations.length) q = q.with('a', t('return_allocations').insert(allocations).returning('item_no'));
    if (refund) q = q.with('p', t('refunds').insert(refund).returning('return_id'));
    const [row] = await q.select(t.raw('(SELECT return_no FROM r) AS return_no, (SELECT count(*) FROM i)::int AS items'));
    if (row.items !== items.length) throw new Error(`return ${String(ret.id)}: ${row.items} of ${items.length} items written`);
    return Number(row.return_no);
  }
}
