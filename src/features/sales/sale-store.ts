// SQL of sales: the products and schedules a sale needs (one query each), and the sale, its lines,
// the unit codes sold with deposit and the untracked lots (one statement).
import type { Knex } from 'knex';
import type { ProductRef } from '../products/product-lookup.js';

export interface SaleLineRow {
  county_id: string;
  sale_id: string;
  line_no: number;
  product_id: string;
  quantity: number;
  deposit_per_container_fen: number;
  schedule_deposit_fen: number | null;
  schedule_id: string | null;
  deposit_fen: number;
  deposit_mismatch: boolean;
}

export class SaleStore {
  constructor(private readonly trx: Knex.Transaction) {}

  /** The active products the lines name by id or GTIN, in one query. */
  async products(countyId: string, lines: Array<{ productId?: string; gtin?: string }>): Promise<{ byId: Map<string, ProductRef>; byGtin: Map<string, ProductRef> }> {
    const ids = [...new Set(lines.flatMap((l) => (l.productId !== undefined ? [l.productId] : [])))];
    const gtins = [...new Set(lines.flatMap((l) => (l.gtin !== undefined ? [l.gtin] : [])))];
    const byId = new Map<string, ProductRef>();
    const byGtin = new Map<string, ProductRef>();
    if (ids.length === 0 && gtins.length === 0) return { byId, byGtin };
    const rows = (await this.trx('products').where({ county_id: countyId, active: true })
      .where((w) => { if (ids.length) void w.orWhereIn('id', ids); if (gtins.length) void w.orWhereIn('gtin', gtins); })
      .orderBy('id')
      .select('id', 'name', 'registration_no', 'container_type_id', 'gtin', 'pack_size_code')) as Array<Record<string, any>>;
    for (const r of rows) {
      const ref: ProductRef = { id: r.id, name: r.name, registrationNo: r.registration_no, containerTypeId: r.container_type_id, gtin: r.gtin, packSizeCode: r.pack_size_code };
      byId.set(ref.id, ref);
      if (ref.gtin && !byGtin.has(ref.gtin)) byGtin.set(ref.gtin, ref);
    }
    return { byId, byGtin };
  }

  /**
   * The deposit schedule in force on `day` for each container type, in one query (as depositInForce:
   * a schedule of the container type wins over the county default; null when there is none).
   */
  async schedulesInForce(countyId: string, containerTypeIds: string[], day: string): Promise<Map<string, { scheduleId: string; depositFen: number } | null>> {
    const out = new Map<string, { scheduleId: string; depositFen: number } | null>();
    if (containerTypeIds.length === 0) return out;
    const rows = (await this.trx('deposit_schedules').where({ county_id: countyId, active: true })
      .where((w) => w.whereIn('container_type_id', containerTypeIds).orWhereNull('container_type_id'))
      .where('effective_from', '<=', day)
      .where((w) => w.whereNull('effective_to').orWhere('effective_to', '>', day))
      .select('id', 'deposit_fen', 'container_type_id')) as Array<{ id: string; deposit_fen: number; container_type_id: string | null }>;
    const fallback = rows.find((r) => r.container_type_id === null);
    for (const ct of containerTypeIds) {
      const r = rows.find((x) => x.container_type_id === ct) ?? fallback;
      out.set(ct, r ? { scheduleId: r.id, depositFen: r.deposit_fen } : null);
    }
    return out;
  }

  /**
   * Inserts the sale, its lines, its unit codes and its lots in one statement and answers the sale
   * number and the unit codes that were already sold (not inserted: ON CONFLICT on the county's
   * one-sale-per-code index; a concurrent sale of the same code is waited for). The caller refuses
   * the sale when any was, which rolls the rest back.
   */
  async insertAll(sale: Record<string, unknown>, lines: SaleLineRow[], units: Array<Record<string, unknown>>, lots: Array<Record<string, unknown>>): Promise<{ saleNo: number; alreadySold: string[] }> {
    const t = this.trx;
    // Sorted, so two sales of overlapping codes wait on each other in the same order.
    const sorted = [...units].sort((a, b) => String(a.unit_code).localeCompare(String(b.unit_code)));
    let q = t.with('s', t('sales').insert(sale).returning('sale_no')).with('l', t('sale_lines').insert(lines).returning('line_no'));
    if (sorted.length) {
      q = q.with('u', t('sold_units').insert(sorted).onConflict(t.raw(`(county_id, unit_code) WHERE state <> 'voided'`)).ignore().returning('unit_code'));
    }
    if (lots.length) q = q.with('d', t('deposit_lots').insert(lots).returning('line_no'));
    const [row] = await q.select(t.raw(`(SELECT sale_no FROM s) AS sale_no, (SELECT count(*) FROM l)::int AS lines, ${sorted.length ? '(SELECT array_agg(unit_code) FROM u)' : 'NULL'} AS inserted`));
    const inserted = new Set<string>((row.inserted as string[] | null) ?? []);
    return { saleNo: Number(row.sale_no), alreadySold: sorted.map((u) => String(u.unit_code)).filter((c) => !inserted.has(c)) };
  }
}

export interface SaleByReceiptRow {
  saleId: string; receiptNo: string; countyId: string; shopId: string; shopName: string; eventTime: string; businessDay: string;
  phoneE164: string; name: string;
  lines: Array<{ lineNo: number; productId: string; productName: string; packSizeLabel: string; quantity: number; depositPerContainerFen: number; unitCodes: Array<{ unitCode: string; state: string }>; outstandingContainers: number; /** @deprecated old name of outstandingContainers */ outstandingCounted: number }>;
}

/** Sales of a county by the number printed on their receipt (newest first), with each code's state and what is still outstanding. */
export async function salesByReceipt(knex: Knex, countyId: string, receiptNo: string): Promise<SaleByReceiptRow[]> {
  const sales = (await knex('sales as s')
    .join('shops as sh', function () { this.on('sh.county_id', '=', 's.county_id').andOn('sh.id', '=', 's.shop_id'); })
    .join('farmers as f', function () { this.on('f.county_id', '=', 's.county_id').andOn('f.id', '=', 's.farmer_id'); })
    .where({ 's.county_id': countyId, 's.receipt_no': receiptNo })
    .orderBy([{ column: 's.event_time', order: 'desc' }, { column: 's.id' }]).limit(10)
    .select('s.id', 's.receipt_no', 's.shop_id', 'sh.name as shop_name', 's.event_time', 's.business_day', 'f.phone_e164', 'f.name')) as Array<Record<string, any>>;
  if (sales.length === 0) return [];
  const ids = sales.map((s) => s.id as string);
  const lines = (await knex('sale_lines as l')
    .join('products as p', function () { this.on('p.county_id', '=', 'l.county_id').andOn('p.id', '=', 'l.product_id'); })
    .where('l.county_id', countyId).whereIn('l.sale_id', ids).orderBy(['l.sale_id', 'l.line_no'])
    .select('l.sale_id', 'l.line_no', 'l.product_id', 'p.name', 'p.pack_size_label', 'l.quantity', 'l.deposit_per_container_fen')) as Array<Record<string, any>>;
  const units = (await knex('sold_units').where('county_id', countyId).whereIn('sale_id', ids).orderBy(['sale_id', 'line_no', 'unit_code'])
    .select('sale_id', 'line_no', 'unit_code', 'state')) as Array<Record<string, any>>;
  const lots = (await knex('deposit_lots').where('county_id', countyId).whereIn('sale_id', ids).where('voided', false)
    .select('sale_id', 'line_no', 'outstanding')) as Array<Record<string, any>>;
  return sales.map((s) => ({
    saleId: s.id, receiptNo: s.receipt_no, countyId, shopId: s.shop_id, shopName: s.shop_name, eventTime: new Date(s.event_time).toISOString(), businessDay: String(s.business_day),
    phoneE164: s.phone_e164, name: s.name,
    lines: lines.filter((l) => l.sale_id === s.id).map((l) => line({
      lineNo: Number(l.line_no), productId: l.product_id, productName: l.name, packSizeLabel: l.pack_size_label ?? '', quantity: Number(l.quantity), depositPerContainerFen: Number(l.deposit_per_container_fen),
      unitCodes: units.filter((u) => u.sale_id === s.id && Number(u.line_no) === Number(l.line_no)).map((u) => ({ unitCode: u.unit_code, state: u.state === 'outstanding' ? 'outstanding' : u.state })),
      outstandingContainers: lots.filter((d) => d.sale_id === s.id && Number(d.line_no) === Number(l.line_no)).reduce((n, d) => n + Number(d.outstanding), 0),
    })),
  }));
}

/** A receipt line with the deprecated old name of its count beside the new one (one release). */
function line<L extends { outstandingContainers: number }>(l: L): L & { outstandingCounted: number } {
  return { ...l, outstandingCounted: l.outstandingContainers };
}
