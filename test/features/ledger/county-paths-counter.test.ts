// Issue 15, "Mixed shapes": settlements and the two held-refund counter routes under
// /api/v1/counties/{countyId}/…, their old top-level paths (county in the body) kept as deprecated
// aliases with the same behaviour, the same idempotency keys and Deprecation/Sunset/Link headers.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { OTHER_COUNTY_ID } from '../../support/other-county.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { ALIAS_DEPRECATED_SINCE, ALIAS_SUNSET } from '../../../src/http/county-paths.js';
import { COUNTY, GLYPHOSATE, SHOP_A, SHOP_B, expectLedgerClean, freshToken, returnBody, saleBody, traceUrl, unitCode } from './ledger-fixtures.js';

const NEW = (what: string, county = COUNTY) => `/api/v1/counties/${county}/${what}`;
const PHONE = '17460000621';

function expectAlias(res: { headers: Record<string, string> }, successor: string): void {
  expect(res.headers.deprecation).to.equal(ALIAS_DEPRECATED_SINCE);
  expect(res.headers.sunset).to.equal(ALIAS_SUNSET);
  expect(res.headers.link).to.equal(`<${successor}>; rel="successor-version"`);
}

describe('county-scoped paths for held-refund counter routes, with deprecated aliases', () => {
  const t = useTestApp();
  const post = async (p: string, who: string, body: unknown) => t.api().post(p).set('Authorization', await t.token(who)).send(body as object);
  /** A never-sold code returned at shop A by PHONE, its held refund approved. */
  const approvedOne = async () => {
    const res = await post(NEW('returns'), 'clerk.qingcheng', returnBody({ returner: { phone: PHONE, name: '持码农户' }, items: [{ scan: traceUrl(unitCode(GLYPHOSATE)), inspection: 'accepted' }] }));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const heldRefundId = res.body.items[0].heldRefund.heldRefundId as string;
    const ok = await post(NEW(`held-refunds/${heldRefundId}/decision`), 'qingshen.official', { id: newClientId(), decision: 'approve' });
    expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
    return heldRefundId;
  };

  it('lists what a phone may collect at the new path and the alias alike; only the alias is marked deprecated', async () => {
    const heldRefundId = await approvedOne();
    const scoped = await post(NEW('held-refunds/payable'), 'clerk.qingcheng', { shopId: SHOP_A, phone: PHONE });
    expect(scoped.status, JSON.stringify(scoped.body)).to.equal(200);
    expect(scoped.headers.deprecation).to.equal(undefined);
    expect(scoped.body.countyId).to.equal(COUNTY);
    expect(scoped.body.items.map((i: { heldRefundId: string }) => i.heldRefundId)).to.deep.equal([heldRefundId]);
    expect(scoped.body.totalFen).to.equal(100);
    const old = await post('/api/v1/held-refunds/payable', 'clerk.qingcheng', { countyId: COUNTY, shopId: SHOP_A, phone: PHONE });
    expect(old.status, JSON.stringify(old.body)).to.equal(200);
    expect(old.body).to.deep.equal(scoped.body);
    expectAlias(old, NEW('held-refunds/payable'));
    // The path names the county: a countyId in the body is refused, another county is out of scope.
    const withCounty = await post(NEW('held-refunds/payable'), 'clerk.qingcheng', { countyId: COUNTY, shopId: SHOP_A, phone: PHONE });
    expect(withCounty.status).to.equal(400);
    expect(withCounty.body.error.details).to.deep.include({ field: '/body/countyId', code: 'additionalProperties', message: 'is not a known field' });
    const other = await post(NEW('held-refunds/payable', OTHER_COUNTY_ID), 'clerk.qingcheng', { shopId: SHOP_A, phone: PHONE });
    expect(other.status).to.equal(403);
    expect(other.body.error.code).to.equal('OUT_OF_SCOPE');
    const shopB = await post(NEW('held-refunds/payable'), 'clerk.qingcheng', { shopId: SHOP_B, phone: PHONE });
    expect(shopB.body.error.code).to.equal('OUT_OF_SCOPE');
  });

  it('pays once at the new path; a retry moved to the alias (or back) replays the stored payout', async () => {
    const first = await approvedOne();
    const body = { id: newClientId(), shopId: SHOP_A, heldRefundId: first, phone: PHONE };
    const paid = await post(NEW('held-refund-payouts'), 'clerk.qingcheng', body);
    expect(paid.status, JSON.stringify(paid.body)).to.equal(201);
    expect(paid.headers.deprecation).to.equal(undefined);
    expect(paid.body).to.include({ heldRefundId: first, method: 'cash', shopId: SHOP_A, amountFen: 100 });
    // The same client id and content at the old path (the clerk's own county, not named): the stored answer.
    const moved = await post('/api/v1/held-refund-payouts', 'clerk.qingcheng', body);
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    expect(moved.body).to.deep.equal(paid.body);
    expectAlias(moved, NEW('held-refund-payouts'));
    // An admin names the county in the old body; the retry at the new path replays it.
    const second = await approvedOne();
    const adminBody = { id: newClientId(), shopId: SHOP_B, heldRefundId: second, phone: PHONE };
    const old = await post('/api/v1/held-refund-payouts', 'admin', { ...adminBody, countyId: COUNTY });
    expect(old.status, JSON.stringify(old.body)).to.equal(201);
    // A caller without a county of its own gets the successor as a template.
    expectAlias(old, '/api/v1/counties/{countyId}/held-refund-payouts');
    const back = await post(NEW('held-refund-payouts'), 'admin', adminBody);
    expect(back.status, JSON.stringify(back.body)).to.equal(200);
    expect(back.body).to.deep.equal(old.body);
    // Paid once, ever, whichever path asks again with a new id.
    const again = await post(NEW('held-refund-payouts'), 'admin', { ...adminBody, id: newClientId() });
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal('HELD_REFUND_ALREADY_PAID');
    const transfers = await t.db.knex('ledger_transfers').where({ county_id: COUNTY, code: 'held_refund_paid' }).whereIn('ref_id', [body.id, adminBody.id]);
    expect(transfers).to.have.length(2);
    // Errors from an alias carry the headers too.
    const refused = await post('/api/v1/held-refund-payouts', 'clerk.qingcheng', { nonsense: true });
    expect(refused.status).to.equal(400);
    expectAlias(refused, NEW('held-refund-payouts'));
    await expectLedgerClean(t);
  });
});

describe('county-scoped settlement payments, with the deprecated alias', () => {
  const t = useTestApp();
  const tokens = new Map<string, string>();
  const token = async (who: string) => tokens.get(who) ?? tokens.set(who, await freshToken(t, who)).get(who)!;
  const post = async (p: string, who: string, body: unknown) => t.api().post(p).set('Authorization', await token(who)).send(body as object);

  it('records a settlement at the new path and at the alias; retries move between them and replay', async () => {
    expect((await post(NEW('sales'), 'clerk.qingcheng', saleBody({ eventTime: '2026-03-10T02:00:00Z', lines: [{ productId: GLYPHOSATE.id, quantity: 2 }] }))).status).to.equal(201);
    expect((await post(NEW('sales'), 'admin', saleBody({ shopId: SHOP_B, eventTime: '2026-03-11T02:00:00Z', lines: [{ productId: GLYPHOSATE.id, quantity: 3 }] }))).status).to.equal(201);
    t.clock.set('2026-04-02T02:00:00.000Z');
    tokens.clear();
    const st = await t.api().get(NEW('settlements/statements/2026-03')).set('Authorization', await token('qingshen.official'));
    expect(st.status, JSON.stringify(st.body)).to.equal(200);
    const owed = (shopId: string) => st.body.shops.find((s: { shopId: string }) => s.shopId === shopId).outstandingFen as number;
    expect(owed(SHOP_A)).to.equal(200);
    expect(owed(SHOP_B)).to.equal(300);

    const bodyA = { id: newClientId(), shopId: SHOP_A, period: '2026-03', amountFen: 200, direction: 'from_shop', method: 'bank', reference: 'BK-A' };
    const a = await post(NEW('settlements'), 'qingshen.official', bodyA);
    expect(a.status, JSON.stringify(a.body)).to.equal(201);
    expect(a.headers.deprecation).to.equal(undefined);
    expect(a.body).to.include({ countyId: COUNTY, shopId: SHOP_A, amountFen: 200, direction: 'from_shop' });
    const aOld = await post('/api/v1/settlements', 'qingshen.official', bodyA);
    expect(aOld.status, JSON.stringify(aOld.body)).to.equal(200);
    expect(aOld.body).to.deep.equal(a.body);
    expectAlias(aOld, NEW('settlements'));

    const bodyB = { id: newClientId(), shopId: SHOP_B, period: '2026-03', amountFen: 300, direction: 'from_shop', method: 'bank', reference: 'BK-B' };
    const b = await post('/api/v1/settlements', 'admin', { ...bodyB, countyId: COUNTY });
    expect(b.status, JSON.stringify(b.body)).to.equal(201);
    // A caller without a county of its own gets the successor as a template.
    expectAlias(b, '/api/v1/counties/{countyId}/settlements');
    const bNew = await post(NEW('settlements'), 'admin', bodyB);
    expect(bNew.status, JSON.stringify(bNew.body)).to.equal(200);
    expect(bNew.body).to.deep.equal(b.body);
    // Same id, other content: a conflict at either path.
    const conflict = await post(NEW('settlements'), 'admin', { ...bodyB, reference: 'BK-other' });
    expect(conflict.status).to.equal(409);
    expect(conflict.body.error.code).to.equal('IDEMPOTENCY_CONFLICT');
    expect((await post(NEW('settlements'), 'admin', { ...bodyB, id: newClientId() })).body.error.code).to.equal('NOTHING_TO_SETTLE');

    // The path names the county.
    const withCounty = await post(NEW('settlements'), 'qingshen.official', { ...bodyA, id: newClientId(), countyId: COUNTY });
    expect(withCounty.status).to.equal(400);
    expect(withCounty.body.error.details).to.deep.include({ field: '/body/countyId', code: 'additionalProperties', message: 'is not a known field' });
    const other = await post(NEW('settlements', OTHER_COUNTY_ID), 'qingshen.official', { ...bodyA, id: newClientId() });
    expect(other.status).to.equal(403);
    expect(other.body.error.code).to.equal('OUT_OF_SCOPE');

    const after = await t.api().get(NEW('settlements/statements/2026-03')).set('Authorization', await token('qingshen.official'));
    expect(after.body.shops.map((s: { outstandingFen: number }) => s.outstandingFen).filter((f: number) => f !== 0)).to.deep.equal([]);
    await expectLedgerClean(t);
  });

  it('marks the old paths deprecated in the OpenAPI document, the county paths not, with countyId in the path only', async () => {
    const doc = (await t.api().get('/api/v1/openapi.json')).body;
    for (const [old, scoped] of [['/api/v1/settlements', '/api/v1/counties/{countyId}/settlements'], ['/api/v1/held-refunds/payable', '/api/v1/counties/{countyId}/held-refunds/payable'], ['/api/v1/held-refund-payouts', '/api/v1/counties/{countyId}/held-refund-payouts']] as const) {
      const alias = doc.paths[old].post;
      const now = doc.paths[scoped].post;
      expect(alias.deprecated, old).to.equal(true);
      expect(alias.description).to.contain(`POST ${scoped}`);
      expect(now.deprecated, scoped).to.equal(undefined);
      expect(now.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).to.include('path:countyId');
      expect(Object.keys(now.requestBody.content['application/json'].schema.properties)).to.not.include('countyId');
    }
  });
});
