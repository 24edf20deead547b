// Pickup manifests (DESIGN rule 8, after the USEPA e-Manifest): one per pickup run, with a checkable
// tracking number, bags from one or more shops, transporters in order and a designated facility.
// Custody moves at a hand-over only when giver and receiver have both signed (who-signs-next.ts).
import type { Knex } from 'knex';
import type { AppDeps } from '../../app-deps.js';
import { AppError } from '../../http/errors.js';
import { actorName } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/permissions.js';
import { idempotentWrite, type WriteResult } from '../ledger/idempotency.js';
import { checkEventTime } from '../ledger/county-policy.js';
import { requireRef } from '../reference/entity-rules.js';
import { appendEvents, lockCountyCustody } from '../custody/hash-chain.js';
import { canSeeManifest, visibleManifestIds } from '../custody/custody-access.js';
import { isValidTrackingNumber, makeTrackingNumber, normaliseTrackingNumber } from './tracking-number.js';
import { completedHandovers, handovers, pickupsClosed, whoSignsNext, type ManifestParties, type Party, type Side } from './who-signs-next.js';

interface ManifestRow { county_id: string; id: string; serial: number; tracking_no: string; facility_id: string; status: string; created_at: Date }
interface SignatureRow { id: string; handover: string; side: Side; party_type: string; party_id: string; signer: string; signer_role: string; device: string; signed_at: Date; recorded_at: Date }
interface ManifestBagRow { bag_id: string; shop_id: string; recorded_at: Date; seal_no: string | null; material: string; state: string; declared_quantity: number; expected_weight_g: number }

export interface ManifestState {
  row: ManifestRow;
  transporters: string[];
  bags: ManifestBagRow[];
  signatures: SignatureRow[];
  parties: ManifestParties;
}

export async function loadManifest(knex: Knex, countyId: string, id: string, forUpdate = false): Promise<ManifestState> {
  const q = knex('custody_manifests').where({ county_id: countyId, id });
  if (forUpdate) q.forUpdate();
  const row = (await q.first()) as ManifestRow | undefined;
  if (!row) throw new AppError('NOT_FOUND', 'No such manifest');
  const transporters = ((await knex('custody_manifest_transporters').where({ county_id: countyId, manifest_id: id }).orderBy('seq').select('hauler_id')) as Array<{ hauler_id: string }>).map((t) => t.hauler_id);
  const bags = (await knex('custody_manifest_bags as mb')
    .join('custody_bags as b', function () { this.on('b.county_id', 'mb.county_id').andOn('b.id', 'mb.bag_id'); })
    .where({ 'mb.county_id': countyId, 'mb.manifest_id': id }).orderBy([{ column: 'mb.recorded_at' }, { column: 'mb.bag_id' }])
    .select('mb.bag_id', 'mb.shop_id', 'mb.recorded_at', 'b.seal_no', 'b.material', 'b.state', 'b.declared_quantity', 'b.expected_weight_g')) as ManifestBagRow[];
  const signatures = (await knex('custody_signatures').where({ county_id: countyId, manifest_id: id }).orderBy('recorded_at').orderBy('id')) as SignatureRow[];
  // Pickup order: the order each shop's first bag was put on the manifest.
  const pickupShops: string[] = [];
  for (const b of bags) if (!pickupShops.includes(b.shop_id)) pickupShops.push(b.shop_id);
  return { row, transporters, bags, signatures, parties: { pickupShops, transporters, facilityId: row.facility_id } };
}

export function manifestView(m: ManifestState) {
  const facts = m.signatures.map((s) => ({ handover: s.handover, side: s.side }));
  return {
    id: m.row.id, countyId: m.row.county_id, trackingNo: m.row.tracking_no, status: m.row.status, facilityId: m.row.facility_id,
    transporters: m.transporters.map((h, i) => ({ seq: i + 1, haulerId: h })),
    bags: m.bags.map((b) => ({ bagId: b.bag_id, shopId: b.shop_id, sealNo: b.seal_no, material: b.material, state: b.state, declaredQuantity: b.declared_quantity, expectedWeightG: b.expected_weight_g })),
    signatures: m.signatures.map((s) => ({
      id: s.id, handover: s.handover, side: s.side, party: { type: s.party_type, id: s.party_id }, signer: s.signer, signerRole: s.signer_role,
      device: s.device, signedAt: new Date(s.signed_at).toISOString(), recordedAt: new Date(s.recorded_at).toISOString(),
    })),
    completedHandovers: completedHandovers(m.parties, facts),
    nextSigner: whoSignsNext(m.parties, facts),
    createdAt: new Date(m.row.created_at).toISOString(),
  };
}

/** Whether the principal acts for the party (admins act for anyone). */
export function actsFor(p: Principal, party: Party): boolean {
  if (p.role === 'admin') return true;
  if (party.type === 'shop') return (p.role === 'clerk' || p.role === 'terminal') && p.shopId === party.id;
  if (party.type === 'hauler') return p.role === 'hauler' && p.haulerId === party.id;
  return p.role === 'facility_operator' && p.facilityId === party.id;
}

export class ManifestService {
  constructor(private readonly deps: AppDeps) {}
  private now = () => this.deps.clock.now();

  async create(principal: Principal, countyId: string, body: { id: string; haulerId: string; facilityId: string }): Promise<WriteResult> {
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: body.id, operation: 'manifest.create', content: body }, this.now, async (trx) => {
      await lockCountyCustody(trx, countyId);
      await requireRef(trx, 'haulers', countyId, body.haulerId, 'haulerId');
      await requireRef(trx, 'facilities', countyId, body.facilityId, 'facilityId');
      const last = (await trx('custody_manifests').where({ county_id: countyId }).max('serial as n').first()) as { n: number | null } | undefined;
      const serial = Number(last?.n ?? 0) + 1;
      const trackingNo = makeTrackingNumber(countyId, serial);
      const now = this.now();
      await trx('custody_manifests').insert({ county_id: countyId, id: body.id, serial, tracking_no: trackingNo, facility_id: body.facilityId, status: 'open', created_by: actorName(principal), created_at: now, updated_at: now });
      await trx('custody_manifest_transporters').insert({ county_id: countyId, manifest_id: body.id, seq: 1, hauler_id: body.haulerId, recorded_at: now });
      await appendEvents(trx, countyId, actorName(principal), now, [{ type: 'manifest_created', manifestId: body.id, data: { trackingNo, haulerId: body.haulerId, facilityId: body.facilityId } }]);
      return { status: 201, body: manifestView(await loadManifest(trx, countyId, body.id)) };
    });
  }

  async addBags(principal: Principal, countyId: string, manifestId: string, body: { id: string; bagIds: string[] }): Promise<WriteResult> {
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: body.id, operation: 'manifest.bags', content: { manifestId, ...body } }, this.now, async (trx) => {
      await lockCountyCustody(trx, countyId);
      const m = await loadManifest(trx, countyId, manifestId, true);
      if (pickupsClosed(m.signatures)) throw new AppError('MANIFEST_LOCKED', 'The load has left the pickup stage: no more bags can be added');
      const signedPickups = new Set(m.signatures.filter((s) => s.handover.startsWith('pickup:')).map((s) => s.handover.slice(7)));
      const now = this.now();
      const uniq = [...new Set(body.bagIds)];
      for (const [i, bagId] of uniq.entries()) {
        const field = `/body/bagIds/${i}`;
        const bag = (await trx('custody_bags').where({ county_id: countyId, id: bagId }).forUpdate().first()) as { shop_id: string; state: string; manifest_id: string | null } | undefined;
        if (!bag) throw new AppError('REFERENCE_NOT_FOUND', 'No such bag', [{ field, code: 'not_found', message: `no bag ${bagId}` }]);
        if (bag.manifest_id) throw new AppError('BAG_ALREADY_ON_MANIFEST', undefined, [{ field, code: 'on_manifest', message: `bag ${bagId} is on manifest ${bag.manifest_id}` }]);
        if (bag.state !== 'sealed') throw new AppError('BAG_WRONG_STATE', 'Only sealed bags can be picked up', [{ field, code: 'not_sealed', message: `bag ${bagId} is ${bag.state}` }]);
        if (signedPickups.has(bag.shop_id)) throw new AppError('MANIFEST_LOCKED', 'The pickup at this shop has already been signed; put further bags on a new manifest', [{ field, code: 'pickup_signed', message: `shop ${bag.shop_id}` }]);
        await trx('custody_manifest_bags').insert({ county_id: countyId, bag_id: bagId, manifest_id: manifestId, shop_id: bag.shop_id, recorded_at: now });
        await trx('custody_bags').where({ county_id: countyId, id: bagId }).update({ manifest_id: manifestId, updated_at: now });
      }
      await appendEvents(trx, countyId, actorName(principal), now, [{ type: 'manifest_bags_added', manifestId, data: { bagIds: uniq } }]);
      return { status: 200, body: manifestView(await loadManifest(trx, countyId, manifestId)) };
    });
  }

  async addTransporter(principal: Principal, countyId: string, manifestId: string, body: { id: string; haulerId: string }): Promise<WriteResult> {
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: body.id, operation: 'manifest.transporter', content: { manifestId, ...body } }, this.now, async (trx) => {
      await lockCountyCustody(trx, countyId);
      const m = await loadManifest(trx, countyId, manifestId, true);
      if (m.signatures.some((s) => s.handover === 'delivery')) throw new AppError('MANIFEST_LOCKED', 'The delivery hand-over has begun: no more transporters');
      await requireRef(trx, 'haulers', countyId, body.haulerId, 'haulerId');
      const now = this.now();
      const seq = m.transporters.length + 1;
      await trx('custody_manifest_transporters').insert({ county_id: countyId, manifest_id: manifestId, seq, hauler_id: body.haulerId, recorded_at: now });
      await appendEvents(trx, countyId, actorName(principal), now, [{ type: 'transporter_added', manifestId, data: { seq, haulerId: body.haulerId } }]);
      return { status: 200, body: manifestView(await loadManifest(trx, countyId, manifestId)) };
    });
  }

  async sign(principal: Principal, countyId: string, manifestId: string, body: { id: string; handover: string; side: Side; device: string; signedAt?: string }): Promise<WriteResult> {
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: body.id, operation: 'manifest.sign', content: { manifestId, ...body } }, this.now, async (trx) => {
      await lockCountyCustody(trx, countyId);
      const m = await loadManifest(trx, countyId, manifestId, true);
      const next = whoSignsNext(m.parties, m.signatures);
      if (next.status !== 'sign' || next.handover !== body.handover || next.side !== body.side) {
        throw new AppError('SIGNATURE_OUT_OF_ORDER', undefined, [{ field: '/body/handover', code: 'out_of_order', message: next.status === 'sign' ? `next is ${next.side} of ${next.handover} (${next.party.type} ${next.party.id})` : `nothing to sign: ${next.status}`, expected: next }]);
      }
      if (!actsFor(principal, next.party)) throw new AppError('SIGNER_NOT_PARTY', `The ${next.side} of ${next.handover} signs for ${next.party.type} ${next.party.id}`);
      const now = this.now();
      const signedAt = body.signedAt ? new Date(body.signedAt) : now;
      checkEventTime(signedAt, now);
      const actor = actorName(principal);
      await trx('custody_signatures').insert({
        county_id: countyId, id: body.id, manifest_id: manifestId, handover: body.handover, side: body.side, party_type: next.party.type, party_id: next.party.id,
        signer: actor, signer_role: principal.role, device: body.device, signed_at: signedAt, recorded_at: now,
      });
      const events: Parameters<typeof appendEvents>[4] = [{
        type: 'signature_recorded', manifestId,
        data: { signatureId: body.id, handover: body.handover, side: body.side, onBehalfOf: next.party, signerRole: principal.role, device: body.device, signedAt: signedAt.toISOString() },
      }];
      if (body.side === 'receiver') events.push(await this.passCustody(trx, m, body.handover, now));
      await appendEvents(trx, countyId, actor, now, events);
      return { status: 201, body: manifestView(await loadManifest(trx, countyId, manifestId)) };
    });
  }

  /** Both sides have signed: the bags of the hand-over change hands. */
  private async passCustody(trx: Knex.Transaction, m: ManifestState, handover: string, now: Date) {
    const h = handovers(m.parties).find((x) => x.handover === handover)!;
    const countyId = m.row.county_id;
    const bagIds = (handover.startsWith('pickup:') ? m.bags.filter((b) => b.shop_id === h.giver.id) : m.bags.filter((b) => b.state === 'picked_up')).map((b) => b.bag_id);
    const bagUpdate: Record<string, unknown> = { holder_type: h.receiver.type, holder_id: h.receiver.id, updated_at: now };
    if (handover.startsWith('pickup:')) bagUpdate.state = 'picked_up';
    if (handover === 'delivery') bagUpdate.state = 'received';
    if (bagIds.length) await trx('custody_bags').where({ county_id: countyId }).whereIn('id', bagIds).update(bagUpdate);
    const status = handover === 'delivery' ? 'delivered' : 'in_transit';
    await trx('custody_manifests').where({ county_id: countyId, id: m.row.id }).update({ status, updated_at: now });
    return { type: 'custody_passed' as const, manifestId: m.row.id, data: { handover, from: h.giver, to: h.receiver, bagIds } };
  }

  async list(principal: Principal, countyId: string, query: { status?: string; trackingNo?: string; limit?: number; cursor?: string }) {
    const knex = this.deps.db.knex;
    const limit = query.limit ?? 50;
    const q = knex('custody_manifests').where({ county_id: countyId });
    const visible = visibleManifestIds(knex, principal, countyId);
    if (visible) q.whereIn('id', visible);
    if (query.trackingNo !== undefined) {
      const t = normaliseTrackingNumber(query.trackingNo);
      if (!isValidTrackingNumber(t)) throw new AppError('INVALID_TRACKING_NUMBER', undefined, [{ field: '/query/trackingNo', code: 'check_digits', message: `${query.trackingNo} fails the check` }]);
      q.where({ tracking_no: t });
    }
    if (query.status) q.where({ status: query.status });
    if (query.cursor) q.where('id', '>', query.cursor);
    const rows = (await q.orderBy('id').limit(limit + 1).select('id')) as Array<{ id: string }>;
    const more = rows.length > limit;
    const items = [];
    for (const r of rows.slice(0, limit)) items.push(manifestView(await loadManifest(knex, countyId, r.id)));
    return { items, nextCursor: more ? items[items.length - 1]!.id : null };
  }

  async get(principal: Principal, countyId: string, manifestId: string) {
    const knex = this.deps.db.knex;
    const m = await loadManifest(knex, countyId, manifestId);
    if (!(await canSeeManifest(knex, principal, countyId, manifestId))) throw new AppError('OUT_OF_SCOPE', 'This manifest is not one of yours');
    return manifestView(m);
  }
}
