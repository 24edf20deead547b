// Issue 12: the embedded PostgreSQL server itself killed mid-batch — not the application. The real
// county server runs as a child process (`node --import tsx src/main.ts`) on a fresh DATA_DIR; a
// terminal sends one batch of 1,000 records (sales, drawer reports and returns of the sales, one return
// in each block refused); while they are being applied the test SIGKILLs the postmaster. The application must notice, answer the batch honestly (what was committed 'applied',
// the rest 'retry'), restart PostgreSQL, reconnect its pool, and take the terminal's re-sent batch so
// that every record exists exactly once — the acknowledged ones as duplicates, the refused returns
// refused again and never stored — with a clean ledger.
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
import { killBatch, tempDir } from './pos-support.js';
import { call, login } from '../../support/server-http.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
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
    // 10 blocks of 80 sales, a drawer report, and the returns of 18 of those sales with one refused
    // return among them: a full batch of 1,000 records, committed run by run (see pos-support).
    const { records, refusedIds, returnedCodes, saleIds, returnIds } = killBatch({
      shopId, productId: GLYPHOSATE.id, code: () => unitCode(GLYPHOSATE), t0,
      phone: (i) => `174610${String(20000 + (i % 50)).slice(-5)}`, name: (i) => `停库农户${i % 50}`,
    });
    const ids = records.map((r) => r.id);
    const N = ids.length;
    const batch = { batchId: newClientId(), records };

    // 1. Send the batch; watch it arrive through a connection of our own to the app's server (as an
    //    operator's command would reach it), and kill the postmaster once its first run of returns is in.
    const running = attachToRunningServer(dataDir)!;
    expect(running.ownerPid).to.equal(child!.pid);
    const postmasterBefore = Number(fs.readFileSync(path.join(embeddedPaths(dataDir).cluster, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const watcher = new pg.Client(running.config());
    watcher.on('error', () => undefined);
    await watcher.connect();
    const first = call(url, 'POST', '/api/v1/sync/batches', batch, credential);
    let seen: string[] = [];
    const deadline = Date.now() + 120_000;
    while (seen.length < 1 && Date.now() < deadline) {
      seen = (await watcher.query('select id from returns where county_id = $1 and id = any($2::uuid[])', [COUNTY, returnIds])).rows.map((r: { id: string }) => r.id);
      if (seen.length < 1) await new Promise((r) => setTimeout(r, 20));
    }
    process.kill(postmasterBefore, 'SIGKILL');
    await watcher.end().catch(() => undefined);
    expect(seen.length, 'returns applied before the kill').to.be.at.least(1).and.below(returnIds.length);

    // 2. The application answers the batch: what it committed is 'applied', the refused returns it
    //    reached 'refused', the rest 'retry' — nothing lost in between.
    const answered = await first;
    expect(answered.status, JSON.stringify(answered.body).slice(0, 1000)).to.equal(200);
    const firstResults = answered.body.results as Array<{ id: string; status: string; error?: { code: string } }>;
    const firstStatus = new Map(firstResults.map((r) => [r.id, r.status]));
    const acknowledged = ids.filter((id) => firstStatus.get(id) === 'applied');
    expect([...new Set(firstStatus.values())].filter((st) => st !== 'refused').sort(), JSON.stringify(answered.body.counts)).to.deep.equal(['applied', 'retry']);
    for (const r of firstResults.filter((x) => x.status === 'refused')) expect([refusedIds.has(r.id), r.error?.code]).to.deep.equal([true, 'REASON_CODE_REQUIRED']);
    expect(answered.body.counts.applied + answered.body.counts.retry + answered.body.counts.refused).to.equal(N);
    expect(acknowledged.length).to.be.below(N - refusedIds.size);

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
    for (const id of refusedIds) expect(secondStatus.get(id), `refused ${id}`).to.equal('refused');
    // Returns seen committed before the kill are stored once: the re-send meets them as duplicates.
    for (const id of seen) expect(secondStatus.get(id), `return seen committed ${id}`).to.equal('duplicate');
    expect(again.body.counts.conflict + again.body.counts.retry, JSON.stringify(again.body.counts)).to.equal(0);
    expect(again.body.counts.refused).to.equal(refusedIds.size);
    expect(again.body.counts.applied + again.body.counts.duplicate).to.equal(N - refusedIds.size);
    const third = await call(url, 'POST', '/api/v1/sync/batches', batch, credential);
    expect(third.body.counts, JSON.stringify(third.body.counts)).to.deep.equal({ applied: 0, duplicate: N - refusedIds.size, conflict: 0, refused: refusedIds.size, retry: 0 });
    const check = await call(url, 'GET', `/api/v1/counties/${COUNTY}/ledger/check`, undefined, await login(url, 'admin'));
    expect(check.body.problems, JSON.stringify(check.body.problems)).to.deep.equal([]);
    expect(check.body.ok).to.equal(true);

    // 5. A clean stop, then the rows themselves: each sale and each return once, one transfer each,
    //    each unit code bound once and refunded once, nothing of the refused returns.
    child!.kill('SIGTERM');
    expect(await exited, out).to.equal(0);
    const db = await openDatabase({ databaseUrl: null, dataDir, poolMax: 2 });
    try {
      const count = async (table: string, column: string, values: string[], where: Record<string, string> = {}) => {
        let n = 0;
        for (let i = 0; i < values.length; i += 500) n += Number((await db.knex(table).where({ county_id: COUNTY, ...where }).whereIn(column, values.slice(i, i + 500)).count({ n: '*' }).first())!.n);
        return n;
      };
      expect(await count('sales', 'id', saleIds), 'sales rows').to.equal(saleIds.length);
      expect(await count('ledger_transfers', 'ref_id', saleIds, { ref_type: 'sale' }), 'ledger transfers of the sales').to.equal(saleIds.length);
      expect(await count('sold_units', 'sale_id', saleIds), 'unit codes bound').to.equal(saleIds.length);
      expect(await count('returns', 'id', returnIds), 'return rows').to.equal(returnIds.length);
      expect(await count('ledger_transfers', 'ref_id', returnIds, { ref_type: 'return' }), 'refund transfers').to.equal(returnIds.length);
      expect(await count('return_items', 'unit_code', returnedCodes), 'returned codes, each in one return item').to.equal(returnedCodes.length);
      expect(await count('sold_units', 'unit_code', returnedCodes, { state: 'refunded' }), 'returned codes refunded').to.equal(returnedCodes.length);
      expect(await count('returns', 'id', [...refusedIds]), 'refused returns stored').to.equal(0);
      expect(await count('idempotency_keys', 'client_id', [...refusedIds]), 'refused returns leave no idempotency key').to.equal(0);
      expect((await checkLedger(db.knex, COUNTY)).problems).to.deep.equal([]);
    } finally {
      await db.close();
    }
  });
});
