// Every route × every role × own county / same-province county / other-province county, plus no
// token at all. Expected outcomes come from the permission table and the scope rules alone, so a route
// that forgets its permission or scope check fails here.
import { expect } from 'chai';
import { allRoutes } from '../../src/http/routes.js';
import { ROLE_PERMISSIONS, type ActorRole } from '../../src/auth/permissions.js';
import type { RouteDef } from '../../src/http/route.js';
import { useTestApp, DEMO_PASSWORD } from '../support/harness.js';
import { OTHER_COUNTY_ID, OTHER_PROVINCE_COUNTY_ID } from '../support/other-county.js';
import { demoId } from '../../seeds/demo-county.js';
import { scopeExampleSaleId } from '../../src/features/reversals/reversal-routes.js';
import { GLYPHOSATE, SHOP_A, SHOP_B, saleBody } from '../features/ledger/ledger-fixtures.js';

const OWN = '511425';
const ACTORS: Array<{ role: ActorRole; username: string | null }> = [
  { role: 'admin', username: 'admin' },
  { role: 'province_official', username: 'sichuan.official' },
  { role: 'county_official', username: 'qingshen.official' },
  { role: 'inspector', username: 'inspector.matrix' },
  { role: 'clerk', username: 'clerk.qingcheng' },
  { role: 'hauler', username: 'hauler.demo' },
  { role: 'facility_operator', username: 'facility.demo' },
  // The integration principal of a manufacturer (docs/events.md): the event feed of its province only.
  { role: 'manufacturer', username: 'xinan.integration' },
  { role: 'terminal', username: null },
];

function expectedScope(role: ActorRole, county: string): boolean {
  if (role === 'admin') return true;
  if (role === 'province_official' || role === 'manufacturer') return county.slice(0, 2) === '51';
  return county === OWN;
}

function fillPath(r: RouteDef, county: string): string {
  return r.path
    .replace(':countyId', county)
    .replace(/:([A-Za-z]+)/g, '00000000-0000-7000-8000-000000000000');
}

describe('authorisation matrix: every route × role × scope', function () {
  this.timeout(180_000);
  const t = useTestApp();
  const tokens = new Map<ActorRole, string>();
  const routes = allRoutes().filter((r) => r.auth !== 'public');

  before(async () => {
    // The read-only inspector is created as any county user is, by the county official.
    const created = await t.api().post(`/api/v1/counties/${OWN}/users`).set('Authorization', await t.token('qingshen.official'))
      .send({ username: 'inspector.matrix', displayName: '执法人员', password: DEMO_PASSWORD, role: 'inspector' });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    for (const a of ACTORS) if (a.username) tokens.set(a.role, await t.token(a.username));
    // Enrol a terminal for the demo clerk's shop so the device credential is part of the matrix.
    const clerk = await t.api().get('/api/v1/auth/me').set('Authorization', tokens.get('clerk') as string);
    const issued = await t.api().post(`/api/v1/counties/${OWN}/terminals`).set('Authorization', tokens.get('county_official') as string)
      .send({ shopId: clerk.body.user.shopId, name: 'matrix terminal' });
    expect(issued.status).to.equal(201);
    const enrolled = await t.api().post('/api/v1/terminals/enrol').send({ enrolmentCode: issued.body.enrolmentCode });
    expect(enrolled.status).to.equal(200);
    tokens.set('terminal', `Bearer ${enrolled.body.credential}`);
    // Records the reversal route's scope example names (a reversal's shop is that of what it reverses).
    for (const shopId of [SHOP_A, SHOP_B]) {
      const sale = await t.api().post(`/api/v1/counties/${OWN}/sales`).set('Authorization', tokens.get('admin') as string)
        .send(saleBody({ id: scopeExampleSaleId(shopId), shopId, purchaser: { phone: '17460009902', name: '范围' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] }));
      expect(sale.status, JSON.stringify(sale.body)).to.equal(201);
    }
  });

  it('covers a meaningful number of routes', () => {
    expect(routes.length).to.be.greaterThan(30);
  });

  it('refuses every protected route without a token (401 UNAUTHENTICATED)', async () => {
    for (const r of routes) {
      const res = await t.api()[r.method](fillPath(r, OWN)).send({});
      expect(res.status, `${r.method.toUpperCase()} ${r.path}`).to.equal(401);
      expect(res.body.error.code).to.equal('UNAUTHENTICATED');
    }
  });

  it('refuses a garbage or forged token (401 TOKEN_INVALID)', async () => {
    const r = routes.find((x) => x.path === '/api/v1/counties') as RouteDef;
    for (const token of ['Bearer abc.def.ghi', 'Bearer agt_511425_00000000-0000-7000-8000-000000000000.AAAAAAAAAAAAAAAAAAAAAAAA']) {
      const res = await t.api().get(r.path).set('Authorization', token);
      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal('TOKEN_INVALID');
    }
  });

  // Body and query scope: the routes whose target comes from what the request names.
  const OTHER_COUNTY_SHOP = demoId('shops', `${OTHER_COUNTY_ID}:1`);
  const scoped = routes.filter((r) => typeof r.auth === 'object' && r.scopeExample);

  it('gives a scope example to every route whose scope comes from the body or query', () => {
    const missing = routes.filter((r) => typeof r.auth === 'object' && r.auth.target && !r.path.includes('/:') && !r.scopeExample).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(missing).to.deep.equal([]);
    expect(scoped.map((r) => `${r.method.toUpperCase()} ${r.path}`)).to.include.members([
      'POST /api/v1/counties/:countyId/sales', 'POST /api/v1/counties/:countyId/returns', 'POST /api/v1/counties/:countyId/reversals', 'POST /api/v1/counties/:countyId/settlements',
      'POST /api/v1/counties/:countyId/held-refunds/payable', 'POST /api/v1/counties/:countyId/held-refund-payouts',
      'POST /api/v1/sync/batches', 'GET /api/v1/sync/snapshot', 'POST /api/v1/counties',
    ]);
    // On the deprecated alias on purpose: while the old top-level writes answer, their scope comes from
    // the body (countyId) and the matrix must check it too. This list goes with the aliases.
    expect(scoped.map((r) => `${r.method.toUpperCase()} ${r.path}`)).to.include.members([
      'POST /api/v1/sales', 'POST /api/v1/returns', 'POST /api/v1/reversals', 'POST /api/v1/settlements', 'POST /api/v1/held-refunds/payable', 'POST /api/v1/held-refund-payouts',
    ]);
  });

  for (const actor of ACTORS) {
    it(`${actor.role}: body and query scope — own shop and county let through, another county's or shop's refused OUT_OF_SCOPE`, async () => {
      const auth = tokens.get(actor.role) as string;
      const failures: string[] = [];
      let checked = 0;
      for (const r of scoped) {
        if (typeof r.auth !== 'object' || !ROLE_PERMISSIONS[actor.role].has(r.auth.permission)) continue;
        checked++;
        const cases: Array<{ label: string; fx: { countyId: string; shopId: string }; inScope: boolean }> = [
          { label: 'own shop', fx: { countyId: OWN, shopId: SHOP_A }, inScope: true },
          { label: `shop of county ${OTHER_COUNTY_ID}`, fx: { countyId: OTHER_COUNTY_ID, shopId: OTHER_COUNTY_SHOP }, inScope: expectedScope(actor.role, OTHER_COUNTY_ID) },
        ];
        if (actor.role === 'clerk' || actor.role === 'terminal') cases.push({ label: 'another shop of its county', fx: { countyId: OWN, shopId: SHOP_B }, inScope: false });
        for (const c of cases) {
          const ex = (r.scopeExample as NonNullable<RouteDef['scopeExample']>)(c.fx);
          let req = t.api()[r.method](fillPath(r, c.fx.countyId)).set('Authorization', auth);
          if (ex.query) req = req.query(ex.query);
          const res = r.method === 'get' ? await req : await req.send((ex.body ?? {}) as object);
          // A sync batch answers per record: its record's own error is the scope verdict.
          const code = res.body?.error?.code ?? res.body?.results?.[0]?.error?.code;
          const refused = (res.status === 403 && code === 'OUT_OF_SCOPE') || (res.status === 200 && code === 'OUT_OF_SCOPE');
          const label = `${r.method.toUpperCase()} ${r.path} (${c.label})`;
          if (c.inScope) {
            if (res.status === 401 || res.status === 403 || res.status >= 500 || code === 'OUT_OF_SCOPE' || code === 'FORBIDDEN') failures.push(`${label}: expected to be let through, got ${res.status} ${code ?? ''}`);
          } else if (!refused) {
            failures.push(`${label}: expected OUT_OF_SCOPE, got ${res.status} ${code ?? ''}`);
          }
        }
      }
      expect(failures, failures.join('\n')).to.deep.equal([]);
      expect(checked, 'every role reads the snapshot at least').to.be.greaterThan(0);
    });
  }

  for (const actor of ACTORS) {
    it(`${actor.role}: allowed exactly where its permissions and scope say`, async () => {
      const auth = tokens.get(actor.role) as string;
      const failures: string[] = [];
      for (const r of routes) {
        const permitted = r.auth === 'authenticated' || (typeof r.auth === 'object' && ROLE_PERMISSIONS[actor.role].has(r.auth.permission));
        const counties = r.path.includes(':countyId') ? [OWN, OTHER_COUNTY_ID, OTHER_PROVINCE_COUNTY_ID] : [OWN];
        for (const county of counties) {
          const path = fillPath(r, county);
          if (r.path === '/api/v1/auth/logout') continue; // would end the session the matrix uses; tested in auth tests
          const res = await t.api()[r.method](path).set('Authorization', auth).send(r.method === 'get' ? undefined as never : {});
          const label = `${r.method.toUpperCase()} ${path}`;
          if (!permitted) {
            if (res.status !== 403 || res.body.error?.code !== 'FORBIDDEN') failures.push(`${label}: expected 403 FORBIDDEN, got ${res.status} ${res.body.error?.code ?? ''}`);
          } else if (r.path.includes(':countyId') && !expectedScope(actor.role, county)) {
            if (res.status !== 403 || res.body.error?.code !== 'OUT_OF_SCOPE') failures.push(`${label}: expected 403 OUT_OF_SCOPE, got ${res.status} ${res.body.error?.code ?? ''}`);
          } else if (res.status === 401 || res.status === 403 || res.status >= 500) {
            failures.push(`${label}: expected to be let through, got ${res.status} ${res.body.error?.code ?? ''}`);
          }
        }
      }
      expect(failures, failures.join('\n')).to.deep.equal([]);
    });
  }
});
