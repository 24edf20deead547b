// A large sync batch must not freeze the server: every other request (and timer) gets its turn while
// a batch is applied. Found by the server-kill test when the embedded default was PGlite, whose queries
// ran on Node's main thread (a 1,000-record batch kept the server deaf for ~8 s); on a PostgreSQL
// server each query waits on a socket, so the batch loop needs no yielding of its own any more.
// A run of sales is applied set-based in ONE transaction, so nothing of it is visible before its
// COMMIT: the test sees the batch at work through pg_stat_activity (a transaction of another
// connection open on the test database), then sets its timer.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { GLYPHOSATE, SHOP_A } from '../ledger/ledger-fixtures.js';

describe('sync batches: the server stays responsive while a batch is applied', function () {
  this.timeout(120_000);
  const t = useTestApp();

  it('a timer set while a 1,000-record batch runs fires before the batch ends', async () => {
    const eventTime = new Date(t.clock.now().getTime() - 600_000).toISOString();
    const records = Array.from({ length: 1000 }, (_, i) => ({
      kind: 'sale', id: newClientId(), eventTime,
      payload: { shopId: SHOP_A, purchaser: { phone: '17460000777', name: '同步农户' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 + (i % 2), depositChargedFen: 100 }] },
    }));
    const token = await t.token('clerk.qingcheng');
    let batchDone = false;
    const batch = t.api().post('/api/v1/sync/batches').set('Authorization', token).send({ records }).then((res) => { batchDone = true; return res; });
    // Wait until the batch's transaction is open (it is being applied), then see whether a timer gets a turn.
    const inTransaction = async () => Number((await t.db.knex.raw(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND state <> 'idle'`,
    )).rows[0].n) > 0;
    const started = Date.now();
    while (!(await inTransaction())) {
      if (batchDone || Date.now() - started > 30_000) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const firedDuringBatch = await new Promise<boolean>((resolve) => setTimeout(() => resolve(!batchDone), 20));
    const res = await batch;
    expect(res.status).to.equal(200);
    expect(res.body.counts.applied).to.equal(1000);
    expect(firedDuringBatch, 'a 20 ms timer waited for the whole batch').to.equal(true);
  });
});
