// Deposit schedules: the deposit per container, per county and container type, versioned by
// effective date. A new schedule never rewrites the past: it may start today at the earliest, it
// closes the open-ended schedule it follows, and it may not overlap any other.
import type { Knex } from 'knex';
import type { EntityDef } from '../reference/entity.js';
import { FEN, date, nullable, str, uuid } from '../../shared/schemas/builders.js';
import { AppError } from '../../http/errors.js';
import { lockCountyRow, requireRef } from '../reference/entity-rules.js';
import { businessDay, DEFAULT_TIME_ZONE } from '../../shared/business-day.js';
import { DEMO_IDS } from '../../shared/schemas/demo-examples.js';

export const depositScheduleEntity: EntityDef = {
  entity: 'deposit_schedule', plural: 'deposit-schedules', table: 'deposit_schedules', tag: 'reference', label: 'deposit schedules',
  readPermission: 'reference:read', writePermission: 'reference:write',
  updatable: false,
  // A new schedule from the examples' today (the seeded ones started in 2024, before any sale could use a new one).
  example: { containerTypeId: DEMO_IDS.containerType, depositFen: 150, effectiveFrom: '2026-04-01', effectiveTo: null, note: '1升瓶押金每件1.5元 / 1 L bottles: 1.5 yuan' },
  fields: {
    containerTypeId: { schema: nullable(uuid('null: the default for container types without their own schedule')), create: 'required', update: false },
    depositFen: { schema: { ...FEN, maximum: 100_000 }, create: 'required', update: false },
    effectiveFrom: { schema: date('First business day the schedule applies'), create: 'required', update: false },
    effectiveTo: { schema: nullable(date('First business day it no longer applies; null = until superseded')), create: 'optional', update: false },
    note: { schema: str({ max: 300 }), create: 'optional', update: false },
  },
  filters: {
    containerTypeId: { schema: uuid(), apply: (q, v) => void q.where({ container_type_id: v }) },
  },
  lockFirst: lockCountyRow,
  rules: async (input, { trx, countyId, now }) => {
    if (input.containerTypeId !== null) await requireRef(trx, 'container_types', countyId, input.containerTypeId, 'containerTypeId');
    const county = await trx('counties').where({ id: countyId }).first('timezone');
    const today = businessDay(now, county?.timezone ?? DEFAULT_TIME_ZONE);
    if ((input.effectiveFrom as string) < today) {
      throw new AppError('SCHEDULE_IN_PAST', undefined, [{ field: '/body/effectiveFrom', code: 'in_past', message: `must be ${today} or later` }]);
    }
    if (input.effectiveTo != null && (input.effectiveTo as string) <= (input.effectiveFrom as string)) {
      throw new AppError('VALIDATION_FAILED', undefined, [{ field: '/body/effectiveTo', code: 'range', message: 'must be after effectiveFrom' }]);
    }
    return { ...input, effectiveTo: input.effectiveTo ?? null, note: input.note ?? '' };
  },
  beforeInsert: async (row, { trx, countyId }) => {
    await supersedeAndCheckOverlap(trx, countyId, row.container_type_id as string | null, row.effective_from as string, row.effective_to as string | null);
  },
};

async function supersedeAndCheckOverlap(trx: Knex, countyId: string, containerTypeId: string | null, from: string, to: string | null): Promise<void> {
  // Schedule changes of one county are serialised by the county row, locked first (lockFirst), so two
  // officials cannot create overlapping versions.
  const same = (q: Knex.QueryBuilder) => (containerTypeId === null ? q.whereNull('container_type_id') : q.where({ container_type_id: containerTypeId }));
  const rows: Array<{ id: string; effective_from: string; effective_to: string | null; version: number }> = await same(
    trx('deposit_schedules').where({ county_id: countyId, active: true }),
  ).select('id', 'effective_from', 'effective_to', 'version');
  for (const r of rows) {
    // An open-ended schedule that started earlier is superseded: it ends where the new one starts.
    if (r.effective_to === null && r.effective_from < from) {
      const [updated] = await trx('deposit_schedules').where({ county_id: countyId, id: r.id }).update({ effective_to: from, version: r.version + 1, updated_at: trx.fn.now() }).returning('*');
      await trx('entity_history').insert({ county_id: countyId, entity: 'deposit_schedule', entity_id: r.id, version: r.version + 1, op: 'supersede', data: JSON.stringify(updated), actor: 'system:supersede' });
      continue;
    }
    const rFrom = r.effective_from;
    const rTo = r.effective_to ?? '9999-12-31';
    const nTo = to ?? '9999-12-31';
    if (rFrom < nTo && from < rTo) {
      throw new AppError('SCHEDULE_OVERLAP', undefined, [{ field: '/body/effectiveFrom', code: 'overlap', message: `overlaps schedule ${r.id} (${rFrom} – ${r.effective_to ?? 'open'})`, scheduleId: r.id }]);
    }
  }
}

/** The deposit per container in force for a container type on a business day (specific before default). */
export async function depositInForce(knex: Knex, countyId: string, containerTypeId: string, day: string): Promise<{ scheduleId: string; depositFen: number } | null> {
  const row = await knex('deposit_schedules')
    .where({ county_id: countyId, active: true })
    .where((w) => w.where({ container_type_id: containerTypeId }).orWhereNull('container_type_id'))
    .where('effective_from', '<=', day)
    .where((w) => w.whereNull('effective_to').orWhere('effective_to', '>', day))
    .orderByRaw('container_type_id IS NULL') // a specific schedule wins over the default
    .first('id', 'deposit_fen');
  return row ? { scheduleId: row.id, depositFen: row.deposit_fen } : null;
}
