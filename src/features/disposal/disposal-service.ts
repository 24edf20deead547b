// Disposal (DESIGN rule 8): recycling, incineration or landfill by a licensed facility, evidenced by
// a certificate number; it closes the bags it covers. Only inspected, accepted bags held by one
// facility go into one disposal; a manifest closes when none of its bags is still open.
import type { AppDeps } from '../../app-deps.js';
import { AppError } from '../../http/errors.js';
import { actorName } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/permissions.js';
import { idempotentWrite, type WriteResult } from '../ledger/idempotency.js';
import { requireRef } from '../reference/entity-rules.js';
import { appendEvents, lockCountyCustody } from '../custody/hash-chain.js';
import type { BagRow } from '../bags/bag-store.js';
import { businessDay, DEFAULT_TIME_ZONE } from '../../shared/business-day.js';

export interface DisposalInput {
  id: string; bagIds: string[]; method: 'recycling' | 'incineration' | 'landfill'; disposalFacilityId?: string;
  facilityLicenceNo: string; certificateNo: string; disposedOn: string;
}

export class DisposalService {
  constructor(private readonly deps: AppDeps) {}
  private now = () => this.deps.clock.now();

  async record(principal: Principal, countyId: string, body: DisposalInput): Promise<WriteResult> {
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: body.id, operation: 'disposal.create', content: body }, this.now, async (trx) => {
      await lockCountyCustody(trx, countyId);
      const now = this.now();
      const county = await trx('counties').where({ id: countyId }).first('timezone');
      const today = businessDay(now, county?.timezone ?? DEFAULT_TIME_ZONE);
      if (body.disposedOn > today) {
        throw new AppError('EVENT_TIME_IN_FUTURE', undefined, [{ field: '/body/disposedOn', code: 'future', message: `${body.disposedOn} is after the county's today (${today})` }]);
      }
      const licence = body.facilityLicenceNo.trim();
      if (body.disposalFacilityId) {
        const f = await requireRef(trx, 'facilities', countyId, body.disposalFacilityId, 'disposalFacilityId');
        if (f.licence_no !== licence) throw new AppError('DISPOSAL_LICENCE_MISMATCH', undefined, [{ field: '/body/facilityLicenceNo', code: 'mismatch', message: `the facility's licence is ${String(f.licence_no)}` }]);
      }
      const dup = await trx('custody_disposals').where({ county_id: countyId, certificate_no: body.certificateNo.trim() }).first('id');
      if (dup) throw new AppError('CERTIFICATE_DUPLICATE', undefined, [{ field: '/body/certificateNo', code: 'duplicate', message: `disposal ${dup.id}` }]);
      const bagIds = [...new Set(body.bagIds)];
      const bags = (await trx('custody_bags').where({ county_id: countyId }).whereIn('id', bagIds).orderBy('id').forUpdate()) as BagRow[];
      if (bags.length !== bagIds.length) {
        const found = new Set(bags.map((b) => b.id));
        throw new AppError('REFERENCE_NOT_FOUND', 'No such bag', bagIds.filter((id) => !found.has(id)).map((id) => ({ field: '/body/bagIds', code: 'not_found', message: `no bag ${id}` })));
      }
      for (const b of bags) {
        if (!b.inspection_id) throw new AppError('BAG_NOT_INSPECTED', undefined, [{ field: '/body/bagIds', code: 'not_inspected', message: `bag ${b.seal_no ?? b.id} is ${b.state} and not inspected` }]);
        if (b.state !== 'received') throw new AppError('BAG_WRONG_STATE', 'Only received, accepted bags can be disposed of', [{ field: '/body/bagIds', code: b.state, message: `bag ${b.seal_no ?? b.id} is ${b.state}` }]);
      }
      const holders = new Set(bags.map((b) => `${b.holder_type}:${b.holder_id}`));
      if (holders.size !== 1 || bags[0]!.holder_type !== 'facility') throw new AppError('BAGS_NOT_AT_ONE_FACILITY');
      const holderFacilityId = bags[0]!.holder_id;
      await trx('custody_disposals').insert({
        county_id: countyId, id: body.id, holder_facility_id: holderFacilityId, disposal_facility_id: body.disposalFacilityId ?? null, method: body.method,
        facility_licence_no: licence, certificate_no: body.certificateNo.trim(), disposed_on: body.disposedOn, actor: actorName(principal), recorded_at: now,
      });
      await trx('custody_disposal_bags').insert(bags.map((b) => ({ county_id: countyId, bag_id: b.id, disposal_id: body.id })));
      await trx('custody_bags').where({ county_id: countyId }).whereIn('id', bagIds).update({ state: 'disposed', disposal_id: body.id, updated_at: now });
      // A manifest closes when every bag on it has reached an end state.
      const manifestIds = [...new Set(bags.map((b) => b.manifest_id).filter((x): x is string => x !== null))];
      for (const mid of manifestIds) {
        const open = await trx('custody_bags').where({ county_id: countyId, manifest_id: mid }).whereNotIn('state', ['disposed', 'rejected', 'missing']).first('id');
        if (!open) await trx('custody_manifests').where({ county_id: countyId, id: mid }).update({ status: 'closed', updated_at: now });
      }
      await appendEvents(trx, countyId, actorName(principal), now, [{
        type: 'bags_disposed',
        data: { disposalId: body.id, bagIds: bags.map((b) => b.id), method: body.method, holderFacilityId, disposalFacilityId: body.disposalFacilityId ?? null, facilityLicenceNo: licence, certificateNo: body.certificateNo.trim(), disposedOn: body.disposedOn },
      }]);
      return { status: 201, body: {
        id: body.id, countyId, holderFacilityId, disposalFacilityId: body.disposalFacilityId ?? null, method: body.method, facilityLicenceNo: licence,
        certificateNo: body.certificateNo.trim(), disposedOn: body.disposedOn, bagIds: bags.map((b) => b.id), recordedAt: now.toISOString(),
      } };
    });
  }
}
