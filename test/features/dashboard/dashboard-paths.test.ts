// Issue 15, one path convention: the dashboard's views of a county under
// /api/v1/counties/{countyId}/dashboard…, of a province under /api/v1/provinces/{provinceCode}/dashboard…;
// the older /api/v1/dashboard/counties/… and /api/v1/dashboard/provinces/… answer the same body as
// deprecated aliases, with Deprecation, Sunset and a Link to the successor with the path's county or
// province filled in.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { useTestApp } from '../../support/harness.js';
import { ALIAS_DEPRECATED_SINCE, ALIAS_SUNSET } from '../../../src/http/county-paths.js';
import { dashboardRoutes, oldDashboardPath } from '../../../src/features/dashboard/dashboard-routes.js';
import { COUNTY, GLYPHOSATE, SHOP_A, freshToken, returnBody, saleBody, unitCode } from '../ledger/ledger-fixtures.js';

const NOW = '2026-03-15T02:00:00.000Z';
const Q = 'from=2026-01&to=2026-03&days=30';
const PROVINCE = '510000';

describe('dashboard paths: county and province paths, the old ones as deprecated aliases', () => {
  const t = useTestApp({ clock: NOW });
  const get = async (p: string, who: string) => t.api().get(p).set('Authorization', await freshToken(t, who));
  let runId: string;

  before(async () => {
    const clerk = await freshToken(t, 'clerk.qingcheng');
    const codes = [unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)];
    const sale = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk)
      .send(saleBody({ eventTime: '2026-03-10T02:00:00.000Z', lines: [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: codes }] }));
    expect(sale.status, JSON.stringify(sale.body)).to.equal(201);
    const ret = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', clerk)
      .send(returnBody({ eventTime: '2026-03-12T02:00:00.000Z', items: [{ scan: codes[0], inspection: 'accepted' }] }));
    expect(ret.status, JSON.stringify(ret.body)).to.equal(201);
    const run = await t.api().post(`/api/v1/counties/${COUNTY}/reconciliations`).set('Authorization', await freshToken(t, 'qingshen.official')).send({ period: '2026-03' });
    expect(run.status, JSON.stringify(run.body)).to.equal(201);
    runId = run.body.id;
    t.clock.advance(120_000); // past the aggregation job's one-minute settling time
  });

  /** Each view: its new path, its old one (same query), who reads it. */
  const views = () => [
    { now: `/api/v1/counties/${COUNTY}/dashboard`, old: `/api/v1/dashboard/counties/${COUNTY}`, query: Q, who: 'qingshen.official' },
    { now: `/api/v1/counties/${COUNTY}/dashboard/shops`, old: `/api/v1/dashboard/counties/${COUNTY}/shops`, query: Q, who: 'qingshen.official' },
    { now: `/api/v1/counties/${COUNTY}/dashboard/shops`, old: `/api/v1/dashboard/counties/${COUNTY}/shops`, query: `${Q}&format=csv`, who: 'qingshen.official' },
    { now: `/api/v1/counties/${COUNTY}/dashboard/shops/${SHOP_A}`, old: `/api/v1/dashboard/counties/${COUNTY}/shops/${SHOP_A}`, query: Q, who: 'qingshen.official' },
    { now: `/api/v1/counties/${COUNTY}/dashboard/reconciliations/${runId}/exceptions`, old: `/api/v1/dashboard/counties/${COUNTY}/reconciliations/${runId}/exceptions`, query: 'groupBy=kind&limit=5', who: 'qingshen.official' },
    { now: `/api/v1/counties/${COUNTY}/dashboard/incentives`, old: `/api/v1/dashboard/counties/${COUNTY}/incentives`, query: `${Q}&by=shop`, who: 'qingshen.official' },
    { now: `/api/v1/counties/${COUNTY}/dashboard/map`, old: `/api/v1/dashboard/counties/${COUNTY}/map`, query: '', who: 'qingshen.official' },
    { now: `/api/v1/provinces/${PROVINCE}/dashboard`, old: `/api/v1/dashboard/provinces/${PROVINCE}`, query: Q, who: 'sichuan.official' },
    { now: `/api/v1/provinces/${PROVINCE}/dashboard/map`, old: `/api/v1/dashboard/provinces/${PROVINCE}/map`, query: '', who: 'sichuan.official' },
  ];

  it('answers each view at its new path, and the old path answers the same with Deprecation, Sunset and a successor Link', async () => {
    for (const v of views()) {
      const q = v.query ? `?${v.query}` : '';
      const now = await get(`${v.now}${q}`, v.who);
      expect(now.status, `${v.now}${q}: ${JSON.stringify(now.body)}`).to.equal(200);
      expect(now.headers.deprecation, v.now).to.equal(undefined);
      expect(now.headers.sunset, v.now).to.equal(undefined);
      expect(now.headers.link, v.now).to.equal(undefined);
      const old = await get(`${v.old}${q}`, v.who);
      expect(old.status, `${v.old}${q}: ${JSON.stringify(old.body)}`).to.equal(200);
      expect(old.headers['content-type'], v.old).to.equal(now.headers['content-type']);
      if (v.query.includes('format=csv')) {
        expect(now.headers['content-type']).to.match(/^text\/csv/);
        expect(old.text, v.old).to.equal(now.text);
        expect(old.headers['content-disposition']).to.equal(now.headers['content-disposition']);
      } else {
        expect(old.body, v.old).to.deep.equal(now.body);
      }
      expect(old.headers.deprecation, v.old).to.equal(ALIAS_DEPRECATED_SINCE);
      expect(old.headers.sunset, v.old).to.equal(ALIAS_SUNSET);
      expect(old.headers.link, v.old).to.equal(`<${v.now}>; rel="successor-version"`);
    }
  });

  it('keeps the permissions and scope at both paths; a refusal from an old path names the path\'s own successor', async () => {
    for (const [p, who, code] of [
      [`/api/v1/counties/${COUNTY}/dashboard`, 'jiange.official', 'OUT_OF_SCOPE'],
      [`/api/v1/counties/${COUNTY}/dashboard/shops/${SHOP_A}`, 'jiange.official', 'OUT_OF_SCOPE'],
      [`/api/v1/counties/${COUNTY}/dashboard/incentives`, 'clerk.qingcheng', 'FORBIDDEN'],
      [`/api/v1/provinces/${PROVINCE}/dashboard`, 'qingshen.official', 'OUT_OF_SCOPE'],
    ] as const) {
      const now = await get(p, who);
      expect(now.status, p).to.equal(403);
      expect(now.body.error.code, p).to.equal(code);
      const oldPath = p.replace(/^\/api\/v1\/(counties|provinces)\/([0-9]+)\/dashboard/, '/api/v1/dashboard/$1/$2');
      const old = await get(oldPath, who);
      expect(old.status, oldPath).to.equal(403);
      expect(old.body.error.code, oldPath).to.equal(code);
      expect(old.headers.deprecation, oldPath).to.equal(ALIAS_DEPRECATED_SINCE);
      // The county (or province) of the path, not the caller's own.
      expect(old.headers.link, oldPath).to.equal(`<${p}>; rel="successor-version"`);
    }
  });

  it('marks every old dashboard path deprecated in the OpenAPI document, with its successor, and the new ones not', async () => {
    const doc = (await t.api().get('/api/v1/openapi.json')).body;
    const views = dashboardRoutes.filter((r) => /^\/api\/v1\/(counties|provinces)\/:[A-Za-z]+\/dashboard/.test(r.path));
    expect(views.map((r) => r.path).sort()).to.deep.equal([
      '/api/v1/counties/:countyId/dashboard', '/api/v1/counties/:countyId/dashboard/incentives', '/api/v1/counties/:countyId/dashboard/map',
      '/api/v1/counties/:countyId/dashboard/reconciliations/:runId/exceptions', '/api/v1/counties/:countyId/dashboard/shops', '/api/v1/counties/:countyId/dashboard/shops/:shopId',
      '/api/v1/provinces/:provinceCode/dashboard', '/api/v1/provinces/:provinceCode/dashboard/map',
    ]);
    const openApi = (p: string) => p.replace(/:([A-Za-z]+)/g, '{$1}');
    for (const r of views) {
      const now = doc.paths[openApi(r.path)].get;
      const old = doc.paths[openApi(oldDashboardPath(r.path))].get;
      expect(now.deprecated, r.path).to.equal(undefined);
      expect(old.deprecated, r.path).to.equal(true);
      expect(old.description, r.path).to.contain(`GET ${openApi(r.path)}`);
      expect(old.responses['200'].headers, r.path).to.have.keys('Deprecation', 'Sunset', 'Link');
      // Same parameters, responses and permission.
      expect(old.parameters, r.path).to.deep.equal(now.parameters);
      expect(Object.keys(old.responses), r.path).to.deep.equal(Object.keys(now.responses));
      expect(old.responses['200'].content, r.path).to.deep.equal(now.responses['200'].content);
    }
    // Nothing else still lives under /api/v1/dashboard/ but the aliases.
    const left = Object.entries(doc.paths as Record<string, { get?: { deprecated?: boolean } }>).filter(([p]) => p.startsWith('/api/v1/dashboard/'));
    expect(left).to.have.length(8);
    for (const [p, ops] of left) expect(ops.get?.deprecated, p).to.equal(true);
  });

  it('the dashboard page reads the new paths only', () => {
    const app = fs.readFileSync(path.resolve(import.meta.dirname, '../../../src/features/dashboard/static/app.js'), 'utf8');
    expect(app).to.not.contain('/api/v1/dashboard/');
    expect(app).to.contain("'/api/v1/counties/' + countyId + '/dashboard?");
    expect(app).to.contain("'/api/v1/provinces/' + code + '/dashboard?");
  });
});
