// The administrator creates a manufacturer's integration account (docs/events.md, "The manufacturer
// account"): the request is the one the doc shows, read from the doc; the account signs in and follows
// only its own products' events; nobody but the administrator may create one; wrong names are refused.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { COUNTY, GLYPHOSATE, saleBody } from '../ledger/ledger-fixtures.js';

function docExample(): Record<string, string> {
  const md = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');
  const block = /```http\nPOST \/api\/v1\/manufacturer-accounts\n([\s\S]*?)\n# as admin/.exec(md);
  if (!block) throw new Error('docs/events.md no longer shows POST /api/v1/manufacturer-accounts');
  return JSON.parse(block[1]!) as Record<string, string>;
}

describe('manufacturer integration accounts', () => {
  const t = useTestApp();
  const create = async (who: string, body: Record<string, unknown>) =>
    t.api().post('/api/v1/manufacturer-accounts').set('Authorization', await t.token(who)).send(body);

  it('the administrator creates the account docs/events.md shows; it signs in and sees its products\' sales in the feed', async () => {
    const body = docExample();
    const res = await create('admin', body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({ username: body.username, role: 'manufacturer', provinceCode: body.provinceCode, manufacturer: body.manufacturer, countyId: null });
    const login = await t.api().post('/api/v1/auth/login').send({ username: body.username, password: body.password });
    expect(login.status, JSON.stringify(login.body)).to.equal(200);
    const auth = `Bearer ${login.body.accessToken}`;
    const sale = saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] });
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await t.token('clerk.qingcheng')).send(sale)).status).to.equal(201);
    const feed = await t.api().get(`/api/v1/counties/${COUNTY}/events`).query({ limit: 1000 }).set('Authorization', auth);
    expect(feed.status, JSON.stringify(feed.body)).to.equal(200);
    expect(feed.body.items.map((e: { id: string }) => e.id)).to.include(`sale:${sale.id}`);
    // Read-only: it may not record a sale.
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', auth).send(saleBody())).status).to.equal(403);
    // The username is taken now.
    expect((await create('admin', body)).status).to.equal(409);
  });

  it('only the administrator creates one; a manufacturer with no product in the province, or a province with no county, is refused naming the field', async () => {
    const base = { username: 'other.feed', displayName: '别家', password: 'correct horse battery', provinceCode: '510000', manufacturer: '浙江新安化工集团股份有限公司' };
    for (const who of ['qingshen.official', 'sichuan.official', 'clerk.qingcheng']) {
      const r = await create(who, base);
      expect(r.status, who).to.equal(403);
    }
    const noProduct = await create('admin', { ...base, manufacturer: '不存在的农药厂' });
    expect(noProduct.status).to.equal(422);
    expect(noProduct.body.error).to.deep.include({ code: 'REFERENCE_NOT_FOUND' });
    expect(noProduct.body.error.details[0].field).to.equal('/body/manufacturer');
    const noCounty = await create('admin', { ...base, provinceCode: '650000' });
    expect(noCounty.status).to.equal(422);
    expect(noCounty.body.error.details[0].field).to.equal('/body/provinceCode');
    expect((await t.db.knex('users').where({ username: 'other.feed' }).first('id'))).to.equal(undefined);
  });
});
