// Which incentive rate applies to a container (docs/incentives.md, rule 2), as pure functions the
// server, the sync snapshot and the terminal can share. A rate matches a container type when its
// container type is that type (or unset), its kind fits the type's material (bottle: not a *_bag
// material; bag: a *_bag material; any) and the type's volume lies in its band (bounds inclusive,
// null unbounded). Of the rates that match, the most specific wins: a container type set beats a
// kind that is not `any`, which beats a narrower band (for a rate of one container type its kind and
// band do not count: two rates of the same type in force on a common day are refused) (two bounds beat one, one beats none; of two
// bands with both bounds, the smaller width). Two rates equally specific that can match the same
// container on the same day are refused when the second is created (INCENTIVE_RATE_OVERLAP), so the
// winner is always unique.

export type ContainerKind = 'bottle' | 'bag' | 'any';

export interface RateShape {
  containerTypeId: string | null;
  containerKind: ContainerKind;
  minVolumeMl: number | null;
  maxVolumeMl: number | null;
}

export interface DatedRate extends RateShape {
  effectiveFrom: string;
  effectiveTo: string | null;
}

export interface ContainerTypeFacts {
  id: string;
  material: string;
  volumeMl: number;
}

/** bag for plastic_bag | paper_bag | composite_bag (any *_bag material), bottle for everything else. */
export function kindOfMaterial(material: string): 'bottle' | 'bag' {
  return material.endsWith('_bag') ? 'bag' : 'bottle';
}

export function rateMatches(rate: RateShape, type: ContainerTypeFacts): boolean {
  if (rate.containerTypeId !== null && rate.containerTypeId !== type.id) return false;
  if (rate.containerKind !== 'any' && rate.containerKind !== kindOfMaterial(type.material)) return false;
  if (rate.minVolumeMl !== null && type.volumeMl < rate.minVolumeMl) return false;
  if (rate.maxVolumeMl !== null && type.volumeMl > rate.maxVolumeMl) return false;
  return true;
}

/** Specificity as a tuple compared left to right, bigger is more specific. */
export function specificity(rate: RateShape): [number, number, number, number] {
  // A rate for one container type: its kind and band cannot narrow it further.
  if (rate.containerTypeId !== null) return [1, 0, 0, 0];
  const bounds = (rate.minVolumeMl !== null ? 1 : 0) + (rate.maxVolumeMl !== null ? 1 : 0);
  const narrowness = bounds === 2 ? -((rate.maxVolumeMl as number) - (rate.minVolumeMl as number)) : 0;
  return [rate.containerTypeId !== null ? 1 : 0, rate.containerKind !== 'any' ? 1 : 0, bounds, narrowness];
}

/** > 0 when a is more specific than b, 0 when equally specific. */
export function compareSpecificity(a: RateShape, b: RateShape): number {
  const sa = specificity(a);
  const sb = specificity(b);
  for (let i = 0; i < sa.length; i++) if (sa[i] !== sb[i]) return sa[i]! - sb[i]!;
  return 0;
}

export function inForceOn(rate: { effectiveFrom: string; effectiveTo: string | null }, day: string): boolean {
  return rate.effectiveFrom <= day && (rate.effectiveTo === null || day < rate.effectiveTo);
}

/** The rate that applies to a container type on a business day among a county's active rates; null if none matches. */
export function pickRate<R extends DatedRate>(rates: readonly R[], type: ContainerTypeFacts, day: string): R | null {
  let best: R | null = null;
  for (const r of rates) {
    if (!inForceOn(r, day) || !rateMatches(r, type)) continue;
    if (best === null || compareSpecificity(r, best) > 0) best = r;
  }
  return best;
}

/** True when some container could be matched by both rates (ignoring dates). */
export function shapesCanMeet(a: RateShape, b: RateShape): boolean {
  if (a.containerTypeId !== null && b.containerTypeId !== null && a.containerTypeId !== b.containerTypeId) return false;
  if (a.containerKind !== 'any' && b.containerKind !== 'any' && a.containerKind !== b.containerKind) return false;
  const lo = Math.max(a.minVolumeMl ?? 0, b.minVolumeMl ?? 0);
  const hi = Math.min(a.maxVolumeMl ?? Number.MAX_SAFE_INTEGER, b.maxVolumeMl ?? Number.MAX_SAFE_INTEGER);
  return lo <= hi;
}

export function datesOverlap(a: { effectiveFrom: string; effectiveTo: string | null }, b: { effectiveFrom: string; effectiveTo: string | null }): boolean {
  return a.effectiveFrom < (b.effectiveTo ?? '9999-12-31') && b.effectiveFrom < (a.effectiveTo ?? '9999-12-31');
}

/** Two rates that would leave the winner undecided: equally specific, able to match one container, in force on a common day. */
export function ambiguous(a: DatedRate, b: DatedRate): boolean {
  return compareSpecificity(a, b) === 0 && shapesCanMeet(a, b) && datesOverlap(a, b);
}

export function sameScope(a: RateShape, b: RateShape): boolean {
  return a.containerTypeId === b.containerTypeId && a.containerKind === b.containerKind && a.minVolumeMl === b.minVolumeMl && a.maxVolumeMl === b.maxVolumeMl;
}
