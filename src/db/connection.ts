// Opens the database: real PostgreSQL through a pg pool when DATABASE_URL is set, otherwise the
// embedded PGlite (PostgreSQL in WebAssembly) driven through the same knex `pg` client, so one
// driver, one set of type parsers and the same SQL serve both.
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { acquireDirLock, type DirLock } from './dir-lock.js';

let parsersInstalled = false;

/**
 * int8 (count(*), sums of fen) must arrive as numbers we can add, not strings; a value outside the
 * safe-integer range is a bug we want loudly, not silently rounded money. `date` stays 'YYYY-MM-DD'
 * so a business day never shifts through a time zone.
 */
export function installTypeParsers(): void {
  if (parsersInstalled) return;
  parsersInstalled = true;
  pg.types.setTypeParser(20, (v: string) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new Error(`int8 value ${v} exceeds the safe integer range`);
    return n;
  });
  pg.types.setTypeParser(1082, (v: string) => v);
}

export interface Database {
  knex: Knex;
  kind: 'postgres' | 'pglite';
  /** PGlite has a single connection: work that would open a second one must not. */
  singleConnection: boolean;
  /** The embedded engine, for dumping a test template; absent on PostgreSQL. */
  pglite?: PGlite;
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl: string | null;
  dataDir: string;
  poolMax?: number;
  /** Start PGlite from a dumped data directory (tests start every file from a migrated template). */
  pgliteLoadDataDir?: Blob | File;
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  installTypeParsers();
  if (opts.databaseUrl) {
    const knex = knexFactory({
      client: 'pg',
      connection: { connectionString: opts.databaseUrl, application_name: 'agrireturn' },
      pool: { min: 0, max: opts.poolMax ?? 10 },
      acquireConnectionTimeout: 10_000,
    });
    return { knex, kind: 'postgres', singleConnection: false, close: () => knex.destroy() };
  }

  let lock: DirLock | null = null;
  let pglite: PGlite;
  if (opts.dataDir.startsWith('memory://')) {
    pglite = await PGlite.create(opts.pgliteLoadDataDir ? { loadDataDir: opts.pgliteLoadDataDir } : {});
  } else {
    fs.mkdirSync(opts.dataDir, { recursive: true });
    // Two processes on one PGlite directory silently lose data: refuse the second.
    lock = acquireDirLock(opts.dataDir);
    try {
      pglite = await PGlite.create(path.join(opts.dataDir, 'pg'));
    } catch (err) {
      lock.release();
      throw err;
    }
  }
  const knex = knexFactory({
    client: 'pg',
    connection: createPgConfig(pglite) as unknown as Knex.PgConnectionConfig,
    pool: { min: 1, max: 1 },
    acquireConnectionTimeout: 60_000,
  });
  return {
    knex,
    kind: 'pglite',
    singleConnection: true,
    pglite,
    async close() {
      await knex.destroy();
      await pglite.close();
      lock?.release();
    },
  };
}
