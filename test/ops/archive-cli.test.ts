// Archive by year (docs/traceability.md "Archive by year"), as an operator runs it: `npm run archive`
// and `npm run archive:restore` as separate processes on a real database (a data directory the
// command starts its own embedded PostgreSQL on, or a throwaway database on DATABASE_URL). A
// generated county-year (2023) and live records of today; the year is refused while too recent or
// not closed, archived once closed — open deposits stay live, today's answers do not change, the
// ledger check passes, the trace and the statutory ledger of the archived year say how to restore
// it — and restored: every table of the county is again exactly what it was (our own checksums).
import fs from 'node:fs';
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { loadConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import type { AppDeps } from '../../src/app-deps.js';
import type { Database } from '../../src/db/connection.js';
import { generateData } from '../../src/features/generator/generate-data.js';
import { ARCHIVED_TABLES } from '../../src/features/archive/archive-store.js';
import { DEMO_PASSWORD } from '../../seeds/demo-county.js';
import { TestClock, TEST_JWT_SECRET } from '../support/harness.js';
import { cliDatabase, type CliDatabase } from '../support/cli-database.js';
import { throwawayDatabase } from '../support/test-db.js';
import { openDatabase } from '../../src/db/connection.js';
import { readManifest } from '../../src/backup/backup-archive.js';
import os from 'node:os';
import path from 'node:path';
import { COUNTY, GLYPHOSATE, SHOP_A, returnBody, saleBody, unitCode } from '../features/ledger/ledger-fixtures.js';

const doc = fs.readFileSync(new URL('../../docs/traceability.md', import.meta.url), 'utf8');
const scripts = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** `npm run <script> -- args` of the docs, run as npm would: the script's file and its fixed arguments, then ours. */
function npmRun(cdb: CliDatabase, line: string) {
  const m = /^npm run (\S+) -- (.*)$/.exec(line);
  if (!m) throw new Error(`not an npm run line: ${line}`);
  const [, script, rest] = m as unknown as [string, string, string];
  const words = scripts[script]!.split(' ');
  expect(words[0]).to.equal('tsx');
  return cdb.run(words[1]!.replace(/^src\/cli\//, ''), ...words.slice(2), ...rest.split(' '));
}

describe('archive by year: npm run archive and archive:restore', function () {
  this.timeout(900_000);
  let cdb: CliDatabase;
  const liveCode = unitCode(GLYPHOSATE);
  const archiveLine = `npm run archive -- --county ${COUNTY} --year 2023`;
  const restoreLine = `npm run archive:restore -- --county ${COUNTY} --year 2023`;

  /** An app on the database, for reads and writes as the server would make them; closed afterwards. */
  async function withApp<T>(work: (app: express.Express, db: Database, as: (user: string) => Promise<string>) => Promise<T>): Promise<T> {
    const db = await cdb.open();
    try {
      const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent' });
      const deps: AppDeps = { db, config, logger: createLogger('silent'), clock: new TestClock(new Date().toISOString()), jwtSecret: TEST_JWT_SECRET };
      const app = createApp(deps);
      const tokens = new Map<string, string>();
      const as = async (username: string) => {
        if (!tokens.has(username)) {
          const res = await request(app).post('/api/v1/auth/login').send({ username, password: DEMO_PASSWORD });
          expect(res.status, JSON.stringify(res.body)).to.equal(200);
          tokens.set(username, `Bearer ${res.body.accessToken}`);
        }
        return tokens.get(username)!;
      };
      return await work(app, db, as);
    } finally {
      await db.close();
    }
  }

  /** Count and checksum of every archived table's rows of the county (independent of the archive code). */
  async function snapshot(db: Database): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const t of ARCHIVED_TABLES) {
      const r = (await db.knex.raw(`SELECT count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM ${t} x WHERE county_id = ?`, [COUNTY])).rows[0];
      out[t] = `${r.n}:${r.h}`;
    }
    const bal = (await db.knex('ledger_accounts').where({ county_id: COUNTY }).orderBy('code').select('code', 'balance_fen')) as Array<{ code: string; balance_fen: string }>;
    out.balances = bal.map((b) => `${b.code}=${b.balance_fen}`).join(',');
    return out;
  }

  /** Today's answers: the trace of a code sold and returned today, and this month's sales ledger. */
  async function todaysAnswers(): Promise<{ trace: unknown; ledger: string }> {
    return withApp(async (app, _db, as) => {
      const trace = await request(app).get(`/api/v1/counties/${COUNTY}/units/${liveCode}/trace`).set('Authorization', await as('admin'));
      expect(trace.status, JSON.stringify(trace.body)).to.equal(200);
      const ledger = await request(app).get(`/api/v1/counties/${COUNTY}/statutory-ledgers/sales.csv`).set('Authorization', await as('admin'));
      expect(ledger.status).to.equal(200);
      expect(ledger.text).to.contain('测试农户');
      return { trace: trace.body, ledger: ledger.text };
    });
  }

  let before0: Record<string, string>;
  let answers0: { trace: unknown; ledger: string };
  let archivedCode: string;

  before(async () => {
    cdb = await cliDatabase('archive-cli');
    await cdb.prepare(async (db, app) => {
      const g = await generateData(db.knex, { counties: 1, year: 2023, containersPerCounty: 500, codedShare: 0.6, seed: 7 });
      expect(g.sales).to.be.greaterThan(50);
      // Today: a coded container sold and returned.
      const clerk = `Bearer ${(await request(app).post('/api/v1/auth/login').send({ username: 'clerk.qingcheng', password: DEMO_PASSWORD })).body.accessToken}`;
      const now = new Date().toISOString();
      const sale = await request(app).post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(saleBody({ shopId: SHOP_A, eventTime: now, lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [liveCode] }] }));
      expect(sale.status, JSON.stringify(sale.body)).to.equal(201);
      const ret = await request(app).post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', clerk).send(returnBody({ shopId: SHOP_A, eventTime: now, items: [{ scan: liveCode, inspection: 'accepted' }] }));
      expect(ret.status, JSON.stringify(ret.body)).to.equal(201);
    });
  });

  after(async () => {
    await cdb?.cleanup();
  });

  it('the docs show the two commands this test runs', () => {
    expect(doc).to.contain(archiveLine);
    expect(doc).to.contain(restoreLine);
    expect(scripts.archive).to.equal('tsx src/cli/archive.ts');
    expect(scripts['archive:restore']).to.equal('tsx src/cli/archive.ts --restore');
  });

  it('refuses a year too recent, a year whose books are not closed, and a bad argument (exit 2, nothing changed)', async () => {
    before0 = await withApp(async (_app, db) => snapshot(db));
    const recent = await npmRun(cdb, `npm run archive -- --county ${COUNTY} --year 2024`);
    expect(recent.code, recent.stdout + recent.stderr).to.equal(2);
    expect(recent.stderr).to.contain('2024 is too recent to archive').and.to.contain('from 2027-01-01');
    const open = await npmRun(cdb, archiveLine);
    expect(open.code, open.stdout + open.stderr).to.equal(2);
    expect(open.stderr).to.contain('The books of 2023 are not closed').and.to.contain('2023-01, 2023-02');
    const bad = await cdb.run('archive.ts', '--county', 'DROP', '--year', '2023');
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('give the county as six digits');
    const none = await npmRun(cdb, `npm run archive:restore -- --county ${COUNTY} --year 2023`);
    expect(none.code).to.equal(2);
    expect(none.stderr).to.contain('2023 of county 511425 is not archived');
    expect(await withApp(async (_app, db) => snapshot(db))).to.deep.equal(before0);
  });

  it('a session setting alone does not open the no-delete trigger: only a running archive run of this transaction does', async () => {
    await withApp(async (_app, db) => {
      const err = await db.knex.transaction(async (trx) => {
        await trx.raw(`SELECT set_config('agrireturn.archive_run', '00000000-0000-4000-8000-000000000000', true)`);
        return trx.raw('DELETE FROM sales WHERE county_id = ?', [COUNTY]).then(() => null, (e: Error) => e);
      });
      expect(err?.message).to.contain('business records are never deleted');
    });
  });

  it('archives the closed year: open deposits stay live, the ledger check passes, today\'s answers are unchanged', async () => {
    await withApp(async (app, _db, as) => {
      const official = await as('qingshen.official');
      for (let m = 1; m <= 12; m++) {
        const period = `2023-${String(m).padStart(2, '0')}`;
        const run = await request(app).post(`/api/v1/counties/${COUNTY}/reconciliations`).set('Authorization', official).send({ period });
        expect(run.status, JSON.stringify(run.body)).to.equal(201);
        const close = await request(app).post(`/api/v1/counties/${COUNTY}/periods/${period}/close`).set('Authorization', official).send({});
        expect(close.status, JSON.stringify(close.body)).to.equal(201);
      }
    });
    before0 = await withApp(async (_app, db) => snapshot(db));
    answers0 = await todaysAnswers();
    const r = await npmRun(cdb, archiveLine);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/511425 2023: archived into schema archive_2023 \(run [0-9a-f-]{36}\): sales \d+/);
    expect(r.stdout).to.contain(`restore for an audit: ${restoreLine}`);
    const kept = /kept live: (\d+) sales and (\d+) returns of 2023/.exec(r.stdout);
    expect(kept, r.stdout).to.not.equal(null);
    expect(Number(kept![1])).to.be.greaterThan(0); // the generator leaves deposits outstanding

    await withApp(async (app, db, as) => {
      const k = db.knex;
      const n = async (sql: string, b: unknown[] = []) => Number((await k.raw(sql, b as string[])).rows[0].n);
      const archivedSales = await n(`SELECT count(*) AS n FROM archive_2023.sales WHERE county_id = ?`, [COUNTY]);
      expect(archivedSales).to.be.greaterThan(0);
      expect(await n(`SELECT count(*) AS n FROM sales s JOIN archive_2023.sales a ON a.county_id = s.county_id AND a.id = s.id`)).to.equal(0);
      // Nothing open left: no unit outstanding or expired, no lot container outstanding or expired, in the archive.
      expect(await n(`SELECT count(*) AS n FROM archive_2023.sold_units WHERE state IN ('outstanding', 'expired')`)).to.equal(0);
      expect(await n(`SELECT count(*) AS n FROM archive_2023.deposit_lots WHERE NOT voided AND (outstanding > 0 OR expired > 0)`)).to.equal(0);
      // Every open deposit of 2023 is still live.
      expect(await n(`SELECT count(*) AS n FROM sold_units u JOIN sales s ON s.county_id = u.county_id AND s.id = u.sale_id WHERE u.county_id = ? AND u.state = 'outstanding' AND s.business_day BETWEEN '2023-01-01' AND '2023-12-31'`, [COUNTY])).to.be.greaterThan(0);
      // A unit's sale and its returns left together: no live return names an archived unit.
      expect(await n(`SELECT count(*) AS n FROM return_items i JOIN archive_2023.sold_units u ON u.county_id = i.county_id AND u.unit_code = i.unit_code`)).to.equal(0);
      const after = await snapshot(db);
      expect(after.balances).to.equal(before0.balances);
      expect(after.sales).to.not.equal(before0.sales);
      const run = await k('archive_runs').where({ county_id: COUNTY, year: 2023 }).first();
      expect(run).to.include({ action: 'archive', state: 'done', schema_name: 'archive_2023' });
      expect(run.tables.sales.rows).to.equal(archivedSales);
      // The trace of an archived code says so, and how to restore it; the ledger of an archived month too.
      archivedCode = (await k.raw(`SELECT unit_code FROM archive_2023.sold_units WHERE county_id = ? AND state = 'refunded' ORDER BY unit_code LIMIT 1`, [COUNTY])).rows[0].unit_code;
      const trace = await request(app).get(`/api/v1/counties/${COUNTY}/units/${archivedCode}/trace`).set('Authorization', await as('qingshen.official'));
      expect(trace.status, JSON.stringify(trace.body)).to.equal(410);
      expect(trace.body.error.code).to.equal('YEAR_ARCHIVED');
      expect(trace.body.error.details[0]).to.include({ year: 2023, restore: restoreLine });
      const ledger = await request(app).get(`/api/v1/counties/${COUNTY}/statutory-ledgers/sales.csv?period=2023-03`).set('Authorization', await as('qingshen.official'));
      expect(ledger.status).to.equal(410);
      expect(ledger.body.error.message).to.contain(restoreLine);
    });
    expect(await todaysAnswers()).to.deep.equal(answers0);
    const check = await cdb.run('ledger-check.ts');
    expect(check.code, check.stdout + check.stderr).to.equal(0);
    expect(check.stdout).to.contain('all county ledgers pass');
    const again = await npmRun(cdb, archiveLine);
    expect(again.code).to.equal(2);
    expect(again.stderr).to.contain('2023 of county 511425 is archived already');
  });

  it('a backup taken while the year is archived carries archive_2023; restored into a new database, archive:restore there gives back the same records', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-archive-backup-'));
    const target = await throwawayDatabase('archive_restored');
    try {
      const backup = await cdb.run('backup.ts', '--dir', dir);
      expect(backup.code, backup.stdout + backup.stderr).to.equal(0);
      const file = /backup written: (\S+)/.exec(backup.stdout)![1]!;
      const { manifest } = await readManifest(file);
      const archived = manifest.tables.filter((t) => t.schema === 'archive_2023').map((t) => t.name).sort();
      expect(archived).to.deep.equal([...ARCHIVED_TABLES].sort());
      expect(manifest.tables.find((t) => t.schema === 'archive_2023' && t.name === 'sales')!.rows).to.be.greaterThan(0);
      const restored = await cdb.runWith({ DATABASE_URL: target.url }, 'restore.ts', file);
      expect(restored.code, restored.stdout + restored.stderr).to.equal(0);
      const back = await cdb.runWith({ DATABASE_URL: target.url }, 'archive.ts', '--restore', '--county', COUNTY, '--year', '2023');
      expect(back.code, back.stdout + back.stderr).to.equal(0);
      const db = await openDatabase({ databaseUrl: target.url, dataDir: '', poolMax: 1 });
      try {
        expect(await snapshot(db)).to.deep.equal(before0);
      } finally {
        await db.close();
      }
    } finally {
      await target.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a restore whose archive was changed behind its back is refused with the table named; nothing is restored (exit 1)', async () => {
    await withApp(async (_app, db) => {
      await db.knex.raw(`UPDATE archive_2023.sales SET total_deposit_fen = total_deposit_fen + 1 WHERE id = (SELECT id FROM archive_2023.sales WHERE county_id = ? ORDER BY id LIMIT 1)`, [COUNTY]);
    });
    const r = await npmRun(cdb, restoreLine);
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    expect(r.stderr).to.contain('does not give back what left it').and.to.contain('sales:');
    await withApp(async (_app, db) => {
      expect(Number((await db.knex.raw(`SELECT count(*) AS n FROM sales s JOIN archive_2023.sales a ON a.county_id = s.county_id AND a.id = s.id`)).rows[0].n)).to.equal(0);
      await db.knex.raw(`UPDATE archive_2023.sales SET total_deposit_fen = total_deposit_fen - 1 WHERE id = (SELECT id FROM archive_2023.sales WHERE county_id = ? ORDER BY id LIMIT 1)`, [COUNTY]);
    });
  });

  it('restores for an audit: every table of the county exactly as before, the ledger check passes, the trace answers again', async () => {
    const r = await npmRun(cdb, restoreLine);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.contain('511425 2023: restored from schema archive_2023 into the live tables');
    expect(r.stdout).to.contain('equal what left at archiving');
    await withApp(async (app, db, as) => {
      expect(await snapshot(db)).to.deep.equal(before0);
      expect(Number((await db.knex.raw(`SELECT count(*) AS n FROM archive_2023.sales WHERE county_id = ?`, [COUNTY])).rows[0].n)).to.equal(0);
      const runs = await db.knex('archive_runs').where({ county_id: COUNTY, year: 2023 }).orderBy('started_at').select('action', 'state');
      expect(runs).to.deep.equal([{ action: 'archive', state: 'done' }, { action: 'restore', state: 'done' }]);
      const trace = await request(app).get(`/api/v1/counties/${COUNTY}/units/${archivedCode}/trace`).set('Authorization', await as('qingshen.official'));
      expect(trace.status, JSON.stringify(trace.body)).to.equal(200);
      expect(trace.body.sale).to.not.equal(null);
      // A finished run is never changed.
      const err = await db.knex('archive_runs').where({ county_id: COUNTY, year: 2023 }).update({ actor: 'someone' }).then(() => null, (e: Error) => e);
      expect(err?.message).to.contain('archive runs are never changed');
    });
    expect(await todaysAnswers()).to.deep.equal(answers0);
    const check = await cdb.run('ledger-check.ts');
    expect(check.code, check.stdout + check.stderr).to.equal(0);
  });
});
