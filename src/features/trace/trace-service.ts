// One container's life (全程追溯, issue 16): the product, the sale, the return(s), the bag, the
// manifest and its transporters in order, receiving, the facility and the disposal certificate —
// each custody step with its hash-chained event and whether that event's link verifies. Read with
// one statement (trace-store.ts); purchaser data masked by role, and every unmasked or masked read
// of it by an inspector or official written to the access log.
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { archivedYearOfUnit } from '../archive/archive-store.js';
import { yearArchived } from '../archive/archive-service.js';
import { seesFarmerIdentity, type Principal } from '../../auth/permissions.js';
import { extractUnitCode } from '../../shared/unit-code.js';
import { maskName, maskPhone } from '../../shared/phone.js';
import { eventHash, GENESIS_HASH, type ChainBreak, type EventContent } from '../custody/hash-chain.js';
import { traceRow, type TraceRow } from './trace-store.js';

export type UnitStatus = 'unknown' | 'sold' | 'returned' | 'in_transit' | 'at_facility' | 'disposed' | 'rejected';

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** The unit code in a scan (bare or a trace URL), or 422 UNIT_CODE_INVALID. */
export function unitCodeOf(scan: string): string {
  const x = extractUnitCode(scan);
  if (!x.ok) throw new AppError('UNIT_CODE_INVALID', undefined, [{ field: '/params/unitCode', code: x.reason, message: x.detail }]);
  return x.code;
}

export interface LinkCheck { verified: boolean; reason: ChainBreak['reason'] | null; message: string | null }

/**
 * Whether one stored custody event is a sound link of its county's chain: its columns are what was
 * hashed, its content still hashes to its stored hash, and it points at the stored hash of the event
 * before it (the genesis hash for the first).
 */
export function checkLink(e: { seq: number; id: string; type: string; bag_id: string | null; manifest_id: string | null; content: EventContent; prev_hash: string; hash: string; before_hash: string | null }, countyId: string): LinkCheck {
  const c = e.content;
  const seq = Number(e.seq);
  if (c.seq !== seq || c.id !== e.id || c.type !== e.type || c.countyId !== countyId || c.bagId !== e.bag_id || c.manifestId !== e.manifest_id) {
    return { verified: false, reason: 'column_mismatch', message: `event ${seq}: its columns differ from its hashed content` };
  }
  if (eventHash(c, e.prev_hash) !== e.hash) {
    return { verified: false, reason: 'hash_mismatch', message: `event ${seq} (${e.type}) was changed after it was recorded: its content no longer hashes to its stored hash` };
  }
  const expectedPrev = seq === 1 ? GENESIS_HASH : e.before_hash;
  if (expectedPrev === null) return { verified: false, reason: 'seq_gap', message: `event ${seq - 1}, which event ${seq} follows, is missing` };
  if (e.prev_hash !== expectedPrev) {
    return { verified: false, reason: 'prev_hash_mismatch', message: `event ${seq} points at ${e.prev_hash.slice(0, 12)}…, but event ${seq - 1} hashes to ${expectedPrev.slice(0, 12)}…` };
  }
  return { verified: true, reason: null, message: null };
}

const STEP_OF: Record<string, 'bag' | 'manifest' | 'receiving' | 'disposal'> = {
  bag_opened: 'bag', bag_items_added: 'bag', bag_sealed: 'bag',
  manifest_created: 'manifest', manifest_bags_added: 'manifest', transporter_added: 'manifest', signature_recorded: 'manifest', custody_passed: 'manifest',
  bag_inspected: 'receiving', inspection_corrected: 'receiving', bags_disposed: 'disposal',
};

export function unitStatus(row: Pick<TraceRow, 'sale' | 'returns' | 'bag' | 'disposal'>): UnitStatus {
  if (row.disposal) return 'disposed';
  const bag = row.bag;
  if (bag) {
    if (bag.state === 'rejected') return 'rejected';
    if (bag.state === 'received') return 'at_facility';
    if (bag.state === 'picked_up') return 'in_transit';
    return 'returned';
  }
  const accepted = (row.returns ?? []).some((r) => r.outcome !== 'rejected' && !r.reversed);
  if (accepted) return 'returned';
  if (row.sale && row.sale.state !== 'voided' && !row.sale.reversed) return 'sold';
  return 'unknown';
}

/** The trace as the API answers it. `purchaser` is filled only for callers allowed to see personal data (masked for officials). */
export function shapeTrace(countyId: string, unitCode: string, row: TraceRow, principal: Principal | null) {
  const s = row.sale;
  const clear = principal !== null && seesFarmerIdentity(principal);
  const events = (row.events ?? []).map((e) => {
    const link = checkLink(e as never, countyId);
    return { seq: Number(e.seq), eventId: e.id as string, type: e.type as string, step: STEP_OF[e.type as string] ?? 'bag', recordedAt: iso(e.recorded_at) as string, actor: (e.content as EventContent).actor, hash: e.hash as string, link };
  });
  const stepEvents = (step: string) => events.filter((e) => e.step === step).map((e) => e.seq);
  const ins = row.inspection;
  const d = row.disposal;
  const m = row.manifest;
  return {
    countyId, unitCode,
    status: unitStatus(row),
    product: row.product ? {
      productId: row.product.id, name: row.product.name, registrationNo: row.product.registration_no, manufacturer: row.product.manufacturer,
      gtin: row.product.gtin ?? null, containerType: row.product.container_type, material: row.product.material,
    } : null,
    sale: s ? {
      saleId: s.sale_id, lineNo: s.line_no, saleNo: `XS${countyId}-${String(s.sale_no).padStart(8, '0')}`, receiptNo: s.receipt_no ?? null,
      shop: { shopId: s.shop_id, name: s.shop_name, licenceNo: s.shop_licence_no },
      eventTime: iso(s.event_time), recordedAt: iso(s.recorded_at), businessDay: s.business_day,
      depositFen: Number(s.deposit_fen), unitState: s.state, reversed: s.reversed,
      purchaser: principal === null ? null : clear
        ? { farmerId: s.farmer_id, name: s.farmer_name, phone: s.farmer_phone, masked: false }
        : { farmerId: s.farmer_id, name: maskName(s.farmer_name), phone: maskPhone(s.farmer_phone), masked: true },
    } : null,
    returns: (row.returns ?? []).map((r) => ({
      returnId: r.return_id, itemNo: r.item_no, returnNo: `HS${countyId}-${String(r.return_no).padStart(8, '0')}`,
      shop: { shopId: r.shop_id, name: r.shop_name, licenceNo: r.shop_licence_no },
      eventTime: iso(r.event_time), recordedAt: iso(r.recorded_at), businessDay: r.business_day,
      inspection: r.inspection, outcome: r.outcome, reasonCode: r.reason_code ?? null, refundFen: Number(r.refund_fen),
      likelyCounterfeit: r.likely_counterfeit === true, reversed: r.reversed,
      refund: r.refund_method ? { method: r.refund_method, reference: r.refund_reference ?? null, paidAt: iso(r.refund_paid_at), returnTotalFen: Number(r.refund_total_fen) } : null,
      held: r.held_id ? {
        heldRefundId: r.held_id, state: r.held_state, reason: r.held_reason, amountFen: Number(r.held_amount_fen),
        decision: r.held_decision ? { decision: r.held_decision, reason: r.held_decision_reason ?? null, decidedAt: iso(r.held_decided_at) } : null,
        payout: r.held_payout_method ? { method: r.held_payout_method, amountFen: Number(r.held_payout_fen), paidAt: iso(r.held_paid_at) } : null,
      } : null,
    })),
    bag: row.bag ? {
      bagId: row.bag.id, shopId: row.bag.shop_id, material: row.bag.material, state: row.bag.state, sealNo: row.bag.seal_no ?? null,
      declaredQuantity: Number(row.bag.declared_quantity), expectedWeightG: Number(row.bag.expected_weight_g), shopWeightG: num(row.bag.shop_weight_g),
      openedAt: iso(row.bag.created_at), addedAt: iso(row.bag.item_recorded_at), sealedAt: iso(row.bag.sealed_at),
      holder: { type: row.bag.holder_type, id: row.bag.holder_id },
      custodyEvents: stepEvents('bag'),
    } : null,
    manifest: m ? {
      manifestId: m.id, trackingNo: m.tracking_no, status: m.status, createdAt: iso(m.created_at),
      transporters: (row.transporters ?? []).map((t) => ({ seq: Number(t.seq), haulerId: t.hauler_id, name: t.name, licenceNo: t.licence_no, addedAt: iso(t.recorded_at) })),
      custodyEvents: stepEvents('manifest'),
    } : null,
    receiving: ins ? {
      inspectionId: ins.id, outcome: ins.outcome, measuredWeightG: num(ins.measured_weight_g), countedQuantity: num(ins.counted_quantity),
      rejectedQuantity: Number(ins.rejected_quantity), sealIntact: ins.seal_intact ?? null, sealNoRead: ins.seal_no_read ?? null,
      corrected: ins.supersedes_id !== null, recordedAt: iso(ins.recorded_at),
      discrepancies: (row.discrepancies ?? []).map((x) => ({ type: x.type, expectedValue: num(x.expected_value), actualValue: num(x.actual_value), comment: x.comment })),
      custodyEvents: stepEvents('receiving'),
    } : null,
    facility: m ? { facilityId: m.facility_id, name: m.facility_name, licenceNo: m.facility_licence_no, kind: m.facility_kind } : null,
    disposal: d ? {
      disposalId: d.id, method: d.method, certificateNo: d.certificate_no, disposedOn: d.disposed_on, facilityLicenceNo: d.facility_licence_no,
      disposalFacility: d.disposal_facility_id ? { facilityId: d.disposal_facility_id, name: d.disposal_facility_name } : null,
      recordedAt: iso(d.recorded_at), custodyEvents: stepEvents('disposal'),
    } : null,
    custody: events,
    chainLinksOk: events.every((e) => e.link.verified),
  };
}

export type UnitTrace = ReturnType<typeof shapeTrace>;

/** The answer for a code nobody live holds: 410 YEAR_ARCHIVED when an archived year holds it (how to restore it in details), else 404. */
async function archivedOrNotFound(knex: Knex, countyId: string, code: string): Promise<AppError> {
  const year = await archivedYearOfUnit(knex, countyId, code);
  return year === null ? new AppError('NOT_FOUND', `No sale, return or bag of county ${countyId} holds unit code ${code}`) : yearArchived(countyId, year, `unit code ${code}`);
}

export async function traceUnit(knex: Knex, countyId: string, scan: string, principal: Principal | null): Promise<UnitTrace> {
  const code = unitCodeOf(scan);
  const row = await traceRow(knex, countyId, code);
  if (!row.sale && !row.returns && !row.bag) throw await archivedOrNotFound(knex, countyId, code);
  if (!row.sale && !row.returns) {
    // Only the bag is live: the unit's sale and returns may have gone into an archived year.
    const year = await archivedYearOfUnit(knex, countyId, code);
    if (year !== null) throw yearArchived(countyId, year, `unit code ${code}`);
  }
  return shapeTrace(countyId, code, row, principal);
}
