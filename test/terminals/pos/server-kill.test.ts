// Issue 5: "the server killed mid-batch and restarted gives no duplicates" — with the REAL county
// server as a child process (`node --import tsx src/main.ts`), not a connection cut in-process. A
// terminal sends 990 sales (and 10 drawer reports) in one batch; the server is killed with SIGKILL while it is applying them;
// it is restarted on the same data (embedded: the same data directory, whose lock the dead process left
// behind and whose PostgreSQL server outlived it; external PostgreSQL: the same database), the exact same batch is sent again, and every sale exists
// exactly once, with exactly one ledger transfer, and the ledger check is clean.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { openDatabase, type Database } from '../../../src/db/connection.js';
import { checkLedger } from '../../../src/features/ledger/ledger-check.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { BACKEND } from '../../support/harness.js';
import { throwawayDatabase } from '../../support/test-db.js';
import { COUNTY, GLYPHOSATE, unitCode } from '../../features/ledger/ledger-fixtures.js';
import { drawerReportRecord, tempDir } from './pos-support.js';
import { call, login } from '../../support/server-http.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// 990 sales and a drawer report after every 99 of them: a full batch of 1,000 records.
const N = 990;
const JWT_SECRET = 'server-kill-test-secret-0123456789abcdef';

interface Server { child: ChildProcess; url: string; output(): string; exited: Promise<number | null> }

describe('shop terminal sync: the county server killed mid-batch (SIGKILL) and restarted', function () {
  this.timeout(900_000); // a generous bound: each step below waits for an event, never for a time
  let dataDir = '';
  let pgDb: Awaited<ReturnType<typeof throwawayDatabase>> | null = null;
  let env: NodeJS.ProcessEnv = {};
  const servers: Server[] = [];

  before(async () => {
    const { DATABASE_URL: _omit, ...rest } = process.env;
    void _omit;
    const common = { ...rest, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'development', JWT_SECRET, BACKUP_INTERVAL_HOURS: '0' };
    if (BACKEND === 'embedded') {
      dataDir = tempDir('server-kill');
      env = { ...common, DATA_DIR: dataDir };
    } else {
      pgDb = await throwawayDatabase('server_kill');
      env = { ...common, DATABASE_URL: pgDb.url, SEED_DEMO: 'true' };
    }
  });

  after(async () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    if (pgDb) await pgDb.drop();
  });

  function startServer(): Promise<Server> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += String(d); });
    child.stderr!.on('data', (d) => { out += String(d); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const server: Server = { child, url: '', output: () => out, exited };
    servers.push(server);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start in 300 s:\n${out}`)), 300_000);
      const onData = () => {
        const m = /running at (http:\/\/\S+)/.exec(out);
        if (!m) return;
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        server.url = m[1]!;
        resolve(server);
      };
      child.stdout!.on('data', onData);
      void exited.then((code) => { clearTimeout(timer); reject(new Error(`server exited (${code}) before it was ready:\n${out}`)); });
    });
  }

  /** Deposits the county holds, in fen (the deposits-outstanding account is credited: negative). */
  async function depositsOutstanding(url: string, token: string): Promise<number> {
    const res = await call(url, 'GET', `/api/v1/counties/${COUNTY}/ledger/accounts`, undefined, token);
    if (res.status !== 200) throw new Error(`ledger accounts: ${res.status} ${JSON.stringify(res.body)}`);
    const acc = (res.body.items as Array<{ code: string; balanceFen: number }>).find((a) => a.code === 'deposits_outstanding');
    return acc ? -acc.balanceFen : 0;
  }

  async function openData(): Promise<Database> {
    return BACKEND === 'embedded'
      ? openDatabase({ databaseUrl: null, dataDir })
      : openDatabase({ databaseUrl: pgDb!.url, dataDir: '', poolMax: 2 });
  }

  it('applies every record of the re-sent batch exactly once; the ledger stays clean', async () => {
    // 1. The real server, a terminal enrolled at one of the county's shops.
    const first = await startServer();
    const official = await login(first.url, 'qingshen.official');
    const shops = await call(first.url, 'GET', `/api/v1/counties/${COUNTY}/shops`, undefined, official);
    expect(shops.status, JSON.stringify(shops.body)).to.equal(200);
    const shopId = shops.body.items[0].id as string;
    const issued = await call(first.url, 'POST', `/api/v1/counties/${COUNTY}/terminals`, { shopId, name: 'kill -9 test' }, official);
    expect(issued.status, JSON.stringify(issued.body)).to.equal(201);
    const enrolled = await call(first.url, 'POST', '/api/v1/terminals/enrol', { enrolmentCode: issued.body.enrolmentCode });
    expect(enrolled.status, JSON.stringify(enrolled.body)).to.equal(200);
    const credential = enrolled.body.credential as string;

    // 2. One batch of 990 sales from the last hour, each binding one unit code (so a sale applied twice
    //    could not even hide as a second row: it would have to reuse the code).
    const sale = (at: number, i: number) => ({
      kind: 'sale', id: newClientId(at), eventTime: new Date(at).toISOString(),
      payload: {
        shopId, purchaser: { phone: `174600${String(20000 + (i % 50)).slice(-5)}`, name: `断电农户${i % 50}` },
        lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [unitCode(GLYPHOSATE)], depositChargedFen: 100 }],
      },
    });
    const t0 = Date.now() - 3600_000;
    // A warm-up batch: the terminal's first records, before the one that is cut.
    const warm = await call(first.url, 'POST', '/api/v1/sync/batches', { records: Array.from({ length: 50 }, (_, i) => sale(t0 - 60_000 + i, i)) }, credential);
    expect(warm.body.counts.applied, JSON.stringify(warm.body).slice(0, 1000)).to.equal(50);
    const baseline = await depositsOutstanding(first.url, official);
    const sales = Array.from({ length: N }, (_, i) => sale(t0 + i * 1000, i));
    // A drawer report after every 99 sales: the batch commits run by run (see pos-support), so
    // the kill can fall between two commits of one batch.
    const R = N / 99;
    const records = sales.flatMap((r, i) => (i % 99 === 98 ? [r, drawerReportRecord(shopId, t0 + i * 1000 + 500)] : [r]));
    const batch = { batchId: newClientId(), records };
    const ids = records.map((r) => r.id);
    const isSale = records.map((r) => r.kind === 'sale');

    // 3. Send it, and SIGKILL the server as soon as it is seen applying it: aimed by an event (the
    //    server's own ledger shows some of the batch's sales, read over HTTP while the batch runs), not
    //    by time, so the kill falls mid-batch however fast or busy the machine is.
    let answered = false;
    const inFlight = call(first.url, 'POST', '/api/v1/sync/batches', batch, credential).then(
      (r) => ({ answered: (answered = true), status: r.status }),
      (err: unknown) => ({ answered: false as const, err: String(err) }),
    );
    let seenApplied = 0;
    for (const until = Date.now() + 120_000; seenApplied < 1 && !answered && Date.now() < until;) {
      seenApplied = ((await depositsOutstanding(first.url, official)) - baseline) / 100;
    }
    expect(seenApplied, 'the server was seen applying the batch before it answered').to.be.greaterThan(0);
    first.child.kill('SIGKILL');
    expect(await first.exited).to.equal(null); // died of the signal, no clean shutdown
    expect(first.child.signalCode).to.equal('SIGKILL');
    const cut = await inFlight;
    expect(cut.answered, `the batch must not have been answered: the server died under it (${JSON.stringify(cut)}, ${seenApplied} seen applied)`).to.equal(false);

    // 4. Restart on the same data (embedded: the dead process's directory lock is taken over and the
    //    PostgreSQL server it left running is stopped cleanly and started again as the new one's child).
    const second = await startServer();
    const official2 = await login(second.url, 'qingshen.official');
    const appliedBeforeKill = ((await depositsOutstanding(second.url, official2)) - baseline) / 100;
    expect(appliedBeforeKill, 'sales that survived the kill (the kill fell mid-batch)').to.be.at.least(seenApplied).and.lessThan(N);

    // 5. The exact same batch again: each record applied now or a duplicate of what survived; never a conflict.
    const again = await call(second.url, 'POST', '/api/v1/sync/batches', batch, credential);
    expect(again.status, JSON.stringify(again.body).slice(0, 2000)).to.equal(200);
    const statuses = (again.body.results as Array<{ id: string; status: string }>).map((r) => r.status);
    expect(statuses).to.have.length(N + R);
    // Records are applied in journal order, committed run by run: what survived is a prefix.
    const prefix = statuses.indexOf('applied');
    expect(prefix, JSON.stringify(again.body.counts)).to.be.greaterThan(0);
    expect(statuses.join(','), JSON.stringify(again.body.counts)).to.equal([...Array<string>(prefix).fill('duplicate'), ...Array<string>(N + R - prefix).fill('applied')].join(','));
    expect(again.body.results.map((r: { id: string }) => r.id)).to.deep.equal(ids);
    expect(statuses.filter((st, i) => isSale[i] && st === 'duplicate').length, JSON.stringify(again.body.counts)).to.equal(appliedBeforeKill);
    expect(statuses.filter((st, i) => isSale[i] && st === 'applied').length).to.equal(N - appliedBeforeKill);

    // 6. Once more: all duplicates.
    const third = await call(second.url, 'POST', '/api/v1/sync/batches', batch, credential);
    expect(third.status).to.equal(200);
    expect(third.body.counts, JSON.stringify(third.body.counts)).to.deep.equal({ applied: 0, duplicate: N + R, conflict: 0, refused: 0, retry: 0 });

    // The ledger check as the admin calls it on the running server.
    const check = await call(second.url, 'GET', `/api/v1/counties/${COUNTY}/ledger/check`, undefined, await login(second.url, 'admin'));
    expect(check.status).to.equal(200);
    expect(check.body.problems, JSON.stringify(check.body.problems)).to.deep.equal([]);
    expect(check.body.ok).to.equal(true);

    // 7. Stop the server cleanly and count the rows themselves.
    second.child.kill('SIGTERM');
    expect(await second.exited, second.output()).to.equal(0);
    const db = await openData();
    try {
      const count = async (table: string, column: string, where: Record<string, string> = {}): Promise<number> => {
        let n = 0;
        for (let i = 0; i < ids.length; i += 500) {
          n += Number((await db.knex(table).where({ county_id: COUNTY, ...where }).whereIn(column, ids.slice(i, i + 500)).count({ n: '*' }).first())!.n);
        }
        return n;
      };
      expect(await count('sales', 'id'), 'sales rows').to.equal(N);
      expect(await count('ledger_transfers', 'ref_id', { ref_type: 'sale' }), 'ledger transfers of the sales').to.equal(N);
      expect(await count('sold_units', 'sale_id'), 'unit codes bound').to.equal(N);
      const ledger = await checkLedger(db.knex, COUNTY);
      expect(ledger.problems, JSON.stringify(ledger.problems)).to.deep.equal([]);
    } finally {
      await db.close();
    }
  });
});
