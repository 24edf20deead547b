// Issue 13: a sale at the counter must not wait behind a terminal's big sync batch. A run of sales
// holds the hot account rows (the shop's account, the county's deposits_outstanding) from its postings
// to its COMMIT, so a batch applies at most SYNC_RUN_MAX records per transaction. Shown without any
// clock: the batch is held at the sync service's test seams, and the test looks at what has committed
// and who waits for a lock while it is held.
import { expect } from 'chai';
import type { Knex } from 'knex';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { SYNC_RUN_MAX, syncBatchSeams } from '../../../src/features/sync/sync-service.js';
import { COUNTY, GLYPHOSATE, SHOP_A, expectLedgerClean, saleBody, unitCode } from '../ledger/ledger-fixtures.js';

let phoneSeq = 0;

async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms = 120_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Some backend of this database waits for a lock. */
async function someoneWaits(knex: Knex): Promise<boolean> {
  const r = await knex.raw(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
  return r.rows[0].n > 0;
}

describe('sync batches: an online sale does not wait for a whole batch (issue 13)', function () {
  this.timeout(300_000);
  const t = useTestApp();
  const N = SYNC_RUN_MAX + 20;

  const batchOf = (n: number) => {
    const eventTime = new Date(t.clock.now().getTime() - 600_000).toISOString();
    return Array.from({ length: n }, (_, i) => ({
      kind: 'sale', id: newClientId(), eventTime,
      payload: {
        shopId: SHOP_A, purchaser: { phone: `+861746030${String(phoneSeq++ % 10_000).padStart(4, '0')}`, name: '同步农户' },
        lines: [{ productId: GLYPHOSATE.id, quantity: 1 + (i % 2), unitCodes: [unitCode(GLYPHOSATE)] }],
      },
    }));
  };
  const send = async (records: unknown[]) => t.api().post('/api/v1/sync/batches').set('Authorization', await t.token('clerk.qingcheng')).send({ records });
  const onlineSale = async () => t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await t.token('clerk.qingcheng'))
    .send(saleBody({ eventTime: new Date(t.clock.now().getTime() - 60_000).toISOString(), purchaser: { phone: '+8617460309999', name: '柜台农户' } }));
  const storedSales = async (ids: string[]) => Number((await t.db.knex('sales').where({ county_id: COUNTY }).whereIn('id', ids).count({ n: '*' }).first())!.n);
  /** The ledger position (entry seq) of the shop's entry of each transfer of `clientIds`. */
  const entrySeqs = async (clientIds: string[]) => ((await t.db.knex('ledger_entries as e')
    .join('ledger_transfers as tr', function () { this.on('tr.county_id', 'e.county_id').andOn('tr.id', 'e.transfer_id'); })
    .where('e.county_id', COUNTY).whereIn('tr.client_id', clientIds).where('e.amount_fen', '>', 0)
    .select('e.seq')) as Array<{ seq: string | number }>).map((r) => Number(r.seq));

  afterEach(() => {
    delete syncBatchSeams.betweenRuns;
    delete syncBatchSeams.beforeRunCommit;
  });

  it(`applies a batch of ${SYNC_RUN_MAX + 20} sales in two transactions; an online sale of the same shop commits between them`, async () => {
    await send(batchOf(1)); // log-in and first-use queries out of the way
    const records = batchOf(N);
    const ids = records.map((r) => r.id);
    let pausedAt: number | undefined;
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    syncBatchSeams.betweenRuns = async (upTo) => {
      if (pausedAt !== undefined) return;
      pausedAt = upTo;
      await released;
    };
    const batch = send(records);
    let onlineId = '';
    let batchAnswered = false;
    void batch.then(() => { batchAnswered = true; }, () => { batchAnswered = true; });
    try {
      await waitFor('the batch to pause between two transactions', () => pausedAt !== undefined || batchAnswered);
      expect(pausedAt, `the batch of ${N} sales never paused between two transactions: it applied them all in one`).to.equal(SYNC_RUN_MAX);
      // The first run is committed (another connection sees it), the rest not yet applied.
      expect(await storedSales(ids)).to.equal(SYNC_RUN_MAX);
      // The clerk's sale at the counter, same shop, same accounts: answered and committed while the batch is held.
      const online = await onlineSale();
      expect(online.status, JSON.stringify(online.body)).to.equal(201);
      onlineId = online.body.saleId;
      expect(await storedSales([onlineId])).to.equal(1);
      expect(batchAnswered).to.equal(false);
    } finally {
      release();
    }
    const res = await batch;
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.counts.applied).to.equal(N);
    expect(res.body.results.map((r: { id: string; status: string }) => [r.id, r.status])).to.deep.equal(ids.map((id) => [id, 'applied']));
    // In the shop's account the online sale's entry stands between the two runs' entries; every balance after is exact.
    const [first, rest] = [await entrySeqs(ids.slice(0, SYNC_RUN_MAX)), await entrySeqs(ids.slice(SYNC_RUN_MAX))];
    const [mid] = await entrySeqs([onlineId]);
    expect(first).to.have.length(SYNC_RUN_MAX);
    expect(rest).to.have.length(N - SYNC_RUN_MAX);
    expect(Math.max(...first)).to.be.lessThan(mid!);
    expect(mid!).to.be.lessThan(Math.min(...rest));
    await expectLedgerClean(t);

    // Sent again (its answer lost): every record, of either run, is a duplicate; nothing is applied twice.
    const transfers = async () => Number((await t.db.knex('ledger_transfers').where({ county_id: COUNTY }).count({ n: '*' }).first())!.n);
    const before = await transfers();
    const again = await send(records);
    expect(again.status).to.equal(200);
    expect(again.body.counts).to.include({ applied: 0, duplicate: N });
    expect(await transfers()).to.equal(before);
  });

  it(`holds the accounts for at most ${SYNC_RUN_MAX} sales: an online sale waits only for one run's COMMIT`, async () => {
    const records = batchOf(N);
    const sizes: number[] = [];
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    syncBatchSeams.beforeRunCommit = async (kind, n) => {
      sizes.push(n);
      if (sizes.length === 1) await released;
    };
    const batch = send(records);
    let online: ReturnType<typeof onlineSale> | undefined;
    let onlineAnswered = false;
    try {
      await waitFor('the first run to reach its COMMIT', () => sizes.length > 0);
      expect(sizes[0], 'records in the transaction holding the accounts').to.equal(SYNC_RUN_MAX);
      // Postings done, COMMIT not yet: the run holds the shop's account, so the online sale waits for it.
      online = onlineSale();
      void online.then(() => { onlineAnswered = true; }, () => { onlineAnswered = true; });
      await waitFor('the online sale to wait for the held run', () => someoneWaits(t.db.knex));
      expect(onlineAnswered).to.equal(false);
    } finally {
      release();
    }
    const o = await online!;
    expect(o.status, JSON.stringify(o.body)).to.equal(201);
    const res = await batch;
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.counts.applied).to.equal(N);
    expect(sizes).to.deep.equal([SYNC_RUN_MAX, N - SYNC_RUN_MAX]);
    await expectLedgerClean(t);
  });
});
