// `npm run bench`: throughput and latency of the county server over HTTP against PostgreSQL, each
// beside the rate of a raw single-row INSERT transaction on the same database in the same run (the
// ratio is the figure that matters: it says how much of the database's write rate a request keeps).
// Sections live in bench/sections/*.ts and export a BenchSection; every one found is run.
// Not a timed test. DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) names the
// server; the bench creates and drops its own database there.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrator.js';
import { createApp } from '../src/http/app.js';
import { createLogger } from '../src/logger.js';
import { systemClock, type AppDeps } from '../src/app-deps.js';
import { seedDemoCounty, DEMO_PASSWORD } from '../seeds/demo-county.js';
import { drive, type BenchRow, type BenchSection } from './harness.js';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '1,4,16').split(',').map(Number);
const DB_NAME = `agrireturn_bench_${process.pid}`;

function urlFor(database: string): string {
  const u = new URL(SERVER_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: SERVER_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function loadSections(): Promise<BenchSection[]> {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sections');
  const out: BenchSection[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.ts')).sort()) {
    const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as Record<string, unknown>;
    for (const v of Object.values(mod)) {
      if (v && typeof v === 'object' && 'run' in v && 'name' in v) out.push(v as BenchSection);
    }
  }
  const only = process.env.BENCH_SECTIONS?.split(',');
  return only ? out.filter((s) => only.includes(s.name)) : out;
}

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');

await admin(`CREATE DATABASE ${DB_NAME}`);
const poolMax = Math.max(...CONCURRENCIES) + 4;
const db = await openDatabase({ databaseUrl: urlFor(DB_NAME), dataDir: '', poolMax });
let server: http.Server | null = null;
try {
  await migrateLatest(db.knex);
  await seedDemoCounty(db.knex, { farmers: 40 });
  await db.knex.raw('CREATE TABLE bench_raw_insert (id bigserial PRIMARY KEY, county_id varchar(6) NOT NULL, payload text NOT NULL, at timestamptz NOT NULL DEFAULT now())');

  const config = loadConfig({ ...process.env, NODE_ENV: 'production', JWT_SECRET: 'bench-secret-that-is-long-enough-0123456789', LOG_LEVEL: 'silent' });
  const deps: AppDeps = { db, config, logger: createLogger('silent'), clock: systemClock, jwtSecret: 'bench-secret-that-is-long-enough-0123456789' };
  server = http.createServer(createApp(deps));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  const tokens = new Map<string, string>();
  const token = async (username: string) => {
    if (!tokens.has(username)) {
      const res = await fetch(`${baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: DEMO_PASSWORD }) });
      tokens.set(username, `Bearer ${((await res.json()) as { accessToken: string }).accessToken}`);
    }
    return tokens.get(username)!;
  };

  console.log(`agrireturn bench: PostgreSQL ${(await db.knex.raw('SHOW server_version')).rows[0].server_version}, ${SECONDS} s per measurement, concurrency ${CONCURRENCIES.join('/')}`);
  const baseline = new Map<number, BenchRow>();
  for (const c of CONCURRENCIES) {
    baseline.set(c, await drive('baseline', 'raw INSERT tx', c, SECONDS, async () => {
      await db.knex.transaction(async (trx) => {
        await trx('bench_raw_insert').insert({ county_id: '511425', payload: 'x' });
      });
      return true;
    }));
  }
  const rows: BenchRow[] = [...baseline.values()];
  for (const section of await loadSections()) {
    for (const r of await section.run({ baseUrl, knex: db.knex, token, seconds: SECONDS, concurrencies: CONCURRENCIES })) {
      rows.push({ ...r, baselinePerSecond: baseline.get(r.concurrency)?.perSecond ?? NaN });
    }
  }
  console.log('');
  console.log(['section', 'operation', 'clients', 'ops', 'errors', 'ops/s', 'p50 ms', 'p99 ms', 'raw INSERT tx/s', 'ratio'].join('\t'));
  for (const r of rows) {
    const base = r.section === 'baseline' ? r.perSecond : r.baselinePerSecond ?? NaN;
    console.log([r.section, r.operation, r.concurrency, r.ops, r.errors, fmt(r.perSecond), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), fmt(base), fmt(r.perSecond / base, 3)].join('\t'));
  }
} finally {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await db.close();
  await admin(`DROP DATABASE IF EXISTS ${DB_NAME}`);
}
