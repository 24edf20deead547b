// The schema stays distributable on Citus by county_id (docs/scale.md): read from the LIVE schema after
// every migration (pg_catalog), checked against docs/citus/distribute.sql —
// - every table is classified exactly once there (distributed by county_id, or reference), so a new
//   table without a classification fails here;
// - a distributed (county) table has a NOT NULL county_id, and every primary key, unique constraint,
//   unique index and exclusion constraint of it includes county_id;
// - every foreign key of a distributed table to another distributed table pairs county_id with
//   county_id; to a reference table it may point anywhere;
// - a reference (global) table has no foreign key to a distributed table;
// - the file creates every foreign key's target before the table that references it.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from '../../src/db/connection.js';
import { emptyDatabase } from '../support/test-db.js';
import { migrateLatest } from '../../src/db/migrator.js';

const SQL_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../docs/citus/distribute.sql');

/** Exceptions to the rules, each with its reason; empty today (keep it so, or say why here). */
const EXCEPTIONS: Array<{ table: string; constraint: string; reason: string }> = [];

interface Classification {
  kind: 'distributed' | 'reference';
  column: string | null;
  line: number;
}

/** create_distributed_table / create_reference_table calls of the file, comments ignored. */
export function parseDistributeSql(text: string): { tables: Map<string, Classification>; duplicates: string[] } {
  const tables = new Map<string, Classification>();
  const duplicates: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/--.*$/, '');
    const re = /create_(distributed|reference)_table\(\s*'([^']+)'(?:\s*,\s*'([^']+)')?/g;
    for (let m = re.exec(line); m; m = re.exec(line)) {
      const name = m[2]!;
      if (tables.has(name)) duplicates.push(name);
      else tables.set(name, { kind: m[1] as Classification['kind'], column: m[3] ?? null, line: i + 1 });
    }
  });
  return { tables, duplicates };
}

interface KeyRow { table: string; name: string; kind: string; columns: string[] }
interface FkRow { table: string; name: string; columns: string[]; target: string; target_columns: string[] }
interface Schema { tables: string[]; countyIdNullable: Map<string, boolean>; keys: KeyRow[]; fks: FkRow[] }

async function readSchema(db: Database): Promise<Schema> {
  const q = async <T>(sql: string) => (await db.knex.raw(sql)).rows as T[];
  const tables = (await q<{ name: string }>(`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`)).map((r) => r.name);
  const countyIdNullable = new Map((await q<{ table: string; nullable: boolean }>(`
    SELECT c.relname AS table, NOT a.attnotnull AS nullable FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
     WHERE a.attname = 'county_id' AND NOT a.attisdropped AND c.relkind IN ('r', 'p')`)).map((r) => [r.table, r.nullable]));
  // Primary keys, unique constraints, exclusion constraints and unique indexes (constraint or not).
  const keys = await q<KeyRow>(`
    SELECT c.relname AS table, i.relname AS name, CASE WHEN x.indisprimary THEN 'primary key' WHEN x.indisunique THEN 'unique' ELSE 'exclusion' END AS kind,
           array(SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY k(attnum, o) JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ORDER BY k.o) AS columns
      FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
     WHERE x.indisunique OR x.indisexclusion OR x.indisprimary`);
  const fks = await q<FkRow>(`
    SELECT c.relname AS table, k.conname AS name, t.relname AS target,
           array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(attnum, o) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum ORDER BY u.o) AS columns,
           array(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(attnum, o) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum ORDER BY u.o) AS target_columns
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class t ON t.oid = k.confrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
     WHERE k.contype = 'f'`);
  return { tables, countyIdNullable, keys, fks };
}

const excepted = (table: string, constraint: string) => EXCEPTIONS.some((e) => e.table === table && e.constraint === constraint);

/** Every broken rule, by rule (each list empty when the schema and the file agree). */
function problems(schema: Schema, file: ReturnType<typeof parseDistributeSql>) {
  const kind = (t: string) => file.tables.get(t)?.kind;
  return {
    duplicates: file.duplicates,
    unclassified: schema.tables.filter((t) => !file.tables.has(t)),
    unknown: [...file.tables.keys()].filter((t) => !schema.tables.includes(t)),
    distribution: [...file.tables].filter(([t, c]) => c.kind === 'distributed' && (c.column !== 'county_id' || schema.countyIdNullable.get(t) !== false))
      .map(([t, c]) => `${t}: distributed by ${c.column}, county_id ${schema.countyIdNullable.has(t) ? (schema.countyIdNullable.get(t) ? 'nullable' : 'not null') : 'missing'}`),
    keys: schema.keys.filter((k) => kind(k.table) === 'distributed' && !k.columns.includes('county_id') && !excepted(k.table, k.name))
      .map((k) => `${k.table}.${k.name} (${k.kind} on ${k.columns.join(', ')})`),
    countyForeignKeys: schema.fks.filter((f) => kind(f.table) === 'distributed' && kind(f.target) === 'distributed' && !excepted(f.table, f.name) && f.target_columns[f.columns.indexOf('county_id')] !== 'county_id')
      .map((f) => `${f.table}.${f.name}: (${f.columns.join(', ')}) → ${f.target} (${f.target_columns.join(', ')})`),
    globalForeignKeys: schema.fks.filter((f) => kind(f.table) === 'reference' && kind(f.target) !== 'reference' && !excepted(f.table, f.name)).map((f) => `${f.table}.${f.name} → ${f.target}`),
    order: schema.fks.filter((f) => f.table !== f.target && (file.tables.get(f.target)?.line ?? Infinity) > (file.tables.get(f.table)?.line ?? -1))
      .map((f) => `${f.table} (line ${file.tables.get(f.table)?.line}) references ${f.target} (line ${file.tables.get(f.target)?.line})`),
  };
}

describe('Citus colocation: the live schema distributes by county_id (docs/citus/distribute.sql)', function () {
  this.timeout(120_000);
  let db: Database;
  let schema: Schema;
  let found: ReturnType<typeof problems>;
  const file = parseDistributeSql(fs.readFileSync(SQL_FILE, 'utf8'));

  before(async () => {
    db = await emptyDatabase();
    await migrateLatest(db.knex);
    schema = await readSchema(db);
    found = problems(schema, file);
  });
  after(async () => db?.close());

  it('classifies every table of the schema exactly once, and nothing that is not a table', () => {
    expect(found.duplicates, 'tables classified twice').to.deep.equal([]);
    expect(found.unclassified, 'tables missing from docs/citus/distribute.sql (add a create_distributed_table or create_reference_table line)').to.deep.equal([]);
    expect(found.unknown, 'classified but not in the schema').to.deep.equal([]);
    expect(schema.tables.length).to.be.greaterThan(40);
    expect([...file.tables.values()].filter((c) => c.kind === 'reference').length).to.be.within(3, 12);
  });

  it('distributes county tables by county_id, NOT NULL', () => {
    expect(found.distribution).to.deep.equal([]);
  });

  it('includes county_id in every primary key, unique key and unique index of a county table', () => {
    expect(found.keys).to.deep.equal([]);
    // It was really looked at (a table may have no primary key at all, e.g. reconciliation_dirty_days: Citus allows that).
    const withKey = [...file.tables].filter(([t, c]) => c.kind === 'distributed' && schema.keys.some((k) => k.table === t && k.kind === 'primary key' && k.columns.includes('county_id')));
    expect(withKey.length).to.be.greaterThan(40);
  });

  it('pairs county_id with county_id in every foreign key between county tables', () => {
    expect(schema.fks.filter((f) => file.tables.get(f.table)?.kind === 'distributed' && file.tables.get(f.target)?.kind === 'distributed').length).to.be.greaterThan(30);
    expect(found.countyForeignKeys).to.deep.equal([]);
  });

  it('lets global (reference) tables only be referenced, never reference a county table', () => {
    expect(found.globalForeignKeys).to.deep.equal([]);
  });

  it('creates every foreign key target before the table that references it', () => {
    expect(found.order).to.deep.equal([]);
  });

  it('the checks bite: drift added to the live schema is caught, rule by rule', async () => {
    await db.knex.raw(`CREATE TABLE drift_unclassified (county_id varchar(6) NOT NULL, id uuid NOT NULL, PRIMARY KEY (county_id, id))`);
    await db.knex.raw(`CREATE TABLE drift_county (county_id varchar(6) NOT NULL, id uuid NOT NULL, shop_id uuid, code text, PRIMARY KEY (id), UNIQUE (code))`);
    await db.knex.raw(`CREATE UNIQUE INDEX drift_county_code_shop ON drift_county (shop_id, code)`);
    await db.knex.raw(`CREATE TABLE drift_child (county_id varchar(6) NOT NULL, other_county varchar(6) NOT NULL, shop_id uuid NOT NULL, PRIMARY KEY (county_id, shop_id),
                         FOREIGN KEY (other_county, shop_id) REFERENCES shops (county_id, id))`);
    await db.knex.raw(`CREATE TABLE drift_global (id uuid PRIMARY KEY, county_id varchar(6), shop_id uuid, FOREIGN KEY (county_id, shop_id) REFERENCES shops (county_id, id))`);
    const text = `${fs.readFileSync(SQL_FILE, 'utf8')}
SELECT create_distributed_table('drift_county', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('drift_child', 'county_id', colocate_with => 'townships');
SELECT create_reference_table('drift_global');
SELECT create_reference_table('counties');`;
    const drift = problems(await readSchema(db), parseDistributeSql(text));
    expect(drift.duplicates).to.deep.equal(['counties']);
    expect(drift.unclassified).to.deep.equal(['drift_unclassified']);
    expect(drift.keys).to.have.members(['drift_county.drift_county_pkey (primary key on id)', 'drift_county.drift_county_code_key (unique on code)', 'drift_county.drift_county_code_shop (unique on shop_id, code)']);
    expect(drift.countyForeignKeys).to.have.length(1);
    expect(drift.countyForeignKeys[0]).to.match(/^drift_child\./);
    expect(drift.globalForeignKeys).to.have.length(1);
    expect(drift.globalForeignKeys[0]).to.match(/^drift_global\..* → shops$/);
    expect(drift.order).to.deep.equal([]); // appended after their parents
  });
});
