// `npm run bench`: throughput, latency and CPU per operation of the county server, each beside what
// the same PostgreSQL server does on its own in the same run — pgbench TPC-B at 16 clients and raw
// INSERT transactions — and beside main's figures before the batch-native work (bench/before.json).
// Prints one table. docs/performance.md describes the options, the machine and the figures.
//
// Fair by construction: the county server runs as its own process (src/main.ts, as `npm start` runs
// it) and the HTTP clients run here, so the server's CPU is what is measured (read from /proc). Every
// section gets a fresh throwaway database and a fresh server process; by default on both the embedded
// PostgreSQL 15 server (started here on a scratch directory, as the county server starts its own) and
// the external server of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).
//
//   npm run bench -- [--sections sync,ledger,…] [--db embedded|external|both] [--seconds S]
//                    [--concurrency 1,4,16] [--history UNITS] [--no-pgbench] [--cpu-prof DIR] [--json FILE]
//   npm run bench -- --table-from FILE      (the table again, from a run's --json file)
//
// Not a timed test: nothing here passes or fails on speed.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { openDatabase } from '../src/db/connection.js';
import { DEMO_PASSWORD } from '../seeds/demo-county.js';
import { drive, postgresCpuMs, processCpuMs, setCpuSampler, type BenchContext, type BenchDatabase, type BenchRow, type BenchSection } from './harness.js';
import { findPgbench, runPgbench } from './pgbench.js';
import { startServerProcess } from './server-process.js';
import { formatTable, loadBefore } from './table.js';
import { DEFAULT_EXTERNAL_URL, embeddedTarget, externalTarget, type DatabaseTarget } from './targets.js';

/** Sections run in this order; any other file in bench/sections runs after them, by name. */
const ORDER = ['sync', 'sync-returns', 'ledger', 'responsiveness', 'history', 'dashboard', 'province', 'devices'];

const USAGE = 'usage: npm run bench -- [--sections a,b] [--db embedded|external|both] [--seconds S] [--concurrency 1,4,16] [--history UNITS (0 = skip)] [--no-pgbench] [--cpu-prof DIR] [--json FILE] | --table-from FILE';

interface Options {
  sections: string[] | null;
  dbs: BenchDatabase[];
  seconds: number;
  concurrencies: number[];
  historyUnits: number;
  pgbench: boolean;
  cpuProfDir: string | null;
  json: string | null;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      sections: { type: 'string' }, db: { type: 'string' }, seconds: { type: 'string' }, concurrency: { type: 'string' },
      history: { type: 'string' }, 'no-pgbench': { type: 'boolean' }, 'cpu-prof': { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean' },
      'table-from': { type: 'string' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values['table-from']) {
    // Prints the table again from a run's --json file (also one a long run saved part-way).
    const saved = JSON.parse(fs.readFileSync(values['table-from'], 'utf8')) as { rows: BenchRow[]; pgbenchTps: Record<string, number> };
    const num = (v: unknown) => (v === null || v === undefined ? NaN : Number(v));
    const rows = saved.rows.map((r) => ({ ...r, perSecond: num(r.perSecond), p50Ms: num(r.p50Ms), p99Ms: num(r.p99Ms), appCpuMsPerOp: num(r.appCpuMsPerOp), dbCpuMsPerOp: num(r.dbCpuMsPerOp), baselinePerSecond: r.baselinePerSecond === undefined ? undefined : num(r.baselinePerSecond) }));
    console.log(formatTable(rows, new Map(Object.entries(saved.pgbenchTps) as Array<[BenchDatabase, number]>), loadBefore()));
    process.exit(0);
  }
  const env = process.env;
  const list = (s: string | undefined) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : null);
  const db = values.db ?? env.BENCH_DB ?? 'both';
  if (!['embedded', 'external', 'both'].includes(db)) throw new Error(`--db must be embedded, external or both, got "${db}". ${USAGE}`);
  const seconds = Number(values.seconds ?? env.BENCH_SECONDS ?? 3);
  const concurrencies = (list(values.concurrency ?? env.BENCH_CONCURRENCY) ?? ['1', '4', '16']).map(Number);
  const historyUnits = Number((values.history ?? env.BENCH_HISTORY_UNITS ?? '10000000').replace(/_/g, ''));
  if (!(seconds > 0) || concurrencies.some((c) => !Number.isInteger(c) || c < 1) || !Number.isInteger(historyUnits) || historyUnits < 0) throw new Error(USAGE);
  return {
    sections: list(values.sections ?? env.BENCH_SECTIONS),
    dbs: db === 'both' ? ['embedded', 'external'] : [db as BenchDatabase],
    seconds, concurrencies, historyUnits,
    pgbench: !values['no-pgbench'] && env.BENCH_PGBENCH !== '0',
    cpuProfDir: values['cpu-prof'] ?? env.BENCH_CPU_PROF ?? null,
    json: values.json ?? env.BENCH_JSON ?? null,
  };
}

async function loadSections(only: string[] | null): Promise<BenchSection[]> {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sections');
  const found: BenchSection[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.ts')).sort()) {
    const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as Record<string, unknown>;
    for (const v of Object.values(mod)) {
      if (v && typeof v === 'object' && 'run' in v && 'name' in v) found.push(v as BenchSection);
    }
  }
  const rank = (s: BenchSection) => (ORDER.includes(s.name) ? ORDER.indexOf(s.name) : ORDER.length);
  found.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
  if (!only) return found;
  const unknown = only.filter((n) => !found.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown bench section(s) ${unknown.join(', ')}; there are ${found.map((s) => s.name).join(', ')}`);
  return found.filter((s) => only.includes(s.name));
}

const opts = options();
const sections = await loadSections(opts.sections);
const pgbench = opts.pgbench ? findPgbench() : null;
const poolMax = Math.max(...opts.concurrencies) + 4;
const tag = `${process.pid}_${Date.now().toString(36)}`;
const rows: BenchRow[] = [];
const pgbenchTps = new Map<BenchDatabase, number>();
const failures: string[] = [];
if (opts.cpuProfDir) fs.mkdirSync(opts.cpuProfDir, { recursive: true });

const saveJson = () => {
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ rows, pgbenchTps: Object.fromEntries(pgbenchTps) }, null, 2));
};
const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
const report = (r: BenchRow) => console.log(`  ${r.database} ${r.section}: ${r.operation}, ${r.concurrency} client(s): ${fmt(r.perSecond)}/s, p50 ${fmt(r.p50Ms, 2)} ms, p99 ${fmt(r.p99Ms, 2)} ms` +
  (r.errors ? `, ${r.errors} errors` : '') + (Number.isFinite(r.appCpuMsPerOp ?? NaN) ? `; CPU/op server ${fmt(r.appCpuMsPerOp!, 2)} ms, PostgreSQL ${fmt(r.dbCpuMsPerOp!, 2)} ms` : ''));

console.log(`agrireturn bench: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GB RAM, Node ${process.version}; ` +
  `load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${opts.seconds} s per measurement, clients ${opts.concurrencies.join('/')}, databases ${opts.dbs.join(' + ')}, sections ${sections.map((s) => s.name).join(', ')}, ` +
  `history ${opts.historyUnits ? opts.historyUnits.toLocaleString('en') + ' sold units' : 'skipped'}, pgbench ${pgbench ?? (opts.pgbench ? 'not installed' : 'off')}`);

for (const kind of opts.dbs) {
  let target: DatabaseTarget;
  try {
    target = kind === 'embedded' ? await embeddedTarget() : await externalTarget(process.env.DATABASE_URL || DEFAULT_EXTERNAL_URL);
  } catch (err) {
    failures.push(`${kind}: ${(err as Error).message}`);
    console.error(`bench: cannot use the ${kind} database: ${(err as Error).message}`);
    continue;
  }
  try {
    const pm = await target.postmasterPid();
    console.log(`\n${kind}: ${target.description}; PostgreSQL ${target.version}; ${Object.entries(target.settings).map(([k, v]) => `${k}=${v}`).join(', ')}` +
      (pm ? `; postmaster pid ${pm}` : '; not on this machine: no PostgreSQL CPU figures'));
    const dbCpu = () => (pm ? postgresCpuMs(pm) ?? NaN : NaN);

    if (pgbench) {
      const name = `agrireturn_pgbench_${tag}`;
      await target.create(name);
      try {
        setCpuSampler(() => ({ appMs: NaN, dbMs: dbCpu() }));
        const before = dbCpu();
        const r = await runPgbench({ binary: pgbench, url: target.urlFor(name), seconds: opts.seconds, clients: 16, threads: 2 });
        const row: BenchRow = { ...r, database: kind, vsPgbench: true, appCpuMsPerOp: NaN, dbCpuMsPerOp: (dbCpu() - before) / r.ops };
        delete (row as Partial<typeof r>).version;
        pgbenchTps.set(kind, r.perSecond);
        rows.push(row);
        report(row);
      } catch (err) {
        failures.push(`${kind} pgbench: ${(err as Error).message}`);
        console.error(`bench: pgbench failed on ${kind}: ${(err as Error).message}`);
      } finally {
        await target.drop(name);
      }
    }

    // Raw single-row INSERT transactions from this process: the rate online writes are compared with.
    const rawTx = new Map<number, number>();
    {
      const name = `agrireturn_bench_${tag}_raw`;
      await target.create(name);
      const db = await openDatabase({ databaseUrl: target.urlFor(name), dataDir: '', poolMax });
      try {
        await db.knex.raw('CREATE TABLE bench_raw_insert (id bigserial PRIMARY KEY, county_id varchar(6) NOT NULL, payload text NOT NULL, at timestamptz NOT NULL DEFAULT now())');
        setCpuSampler(() => ({ appMs: NaN, dbMs: dbCpu() }));
        for (const c of opts.concurrencies) {
          const r = await drive('baseline', 'raw INSERT tx (one row, own transaction)', c, opts.seconds, async () => {
            await db.knex.transaction(async (trx) => {
              await trx('bench_raw_insert').insert({ county_id: '511425', payload: 'x' });
            });
            return true;
          });
          const row: BenchRow = { ...r, database: kind, vsPgbench: true };
          rawTx.set(c, r.perSecond);
          rows.push(row);
          report(row);
        }
      } finally {
        setCpuSampler(null);
        await db.close();
        await target.drop(name);
      }
    }

    let n = 0;
    for (const section of sections) {
      const name = `agrireturn_bench_${tag}_${n++}`;
      await target.create(name);
      let server: Awaited<ReturnType<typeof startServerProcess>> | null = null;
      let db: Awaited<ReturnType<typeof openDatabase>> | null = null;
      try {
        server = await startServerProcess({ databaseUrl: target.urlFor(name), poolMax, cpuProfDir: opts.cpuProfDir });
        const serverPid = server.pid;
        if (opts.cpuProfDir) console.log(`  ${kind} ${section.name}: server process ${serverPid} writes its CPU profile into ${opts.cpuProfDir}`);
        db = await openDatabase({ databaseUrl: target.urlFor(name), dataDir: '', poolMax: 8 });
        setCpuSampler(() => ({ appMs: processCpuMs(serverPid) ?? NaN, dbMs: dbCpu() }));
        const baseUrl = server.url;
        const tokens = new Map<string, string>();
        const ctx: BenchContext = {
          baseUrl, knex: db.knex, seconds: opts.seconds, concurrencies: opts.concurrencies, database: kind, historyUnits: opts.historyUnits,
          async token(username) {
            if (!tokens.has(username)) {
              const res = await fetch(`${baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: DEMO_PASSWORD }) });
              if (res.status !== 200) throw new Error(`bench: login of ${username} answered ${res.status}`);
              tokens.set(username, `Bearer ${((await res.json()) as { accessToken: string }).accessToken}`);
            }
            return tokens.get(username)!;
          },
        };
        const fromUs = Number(process.hrtime.bigint() / 1000n);
        const sectionRows = await section.run(ctx);
        if (opts.cpuProfDir) {
          // The window the section ran in (monotonic µs, the clock of the profile's timestamps): the
          // profile's server start-up (migrations, seeding) falls outside it. bench/profile-top.ts reads it.
          fs.writeFileSync(path.join(opts.cpuProfDir, `window.${serverPid}.json`), JSON.stringify({ pid: serverPid, database: kind, section: section.name, fromUs, toUs: Number(process.hrtime.bigint() / 1000n) }));
        }
        for (const r of sectionRows) {
          const row: BenchRow = { ...r, database: kind };
          if (row.baselineName === undefined && rawTx.has(row.concurrency)) {
            row.baselineName = 'raw INSERT tx';
            row.baselinePerSecond = rawTx.get(row.concurrency);
          }
          rows.push(row);
          report(row);
        }
        saveJson(); // a long run keeps what it has measured so far
      } catch (err) {
        failures.push(`${kind} ${section.name}: ${(err as Error).stack ?? err}`);
        console.error(`bench: section ${section.name} failed on ${kind}: ${(err as Error).stack ?? err}`);
      } finally {
        setCpuSampler(null);
        await db?.close();
        await server?.stop();
        await target.drop(name);
      }
    }
  } finally {
    await target.close();
  }
}

console.log(`\nload average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (${os.cpus().length} cores): other work on the machine shares them with the bench.\n`);
console.log(formatTable(rows, pgbenchTps, loadBefore()));
saveJson();
if (failures.length) {
  console.error(`\nbench: ${failures.length} part(s) failed:\n  - ${failures.map((f) => f.split('\n')[0]).join('\n  - ')}`);
  process.exitCode = 1;
}
