// Counties (GB/T 2260 codes) and their scheme policies. The county is the unit of everything else.
import type { Knex } from 'knex';
import { route, type RouteDef } from '../../http/route.js';
import { AppError } from '../../http/errors.js';
import { actorName } from '../../auth/authenticate.js';
import { countyFilter, type Principal } from '../../auth/permissions.js';
import { COUNTY_CODE, PAGE_QUERY, VERSION, bool, dateTime, enumOf, int, obj, page, partial, str, text } from '../../shared/schemas/builders.js';
import { rowToApi } from '../reference/entity.js';
import { INCENTIVE_FIELDS } from '../../shared/schemas/incentive-schemas.js';
import type { AppDeps } from '../../app-deps.js';

const POLICY_FIELDS = {
  depositValidityDays: int({ min: 30, max: 3650, description: 'Days after sale before a deposit becomes unredeemed' }),
  untrackedRefundPolicy: enumOf(['schedule_up_to_limit', 'accept_without_refund'], 'Containers without a unit code beyond the returner’s own deposits'),
  untrackedDailyLimit: int({ min: 0, max: 10_000, description: 'Per returner and day, for schedule_up_to_limit' }),
  latePolicy: enumOf(['refund_from_unredeemed', 'accept_without_refund'], 'Returns after the validity period'),
  settlementPeriod: enumOf(['daily', 'weekly', 'monthly']),
  weightTolerancePct: int({ min: 0, max: 100, description: 'Bag weight difference tolerated at the facility' }),
  fraudDailyReturnsThreshold: int({ min: 1, max: 100_000, description: 'Containers one phone may return in a business day before officials see a fraud flag' }),
  maxOfflineAgeDays: int({ min: 1, max: 366, description: 'Sales, returns and reversals with an event time more than this many days before the server time are refused (EVENT_TIME_TOO_OLD)' }),
  unsoldCodePolicy: enumOf(['hold_for_review', 'pay_at_once'], 'A well-formed unit code never sold in the county: hold its refund for the county’s review (default) or pay it at once from the policy fund'),
  terminalJournalKeepDays: int({ min: 7, max: 3650, description: "Days the county's terminals keep synced records (journal archives), so they can resend them after a restore from backup" }),
  ...INCENTIVE_FIELDS,
};

const COUNTY = obj({
  id: COUNTY_CODE, nameZh: str(), nameEn: str(), provinceCode: str(), provinceNameZh: str(), prefectureNameZh: str(), timezone: str(),
  ...POLICY_FIELDS, active: bool(), version: int(), createdAt: dateTime(), updatedAt: dateTime(),
}, [], {
  // The demo county as `npm start` seeds it (seeds/demo-county.ts; the rest are the column defaults).
  examples: [{
    id: '511425', nameZh: '青神县', nameEn: 'Qingshen County', provinceCode: '510000', provinceNameZh: '四川省', prefectureNameZh: '眉山市', timezone: 'Asia/Shanghai',
    depositValidityDays: 365, untrackedRefundPolicy: 'schedule_up_to_limit', untrackedDailyLimit: 20, latePolicy: 'refund_from_unredeemed', settlementPeriod: 'monthly',
    weightTolerancePct: 10, fraudDailyReturnsThreshold: 50, maxOfflineAgeDays: 45, unsoldCodePolicy: 'hold_for_review', terminalJournalKeepDays: 90,
    incentiveHouseholdBuybackCapFen: null, incentiveHouseholdPointsCapMilli: null, incentiveShopBuybackCapFen: null, incentiveWhenFundEmpty: 'nothing',
    pointsExpireAfterYears: null, active: true, version: 1, createdAt: '2026-03-15T02:30:00.000Z', updatedAt: '2026-03-15T02:30:00.000Z',
  }],
});

function countyView(row: Record<string, unknown>) {
  const { lateReturnPolicy, ...rest } = rowToApi(row) as Record<string, unknown>;
  return { ...rest, latePolicy: lateReturnPolicy };
}

function toColumns(input: Record<string, unknown>): Record<string, unknown> {
  const map: Record<string, string> = {
    nameZh: 'name_zh', nameEn: 'name_en', provinceCode: 'province_code', provinceNameZh: 'province_name_zh', prefectureNameZh: 'prefecture_name_zh',
    timezone: 'timezone', depositValidityDays: 'deposit_validity_days', untrackedRefundPolicy: 'untracked_refund_policy',
    untrackedDailyLimit: 'untracked_daily_limit', latePolicy: 'late_return_policy', settlementPeriod: 'settlement_period',
    weightTolerancePct: 'weight_tolerance_pct', fraudDailyReturnsThreshold: 'fraud_daily_returns_threshold', maxOfflineAgeDays: 'max_offline_age_days', unsoldCodePolicy: 'unsold_code_policy', terminalJournalKeepDays: 'terminal_journal_keep_days', active: 'active',
    incentiveHouseholdBuybackCapFen: 'incentive_household_buyback_cap_fen', incentiveHouseholdPointsCapMilli: 'incentive_household_points_cap_milli',
    incentiveShopBuybackCapFen: 'incentive_shop_buyback_cap_fen', incentiveWhenFundEmpty: 'incentive_when_fund_empty', pointsExpireAfterYears: 'points_expire_after_years',
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) if (map[k]) out[map[k] as string] = v;
  return out;
}

function scoped(q: Knex.QueryBuilder, principal: Principal): Knex.QueryBuilder {
  const f = countyFilter(principal);
  if ('countyId' in f) return q.where({ id: f.countyId });
  if ('provincePrefix' in f) return q.whereLike('id', `${f.provincePrefix}%`);
  return q;
}

async function history(deps: AppDeps, trx: Knex, row: Record<string, unknown>, op: string, principal: Principal) {
  await trx('entity_history').insert({ county_id: row.id, entity: 'county', entity_id: row.id, version: row.version, op, data: JSON.stringify(row), actor: actorName(principal) });
  void deps;
}

export const countyRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/counties', tag: 'reference', auth: { permission: 'reference:read' },
    summary: 'The counties you act for (all for admins, the province for province officials)',
    query: obj({ ...PAGE_QUERY }, ['limit', 'cursor']),
    responses: { 200: { description: 'A page of counties', schema: page(COUNTY) } },
    handler: async ({ query, principal, deps }) => {
      const q = scoped(deps.db.knex('counties'), principal).orderBy('id').limit(query.limit + 1);
      if (query.cursor) q.where('id', '>', query.cursor);
      const rows = await q;
      const more = rows.length > query.limit;
      const items = rows.slice(0, query.limit).map(countyView);
      return { body: { items, nextCursor: more ? String(items[items.length - 1]?.id) : null } };
    },
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId', tag: 'reference', auth: { permission: 'reference:read' },
    summary: 'One county with its policies', params: obj({ countyId: COUNTY_CODE }),
    responses: { 200: { description: 'The county', schema: COUNTY }, 404: { description: 'NOT_FOUND' } },
    handler: async ({ params, deps }) => {
      const row = await deps.db.knex('counties').where({ id: params.countyId }).first();
      if (!row) throw new AppError('NOT_FOUND', `No county ${params.countyId}`);
      return { body: countyView(row) };
    },
  }),
  route({
    method: 'post', path: '/api/v1/counties', tag: 'reference', auth: { permission: 'counties:write', target: (ctx) => ({ countyId: ctx.body.id }) },
    summary: 'Add a county to the scheme (admins)',
    body: obj({ id: COUNTY_CODE, nameZh: text(100), nameEn: text(100), provinceNameZh: text(100), prefectureNameZh: text(100), ...POLICY_FIELDS },
      Object.keys(POLICY_FIELDS)),
    // The demo county as its answer shows it (on a demo server: 409 DUPLICATE, it is there already).
    bodyExample: { id: '511425', nameZh: '青神县', nameEn: 'Qingshen County', provinceNameZh: '四川省', prefectureNameZh: '眉山市', depositValidityDays: 365, settlementPeriod: 'monthly' },
    responses: { 201: { description: 'Created', schema: COUNTY }, 409: { description: 'DUPLICATE' } },
    // The county exists already in the matrix test: in scope the answer is 409 DUPLICATE.
    scopeExample: ({ countyId }) => ({ body: { id: countyId, nameZh: '范围县', nameEn: 'Scope', provinceNameZh: '四川省', prefectureNameZh: '眉山市' } }),
    handler: async ({ body, principal, deps }) => deps.db.knex.transaction(async (trx) => {
      const [row] = await trx('counties').insert({ ...toColumns(body), id: body.id, province_code: `${String(body.id).slice(0, 2)}0000` }).returning('*');
      await history(deps, trx, row, 'create', principal);
      return { status: 201, body: countyView(row) };
    }),
  }),
  route({
    method: 'patch', path: '/api/v1/counties/:countyId', tag: 'reference', auth: { permission: 'counties:write' },
    summary: "Change a county's names or policies (send the version you read)",
    params: obj({ countyId: COUNTY_CODE }),
    body: partial({ version: VERSION, nameZh: text(100), nameEn: text(100), active: bool(), ...POLICY_FIELDS }, { required: ['version'], minProperties: 2 }),
    bodyExample: { version: 1, maxOfflineAgeDays: 30 },
    responses: { 200: { description: 'Changed', schema: COUNTY }, 404: { description: 'NOT_FOUND' }, 409: { description: 'VERSION_CONFLICT' } },
    handler: async ({ params, body, principal, deps }) => deps.db.knex.transaction(async (trx) => {
      const existing = await trx('counties').where({ id: params.countyId }).forUpdate().first();
      if (!existing) throw new AppError('NOT_FOUND', `No county ${params.countyId}`);
      const { version, ...changes } = body;
      if (existing.version !== version) throw new AppError('VERSION_CONFLICT', undefined, [{ field: '/body/version', code: 'stale', message: `current version is ${existing.version}` }]);
      const [row] = await trx('counties').where({ id: params.countyId }).update({ ...toColumns(changes), version: version + 1, updated_at: trx.fn.now() }).returning('*');
      await history(deps, trx, row, 'update', principal);
      return { body: countyView(row) };
    }),
  }),
];
