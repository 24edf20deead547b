// The PostgreSQL servers the bench runs on: the embedded default (a PostgreSQL 15 server the bench
// starts on a scratch data directory with src/db/embedded-server.ts, exactly as the county server
// starts its own) and the external server of DATABASE_URL. On either, every measurement gets its own
// throwaway database, created here and dropped afterwards.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedServer, type EmbeddedServer } from '../src/db/embedded-server.js';
import type { BenchDatabase } from './harness.js';

export const DEFAULT_EXTERNAL_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface DatabaseTarget {
  kind: BenchDatabase;
  /** For people: what and where, without a password. */
  description: string;
  version: string;
  settings: Record<string, string>;
  urlFor(database: string): string;
  create(database: string): Promise<void>;
  drop(database: string): Promise<void>;
  /** The postmaster's pid when the server runs on this machine (for its CPU time), else null. */
  postmasterPid(): Promise<number | null>;
  close(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function withClient<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

async function describe(adminUrl: string): Promise<{ version: string; settings: Record<string, string> }> {
  return withClient(adminUrl, async (c) => {
    const version = (await c.query('SHOW server_version')).rows[0].server_version as string;
    const names = ['fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_connections', 'wal_level'];
    const rows = (await c.query('SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)', [names])).rows as Array<{ name: string; setting: string; unit: string | null }>;
    const settings: Record<string, string> = {};
    for (const r of rows) settings[r.name] = r.name === 'shared_buffers' ? `${(Number(r.setting) * 8) / 1024} MB` : r.setting;
    return { version, settings };
  });
}

function target(kind: BenchDatabase, description: string, adminUrl: string, info: { version: string; settings: Record<string, string> }, onClose: () => Promise<void>): DatabaseTarget {
  const created = new Set<string>();
  return {
    kind, description, ...info,
    urlFor: (database) => withDatabase(adminUrl, database),
    async create(database) {
      await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${database}`));
      created.add(database);
    },
    async drop(database) {
      await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
      created.delete(database);
    },
    async postmasterPid() {
      const backend = await withClient(adminUrl, async (c) => Number((await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid));
      // The backend that answered is a child of the postmaster; only when it is a process on this machine.
      try {
        const stat = fs.readFileSync(`/proc/${backend}/stat`, 'utf8');
        if (!stat.includes('(postgres)')) return null;
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      } catch {
        return null;
      }
    },
    async close() {
      for (const d of [...created]) await this.drop(d).catch(() => undefined);
      await onClose();
    },
  };
}

/** A fresh embedded PostgreSQL 15 server on a scratch data directory, removed again on close. */
export async function embeddedTarget(): Promise<DatabaseTarget> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-bench-pg-'));
  let server: EmbeddedServer;
  try {
    server = await startEmbeddedServer({ dataDir: dir, role: 'test' });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const adminUrl = server.url('postgres');
  const t = target('embedded', `embedded PostgreSQL server (src/db/embedded-server.ts) on ${dir}, port ${server.port()}`, adminUrl, await describe(adminUrl), async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  t.postmasterPid = async () => server.postmasterPid();
  return t;
}

export async function externalTarget(url: string): Promise<DatabaseTarget> {
  const u = new URL(url);
  return target('external', `external PostgreSQL server ${u.hostname}:${u.port || 5432} (DATABASE_URL)`, url, await describe(url), async () => undefined);
}
