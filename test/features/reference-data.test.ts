// Reference data: CRUD with history kept, versions checked, deactivation instead of deletion,
// keyset pagination, the rules of products, schedules and farmers, and farmers' privacy.
import { expect } from 'chai';
import { useTestApp } from '../support/harness.js';
import { withGtinCheckDigit } from '../../src/shared/gtin.js';

const C = '/api/v1/counties/511425';

describe('reference data', () => {
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });
  let official: string;
  let clerk: string;
  let containerTypeId: string;
  before(async () => {
    official = await t.token('qingshen.official');
    clerk = await t.token('clerk.qingcheng');
    containerTypeId = (await t.db.knex('container_types').where({ county_id: '511425' }).first('id')).id;
  });

  it('creates, changes, deactivates and keeps every version in history', async () => {
    const created = await t.api().post(`${C}/haulers`).set('Authorization', official).send({ name: ' 青神县绿源运输 ', licenceNo: 'HZ-511425-0099' });
    expect(created.status).to.equal(201);
    expect(created.body).to.include({ name: '青神县绿源运输', version: 1, active: true, countyId: '511425' });
    const changed = await t.api().patch(`${C}/haulers/${created.body.id}`).set('Authorization', official).send({ version: 1, name: '青神县绿源危货运输' });
    expect(changed.status).to.equal(200);
    expect(changed.body.version).to.equal(2);
    const stale = await t.api().patch(`${C}/haulers/${created.body.id}`).set('Authorization', official).send({ version: 1, name: 'lost update' });
    expect(stale.status).to.equal(409);
    expect(stale.body.error.code).to.equal('VERSION_CONFLICT');
    const off = await t.api().patch(`${C}/haulers/${created.body.id}`).set('Authorization', official).send({ version: 2, active: false });
    expect(off.body.active).to.equal(false);
    const history = await t.api().get(`${C}/haulers/${created.body.id}/history`).set('Authorization', official);
    expect(history.body.items.map((h: { op: string }) => h.op)).to.deep.equal(['create', 'update', 'deactivate']);
    expect(history.body.items[0].data.name).to.equal('青神县绿源运输');
    expect(history.body.items[2].actor).to.equal('user:qingshen.official');
    // Still readable, filterable as inactive.
    const inactive = await t.api().get(`${C}/haulers?active=false`).set('Authorization', official);
    expect(inactive.body.items.map((h: { id: string }) => h.id)).to.include(created.body.id);
  });

  it('paginates lists with a cursor, without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await t.api().get(`${C}/products?limit=7${cursor ? `&cursor=${cursor}` : ''}`).set('Authorization', clerk);
      seen.push(...res.body.items.map((p) => p.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    const total = Number((await t.db.knex('products').where({ county_id: '511425' }).count('* as n').first())?.n);
    expect(seen).to.have.length(total);
    expect(new Set(seen).size).to.equal(total);
    expect(pages).to.equal(Math.ceil(total / 7));
  });

  it('products: canonical registration numbers, GTIN check digits', async () => {
    const gtin = withGtinCheckDigit('690000001234');
    const ok = await t.api().post(`${C}/products`).set('Authorization', official)
      .send({ registrationNo: 'pd 2021 0777', name: '吡虫啉 70% 水分散粒剂', manufacturer: '测试农化', gtin, containerTypeId, packSizeCode: '010', packSizeLabel: '10 g' });
    expect(ok.status).to.equal(201);
    expect(ok.body.registrationNo).to.equal('PD20210777');
    const badReg = await t.api().post(`${C}/products`).set('Authorization', official).send({ registrationNo: 'XX20210777', name: 'a', manufacturer: 'b', containerTypeId });
    expect(badReg.body.error.code).to.equal('INVALID_REGISTRATION_NO');
    const badGtin = await t.api().post(`${C}/products`).set('Authorization', official)
      .send({ registrationNo: 'PD20210778', name: 'a', manufacturer: 'b', containerTypeId, gtin: gtin.slice(0, 12) + String((Number(gtin[12]) + 1) % 10) });
    expect(badGtin.body.error.code).to.equal('INVALID_GTIN');
    const byGtin = await t.api().get(`${C}/products?gtin=${gtin}`).set('Authorization', clerk);
    expect(byGtin.body.items).to.have.length(1);
  });

  it('deposit schedules: a new version supersedes the open one; overlaps and the past are refused', async () => {
    const next = await t.api().post(`${C}/deposit-schedules`).set('Authorization', official).send({ containerTypeId: null, depositFen: 150, effectiveFrom: '2026-05-01' });
    expect(next.status).to.equal(201);
    const all = await t.api().get(`${C}/deposit-schedules`).set('Authorization', official);
    const defaults = all.body.items.filter((s: { containerTypeId: string | null }) => s.containerTypeId === null)
      .sort((a: { effectiveFrom: string }, b: { effectiveFrom: string }) => a.effectiveFrom.localeCompare(b.effectiveFrom));
    expect(defaults.map((s: { effectiveFrom: string; effectiveTo: string | null; depositFen: number }) => [s.effectiveFrom, s.effectiveTo, s.depositFen]))
      .to.deep.equal([['2024-01-01', '2026-05-01', 100], ['2026-05-01', null, 150]]);
    const overlap = await t.api().post(`${C}/deposit-schedules`).set('Authorization', official).send({ containerTypeId: null, depositFen: 120, effectiveFrom: '2026-04-01', effectiveTo: '2026-06-01' });
    expect(overlap.status).to.equal(409);
    expect(overlap.body.error.code).to.equal('SCHEDULE_OVERLAP');
    const past = await t.api().post(`${C}/deposit-schedules`).set('Authorization', official).send({ containerTypeId, depositFen: 120, effectiveFrom: '2026-03-01' });
    expect(past.body.error.code).to.equal('SCHEDULE_IN_PAST');
    // The deposit in force follows the effective dates.
    const before = await t.api().get(`${C}/deposit-schedules/in-force?at=2026-04-30`).set('Authorization', clerk);
    const after = await t.api().get(`${C}/deposit-schedules/in-force?at=2026-05-01`).set('Authorization', clerk);
    const d = (res: typeof before, id: string) => res.body.items.find((i: { containerTypeId: string }) => i.containerTypeId === id);
    const plain = await t.db.knex('container_types').where({ county_id: '511425' }).whereNot('volume_ml', 5000).first('id');
    expect(d(before, plain.id).depositFen).to.equal(100);
    expect(d(after, plain.id).depositFen).to.equal(150);
    const fiveLitre = await t.db.knex('container_types').where({ county_id: '511425', volume_ml: 5000 }).first('id');
    expect(d(after, fiveLitre.id).depositFen).to.equal(200);
  });

  it('farmers: phones normalised to E.164; clerks see them, officials see masks only', async () => {
    const created = await t.api().post(`${C}/farmers`).set('Authorization', clerk).send({ name: '王建国', village: '中岩村', phone: '174-6999-0001' });
    expect(created.status).to.equal(201);
    expect(created.body.phone).to.equal('+8617469990001');
    const found = await t.api().get(`${C}/farmers?phone=+86%20174%206999%200001`).set('Authorization', clerk);
    expect(found.body.items).to.have.length(1);
    expect(found.body.items[0].name).to.equal('王建国');
    const asOfficial = await t.api().get(`${C}/farmers/${created.body.id}`).set('Authorization', official);
    expect(asOfficial.body.name).to.equal('王**');
    expect(asOfficial.body.phone).to.equal('+86 174****0001');
    expect(asOfficial.body.masked).to.equal(true);
    const history = await t.api().get(`${C}/farmers/${created.body.id}/history`).set('Authorization', official);
    expect(JSON.stringify(history.body)).to.not.contain('17469990001');
    const probe = await t.api().get(`${C}/farmers?phone=17469990001`).set('Authorization', official);
    expect(probe.status).to.equal(403);
    const bad = await t.api().post(`${C}/farmers`).set('Authorization', clerk).send({ name: '李', phone: '028-8888-8888' });
    expect(bad.status).to.equal(422);
    expect(bad.body.error.code).to.equal('INVALID_PHONE');
    const dup = await t.api().post(`${C}/farmers`).set('Authorization', clerk).send({ name: '王建国', phone: '17469990001' });
    expect(dup.status).to.equal(409);
  });

  it('counties: officials see their own, province officials their province, admins all', async () => {
    const ids = async (user: string) => (await t.api().get('/api/v1/counties').set('Authorization', await t.token(user))).body.items.map((c: { id: string }) => c.id);
    expect(await ids('qingshen.official')).to.deep.equal(['511425']);
    expect(await ids('sichuan.official')).to.deep.equal(['510823', '511425']);
    expect(await ids('zhejiang.official')).to.deep.equal(['330784']);
    expect(await ids('admin')).to.deep.equal(['330784', '510823', '511425']);
  });

  it('the OpenAPI document lists every route with the schemas ajv uses', async () => {
    const doc = await t.api().get('/api/v1/openapi.json');
    expect(doc.body.openapi).to.equal('3.1.0');
    const post = doc.body.paths['/api/v1/counties/{countyId}/shops'].post;
    expect(post['x-permission']).to.equal('reference:write');
    expect(post.requestBody.content['application/json'].schema.additionalProperties).to.equal(false);
    expect(post.requestBody.content['application/json'].schema.required).to.include.members(['townshipId', 'name', 'licenceNo']);
  });
});
