// `npm run backup`, `npm run restore` and `npm run db:move` as an operator runs them: separate
// processes against real databases. The backup is taken while clerks keep selling and refunding
// through the API; the restored copy must hold exactly what the manifest says, pass ledger:check and
// custody:verify, and refuse a second restore into the now non-empty database.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { openDatabase } from '../../src/db/connection.js';
import { readManifest } from '../../src/backup/backup-archive.js';
import { startServer } from '../../src/server.js';
import { DEMO_PASSWORD } from '../../seeds/demo-county.js';
import { throwawayDatabase } from '../support/test-db.js';
import { cliDatabase, type CliDatabase } from '../support/cli-database.js';
import { TestClock, TEST_JWT_SECRET } from '../support/harness.js';
import { COUNTY, GLYPHOSATE, SHOP_A, returnBody, saleBody, unitCode } from '../features/ledger/ledger-fixtures.js';

let sourceCount: (table: string) => Promise<number>;

async function rowCount(url: string, table: string): Promise<number> {
  const db = await openDatabase({ databaseUrl: url, dataDir: '', poolMax: 1 });
  try {
    return Number((await db.knex(table).count({ n: '*' }).first())!.n);
  } finally {
    await db.close();
  }
}

describe('backup, restore and db:move (npm run backup / restore / db:move)', function () {
  this.timeout(300_000);
  let cdb: CliDatabase;
  const backupDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-backups-'));

  before(async () => {
    cdb = await cliDatabase('backup');
    sourceCount = async (table) => {
      const db = await cdb.open();
      try {
        return Number((await db.knex(table).count({ n: '*' }).first())!.n);
      } finally {
        await db.close();
      }
    };
  });
  after(async () => {
    await cdb?.cleanup();
    fs.rmSync(backupDir, { recursive: true, force: true });
  });

  let backupFile = '';
  let soldBefore = 0;
  let soldAfter = 0;

  it('takes a consistent backup while sales and refunds keep arriving', async () => {
    await cdb.prepare(async () => undefined);
    const db = await cdb.open();
    try {
      const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent' });
      const app = createApp({ db, config, logger: createLogger('silent'), clock: new TestClock(new Date().toISOString()), jwtSecret: TEST_JWT_SECRET });
      const login = await request(app).post('/api/v1/auth/login').send({ username: 'clerk.qingcheng', password: DEMO_PASSWORD });
      const auth = `Bearer ${login.body.accessToken}`;
      const eventTime = () => new Date(Date.now() - 60_000).toISOString();
      const sellAndReturn = async () => {
        const code = unitCode(GLYPHOSATE);
        const sale = await request(app).post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', auth)
          .send(saleBody({ shopId: SHOP_A, eventTime: eventTime(), lines: [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: [code], depositChargedFen: 100 }] }));
        expect(sale.status, JSON.stringify(sale.body)).to.equal(201);
        const ret = await request(app).post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', auth)
          .send(returnBody({ shopId: SHOP_A, eventTime: eventTime(), items: [{ scan: code, inspection: 'accepted' }] }));
        expect(ret.status, JSON.stringify(ret.body)).to.equal(201);
      };
      for (let i = 0; i < 10; i++) await sellAndReturn();
      soldBefore = Number((await db.knex('sales').count({ n: '*' }).first())!.n);

      // Four clerks keep working until the backup process has finished.
      let backupDone = false;
      const load = Array.from({ length: 4 }, async () => {
        while (!backupDone) await sellAndReturn();
      });
      const started = Promise.race([new Promise((r) => setTimeout(r, 300)), Promise.all(load)]);
      await started;
      const run = await cdb.runWith({ BACKUP_KEEP: '5' }, 'backup.ts', '--dir', backupDir);
      backupDone = true;
      await Promise.all(load);
      expect(run.code, run.stdout + run.stderr).to.equal(0);
      expect(run.stdout).to.match(/backup written: .*agrireturn-\d{8}T\d{6}Z\.backup/);
      backupFile = /backup written: (\S+)/.exec(run.stdout)![1]!;
      soldAfter = Number((await db.knex('sales').count({ n: '*' }).first())!.n);
    } finally {
      await db.close();
    }
    const { manifest } = await readManifest(backupFile);
    const sales = manifest.tables.find((t) => t.name === 'sales')!.rows;
    // Under load: the backup holds more than before it started and less than what was sold by the end.
    expect(sales).to.be.greaterThan(soldBefore);
    expect(sales).to.be.lessThan(soldAfter);
    expect(manifest.lastMigration).to.equal(manifest.migrations.at(-1));
    expect(manifest.tables.map((t) => t.name)).to.include('knex_migrations');
    // Dependency order: a table comes after every table it references.
    const order = manifest.tables.map((t) => t.name);
    expect(order.indexOf('counties')).to.be.lessThan(order.indexOf('shops'));
    expect(order.indexOf('sales')).to.be.lessThan(order.indexOf('sale_lines'));
    expect(order.indexOf('ledger_transfers')).to.be.lessThan(order.indexOf('ledger_entries'));
    expect(fs.statSync(backupFile).mode & 0o077, 'backup files are readable by their owner only').to.equal(0);
  });

  it('restores it into an empty database: row counts as in the manifest, ledger:check and custody:verify pass', async () => {
    const target = await throwawayDatabase('restored');
    try {
      const env = { DATABASE_URL: target.url };
      const r = await cdb.runWith(env, 'restore.ts', backupFile);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).to.contain('ledger 511425: ok');
      const { manifest } = await readManifest(backupFile);
      const counties = manifest.tables.find((t) => t.name === 'counties')!.rows;
      for (const t of manifest.tables) {
        // The restore itself adds one request per county: terminals, send again what came after the backup.
        const added = t.name === 'terminal_resend_requests' ? counties : 0;
        expect(await rowCount(target.url, t.name), t.name).to.equal(t.rows + added);
      }
      // The restored ledger balances in itself: every sale in it has its transfer, every refund too.
      const ledger = await cdb.runWith(env, 'ledger-check.ts');
      expect(ledger.code, ledger.stdout).to.equal(0);
      expect(ledger.stdout).to.contain('all county ledgers pass');
      const custody = await cdb.runWith(env, 'custody-verify.ts');
      expect(custody.code, custody.stdout).to.equal(0);
      expect(custody.stdout).to.contain('all custody checks pass');
      // New sales get new numbers: the sequences came back with the data.
      const db = await openDatabase({ databaseUrl: target.url, dataDir: '', poolMax: 1 });
      try {
        const max = Number((await db.knex('sales').max({ m: 'sale_no' }).first())!.m);
        const next = Number((await db.knex.raw(`SELECT nextval(pg_get_serial_sequence('sales', 'sale_no')) AS n`)).rows[0].n);
        expect(next).to.be.greaterThan(max);
      } finally {
        await db.close();
      }
      // A second restore into the same (now full) database is refused and changes nothing.
      const again = await cdb.runWith(env, 'restore.ts', backupFile);
      expect(again.code, again.stdout + again.stderr).to.equal(2);
      expect(again.stderr).to.contain('the target database is not empty');
      expect(await rowCount(target.url, 'sales')).to.equal(manifest.tables.find((t) => t.name === 'sales')!.rows);
    } finally {
      await target.drop();
    }
  });

  it('refuses a damaged backup file and writes nothing', async () => {
    const damaged = path.join(backupDir, 'damaged.backup');
    const bytes = fs.readFileSync(backupFile);
    bytes[bytes.length - 40] = bytes[bytes.length - 40]! ^ 0xff;
    fs.writeFileSync(damaged, bytes);
    const target = await throwawayDatabase('damaged');
    try {
      const r = await cdb.runWith({ DATABASE_URL: target.url }, 'restore.ts', damaged);
      expect(r.code, r.stdout + r.stderr).to.equal(2);
      expect(r.stderr).to.contain('is damaged');
      const db = await openDatabase({ databaseUrl: target.url, dataDir: '', poolMax: 1 });
      try {
        expect((await db.knex.raw(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)).rows[0].n).to.equal(0);
      } finally {
        await db.close();
      }
    } finally {
      await target.drop();
    }
  });

  it('keeps the newest BACKUP_KEEP backups in the directory', async () => {
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 1100)); // file names carry the second
      const r = await cdb.runWith({ BACKUP_KEEP: '2' }, 'backup.ts', '--dir', backupDir);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
    }
    const left = fs.readdirSync(backupDir).filter((n) => n.startsWith('agrireturn-')).sort();
    expect(left).to.have.length(2);
    expect(left).to.not.include(path.basename(backupFile));
  });

  it('a restored county keeps its sessions: the generated JWT secret travels in the database, not in DATA_DIR', async () => {
    const dirA = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-secret-a-'));
    const dirB = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-secret-b-'));
    const target = await throwawayDatabase('secrets');
    const serverEnv = (url: string | undefined, dir: string) => loadConfig({ NODE_ENV: 'test', ...(url ? { DATABASE_URL: url } : {}), DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', SEED_DEMO: 'false' });
    // On the embedded default the source county is the command's own data directory; on DATABASE_URL a database there.
    const sourceDir = cdb.env.DATABASE_URL ? dirA : String(cdb.env.DATA_DIR);
    try {
      const a = await startServer(serverEnv(cdb.env.DATABASE_URL, sourceDir));
      let token = '';
      try {
        const login = await request(a.url).post('/api/v1/auth/login').send({ username: 'qingshen.official', password: DEMO_PASSWORD });
        expect(login.status).to.equal(200);
        token = login.body.accessToken;
      } finally {
        await a.stop();
      }
      expect(fs.readdirSync(sourceDir).filter((f) => /secret/i.test(f)), 'no secret written beside the database').to.deep.equal([]);
      expect(fs.readdirSync(dirA).filter((f) => /secret/i.test(f))).to.deep.equal([]);
      const backup = await cdb.run('backup.ts', '--dir', backupDir);
      expect(backup.code, backup.stderr).to.equal(0);
      const file = /backup written: (\S+)/.exec(backup.stdout)![1]!;
      const restored = await cdb.runWith({ DATABASE_URL: target.url }, 'restore.ts', file);
      expect(restored.code, restored.stdout + restored.stderr).to.equal(0);
      const b = await startServer(serverEnv(target.url, dirB));
      try {
        const me = await request(b.url).get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`);
        expect(me.status, JSON.stringify(me.body)).to.equal(200);
      } finally {
        await b.stop();
      }
    } finally {
      await target.drop();
      fs.rmSync(dirA, { recursive: true, force: true });
      fs.rmSync(dirB, { recursive: true, force: true });
    }
  });

  it('db:move copies the county to another server with progress, verifies counts and the ledger, refuses a non-empty target', async () => {
    const target = await throwawayDatabase('moved');
    try {
      const r = await cdb.run('db-move.ts', '--to', target.url);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).to.match(/\[1\/\d+\] \w+: \d+ rows copied/);
      expect(r.stdout).to.match(/\[\d+\/\d+\] counties: \d+ rows copied/);
      expect(r.stdout).to.match(/row counts match: \d+ tables/);
      expect(r.stdout).to.contain('ledger 511425 on the target: ok');
      expect(await rowCount(target.url, 'sales')).to.equal(soldAfter);
      expect(await rowCount(target.url, 'ledger_entries')).to.equal(await sourceCount('ledger_entries'));
      const check = await cdb.runWith({ DATABASE_URL: target.url }, 'ledger-check.ts');
      expect(check.code, check.stdout).to.equal(0);
      const again = await cdb.run('db-move.ts', '--to', target.url);
      expect(again.code, again.stdout + again.stderr).to.equal(2);
      expect(again.stderr).to.contain('the target database is not empty');
    } finally {
      await target.drop();
    }
  });
});
