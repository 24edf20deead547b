// The points ledger after earning (docs/incentives-points.md): redemption for goods at the counter,
// a farmer's points, and expiry. Points are used first in, first out: a redemption or an expiry
// takes the oldest points first; points earned in year Y lapse after the end of year Y + N
// (counties.points_expire_after_years = N; NULL: never). Which points have lapsed is decided by the
// county's business day of the server's clock, never by a time the client sends: a redemption first
// lets lapsed points expire (in its own transaction), so nobody redeems points that have lapsed.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { AppDeps } from '../../app-deps.js';
import { AppError } from '../../http/errors.js';
import { actorName } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/permissions.js';
import { maskPhone } from '../../shared/phone.js';
import { businessDay } from '../../shared/business-day.js';
import { checkEventTimeBounds, policyFromRow } from '../ledger/county-policy.js';
import { idempotentWrite, type WriteResult } from '../ledger/idempotency.js';
import { bookingFor, bookingView } from '../periods/booking.js';
import { normalisedPhoneOrThrow } from '../farmers/farmer-entity.js';
import { requireRef } from '../reference/entity-rules.js';
import { farmerPointsAccount, farmerPointsMilli, lockPointsAccounts, pointsCountyAccount, postPoints, type PointsTransferInput } from './points-store.js';
import { farmerTransfersPage, farmersHoldingPoints, insertRedemption, readPointsLots, type PointsLots, type PointsTransferView } from './points-ledger-store.js';

/** The most points one redemption may take (a typo guard, not a policy). */
export const MAX_REDEMPTION_POINTS = 1_000_000;

export interface RedemptionInput {
  id: string;
  shopId: string;
  phone: string;
  points: number;
  goods: string;
  goodsValueFen: number;
  eventTime: string;
}

export interface ExpiryRunInput {
  id: string;
  asOfYear?: number;
}

/** Points (up to three decimals) → milli-points; anything finer is refused, never rounded. */
export function pointsToMilli(points: number, field = '/body/points'): number {
  const milli = Math.round(points * 1000);
  if (!Number.isFinite(points) || points <= 0 || milli <= 0 || Math.abs(points * 1000 - milli) > 1e-6 || points > MAX_REDEMPTION_POINTS) {
    throw new AppError('VALIDATION_FAILED', 'Points are a positive number with at most three decimals', [{ field, code: 'points', message: `must be more than 0, at most ${MAX_REDEMPTION_POINTS} and have at most three decimals` }]);
  }
  return milli;
}

/** The lots left after what was taken from them, oldest first (first in, first out). */
export function remainingLots(lots: PointsLots): Array<{ year: number; milli: number }> {
  let taken = lots.consumed;
  const out: Array<{ year: number; milli: number }> = [];
  for (const year of [...lots.byYear.keys()].sort((a, b) => a - b)) {
    const m = lots.byYear.get(year)!;
    if (m <= 0) continue;
    const take = Math.min(Math.max(taken, 0), m);
    taken -= take;
    if (m - take > 0) out.push({ year, milli: m - take });
  }
  return out;
}

/** Points that have lapsed by the start of `asOfYear`: earned in a year Y with Y + N < asOfYear and not yet used. */
export function lapsedMilli(lots: PointsLots | undefined, expireAfterYears: number | null, asOfYear: number): number {
  if (!lots || !expireAfterYears) return 0;
  return remainingLots(lots).filter((l) => l.year + expireAfterYears < asOfYear).reduce((s, l) => s + l.milli, 0);
}

/** The oldest points still held and the last day they are good for. */
export function expiringNext(lots: PointsLots | undefined, expireAfterYears: number | null): { atEndOf: string; milli: number } | null {
  if (!lots || !expireAfterYears) return null;
  const first = remainingLots(lots)[0];
  return first ? { atEndOf: `${first.year + expireAfterYears}-12-31`, milli: first.milli } : null;
}

async function countyRow(knex: Knex, countyId: string): Promise<Record<string, any>> {
  const row = await knex('counties').where({ id: countyId }).first();
  if (!row) throw new AppError('NOT_FOUND', `No county ${countyId}`);
  return row;
}

function expireYears(row: Record<string, any>): number | null {
  return row.points_expire_after_years === null || row.points_expire_after_years === undefined ? null : Number(row.points_expire_after_years);
}

/**
 * The expiry transfers of the farmers' lapsed points as of `asOfYear` (accounts already locked by
 * the caller). Each is farmer → expired, on the county's business day of the server's clock.
 */
function expiryTransfers(countyId: string, lots: Map<string, PointsLots>, farmerIds: string[], n: number | null, asOfYear: number,
  ref: { clientId: string; refId: string; now: Date; today: string; actor: string }): PointsTransferInput[] {
  const out: PointsTransferInput[] = [];
  for (const farmerId of farmerIds) {
    const milli = lapsedMilli(lots.get(farmerId), n, asOfYear);
    if (milli <= 0) continue;
    out.push({
      code: 'expired', debit: farmerPointsAccount(countyId, farmerId), credit: pointsCountyAccount(countyId, 'expired'), amountMilli: milli,
      clientId: ref.clientId, refType: 'expiry', refId: ref.refId, farmerId, shopId: null, eventTime: ref.now, businessDay: ref.today, actor: ref.actor,
    });
  }
  return out;
}

/**
 * Lets the county's lapsed points expire (idempotent by the client id; a second run expires nothing
 * more because what expired is taken from the oldest lots). The as-of day is the county's business
 * day of `now` (the server's clock); `asOfYear` may only look back, to expire less.
 */
export async function runPointsExpiry(knex: Knex, countyId: string, now: Date, actor: string, input: ExpiryRunInput): Promise<WriteResult> {
  return idempotentWrite(knex, { countyId, clientId: input.id, operation: 'points_expiry_run', content: { countyId, asOfYear: input.asOfYear } }, () => now, async (trx) => {
    const county = await countyRow(trx, countyId);
    const today = businessDay(now, county.timezone);
    const year = Number(today.slice(0, 4));
    const asOfYear = input.asOfYear ?? year;
    if (asOfYear > year) {
      throw new AppError('VALIDATION_FAILED', `The as-of year cannot be after the county's current year ${year}`, [{ field: '/body/asOfYear', code: 'future', message: `must be ${year} or earlier` }]);
    }
    const n = expireYears(county);
    let transfers: PointsTransferInput[] = [];
    if (n !== null) {
      const farmers = await farmersHoldingPoints(trx, countyId);
      if (farmers.length) {
        // Locks in id order (the same order every points posting takes), then reads the lots: what
        // a redemption committed while this run waited is seen.
        await lockPointsAccounts(trx, countyId, [pointsCountyAccount(countyId, 'expired'), ...farmers.map((f) => farmerPointsAccount(countyId, f))]);
        const lots = await readPointsLots(trx, countyId, farmers);
        transfers = expiryTransfers(countyId, lots, farmers, n, asOfYear, { clientId: input.id, refId: input.id, now, today, actor });
        await postPoints(trx, countyId, transfers, now);
      }
    }
    return {
      status: 201,
      body: {
        runId: input.id, countyId, asOfDay: today, asOfYear, expireAfterYears: n,
        earnedBefore: n === null ? null : `${asOfYear - n}-01-01`,
        farmers: transfers.length, expiredMilli: transfers.reduce((s, t) => s + t.amountMilli, 0), recordedAt: now.toISOString(),
      },
    };
  });
}

export class PointsService {
  constructor(private readonly deps: AppDeps) {}

  /** Goods given at the counter for points: a `redeemed` transfer (farmer → redeemed) and a points_redemptions row, or nothing. */
  async redeem(principal: Principal, countyId: string, input: RedemptionInput): Promise<WriteResult> {
    const milli = pointsToMilli(input.points);
    const phoneE164 = normalisedPhoneOrThrow(input.phone, '/body/phone');
    const goods = input.goods.trim();
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: input.id, operation: 'points_redemption', content: { ...input, countyId } }, () => this.deps.clock.now(), async (trx) => {
      const now = this.deps.clock.now();
      const actor = actorName(principal);
      const county = await countyRow(trx, countyId);
      const policy = policyFromRow(county);
      const eventTime = new Date(input.eventTime);
      checkEventTimeBounds(eventTime, now, policy, principal);
      await requireRef(trx, 'shops', countyId, input.shopId, 'shopId');
      const farmer = await trx('farmers').where({ county_id: countyId, phone_e164: phoneE164 }).first('id', 'name', 'phone_e164');
      if (!farmer) throw new AppError('NOT_FOUND', 'No farmer of this county has that phone number', [{ field: '/body/phone', code: 'not_found', message: 'no farmer is registered with this number' }]);
      const booking = await bookingFor(trx, countyId, eventTime, policy.timezone);
      const day = businessDay(eventTime, policy.timezone);
      const today = businessDay(now, policy.timezone);
      const account = farmerPointsAccount(countyId, farmer.id);
      const locked = await lockPointsAccounts(trx, countyId, [account, pointsCountyAccount(countyId, 'redeemed'), pointsCountyAccount(countyId, 'expired')]);
      const held = -locked.get(account.id)!.balance;
      const lots = await readPointsLots(trx, countyId, [farmer.id]);
      const n = expireYears(county);
      const expiry = expiryTransfers(countyId, lots, [farmer.id], n, Number(today.slice(0, 4)), { clientId: input.id, refId: input.id, now, today, actor });
      const lapsed = expiry.reduce((s, t) => s + t.amountMilli, 0);
      if (milli > held - lapsed) {
        throw new AppError('POINTS_INSUFFICIENT', undefined, [{
          field: '/body/points', code: 'insufficient', message: `the farmer holds ${(held - lapsed) / 1000} points${lapsed > 0 ? ` (${lapsed / 1000} more have lapsed)` : ''}`,
          balanceMilli: held - lapsed,
        }]);
      }
      await postPoints(trx, countyId, [...expiry, {
        code: 'redeemed', debit: account, credit: pointsCountyAccount(countyId, 'redeemed'), amountMilli: milli, clientId: input.id,
        refType: 'redemption', refId: input.id, farmerId: farmer.id, shopId: input.shopId, eventTime, businessDay: day, actor,
      }], now);
      const redemptionNo = await insertRedemption(trx, {
        county_id: countyId, id: input.id, shop_id: input.shopId, farmer_id: farmer.id, points_milli: milli, goods, goods_value_fen: input.goodsValueFen,
        event_time: eventTime, business_day: day, recorded_at: now, actor, booked_at: booking.bookedAt,
      });
      return {
        status: 201,
        body: {
          redemptionId: input.id, redemptionNo, countyId, shopId: input.shopId,
          farmer: { farmerId: farmer.id, name: farmer.name, phoneMasked: maskPhone(farmer.phone_e164) },
          pointsMilli: milli, goods, goodsValueFen: input.goodsValueFen, balanceAfterMilli: held - lapsed - milli,
          eventTime: eventTime.toISOString(), recordedAt: now.toISOString(), businessDay: day, ...bookingView(booking),
        },
      };
    });
  }

  /** A farmer's points: balance, totals, what lapses next, and a page of transfers newest first. */
  async farmerPoints(countyId: string, farmerId: string, q: { limit: number; cursor?: string }): Promise<Record<string, unknown>> {
    const knex = this.deps.db.knex;
    const farmer = await knex('farmers').where({ county_id: countyId, id: farmerId }).first('id');
    if (!farmer) throw new AppError('NOT_FOUND', `No farmer ${farmerId} in county ${countyId}`);
    const county = await countyRow(knex, countyId);
    const n = expireYears(county);
    const [balance, lots, page] = [await farmerPointsMilli(knex, countyId, farmerId), (await readPointsLots(knex, countyId, [farmerId])).get(farmerId),
      await farmerTransfersPage(knex, countyId, farmerId, q.limit, q.cursor)];
    if (!page) throw new AppError('VALIDATION_FAILED', undefined, [{ field: '/query/cursor', code: 'cursor', message: 'is not a cursor this server gave (pass back nextCursor unchanged)' }]);
    return {
      farmerId, balanceMilli: balance, earnedMilli: lots?.earned ?? 0, redeemedMilli: lots?.redeemed ?? 0, expiredMilli: lots?.expired ?? 0,
      expireAfterYears: n, expiringNext: expiringNext(lots, n), transfers: page.items satisfies PointsTransferView[], nextCursor: page.nextCursor,
    };
  }
}

/** The client id of the periodic job's run for a county business day: the same day's runs are one write. */
export function pointsExpiryJobId(countyId: string, day: string): string {
  const b = createHash('sha256').update(`agrireturn-points-expiry:${countyId}:${day}`).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The periodic job (src/jobs/jobs.ts): counties whose points never lapse are skipped without a write. */
export async function runPointsExpiryJob(knex: Knex, countyId: string, now: Date): Promise<unknown> {
  const county = await countyRow(knex, countyId);
  if (expireYears(county) === null) return 'points never lapse';
  const r = await runPointsExpiry(knex, countyId, now, 'system:points-expiry-job', { id: pointsExpiryJobId(countyId, businessDay(now, county.timezone)) });
  return r.body;
}
