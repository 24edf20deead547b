// Tamper evidence: custody rows cannot be changed or deleted through SQL, and a change forced past
// the trigger shows up in the verification as the first broken link.
import { expect } from 'chai';
import { demoId } from '../../../seeds/demo-county.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { verifyChain } from '../../../src/features/custody/hash-chain.js';
import { useTestApp } from '../../support/harness.js';
import { COUNTY, GLYPHOSATE, SHOP_A, returnBody } from '../ledger/ledger-fixtures.js';

describe('custody hash chain: tampering is caught', function () {
  this.timeout(60_000);
  const t = useTestApp();
  const base = `/api/v1/counties/${COUNTY}`;
  let sealSeq: number;

  before(async () => {
    const auth = await t.token('clerk.qingcheng');
    const post = (path: string, body: object) => t.api().post(path).set('Authorization', auth).send(body);
    expect((await post(`${base}/returns`, returnBody({ items: [{ productId: GLYPHOSATE.id, quantity: 3, inspection: 'accepted' }], returner: { phone: '17460000771', name: '丙' }, payment: { method: 'cash' } }))).status).to.equal(201);
    const bag = await post(`${base}/bags`, { id: newClientId(), shopId: SHOP_A, material: 'HDPE' });
    await post(`${base}/bags/${bag.body.id}/items`, { id: newClientId(), counts: [{ containerTypeId: demoId('container_types', `${COUNTY}:HDPE-1L`), quantity: 3 }] });
    expect((await post(`${base}/bags/${bag.body.id}/seal`, { id: newClientId(), sealNo: 'T-0001' })).status).to.equal(200);
    const ev = await t.db.knex('custody_events').where({ county_id: COUNTY, type: 'bag_sealed' }).first('seq');
    sealSeq = Number(ev.seq);
  });

  it('refuses UPDATE and DELETE of custody events', async () => {
    let err: unknown = null;
    try { await t.db.knex('custody_events').where({ county_id: COUNTY, seq: 1 }).update({ type: 'x' }); } catch (e) { err = e; }
    expect(String(err)).to.match(/never changed/);
    err = null;
    try { await t.db.knex('custody_events').where({ county_id: COUNTY, seq: 1 }).del(); } catch (e) { err = e; }
    expect(String(err)).to.match(/never deleted/);
  });

  it('verifies before, and names the changed event after a row is changed past the trigger', async () => {
    expect((await verifyChain(t.db.knex, COUNTY)).ok).to.equal(true);
    await t.db.knex.transaction(async (trx) => {
      await trx.raw('ALTER TABLE custody_events DISABLE TRIGGER custody_events_no_update');
      await trx.raw(`UPDATE custody_events SET content = jsonb_set(content, '{data,sealNo}', '"FORGED-9"') WHERE county_id = ? AND seq = ?`, [COUNTY, sealSeq]);
      await trx.raw('ALTER TABLE custody_events ENABLE TRIGGER custody_events_no_update');
    });
    const res = await t.api().get(`${base}/custody/verify`).set('Authorization', await t.token('qingshen.official'));
    expect(res.status).to.equal(200);
    expect(res.body.ok).to.equal(false);
    expect(res.body.firstBroken).to.include({ seq: sealSeq, reason: 'hash_mismatch' });
    expect(res.body.events).to.equal(sealSeq - 1);
  });
});
