// Shapes of the county incentive policy (docs/incentives.md), shared by the county server (the county
// PATCH, the sync snapshot) and the terminals (what they cache).
import { FEN, arr, bool, date, enumOf, int, nullable, obj, uuid, type JsonSchema } from './builders.js';

/** The county's incentive settings (rules 5–7): yearly caps, what an empty fund leaves, how long points live. */
export const INCENTIVE_FIELDS = {
  incentiveHouseholdBuybackCapFen: nullable(int({ min: 0, max: 100_000_000, description: 'Buy-back one household (farmer) may receive per calendar year, in fen; null: no cap' })),
  incentiveHouseholdPointsCapMilli: nullable(int({ min: 0, max: 1_000_000_000, description: 'Points one household may earn per calendar year, in thousandths of a point; null: no cap' })),
  incentiveShopBuybackCapFen: nullable(int({ min: 0, max: 1_000_000_000, description: 'Buy-back one shop may pay out per calendar year, in fen; null: no cap' })),
  incentiveWhenFundEmpty: enumOf(['nothing', 'points_only'], "When the incentive fund cannot pay a container's buy-back: nothing is due, or the rate's points only"),
  pointsExpireAfterYears: nullable(int({ min: 1, max: 10, description: 'Points earned in year Y lapse after the end of year Y + N; null: never' })),
} satisfies Record<string, JsonSchema>;

export const CONTAINER_KINDS = ['bottle', 'bag', 'any'] as const;

/** An incentive rate as a terminal caches it. */
export const SNAPSHOT_INCENTIVE_RATE = obj({
  id: uuid(), containerTypeId: nullable(uuid()), containerKind: enumOf(CONTAINER_KINDS), minVolumeMl: nullable(int({ min: 1 })), maxVolumeMl: nullable(int({ min: 1 })),
  buybackFen: FEN, pointsMilli: int({ min: 0 }), effectiveFrom: date(), effectiveTo: nullable(date()), active: bool('Always true: the snapshot holds active rates only'),
});

export const SNAPSHOT_INCENTIVE_RATES: JsonSchema = {
  ...arr(SNAPSHOT_INCENTIVE_RATE),
  description: 'Every active incentive rate of the county (past, present and future), so an offline till finds the one in force on any day (src/shared/incentive-rate-match.ts: matchIncentiveRate)',
};

export const SNAPSHOT_INCENTIVES_IN_FORCE: JsonSchema = {
  ...arr(obj({ containerTypeId: uuid(), rateId: nullable(uuid()), buybackFen: FEN, pointsMilli: int({ min: 0 }) })),
  description: 'The rate in force on the business day per active container type (what a container without a deposit gets); rateId null: no rate matches',
};
