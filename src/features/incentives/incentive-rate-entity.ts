// Incentive rates (docs/incentives.md): what a county pays back (buy-back, fen) and/or gives (points,
// milli-points) per container that carries no deposit, by container type or by kind and volume
// band, versioned by effective date like deposit schedules. A rate never rewrites the past: it may
// start today at the earliest; a new rate of exactly the same scope closes the open-ended rate it
// follows; any other rate just as specific (the matcher's ranking) that could match the same
// container on a common day is refused (409 INCENTIVE_RATE_OVERLAP), so the rate that applies is always one.
// A rate can be changed only in its note and its end (not before today), and retired (active false).
import type { Knex } from 'knex';
import type { EntityDef, RuleContext } from '../reference/entity.js';
import { FEN, date, enumOf, int, nullable, str, uuid } from '../../shared/schemas/builders.js';
import { AppError } from '../../http/errors.js';
import { lockCountyRow, requireRef } from '../reference/entity-rules.js';
import { businessDay, DEFAULT_TIME_ZONE } from '../../shared/business-day.js';
import { CONTAINER_KINDS } from '../../shared/schemas/incentive-schemas.js';
import { containerKindOf as kindOfMaterial } from '../../shared/incentive-rate-match.js';
import { ambiguous, sameScope, type RateShape as DatedRate } from './incentive-rate-overlap.js';

type ContainerKind = DatedRate['containerKind'];


interface RateRow {
  id: string;
  container_type_id: string | null;
  container_kind: ContainerKind;
  min_volume_ml: number | null;
  max_volume_ml: number | null;
  effective_from: string;
  effective_to: string | null;
  version: number;
  active: boolean;
}

export function rowToRate(r: RateRow): DatedRate & { id: string } {
  return {
    id: r.id, containerTypeId: r.container_type_id, containerKind: r.container_kind, minVolumeMl: r.min_volume_ml, maxVolumeMl: r.max_volume_ml,
    effectiveFrom: r.effective_from, effectiveTo: r.effective_to,
  };
}

function invalid(field: string, code: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', message, [{ field: `/body/${field}`, code, message }]);
}

async function todayOf(trx: Knex, countyId: string, now: Date): Promise<string> {
  const county = await trx('counties').where({ id: countyId }).first('timezone');
  return businessDay(now, county?.timezone ?? DEFAULT_TIME_ZONE);
}

async function createRules(input: Record<string, unknown>, { trx, countyId, now }: RuleContext): Promise<Record<string, unknown>> {
  const containerTypeId = (input.containerTypeId as string | null | undefined) ?? null;
  const kind = input.containerKind as ContainerKind;
  const min = (input.minVolumeMl as number | null | undefined) ?? null;
  const max = (input.maxVolumeMl as number | null | undefined) ?? null;
  const buybackFen = input.buybackFen as number;
  const pointsMilli = input.pointsMilli as number;
  if (min !== null && max !== null && max < min) throw invalid('maxVolumeMl', 'range', 'must be at least minVolumeMl');
  if (buybackFen === 0 && pointsMilli === 0) throw invalid('buybackFen', 'no_incentive', 'buybackFen or pointsMilli must be more than 0');
  if (containerTypeId !== null) {
    const type = await requireRef(trx, 'container_types', countyId, containerTypeId, 'containerTypeId');
    // A rate for one container type must be able to match it: a kind or band that excludes the type is a mistake.
    if (kind !== 'any' && kind !== kindOfMaterial(String(type.material))) {
      throw invalid('containerKind', 'kind_mismatch', `the container type is a ${kindOfMaterial(String(type.material))} (${String(type.material)}); use ${kindOfMaterial(String(type.material))} or any`);
    }
    const vol = Number(type.volume_ml);
    if ((min !== null && vol < min) || (max !== null && vol > max)) throw invalid('minVolumeMl', 'band_excludes_type', `the band does not hold the container type's ${vol} mL`);
  }
  const today = await todayOf(trx, countyId, now);
  if ((input.effectiveFrom as string) < today) {
    throw new AppError('INCENTIVE_RATE_IN_PAST', undefined, [{ field: '/body/effectiveFrom', code: 'in_past', message: `must be ${today} or later` }]);
  }
  if (input.effectiveTo != null && (input.effectiveTo as string) <= (input.effectiveFrom as string)) throw invalid('effectiveTo', 'range', 'must be after effectiveFrom');
  return { ...input, containerTypeId, minVolumeMl: min, maxVolumeMl: max, effectiveTo: input.effectiveTo ?? null, note: ((input.note as string | undefined) ?? '').trim() };
}

async function updateRules(changes: Record<string, unknown>, { trx, countyId, now, existing }: RuleContext): Promise<Record<string, unknown>> {
  const row = existing as unknown as RateRow;
  const out: Record<string, unknown> = { ...changes };
  if (typeof changes.note === 'string') out.note = changes.note.trim();
  const today = await todayOf(trx, countyId, now);
  if ('effectiveTo' in changes) {
    const to = changes.effectiveTo as string | null;
    // The end may move only where it has not passed: what applied before today stands.
    if (row.effective_to !== null && row.effective_to <= today) throw new AppError('INCENTIVE_RATE_IN_PAST', 'This rate has ended; create a new rate instead', [{ field: '/body/effectiveTo', code: 'ended', message: `the rate ended on ${row.effective_to}` }]);
    if (to !== null && to < today) throw new AppError('INCENTIVE_RATE_IN_PAST', undefined, [{ field: '/body/effectiveTo', code: 'in_past', message: `must be ${today} or later` }]);
    if (to !== null && to <= row.effective_from) throw invalid('effectiveTo', 'range', 'must be after effectiveFrom');
  }
  const willBeActive = 'active' in changes ? changes.active === true : row.active;
  const extends_ = 'effectiveTo' in changes && ((changes.effectiveTo as string | null) === null || (row.effective_to !== null && (changes.effectiveTo as string) > row.effective_to));
  const reactivates = changes.active === true && !row.active;
  if (willBeActive && (extends_ || reactivates)) {
    const next = { ...rowToRate(row), effectiveTo: 'effectiveTo' in changes ? (changes.effectiveTo as string | null) : row.effective_to };
    await refuseAmbiguous(trx, countyId, next, row.id);
  }
  return out;
}

/** Refuses a rate another active rate would make ambiguous (the county row is locked: lockFirst). */
async function refuseAmbiguous(trx: Knex, countyId: string, rate: DatedRate, selfId: string | null): Promise<void> {
  const rows = (await trx('incentive_rates').where({ county_id: countyId, active: true }).select('*')) as RateRow[];
  for (const r of rows) {
    if (r.id === selfId) continue;
    const other = rowToRate(r);
    if (ambiguous(rate, other)) throw overlap(other);
  }
}

function overlap(other: DatedRate & { id: string }): AppError {
  return new AppError('INCENTIVE_RATE_OVERLAP', undefined, [{
    field: '/body/effectiveFrom', code: 'overlap',
    message: `as specific as rate ${other.id} (${other.effectiveFrom} – ${other.effectiveTo ?? 'open'}), which matches the same containers on common days`,
    rateId: other.id, effectiveFrom: other.effectiveFrom, effectiveTo: other.effectiveTo,
  }]);
}

async function supersedeAndCheckOverlap(trx: Knex, countyId: string, rate: DatedRate): Promise<void> {
  // Rate changes of one county are serialised by the county row, locked first (lockFirst): two officials
  // cannot create ambiguous rates, and this create cannot deadlock with an update of a rate it supersedes.
  const rows = (await trx('incentive_rates').where({ county_id: countyId, active: true }).select('*')) as RateRow[];
  for (const r of rows) {
    const other = rowToRate(r);
    // An open-ended rate of exactly this scope that started earlier is superseded: it ends where the new one starts.
    if (sameScope(other, rate) && r.effective_to === null && r.effective_from < rate.effectiveFrom) {
      const [updated] = await trx('incentive_rates').where({ county_id: countyId, id: r.id }).update({ effective_to: rate.effectiveFrom, version: r.version + 1, updated_at: trx.fn.now() }).returning('*');
      await trx('entity_history').insert({ county_id: countyId, entity: 'incentive_rate', entity_id: r.id, version: r.version + 1, op: 'supersede', data: JSON.stringify(updated), actor: 'system:supersede' });
      continue;
    }
    if (ambiguous(rate, other)) throw overlap(other);
  }
}

export const incentiveRateEntity: EntityDef = {
  entity: 'incentive_rate', plural: 'incentive-rates', table: 'incentive_rates', tag: 'reference', label: 'incentive rates',
  readPermission: 'reference:read', writePermission: 'reference:write',
  example: { containerTypeId: null, containerKind: 'bottle', minVolumeMl: null, maxVolumeMl: 1000, buybackFen: 50, pointsMilli: 200, effectiveFrom: '2026-04-01', effectiveTo: null, note: '瓶装小包装回收补贴每件0.5元 / Small bottles: 0.5 yuan buy-back' },
  fields: {
    containerTypeId: { schema: nullable(uuid('One container type; null (default): every container type of the kind and band')), create: 'optional', update: false },
    containerKind: { schema: enumOf(CONTAINER_KINDS, 'bottle: any material not ending in _bag; bag: plastic_bag, paper_bag, composite_bag; any: both'), create: 'required', update: false },
    minVolumeMl: { schema: nullable(int({ min: 1, max: 1_000_000, description: 'Smallest container volume (mL, or g for bags) the rate applies to, inclusive; null: no lower bound' })), create: 'optional', update: false },
    maxVolumeMl: { schema: nullable(int({ min: 1, max: 1_000_000, description: 'Largest container volume the rate applies to, inclusive; null: no upper bound' })), create: 'optional', update: false },
    buybackFen: { schema: { ...FEN, maximum: 100_000, description: 'Buy-back paid per container, in fen (0: none)' }, create: 'required', update: false },
    pointsMilli: { schema: int({ min: 0, max: 1_000_000, description: 'Points per container in thousandths of a point (1000 = 1 point; 5 containers = 1 point is 200; 0: none)' }), create: 'required', update: false },
    effectiveFrom: { schema: date('First business day the rate applies (today or later)'), create: 'required', update: false },
    effectiveTo: { schema: nullable(date('First business day it no longer applies; null = until superseded')), create: 'optional', update: true },
    note: { schema: str({ max: 300 }), create: 'optional', update: true },
  },
  filters: {
    containerTypeId: { schema: uuid(), apply: (q, v) => void q.where({ container_type_id: v }) },
    containerKind: { schema: enumOf(CONTAINER_KINDS), apply: (q, v) => void q.where({ container_kind: v }) },
  },
  lockFirst: lockCountyRow,
  rules: async (input, ctx) => (ctx.existing ? updateRules(input, ctx) : createRules(input, ctx)),
  beforeInsert: async (row, { trx, countyId }) => {
    await supersedeAndCheckOverlap(trx, countyId, rowToRate(row as unknown as RateRow));
  },
};
