// Every test file starts from a clean, migrated and seeded database on either backend:
// PGlite loads a dumped data directory made once per run; PostgreSQL copies a template database
// made once per run (CREATE DATABASE … TEMPLATE). Both take well under a second per file.
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { openDatabase, installTypeParsers, type Database } from '../../src/db/connection.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { seedDemoCounty } from '../../seeds/demo-county.js';
import { seedOtherCounty } from './other-county.js';

export const BACKEND: 'postgres' | 'pglite' = process.env.DATABASE_URL ? 'postgres' : 'pglite';
const SERVER_URL = process.env.DATABASE_URL ?? '';
const RUN_TAG = `${process.pid}_${Date.now().toString(36)}`;
const TEMPLATE = `agrireturn_tpl_${RUN_TAG}`;

let pgliteDump: Promise<Blob> | null = null;
let pgTemplate: Promise<void> | null = null;
let counter = 0;
const created: string[] = [];

function urlFor(database: string): string {
  const u = new URL(SERVER_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function prepare(db: Database): Promise<void> {
  await migrateLatest(db.knex);
  await seedDemoCounty(db.knex, { farmers: 40 });
  await seedOtherCounty(db.knex);
}

export async function freshDatabase(): Promise<Database> {
  installTypeParsers();
  if (BACKEND === 'pglite') {
    pgliteDump ??= (async () => {
      const db = await openDatabase({ databaseUrl: null, dataDir: 'memory://' });
      await prepare(db);
      const dump = await (db.pglite as PGlite).dumpDataDir('none');
      await db.close();
      return dump;
    })();
    const dump = await pgliteDump;
    return openDatabase({ databaseUrl: null, dataDir: 'memory://', pgliteLoadDataDir: dump });
  }
  pgTemplate ??= (async () => {
    await adminQuery(`CREATE DATABASE ${TEMPLATE}`);
    created.push(TEMPLATE);
    const db = await openDatabase({ databaseUrl: urlFor(TEMPLATE), dataDir: '', poolMax: 2 });
    await prepare(db);
    await db.close();
  })();
  await pgTemplate;
  const name = `agrireturn_t_${RUN_TAG}_${++counter}`;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
  created.push(name);
  const db = await openDatabase({ databaseUrl: urlFor(name), dataDir: '', poolMax: 8 });
  const close = db.close;
  return {
    ...db,
    async close() {
      await close();
      await adminQuery(`DROP DATABASE IF EXISTS ${name}`);
      created.splice(created.indexOf(name), 1);
    },
  };
}

/** A server-side database for tests that need an empty one (e.g. the seed's own test). */
export async function emptyDatabase(): Promise<Database> {
  if (BACKEND === 'pglite') return openDatabase({ databaseUrl: null, dataDir: 'memory://' });
  const name = `agrireturn_e_${RUN_TAG}_${++counter}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  created.push(name);
  const db = await openDatabase({ databaseUrl: urlFor(name), dataDir: '', poolMax: 4 });
  const close = db.close;
  return { ...db, async close() { await close(); await adminQuery(`DROP DATABASE IF EXISTS ${name}`); } };
}

/**
 * An empty throwaway PostgreSQL database for tests that hand it to another process (a CLI, a spawned
 * server): its URL, and drop() (also dropped at the end of the run if a test forgets).
 */
export async function throwawayDatabase(tag: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  if (BACKEND !== 'postgres') throw new Error('throwawayDatabase needs DATABASE_URL');
  const name = `agrireturn_${tag}_${RUN_TAG}_${++counter}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  created.push(name);
  return {
    name,
    url: urlFor(name),
    async drop() {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      if (created.includes(name)) created.splice(created.indexOf(name), 1);
    },
  };
}

export async function dropLeftovers(): Promise<void> {
  if (BACKEND !== 'postgres') return;
  for (const name of [...created].reverse()) await adminQuery(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
}
