// Every test file starts from a clean, migrated and seeded database copied from a template database
// made once per run (CREATE DATABASE … TEMPLATE), on one of two servers: the external PostgreSQL
// server of DATABASE_URL, or — without it — ONE embedded PostgreSQL 15 server the suite starts in a
// temporary directory (the same code `npm start` runs), stopped and removed at the end of the run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, installTypeParsers, type Database } from '../../src/db/connection.js';
import { startEmbeddedServer, type EmbeddedServer } from '../../src/db/embedded-server.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { seedDemoCounty } from '../../seeds/demo-county.js';
import { seedOtherCounty } from './other-county.js';

export const BACKEND: 'postgres' | 'embedded' = process.env.DATABASE_URL ? 'postgres' : 'embedded';
const RUN_TAG = `${process.pid}_${Date.now().toString(36)}`;
const TEMPLATE = `agrireturn_tpl_${RUN_TAG}`;

let embedded: Promise<{ server: EmbeddedServer; dir: string }> | null = null;
let pgTemplate: Promise<void> | null = null;
let counter = 0;
const created: string[] = [];

/** The suite's embedded server, started on first use. */
export function suiteEmbeddedServer(): Promise<EmbeddedServer> {
  embedded ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-suite-pg-'));
    return { dir, server: await startEmbeddedServer({ dataDir: dir, role: 'test' }) };
  })();
  return embedded.then((e) => e.server);
}

async function serverUrl(): Promise<string> {
  if (BACKEND === 'postgres') return process.env.DATABASE_URL!;
  return (await suiteEmbeddedServer()).url('postgres');
}

async function urlFor(database: string): Promise<string> {
  const u = new URL(await serverUrl());
  u.pathname = `/${database}`;
  return u.toString();
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: await serverUrl() });
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

async function openOn(name: string, poolMax: number, drop: boolean): Promise<Database> {
  const db = await openDatabase({ databaseUrl: await urlFor(name), dataDir: '', poolMax });
  const close = db.close;
  return {
    ...db,
    kind: BACKEND,
    async close() {
      await close();
      if (drop) {
        await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        if (created.includes(name)) created.splice(created.indexOf(name), 1);
      }
    },
  };
}

export async function freshDatabase(): Promise<Database> {
  installTypeParsers();
  pgTemplate ??= (async () => {
    await adminQuery(`CREATE DATABASE ${TEMPLATE}`);
    created.push(TEMPLATE);
    const db = await openDatabase({ databaseUrl: await urlFor(TEMPLATE), dataDir: '', poolMax: 2 });
    await prepare(db);
    await db.close();
  })();
  await pgTemplate;
  const name = `agrireturn_t_${RUN_TAG}_${++counter}`;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
  created.push(name);
  return openOn(name, 8, true);
}

/** An empty database on the suite's server, for tests that need one (e.g. the seed's own test). */
export async function emptyDatabase(): Promise<Database> {
  const name = `agrireturn_e_${RUN_TAG}_${++counter}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  created.push(name);
  return openOn(name, 4, true);
}

/**
 * An empty throwaway database on the suite's server for tests that hand it to another process (a
 * CLI, a spawned server): its URL, and drop() (also dropped at the end of the run if a test forgets).
 */
export async function throwawayDatabase(tag: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `agrireturn_${tag}_${RUN_TAG}_${++counter}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  created.push(name);
  return {
    name,
    url: await urlFor(name),
    async drop() {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      if (created.includes(name)) created.splice(created.indexOf(name), 1);
    },
  };
}

/** End of the run: drop what is left on the external server; stop and remove the embedded one. */
export async function endOfRun(): Promise<void> {
  if (BACKEND === 'postgres') {
    for (const name of [...created].reverse()) await adminQuery(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
    return;
  }
  if (!embedded) return;
  const { server, dir } = await embedded;
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
