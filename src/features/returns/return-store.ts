// SQL of returns: locking what a return may refund (unit codes, then lots, in a fixed order) and
// writing the return, its items, where each refund came from, and how it was paid.
import type { Knex } from 'knex';

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
