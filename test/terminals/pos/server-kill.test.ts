// Issue 5: "the server killed mid-batch and restarted gives no duplicates" — with the REAL county
// server as a child process (`node --import tsx src/main.ts`), not a connection cut in-process. A
// terminal sends one batch of 1,000 records (sales, drawer reports and returns of the sales, one of
// them refused) while a clerk of another shop sends online returns; the server is killed with SIGKILL
// while it is applying them; it is restarted on the same data (embedded: the same data directory,
// whose lock the dead process left behind and whose PostgreSQL server outlived it; external
// PostgreSQL: the same database), the exact same batch and the same online returns are sent again, and
// every sale and every return exists exactly once — each acknowledged one as it was answered — with
// exactly one ledger transfer, nothing refused is stored, and the ledger check is clean (issue 13).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { openDatabase, type Database } from '../../../src/db/connection.js';
import { checkLedger } from '../../../src/features/ledger/ledger-check.js';
import { newClientId } from '../../../src/shared/client-id.js';
import pg from 'pg';
import { attachToRunningServer } from '../../../src/db/embedded-server.js';
import { BACKEND } from '../../support/harness.js';
import { throwawayDatabase } from '../../support/test-db.js';
import { COUNTY, GLYPHOSATE, SHOP_A, unitCode } from '../../features/ledger/ledger-fixtures.js';
import { killBatch, tempDir } from './pos-support.js';
import { call, login } from '../../support/server-http.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** Warm-up sales; their codes come back online while the batch is cut. */
const WARM = 40;
const ONLINE_REFUSED = 5;
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

  async function openData(): Promise<Database> {
    return BACKEND === 'embedded'
      ? openDatabase({ databaseUrl: null, dataDir })
      : openDatabase({ databaseUrl: pgDb!.url, dataDir: '', poolMax: 2 });
  }

  /** A connection of the test's own to the server's database, to watch the batch arrive (as an operator's command would). */
  async function watcher(): Promise<pg.Client> {
    const config = BACKEND === 'embedded' ? attachToRunningServer(dataDir)!.config() : { connectionString: pgDb!.url };
    const client = new pg.Client(config);
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  it('applies every record of the re-sent batch and every online return exactly once; the ledger stays clean', async () => {
    // 1. The real server, a terminal enrolled at one of the county's shops, a clerk of another.
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
    const clerk = await login(first.url, 'clerk.qingcheng');

    // 2. Sales from the last hour, each binding one unit code (so a sale applied twice could not even
    //    hide as a second row: it would have to reuse the code); returns each of one sold code (a
    //    return applied twice would refund a code twice).
    const phone = (i: number) => `174600${String(20000 + (i % 50)).slice(-5)}`;
    const sale = (at: number, i: number, code = unitCode(GLYPHOSATE)) => ({
      kind: 'sale', id: newClientId(at), eventTime: new Date(at).toISOString(),
      payload: {
        shopId, purchaser: { phone: phone(i), name: `断电农户${i % 50}` },
        lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [code], depositChargedFen: 100 }],
      },
    });
    // A refused return: a rejected container without its reason (REASON_CODE_REQUIRED); it changes nothing.
    const returnPayload = (shop: string, i: number, code: string, refused = false) => ({
      shopId: shop, returner: { phone: phone(i) }, items: [{ scan: code, inspection: refused ? 'rejected' : 'accepted' }],
    });
    const t0 = Date.now() - 3600_000;
    // A warm-up batch: the terminal's first records, before the one that is cut. Their codes come
    // back over the counter of the other shop while the batch is cut (online returns, below).
    const warmCodes = Array.from({ length: WARM }, () => unitCode(GLYPHOSATE));
    const warm = await call(first.url, 'POST', '/api/v1/sync/batches', { records: warmCodes.map((c, i) => sale(t0 - 60_000 + i, i, c)) }, credential);
    expect(warm.body.counts.applied, JSON.stringify(warm.body).slice(0, 1000)).to.equal(WARM);

    // The batch: 10 blocks of 80 sales, a drawer report, and the returns of 18 of those sales with one
    // refused return among them — a full batch of 1,000 records, committed run by run (pos-support).
    const { records, refusedIds, returnedCodes, saleIds, returnIds } = killBatch({
      shopId, productId: GLYPHOSATE.id, code: () => unitCode(GLYPHOSATE), t0, phone, name: (i) => `断电农户${i % 50}`,
    });
    expect(records).to.have.length(1000);
    const batch = { batchId: newClientId(), records };
    const ids = records.map((r) => r.id);

    // Online returns of the warm-up's codes at the clerk's shop, sent while the batch applies, a few
    // at a time until the server dies under them; one of them refused.
    const online = warmCodes.map((code, i) => ({ id: newClientId(), eventTime: new Date().toISOString(), ...returnPayload(SHOP_A, i, code, i === ONLINE_REFUSED) }));
    const onlineFirst = new Map<string, { status: number; body: any }>();
    let serverGone = false;
    let next = 0;
    const pump = async () => {
      while (!serverGone && next < online.length) {
        const body = online[next++]!;
        try {
          onlineFirst.set(body.id, await call(first.url, 'POST', `/api/v1/counties/${COUNTY}/returns`, body, clerk));
        } catch {
          serverGone = true; // no answer: the server died with it in flight (or before it arrived)
        }
      }
    };

    // 3. Send the batch and the online returns, and SIGKILL the server as soon as it is seen applying
    //    the batch and answering online returns: aimed by events (the batch's sales seen in the
    //    database through a connection of the test's own), not by time, so the kill falls mid-batch
    //    however fast or busy the machine is.
    const watch = await watcher();
    let answered = false;
    const inFlight = call(first.url, 'POST', '/api/v1/sync/batches', batch, credential).then(
      (r) => ({ answered: (answered = true), status: r.status }),
      (err: unknown) => ({ answered: false as const, err: String(err) }),
    );
    const pumps = Promise.all(Array.from({ length: 4 }, pump));
    // Aim past the first run of returns of the batch, so some of its returns must survive as duplicates.
    let seenApplied = 0;
    for (const until = Date.now() + 120_000; (seenApplied < 1 || (onlineFirst.size < 3 && next < online.length)) && !answered && Date.now() < until;) {
      seenApplied = Number((await watch.query('select count(*)::int as n from returns where county_id = $1 and id = any($2::uuid[])', [COUNTY, returnIds])).rows[0].n);
      await new Promise((r) => setTimeout(r, 10));
    }
    await watch.end().catch(() => undefined);
    expect(seenApplied, 'the server was seen applying the batch\'s returns before it answered').to.be.greaterThan(0);
    first.child.kill('SIGKILL');
    expect(await first.exited).to.equal(null); // died of the signal, no clean shutdown
    expect(first.child.signalCode).to.equal('SIGKILL');
    serverGone = true;
    await pumps;
    const cut = await inFlight;
    expect(cut.answered, `the batch must not have been answered: the server died under it (${JSON.stringify(cut)}, ${seenApplied} seen applied)`).to.equal(false);
    const acknowledged = online.filter((o) => onlineFirst.get(o.id)?.status === 201);
    expect(acknowledged.length, 'online returns acknowledged before the kill').to.be.greaterThan(0);
    for (const [id, r] of onlineFirst) {
      if (id === online[ONLINE_REFUSED]!.id) expect([r.status, r.body.error?.code], JSON.stringify(r.body)).to.deep.equal([422, 'REASON_CODE_REQUIRED']);
      else expect(r.status, JSON.stringify(r.body)).to.equal(201);
    }

    // 4. Restart on the same data (embedded: the dead process's directory lock is taken over and the
    //    PostgreSQL server it left running is stopped cleanly and started again as the new one's child).
    const second = await startServer();

    // 5. The exact same batch again: each record applied now or a duplicate of what survived; never a
    //    conflict; the refused returns refused again.
    const again = await call(second.url, 'POST', '/api/v1/sync/batches', batch, credential);
    expect(again.status, JSON.stringify(again.body).slice(0, 2000)).to.equal(200);
    expect(again.body.results.map((r: { id: string }) => r.id)).to.deep.equal(ids);
    const statuses = (again.body.results as Array<{ id: string; status: string; error?: { code: string } }>).map((r) => r.status);
    for (const r of again.body.results as Array<{ id: string; status: string; error?: { code: string } }>) {
      if (refusedIds.has(r.id)) expect([r.status, r.error?.code]).to.deep.equal(['refused', 'REASON_CODE_REQUIRED']);
    }
    // Records are applied in journal order, committed run by run: what survived is a prefix.
    const prefix = statuses.indexOf('applied');
    expect(prefix, JSON.stringify(again.body.counts)).to.be.greaterThan(0);
    const expected = ids.map((id, i) => (refusedIds.has(id) ? 'refused' : i < prefix ? 'duplicate' : 'applied'));
    expect(statuses.join(','), JSON.stringify(again.body.counts)).to.equal(expected.join(','));
    const survived = ids.filter((_, i) => statuses[i] === 'duplicate');
    expect(survived.length, 'records that survived the kill (the kill fell mid-batch)').to.be.lessThan(ids.length - refusedIds.size);
    expect(returnIds.filter((id) => survived.includes(id)).length, 'returns of the batch acknowledged by their COMMIT before the kill').to.be.at.least(seenApplied);
    console.log(`      (${survived.length} of ${ids.length} records and ${acknowledged.length} of ${online.length} online returns acknowledged before the kill)`);

    // 6. The online returns again, same ids: the acknowledged ones replay their first answer, the
    //    rest are applied now or replay a COMMIT whose answer was lost; the refused one is refused again.
    const clerk2 = await login(second.url, 'clerk.qingcheng');
    for (const [i, body] of online.entries()) {
      const r = await call(second.url, 'POST', `/api/v1/counties/${COUNTY}/returns`, body, clerk2);
      if (i === ONLINE_REFUSED) {
        expect([r.status, r.body.error?.code], JSON.stringify(r.body)).to.deep.equal([422, 'REASON_CODE_REQUIRED']);
        continue;
      }
      const firstAnswer = onlineFirst.get(body.id);
      if (firstAnswer?.status === 201) {
        expect(r.status, 'an acknowledged return replays').to.equal(200);
        expect(r.body).to.deep.equal(firstAnswer.body);
      } else {
        expect(r.status, JSON.stringify(r.body)).to.be.oneOf([200, 201]);
      }
      expect(r.body.totalRefundFen, JSON.stringify(r.body)).to.equal(100);
    }

    // 7. Once more: all duplicates (refused records refused again).
    const third = await call(second.url, 'POST', '/api/v1/sync/batches', batch, credential);
    expect(third.status).to.equal(200);
    expect(third.body.counts, JSON.stringify(third.body.counts)).to.deep.equal({ applied: 0, duplicate: ids.length - refusedIds.size, conflict: 0, refused: refusedIds.size, retry: 0 });

    // The ledger check as the admin calls it on the running server.
    const check = await call(second.url, 'GET', `/api/v1/counties/${COUNTY}/ledger/check`, undefined, await login(second.url, 'admin'));
    expect(check.status).to.equal(200);
    expect(check.body.problems, JSON.stringify(check.body.problems)).to.deep.equal([]);
    expect(check.body.ok).to.equal(true);

    // 8. Stop the server cleanly and count the rows themselves.
    second.child.kill('SIGTERM');
    expect(await second.exited, second.output()).to.equal(0);
    const db = await openData();
    try {
      const count = async (table: string, column: string, values: string[], where: Record<string, string> = {}): Promise<number> => {
        let n = 0;
        for (let i = 0; i < values.length; i += 500) {
          n += Number((await db.knex(table).where({ county_id: COUNTY, ...where }).whereIn(column, values.slice(i, i + 500)).count({ n: '*' }).first())!.n);
        }
        return n;
      };
      const onlineIds = online.filter((_, i) => i !== ONLINE_REFUSED).map((o) => o.id);
      const onlineCodes = warmCodes.filter((_, i) => i !== ONLINE_REFUSED);
      expect(await count('sales', 'id', saleIds), 'sales rows').to.equal(saleIds.length);
      expect(await count('ledger_transfers', 'ref_id', saleIds, { ref_type: 'sale' }), 'ledger transfers of the sales').to.equal(saleIds.length);
      expect(await count('sold_units', 'sale_id', saleIds), 'unit codes bound').to.equal(saleIds.length);
      // Every return once, one refund transfer each, each returned code in one return item and refunded.
      expect(await count('returns', 'id', [...returnIds, ...onlineIds]), 'return rows').to.equal(returnIds.length + onlineIds.length);
      expect(await count('returns', 'id', [...refusedIds, online[ONLINE_REFUSED]!.id]), 'refused returns stored').to.equal(0);
      expect(await count('ledger_transfers', 'ref_id', [...returnIds, ...onlineIds], { ref_type: 'return' }), 'refund transfers').to.equal(returnIds.length + onlineIds.length);
      expect(await count('return_items', 'unit_code', [...returnedCodes, ...onlineCodes]), 'returned codes, each in one return item').to.equal(returnedCodes.length + onlineCodes.length);
      expect(await count('sold_units', 'unit_code', [...returnedCodes, ...onlineCodes], { state: 'refunded' }), 'returned codes refunded').to.equal(returnedCodes.length + onlineCodes.length);
      const refunded = await db.knex('ledger_transfers').where({ county_id: COUNTY, ref_type: 'return' }).whereIn('ref_id', [...returnIds, ...onlineIds]).sum({ fen: 'amount_fen' }).first();
      expect(Number(refunded!.fen), 'refunded, fen').to.equal(100 * (returnIds.length + onlineIds.length));
      const keys = await count('idempotency_keys', 'client_id', [...refusedIds, online[ONLINE_REFUSED]!.id]);
      expect(keys, 'refused returns leave no idempotency key').to.equal(0);
      const ledger = await checkLedger(db.knex, COUNTY);
      expect(ledger.problems, JSON.stringify(ledger.problems)).to.deep.equal([]);
    } finally {
      await db.close();
    }
  });
});
