// SQL of sales: the sale, its lines, the unit codes sold with deposit and the untracked lots.
import type { Knex } from 'knex';

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

  /** Unit codes of this county already sold (and not voided). */
  async soldCodes(countyId: string, codes: string[]): Promise<string[]> {
    if (codes.length === 0) return [];
    const rows = await this.trx('sold_units').where({ county_id: countyId }).whereIn('unit_code', codes).whereNot({ state: 'voided' }).select('unit_code');
    return rows.map((r: { unit_code: string }) => r.unit_code);
  }

  async insertSale(row: Record<string, unknown>): Promise<{ sale_no: number; recorded_at: Date }> {
    const [got] = await this.trx('sales').insert(row).returning(['sale_no', 'recorded_at']);
    return got;
  }

  async insertLines(lines: SaleLineRow[]): Promise<void> {
    await this.trx('sale_lines').insert(lines);
  }

  async insertUnits(units: Array<Record<string, unknown>>): Promise<void> {
    // Sorted, so two sales of overlapping codes wait on each other in the same order.
    const sorted = [...units].sort((a, b) => String(a.unit_code).localeCompare(String(b.unit_code)));
    for (let i = 0; i < sorted.length; i += 500) await this.trx('sold_units').insert(sorted.slice(i, i + 500));
  }

  async insertLots(lots: Array<Record<string, unknown>>): Promise<void> {
    if (lots.length) await this.trx('deposit_lots').insert(lots);
  }
}
