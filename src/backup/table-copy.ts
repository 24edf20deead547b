// The one place that knows how a county database is copied table by table: which tables, in which
// order (foreign keys first), which columns, the sequences, and COPY streams out of and into them.
// Backups, restores and `db:move` are all built from these pieces, so they cannot disagree.
import type { Knex } from 'knex';
import type pg from 'pg';
import { to as copyTo, from as copyFrom } from 'pg-copy-streams';
import type { Readable, Writable } from 'node:stream';
import type { Database } from '../db/connection.js';
import { migrationStatus, migrateUpTo } from '../db/migrator.js';

export interface TableInfo {
  name: string;
  /** Stored columns in attribute order (generated columns are left out: COPY FROM refuses them). */
  columns: string[];
  /** An archived year's table (schema archive_<year>, docs/traceability.md "Archive by year"); absent for the live schema. */
  schema?: string;
  /** The archive table's column types (format_type), so a target can create it. */
  types?: string[];
}

/** The table's name as SQL: schema-qualified for an archive table, bare (the live schema) otherwise. */
export const qualifiedName = (t: TableInfo): string => (t.schema ? `${quoteIdent(t.schema)}.${quoteIdent(t.name)}` : quoteIdent(t.name));

/** Every table of the archive schemas (archive_<year>), by schema and name: copied after the live tables. */
export async function archiveTables(client: pg.ClientBase): Promise<TableInfo[]> {
  return (await client.query<{ schema: string; name: string; columns: string[]; types: string[] }>(`
    SELECT n.nspname::text AS schema, c.relname::text AS name,
           array_agg(a.attname::text ORDER BY a.attnum) AS columns,
           array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum) AS types
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname ~ '^archive_[0-9]{4}$'
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
     WHERE c.relkind = 'r'
     GROUP BY n.nspname, c.relname
     ORDER BY n.nspname, c.relname`)).rows.map((r) => ({ schema: r.schema, name: r.name, columns: r.columns, types: r.types }));
}

/**
 * Creates a copy's archive tables in the target, inside its transaction: shaped like the live table
 * of the same name with its indexes (as `npm run archive` creates them), columns the archive has and
 * the live table lacks added, and live columns the archive lacks left nullable.
 */
export async function createArchiveTables(client: pg.ClientBase, tables: TableInfo[]): Promise<void> {
  for (const t of tables) {
    if (!t.schema) continue;
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(t.schema)}`);
    const live = (await client.query<{ name: string }>(`
      SELECT a.attname::text AS name FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = current_schema() AND c.relname = $1 AND a.attnum > 0 AND NOT a.attisdropped`, [t.name])).rows.map((r) => r.name);
    if (live.length) {
      await client.query(`CREATE TABLE ${qualifiedName(t)} (LIKE ${quoteIdent(t.name)} INCLUDING INDEXES)`);
      for (const [i, col] of t.columns.entries()) if (!live.includes(col)) await client.query(`ALTER TABLE ${qualifiedName(t)} ADD COLUMN ${quoteIdent(col)} ${t.types?.[i] ?? 'text'}`);
      for (const col of live) if (!t.columns.includes(col)) await client.query(`ALTER TABLE ${qualifiedName(t)} ALTER COLUMN ${quoteIdent(col)} DROP NOT NULL`);
    } else {
      await client.query(`CREATE TABLE ${qualifiedName(t)} (${t.columns.map((c, i) => `${quoteIdent(c)} ${t.types?.[i] ?? 'text'}`).join(', ')})`);
    }
  }
}

export interface SequenceValue {
  name: string;
  lastValue: number;
  isCalled: boolean;
}

/** Tables the migrator owns: carried in a backup so its version is visible, never copied into a target. */
export const MIGRATOR_TABLES = new Set(['knex_migrations', 'knex_migrations_lock']);

export class CopyRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyRefusedError';
  }
}

/** COPY needs a real PostgreSQL connection; the embedded PGlite engine speaks no COPY protocol. */
export function assertCopyCapable(db: Database): void {
  if (db.kind !== 'postgres' && db.kind !== 'embedded') {
    throw new CopyRefusedError('backup, restore and db:move need a PostgreSQL server (DATABASE_URL); the embedded PGlite database is backed up by stopping the server and copying DATA_DIR');
  }
}

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** A raw pg client from the knex pool, for COPY; give it back with `release`. */
export async function withClient<T>(knex: Knex, work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  const client = (await knex.client.acquireConnection()) as pg.ClientBase;
  try {
    return await work(client);
  } finally {
    await knex.client.releaseConnection(client);
  }
}

/**
 * Every base table of the current schema, parents before children (a foreign key's target comes
 * first; a table's reference to itself needs no order because PostgreSQL checks a non-deferred
 * foreign key at the end of the COPY statement). Ties are broken by name so the order is stable.
 */
export async function tablesInDependencyOrder(client: pg.ClientBase): Promise<TableInfo[]> {
  const tables = (await client.query<{ name: string; columns: string[] }>(`
    SELECT c.relname AS name,
           array_agg(a.attname::text ORDER BY a.attnum) AS columns
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
     WHERE c.relkind IN ('r', 'p')
     GROUP BY c.relname`)).rows;
  const edges = (await client.query<{ child: string; parent: string }>(`
    SELECT DISTINCT ch.relname AS child, pa.relname AS parent
      FROM pg_constraint k
      JOIN pg_class ch ON ch.oid = k.conrelid
      JOIN pg_class pa ON pa.oid = k.confrelid
      JOIN pg_namespace n ON n.oid = ch.relnamespace AND n.nspname = current_schema()
     WHERE k.contype = 'f' AND k.conrelid <> k.confrelid`)).rows;
  const parents = new Map<string, Set<string>>(tables.map((t) => [t.name, new Set<string>()]));
  for (const e of edges) if (parents.has(e.child) && parents.has(e.parent)) parents.get(e.child)!.add(e.parent);
  const byName = new Map(tables.map((t) => [t.name, t]));
  const out: TableInfo[] = [];
  const done = new Set<string>();
  while (done.size < tables.length) {
    const ready = [...parents.keys()].filter((n) => !done.has(n) && [...parents.get(n)!].every((p) => done.has(p))).sort();
    if (!ready.length) throw new Error(`foreign keys form a cycle among: ${[...parents.keys()].filter((n) => !done.has(n)).join(', ')}`);
    for (const n of ready) {
      done.add(n);
      out.push({ name: n, columns: byName.get(n)!.columns });
    }
  }
  return out;
}

/** Current values of every sequence of the schema (not transactional: at least the snapshot's). */
export async function sequenceValues(client: pg.ClientBase): Promise<SequenceValue[]> {
  const names = (await client.query<{ name: string }>(`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
     WHERE c.relkind = 'S' ORDER BY c.relname`)).rows;
  const out: SequenceValue[] = [];
  for (const { name } of names) {
    const r = (await client.query<{ last_value: string; is_called: boolean }>(`SELECT last_value::text, is_called FROM ${quoteIdent(name)}`)).rows[0]!;
    out.push({ name, lastValue: Number(r.last_value), isCalled: r.is_called });
  }
  return out;
}

export async function setSequences(client: pg.ClientBase, values: SequenceValue[]): Promise<void> {
  for (const s of values) await client.query('SELECT setval($1::regclass, $2::bigint, $3)', [quoteIdent(s.name), s.lastValue, s.isCalled]);
}

/**
 * Run in a restore's or move's target transaction before its COPYs: derived-row triggers (the
 * reconciliation books' dirty-day marks) stand aside, because the copy brings the source's own
 * books and marks, consistent with its snapshot, and every row count must match the manifest.
 */
export const MARK_AS_COPY_SQL = `SELECT set_config('agrireturn.copying', 'on', true)`;

/** A table's rows as COPY text (one line per row, newline-terminated). */
export function copyOut(client: pg.ClientBase, table: TableInfo): Readable & { rowCount: number } {
  return client.query(copyTo(`COPY ${qualifiedName(table)} (${table.columns.map(quoteIdent).join(', ')}) TO STDOUT`));
}

/** A writable that loads COPY text lines into a table; `rowCount` once it has finished. */
export function copyIn(client: pg.ClientBase, table: TableInfo): Writable & { rowCount: number } {
  return client.query(copyFrom(`COPY ${qualifiedName(table)} (${table.columns.map(quoteIdent).join(', ')}) FROM STDIN`));
}

/** Tables (other than the migrator's) that hold rows: a restore or move target must have none. */
export async function nonEmptyTables(client: pg.ClientBase): Promise<string[]> {
  const out: string[] = [];
  for (const t of await tablesInDependencyOrder(client)) {
    if (MIGRATOR_TABLES.has(t.name)) continue;
    const r = await client.query(`SELECT 1 FROM ${quoteIdent(t.name)} LIMIT 1`);
    if (r.rowCount) out.push(t.name);
  }
  return out;
}

/** Applied migration names, oldest first ([] when the migrator has never run). */
export async function appliedMigrations(client: pg.ClientBase): Promise<string[]> {
  const exists = (await client.query(`SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() WHERE c.relname = 'knex_migrations'`)).rowCount;
  if (!exists) return [];
  return (await client.query<{ name: string }>('SELECT name FROM knex_migrations ORDER BY id')).rows.map((r) => r.name);
}

/**
 * Prepares an empty target for `migrations`: refuses one that holds data or was migrated along a
 * different path, checks this program knows every migration, then migrates it exactly that far.
 */
export async function prepareTarget(target: Knex, migrations: string[]): Promise<void> {
  await withClient(target, async (client) => {
    const full = await nonEmptyTables(client);
    if (full.length) throw new CopyRefusedError(`the target database is not empty (rows in ${full.slice(0, 5).join(', ')}${full.length > 5 ? ', …' : ''}); restore or move only into a new, empty database — nothing is ever deleted to make room`);
    const done = await appliedMigrations(client);
    const prefix = done.every((name, i) => migrations[i] === name);
    if (!prefix) throw new CopyRefusedError(`the target database was migrated to ${done.at(-1)}, which the source (at ${migrations.at(-1)}) does not have in that order; use a new, empty database`);
  });
  const status = await migrationStatus(target);
  const known = new Set([...status.done, ...status.pending]);
  const unknown = migrations.filter((m) => !known.has(m));
  if (unknown.length) throw new CopyRefusedError(`the source database has migrations this program does not know (${unknown.join(', ')}); run the restore with the agrireturn version that made it, or a newer one`);
  if (migrations.length) await migrateUpTo(target, migrations.at(-1)!);
}
