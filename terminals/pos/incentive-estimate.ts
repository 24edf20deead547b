// Incentives at the counter (issue 17, docs/incentives.md): which incentive applies to each returned
// item and why. Online the county server decides (the return answer's `incentive` per item,
// `totalBuybackFen`, `totalPointsMilli`, `pointsBalanceMilli`); offline the terminal estimates from the
// rates and settings it cached with the sync snapshot, with the same rules as the server as far as this
// counter can know them, and says so: an offline amount is an estimate the server confirms.
//
// What the terminal cannot know offline, and how it estimates:
// - whether a counted container (product barcode, no unit code) is one of the returner's own deposits:
//   only what this terminal sold to that phone counts as theirs; the rest is "beyond their lots";
// - whether a unit code it did not sell was sold elsewhere (deposit) or never (held for review): it
//   assumes sold elsewhere, as the refund estimate always did;
// - caps: only what this terminal's journal paid or gave this calendar year counts towards them;
// - the fund: its balance is not in the snapshot, so an empty fund shows only once the server answers.
// Without any incentive rate cached nothing changes: counted containers beyond the returner's lots get
// the deposit in force (the county's untracked policy refund), as before issue 17.

import { INCENTIVE_REASON_TEXT, type IncentiveKind, type IncentiveReason, type ItemIncentive } from '../printing/incentive-text.js';

export { describeIncentive, formatPoints, INCENTIVE_KIND_TEXT, INCENTIVE_REASON_TEXT, parsePoints, type IncentiveKind, type IncentiveReason, type ItemIncentive } from '../printing/incentive-text.js';

export type ContainerKind = 'bottle' | 'bag' | 'any';

/** An incentive rate as the sync snapshot carries it (the incentive-rates API's fields). */
export interface CachedIncentiveRate {
  id?: string;
  containerTypeId: string | null;
  containerKind: ContainerKind;
  minVolumeMl: number | null;
  maxVolumeMl: number | null;
  buybackFen: number;
  pointsMilli: number;
  effectiveFrom: string;
  effectiveTo: string | null;
  active?: boolean;
}

/** The county's incentive settings (county PATCH fields; null = no cap). */
export interface IncentiveSettings {
  incentiveHouseholdBuybackCapFen: number | null;
  incentiveHouseholdPointsCapMilli: number | null;
  incentiveShopBuybackCapFen: number | null;
  incentiveWhenFundEmpty: 'nothing' | 'points_only';
}

export const NO_SETTINGS: IncentiveSettings = { incentiveHouseholdBuybackCapFen: null, incentiveHouseholdPointsCapMilli: null, incentiveShopBuybackCapFen: null, incentiveWhenFundEmpty: 'nothing' };

export interface ContainerTypeFacts {
  id: string;
  material: string;
  /** Nominal volume (mL; g for bags); a rate with a volume band cannot be judged without it. */
  volumeMl?: number | null;
}

/** bag for plastic_bag | paper_bag | composite_bag (any *_bag material), bottle for everything else. */
export function kindOfMaterial(material: string): 'bottle' | 'bag' {
  return material.endsWith('_bag') ? 'bag' : 'bottle';
}

function rateMatches(rate: CachedIncentiveRate, type: ContainerTypeFacts): boolean {
  if (rate.containerTypeId !== null && rate.containerTypeId !== type.id) return false;
  if (rate.containerKind !== 'any' && rate.containerKind !== kindOfMaterial(type.material)) return false;
  if (rate.minVolumeMl !== null || rate.maxVolumeMl !== null) {
    const v = type.volumeMl;
    if (v === null || v === undefined) return false;
    if (rate.minVolumeMl !== null && v < rate.minVolumeMl) return false;
    if (rate.maxVolumeMl !== null && v > rate.maxVolumeMl) return false;
  }
  return true;
}

/** Specificity left to right: a container type set, then a kind that is not `any`, then a narrower band. */
function specificity(rate: CachedIncentiveRate): number[] {
  const bounds = (rate.minVolumeMl !== null ? 1 : 0) + (rate.maxVolumeMl !== null ? 1 : 0);
  const narrowness = bounds === 2 ? -((rate.maxVolumeMl as number) - (rate.minVolumeMl as number)) : 0;
  return [rate.containerTypeId !== null ? 1 : 0, rate.containerKind !== 'any' ? 1 : 0, bounds, narrowness];
}

function moreSpecific(a: CachedIncentiveRate, b: CachedIncentiveRate): boolean {
  const sa = specificity(a);
  const sb = specificity(b);
  for (let i = 0; i < sa.length; i++) if (sa[i] !== sb[i]) return sa[i]! > sb[i]!;
  return false;
}

/** The rate in force on a county day for a container type (spec rules 1–2); null when none matches. */
export function pickIncentiveRate(rates: readonly CachedIncentiveRate[], type: ContainerTypeFacts, day: string): CachedIncentiveRate | null {
  let best: CachedIncentiveRate | null = null;
  for (const r of rates) {
    if (r.active === false) continue;
    if (!(r.effectiveFrom <= day && (r.effectiveTo === null || day < r.effectiveTo))) continue;
    if (!rateMatches(r, type)) continue;
    if (best === null || moreSpecific(r, best)) best = r;
  }
  return best;
}

/** What this counter already paid or gave this calendar year, towards the caps. */
export interface CapUse {
  householdBuybackFen: number;
  householdPointsMilli: number;
  shopBuybackFen: number;
}

/** One accepted quantity of containers without a deposit of their own: what the rate gives, capped. */
export function incentiveFor(
  rate: CachedIncentiveRate | null,
  quantity: number,
  opts: { returner: boolean; settings: IncentiveSettings; used: CapUse },
): ItemIncentive {
  if (!rate) return { kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'no_rate' };
  if (!opts.returner) return { kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'returner_required' };
  const s = opts.settings;
  const u = opts.used;
  let reason: IncentiveReason | null = null;
  // Buy-back is whole containers: as many as the household and shop caps leave room for.
  let buybackContainers = rate.buybackFen > 0 ? quantity : 0;
  if (rate.buybackFen > 0) {
    const room = (cap: number | null, used: number) => (cap === null ? Infinity : Math.max(0, Math.floor((cap - used) / rate.buybackFen)));
    const household = room(s.incentiveHouseholdBuybackCapFen, u.householdBuybackFen);
    const shop = room(s.incentiveShopBuybackCapFen, u.shopBuybackFen);
    if (household < buybackContainers) [buybackContainers, reason] = [household, 'household_cap'];
    if (shop < buybackContainers) [buybackContainers, reason] = [shop, 'shop_cap'];
  }
  const buybackFen = buybackContainers * rate.buybackFen;
  // Points in milli-points may be cut to what the household cap leaves.
  let pointsMilli = rate.pointsMilli * quantity;
  if (rate.pointsMilli > 0 && s.incentiveHouseholdPointsCapMilli !== null) {
    const left = Math.max(0, s.incentiveHouseholdPointsCapMilli - u.householdPointsMilli);
    if (left < pointsMilli) [pointsMilli, reason] = [left, reason ?? 'household_cap'];
  }
  u.householdBuybackFen += buybackFen;
  u.shopBuybackFen += buybackFen;
  u.householdPointsMilli += pointsMilli;
  const kind: IncentiveKind = buybackFen > 0 && pointsMilli > 0 ? 'buyback_points' : buybackFen > 0 ? 'buyback' : pointsMilli > 0 ? 'points' : 'none';
  return { kind, buybackFen, pointsMilli, reason };
}

/** Two decisions for parts of one item (deposit for some containers, an incentive for the rest) as one. */
export function mergeIncentives(deposit: { quantity: number }, rest: ItemIncentive | null): ItemIncentive {
  if (!rest) return { kind: 'deposit', buybackFen: 0, pointsMilli: 0, reason: null };
  if (deposit.quantity > 0 && rest.kind === 'none') return { kind: 'deposit', buybackFen: 0, pointsMilli: 0, reason: rest.reason };
  return rest;
}

const KINDS = new Set<string>(['deposit', 'buyback', 'points', 'buyback_points', 'none']);
const REASONS = new Set<string>(Object.keys(INCENTIVE_REASON_TEXT));

/** The server's `incentive` of an answered item, if it has a well-formed one (older servers have none). */
export function readIncentive(v: unknown): ItemIncentive | null {
  const o = v as Partial<ItemIncentive> | null | undefined;
  if (!o || typeof o !== 'object' || !KINDS.has(String(o.kind))) return null;
  const n = (x: unknown) => (Number.isSafeInteger(x) && (x as number) >= 0 ? (x as number) : 0);
  return { kind: o.kind as IncentiveKind, buybackFen: n(o.buybackFen), pointsMilli: n(o.pointsMilli), reason: o.reason && REASONS.has(o.reason) ? o.reason : null };
}
