// `npm run ledger:check` and `npm run ledger:expire` as an operator runs them: separate processes
// against a real database (a PGlite data directory, or a throwaway PostgreSQL database when
// DATABASE_URL is set), judged by exit code and output — including a ledger tampered with behind the
// triggers' back, which the check must catch and exit 1 for.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import pg from 'pg';
import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import type { AppDeps } from '../../src/app-deps.js';
import { seedDemoCounty, DEMO_PASSWORD } from '../../seeds/demo-county.js';
import { BACKEND, TestClock, TEST_JWT_SECRET } from '../support/harness.js';
import { COUNTY, GLYPHOSATE, SHOP_A, saleBody, unitCode } from '../features/ledger/ledger-fixtures.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVER_URL = process.env.DATABASE_URL ?? '';

interface Run { code: number | null; stdout: string; stderr: string }

describe('ledger CLIs: npm run ledger:check and ledger:expire', function () {
  this.timeout(240_000);
  let dataDir = '';
  let dbName = '';
  let env: NodeJS.ProcessEnv = {};
  const open = (): Promise<Database> => (BACKEND === 'pglite'
    ? openDatabase({ databaseUrl: null, dataDir })
    : openDatabase({ databaseUrl: urlFor(dbName), dataDir: '', poolMax: 2 }));

  function urlFor(database: string): string {
    const u = new URL(SERVER_URL);
    u.pathname = `/${database}`;
    return u.toString();
  }
  async function admin(sql: string): Promise<void> {
    const c = new pg.Client({ connectionString: SERVER_URL });
    await c.connect();
    try { await c.query(sql); } finally { await c.end(); }
  }
  function cli(script: string): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join('src/cli', script)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += String(d); });
      child.stderr.on('data', (d) => { stderr += String(d); });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  before(async () => {
    const { DATABASE_URL: _omit, ...rest } = process.env;
    void _omit;
    if (BACKEND === 'pglite') {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-ledger-cli-'));
      env = { ...rest, DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
    } else {
      dbName = `agrireturn_cli_${process.pid}_${Date.now().toString(36)}`;
      await admin(`CREATE DATABASE ${dbName}`);
      env = { ...rest, DATABASE_URL: urlFor(dbName), LOG_LEVEL: 'silent' };
    }
    // A ledger with one sale past the validity period (a unit code and an untracked container) and one fresh sale.
    const db = await open();
    try {
      await migrateLatest(db.knex);
      await seedDemoCounty(db.knex, { farmers: 3 });
      const clock = new TestClock(new Date().toISOString());
      const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent' });
      const deps: AppDeps = { db, config, logger: createLogger('silent'), clock, jwtSecret: TEST_JWT_SECRET };
      const app = createApp(deps);
      const login = await request(app).post('/api/v1/auth/login').send({ username: 'clerk.qingcheng', password: DEMO_PASSWORD });
      const auth = `Bearer ${login.body.accessToken}`;
      const old = new Date(Date.now() - 400 * 86_400_000).toISOString();
      for (const [eventTime, lines] of [
        [old, [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: [unitCode(GLYPHOSATE)], depositChargedFen: 100 }]],
        [new Date(Date.now() - 60_000).toISOString(), [{ productId: GLYPHOSATE.id, quantity: 1, depositChargedFen: 100 }]],
      ] as const) {
        const res = await request(app).post('/api/v1/sales').set('Authorization', auth).send(saleBody({ shopId: SHOP_A, eventTime, lines }));
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
      }
    } finally {
      await db.close();
    }
  });

  after(async () => {
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    if (dbName) await admin(`DROP DATABASE IF EXISTS ${dbName}`);
  });

  it('ledger:check passes a clean ledger (exit 0)', async () => {
    const r = await cli('ledger-check.ts');
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(new RegExp(`${COUNTY}: ok \\(2 transfers, entries sum 0 fen\\)`));
    expect(r.stdout).to.contain('all county ledgers pass');
  });

  it('ledger:expire moves what is past validity once; a second run moves nothing (exit 0)', async () => {
    const first = await cli('expire-deposits.ts');
    expect(first.code, first.stdout + first.stderr).to.equal(0);
    expect(first.stdout).to.contain(`${COUNTY}: 1 unit(s) and 1 untracked container(s) expired, 200 fen to unredeemed`);
    const second = await cli('expire-deposits.ts');
    expect(second.code, second.stdout + second.stderr).to.equal(0);
    expect(second.stdout).to.contain(`${COUNTY}: 0 unit(s) and 0 untracked container(s) expired, 0 fen to unredeemed`);
    const check = await cli('ledger-check.ts');
    expect(check.code, check.stdout).to.equal(0);
    expect(check.stdout).to.match(new RegExp(`${COUNTY}: ok \\(3 transfers`));
  });

  it('ledger:check fails a tampered ledger (exit 1) and names the broken checks', async () => {
    const db = await open();
    try {
      // Only by switching the immutability trigger off, inside one transaction, can an entry be changed.
      await db.knex.transaction(async (trx) => {
        await trx.raw('ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_no_update');
        const n = await trx.raw(`UPDATE ledger_entries SET amount_fen = amount_fen + 1
          WHERE county_id = ? AND amount_fen > 0 AND transfer_id = (SELECT id FROM ledger_transfers WHERE county_id = ? AND code = 'deposit_collected' ORDER BY id LIMIT 1)`, [COUNTY, COUNTY]);
        expect(n.rowCount).to.equal(1);
        await trx.raw('ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_no_update');
      });
      // The trigger is back on: a plain update is refused again.
      let refused = false;
      await db.knex('ledger_entries').where({ county_id: COUNTY }).update({ amount_fen: 1 }).catch(() => { refused = true; });
      expect(refused).to.equal(true);
    } finally {
      await db.close();
    }
    const r = await cli('ledger-check.ts');
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    expect(r.stdout).to.contain(`${COUNTY}: FAILED`);
    expect(r.stdout).to.contain('[sum_zero] entries of the county sum to 1 fen, not 0');
    expect(r.stdout).to.contain('[transfer_balanced]');
    expect(r.stdout).to.contain('[account_balance]');
    expect(r.stdout).to.contain('1 county ledger(s) failed the check');
  });
});
