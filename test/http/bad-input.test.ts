// Bad input gets a clear error with a stable code and changes nothing.
import { expect } from 'chai';
import { useTestApp } from '../support/harness.js';

describe('bad input: stable JSON errors, nothing changed', () => {
  const t = useTestApp();
  let auth: string;
  let townshipId: string;
  const countShops = async () => Number((await t.db.knex('shops').count('* as n').first())?.n);
  before(async () => {
    auth = await t.token('qingshen.official');
    townshipId = (await t.db.knex('townships').where({ county_id: '511425' }).first('id')).id;
  });

  const shop = () => ({ townshipId, name: '测试农资店', licenceNo: `LIC-${Math.random()}` });

  it('malformed JSON → 400 MALFORMED_JSON', async () => {
    const before = await countShops();
    const res = await t.api().post('/api/v1/counties/511425/shops').set('Authorization', auth).set('Content-Type', 'application/json').send('{"name": "x",');
    expect(res.status).to.equal(400);
    expect(res.body).to.have.nested.property('error.code', 'MALFORMED_JSON');
    expect(await countShops()).to.equal(before);
  });

  it('oversized body → 413 BODY_TOO_LARGE', async () => {
    const res = await t.api().post('/api/v1/counties/511425/shops').set('Authorization', auth).send({ ...shop(), address: 'x'.repeat(2_000_000) });
    expect(res.status).to.equal(413);
    expect(res.body.error.code).to.equal('BODY_TOO_LARGE');
  });

  it('unknown fields, wrong types and missing fields are each named', async () => {
    const before = await countShops();
    const res = await t.api().post('/api/v1/counties/511425/shops').set('Authorization', auth)
      .send({ townshipId: 'not-a-uuid', name: 42, surprise: true });
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    const fields = res.body.error.details.map((d: { field: string }) => d.field);
    expect(fields).to.include.members(['/body/townshipId', '/body/name', '/body/surprise', '/body/licenceNo']);
    expect(await countShops()).to.equal(before);
  });

  it('a non-JSON body on a JSON endpoint → 415', async () => {
    const res = await t.api().post('/api/v1/counties/511425/shops').set('Authorization', auth).set('Content-Type', 'text/plain').send('name=x');
    expect(res.status).to.equal(415);
    expect(res.body.error.code).to.equal('UNSUPPORTED_MEDIA_TYPE');
  });

  it('bad path and query parameters are validated too', async () => {
    const badCounty = await t.api().get('/api/v1/counties/99/shops').set('Authorization', auth);
    expect(badCounty.status).to.equal(400);
    expect(badCounty.body.error.details[0].field).to.equal('/params/countyId');
    const badLimit = await t.api().get('/api/v1/counties/511425/shops?limit=100000').set('Authorization', auth);
    expect(badLimit.status).to.equal(400);
    expect(badLimit.body.error.details[0].field).to.equal('/query/limit');
    const unknownQuery = await t.api().get('/api/v1/counties/511425/shops?sort=name').set('Authorization', auth);
    expect(unknownQuery.status).to.equal(400);
  });

  it('unknown routes get a JSON 404', async () => {
    const res = await t.api().get('/api/v1/nothing-here');
    expect(res.status).to.equal(404);
    expect(res.body.error.code).to.equal('ROUTE_NOT_FOUND');
  });

  it('a reference to another county’s record is refused and nothing is written', async () => {
    const before = await countShops();
    const otherTownship = (await t.db.knex('townships').where({ county_id: '510823' }).first('id')).id;
    const res = await t.api().post('/api/v1/counties/511425/shops').set('Authorization', auth).send({ ...shop(), townshipId: otherTownship });
    expect(res.status).to.equal(422);
    expect(res.body.error.code).to.equal('REFERENCE_NOT_FOUND');
    expect(res.body.error.details[0].field).to.equal('/body/townshipId');
    expect(await countShops()).to.equal(before);
  });

  it('a duplicate licence number → 409 DUPLICATE', async () => {
    const body = shop();
    expect((await t.api().post('/api/v1/counties/511425/shops').set('Authorization', auth).send(body)).status).to.equal(201);
    const res = await t.api().post('/api/v1/counties/511425/shops').set('Authorization', auth).send(body);
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal('DUPLICATE');
  });

  it('no error body ever carries a stack trace or SQL', async () => {
    const res = await t.api().post('/api/v1/counties/511425/shops').set('Authorization', auth).send({ ...shop(), licenceNo: 'x'.repeat(64), name: 'y'.repeat(200), address: 'z'.repeat(300) });
    const text = JSON.stringify(res.body);
    expect(text).to.not.match(/at .*\.ts:\d+|insert into|select .* from|stack/i);
  });

  it('the database refuses hard deletes of business records', async () => {
    let err: unknown;
    try {
      await t.db.knex('shops').where({ county_id: '511425' }).delete();
    } catch (e) {
      err = e;
    }
    expect(String((err as Error)?.message)).to.match(/never deleted/);
    expect(await countShops()).to.be.greaterThan(10);
  });
});
