// The terminal's bag screen offline: each bag action is one `bag-event` journal record, applied here
// through the same custody services as the single endpoints, under the record's client id (so a retry
// is a duplicate, never a second bag or a second seal). The payload names its action:
//   open  {action, shopId, material}          -> BagService.create (the record id is the bag id)
//   add   {action, bagId, counts?, unitCodes?} -> BagService.addItems
//   seal  {action, bagId, sealNo, shopWeightG?} -> BagService.seal
//   sign  {action, manifestId, handover, side, device} -> ManifestService.sign (signedAt = event time)
import type { AppDeps } from '../../app-deps.js';
import { can, type Principal, type Target } from '../../auth/permissions.js';
import { AppError } from '../../http/errors.js';
import { COUNTY_CODE, dateTime, enumOf, obj, str, uuid, type JsonSchema } from '../../shared/schemas/builders.js';
import { BAG_CREATE, BAG_ITEMS_ADD, BAG_SEAL, SIGNATURE_CREATE } from '../../shared/schemas/custody-schemas.js';
import { countyOf } from '../ledger/county-policy.js';
import type { WriteResult } from '../ledger/idempotency.js';
import { BagService, bagShop } from '../bags/bag-service.js';
import { ManifestService } from '../manifests/manifest-service.js';

export const BAG_EVENT_ACTIONS = ['open', 'add', 'seal', 'sign'] as const;
export type BagEventAction = (typeof BAG_EVENT_ACTIONS)[number];

type Props = { properties: Record<string, JsonSchema>; required?: string[] };
const props = (s: JsonSchema) => (s as Props).properties;
const optionalOf = (s: JsonSchema) => Object.keys(props(s)).filter((k) => !((s as Props).required ?? []).includes(k));

/** The single endpoint's body plus action, countyId (optional: the terminal's county) and eventTime. */
function bodySchema(action: BagEventAction, base: JsonSchema, extra: Record<string, JsonSchema>, skip: string[] = []): JsonSchema {
  const p = Object.fromEntries(Object.entries(props(base)).filter(([k]) => !skip.includes(k)));
  return obj(
    { action: enumOf([action]), countyId: COUNTY_CODE, eventTime: dateTime(), ...p, ...extra },
    ['countyId', ...optionalOf(base).filter((k) => !skip.includes(k))],
  );
}

export const BAG_EVENT_BODIES: Record<BagEventAction, JsonSchema> = {
  open: bodySchema('open', BAG_CREATE, {}),
  add: bodySchema('add', BAG_ITEMS_ADD, { bagId: uuid() }),
  seal: bodySchema('seal', BAG_SEAL, { bagId: uuid() }),
  sign: bodySchema('sign', SIGNATURE_CREATE, { manifestId: uuid() }, ['signedAt']),
};

export function bagEventSchema(body: { action?: unknown }): JsonSchema {
  const a = body.action;
  if (typeof a !== 'string' || !(BAG_EVENT_ACTIONS as readonly string[]).includes(a)) {
    throw new AppError('VALIDATION_FAILED', 'A bag-event payload names its action', [{ field: '/payload/action', code: 'enum', message: `must be one of ${BAG_EVENT_ACTIONS.join(', ')}` }]);
  }
  return BAG_EVENT_BODIES[a as BagEventAction];
}

interface BagEventBody {
  action: BagEventAction;
  id: string;
  eventTime: string;
  countyId?: string;
  shopId?: string;
  material?: string;
  bagId?: string;
  counts?: Array<{ containerTypeId: string; quantity: number }>;
  unitCodes?: string[];
  sealNo?: string;
  shopWeightG?: number;
  manifestId?: string;
  handover?: string;
  side?: 'giver' | 'receiver';
  device?: string;
}

export async function bagEventTarget(deps: AppDeps, p: Principal, body: BagEventBody): Promise<Target> {
  const countyId = countyOf(p, body.countyId);
  if (body.action === 'open') return { countyId, shopId: body.shopId! };
  if (body.action === 'sign') return { countyId }; // the manifest service checks the signer acts for the party
  return { countyId, shopId: await bagShop(deps.db.knex, countyId, body.bagId!) };
}

export async function applyBagEvent(deps: AppDeps, p: Principal, body: BagEventBody): Promise<WriteResult> {
  const countyId = countyOf(p, body.countyId);
  const bags = new BagService(deps);
  switch (body.action) {
    case 'open':
      return bags.create(p, countyId, { id: body.id, shopId: body.shopId!, material: body.material! });
    case 'add':
      return bags.addItems(p, countyId, body.bagId!, {
        id: body.id, ...(body.counts ? { counts: body.counts } : {}), ...(body.unitCodes ? { unitCodes: body.unitCodes } : {}),
      });
    case 'seal':
      return bags.seal(p, countyId, body.bagId!, { id: body.id, sealNo: body.sealNo!, ...(body.shopWeightG !== undefined ? { shopWeightG: body.shopWeightG } : {}) });
    case 'sign':
      if (!can(p, 'custody:sign')) throw new AppError('FORBIDDEN', `Your role (${p.role}) may not do this: it needs custody:sign`);
      return new ManifestService(deps).sign(p, countyId, body.manifestId!, { id: body.id, handover: body.handover!, side: body.side!, device: body.device!, signedAt: body.eventTime });
  }
}
