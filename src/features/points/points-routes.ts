// Points over HTTP (docs/incentives-points.md): redemption for goods at the counter (clerks and
// terminals of the shop), a farmer's points (officials' and inspectors' reads access-logged), and the
// officials' expiry run (the periodic job runs the same code).
import { route, type RouteDef } from '../../http/route.js';
import { actorName } from '../../auth/authenticate.js';
import { CLIENT_ID } from '../../shared/schemas/ledger-schemas.js';
import { COUNTY_CODE, FEN, arr, date, dateTime, int, nullable, obj, str, text, uuid } from '../../shared/schemas/builders.js';
import { newClientId } from '../../shared/client-id.js';
import { accessReason, logAccess } from '../access-log/access-log.js';
import { MAX_REDEMPTION_POINTS, PointsService, runPointsExpiry } from './points-service.js';

const MILLI = int({ min: 0, description: 'Milli-points (1000 = one point)' });

const REDEMPTION_REQUEST = obj({
  id: CLIENT_ID,
  shopId: uuid('The shop giving the goods (a clerk’s or terminal’s own shop)'),
  phone: str({ min: 5, max: 30, description: 'The farmer’s mobile number (sent in the body, never in a URL)' }),
  points: { type: 'number', exclusiveMinimum: 0, maximum: MAX_REDEMPTION_POINTS, description: 'Points to redeem: more than 0, at most three decimals (0.2 is 200 milli-points)' },
  goods: text(200, 'What the shop gave, as the clerk writes it (e.g. 洗衣粉 1袋)'),
  goodsValueFen: FEN,
  eventTime: dateTime('When the goods were handed over at the counter'),
});

const REDEMPTION = obj({
  redemptionId: uuid(), redemptionNo: int({ min: 1, description: 'The county server’s running number of redemptions' }), countyId: str(), shopId: uuid(),
  farmer: obj({ farmerId: uuid(), name: str(), phoneMasked: str() }),
  pointsMilli: MILLI, goods: str(), goodsValueFen: FEN,
  balanceAfterMilli: int({ min: 0, description: 'The farmer’s points left after this redemption (milli-points)' }),
  eventTime: dateTime(), recordedAt: dateTime(), businessDay: date('The county business day of the event time'),
  bookedDay: date('The day it counts in: the event’s day, or the first day of the first open month when its month was closed'),
  bookedPeriod: str({ description: 'The month it counts in (YYYY-MM)' }),
  lateAdjustment: { type: 'boolean', description: 'True when its month was closed and it is booked in the first open month' },
});

const TRANSFER = obj({
  transferId: uuid(), code: str({ description: 'earned | redeemed | expired | reversal' }), amountMilli: MILLI,
  deltaMilli: int({ description: 'What it did to the farmer’s balance: + earned, − redeemed or expired' }),
  refType: str({ description: 'return | redemption | expiry | reversal' }), refId: uuid(), shopId: nullable(uuid()), unitCode: nullable(str()),
  eventTime: dateTime(), businessDay: date(), recordedAt: dateTime(),
});

const FARMER_POINTS = obj({
  farmerId: uuid(), balanceMilli: MILLI, earnedMilli: MILLI, redeemedMilli: MILLI, expiredMilli: MILLI,
  expireAfterYears: nullable(int({ min: 1, max: 10, description: 'The county’s points_expire_after_years (null: points never lapse)' })),
  expiringNext: nullable(obj({ atEndOf: date('The last day the oldest points held are good for (YYYY-12-31)'), milli: MILLI })),
  transfers: arr(TRANSFER),
  nextCursor: nullable(str({ description: 'Pass back as cursor for the next page; null on the last page' })),
});

const EXPIRY_RUN = obj({
  runId: uuid(), countyId: str(), asOfDay: date('The county business day of the server’s clock when it ran'), asOfYear: int(),
  expireAfterYears: nullable(int()), earnedBefore: nullable(date('Points earned before this day have lapsed (null: points never lapse)')),
  farmers: int({ min: 0, description: 'Farmers whose points expired in this run' }), expiredMilli: MILLI, recordedAt: dateTime(),
});

export const pointsRoutes: RouteDef[] = [
  route({
    method: 'post', path: '/api/v1/counties/:countyId/points-redemptions', tag: 'points',
    auth: { permission: 'returns:write', target: (ctx) => ({ countyId: ctx.params.countyId, shopId: ctx.body.shopId }) },
    summary: 'Redeem a farmer’s points for goods at the counter (idempotent by the client id; never more than the farmer holds)',
    description: 'Online only: the balance must be known. Points are taken oldest first; points that have lapsed (counties.points_expire_after_years) expire first, '
      + 'as of the county’s business day of the server’s clock. More than the farmer holds is refused with 409 POINTS_INSUFFICIENT and nothing is written.',
    params: obj({ countyId: COUNTY_CODE }),
    body: REDEMPTION_REQUEST,
    // Nobody has this phone: in scope the answer is 404 NOT_FOUND and nothing is written.
    scopeExample: ({ shopId }) => ({ body: { id: newClientId(), shopId, phone: '17460009903', points: 1, goods: '洗衣粉 1袋', goodsValueFen: 500, eventTime: '2026-03-01T02:00:00.000Z' } }),
    responses: {
      201: { description: 'The redemption', schema: REDEMPTION },
      200: { description: 'A retry: the original answer', schema: REDEMPTION },
      404: { description: 'NOT_FOUND: no farmer of the county has that phone number' },
      409: { description: 'POINTS_INSUFFICIENT, IDEMPOTENCY_CONFLICT' },
      422: { description: 'INVALID_PHONE, REFERENCE_NOT_FOUND, RECORD_INACTIVE, EVENT_TIME_IN_FUTURE, EVENT_TIME_TOO_OLD' },
    },
    handler: async ({ params, body, principal, deps }) => {
      const r = await new PointsService(deps).redeem(principal, params.countyId, body);
      return { status: r.status, body: r.body };
    },
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/farmers/:farmerId/points', tag: 'points',
    auth: { permission: 'farmers:read' },
    summary: 'A farmer’s points: balance, earned, redeemed, expired, what lapses next, and the transfers newest first',
    description: 'A page of transfers, newest first: pass `nextCursor` back as `cursor` for the next page. Reads by officials and inspectors are written to the access log.',
    params: obj({ countyId: COUNTY_CODE, farmerId: uuid() }),
    query: obj({
      limit: int({ min: 1, max: 500, description: 'Transfers per page (default 50)' }),
      cursor: { ...uuid(), description: 'The nextCursor of the previous page, exactly as the server returned it' },
    }, ['limit', 'cursor']),
    responses: { 200: { description: 'The farmer’s points', schema: FARMER_POINTS }, 404: { description: 'NOT_FOUND' } },
    handler: async ({ params, query, principal, deps, req }) => {
      const body = await new PointsService(deps).farmerPoints(params.countyId, params.farmerId, { limit: query.limit ?? 50, cursor: query.cursor });
      await logAccess(deps.db.knex, deps, principal, req, [{ countyId: params.countyId, recordType: 'farmer', recordId: params.farmerId, action: 'GET /api/v1/counties/:countyId/farmers/:farmerId/points' }], accessReason(req));
      return { body };
    },
  }),
  route({
    method: 'post', path: '/api/v1/counties/:countyId/points-expiry-runs', tag: 'points',
    auth: { permission: 'points:expire' },
    summary: 'Let the county’s lapsed points expire now (idempotent by the client id; it also runs as a periodic job)',
    description: 'Points earned in year Y lapse after the end of year Y + N (counties.points_expire_after_years = N), oldest first. The as-of day is the county’s business day of the '
      + 'server’s clock; `asOfYear` may only look back (expire what had lapsed by the start of that year). A second run expires nothing more.',
    params: obj({ countyId: COUNTY_CODE }),
    body: obj({ id: CLIENT_ID, asOfYear: int({ min: 2000, max: 2200, description: 'Expire what had lapsed by the start of this year (default: the county’s current year; never later)' }) }, ['asOfYear']),
    responses: {
      201: { description: 'What the run expired', schema: EXPIRY_RUN },
      200: { description: 'A retry: the original answer', schema: EXPIRY_RUN },
      409: { description: 'IDEMPOTENCY_CONFLICT' },
    },
    handler: async ({ params, body, principal, deps }) => {
      const r = await runPointsExpiry(deps.db.knex, params.countyId, deps.clock.now(), actorName(principal), body);
      return { status: r.status, body: r.body };
    },
  }),
];
