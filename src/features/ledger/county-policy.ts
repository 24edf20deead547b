// A county's policies as the money core reads them, and which county a write belongs to.
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import type { Principal } from '../../auth/permissions.js';

export interface CountyPolicy {
  id: string;
  timezone: string;
  depositValidityDays: number;
  untrackedRefundPolicy: 'schedule_up_to_limit' | 'accept_without_refund';
  untrackedDailyLimit: number;
  lateReturnPolicy: 'refund_from_unredeemed' | 'accept_without_refund';
  settlementPeriod: 'daily' | 'weekly' | 'monthly';
  /** Accepted returns of one phone in one business day above this are flagged for officials. */
  fraudDailyReturnsThreshold: number;
  /** Event times more than this many days (× 24 h) before the server's time are refused (EVENT_TIME_TOO_OLD). */
  maxOfflineAgeDays: number;
  /** A well-formed unit code never sold in the county: hold its refund for review, or pay at once (DESIGN rule 13). */
  unsoldCodePolicy: 'hold_for_review' | 'pay_at_once';
  /** Incentives (docs/incentives.md): yearly caps per household (farmer) and per shop; null: no cap. */
  incentiveHouseholdBuybackCapFen: number | null;
  incentiveHouseholdPointsCapMilli: number | null;
  incentiveShopBuybackCapFen: number | null;
  /** What a container whose buy-back the fund cannot pay gets: nothing, or its points only. */
  incentiveWhenFundEmpty: 'nothing' | 'points_only';
  /** Points earned in year Y lapse after the end of year Y + N; null: never. */
  pointsExpireAfterYears: number | null;
}

/** An event time this far ahead of the server clock is a wrong terminal clock, not a sale. */
export const EVENT_TIME_SKEW_MS = 5 * 60_000;

/** Transactions whose writes share one read of each county's policy (a group commit's: none of its writes changes a county). */
const shared = new WeakMap<Knex, Map<string, Promise<CountyPolicy>>>();

/** In this transaction, read each county's policy once (group commit: the same county for every write of the group). */
export function shareCountyPolicy(trx: Knex): void {
  if (!shared.has(trx)) shared.set(trx, new Map());
}

export async function loadCountyPolicy(knex: Knex, countyId: string): Promise<CountyPolicy> {
  const memo = shared.get(knex);
  if (!memo) return readCountyPolicy(knex, countyId);
  let p = memo.get(countyId);
  if (!p) {
    p = readCountyPolicy(knex, countyId);
    memo.set(countyId, p);
    // A failed read (in a savepoint that is rolled back) is not kept for the next write.
    p.catch(() => memo.delete(countyId));
  }
  return p;
}

async function readCountyPolicy(knex: Knex, countyId: string): Promise<CountyPolicy> {
  const row = await knex('counties').where({ id: countyId }).first();
  if (!row) throw new AppError('NOT_FOUND', `No county ${countyId}`);
  return policyFromRow(row);
}

/** The policy of a `counties` row (for callers that read the row themselves, e.g. with its closed months). */
export function policyFromRow(row: Record<string, any>): CountyPolicy {
  return {
    id: row.id,
    timezone: row.timezone,
    depositValidityDays: row.deposit_validity_days,
    untrackedRefundPolicy: row.untracked_refund_policy,
    untrackedDailyLimit: row.untracked_daily_limit,
    lateReturnPolicy: row.late_return_policy,
    settlementPeriod: row.settlement_period,
    fraudDailyReturnsThreshold: row.fraud_daily_returns_threshold,
    maxOfflineAgeDays: row.max_offline_age_days,
    unsoldCodePolicy: row.unsold_code_policy,
    incentiveHouseholdBuybackCapFen: nullableNumber(row.incentive_household_buyback_cap_fen),
    incentiveHouseholdPointsCapMilli: nullableNumber(row.incentive_household_points_cap_milli),
    incentiveShopBuybackCapFen: nullableNumber(row.incentive_shop_buyback_cap_fen),
    incentiveWhenFundEmpty: row.incentive_when_fund_empty === 'points_only' ? 'points_only' : 'nothing',
    pointsExpireAfterYears: nullableNumber(row.points_expire_after_years),
  };
}

function nullableNumber(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

/** The county a write is for: the body's, or the principal's own (everyone but admins has one). */
export function countyOf(principal: Principal, bodyCountyId: string | undefined): string {
  const own = principal.countyId ?? null;
  const id = bodyCountyId ?? own;
  if (!id) throw new AppError('VALIDATION_FAILED', 'Name the county (countyId)', [{ field: '/body/countyId', code: 'required', message: 'is required for users without a county' }]);
  return id;
}

export function checkEventTime(eventTime: Date, now: Date): void {
  if (eventTime.getTime() > now.getTime() + EVENT_TIME_SKEW_MS) {
    throw new AppError('EVENT_TIME_IN_FUTURE', undefined, [{ field: '/body/eventTime', code: 'future', message: `event time ${eventTime.toISOString()} is after server time ${now.toISOString()}` }]);
  }
}

/**
 * Bounds an event time the client supplies on both sides: not after the server's time (beyond clock
 * skew) and, for clerks and terminals, not earlier than the county's maximum offline age
 * (`maxOfflineAgeDays` × 24 h before the server's time). County officials and admins may record
 * older events (corrections, paper records); they are booked like any record.
 */
export function checkEventTimeBounds(eventTime: Date, now: Date, county: Pick<CountyPolicy, 'maxOfflineAgeDays'>, principal: Principal, field = '/body/eventTime'): void {
  checkEventTime(eventTime, now);
  if (principal.role === 'county_official' || principal.role === 'admin') return;
  const earliest = new Date(now.getTime() - county.maxOfflineAgeDays * 86_400_000);
  if (eventTime.getTime() < earliest.getTime()) {
    throw new AppError('EVENT_TIME_TOO_OLD', undefined, [{
      field, code: 'too_old', message: `event time ${eventTime.toISOString()} is before ${earliest.toISOString()}, the county's maximum offline age of ${county.maxOfflineAgeDays} days`,
      earliest: earliest.toISOString(), maxOfflineAgeDays: county.maxOfflineAgeDays,
    }]);
  }
}
