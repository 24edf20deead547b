// Issue 12: the embedded PostgreSQL server itself killed mid-batch — not the application. The real
// county server runs as a child process (`node --import tsx src/main.ts`) on a fresh DATA_DIR; a
// terminal sends 990 sales (and 10 drawer reports) in one batch; while they are being applied the test SIGKILLs the
// postmaster. The application must notice, answer the batch honestly (what was committed 'applied',
// the rest 'retry'), restart PostgreSQL, reconnect its pool, and take the terminal's re-sent batch so
// that every record exists exactly once — the acknowledged ones as duplicates — with a clean ledger.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import pg from 'pg';
import { openDatabase } from '../../../src/db/connection.js';
import { attachToRunningServer, embeddedPaths } from '../../../src/db/embedded-server.js';
import { checkLedger } from '../../../src/features/ledger/ledger-check.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { COUNTY, GLYPHOSATE, unitCode } from '../../features/ledger/ledger-fixtures.js';
import { drawerReportRecord, tempDir } from './pos-support.js';
import { call, login } from '../../support/server-http.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// 990 sales and a drawer report after every 99 of them: a full batch of 1,000 records.
const N = 990;
const JWT_SECRET = 'postgres-kill-test-secret-0123456789abcdef';

describe('shop terminal sync: the embedded PostgreSQL server killed mid-batch (SIGKILL), not the application', function () {
  this.timeout(600_000);
  const dataDir = tempDir('pg-kill');
  let child: ChildProcess | null = null;
  let exited: Promise<number | null> = Promise.resolve(null);
  let out = '';

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  function startApp(): Promise<string> {
    const { DATABASE_URL: _omit, ...rest } = process.env;
    void _omit;
    const env = { ...rest, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'development', JWT_SECRET };
    const c = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.on('data', (d) => { out += String(d); });
    c.stderr!.on('data', (d) => { out += String(d); });
    exited = new Promise((resolve) => c.on('exit', (code) => resolve(code)));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start in 150 s:\n${out}`)), 150_000);
      const onData = () => {
        const m = /running at (http:\/\/\S+)/.exec(out);
        if (!m) return;
        clearTimeout(timer);
        c.stdout!.off('data', onData);
        resolve(m[1]!);
      };
      c.stdout!.on('data', onData);
      void exited.then((code) => { clearTimeout(timer); reject(new Error(`server exited (${code}) before it was ready:\n${out}`)); });
    });
  }

  it('notices, restarts and reconnects; the re-sent batch leaves every record applied exactly once and the ledger clean', async () => {
    const url = await startApp();
    const official = await login(url, 'qingshen.official');
    const shops = await call(url, 'GET', `/api/v1/counties/${COUNTY}/shops`, undefined, official);
    const shopId = shops.body.items[0].id as string;
    const issued = await call(url, 'POST', `/api/v1/counties/${COUNTY}/terminals`, { shopId, name: 'postmaster kill test' }, official);
    expect(issued.status, JSON.stringify(issued.body)).to.equal(201);
    const enrolled = await call(url, 'POST', '/api/v1/terminals/enrol', { enrolmentCode: issued.body.enrolmentCode });
    expect(enrolled.status, JSON.stringify(enrolled.body)).to.equal(200);
    const credential = enrolled.body.credential as string;

    const t0 = Date.now() - 3600_000;
    const records = Array.from({ length: N }, (_, i) => ({
      kind: 'sale', id: newClientId(t0 + i * 1000), eventTime: new Date(t0 + i * 1000).toISOString(),
      payload: {
        shopId, purchaser: { phone: `174610${String(20000 + (i % 50)).slice(-5)}`, name: `停库农户${i % 50}` },
        lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [unitCode(GLYPHOSATE)], depositChargedFen: 100 }],
      },
    }));
    const ids = records.map((r) => r.id);
    // A drawer report after every 99 sales: the batch commits run by run (see pos-support).
    const R = N / 99;
    const batch = { batchId: newClientId(), records: records.flatMap((r, i) => (i % 99 === 98 ? [r, drawerReportRecord(shopId, t0 + i * 1000 + 500)] : [r])) };

    // 1. Send the batch; watch its sales arrive through a connection of our own to the app's server
    //    (as an operator's command would reach it), and kill the postmaster once a tenth are in.
    const running = attachToRunningServer(dataDir)!;
    expect(running.ownerPid).to.equal(child!.pid);
    const postmasterBefore = Number(fs.readFileSync(path.join(embeddedPaths(dataDir).cluster, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const watcher = new pg.Client(running.config());
    watcher.on('error', () => undefined);
    await watcher.connect();
    const first = call(url, 'POST', '/api/v1/sync/batches', batch, credential);
    let seen = 0;
    const deadline = Date.now() + 120_000;
    while (seen < N / 10 && Date.now() < deadline) {
      seen = Number((await watcher.query('select count(*)::int as n from sales where county_id = $1 and id = any($2::uuid[])', [COUNTY, ids])).rows[0].n);
      if (seen < N / 10) await new Promise((r) => setTimeout(r, 20));
    }
    process.kill(postmasterBefore, 'SIGKILL');
    await watcher.end().catch(() => undefined);
    expect(seen, 'sales applied before the kill').to.be.at.least(N / 10).and.below(N);

    // 2. The application answers the batch: what it committed is 'applied', the rest 'retry' — nothing lost in between.
    const answered = await first;
    expect(answered.status, JSON.stringify(answered.body).slice(0, 1000)).to.equal(200);
    const firstStatus = new Map((answered.body.results as Array<{ id: string; status: string }>).map((r) => [r.id, r.status]));
    const acknowledged = ids.filter((id) => firstStatus.get(id) === 'applied');
    expect([...new Set(firstStatus.values())].sort(), JSON.stringify(answered.body.counts)).to.deep.equal(['applied', 'retry']);
    expect(answered.body.counts.applied + answered.body.counts.retry).to.equal(N + R);
    expect(acknowledged.length).to.be.at.least(seen - 5).and.below(N);

    // 3. It notices the death, restarts PostgreSQL and reconnects: /readyz answers again, from a new postmaster.
    //    (Backends of the dead postmaster may answer a query or two until they notice it is gone.)
    let ready = 0;
    const until = Date.now() + 120_000;
    while (Date.now() < until) {
      ready = (await call(url, 'GET', '/readyz').catch(() => ({ status: 0 }))).status;
      if (ready === 200 && out.includes('is running again')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready, out).to.equal(200);
    expect(out).to.contain('the embedded PostgreSQL server exited unexpectedly; restarting it').and.contain('the embedded PostgreSQL server is running again');
    const restartLine = out.split('\n').find((l) => l.includes('is running again'));
    console.log(`      (postmaster restarted in ${/"ms":(\d+)/.exec(restartLine ?? '')?.[1] ?? '?'} ms after ${answered.body.counts.applied} of ${N} records were applied)`);
    const postmasterAfter = Number(fs.readFileSync(path.join(embeddedPaths(dataDir).cluster, 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(postmasterAfter).to.not.equal(postmasterBefore);
    expect(child!.exitCode, 'the application itself kept running').to.equal(null);

    // 4. The terminal re-sends the same batch: what was acknowledged is a duplicate, the rest is applied now.
    const again = await call(url, 'POST', '/api/v1/sync/batches', batch, credential);
    expect(again.status, JSON.stringify(again.body).slice(0, 2000)).to.equal(200);
    const secondStatus = new Map((again.body.results as Array<{ id: string; status: string }>).map((r) => [r.id, r.status]));
    for (const id of acknowledged) expect(secondStatus.get(id), `acknowledged ${id}`).to.equal('duplicate');
    expect(again.body.counts.conflict + again.body.counts.refused + again.body.counts.retry, JSON.stringify(again.body.counts)).to.equal(0);
    expect(again.body.counts.applied + again.body.counts.duplicate).to.equal(N + R);
    const third = await call(url, 'POST', '/api/v1/sync/batches', batch, credential);
    expect(third.body.counts, JSON.stringify(third.body.counts)).to.deep.equal({ applied: 0, duplicate: N + R, conflict: 0, refused: 0, retry: 0 });
    const check = await call(url, 'GET', `/api/v1/counties/${COUNTY}/ledger/check`, undefined, await login(url, 'admin'));
    expect(check.body.problems, JSON.stringify(check.body.problems)).to.deep.equal([]);
    expect(check.body.ok).to.equal(true);

    // 5. A clean stop, then the rows themselves: each sale once, one transfer each, each unit code bound once.
    child!.kill('SIGTERM');
    expect(await exited, out).to.equal(0);
    const db = await openDatabase({ databaseUrl: null, dataDir, poolMax: 2 });
    try {
      const count = async (table: string, column: string, where: Record<string, string> = {}) => {
        let n = 0;
        for (let i = 0; i < ids.length; i += 500) n += Number((await db.knex(table).where({ county_id: COUNTY, ...where }).whereIn(column, ids.slice(i, i + 500)).count({ n: '*' }).first())!.n);
        return n;
      };
      expect(await count('sales', 'id'), 'sales rows').to.equal(N);
      expect(await count('ledger_transfers', 'ref_id', { ref_type: 'sale' }), 'ledger transfers of the sales').to.equal(N);
      expect(await count('sold_units', 'sale_id'), 'unit codes bound').to.equal(N);
      expect((await checkLedger(db.knex, COUNTY)).problems).to.deep.equal([]);
    } finally {
      await db.close();
    }
  });
});
