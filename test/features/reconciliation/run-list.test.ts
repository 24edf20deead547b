// Issue 15, "Mixed shapes": the reconciliation run list follows the list convention
// ({ items, nextCursor }, limit and cursor), keeping `runs` one release as a deprecated name.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { COUNTY, freshToken } from '../ledger/ledger-fixtures.js';

describe('reconciliation run list: { items, nextCursor } pages', () => {
  const t = useTestApp();
  const base = `/api/v1/counties/${COUNTY}/reconciliations`;

  it('pages newest first without gaps or repeats, and keeps the old runs field for one release', async () => {
    const token = await freshToken(t, 'qingshen.official');
    const made: string[] = [];
    for (const [i, period] of ['2026-01', '2026-02', '2026-01', '2026-02', '2026-01'].entries()) {
      // Two runs share a run time: the cursor must still order and split them.
      t.clock.set(i === 2 ? '2026-03-14T02:00:01.000Z' : `2026-03-14T02:00:0${i}.000Z`);
      const r = await t.api().post(base).set('Authorization', token).send({ period });
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
      made.push(r.body.id);
    }
    const all = await t.api().get(base).set('Authorization', token);
    expect(all.status).to.equal(200);
    expect(all.body.nextCursor).to.equal(null);
    expect(all.body.runs).to.deep.equal(all.body.items);
    expect(all.body.items.slice(0, 5).map((r: { id: string }) => r.id).sort()).to.deep.equal([...made].sort());
    expect(all.body.items[0]).to.not.have.property('figures');

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: any } = await t.api().get(base).query(cursor ? { limit: 2, cursor } : { limit: 2 }).set('Authorization', token);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.items.length).to.be.at.most(2);
      seen.push(...res.body.items.map((r: { id: string }) => r.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(seen).to.deep.equal(all.body.items.map((r: { id: string }) => r.id));
    expect(pages).to.equal(Math.ceil(seen.length / 2));
    const runAts = all.body.items.map((r: { runAt: string }) => r.runAt);
    expect([...runAts].sort().reverse()).to.deep.equal(runAts);
  });

  it('refuses a cursor the server did not give, naming the field', async () => {
    const token = await freshToken(t, 'qingshen.official');
    for (const cursor of ['nonsense', Buffer.from('[1,2]').toString('base64url')]) {
      const res = await t.api().get(base).query({ cursor }).set('Authorization', token);
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      expect(res.body.error.details[0]).to.include({ field: '/query/cursor', code: 'cursor' });
    }
  });
});
