// Users of a county: officials create the clerks, hauler and facility staff who act for it.
// Deactivating a user or changing their password ends all of their sessions at once.
import { route, type RouteDef } from '../../http/route.js';
import { AppError } from '../../http/errors.js';
import type { Knex } from 'knex';
import { passwordHasher } from '../../auth/password-hasher.js';
import { AuthThrottle, accountKey } from '../../auth/throttle.js';
import { actorName } from '../../auth/authenticate.js';
import { COUNTY_CODE, PAGE_QUERY, VERSION, arr, bool, dateTime, enumOf, int, nullable, obj, page, partial, str, text, uuid } from '../../shared/schemas/builders.js';
import { loginFailures } from './login-failures.js';
import { newId } from '../../shared/client-id.js';
import { USER_SCHEMA } from '../auth/auth-schemas.js';
import { publicUser } from '../auth/auth-service.js';
import { AuthStore, type UserRow } from '../auth/auth-store.js';
import { requireRef } from '../reference/entity-rules.js';

const COUNTY_ROLES = ['county_official', 'inspector', 'clerk', 'hauler', 'facility_operator'] as const;
const PASSWORD = str({ min: 10, max: 200, description: 'At least 10 characters' });
const USERNAME = str({ min: 3, max: 64, pattern: '^[a-z0-9][a-z0-9._-]*$', description: 'Lower-case letters, digits, dot, dash, underscore' });
const ITEM_PARAMS = obj({ countyId: COUNTY_CODE, id: uuid() });

const LOGIN_FAILURES_SCHEMA = obj({
  asOf: dateTime('The server time the list was read at'),
  windowMinutes: int({ min: 1, description: 'AUTH_FAILURE_WINDOW_MINUTES: failures older than this no longer count' }),
  users: arr(obj({
    user: obj({ id: uuid(), username: str(), displayName: str(), role: enumOf(COUNTY_ROLES), active: bool() }),
    failures: int({ min: 0, description: 'Failed logins in the current window' }),
    lastFailureAt: nullable(dateTime()),
    blockedUntil: nullable(dateTime('Logins wait until then (429 RATE_LIMITED) if in the future')),
    lockedUntil: nullable(dateTime('Logins are refused until then (423 ACCOUNT_LOCKED) if in the future')),
    delayed: bool('blockedUntil is in the future'),
    locked: bool('lockedUntil is in the future: unlock with POST …/users/{id}/unlock'),
  })),
  addresses: arr(obj({
    kind: enumOf(['login_address', 'device_address'], 'Failed logins, or bad terminal credentials / enrolment codes'),
    address: str({ description: 'IPv4 address, or an IPv6 /64' }),
    failures: int({ min: 0 }),
    lastFailureAt: nullable(dateTime()),
    blockedUntil: dateTime(),
  })),
});

function history(row: UserRow, op: string, actor: string) {
  const { password_hash: _omit, ...safe } = row;
  return { county_id: row.county_id, entity: 'user', entity_id: row.id, version: row.version, op, data: JSON.stringify(safe), actor };
}

export const userRoutes: RouteDef[] = [
  route({
    method: 'post', path: '/api/v1/manufacturer-accounts', tag: 'users', auth: { permission: 'integrations:manage' },
    summary: 'Create a manufacturer\'s integration account: it reads the event feed of its own products in one province (administrator)',
    description: 'The account signs in like any user (POST /api/v1/auth/login) and may read only reference data and `GET /counties/{countyId}/events` of the counties of its province, limited to products whose manufacturer is exactly `manufacturer` (docs/events.md, "Who sees what"). The province must have a county and the manufacturer at least one product there (422 REFERENCE_NOT_FOUND otherwise).',
    body: obj({
      username: USERNAME, displayName: text(100), password: PASSWORD,
      provinceCode: str({ pattern: '^[1-9][0-9]0000$', description: 'The province\'s six-digit administrative code, e.g. 510000 (Sichuan)', examples: ['510000'] }),
      manufacturer: text(200),
      language: enumOf(['zh', 'en']),
    }, ['language']),
    bodyExample: { username: 'xinan.feed', displayName: '新安化工事件订阅', password: 'correct horse battery', provinceCode: '510000', manufacturer: '浙江新安化工集团股份有限公司' },
    responses: { 201: { description: 'Created', schema: USER_SCHEMA }, 409: { description: 'DUPLICATE username' }, 422: { description: 'REFERENCE_NOT_FOUND: no county in the province, or no product of this manufacturer there' } },
    handler: async ({ body, principal, deps }) => {
      const passwordHash = await passwordHasher(deps.config).hash(body.password);
      const manufacturer = body.manufacturer.trim();
      return deps.db.knex.transaction(async (trx) => {
        const county = (await trx('counties').where({ province_code: body.provinceCode }).orderBy('id').first('id')) as { id: string } | undefined;
        if (!county) throw new AppError('REFERENCE_NOT_FOUND', `No county in province ${body.provinceCode}`, [{ field: '/body/provinceCode', code: 'not_found', message: 'no county of this province is on the system' }]);
        const product = await trx('products as p').join('counties as c', 'c.id', 'p.county_id').where({ 'c.province_code': body.provinceCode, 'p.manufacturer': manufacturer }).first('p.id');
        if (!product) throw new AppError('REFERENCE_NOT_FOUND', `No product of ${manufacturer} in province ${body.provinceCode}`, [{ field: '/body/manufacturer', code: 'not_found', message: 'no product of this manufacturer in the province (the name must match the products\' manufacturer exactly)' }]);
        const [row] = await trx<UserRow>('users').insert({
          id: newId(), username: body.username, display_name: body.displayName.trim(), password_hash: passwordHash, role: 'manufacturer',
          province_code: body.provinceCode, manufacturer, county_id: null, shop_id: null, hauler_id: null, facility_id: null, language: body.language ?? 'zh',
        }).returning('*');
        // The change history lives per county: the account is recorded under the province's first county.
        await trx('entity_history').insert({ ...history(row as UserRow, 'create', actorName(principal)), county_id: county.id });
        return { status: 201, body: publicUser(row as UserRow) };
      });
    },
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/login-failures', tag: 'users', auth: { permission: 'users:write' },
    summary: "Failed logins of the county's users (counts, delays, locks) and the client addresses delayed now",
    description: 'For those who may unlock users (county officials, the administrator). Lists each user of the county with failed '
      + 'logins in the current window, or delayed or locked now (locked first), and the client addresses whose logins or terminal '
      + 'requests must wait now. Never a password or another county\'s username.',
    params: obj({ countyId: COUNTY_CODE }),
    responses: { 200: { description: 'Users with failed logins and delayed addresses', schema: LOGIN_FAILURES_SCHEMA } },
    handler: async ({ params, deps }) => ({ body: await loginFailures(deps.db.knex, params.countyId, deps.config.authThrottle, deps.clock) }),
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/users', tag: 'users', auth: { permission: 'users:read' },
    summary: 'Users who act for a county', params: obj({ countyId: COUNTY_CODE }),
    query: obj({ ...PAGE_QUERY, role: enumOf(COUNTY_ROLES) }, ['limit', 'cursor', 'role']),
    responses: { 200: { description: 'A page of users', schema: page(USER_SCHEMA) } },
    handler: async ({ params, query, deps }) => {
      const q = deps.db.knex<UserRow>('users').where({ county_id: params.countyId }).orderBy('id').limit(query.limit + 1);
      if (query.cursor) q.where('id', '>', query.cursor);
      if (query.role) q.where({ role: query.role });
      const rows = await q;
      const more = rows.length > query.limit;
      const items = rows.slice(0, query.limit).map(publicUser);
      return { body: { items, nextCursor: more ? (items[items.length - 1]?.id ?? null) : null } };
    },
  }),
  route({
    method: 'post', path: '/api/v1/counties/:countyId/users', tag: 'users', auth: { permission: 'users:write' },
    summary: 'Create a county official, inspector (执法人员, read-only), clerk (of a shop), hauler (of a company) or facility operator',
    params: obj({ countyId: COUNTY_CODE }),
    body: obj({
      username: USERNAME, displayName: text(100), password: PASSWORD, role: enumOf(COUNTY_ROLES),
      shopId: uuid('The clerk’s shop: required for role clerk and refused for the other roles (422 SCOPE_MISMATCH)'),
      haulerId: uuid('The hauler’s company: required for role hauler and refused for the other roles (422 SCOPE_MISMATCH)'),
      facilityId: uuid('The operator’s facility: required for role facility_operator and refused for the other roles (422 SCOPE_MISMATCH)'),
      language: enumOf(['zh', 'en']),
    }, ['shopId', 'haulerId', 'facilityId', 'language']),
    responses: { 201: { description: 'Created', schema: USER_SCHEMA }, 409: { description: 'DUPLICATE username' }, 422: { description: 'SCOPE_MISMATCH or REFERENCE_NOT_FOUND' } },
    handler: async ({ params, body, principal, deps }) => {
      const need = { clerk: 'shopId', hauler: 'haulerId', facility_operator: 'facilityId', county_official: null, inspector: null }[body.role as (typeof COUNTY_ROLES)[number]];
      for (const f of ['shopId', 'haulerId', 'facilityId']) {
        if (f === need && !body[f]) throw new AppError('SCOPE_MISMATCH', `A ${body.role} needs ${f}`, [{ field: `/body/${f}`, code: 'required', message: `is required for role ${body.role}` }]);
        if (f !== need && body[f]) throw new AppError('SCOPE_MISMATCH', `A ${body.role} has no ${f}`, [{ field: `/body/${f}`, code: 'not_allowed', message: `does not apply to role ${body.role}` }]);
      }
      const passwordHash = await passwordHasher(deps.config).hash(body.password);
      return deps.db.knex.transaction(async (trx) => {
        if (body.shopId) await requireRef(trx, 'shops', params.countyId, body.shopId, 'shopId');
        if (body.haulerId) await requireRef(trx, 'haulers', params.countyId, body.haulerId, 'haulerId');
        if (body.facilityId) await requireRef(trx, 'facilities', params.countyId, body.facilityId, 'facilityId');
        const [row] = await trx<UserRow>('users').insert({
          id: newId(), username: body.username, display_name: body.displayName.trim(), password_hash: passwordHash, role: body.role,
          county_id: params.countyId, shop_id: body.shopId ?? null, hauler_id: body.haulerId ?? null, facility_id: body.facilityId ?? null,
          language: body.language ?? 'zh',
        }).returning('*');
        await trx('entity_history').insert(history(row as UserRow, 'create', actorName(principal)));
        return { status: 201, body: publicUser(row as UserRow) };
      });
    },
  }),
  route({
    method: 'patch', path: '/api/v1/counties/:countyId/users/:id', tag: 'users', auth: { permission: 'users:write' },
    summary: 'Rename, reset the password of, or deactivate a user (ends their sessions)',
    description: 'Nobody deactivates their own account (CANNOT_DEACTIVATE_SELF), and a county keeps at least one active county official (LAST_ACTIVE_OFFICIAL).',
    params: ITEM_PARAMS,
    body: partial({ version: VERSION, displayName: text(100), password: PASSWORD, active: bool(), language: enumOf(['zh', 'en']) }, { required: ['version'], minProperties: 2 }),
    responses: { 200: { description: 'Changed', schema: USER_SCHEMA }, 404: { description: 'NOT_FOUND' }, 409: { description: 'VERSION_CONFLICT or LAST_ACTIVE_OFFICIAL' }, 422: { description: 'CANNOT_DEACTIVATE_SELF' } },
    handler: async ({ params, body, principal, deps }) => {
      if (body.active === false && principal.kind === 'user' && principal.userId === params.id) {
        throw new AppError('CANNOT_DEACTIVATE_SELF', undefined, [{ field: '/body/active', code: 'self', message: 'another official must deactivate this account' }]);
      }
      const passwordHash = body.password ? await passwordHasher(deps.config).hash(body.password) : undefined;
      return deps.db.knex.transaction(async (trx) => {
        if (body.active === false) await requireAnotherActiveOfficial(trx, params.countyId, params.id);
        const existing = await trx<UserRow>('users').where({ id: params.id, county_id: params.countyId }).forUpdate().first();
        if (!existing) throw new AppError('NOT_FOUND', 'No such user in this county');
        if (existing.version !== body.version) throw new AppError('VERSION_CONFLICT', undefined, [{ field: '/body/version', code: 'stale', message: `current version is ${existing.version}` }]);
        const changes: Record<string, unknown> = {};
        if (body.displayName !== undefined) changes.display_name = body.displayName.trim();
        if (body.language !== undefined) changes.language = body.language;
        if (body.active !== undefined) changes.active = body.active;
        if (passwordHash) changes.password_hash = passwordHash;
        const [row] = await trx<UserRow>('users').where({ id: params.id }).update({ ...changes, version: existing.version + 1, updated_at: trx.fn.now() }).returning('*');
        if (passwordHash || body.active === false) await new AuthStore(trx).revokeAllSessions(params.id, passwordHash ? 'password_changed' : 'deactivated', trx);
        const op = body.active === false ? 'deactivate' : body.active === true && !existing.active ? 'reactivate' : 'update';
        await trx('entity_history').insert(history(row as UserRow, op, actorName(principal)));
        return { body: publicUser(row as UserRow) };
      });
    },
  }),
  route({
    method: 'post', path: '/api/v1/counties/:countyId/users/:id/unlock', tag: 'users', auth: { permission: 'users:write' },
    summary: 'Unlock a user locked after too many failed logins, and clear their failure count',
    description: 'An account locked by failed logins (423 ACCOUNT_LOCKED) unlocks by itself after LOGIN_LOCK_MINUTES; '
      + 'a county official or administrator can unlock it at once here. Answers whether it was locked.',
    params: ITEM_PARAMS,
    responses: { 200: { description: 'Unlocked (or was not locked)', schema: obj({ user: USER_SCHEMA, wasLocked: bool(), lockedUntil: nullable(str({ format: 'date-time' })) }) }, 404: { description: 'NOT_FOUND' } },
    handler: async ({ params, principal, deps, log }) => {
      const user = await deps.db.knex<UserRow>('users').where({ id: params.id, county_id: params.countyId }).first();
      if (!user) throw new AppError('NOT_FOUND', 'No such user in this county');
      const throttle = AuthThrottle.of(deps);
      const key = accountKey(user.username);
      const lockedUntil = await throttle.lockedUntil(key);
      await throttle.reset(key);
      log.info({ event: 'account_unlocked', username: user.username, by: actorName(principal), wasLocked: lockedUntil !== null }, 'account unlocked');
      return { body: { user: publicUser(user), wasLocked: lockedUntil !== null, lockedUntil: lockedUntil?.toISOString() ?? null } };
    },
  }),
];

/**
 * A county keeps at least one active county official: the one who would deactivate the last is
 * refused. The county's active officials are locked in id order first, so two officials deactivating
 * each other at once on PostgreSQL queue here and the second sees the first one's change.
 */
async function requireAnotherActiveOfficial(trx: Knex.Transaction, countyId: string, userId: string): Promise<void> {
  const officials = await trx<UserRow>('users')
    .where({ county_id: countyId, role: 'county_official', active: true })
    .orderBy('id').forUpdate().select('id');
  if (officials.some((o) => o.id === userId) && officials.length <= 1) {
    throw new AppError('LAST_ACTIVE_OFFICIAL', 'This is the last active county official of the county; create or reactivate another before deactivating it', [
      { field: '/body/active', code: 'last_active_official', message: 'a county keeps at least one active county official' },
    ]);
  }
}
