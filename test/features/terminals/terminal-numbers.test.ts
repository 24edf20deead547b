// Every POS terminal has a short number unique in its county (terminals.terminal_no), given when the
// official registers it: the next of the county, also when several are registered at once; never used
// again (a revoked terminal keeps its own); shown in the terminal list; and sent to the terminal in its
// sync snapshot with the server's public address (PUBLIC_URL) its receipts' QR codes name. The upgrade
// numbers the terminals registered before, per county, in the order they were enrolled.
import { expect } from 'chai';
import { useTestApp, type TestContext } from '../../support/harness.js';
import { COUNTY, SHOP_A, SHOP_B } from '../ledger/ledger-fixtures.js';
import { OTHER_COUNTY_ID } from '../../support/other-county.js';
import { demoId } from '../../../seeds/demo-county.js';
import { up, down } from '../../../migrations/20261203010000_terminal_numbers.js';

const OTHER_SHOP = demoId('shops', `${OTHER_COUNTY_ID}:1`);

async function issue(t: TestContext, countyId: string, shopId: string, name: string) {
  const res = await t.api().post(`/api/v1/counties/${countyId}/terminals`).set('Authorization', await t.token('admin')).send({ shopId, name });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body as { terminal: { id: string; terminalNo: number }; enrolmentCode: string };
}

async function enrol(t: TestContext, code: string): Promise<string> {
  const res = await t.api().post('/api/v1/terminals/enrol').send({ enrolmentCode: code });
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return `Bearer ${res.body.credential as string}`;
}

describe('terminal numbers: unique in the county, given at registration, sent in the snapshot', function () {
  this.timeout(60_000);
  const t = useTestApp();

  it('each registration gets the next number of its county; registrations at once get different numbers; other counties count on their own', async () => {
    const first = await issue(t, COUNTY, SHOP_A, '收银台 1');
    const second = await issue(t, COUNTY, SHOP_B, '收银台 2');
    expect(second.terminal.terminalNo).to.equal(first.terminal.terminalNo + 1);
    // Eight officials press "register" at once: no two get the same number, none is skipped.
    const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => issue(t, COUNTY, i % 2 ? SHOP_A : SHOP_B, `并发 ${i}`)));
    const nos = burst.map((b) => b.terminal.terminalNo).sort((x, y) => x - y);
    expect(nos).to.deep.equal(Array.from({ length: 8 }, (_, i) => second.terminal.terminalNo + 1 + i));
    // Another county's terminals are numbered from its own 1.
    const other = await issue(t, OTHER_COUNTY_ID, OTHER_SHOP, '剑阁收银台');
    expect(other.terminal.terminalNo).to.equal(1);
    // The stored numbers are what was answered, and the list shows them.
    const rows = await t.db.knex('terminals').where({ county_id: COUNTY }).select('id', 'terminal_no');
    const stored = new Map(rows.map((r) => [r.id as string, Number(r.terminal_no)]));
    for (const x of [first, second, ...burst]) expect(stored.get(x.terminal.id)).to.equal(x.terminal.terminalNo);
    const list = await t.api().get(`/api/v1/counties/${COUNTY}/terminals`).query({ limit: 100 }).set('Authorization', await t.token('qingshen.official'));
    expect(list.status).to.equal(200);
    expect(list.body.items.find((x: { id: string }) => x.id === first.terminal.id).terminalNo).to.equal(first.terminal.terminalNo);
  });

  it('a revoked terminal keeps its number and the next registration never reuses it', async () => {
    const x = await issue(t, COUNTY, SHOP_A, '将撤销');
    const official = await t.token('qingshen.official');
    const revoked = await t.api().post(`/api/v1/counties/${COUNTY}/terminals/${x.terminal.id}/revoke`).set('Authorization', official).send({ reason: '设备丢失' });
    expect(revoked.status).to.equal(200);
    expect(revoked.body.terminalNo).to.equal(x.terminal.terminalNo);
    const next = await issue(t, COUNTY, SHOP_A, '新收银台');
    expect(next.terminal.terminalNo).to.equal(x.terminal.terminalNo + 1);
  });

  it('the snapshot gives a terminal its own number and the server\'s PUBLIC_URL (null when unset); a user gets no terminal', async () => {
    const issued = await issue(t, COUNTY, SHOP_B, '快照');
    const credential = await enrol(t, issued.enrolmentCode);
    const before = t.deps.config.publicUrl;
    try {
      t.deps.config.publicUrl = null;
      const plain = await t.api().get('/api/v1/sync/snapshot').set('Authorization', credential);
      expect(plain.status, JSON.stringify(plain.body)).to.equal(200);
      expect(plain.body.terminal).to.deep.equal({ id: issued.terminal.id, terminalNo: issued.terminal.terminalNo });
      expect(plain.body.publicUrl).to.equal(null);
      t.deps.config.publicUrl = 'https://agrireturn.qingshen.gov.cn';
      const withUrl = await t.api().get('/api/v1/sync/snapshot').set('Authorization', credential);
      expect(withUrl.body.publicUrl).to.equal('https://agrireturn.qingshen.gov.cn');
      const clerk = await t.api().get('/api/v1/sync/snapshot').set('Authorization', await t.token('clerk.qingcheng'));
      expect(clerk.status, JSON.stringify(clerk.body)).to.equal(200);
      expect(clerk.body.terminal).to.equal(null);
      expect(clerk.body.publicUrl).to.equal('https://agrireturn.qingshen.gov.cn');
    } finally {
      t.deps.config.publicUrl = before;
    }
  });
});

describe('migration 20261203010000_terminal_numbers: numbers the terminals registered before, per county, in enrolment order', function () {
  this.timeout(60_000);
  const t = useTestApp();

  it('backfills 1, 2, 3 … per county by enrolment (never enrolled last, by registration), then registration goes on from the highest', async () => {
    const knex = t.db.knex;
    await down(knex); // the schema before terminal numbers
    const at = (iso: string) => new Date(iso);
    // Terminals as an older server registered them: no number; ids end alike (…-00000000beef).
    let n = 0;
    const row = (county: string, shop: string, name: string, created: string, enrolled: string | null, revoked: string | null = null) => ({
      county_id: county, id: `0000000${++n}-0000-4000-8000-00000000beef`, shop_id: shop, name, created_by: 'test',
      created_at: at(created), enrolled_at: enrolled ? at(enrolled) : null, revoked_at: revoked ? at(revoked) : null,
      credential_hash: enrolled ? 'x'.repeat(64) : null,
    });
    const rows = [
      row(COUNTY, SHOP_A, 'registered first, enrolled third', '2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z'),
      row(COUNTY, SHOP_B, 'registered second, enrolled first', '2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z'),
      row(COUNTY, SHOP_A, 'never enrolled, registered early', '2026-01-05T00:00:00Z', null),
      row(COUNTY, SHOP_B, 'enrolled second, since revoked', '2026-01-06T00:00:00Z', '2026-02-01T00:00:00Z', '2026-04-01T00:00:00Z'),
      row(COUNTY, SHOP_A, 'never enrolled, registered late', '2026-05-01T00:00:00Z', null),
      row(OTHER_COUNTY_ID, OTHER_SHOP, 'the other county', '2026-06-01T00:00:00Z', '2026-06-02T00:00:00Z'),
    ];
    expect(new Set(rows.map((r) => r.id.slice(-4))).size, 'ids share their last four characters').to.equal(1);
    await knex('terminals').insert(rows);
    await up(knex);
    const got = await knex('terminals').select('name', 'county_id', 'terminal_no');
    const no = (name: string) => Number(got.find((g) => g.name === name)!.terminal_no);
    expect(no('registered second, enrolled first')).to.equal(1);
    expect(no('enrolled second, since revoked')).to.equal(2);
    expect(no('registered first, enrolled third')).to.equal(3);
    expect(no('never enrolled, registered early')).to.equal(4);
    expect(no('never enrolled, registered late')).to.equal(5);
    expect(no('the other county')).to.equal(1);
    // The number is required and unique in the county from now on.
    let refused: unknown = null;
    try {
      await knex('terminals').where({ county_id: COUNTY, id: rows[0]!.id }).update({ terminal_no: 1 });
    } catch (err) {
      refused = err;
    }
    expect((refused as { code?: string } | null)?.code, 'a second terminal no. 1 in the county').to.equal('23505');
    const next = await issue(t, COUNTY, SHOP_A, '升级后');
    expect(next.terminal.terminalNo).to.equal(6);
  });
});
