// The officials' dashboard: the page and its assets (public: they hold no data), and the compact JSON
// it reads — county summary, shop table, shop detail, recovery rates and the province's comparison —
// under /api/v1/counties/{countyId}/… and /api/v1/provinces/{provinceCode}/… (the older
// /api/v1/dashboard/… paths stay one release as deprecated aliases).
import { route, type RouteDef, type HandlerContext } from '../../http/route.js';
import { deprecatedAlias } from '../../http/county-paths.js';
import { toOpenApiPath } from '../../http/openapi.js';
import { COUNTY_CODE, enumOf, obj, str, uuid } from '../../shared/schemas/builders.js';
import { actorName } from '../../auth/authenticate.js';
import { AppError } from '../../http/errors.js';
import { refreshRecoveryAggregates, COHORT_DAYS } from '../recovery-rates/aggregation-job.js';
import { RATE_DIMENSIONS, rateDefinitions, recoveryRates } from '../recovery-rates/recovery-rates.js';
import { countySummary, ensureFresh, provinceComparison, resolveRange, runExceptions, shopDetail, shopTable, type ExceptionGrouping } from './dashboard-service.js';
import { preparedAsset, type AssetName } from './static-assets.js';
import { countyMap } from './county-map.js';
import { DEFAULT_TIME_ZONE } from '../../shared/business-day.js';
import { csvLine } from './csv.js';
import { INCENTIVE_COSTS } from './dashboard-schemas.js';
import { INCENTIVE_DIMENSIONS, incentiveCosts, type IncentiveDimension } from './incentive-costs.js';
import { COUNTY_DASHBOARD, FEATURE_COLLECTION, PROVINCE_DASHBOARD, RECOVERY_RATES, RECOVERY_REFRESH, RUN_EXCEPTIONS_PAGE, SHOP_DETAIL, SHOP_TABLE } from './dashboard-schemas.js';

const MONTH = str({ pattern: '^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$', description: 'A month (YYYY-MM) of the years 1900–2999; `to` before `from` is 422 INVALID_MONTH_RANGE', examples: ['2026-03'] });
const RANGE_QUERY = {
  from: MONTH, to: MONTH,
  days: enumOf(COHORT_DAYS.map(String), 'N of the cohort rate (default 90)'),
};
const PROVINCE = str({ pattern: '^[1-8][0-9]0000$', description: 'Province code (GB/T 2260)', examples: ['510000'] });

/** The best encoding the client accepts among brotli and gzip (q=0 refuses one). */
export function pickEncoding(acceptEncoding: string | undefined): 'br' | 'gzip' | null {
  const accepted = new Map<string, number>();
  for (const part of (acceptEncoding ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((x) => /^\s*q=([0-9.]+)\s*$/.exec(x)).find(Boolean);
    if (name) accepted.set(name, q ? Number(q[1]) : 1);
  }
  const ok = (n: string) => (accepted.get(n) ?? accepted.get('*') ?? 0) > 0;
  return ok('br') ? 'br' : ok('gzip') ? 'gzip' : null;
}

const staticRoute = (p: string, name: AssetName, type: string, cacheControl: string): RouteDef => route({
  method: 'get', path: p, tag: 'dashboard', auth: 'public', summary: `Dashboard asset ${name} (precompressed at start: br or gzip, with Content-Length and ETag)`,
  responses: { 200: { description: name, contentType: type }, 304: { description: 'Not modified (If-None-Match)' } },
  handler: async ({ req }) => {
    const a = await preparedAsset(name);
    const headers: Record<string, string> = { 'Cache-Control': cacheControl, Vary: 'Accept-Encoding', ETag: a.etag };
    if (req.headers['if-none-match'] === a.etag) return { status: 304, headers };
    const encoding = pickEncoding(req.headers['accept-encoding']);
    if (!encoding) return { contentType: type, body: a.raw, headers };
    return { contentType: type, body: a[encoding], headers: { ...headers, 'Content-Encoding': encoding } };
  },
});

async function range(ctx: HandlerContext<any, any, any>, countyId?: string) {
  const knex = ctx.deps.db.knex;
  const tz = countyId ? (await knex('counties').where({ id: countyId }).first('timezone'))?.timezone : undefined;
  return resolveRange(ctx.query, ctx.deps.clock.now(), tz);
}

const csv = (name: string, header: string[], rows: unknown[][]) => ({
  contentType: 'text/csv; charset=utf-8',
  body: '\uFEFF' + [csvLine(header), ...rows.map(csvLine)].join('\r\n') + '\r\n',
  headers: { 'Content-Disposition': `attachment; filename="${name}"` },
});

// The dashboard's views of a county and of a province, under the county's and the province's paths
// (docs/api.md, "Conventions"); each is also served at its older /api/v1/dashboard/… path as a
// deprecated alias (below).
const dashboardViews: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/counties/:countyId/dashboard', tag: 'dashboard', auth: { permission: 'dashboard:read' },
    summary: 'County dashboard: headline tiles, monthly trend, custody funnel, rankings, last reconciliation',
    params: obj({ countyId: COUNTY_CODE }), query: obj(RANGE_QUERY, ['from', 'to', 'days']),
    responses: { 200: { description: 'Figures', schema: COUNTY_DASHBOARD }, 422: { description: 'INVALID_MONTH_RANGE' } },
    handler: async (ctx) => {
      await ensureFresh(ctx.deps.db.knex, ctx.params.countyId, ctx.deps.clock.now());
      return { body: await countySummary(ctx.deps.db.knex, ctx.params.countyId, await range(ctx, ctx.params.countyId), ctx.deps.clock.now()) };
    },
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/dashboard/shops', tag: 'dashboard', auth: { permission: 'dashboard:read' },
    summary: 'Shop table: rates, positions, containers at the shop, flags (returns above sales, overdue pickups); format=csv to export',
    params: obj({ countyId: COUNTY_CODE }), query: obj({ ...RANGE_QUERY, format: enumOf(['json', 'csv']) }, ['from', 'to', 'days', 'format']),
    responses: { 200: { description: 'Shops (format=csv: the same table as CSV with a BOM, for spreadsheets)', schema: SHOP_TABLE, alternatives: [{ contentType: 'text/csv; charset=utf-8' }] }, 422: { description: 'INVALID_MONTH_RANGE' } },
    handler: async (ctx) => {
      await ensureFresh(ctx.deps.db.knex, ctx.params.countyId, ctx.deps.clock.now());
      const r = await range(ctx, ctx.params.countyId);
      const shops = await shopTable(ctx.deps.db.knex, ctx.params.countyId, r, ctx.deps.clock.now());
      if (ctx.query.format === 'csv') {
        return csv(`shops-${ctx.params.countyId}-${r.from}-${r.to}.csv`,
          ['shop_id', '店铺', '乡镇', 'sold', 'returned', 'period_rate_pct', `cohort_${r.days}d_rate_pct`, 'mass_rate_pct', 'position_fen', 'containers_at_shop', 'bags_awaiting_pickup', 'overdue_bags', 'flags'],
          shops.map((s) => [s.key, s.name, s.township, s.soldUnits, s.returnedUnits, s.periodRatePct ?? '', s.cohortRatePct ?? '', s.massRatePct ?? '', s.positionFen, s.containersAtShop, s.bagsAwaitingPickup, s.overdueBags, s.flags.join(' ')]));
      }
      return { body: { range: r, definitions: rateDefinitions(r.days), shops } };
    },
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/dashboard/shops/:shopId', tag: 'dashboard', auth: { permission: 'dashboard:read' },
    summary: 'One shop: monthly trend, products, position, recent returns (returners masked)',
    params: obj({ countyId: COUNTY_CODE, shopId: uuid() }), query: obj(RANGE_QUERY, ['from', 'to', 'days']),
    responses: { 200: { description: 'Shop detail', schema: SHOP_DETAIL }, 404: { description: 'NOT_FOUND' }, 422: { description: 'INVALID_MONTH_RANGE' } },
    handler: async (ctx) => {
      await ensureFresh(ctx.deps.db.knex, ctx.params.countyId, ctx.deps.clock.now());
      const tz = (await ctx.deps.db.knex('counties').where({ id: ctx.params.countyId }).first('timezone'))?.timezone ?? DEFAULT_TIME_ZONE;
      return { body: await shopDetail(ctx.deps.db.knex, ctx.params.countyId, ctx.params.shopId, await range(ctx, ctx.params.countyId), tz) };
    },
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/dashboard/reconciliations/:runId/exceptions', tag: 'dashboard', auth: { permission: 'dashboard:read' },
    summary: 'One page of a reconciliation run\'s exceptions (total given), grouped by kind or by shop if asked, each with its reason in plain words',
    params: obj({ countyId: COUNTY_CODE, runId: uuid() }),
    query: obj({
      offset: str({ pattern: '^[0-9]{1,6}$', description: 'Exceptions to skip (default 0)' }),
      limit: str({ pattern: '^[0-9]{1,3}$', description: 'Page size, 1–200 (default 50)' }),
      groupBy: enumOf(['none', 'kind', 'shop'], 'Sort into groups by kind or shop (default none)'),
    }, ['offset', 'limit', 'groupBy']),
    responses: { 200: { description: 'A page of exceptions', schema: RUN_EXCEPTIONS_PAGE }, 404: { description: 'NOT_FOUND' } },
    handler: async (ctx) => {
      const limit = Math.min(200, Math.max(1, Number(ctx.query.limit ?? 50)));
      return { body: await runExceptions(ctx.deps.db.knex, ctx.params.countyId, ctx.params.runId, { offset: Number(ctx.query.offset ?? 0), limit, groupBy: (ctx.query.groupBy ?? 'none') as ExceptionGrouping }) };
    },
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/dashboard/incentives', tag: 'dashboard', auth: { permission: 'dashboard:read' },
    summary: 'What each incentive cost (deposit refunds, buy-back, points issued and redeemed), containers recovered per yuan, and the budget left, by county, township or shop',
    params: obj({ countyId: COUNTY_CODE }), query: obj({ ...RANGE_QUERY, by: enumOf(INCENTIVE_DIMENSIONS, 'Rows per county (default), township or shop') }, ['from', 'to', 'days', 'by']),
    responses: { 200: { description: 'Costs and containers', schema: INCENTIVE_COSTS }, 404: { description: 'NOT_FOUND' }, 422: { description: 'INVALID_MONTH_RANGE' } },
    handler: async (ctx) => {
      const r = await range(ctx, ctx.params.countyId);
      return { body: await incentiveCosts(ctx.deps.db.knex, ctx.params.countyId, r, (ctx.query.by ?? 'county') as IncentiveDimension) };
    },
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/dashboard/map', tag: 'dashboard', auth: { permission: 'dashboard:read' },
    summary: 'GeoJSON of the county\'s prefecture, its counties as features (the county named by its GB/T 2260 code), for the county page\'s map',
    params: obj({ countyId: COUNTY_CODE }),
    responses: { 200: { description: 'FeatureCollection', schema: FEATURE_COLLECTION }, 404: { description: 'NOT_FOUND: no such county' } },
    handler: async (ctx) => {
      const c = await ctx.deps.db.knex('counties').where({ id: ctx.params.countyId }).first('id', 'name_zh', 'province_name_zh', 'prefecture_name_zh');
      if (!c) throw new AppError('NOT_FOUND', `No county ${ctx.params.countyId}`);
      return { body: countyMap([{ id: c.id, nameZh: c.name_zh, provinceNameZh: c.province_name_zh, prefectureNameZh: c.prefecture_name_zh }]), headers: { 'Cache-Control': 'private, max-age=3600' } };
    },
  }),
  route({
    method: 'get', path: '/api/v1/provinces/:provinceCode/dashboard/map', tag: 'dashboard',
    auth: { permission: 'dashboard:read', target: (ctx) => ({ countyId: ctx.params.provinceCode }) },
    summary: 'GeoJSON of the prefectures that hold the province\'s counties on this server, counties named by their GB/T 2260 codes',
    params: obj({ provinceCode: PROVINCE }),
    responses: { 200: { description: 'FeatureCollection', schema: FEATURE_COLLECTION } },
    handler: async (ctx) => {
      const rows = (await ctx.deps.db.knex('counties').where({ province_code: ctx.params.provinceCode, active: true }).orderBy('id')
        .select('id', 'name_zh', 'province_name_zh', 'prefecture_name_zh')) as Array<{ id: string; name_zh: string; province_name_zh: string; prefecture_name_zh: string }>;
      return { body: countyMap(rows.map((c) => ({ id: c.id, nameZh: c.name_zh, provinceNameZh: c.province_name_zh, prefectureNameZh: c.prefecture_name_zh }))), headers: { 'Cache-Control': 'private, max-age=3600' } };
    },
  }),
  route({
    method: 'get', path: '/api/v1/provinces/:provinceCode/dashboard', tag: 'dashboard',
    auth: { permission: 'dashboard:read', target: (ctx) => ({ countyId: ctx.params.provinceCode }) },
    summary: 'Province: the counties compared (rates, deposits outstanding) and the province trend',
    params: obj({ provinceCode: PROVINCE }), query: obj(RANGE_QUERY, ['from', 'to', 'days']),
    responses: { 200: { description: 'Counties', schema: PROVINCE_DASHBOARD }, 422: { description: 'INVALID_MONTH_RANGE' } },
    handler: async (ctx) => ({ body: await provinceComparison(ctx.deps.db.knex, ctx.params.provinceCode, await range(ctx)) }),
  }),
];

/**
 * Where a dashboard view was served before the one path convention: `/api/v1/counties/:countyId/dashboard/…`
 * was `/api/v1/dashboard/counties/:countyId/…`, and likewise for a province.
 */
export function oldDashboardPath(path: string): string {
  const m = /^\/api\/v1\/(counties|provinces)\/(:[A-Za-z]+)\/dashboard(\/.*)?$/.exec(path);
  if (!m) throw new Error(`Not a dashboard view path: ${path}`);
  return `/api/v1/dashboard/${m[1]}/${m[2]}${m[3] ?? ''}`;
}

export const dashboardRoutes: RouteDef[] = [
  // The page is revalidated every time (its ETag makes that a 304); the rest are cached for a day and revalidated after.
  staticRoute('/dashboard', 'index.html', 'text/html; charset=utf-8', 'no-cache'),
  staticRoute('/dashboard/app.js', 'app.js', 'application/javascript; charset=utf-8', 'public, max-age=300'),
  staticRoute('/dashboard/app.css', 'app.css', 'text/css; charset=utf-8', 'public, max-age=300'),
  staticRoute('/dashboard/plain-words.js', 'plain-words.js', 'application/javascript; charset=utf-8', 'public, max-age=300'),
  staticRoute('/dashboard/echarts.min.js', 'echarts.min.js', 'application/javascript; charset=utf-8', 'public, max-age=86400'),
  ...dashboardViews,
  // The same handlers, schemas and permissions at the old paths, for one release.
  ...dashboardViews.map((def) => deprecatedAlias({ ...def, path: oldDashboardPath(def.path) }, toOpenApiPath(def.path))),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/recovery-rates', tag: 'dashboard', auth: { permission: 'dashboard:read' },
    summary: 'The three recovery rates (cohort, period, mass), each with its definition, by county, township, shop, product or manufacturer',
    params: obj({ countyId: COUNTY_CODE }),
    query: obj({ ...RANGE_QUERY, by: enumOf(RATE_DIMENSIONS), format: enumOf(['json', 'csv']) }, ['from', 'to', 'days', 'by', 'format']),
    responses: { 200: { description: 'Rates (format=csv: the same rows as CSV with a BOM, for spreadsheets)', schema: RECOVERY_RATES, alternatives: [{ contentType: 'text/csv; charset=utf-8' }] }, 422: { description: 'INVALID_MONTH_RANGE' } },
    handler: async (ctx) => {
      await ensureFresh(ctx.deps.db.knex, ctx.params.countyId, ctx.deps.clock.now());
      const r = await range(ctx, ctx.params.countyId);
      const by = ctx.query.by ?? 'county';
      const rows = await recoveryRates(ctx.deps.db.knex, { countyIds: [ctx.params.countyId], from: r.from, to: r.to, days: r.days, asOfDay: r.asOfDay, by });
      if (ctx.query.format === 'csv') {
        return csv(`recovery-rates-${ctx.params.countyId}-${by}-${r.from}-${r.to}.csv`,
          [by, 'name', 'sold', 'returned', 'period_rate_pct', 'cohort_sold', `cohort_returned_${r.days}d`, 'cohort_rate_pct', 'sold_kg', 'returned_kg', 'mass_rate_pct'],
          rows.map((x) => [x.key, x.name, x.soldUnits, x.returnedUnits, x.periodRatePct ?? '', x.cohortSoldUnits, x.cohortReturnedUnits, x.cohortRatePct ?? '', x.soldKg, x.returnedKg, x.massRatePct ?? '']));
      }
      return { body: { range: r, by, definitions: rateDefinitions(r.days), rows } };
    },
  }),
  route({
    method: 'post', path: '/api/v1/counties/:countyId/recovery-rates/refresh', tag: 'dashboard', auth: { permission: 'reconciliation:run' },
    summary: 'Bring the recovery aggregates of a county up to date now (the job also runs on every dashboard read older than a minute)',
    params: obj({ countyId: COUNTY_CODE }),
    responses: { 200: { description: 'Months rebuilt and the new watermark', schema: RECOVERY_REFRESH } },
    handler: async (ctx) => {
      ctx.log.info({ actor: actorName(ctx.principal), countyId: ctx.params.countyId }, 'recovery aggregates refresh');
      return { body: await refreshRecoveryAggregates(ctx.deps.db.knex, ctx.params.countyId, ctx.deps.clock.now()) };
    },
  }),
];
