// When two incentive rates would leave the winner open (docs/incentives.md, rule 2): the matcher
// (src/shared/incentive-rate-match.ts) ranks a rate by container type set, kind other than `any`,
// then band width (max − min, an open bound counting as unbounded); two rates with the same rank that
// could fit the same container on a common day are refused when the second is created or revived.

export interface RateShape {
  containerTypeId: string | null;
  containerKind: 'bottle' | 'bag' | 'any';
  minVolumeMl: number | null;
  maxVolumeMl: number | null;
  effectiveFrom: string;
  effectiveTo: string | null;
}

const MAX = Number.MAX_SAFE_INTEGER;

/** The matcher's rank of a rate (same formula as matchIncentiveRate's). */
export function rank(r: RateShape): [number, number, number] {
  const width = r.minVolumeMl === null && r.maxVolumeMl === null ? MAX : (r.maxVolumeMl ?? MAX) - (r.minVolumeMl ?? 0);
  return [r.containerTypeId !== null ? 1 : 0, r.containerKind !== 'any' ? 1 : 0, -width];
}

export function sameRank(a: RateShape, b: RateShape): boolean {
  const ra = rank(a);
  const rb = rank(b);
  return ra.every((v, i) => v === rb[i]);
}

/** True when some container could be fitted by both rates (dates aside). */
export function shapesCanMeet(a: RateShape, b: RateShape): boolean {
  if (a.containerTypeId !== null && b.containerTypeId !== null && a.containerTypeId !== b.containerTypeId) return false;
  if (a.containerKind !== 'any' && b.containerKind !== 'any' && a.containerKind !== b.containerKind) return false;
  return Math.max(a.minVolumeMl ?? 0, b.minVolumeMl ?? 0) <= Math.min(a.maxVolumeMl ?? MAX, b.maxVolumeMl ?? MAX);
}

export function datesOverlap(a: RateShape, b: RateShape): boolean {
  return a.effectiveFrom < (b.effectiveTo ?? '9999-12-31') && b.effectiveFrom < (a.effectiveTo ?? '9999-12-31');
}

export function ambiguous(a: RateShape, b: RateShape): boolean {
  return sameRank(a, b) && shapesCanMeet(a, b) && datesOverlap(a, b);
}

export function sameScope(a: RateShape, b: RateShape): boolean {
  return a.containerTypeId === b.containerTypeId && a.containerKind === b.containerKind && a.minVolumeMl === b.minVolumeMl && a.maxVolumeMl === b.maxVolumeMl;
}
