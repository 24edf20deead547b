// Which county incentive rate applies to a container (docs/incentives.md, issue 17 rule 2): active
// rates in force on the business day (effective_from <= day < effective_to, or open), matching the
// container type (or any), its kind (bottle: materials not ending in _bag; bag: *_bag; any) and its
// volume band (min_volume_ml <= volume <= max_volume_ml, NULL unbounded). The most specific wins: a
// rate for the container type > a kind other than 'any' > a narrower band. Pure: the server's
// return rules and the terminal (offline, from its snapshot) decide alike.

export interface IncentiveRateRow {
  id: string;
  containerTypeId: string | null;
  containerKind: 'bottle' | 'bag' | 'any';
  minVolumeMl: number | null;
  maxVolumeMl: number | null;
  buybackFen: number;
  pointsMilli: number;
  /** YYYY-MM-DD */
  effectiveFrom: string;
  /** YYYY-MM-DD, exclusive; null: open-ended */
  effectiveTo: string | null;
  active: boolean;
}

export interface ContainerOfRate {
  id: string;
  material: string;
  volumeMl: number;
}

export function containerKindOf(material: string): 'bottle' | 'bag' {
  return material.endsWith('_bag') ? 'bag' : 'bottle';
}

/** Specificity of a rate: higher wins (type > kind > band width). */
function specificity(r: IncentiveRateRow): [number, number, number] {
  const width = r.minVolumeMl === null && r.maxVolumeMl === null ? Number.MAX_SAFE_INTEGER : (r.maxVolumeMl ?? Number.MAX_SAFE_INTEGER) - (r.minVolumeMl ?? 0);
  return [r.containerTypeId !== null ? 1 : 0, r.containerKind !== 'any' ? 1 : 0, -width];
}

export function rateMatches(r: IncentiveRateRow, ct: ContainerOfRate, day: string): boolean {
  if (!r.active) return false;
  if (!(r.effectiveFrom <= day && (r.effectiveTo === null || day < r.effectiveTo))) return false;
  if (r.containerTypeId !== null && r.containerTypeId !== ct.id) return false;
  if (r.containerKind !== 'any' && r.containerKind !== containerKindOf(ct.material)) return false;
  if (r.minVolumeMl !== null && ct.volumeMl < r.minVolumeMl) return false;
  if (r.maxVolumeMl !== null && ct.volumeMl > r.maxVolumeMl) return false;
  return true;
}

/** The rate in force for this container on this day (null: none matches). Ties (refused at creation) fall to the later start, then the id. */
export function matchIncentiveRate<R extends IncentiveRateRow>(rates: R[], ct: ContainerOfRate, day: string): R | null {
  let best: R | null = null;
  let bestKey: [number, number, number, string, string] | null = null;
  for (const r of rates) {
    if (!rateMatches(r, ct, day)) continue;
    const key: [number, number, number, string, string] = [...specificity(r), r.effectiveFrom, r.id];
    if (!bestKey || compareKeys(key, bestKey) > 0) {
      best = r;
      bestKey = key;
    }
  }
  return best;
}

function compareKeys(a: [number, number, number, string, string], b: [number, number, number, string, string]): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return 0;
}

/** A row of incentive_rates (snake case, as the database answers it) as the matcher reads it. */
export function incentiveRateFromRow(row: Record<string, any>): IncentiveRateRow {
  return {
    id: row.id, containerTypeId: row.container_type_id ?? null, containerKind: row.container_kind, minVolumeMl: row.min_volume_ml ?? null,
    maxVolumeMl: row.max_volume_ml ?? null, buybackFen: Number(row.buyback_fen), pointsMilli: Number(row.points_milli),
    effectiveFrom: String(row.effective_from), effectiveTo: row.effective_to === null || row.effective_to === undefined ? null : String(row.effective_to), active: row.active !== false,
  };
}
