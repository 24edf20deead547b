// `npm run ledger:check` and `npm run ledger:expire` as an operator runs them: separate processes
// against a real database (a data directory the command starts its own embedded PostgreSQL on, or a throwaway database when
// DATABASE_URL is set), judged by exit code and output — including a ledger tampered with behind the
// triggers' back, which the check must catch and exit 1 for.
import { expect } from 'chai';
import request from 'supertest';
import { DEMO_PASSWORD } from '../../seeds/demo-county.js';
import { cliDatabase, type CliDatabase } from '../support/cli-database.js';
import { COUNTY, GLYPHOSATE, SHOP_A, saleBody, unitCode } from '../features/ledger/ledger-fixtures.js';

describe('ledger CLIs: npm run ledger:check and ledger:expire', function () {
  this.timeout(240_000);
  let cdb: CliDatabase;
  const cli = (script: string) => cdb.run(script);
  const open = () => cdb.open();

  before(async () => {
    cdb = await cliDatabase('ledger-cli');
    // A ledger with one sale past the validity period (a unit code and an untracked container) and one fresh sale.
    // The old sale is recorded when it happened (the server's clock then), as a terminal online that day would.
    await cdb.prepare(async (_db, app, clock) => {
      const login = await request(app).post('/api/v1/auth/login').send({ username: 'clerk.qingcheng', password: DEMO_PASSWORD });
      const auth = `Bearer ${login.body.accessToken}`;
      const old = new Date(Date.now() - 400 * 86_400_000).toISOString();
      for (const [eventTime, lines] of [
        [old, [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: [unitCode(GLYPHOSATE)], depositChargedFen: 100 }]],
        [new Date(Date.now() - 60_000).toISOString(), [{ productId: GLYPHOSATE.id, quantity: 1, depositChargedFen: 100 }]],
      ] as const) {
        clock.set(new Date(Date.parse(eventTime) + 1_000).toISOString());
        const res = await request(app).post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', auth).send(saleBody({ shopId: SHOP_A, eventTime, lines }));
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
      }
    });
  });

  after(async () => {
    await cdb?.cleanup();
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
