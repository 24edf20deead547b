// Receiving at the facility (DESIGN rule 8): after both sides signed the delivery, each bag is
// weighed and its seal checked. What the numbers show decides which discrepancies must be recorded —
// weight beyond the county's tolerance, a broken or different seal, a count that differs, a missing
// bag — each typed and with a comment; a bag may be rejected fully or partly. Nothing is overwritten:
// a correction is a new inspection that supersedes the earlier one.
import type { Knex } from 'knex';
import type { AppDeps } from '../../app-deps.js';
import { AppError, type ErrorDetail } from '../../http/errors.js';
import { actorName } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/permissions.js';
import { newId } from '../../shared/client-id.js';
import type { DiscrepancyType } from '../../shared/schemas/custody-schemas.js';
import { idempotentWrite, type WriteResult } from '../ledger/idempotency.js';
import { appendEvents, lockCountyCustody, type NewEvent } from '../custody/hash-chain.js';
import { findBag, type BagRow } from '../bags/bag-store.js';
import { loadManifest } from '../manifests/manifest-service.js';

export type InspectionOutcome = 'accepted' | 'partially_rejected' | 'rejected' | 'missing';

export interface InspectionInput {
  bagId: string;
  outcome: InspectionOutcome;
  measuredWeightG?: number;
  sealNoRead?: string;
  sealIntact?: boolean;
  countedQuantity?: number;
  rejectedQuantity?: number;
  discrepancies?: Array<{ type: DiscrepancyType; comment: string }>;
}

/** Beyond tolerance when |measured − expected| exceeds pct % of expected (integer arithmetic). */
export function weightBeyondTolerance(expectedG: number, measuredG: number, tolerancePct: number): boolean {
  return Math.abs(measuredG - expectedG) * 100 > tolerancePct * expectedG;
}

interface Checked {
  row: Record<string, unknown>;
  discrepancies: Array<{ type: DiscrepancyType; expected_value: number | null; actual_value: number | null; comment: string }>;
  state: 'received' | 'rejected' | 'missing';
}

/** Validates one bag's inspection against the bag and the rules; throws with every problem named. */
export function checkInspection(bag: BagRow, input: InspectionInput, tolerancePct: number, field: string): Checked {
  const problems: ErrorDetail[] = [];
  const given = new Map((input.discrepancies ?? []).map((d) => [d.type, d.comment]));
  const required: Array<{ type: DiscrepancyType; expected: number | null; actual: number | null; why: string }> = [];
  const shape = (f: string, msg: string) => problems.push({ field: `${field}/${f}`, code: 'required', message: msg });
  if (input.outcome === 'missing') {
    required.push({ type: 'missing_bag', expected: bag.declared_quantity, actual: 0, why: 'the bag is missing from the load' });
  } else {
    if (input.measuredWeightG === undefined) shape('measuredWeightG', 'weigh the bag');
    if (input.sealIntact === undefined) shape('sealIntact', 'check the seal');
    if (input.measuredWeightG !== undefined && weightBeyondTolerance(bag.expected_weight_g, input.measuredWeightG, tolerancePct)) {
      required.push({ type: 'weight', expected: bag.expected_weight_g, actual: input.measuredWeightG, why: `weighs ${input.measuredWeightG} g, expected ${bag.expected_weight_g} g ± ${tolerancePct}%` });
    }
    if (input.sealIntact === false || (input.sealNoRead !== undefined && input.sealNoRead !== bag.seal_no)) {
      required.push({ type: 'broken_seal', expected: null, actual: null, why: input.sealIntact === false ? 'the seal is broken' : `seal reads ${input.sealNoRead}, the bag was sealed with ${bag.seal_no}` });
    }
    if (input.countedQuantity !== undefined && input.countedQuantity !== bag.declared_quantity) {
      required.push({ type: 'count', expected: bag.declared_quantity, actual: input.countedQuantity, why: `${input.countedQuantity} containers counted, ${bag.declared_quantity} declared` });
    }
  }
  const present = input.countedQuantity ?? bag.declared_quantity;
  let rejected = 0;
  if (input.outcome === 'partially_rejected') {
    if (input.rejectedQuantity === undefined) shape('rejectedQuantity', 'say how many containers are refused');
    else if (input.rejectedQuantity >= present) problems.push({ field: `${field}/rejectedQuantity`, code: 'too_many', message: `a partial rejection refuses fewer than the ${present} containers present; reject the bag instead` });
    rejected = input.rejectedQuantity ?? 0;
  } else if (input.rejectedQuantity !== undefined) {
    problems.push({ field: `${field}/rejectedQuantity`, code: 'not_allowed', message: 'only a partial rejection names a quantity' });
  }
  if (input.outcome === 'rejected') rejected = present;
  if (problems.length) throw new AppError('VALIDATION_FAILED', undefined, problems);

  const missing = required.filter((r) => !given.has(r.type));
  if ((input.outcome === 'rejected' || input.outcome === 'partially_rejected') && given.size === 0 && required.length === 0) {
    throw new AppError('DISCREPANCY_REQUIRED', 'A rejection needs a recorded discrepancy saying why', [{ field: `${field}/discrepancies`, code: 'rejection_reason', message: 'record the discrepancy (e.g. wrong_material) with a comment' }]);
  }
  if (missing.length) {
    throw new AppError('DISCREPANCY_REQUIRED', undefined, missing.map((r) => ({ field: `${field}/discrepancies`, code: r.type, message: `record a ${r.type} discrepancy with a comment: ${r.why}`, type: r.type })));
  }
  const discrepancies = [...given.entries()].map(([type, comment]) => {
    const req = required.find((r) => r.type === type);
    return { type, expected_value: req?.expected ?? null, actual_value: req?.actual ?? null, comment: comment.trim() };
  });
  return {
    row: {
      outcome: input.outcome, measured_weight_g: input.measuredWeightG ?? null, seal_no_read: input.sealNoRead ?? null,
      seal_intact: input.sealIntact ?? null, counted_quantity: input.countedQuantity ?? null, rejected_quantity: input.outcome === 'missing' ? 0 : rejected,
    },
    discrepancies,
    state: input.outcome === 'missing' ? 'missing' : input.outcome === 'rejected' ? 'rejected' : 'received',
  };
}

async function tolerancePct(trx: Knex, countyId: string): Promise<number> {
  const c = await trx('counties').where({ id: countyId }).first('weight_tolerance_pct');
  return Number(c?.weight_tolerance_pct ?? 10);
}

async function writeInspection(trx: Knex.Transaction, bag: BagRow, manifestId: string, facilityId: string, checked: Checked, actor: string, now: Date, supersedesId: string | null) {
  const id = newId();
  await trx('custody_inspections').insert({ county_id: bag.county_id, id, bag_id: bag.id, manifest_id: manifestId, facility_id: facilityId, ...checked.row, supersedes_id: supersedesId, actor, recorded_at: now });
  if (checked.discrepancies.length) {
    await trx('custody_discrepancies').insert(checked.discrepancies.map((d, i) => ({ county_id: bag.county_id, inspection_id: id, no: i + 1, bag_id: bag.id, ...d })));
  }
  await trx('custody_bags').where({ county_id: bag.county_id, id: bag.id }).update({
    inspection_id: id, measured_weight_g: checked.row.measured_weight_g, counted_quantity: checked.row.counted_quantity,
    rejected_quantity: checked.row.rejected_quantity, state: checked.state, updated_at: now,
  });
  return id;
}

export function inspectionView(row: Record<string, any>, expectedWeightG: number, discrepancies: Array<Record<string, any>>) {
  const m = row.measured_weight_g as number | null;
  return {
    id: row.id, bagId: row.bag_id, outcome: row.outcome, measuredWeightG: m, expectedWeightG,
    weightDeviationPct: m === null || expectedWeightG === 0 ? null : Math.round(((m - expectedWeightG) * 10000) / expectedWeightG) / 100,
    sealNoRead: row.seal_no_read, sealIntact: row.seal_intact, countedQuantity: row.counted_quantity, rejectedQuantity: row.rejected_quantity,
    supersedesId: row.supersedes_id,
    discrepancies: discrepancies.map((d) => ({ type: d.type, expectedValue: d.expected_value, actualValue: d.actual_value, comment: d.comment })),
  };
}

async function loadInspections(trx: Knex, countyId: string, ids: string[]) {
  const rows = await trx('custody_inspections as i').join('custody_bags as b', function () { this.on('b.county_id', 'i.county_id').andOn('b.id', 'i.bag_id'); })
    .where('i.county_id', countyId).whereIn('i.id', ids).select('i.*', 'b.expected_weight_g');
  const ds = await trx('custody_discrepancies').where({ county_id: countyId }).whereIn('inspection_id', ids).orderBy(['inspection_id', 'no']);
  const byId = new Map(rows.map((r: any) => [r.id, r]));
  return ids.map((id) => {
    const r = byId.get(id) as any;
    return inspectionView(r, r.expected_weight_g, ds.filter((d: any) => d.inspection_id === id));
  });
}

export class ReceivingService {
  constructor(private readonly deps: AppDeps) {}
  private now = () => this.deps.clock.now();

  async receive(principal: Principal, countyId: string, manifestId: string, body: { id: string; bags: InspectionInput[] }): Promise<WriteResult> {
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: body.id, operation: 'manifest.receive', content: { manifestId, ...body } }, this.now, async (trx) => {
      await lockCountyCustody(trx, countyId);
      const m = await loadManifest(trx, countyId, manifestId, true);
      if (m.row.status !== 'delivered') throw new AppError('MANIFEST_NOT_DELIVERED');
      const tol = await tolerancePct(trx, countyId);
      const onManifest = new Set(m.bags.map((b) => b.bag_id));
      const seen = new Set<string>();
      const now = this.now();
      const actor = actorName(principal);
      const ids: string[] = [];
      const events: NewEvent[] = [];
      for (const [i, input] of body.bags.entries()) {
        const field = `/body/bags/${i}`;
        if (!onManifest.has(input.bagId)) throw new AppError('BAG_NOT_ON_MANIFEST', undefined, [{ field: `${field}/bagId`, code: 'not_on_manifest', message: `bag ${input.bagId}` }]);
        if (seen.has(input.bagId)) throw new AppError('VALIDATION_FAILED', undefined, [{ field: `${field}/bagId`, code: 'duplicate', message: 'the bag appears twice' }]);
        seen.add(input.bagId);
        const bag = (await findBag(trx, countyId, input.bagId, true))!;
        if (bag.inspection_id) throw new AppError('BAG_ALREADY_INSPECTED', undefined, [{ field: `${field}/bagId`, code: 'inspected', message: `bag ${bag.seal_no} was inspected; record a correction` }]);
        const checked = checkInspection(bag, input, tol, field);
        const id = await writeInspection(trx, bag, manifestId, m.row.facility_id, checked, actor, now, null);
        ids.push(id);
        events.push({ type: 'bag_inspected', bagId: bag.id, manifestId, data: { inspectionId: id, tolerancePct: tol, expectedWeightG: bag.expected_weight_g, declaredQuantity: bag.declared_quantity, ...checked.row, discrepancies: checked.discrepancies } });
      }
      await appendEvents(trx, countyId, actor, now, events);
      return { status: 201, body: { manifestId, inspections: await loadInspections(trx, countyId, ids) } };
    });
  }

  async correct(principal: Principal, countyId: string, bagId: string, body: { id: string; comment: string } & Omit<InspectionInput, 'bagId' | 'sealNoRead' | 'sealIntact'>): Promise<WriteResult> {
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: body.id, operation: 'bag.correct', content: { bagId, ...body } }, this.now, async (trx) => {
      await lockCountyCustody(trx, countyId);
      const bag = await findBag(trx, countyId, bagId, true);
      if (!bag) throw new AppError('NOT_FOUND', 'No such bag');
      if (!bag.inspection_id) throw new AppError('BAG_NOT_INSPECTED');
      if (bag.state === 'disposed') throw new AppError('BAG_WRONG_STATE', 'A disposed bag can no longer be corrected');
      const prev = await trx('custody_inspections').where({ county_id: countyId, id: bag.inspection_id }).first();
      const tol = await tolerancePct(trx, countyId);
      // The seal was checked at the gate; a correction changes what was weighed, counted or decided.
      const checked = checkInspection(bag, { ...body, bagId, sealNoRead: prev.seal_no_read ?? undefined, sealIntact: prev.seal_intact ?? undefined,
        discrepancies: withCarried(body.discrepancies ?? [], await trx('custody_discrepancies').where({ county_id: countyId, inspection_id: prev.id, type: 'broken_seal' })) }, tol, '/body');
      const now = this.now();
      const actor = actorName(principal);
      const id = await writeInspection(trx, bag, prev.manifest_id, prev.facility_id, checked, actor, now, prev.id);
      await appendEvents(trx, countyId, actor, now, [{ type: 'inspection_corrected', bagId, manifestId: prev.manifest_id, data: { inspectionId: id, supersedesId: prev.id, comment: body.comment, tolerancePct: tol, ...checked.row, discrepancies: checked.discrepancies } }]);
      return { status: 201, body: (await loadInspections(trx, countyId, [id]))[0] };
    });
  }

  async history(countyId: string, bagId: string) {
    const knex = this.deps.db.knex;
    const ids = ((await knex('custody_inspections').where({ county_id: countyId, bag_id: bagId }).orderBy('recorded_at').orderBy('id').select('id')) as Array<{ id: string }>).map((r) => r.id);
    return { bagId, inspections: await loadInspections(knex, countyId, ids) };
  }
}

/** A broken seal found at the gate stays on record through corrections. */
function withCarried(given: Array<{ type: DiscrepancyType; comment: string }>, sealRows: Array<{ comment: string }>) {
  if (sealRows.length === 0 || given.some((d) => d.type === 'broken_seal')) return given;
  return [...given, { type: 'broken_seal' as const, comment: sealRows[0]!.comment }];
}
