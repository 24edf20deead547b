// The SQL of archive by year (docs/traceability.md "Archive by year"): which rows of a county's year
// may leave the live tables, copying them into archive_<year> (same shapes) and back, and the counts
// and checksums that prove a restore brought back exactly what left. Rules are in archive-service.ts.
import type { Knex } from 'knex';

/** The live tables an archive run moves, parents first (insert order; deletes go the other way). */
export const ARCHIVED_TABLES = ['sales', 'sale_lines', 'sold_units', 'deposit_lots', 'returns', 'return_items', 'return_allocations', 'refunds', 'reversals'] as const;
export type ArchivedTable = (typeof ARCHIVED_TABLES)[number];

/** Which rows of each table belong to the selection (temp tables archive_sel_sales, archive_sel_returns). */
const SELECTED: Record<ArchivedTable, string> = {
  sales: 'x.id IN (SELECT id FROM archive_sel_sales)',
  sale_lines: 'x.sale_id IN (SELECT id FROM archive_sel_sales)',
  sold_units: 'x.sale_id IN (SELECT id FROM archive_sel_sales)',
  deposit_lots: 'x.sale_id IN (SELECT id FROM archive_sel_sales)',
  returns: 'x.id IN (SELECT id FROM archive_sel_returns)',
  return_items: 'x.return_id IN (SELECT id FROM archive_sel_returns)',
  return_allocations: 'x.return_id IN (SELECT id FROM archive_sel_returns)',
  refunds: 'x.return_id IN (SELECT id FROM archive_sel_returns)',
  reversals: `((x.target_type = 'sale' AND x.target_id IN (SELECT id FROM archive_sel_sales)) OR (x.target_type = 'return' AND x.target_id IN (SELECT id FROM archive_sel_returns)))`,
};

export const archiveSchema = (year: number): string => `archive_${year}`;
const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export interface TableDigest { rows: number; md5: string; columns: string[] }

/** Stored (not generated) columns of a table of `schema`, in attribute order; [] when it does not exist. */
export async function columnsOf(knex: Knex, schema: string, table: string): Promise<Array<{ name: string; type: string }>> {
  return (await knex.raw(`
    SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
     ORDER BY a.attnum`, [schema, table])).rows;
}

export async function liveSchema(knex: Knex): Promise<string> {
  return (await knex.raw('SELECT current_schema() AS s')).rows[0].s as string;
}

/** Count and MD5 of rows, each as the text of its `columns` in that order, sorted: the same rows give the same digest in any schema. */
async function digest(knex: Knex, from: string, where: string, bindings: string[], columns: string[]): Promise<TableDigest> {
  const row = `ROW(${columns.map((c) => `x.${q(c)}`).join(', ')})::text`;
  const r = (await knex.raw(`SELECT count(*)::bigint AS n, coalesce(md5(string_agg(t, E'\\n' ORDER BY t)), md5('')) AS md5 FROM (SELECT ${row} AS t FROM ${from} x WHERE ${where}) s`, bindings)).rows[0];
  return { rows: Number(r.n), md5: r.md5, columns };
}

/**
 * Fills archive_sel_sales and archive_sel_returns (temp tables of this transaction) with what of the
 * county's year may leave: sales whose every container is closed (no unit outstanding or expired —
 * an expired one can still come back late — no lot container outstanding or expired), returns with
 * no held refund, no offline refund difference and no incentive points (the ledger check and the
 * points ledger read those live). Then, until nothing changes, a return stays live if it refunded or
 * named a unit of a sale that stays live, and a sale stays live if a return that stays live (of any
 * year) refunded from it or named one of its units — so a unit's sale and its returns are archived
 * together or not at all, and the trace never shows half a life.
 */
export async function selectYear(trx: Knex.Transaction, countyId: string, from: string, to: string): Promise<{ sales: number; returns: number; salesKept: number; returnsKept: number }> {
  await trx.raw('CREATE TEMP TABLE archive_sel_sales (id uuid PRIMARY KEY) ON COMMIT DROP');
  await trx.raw('CREATE TEMP TABLE archive_sel_returns (id uuid PRIMARY KEY) ON COMMIT DROP');
  const c = countyId;
  await trx.raw(`
    INSERT INTO archive_sel_sales (id)
    SELECT s.id FROM sales s
     WHERE s.county_id = ? AND s.business_day >= ? AND s.business_day <= ?
       AND NOT EXISTS (SELECT 1 FROM sold_units u WHERE u.county_id = s.county_id AND u.sale_id = s.id AND u.state IN ('outstanding', 'expired'))
       AND NOT EXISTS (SELECT 1 FROM deposit_lots l WHERE l.county_id = s.county_id AND l.sale_id = s.id AND NOT l.voided AND (l.outstanding > 0 OR l.expired > 0))`, [c, from, to]);
  await trx.raw(`
    INSERT INTO archive_sel_returns (id)
    SELECT r.id FROM returns r
     WHERE r.county_id = ? AND r.business_day >= ? AND r.business_day <= ?
       AND NOT EXISTS (SELECT 1 FROM held_refunds h WHERE h.county_id = r.county_id AND h.return_id = r.id)
       AND NOT EXISTS (SELECT 1 FROM return_items i WHERE i.county_id = r.county_id AND i.return_id = r.id AND (i.refund_difference_fen <> 0 OR i.points_milli <> 0))`, [c, from, to]);
  await trx.raw('ANALYZE archive_sel_sales');
  await trx.raw('ANALYZE archive_sel_returns');
  for (;;) {
    const returnsOut = (await trx.raw(`
      DELETE FROM archive_sel_returns r
       WHERE EXISTS (SELECT 1 FROM return_allocations a JOIN sales s ON s.county_id = a.county_id AND s.id = a.sale_id
                      WHERE a.county_id = ? AND a.return_id = r.id AND NOT EXISTS (SELECT 1 FROM archive_sel_sales k WHERE k.id = s.id))
          OR EXISTS (SELECT 1 FROM return_items i JOIN sold_units u ON u.county_id = i.county_id AND u.unit_code = i.unit_code
                      WHERE i.county_id = ? AND i.return_id = r.id AND NOT EXISTS (SELECT 1 FROM archive_sel_sales k WHERE k.id = u.sale_id))`, [c, c])).rowCount as number;
    const salesOut = (await trx.raw(`
      DELETE FROM archive_sel_sales s
       WHERE EXISTS (SELECT 1 FROM return_allocations a
                      WHERE a.county_id = ? AND a.sale_id = s.id AND NOT EXISTS (SELECT 1 FROM archive_sel_returns k WHERE k.id = a.return_id))
          OR EXISTS (SELECT 1 FROM sold_units u JOIN return_items i ON i.county_id = u.county_id AND i.unit_code = u.unit_code
                      WHERE u.county_id = ? AND u.sale_id = s.id AND NOT EXISTS (SELECT 1 FROM archive_sel_returns k WHERE k.id = i.return_id))`, [c, c])).rowCount as number;
    if (!returnsOut && !salesOut) break;
  }
  const n = (await trx.raw(`
    SELECT (SELECT count(*) FROM archive_sel_sales)::int AS sales, (SELECT count(*) FROM archive_sel_returns)::int AS returns,
           (SELECT count(*) FROM sales WHERE county_id = ? AND business_day >= ? AND business_day <= ?)::int AS all_sales,
           (SELECT count(*) FROM returns WHERE county_id = ? AND business_day >= ? AND business_day <= ?)::int AS all_returns`, [c, from, to, c, from, to])).rows[0];
  return { sales: n.sales, returns: n.returns, salesKept: n.all_sales - n.sales, returnsKept: n.all_returns - n.returns };
}

/**
 * Makes archive_<year> hold every archived table with the live table's columns (created LIKE the
 * live one, with its indexes, without its triggers and foreign keys; columns a later migration added
 * to the live table are added to an older archive table, empty for the rows already there).
 */
export async function ensureArchiveTables(trx: Knex.Transaction, live: string, schema: string): Promise<void> {
  await trx.raw(`CREATE SCHEMA IF NOT EXISTS ${q(schema)}`);
  for (const t of ARCHIVED_TABLES) {
    const have = await columnsOf(trx, schema, t);
    if (!have.length) {
      await trx.raw(`CREATE TABLE ${q(schema)}.${q(t)} (LIKE ${q(live)}.${q(t)} INCLUDING INDEXES)`);
      continue;
    }
    const names = new Set(have.map((h) => h.name));
    for (const col of await columnsOf(trx, live, t)) {
      if (!names.has(col.name)) await trx.raw(`ALTER TABLE ${q(schema)}.${q(t)} ADD COLUMN ${q(col.name)} ${col.type}`);
    }
  }
}

/** Copies the selected rows into the archive, checks them there, and deletes them from the live tables (children first). */
export async function moveSelected(trx: Knex.Transaction, countyId: string, live: string, schema: string): Promise<Record<string, TableDigest>> {
  const out: Record<string, TableDigest> = {};
  for (const t of ARCHIVED_TABLES) {
    const columns = (await columnsOf(trx, live, t)).map((c) => c.name);
    const list = columns.map(q).join(', ');
    const where = `x.county_id = ? AND ${SELECTED[t]}`;
    const before = await digest(trx, `${q(live)}.${q(t)}`, where, [countyId], columns);
    const copied = (await trx.raw(`INSERT INTO ${q(schema)}.${q(t)} (${list}) SELECT ${columns.map((c) => `x.${q(c)}`).join(', ')} FROM ${q(live)}.${q(t)} x WHERE ${where}`, [countyId])).rowCount as number;
    const after = await digest(trx, `${q(schema)}.${q(t)}`, where, [countyId], columns);
    if (copied !== before.rows || after.rows !== before.rows || after.md5 !== before.md5) {
      throw new Error(`archive of ${t}: ${before.rows} live rows (md5 ${before.md5}), ${copied} copied, the archive holds ${after.rows} (md5 ${after.md5})`);
    }
    out[t] = before;
  }
  for (const t of [...ARCHIVED_TABLES].reverse()) {
    const deleted = (await trx.raw(`DELETE FROM ${q(live)}.${q(t)} x WHERE x.county_id = ? AND ${SELECTED[t]}`, [countyId])).rowCount as number;
    if (deleted !== out[t]!.rows) throw new Error(`archive of ${t}: ${out[t]!.rows} rows copied but ${deleted} deleted from the live table`);
  }
  return out;
}

/** The county's rows of the archive, back into the live tables (parents first), checked against `expected`, then out of the archive. */
export async function restoreRows(trx: Knex.Transaction, countyId: string, live: string, schema: string, expected: Record<string, TableDigest>): Promise<{ tables: Record<string, TableDigest>; mismatches: string[] }> {
  const tables: Record<string, TableDigest> = {};
  const mismatches: string[] = [];
  for (const t of ARCHIVED_TABLES) {
    const want = expected[t];
    const liveCols = new Set((await columnsOf(trx, live, t)).map((c) => c.name));
    // The columns the archive run recorded (the live table's then); a column since dropped from the live table cannot come back.
    const columns = want?.columns ?? (await columnsOf(trx, schema, t)).map((c) => c.name);
    const lost = columns.filter((c) => !liveCols.has(c));
    if (lost.length) throw new Error(`${t}: the live table no longer has column(s) ${lost.join(', ')} that the archive holds; restore with the agrireturn version that archived it`);
    const inArchive = await digest(trx, `${q(schema)}.${q(t)}`, 'x.county_id = ?', [countyId], columns);
    const list = columns.map(q).join(', ');
    const copied = (await trx.raw(`INSERT INTO ${q(live)}.${q(t)} (${list}) SELECT ${columns.map((c) => `x.${q(c)}`).join(', ')} FROM ${q(schema)}.${q(t)} x WHERE x.county_id = ?`, [countyId])).rowCount as number;
    // What the live table now holds of those rows, found by its primary key.
    const pk = await primaryKey(trx, live, t);
    const keyList = pk.map((k) => `x.${q(k)}`).join(', ');
    const back = await digest(trx, `${q(live)}.${q(t)}`, `(${keyList}) IN (SELECT ${keyList} FROM ${q(schema)}.${q(t)} x WHERE x.county_id = ?)`, [countyId], columns);
    tables[t] = back;
    if (copied !== inArchive.rows) mismatches.push(`${t}: ${inArchive.rows} archived rows, ${copied} restored`);
    if (back.rows !== inArchive.rows || back.md5 !== inArchive.md5) mismatches.push(`${t}: the live table holds ${back.rows} of the restored rows (md5 ${back.md5}), the archive ${inArchive.rows} (md5 ${inArchive.md5})`);
    if (want && (want.rows !== back.rows || want.md5 !== back.md5)) mismatches.push(`${t}: ${want.rows} rows left at archiving (md5 ${want.md5}), ${back.rows} came back (md5 ${back.md5})`);
  }
  for (const t of [...ARCHIVED_TABLES].reverse()) await trx.raw(`DELETE FROM ${q(schema)}.${q(t)} WHERE county_id = ?`, [countyId]);
  return { tables, mismatches };
}

async function primaryKey(knex: Knex, schema: string, table: string): Promise<string[]> {
  return ((await knex.raw(`
    SELECT a.attname AS name FROM pg_index i
      JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord) ON true
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
     WHERE n.nspname = ? AND c.relname = ? AND i.indisprimary ORDER BY k.ord`, [schema, table])).rows as Array<{ name: string }>).map((r) => r.name);
}

export interface ArchiveRunRow {
  county_id: string; id: string; year: number; action: 'archive' | 'restore'; state: 'running' | 'done'; schema_name: string;
  actor: string; started_at: Date; finished_at: Date | null; tables: Record<string, TableDigest> | null; kept_live: Record<string, number> | null;
}

/** The county's years whose latest finished run is an archive: year → that run. */
export async function archivedYears(knex: Knex, countyId: string): Promise<Map<number, ArchiveRunRow>> {
  const rows = (await knex.raw(`
    SELECT DISTINCT ON (year) * FROM archive_runs WHERE county_id = ? AND state = 'done'
     ORDER BY year, started_at DESC, finished_at DESC`, [countyId])).rows as ArchiveRunRow[];
  return new Map(rows.filter((r) => r.action === 'archive').map((r) => [r.year, r]));
}

/** The archived year that holds a unit code of the county (sold or returned), or null. */
export async function archivedYearOfUnit(knex: Knex, countyId: string, unitCode: string): Promise<number | null> {
  for (const [year, run] of await archivedYears(knex, countyId)) {
    const s = q(run.schema_name);
    const hit = (await knex.raw(`SELECT EXISTS (SELECT 1 FROM ${s}.sold_units WHERE county_id = ? AND unit_code = ?)
                                     OR EXISTS (SELECT 1 FROM ${s}.return_items WHERE county_id = ? AND unit_code = ?) AS hit`, [countyId, unitCode, countyId, unitCode])).rows[0].hit;
    if (hit) return year;
  }
  return null;
}
