// Group commit of POST /sales and POST /returns (issue 13): concurrent writes of one county share one
// transaction and are answered only after that transaction commits. Sales go through the set-based
// run sync uses (sale-run.ts), so a group's statements do not grow with its size; returns still go
// one savepoint per request. The gathering window runs on a manual scheduler, so what is grouped never
// depends on how fast the machine is; a deferred constraint trigger makes a real COMMIT fail, and a
// transaction held open by the test plays the concurrent writer.
import { expect } from 'chai';
import type { Response } from 'supertest';
import { useTestApp } from '../../support/harness.js';
import { ManualScheduler } from '../../support/manual-scheduler.js';
import { configureGroupCommit, pinGroupApplier, runApplier, savepointApplier, writeGroup } from '../../../src/features/ledger/group-commit.js';
import type { Principal } from '../../../src/auth/permissions.js';
import { applySaleRun } from '../../../src/features/sales/sale-run.js';
import { COUNTY, GLYPHOSATE, SHOP_A, expectLedgerClean, returnBody, saleBody, traceUrl, unitCode } from './ledger-fixtures.js';

describe('group commit of online sales and returns', () => {
  const t = useTestApp();
  const scheduler = new ManualScheduler();
  let auth: string;

  before(async () => {
    configureGroupCommit(t.deps, { timer: scheduler, maxWaitMs: 2, maxItems: 64, maxInFlight: 1 });
    auth = await t.token('clerk.qingcheng');
    // Which (top-level) transaction wrote each sale and return: rows written under a savepoint carry
    // the subtransaction's id in xmin, so a trigger records txid_current() (the top-level one).
    await t.db.knex.raw(`
      CREATE TABLE gc_txids (id uuid PRIMARY KEY, txid text NOT NULL);
      CREATE FUNCTION gc_txid_fn() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO gc_txids VALUES (NEW.id, txid_current()::text); RETURN NULL; END $$;
      CREATE TRIGGER gc_txid_sales AFTER INSERT ON sales FOR EACH ROW EXECUTE FUNCTION gc_txid_fn();
      CREATE TRIGGER gc_txid_returns AFTER INSERT ON returns FOR EACH ROW EXECUTE FUNCTION gc_txid_fn();
      CREATE TRIGGER gc_txid_transfers AFTER INSERT ON ledger_transfers FOR EACH ROW EXECUTE FUNCTION gc_txid_fn();`);
  });

  /** Waits (a hang detector, not a speed check) until `n` requests of the county wait in the group. */
  async function gathered(kind: 'sale' | 'return', n: number): Promise<void> {
    const started = Date.now();
    while (writeGroup(t.deps, kind).pending(COUNTY) < n) {
      if (Date.now() - started > 30_000) throw new Error(`only ${writeGroup(t.deps, kind).pending(COUNTY)} of ${n} requests gathered`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /**
   * Sends the bodies within one window, each after the one before joined the group (each request
   * travels on its own connection, so sent at once they could join in any order — and the order is
   * what decides which of two sales of one code wins); nothing is answered until the window passes,
   * then all are.
   */
  async function post(kind: 'sale' | 'return', bodies: Array<Record<string, unknown>>, onAnswer: () => void = () => undefined): Promise<Array<Promise<Response>>> {
    const path = `/api/v1/counties/${COUNTY}/${kind === 'sale' ? 'sales' : 'returns'}`;
    const all: Array<Promise<Response>> = [];
    for (const b of bodies) {
      all.push(t.api().post(path).set('Authorization', auth).send(b).then((r) => {
        onAnswer();
        return r;
      }));
      await gathered(kind, all.length);
    }
    return all;
  }

  async function sendGroup(kind: 'sale' | 'return', bodies: Array<Record<string, unknown>>): Promise<Response[]> {
    let answered = 0;
    const all = await post(kind, bodies, () => answered++);
    expect(answered, 'answered before the group was applied').to.equal(0);
    await scheduler.advance(2);
    return Promise.all(all);
  }

  /** The distinct (top-level) transactions that wrote these rows (every id must have been written). */
  async function xmins(_table: 'sales' | 'returns' | 'ledger_transfers', ids: string[]): Promise<string[]> {
    const rows = await t.db.knex('gc_txids').whereIn('id', ids).select('txid');
    expect(rows).to.have.length(ids.length);
    return [...new Set(rows.map((r: { txid: string }) => r.txid))];
  }

  /** The SQL statements sent while `fn` runs. */
  async function statementsOf<T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
    const statements: string[] = [];
    const listen = (q: { sql: string }) => statements.push(q.sql);
    t.db.knex.on('query', listen);
    try {
      return { result: await fn(), statements };
    } finally {
      t.db.knex.off('query', listen);
    }
  }

  /** Sales of `n` containers each with a fresh unit code, all by the registered test farmer. */
  function codedSales(n: number): Array<Record<string, any>> {
    return Array.from({ length: n }, (_, i) => saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: i + 1, unitCodes: [unitCode(GLYPHOSATE)] }] }));
  }

  /**
   * Another writer — a sync batch's sale run (applySaleRun, as sync applies it) — in a transaction
   * left open until `release()` commits it. The group meets its uncommitted rows and waits on them
   * (ON CONFLICT waits for the other writer), then finds them committed.
   */
  async function otherWriterHolds(body: Record<string, any>): Promise<{ release: () => Promise<void> }> {
    const clerk = { kind: 'user', role: 'clerk', username: 'clerk.qingcheng', userId: 'x', countyId: COUNTY, shopId: SHOP_A } as unknown as Principal;
    const trx = await t.db.knex.transaction();
    const out = await applySaleRun(trx, t.deps.clock.now(), [{ principal: clerk, input: body as never }]);
    expect(out[0]!.ok, JSON.stringify(out)).to.equal(true);
    return { release: async () => { await trx.commit(); } };
  }

  /** Waits (a hang detector, not a speed check) until some session waits on a row lock. */
  async function someoneWaitsOnALock(): Promise<void> {
    const started = Date.now();
    for (;;) {
      const { rows } = await t.db.knex.raw(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`);
      if (rows[0].n > 0) return;
      if (Date.now() - started > 30_000) throw new Error('nobody waited on the held transaction');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Advances the window without waiting for the answers (they come when the held transaction ends). */
  async function sendHeld(bodies: Array<Record<string, unknown>>): Promise<{ answers: Promise<Response[]> }> {
    const all = await post('sale', bodies);
    await scheduler.advance(2);
    return { answers: Promise.all(all) };
  }

  it('applies concurrent sales as one set-based run in one transaction, answers each with its own receipt, and moves deposits outstanding once', async () => {
    // A first sale opens the shop's account, so the group below finds every account it locks.
    expect((await sendGroup('sale', [saleBody()]))[0]!.status).to.equal(201);
    const bodies = codedSales(6);
    const commits = writeGroup(t.deps, 'sale').stats.commits;
    const { result: res, statements } = await statementsOf(() => sendGroup('sale', bodies));
    for (const [i, r] of res.entries()) {
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
      expect(r.body.saleId).to.equal(bodies[i]!.id);
      expect(r.body.totalDepositFen).to.equal(100 * (i + 1));
      expect(r.body.lines[0].unitCodes).to.deep.equal(bodies[i]!.lines[0].unitCodes);
    }
    expect(new Set(res.map((r) => r.body.saleNo)).size, 'each its own sale number').to.equal(6);
    expect(writeGroup(t.deps, 'sale').stats.commits - commits).to.equal(1);
    // One transaction: every sale row and every transfer was inserted by the same top-level transaction.
    const ids = bodies.map((b) => b.id as string);
    const transfers = await t.db.knex('ledger_transfers').where({ county_id: COUNTY }).whereIn('client_id', ids).select('id');
    expect(transfers).to.have.length(6);
    const [txid] = await xmins('sales', ids);
    expect(await xmins('sales', ids)).to.have.length(1);
    expect(await xmins('ledger_transfers', transfers.map((r: { id: string }) => r.id))).to.deep.equal([txid]);
    expect(statements.filter((s) => /^BEGIN/i.test(s))).to.have.length(1);
    expect(statements.filter((s) => /^COMMIT/i.test(s))).to.have.length(1);
    // Not a savepoint per sale: the run has one savepoint of its own (its sales bind unit codes, which
    // a concurrent request may take), whatever the group's size; the COMMIT releases it.
    expect(statements.filter((s) => /^SAVEPOINT/i.test(s))).to.have.length(1);
    expect(statements.filter((s) => /^RELEASE/i.test(s))).to.have.length(0);
    // The sale rows of the whole group in one INSERT (sales, lines, unit codes, lots together), and
    // — every purchaser being registered already — the claim of the client ids in that same statement.
    expect(statements.filter((s) => /INSERT INTO sales\b/i.test(s))).to.have.length(1);
    expect(statements.filter((s) => /INSERT INTO idempotency_keys\b/i.test(s)).map((s) => /INSERT INTO sales\b/i.test(s))).to.deep.equal([true]);
    // The hot row is locked and moved once for the whole group, not once per sale.
    expect(statements.filter((s) => /FOR UPDATE/i.test(s) && /ledger_accounts/.test(s))).to.have.length(1);
    expect(statements.filter((s) => /UPDATE ledger_accounts/i.test(s))).to.have.length(1);
    // Balances after each entry are still exact, entry by entry.
    await expectLedgerClean(t);
  });

  it('takes no savepoint for a group of sales that bind no unit code (nothing another request could take from one of them)', async () => {
    expect((await sendGroup('sale', [saleBody()]))[0]!.status).to.equal(201);
    const bodies = [1, 2, 3].map((q) => saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: q }] }));
    const { result: res, statements } = await statementsOf(() => sendGroup('sale', bodies));
    expect(res.map((r) => r.status), JSON.stringify(res.map((r) => r.body))).to.deep.equal([201, 201, 201]);
    expect(res.map((r) => r.body.totalDepositFen)).to.deep.equal([100, 200, 300]);
    expect(statements.filter((s) => /^(SAVEPOINT|RELEASE|ROLLBACK)/i.test(s))).to.deep.equal([]);
    expect(statements.filter((s) => /^BEGIN/i.test(s))).to.have.length(1);
    expect(statements.filter((s) => /^COMMIT/i.test(s))).to.have.length(1);
    expect(await xmins('sales', bodies.map((b) => b.id as string))).to.have.length(1);
    await expectLedgerClean(t);
  });

  it('sends as many statements for a group of 16 sales as for a group of 2', async () => {
    expect((await sendGroup('sale', [saleBody()]))[0]!.status).to.equal(201);
    const small = await statementsOf(() => sendGroup('sale', codedSales(2)));
    const large = await statementsOf(() => sendGroup('sale', codedSales(16)));
    expect(small.result.map((r) => r.status)).to.deep.equal(Array(2).fill(201));
    expect(large.result.map((r) => r.status)).to.deep.equal(Array(16).fill(201));
    expect(small.statements.length).to.be.greaterThan(3);
    expect(large.statements.length, large.statements.join('\n')).to.equal(small.statements.length);
    await expectLedgerClean(t);
  });

  it('fails only the bad request of a group: it is answered its own error, the others commit', async () => {
    const good = [0, 1, 2].map(() => saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [unitCode(GLYPHOSATE)] }] }));
    const sold = unitCode(GLYPHOSATE);
    const first = await sendGroup('sale', [saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [sold] }] })]);
    expect(first[0]!.status).to.equal(201);
    const unknownProduct = saleBody({ purchaser: { phone: '17460000901', name: '新农户' }, lines: [{ productId: '00000000-0000-7000-8000-000000000000', quantity: 1 }] });
    const alreadySold = saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [sold] }] });
    const res = await sendGroup('sale', [good[0]!, unknownProduct, good[1]!, alreadySold, good[2]!]);
    expect(res.map((r) => r.status)).to.deep.equal([201, 422, 201, 409, 201]);
    expect(res[1]!.body.error.code).to.equal('PRODUCT_NOT_FOUND');
    expect(res[3]!.body.error.code).to.equal('UNIT_CODE_ALREADY_SOLD');
    expect(await xmins('sales', good.map((b) => b.id as string))).to.have.length(1);
    // Nothing of the refused ones stays: no sale, no claimed client id (so a corrected retry may use it), no farmer.
    const refused = [unknownProduct.id as string, alreadySold.id as string];
    expect(await t.db.knex('sales').whereIn('id', refused).count({ n: '*' }).first()).to.deep.equal({ n: 0 });
    expect(await t.db.knex('idempotency_keys').whereIn('client_id', refused).count({ n: '*' }).first()).to.deep.equal({ n: 0 });
    expect(await t.db.knex('farmers').where({ county_id: COUNTY, phone_e164: '+8617460000901' }).count({ n: '*' }).first()).to.deep.equal({ n: 0 });
    await expectLedgerClean(t);
  });

  it('applies idempotent twins in one group once: the later twins replay the first, other content is refused', async () => {
    const twin = saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: [unitCode(GLYPHOSATE)] }] });
    const other = saleBody();
    const conflicting = { ...twin, lines: [{ productId: GLYPHOSATE.id, quantity: 3 }] };
    const res = await sendGroup('sale', [twin, other, twin, conflicting, twin]);
    expect(res.map((r) => r.status)).to.deep.equal([201, 201, 200, 409, 200]);
    expect(res[3]!.body.error.code).to.equal('IDEMPOTENCY_CONFLICT');
    expect(res[2]!.body).to.deep.equal(res[0]!.body);
    expect(res[4]!.body).to.deep.equal(res[0]!.body);
    expect(await t.db.knex('sales').where({ county_id: COUNTY, id: twin.id }).count({ n: '*' }).first()).to.deep.equal({ n: 1 });
    expect(await t.db.knex('ledger_transfers').where({ county_id: COUNTY, client_id: twin.id }).count({ n: '*' }).first()).to.deep.equal({ n: 1 });
    // A retry after the group committed replays too.
    const again = await sendGroup('sale', [twin]);
    expect(again[0]!.status).to.equal(200);
    expect(again[0]!.body).to.deep.equal(res[0]!.body);
  });

  it('a unit code sold by a concurrent transaction loses exactly once: that sale alone is refused, the rest of its group commits', async () => {
    expect((await sendGroup('sale', [saleBody()]))[0]!.status).to.equal(201);
    const contested = unitCode(GLYPHOSATE);
    const bodies = codedSales(3);
    const loser = saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [contested] }] });
    // Another writer (a sync batch) has sold the code and not committed yet.
    const other = await otherWriterHolds(saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [contested] }] }));
    let sent: { answers: Promise<Response[]> };
    try {
      sent = await sendHeld([bodies[0]!, loser, bodies[1]!, bodies[2]!]);
      await someoneWaitsOnALock();
    } finally {
      await other.release();
    }
    const res = await sent!.answers;
    expect(res.map((r) => r.status)).to.deep.equal([201, 409, 201, 201]);
    expect(res[1]!.body.error.code).to.equal('UNIT_CODE_ALREADY_SOLD');
    expect(res[1]!.body.error.details[0].unitCode).to.equal(contested);
    expect(await xmins('sales', bodies.map((b) => b.id as string))).to.have.length(1);
    expect(await t.db.knex('sold_units').where({ county_id: COUNTY, unit_code: contested }).count({ n: '*' }).first()).to.deep.equal({ n: 1 });
    expect(await t.db.knex('sales').where({ id: loser.id }).count({ n: '*' }).first()).to.deep.equal({ n: 0 });
    expect(await t.db.knex('idempotency_keys').where({ client_id: loser.id }).count({ n: '*' }).first()).to.deep.equal({ n: 0 });
    // The same code twice in one group: the first sale wins, the second is refused, once.
    const twice = unitCode(GLYPHOSATE);
    const pair = [0, 1].map(() => saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [twice] }] }));
    const res2 = await sendGroup('sale', pair);
    expect(res2.map((r) => r.status)).to.deep.equal([201, 409]);
    expect(await t.db.knex('sold_units').where({ county_id: COUNTY, unit_code: twice }).count({ n: '*' }).first()).to.deep.equal({ n: 1 });
    await expectLedgerClean(t);
  });

  it('runs the group again when a purchaser it registers was registered meanwhile by another transaction', async () => {
    const phone = '17460000902';
    const group = writeGroup(t.deps, 'sale');
    const { transactions, commits } = group.stats;
    const bodies = [saleBody({ purchaser: { phone, name: '新农户' } }), saleBody(), saleBody({ purchaser: { phone, name: '新农户' } })];
    // Another writer (a sync batch) registers the same purchaser and has not committed yet.
    const other = await otherWriterHolds(saleBody({ purchaser: { phone, name: '别处登记' } }));
    let sent: { answers: Promise<Response[]> };
    try {
      sent = await sendHeld(bodies);
      await someoneWaitsOnALock();
    } finally {
      await other.release();
    }
    const res = await sent!.answers;
    expect(res.map((r) => r.status), JSON.stringify(res.map((r) => r.body))).to.deep.equal([201, 201, 201]);
    // The purchaser stored by the other transaction, not registered a second time.
    expect(res[0]!.body.purchaser.name).to.equal('别处登记');
    expect(res[0]!.body.purchaser.registeredNow).to.equal(false);
    expect(res[2]!.body.purchaser.farmerId).to.equal(res[0]!.body.purchaser.farmerId);
    expect(group.stats.transactions - transactions).to.equal(2);
    expect(group.stats.commits - commits).to.equal(1);
    expect(await xmins('sales', bodies.map((b) => b.id as string))).to.have.length(1);
    await expectLedgerClean(t);
  });

  it('groups returns the same way: one transaction, each refund once', async () => {
    const codes = [0, 1, 2, 3].map(() => unitCode(GLYPHOSATE));
    const sale = await sendGroup('sale', [saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 4, unitCodes: codes }] })]);
    expect(sale[0]!.status).to.equal(201);
    const bodies = codes.map((c) => returnBody({ items: [{ scan: traceUrl(c), inspection: 'accepted' }] }));
    const twin = bodies[0]!;
    const res = await sendGroup('return', [...bodies, twin]);
    expect(res.map((r) => r.status)).to.deep.equal([201, 201, 201, 201, 200]);
    for (const r of res) expect(r.body.totalRefundFen).to.equal(100);
    expect(await xmins('returns', bodies.map((b) => b.id as string))).to.have.length(1);
    await expectLedgerClean(t);
  });

  it('goes at once when the group is full, without waiting for the window', async () => {
    configureGroupCommit(t.deps, { maxItems: 3 });
    try {
      const bodies = [0, 1, 2].map(() => saleBody());
      const res = await Promise.all(bodies.map((b) => t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', auth).send(b)));
      expect(res.map((r) => r.status)).to.deep.equal([201, 201, 201]);
      expect(await xmins('sales', bodies.map((b) => b.id as string))).to.have.length(1);
      expect(scheduler.pending(), 'the window of a full group is cancelled').to.equal(0);
    } finally {
      configureGroupCommit(t.deps, { maxItems: 64 });
    }
  });

  it('lets set-based groups (sales, returns) go GROUP_COMMIT_RUN_IN_FLIGHT at a time and savepoint groups (the one-by-one reference) GROUP_COMMIT_IN_FLIGHT', () => {
    const deps = { ...t.deps, config: { ...t.deps.config, groupCommit: { maxWaitMs: 2, maxItems: 64, maxInFlight: 4, runInFlight: 1 } } } as typeof t.deps;
    const sales = writeGroup(deps, 'sale', runApplier(async (_trx, _now, items) => items.map(() => ({ ok: true as const, written: { status: 201, body: {} } }))));
    expect(sales.options.maxInFlight).to.equal(1);
    expect(writeGroup(deps, 'return', savepointApplier).options.maxInFlight).to.equal(4);
  });

  describe('a COMMIT that fails', () => {
    before(async () => {
      // A deferred constraint trigger runs at COMMIT: while gc_fail says so, the COMMIT itself fails.
      await t.db.knex.raw(`
        CREATE TABLE gc_fail (times int NOT NULL, errcode text NOT NULL);
        CREATE SEQUENCE gc_fail_seq;
        CREATE FUNCTION gc_fail_fn() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE f gc_fail;
        BEGIN
          SELECT * INTO f FROM gc_fail;
          IF f.times IS NOT NULL AND nextval('gc_fail_seq') <= f.times THEN
            RAISE EXCEPTION 'forced COMMIT failure' USING ERRCODE = f.errcode;
          END IF;
          RETURN NULL;
        END $$;
        CREATE CONSTRAINT TRIGGER gc_fail_commit AFTER INSERT ON sales DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gc_fail_fn();`);
    });
    after(async () => {
      await t.db.knex.raw('DROP TRIGGER gc_fail_commit ON sales; DROP FUNCTION gc_fail_fn(); DROP SEQUENCE gc_fail_seq; DROP TABLE gc_fail;');
    });

    async function failNext(times: number, errcode: string): Promise<void> {
      await t.db.knex.raw(`TRUNCATE gc_fail; SELECT setval('gc_fail_seq', 1, false)`);
      await t.db.knex.raw('INSERT INTO gc_fail VALUES (?, ?)', [times, errcode]);
    }

    async function counts(ids: string[]) {
      const n = async (table: string, column: string) => Number((await t.db.knex(table).whereIn(column, ids).count({ n: '*' }).first())!.n);
      return {
        sales: await n('sales', 'id'), keys: await n('idempotency_keys', 'client_id'), transfers: await n('ledger_transfers', 'client_id'),
        sms: Number((await t.db.knex('sms_outbox').whereIn('event_key', ids.map((id) => `sale:${id}`)).count({ n: '*' }).first())!.n),
      };
    }

    it('acknowledges nothing when COMMIT keeps failing: every request gets an error and nothing is half applied', async () => {
      await failNext(1000, 'P0001');
      const before = await t.db.knex('ledger_accounts').where({ county_id: COUNTY }).orderBy('id').select('id', 'balance_fen');
      const bodies = [0, 1, 2, 3].map(() => saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [unitCode(GLYPHOSATE)] }] }));
      const res = await sendGroup('sale', bodies);
      expect(res.map((r) => r.status)).to.deep.equal([500, 500, 500, 500]);
      for (const r of res) expect(r.body.error.code).to.equal('INTERNAL');
      const ids = bodies.map((b) => b.id as string);
      expect(await counts(ids)).to.deep.equal({ sales: 0, keys: 0, transfers: 0, sms: 0 });
      expect(await t.db.knex('ledger_accounts').where({ county_id: COUNTY }).orderBy('id').select('id', 'balance_fen')).to.deep.equal(before);
      // Nothing was claimed: the same requests, sent again once COMMIT works, are applied (201, not replays).
      await failNext(0, 'P0001');
      const again = await sendGroup('sale', bodies);
      expect(again.map((r) => r.status)).to.deep.equal([201, 201, 201, 201]);
      await expectLedgerClean(t);
    });

    it('runs a group again after a serialisation failure at COMMIT and answers only after the commit that held', async () => {
      await failNext(1, '40001');
      const group = writeGroup(t.deps, 'sale');
      const { transactions, commits } = group.stats;
      const bodies = [0, 1, 2].map(() => saleBody());
      const res = await sendGroup('sale', bodies);
      expect(res.map((r) => r.status)).to.deep.equal([201, 201, 201]);
      expect(group.stats.transactions - transactions).to.equal(2);
      expect(group.stats.commits - commits).to.equal(1);
      expect(group.stats.groupSizes.at(-1)).to.equal(3);
      const ids = bodies.map((b) => b.id as string);
      expect(await counts(ids)).to.include({ sales: 3, keys: 3, transfers: 3 });
      await expectLedgerClean(t);
    });

    it('runs a group again after a deadlock and commits it once', async () => {
      await failNext(1, '40P01');
      const group = writeGroup(t.deps, 'sale');
      const { transactions, commits } = group.stats;
      const bodies = codedSales(4);
      const res = await sendGroup('sale', bodies);
      expect(res.map((r) => r.status)).to.deep.equal([201, 201, 201, 201]);
      expect(group.stats.transactions - transactions).to.equal(2);
      expect(group.stats.commits - commits).to.equal(1);
      expect(group.stats.groupSizes.at(-1)).to.equal(4);
      expect(await counts(bodies.map((b) => b.id as string))).to.include({ sales: 4, keys: 4, transfers: 4 });
      await expectLedgerClean(t);
    });

    it('splits a group whose COMMIT failed for another reason, so the requests still commit once each', async () => {
      await failNext(1, 'P0001');
      const group = writeGroup(t.deps, 'sale');
      const commits = group.stats.commits;
      const bodies = [0, 1, 2, 3].map(() => saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [unitCode(GLYPHOSATE)] }] }));
      const res = await sendGroup('sale', bodies);
      expect(res.map((r) => r.status)).to.deep.equal([201, 201, 201, 201]);
      expect(group.stats.commits - commits).to.equal(2);
      expect(group.stats.groupSizes.slice(-2)).to.deep.equal([2, 2]);
      const ids = bodies.map((b) => b.id as string);
      expect(await counts(ids)).to.include({ sales: 4, keys: 4, transfers: 4 });
      await expectLedgerClean(t);
    });
  });
  describe('the one-by-one reference (tests pin the savepoint applier)', () => {
    it('applies pinned sales one savepoint each, with the same answers', async () => {
      pinGroupApplier(t.deps, 'sale', savepointApplier);
      const bodies = codedSales(3);
      const { result: res, statements } = await statementsOf(() => sendGroup('sale', bodies));
      expect(res.map((r) => r.status)).to.deep.equal([201, 201, 201]);
      expect(res.map((r) => r.body.totalDepositFen)).to.deep.equal([100, 200, 300]);
      expect(statements.filter((s) => /^SAVEPOINT/i.test(s))).to.have.length(3);
      expect(await xmins('sales', bodies.map((b) => b.id as string))).to.have.length(1);
      await expectLedgerClean(t);
    });
  });
});
