// Collection bags (DESIGN rule 8): a shop fills a bag of one material with returned containers —
// counts per container type and scanned unit codes — and seals it with a numbered seal. What goes
// in is bounded by what the shop accepted on return; a sealed bag never changes again.
import type { Knex } from 'knex';
import type { AppDeps } from '../../app-deps.js';
import { AppError, type ErrorDetail } from '../../http/errors.js';
import { actorName } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/permissions.js';
import { extractUnitCode } from '../../shared/unit-code.js';
import { idempotentWrite, type WriteResult } from '../ledger/idempotency.js';
import { requireRef } from '../reference/entity-rules.js';
import { appendEvents, lockCountyCustody } from '../custody/hash-chain.js';
import { restrictBags } from '../custody/custody-access.js';
import { baggedAtShop, bagItems, findBag, returnedAtShop, returnedUnit, type BagItemRow, type BagRow } from './bag-store.js';

export function bagView(b: BagRow, items: BagItemRow[]) {
  return {
    id: b.id, countyId: b.county_id, shopId: b.shop_id, material: b.material, state: b.state, sealNo: b.seal_no,
    declaredQuantity: b.declared_quantity, expectedWeightG: b.expected_weight_g, shopWeightG: b.shop_weight_g,
    holder: { type: b.holder_type, id: b.holder_id }, manifestId: b.manifest_id,
    measuredWeightG: b.measured_weight_g, countedQuantity: b.counted_quantity, rejectedQuantity: b.rejected_quantity,
    disposalId: b.disposal_id, createdAt: new Date(b.created_at).toISOString(), sealedAt: b.sealed_at ? new Date(b.sealed_at).toISOString() : null,
    items: items.map((i) => ({ itemNo: i.item_no, containerTypeId: i.container_type_id, containerTypeCode: i.code, unitCode: i.unit_code, quantity: i.quantity, tareWeightG: i.tare_weight_g })),
  };
}

export async function loadBagView(knex: Knex, countyId: string, id: string) {
  const b = await findBag(knex, countyId, id);
  if (!b) throw new AppError('NOT_FOUND', 'No such bag');
  return bagView(b, (await bagItems(knex, countyId, [id])).get(id) ?? []);
}

interface ItemsInput { id: string; counts?: Array<{ containerTypeId: string; quantity: number }>; unitCodes?: string[] }

export class BagService {
  constructor(private readonly deps: AppDeps) {}
  private now = () => this.deps.clock.now();

  async create(principal: Principal, countyId: string, body: { id: string; shopId: string; material: string }): Promise<WriteResult> {
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: body.id, operation: 'bag.create', content: body }, this.now, async (trx) => {
      await lockCountyCustody(trx, countyId);
      await requireRef(trx, 'shops', countyId, body.shopId, 'shopId');
      const now = this.now();
      await trx('custody_bags').insert({
        county_id: countyId, id: body.id, shop_id: body.shopId, material: body.material, state: 'open', holder_type: 'shop', holder_id: body.shopId,
        created_by: actorName(principal), created_at: now, updated_at: now,
      });
      await appendEvents(trx, countyId, actorName(principal), now, [{ type: 'bag_opened', bagId: body.id, data: { shopId: body.shopId, material: body.material } }]);
      return { status: 201, body: await loadBagView(trx, countyId, body.id) };
    });
  }

  async addItems(principal: Principal, countyId: string, bagId: string, body: ItemsInput): Promise<WriteResult> {
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: body.id, operation: 'bag.items', content: { bagId, ...body } }, this.now, async (trx) => {
      await lockCountyCustody(trx, countyId);
      const bag = await this.openBag(trx, countyId, bagId);
      const types = new Map<string, { material: string; tare_weight_g: number }>();
      const loadType = async (id: string, field: string) => {
        if (!types.has(id)) {
          const row = await requireRef(trx, 'container_types', countyId, id, field);
          types.set(id, { material: row.material as string, tare_weight_g: row.tare_weight_g as number });
        }
        return types.get(id)!;
      };
      const lines: Array<{ containerTypeId: string; unitCode: string | null; quantity: number }> = [];
      const details: ErrorDetail[] = [];
      for (const [i, c] of (body.counts ?? []).entries()) {
        const t = await loadType(c.containerTypeId, `counts/${i}/containerTypeId`);
        if (t.material !== bag.material) details.push({ field: `/body/counts/${i}/containerTypeId`, code: 'material', message: `container type is ${t.material}, the bag holds ${bag.material}` });
        lines.push({ containerTypeId: c.containerTypeId, unitCode: null, quantity: c.quantity });
      }
      if (details.length) throw new AppError('BAG_MATERIAL_MISMATCH', undefined, details);
      const seen = new Set<string>();
      for (const [i, scan] of (body.unitCodes ?? []).entries()) {
        const field = `/body/unitCodes/${i}`;
        const x = extractUnitCode(scan);
        if (!x.ok) throw new AppError('UNIT_CODE_INVALID', x.detail, [{ field, code: x.reason, message: x.detail }]);
        if (seen.has(x.code)) throw new AppError('UNIT_CODE_DUPLICATE', undefined, [{ field, code: 'duplicate', message: `unit code ${x.code} appears twice` }]);
        seen.add(x.code);
        const ret = await returnedUnit(trx, countyId, bag.shop_id, x.code);
        if (!ret) throw new AppError('UNIT_CODE_NOT_RETURNED_HERE', undefined, [{ field, code: 'not_returned', message: `unit code ${x.code} was not accepted on return at this shop` }]);
        const dup = await trx('custody_bag_items').where({ county_id: countyId, unit_code: x.code }).first('bag_id');
        if (dup) throw new AppError('UNIT_CODE_ALREADY_BAGGED', undefined, [{ field, code: 'bagged', message: `unit code ${x.code} is in bag ${dup.bag_id}`, bagId: dup.bag_id }]);
        const t = await loadType(ret.container_type_id, `unitCodes/${i}`);
        if (t.material !== bag.material) throw new AppError('BAG_MATERIAL_MISMATCH', undefined, [{ field, code: 'material', message: `the container is ${t.material}, the bag holds ${bag.material}` }]);
        lines.push({ containerTypeId: ret.container_type_id, unitCode: x.code, quantity: 1 });
      }
      // Never more in bags than the shop accepted on return, per container type.
      const ctIds = [...new Set(lines.map((l) => l.containerTypeId))];
      const returned = await returnedAtShop(trx, countyId, bag.shop_id, ctIds);
      const bagged = await baggedAtShop(trx, countyId, bag.shop_id, ctIds);
      for (const ct of ctIds) {
        const adding = lines.filter((l) => l.containerTypeId === ct).reduce((s, l) => s + l.quantity, 0);
        const r = returned.get(ct) ?? 0;
        const already = bagged.get(ct) ?? 0;
        if (already + adding > r) {
          details.push({ field: '/body', code: 'exceeds_returned', message: `container type ${ct}: ${r} accepted on return at this shop, ${already} already bagged, ${adding} more asked`, containerTypeId: ct, returned: r, bagged: already, adding });
        }
      }
      if (details.length) throw new AppError('BAG_EXCEEDS_RETURNED', undefined, details);

      const last = (await trx('custody_bag_items').where({ county_id: countyId, bag_id: bagId }).max('item_no as n').first()) as { n: number | null } | undefined;
      let itemNo = Number(last?.n ?? 0);
      const now = this.now();
      const rows = lines.map((l) => ({
        county_id: countyId, bag_id: bagId, item_no: ++itemNo, container_type_id: l.containerTypeId, unit_code: l.unitCode,
        quantity: l.quantity, tare_weight_g: types.get(l.containerTypeId)!.tare_weight_g, recorded_at: now,
      }));
      if (rows.length) await trx('custody_bag_items').insert(rows);
      const addQty = rows.reduce((s, r) => s + r.quantity, 0);
      const addG = rows.reduce((s, r) => s + r.quantity * r.tare_weight_g, 0);
      await trx('custody_bags').where({ county_id: countyId, id: bagId }).update({
        declared_quantity: bag.declared_quantity + addQty, expected_weight_g: bag.expected_weight_g + addG, updated_at: now,
      });
      await appendEvents(trx, countyId, actorName(principal), now, [{
        type: 'bag_items_added', bagId,
        data: { requestId: body.id, items: rows.map((r) => ({ itemNo: r.item_no, containerTypeId: r.container_type_id, unitCode: r.unit_code, quantity: r.quantity, tareWeightG: r.tare_weight_g })) },
      }]);
      return { status: 200, body: await loadBagView(trx, countyId, bagId) };
    });
  }

  async seal(principal: Principal, countyId: string, bagId: string, body: { id: string; sealNo: string; shopWeightG?: number }): Promise<WriteResult> {
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: body.id, operation: 'bag.seal', content: { bagId, ...body } }, this.now, async (trx) => {
      await lockCountyCustody(trx, countyId);
      const bag = await this.openBag(trx, countyId, bagId);
      if (bag.declared_quantity === 0) throw new AppError('BAG_EMPTY');
      const clash = await trx('custody_bags').where({ county_id: countyId, seal_no: body.sealNo }).first('id');
      if (clash) throw new AppError('SEAL_NO_DUPLICATE', undefined, [{ field: '/body/sealNo', code: 'duplicate', message: `seal ${body.sealNo} is on bag ${clash.id}` }]);
      const now = this.now();
      await trx('custody_bags').where({ county_id: countyId, id: bagId }).update({ state: 'sealed', seal_no: body.sealNo, shop_weight_g: body.shopWeightG ?? null, sealed_at: now, updated_at: now });
      await appendEvents(trx, countyId, actorName(principal), now, [{
        type: 'bag_sealed', bagId,
        data: { sealNo: body.sealNo, shopWeightG: body.shopWeightG ?? null, declaredQuantity: bag.declared_quantity, expectedWeightG: bag.expected_weight_g },
      }]);
      return { status: 200, body: await loadBagView(trx, countyId, bagId) };
    });
  }

  async list(principal: Principal, countyId: string, query: { shopId?: string; state?: string; material?: string; limit?: number; cursor?: string }) {
    const knex = this.deps.db.knex;
    const limit = query.limit ?? 50;
    let q = knex('custody_bags as b').where('b.county_id', countyId);
    q = restrictBags(knex, q, principal, countyId);
    if (query.shopId) q.where('b.shop_id', query.shopId);
    if (query.state) q.where('b.state', query.state);
    if (query.material) q.where('b.material', query.material);
    if (query.cursor) q.where('b.id', '>', query.cursor);
    const rows = (await q.orderBy('b.id').limit(limit + 1).select('b.*')) as BagRow[];
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    const items = await bagItems(knex, countyId, page.map((b) => b.id));
    return { items: page.map((b) => bagView(b, items.get(b.id) ?? [])), nextCursor: more ? page[page.length - 1]!.id : null };
  }

  async get(principal: Principal, countyId: string, bagId: string) {
    const knex = this.deps.db.knex;
    const visible = await restrictBags(knex, knex('custody_bags as b').where({ 'b.county_id': countyId, 'b.id': bagId }), principal, countyId).first('b.id');
    if (!visible) {
      if (await findBag(knex, countyId, bagId)) throw new AppError('OUT_OF_SCOPE', 'This bag is not one of yours');
      throw new AppError('NOT_FOUND', 'No such bag');
    }
    const view = await loadBagView(knex, countyId, bagId);
    const events = await knex('custody_events').where({ county_id: countyId, bag_id: bagId }).orderBy('seq').select('seq', 'type', 'content', 'hash');
    return { ...view, events: events.map((e: { seq: number; type: string; content: { actor: string; recordedAt: string; data: unknown }; hash: string }) => ({ seq: Number(e.seq), type: e.type, actor: e.content.actor, recordedAt: e.content.recordedAt, data: e.content.data, hash: e.hash })) };
  }

  private async openBag(trx: Knex.Transaction, countyId: string, bagId: string): Promise<BagRow> {
    const bag = await findBag(trx, countyId, bagId, true);
    if (!bag) throw new AppError('NOT_FOUND', 'No such bag');
    if (bag.state !== 'open') throw new AppError('BAG_SEALED', `Bag ${bag.seal_no ?? bagId} is ${bag.state}: its contents and seal can no longer change`);
    return bag;
  }
}

/** The shop a bag belongs to, for the router's scope check. */
export async function bagShop(knex: Knex, countyId: string, bagId: string): Promise<string> {
  const bag = await findBag(knex, countyId, bagId);
  if (!bag) throw new AppError('NOT_FOUND', 'No such bag');
  return bag.shop_id;
}
