// `npm run custody:verify` as an operator runs it: a separate process against a real database (a
// PGlite data directory, or a throwaway PostgreSQL database when DATABASE_URL is set), judged by exit
// code and output — including a custody event changed behind the no-update trigger's back, which it
// must name as the first broken link and exit 1 for.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import type { AppDeps } from '../../src/app-deps.js';
import { newClientId } from '../../src/shared/client-id.js';
import { seedDemoCounty, demoId, DEMO_PASSWORD } from '../../seeds/demo-county.js';
import { BACKEND, TestClock, TEST_JWT_SECRET } from '../support/harness.js';
import { throwawayDatabase } from '../support/test-db.js';
import { COUNTY, GLYPHOSATE, SHOP_A, returnBody } from '../features/ledger/ledger-fixtures.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Run { code: number | null; stdout: string; stderr: string }

describe('custody CLI: npm run custody:verify', function () {
  this.timeout(120_000);
  let dataDir = '';
  let pgDb: Awaited<ReturnType<typeof throwawayDatabase>> | null = null;
  let env: NodeJS.ProcessEnv = {};
  let sealSeq = 0;
  let sealEventId = '';
  const open = (): Promise<Database> => (BACKEND === 'pglite'
    ? openDatabase({ databaseUrl: null, dataDir })
    : openDatabase({ databaseUrl: pgDb!.url, dataDir: '', poolMax: 2 }));

  function cli(...args: string[]): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/custody-verify.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-custody-cli-'));
      env = { ...rest, DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
    } else {
      pgDb = await throwawayDatabase('custody_cli');
      env = { ...rest, DATABASE_URL: pgDb.url, LOG_LEVEL: 'silent' };
    }
    // Three accepted containers returned at shop A, put in a bag and sealed: three custody events.
    const db = await open();
    try {
      await migrateLatest(db.knex);
      await seedDemoCounty(db.knex, { farmers: 3 });
      const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent' });
      const deps: AppDeps = { db, config, logger: createLogger('silent'), clock: new TestClock(new Date().toISOString()), jwtSecret: TEST_JWT_SECRET };
      const app = createApp(deps);
      const login = await request(app).post('/api/v1/auth/login').send({ username: 'clerk.qingcheng', password: DEMO_PASSWORD });
      const auth = `Bearer ${login.body.accessToken}`;
      const post = (p: string, body: object) => request(app).post(p).set('Authorization', auth).send(body);
      const base = `/api/v1/counties/${COUNTY}`;
      const ret = await post('/api/v1/returns', returnBody({ eventTime: new Date(Date.now() - 60_000).toISOString(), items: [{ productId: GLYPHOSATE.id, quantity: 3, inspection: 'accepted' }], returner: { phone: '17460000771', name: '丙' }, payment: { method: 'cash' } }));
      expect(ret.status, JSON.stringify(ret.body)).to.equal(201);
      const bag = await post(`${base}/bags`, { id: newClientId(), shopId: SHOP_A, material: 'HDPE' });
      expect(bag.status, JSON.stringify(bag.body)).to.equal(201);
      const items = await post(`${base}/bags/${bag.body.id}/items`, { id: newClientId(), counts: [{ containerTypeId: demoId('container_types', `${COUNTY}:HDPE-1L`), quantity: 3 }] });
      expect(items.status, JSON.stringify(items.body)).to.be.oneOf([200, 201]);
      const seal = await post(`${base}/bags/${bag.body.id}/seal`, { id: newClientId(), sealNo: 'CLI-0001' });
      expect(seal.status, JSON.stringify(seal.body)).to.equal(200);
      const ev = await db.knex('custody_events').where({ county_id: COUNTY, type: 'bag_sealed' }).first('seq', 'id');
      sealSeq = Number(ev.seq);
      sealEventId = String(ev.id);
    } finally {
      await db.close();
    }
  });

  after(async () => {
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    if (pgDb) await pgDb.drop();
  });

  it('passes an intact chain and a holding mass balance (exit 0)', async () => {
    const r = await cli();
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(new RegExp(`${COUNTY}: hash chain ok \\(${sealSeq} events, head [0-9a-f]{16}…\\); mass balance holds`));
    expect(r.stdout).to.match(/HDPE: returned 3 = at shops 3 \+ in transit 0 \+ at facilities 0 \+ disposed 0 \+ discrepancies 0 \(unexplained 0\)/);
    expect(r.stdout).not.to.contain('first broken link');
    expect(r.stdout).to.contain('all custody checks pass');
    // One county by argument.
    const one = await cli(COUNTY);
    expect(one.code, one.stdout + one.stderr).to.equal(0);
    expect(one.stdout.match(/: hash chain /g)).to.have.length(1);
  });

  it('fails a chain with an event changed past the trigger (exit 1) and names the first broken link', async () => {
    const db = await open();
    try {
      // Only by switching the no-update trigger off, inside one transaction, can an event be changed.
      await db.knex.transaction(async (trx) => {
        await trx.raw('ALTER TABLE custody_events DISABLE TRIGGER custody_events_no_update');
        const n = await trx.raw(`UPDATE custody_events SET content = jsonb_set(content, '{data,sealNo}', '"FORGED-9"') WHERE county_id = ? AND seq = ?`, [COUNTY, sealSeq]);
        expect(n.rowCount).to.equal(1);
        await trx.raw('ALTER TABLE custody_events ENABLE TRIGGER custody_events_no_update');
      });
      // The trigger is back on: a plain update is refused again.
      let refused = false;
      await db.knex('custody_events').where({ county_id: COUNTY, seq: 1 }).update({ type: 'bag_opened' }).catch(() => { refused = true; });
      expect(refused).to.equal(true);
    } finally {
      await db.close();
    }
    const r = await cli();
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    expect(r.stdout).to.contain(`${COUNTY}: hash chain BROKEN (${sealSeq - 1} events,`);
    expect(r.stdout).to.contain(`  - first broken link: event ${sealSeq} (${sealEventId}): event ${sealSeq} (bag_sealed) was changed after it was recorded`);
    expect(r.stdout).to.contain('1 county custody check(s) failed');
    expect(r.stdout).not.to.contain('all custody checks pass');
  });
});
