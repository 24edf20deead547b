// `npm run custody:verify` as an operator runs it: a separate process against a real database (a
// data directory the command starts its own embedded PostgreSQL on, or a throwaway database when DATABASE_URL is set), judged by exit
// code and output — including a custody event changed behind the no-update trigger's back, which it
// must name as the first broken link and exit 1 for.
import { expect } from 'chai';
import request from 'supertest';
import { newClientId } from '../../src/shared/client-id.js';
import { demoId, DEMO_PASSWORD } from '../../seeds/demo-county.js';
import { cliDatabase, type CliDatabase } from '../support/cli-database.js';
import { COUNTY, GLYPHOSATE, SHOP_A, returnBody } from '../features/ledger/ledger-fixtures.js';

describe('custody CLI: npm run custody:verify', function () {
  this.timeout(120_000);
  let cdb: CliDatabase;
  let sealSeq = 0;
  let sealEventId = '';
  const cli = (...args: string[]) => cdb.run('custody-verify.ts', ...args);
  const open = () => cdb.open();

  before(async () => {
    cdb = await cliDatabase('custody-cli');
    // Three accepted containers returned at shop A, put in a bag and sealed: three custody events.
    await cdb.prepare(async (db, app) => {
      const login = await request(app).post('/api/v1/auth/login').send({ username: 'clerk.qingcheng', password: DEMO_PASSWORD });
      const auth = `Bearer ${login.body.accessToken}`;
      const post = (p: string, body: object) => request(app).post(p).set('Authorization', auth).send(body);
      const base = `/api/v1/counties/${COUNTY}`;
      const ret = await post(`${base}/returns`, returnBody({ eventTime: new Date(Date.now() - 60_000).toISOString(), items: [{ productId: GLYPHOSATE.id, quantity: 3, inspection: 'accepted' }], returner: { phone: '17460000771', name: '丙' }, payment: { method: 'cash' } }));
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
    });
  });

  after(async () => {
    await cdb?.cleanup();
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
