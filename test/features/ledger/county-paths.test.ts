// Issue 15, "Mixed shapes" and "Client ids": sales, returns and reversals under
// /api/v1/counties/{countyId}/…, the old top-level paths as deprecated aliases with the same
// behaviour, and client ids that accept any RFC 9562 UUID and explain a bad one in words.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { useTestApp } from '../../support/harness.js';
import { OTHER_COUNTY_ID } from '../../support/other-county.js';
import { newClientId, isClientIdV7 } from '../../../src/shared/client-id.js';
import { PLAIN_WORDS } from '../../../src/shared/plain-words.js';
import { ALIAS_DEPRECATED_SINCE, ALIAS_SUNSET } from '../../../src/http/county-paths.js';
import { DOCS_DIR } from '../../../src/cli/docs.js';
import { COUNTY, GLYPHOSATE, SHOP_A, SHOP_B, balances, expectLedgerClean, returnBody, saleBody, unitCode } from './ledger-fixtures.js';

const NEW = (what: string, county = COUNTY) => `/api/v1/counties/${county}/${what}`;

describe('county-scoped paths for sales, returns and reversals, with deprecated aliases', () => {
  const t = useTestApp();
  const post = async (p: string, who: string, body: unknown) => t.api().post(p).set('Authorization', await t.token(who)).send(body as object);

  it('records a sale, its return and a reversal under the county path, the county taken from the path', async () => {
    const code = unitCode(GLYPHOSATE);
    const sale = await post(NEW('sales'), 'clerk.qingcheng', saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: [code] }] }));
    expect(sale.status, JSON.stringify(sale.body)).to.equal(201);
    expect(sale.body.countyId).to.equal(COUNTY);
    expect(sale.headers.deprecation).to.equal(undefined);
    expect(sale.headers.sunset).to.equal(undefined);
    const ret = await post(NEW('returns'), 'clerk.qingcheng', returnBody({ items: [{ scan: code, inspection: 'accepted' }] }));
    expect(ret.status, JSON.stringify(ret.body)).to.equal(201);
    expect(ret.body.totalRefundFen).to.equal(100);
    // An official of the county (no shop) reverses the return, then the sale is still blocked.
    const rev = await post(NEW('reversals'), 'qingshen.official', { id: newClientId(), targetType: 'return', targetId: ret.body.returnId, reason: '录错了' });
    expect(rev.status, JSON.stringify(rev.body)).to.equal(201);
    const revSale = await post(NEW('reversals'), 'qingshen.official', { id: newClientId(), targetType: 'sale', targetId: sale.body.saleId, reason: '录错了' });
    expect(revSale.status, JSON.stringify(revSale.body)).to.equal(201);
    expect(Object.values(await balances(t)).filter((v) => v !== 0)).to.deep.equal([]);
    await expectLedgerClean(t);
  });

  it('refuses a countyId in the body of a county path (the path names the county)', async () => {
    const res = await post(NEW('sales'), 'clerk.qingcheng', saleBody({ countyId: COUNTY }));
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    expect(res.body.error.details).to.deep.include({ field: '/body/countyId', code: 'additionalProperties', message: 'is not a known field' });
  });

  it('scopes by the path: another county refused before anything is looked up, another shop refused for a clerk', async () => {
    const other = await post(NEW('sales', OTHER_COUNTY_ID), 'clerk.qingcheng', saleBody());
    expect(other.status).to.equal(403);
    expect(other.body.error.code).to.equal('OUT_OF_SCOPE');
    // Even a body that would not validate: the county is refused first.
    const otherBad = await post(NEW('reversals', OTHER_COUNTY_ID), 'qingshen.official', {});
    expect(otherBad.body.error.code).to.equal('OUT_OF_SCOPE');
    const shopB = await post(NEW('returns'), 'clerk.qingcheng', returnBody({ shopId: SHOP_B, items: [{ productId: GLYPHOSATE.id, quantity: 1, inspection: 'accepted' }] }));
    expect(shopB.status).to.equal(403);
    expect(shopB.body.error.code).to.equal('OUT_OF_SCOPE');
    // An admin names any county by the path, and any shop of it.
    expect((await post(NEW('sales'), 'admin', saleBody({ shopId: SHOP_B }))).status).to.equal(201);
    expect((await post(NEW('returns'), 'admin', returnBody({ shopId: SHOP_A, items: [{ productId: GLYPHOSATE.id, quantity: 1, inspection: 'accepted' }] }))).status).to.equal(201);
  });

  it('keeps the old paths as aliases: same answer, Deprecation, Sunset and a successor Link', async () => {
    const body = saleBody();
    const old = await post('/api/v1/sales', 'clerk.qingcheng', body);
    expect(old.status, JSON.stringify(old.body)).to.equal(201);
    expect(old.headers.deprecation).to.equal(ALIAS_DEPRECATED_SINCE);
    expect(old.headers.sunset).to.equal(ALIAS_SUNSET);
    expect(old.headers.link).to.equal(`</api/v1/counties/${COUNTY}/sales>; rel="successor-version"`);
    // A retry moved to the new path with the same id and content gets the stored receipt back.
    const moved = await post(NEW('sales'), 'clerk.qingcheng', body);
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    expect(moved.body).to.deep.equal(old.body);
    // And the other way round, for an admin who names the county in the old body.
    const adminBody = saleBody({ shopId: SHOP_B });
    const fresh = await post(NEW('sales'), 'admin', adminBody);
    expect(fresh.status).to.equal(201);
    const back = await post('/api/v1/sales', 'admin', { ...adminBody, countyId: COUNTY });
    expect(back.status, JSON.stringify(back.body)).to.equal(200);
    expect(back.body).to.deep.equal(fresh.body);
    // Errors from an alias carry the headers too.
    const refused = await post('/api/v1/returns', 'clerk.qingcheng', { nonsense: true });
    expect(refused.status).to.equal(400);
    expect(refused.headers.deprecation).to.equal(ALIAS_DEPRECATED_SINCE);
    const rev = await post('/api/v1/reversals', 'qingshen.official', { id: newClientId(), targetType: 'sale', targetId: old.body.saleId, reason: 'alias' });
    expect(rev.status, JSON.stringify(rev.body)).to.equal(201);
    expect(rev.headers.link).to.equal(`</api/v1/counties/${COUNTY}/reversals>; rel="successor-version"`);
    await expectLedgerClean(t);
  });

  it('a retry moves between the alias and the county path even when the alias body named the caller\'s own county', async () => {
    // A clerk of the county who wrote countyId into the old body: the county path's body never has
    // it, yet it is the same request, so the stored answer comes back (not IDEMPOTENCY_CONFLICT).
    const body = saleBody();
    const old = await post('/api/v1/sales', 'clerk.qingcheng', { ...body, countyId: COUNTY });
    expect(old.status, JSON.stringify(old.body)).to.equal(201);
    const moved = await post(NEW('sales'), 'clerk.qingcheng', body);
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    expect(moved.body).to.deep.equal(old.body);
    // The other way round: first at the county path, the retry at the alias naming the county.
    const ret = returnBody({ items: [{ productId: GLYPHOSATE.id, quantity: 1, inspection: 'accepted' }] });
    const fresh = await post(NEW('returns'), 'clerk.qingcheng', ret);
    expect(fresh.status, JSON.stringify(fresh.body)).to.equal(201);
    const back = await post('/api/v1/returns', 'clerk.qingcheng', { ...ret, countyId: COUNTY });
    expect(back.status, JSON.stringify(back.body)).to.equal(200);
    expect(back.body).to.deep.equal(fresh.body);
    // Other content under the same id is still a conflict, on either path, and nothing was written twice.
    const changed = await post(NEW('sales'), 'clerk.qingcheng', { ...body, lines: [{ productId: GLYPHOSATE.id, quantity: 3 }] });
    expect(changed.status).to.equal(409);
    expect(changed.body.error.code).to.equal('IDEMPOTENCY_CONFLICT');
    const changedOld = await post('/api/v1/sales', 'clerk.qingcheng', { ...body, countyId: COUNTY, lines: [{ productId: GLYPHOSATE.id, quantity: 3 }] });
    expect(changedOld.body.error.code).to.equal('IDEMPOTENCY_CONFLICT');
    expect(Number((await t.db.knex('sales').where({ county_id: COUNTY, id: body.id }).count({ n: '*' }))[0]!.n)).to.equal(1);
    expect(Number((await t.db.knex('returns').where({ county_id: COUNTY, id: ret.id }).count({ n: '*' }))[0]!.n)).to.equal(1);
    await expectLedgerClean(t);
  });

  it('marks the aliases deprecated in the OpenAPI document, and only them', async () => {
    const doc = (await t.api().get('/api/v1/openapi.json')).body;
    for (const what of ['sales', 'returns', 'reversals']) {
      const alias = doc.paths[`/api/v1/${what}`].post;
      const scoped = doc.paths[`/api/v1/counties/{countyId}/${what}`].post;
      expect(alias.deprecated, what).to.equal(true);
      expect(alias.responses['201'].headers).to.have.keys('Deprecation', 'Sunset', 'Link');
      expect(scoped.deprecated, what).to.equal(undefined);
      expect(scoped.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).to.include('path:countyId');
      expect(Object.keys(scoped.requestBody.content['application/json'].schema.properties)).to.not.include('countyId');
    }
    const deprecated = Object.entries(doc.paths as Record<string, Record<string, { deprecated?: boolean }>>)
      .flatMap(([p, ops]) => Object.entries(ops).filter(([, op]) => op.deprecated).map(([m]) => `${m} ${p}`));
    expect(deprecated.sort()).to.deep.equal([
      // The dashboard's old paths (test/features/dashboard/dashboard-paths.test.ts).
      'get /api/v1/dashboard/counties/{countyId}', 'get /api/v1/dashboard/counties/{countyId}/incentives', 'get /api/v1/dashboard/counties/{countyId}/map',
      'get /api/v1/dashboard/counties/{countyId}/reconciliations/{runId}/exceptions', 'get /api/v1/dashboard/counties/{countyId}/shops', 'get /api/v1/dashboard/counties/{countyId}/shops/{shopId}',
      'get /api/v1/dashboard/provinces/{provinceCode}', 'get /api/v1/dashboard/provinces/{provinceCode}/map',
      'post /api/v1/held-refund-payouts', 'post /api/v1/held-refunds/payable', 'post /api/v1/returns', 'post /api/v1/reversals', 'post /api/v1/sales', 'post /api/v1/settlements',
    ]);
  });
});

describe('client ids: any RFC 9562 UUID, a bad one explained in words', () => {
  const t = useTestApp();
  const post = async (p: string, who: string, body: unknown) => t.api().post(p).set('Authorization', await t.token(who)).send(body as object);

  it("accepts Node's crypto.randomUUID() (v4) as a sale's id, and replays it", async () => {
    const body = saleBody({ id: randomUUID() });
    const first = await post(NEW('sales'), 'clerk.qingcheng', body);
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    expect(first.body.saleId).to.equal(body.id);
    const again = await post(NEW('sales'), 'clerk.qingcheng', body);
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal(first.body);
  });

  it('refuses a malformed id naming the field and saying what is expected, in English and Chinese', async () => {
    for (const bad of ['not-an-id', '01956A3C-1B2B-7C3D-8E4F-0123456789AB', '01956a3c-1b2b-7c3d-ce4f-0123456789ab']) {
      const res = await post(NEW('sales'), 'clerk.qingcheng', saleBody({ id: bad }));
      expect(res.status, bad).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      const d = res.body.error.details.find((x: { field: string }) => x.field === '/body/id');
      expect(d, JSON.stringify(res.body)).to.include({ code: 'invalid_client_id' });
      expect(d.message).to.match(/^id must be a UUID in lowercase canonical form/);
      expect(d.message).to.contain('v4 accepted');
      expect(d.message).to.not.contain('^[0-9a-f]');
      expect(d.message_zh).to.equal(`id：${PLAIN_WORDS.INVALID_CLIENT_ID!.zh}`);
      expect(d.plain).to.deep.equal(PLAIN_WORDS.INVALID_CLIENT_ID);
    }
    // Another field holding a client id is named as itself.
    const batch = await t.api().post('/api/v1/sync/batches').set('Authorization', await t.token('clerk.qingcheng')).send({ batchId: 'x', records: [] });
    expect(batch.status).to.equal(400);
    const d = batch.body.error.details.find((x: { field: string }) => x.field === '/body/batchId');
    expect(d, JSON.stringify(batch.body)).to.include({ code: 'invalid_client_id' });
    expect(d.message).to.match(/^batchId must be a UUID/);
  });

  it('the docs’ Node snippet makes a UUIDv7 the server takes', async () => {
    const api = fs.readFileSync(path.join(DOCS_DIR, 'api.md'), 'utf8');
    const m = /### Client ids[\s\S]*?```js\n([\s\S]*?)```/.exec(api);
    expect(m, 'docs/api.md shows the snippet').to.not.equal(null);
    const before = Date.now();
    const ids = Array.from({ length: 2 }, () => execFileSync(process.execPath, ['--input-type=module', '-e', m![1]!], { encoding: 'utf8' }).trim());
    for (const id of ids) {
      expect(isClientIdV7(id), id).to.equal(true);
      const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
      expect(ms).to.be.within(before - 1000, Date.now() + 1000);
    }
    expect(ids[0]).to.not.equal(ids[1]);
    const res = await post(NEW('sales'), 'clerk.qingcheng', saleBody({ id: ids[0] }));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
  });
});
