// SQL of the shops' statutory ledgers: the sales ledger of the Pesticide Management Regulation art. 27
// (what was sold, to whom, when) read from sales and their lines; the recycling ledger of the 2020
// Measures comes from the custody 台账 (../custody/inspector-ledger.ts), which this feature reuses.
import type { Knex } from 'knex';

export interface LedgerShopRow { id: string; name: string; licenceNo: string }

export interface SaleLedgerRow {
  /** The sale's id: what the access log names when an inspector or official reads its purchaser. */
  saleId: string;
  day: string; shopId: string; saleNo: string; productName: string; registrationNo: string; manufacturer: string;
  packSize: string; quantity: number; depositPerContainerFen: number; depositFen: number; purchaserName: string; purchaserPhone: string;
}

export async function countyOf(knex: Knex, countyId: string): Promise<{ nameZh: string; timezone: string } | undefined> {
  const row = (await knex('counties').where({ id: countyId }).first('name_zh', 'timezone')) as { name_zh: string; timezone: string } | undefined;
  return row && { nameZh: row.name_zh, timezone: row.timezone };
}

/** The county's shops (all, or the one named), ordered by licence number. */
export async function ledgerShops(knex: Knex, countyId: string, shopId: string | null): Promise<LedgerShopRow[]> {
  const q = knex('shops').where({ county_id: countyId }).orderBy('licence_no').select('id', 'name', 'licence_no');
  if (shopId) q.where({ id: shopId });
  return ((await q) as Array<{ id: string; name: string; licence_no: string }>).map((s) => ({ id: s.id, name: s.name, licenceNo: s.licence_no }));
}

/**
 * One row per sale line of the shops in [from, to] (county business days), sales that were reversed
 * left out (a reversal undoes the sale in full). Ordered by shop, day, sale number and line.
 */
export async function salesLedgerRows(knex: Knex, q: { countyId: string; shopIds: string[]; from: string; to: string }): Promise<SaleLedgerRow[]> {
  if (q.shopIds.length === 0) return [];
  const rows = (await knex('sale_lines as l')
    .join('sales as s', function () { this.on('s.county_id', 'l.county_id').andOn('s.id', 'l.sale_id'); })
    .join('products as p', function () { this.on('p.county_id', 'l.county_id').andOn('p.id', 'l.product_id'); })
    .join('farmers as f', function () { this.on('f.county_id', 's.county_id').andOn('f.id', 's.farmer_id'); })
    .join('shops as h', function () { this.on('h.county_id', 's.county_id').andOn('h.id', 's.shop_id'); })
    .leftJoin('reversals as v', function () { this.on('v.county_id', 's.county_id').andOn('v.target_id', 's.id').andOnVal('v.target_type', 'sale'); })
    .where('l.county_id', q.countyId).whereIn('s.shop_id', q.shopIds).whereNull('v.id')
    .whereBetween('s.business_day', [q.from, q.to])
    .orderBy([{ column: 'h.licence_no' }, { column: 's.business_day' }, { column: 's.sale_no' }, { column: 'l.line_no' }])
    .select('s.id as sale_id', 's.business_day as day', 's.shop_id', 's.sale_no', 's.receipt_no', 'p.name as product_name', 'p.registration_no', 'p.manufacturer', 'p.pack_size_label',
      'l.quantity', 'l.deposit_per_container_fen', 'l.deposit_fen', 'f.name as farmer_name', 'f.phone_e164')) as Array<Record<string, any>>;
  return rows.map((r) => ({
    saleId: r.sale_id, day: r.day, shopId: r.shop_id, saleNo: r.receipt_no ?? String(r.sale_no), productName: r.product_name, registrationNo: r.registration_no,
    manufacturer: r.manufacturer, packSize: r.pack_size_label, quantity: Number(r.quantity), depositPerContainerFen: Number(r.deposit_per_container_fen),
    depositFen: Number(r.deposit_fen), purchaserName: r.farmer_name, purchaserPhone: r.phone_e164,
  }));
}
