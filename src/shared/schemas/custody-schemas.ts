// Request and response shapes of the chain of custody (bags, manifests, signatures, receiving,
// disposal). Shared by the county server and the shop terminals' bag screens.
import { CLIENT_ID_PATTERN } from '../client-id.js';
import { arr, bool, date, dateTime, enumOf, int, nullable, obj, str, text, uuid } from './builders.js';

export const CUSTODY_CLIENT_ID = str({ pattern: CLIENT_ID_PATTERN, description: 'A UUID made by the client before sending (any RFC 9562 version; v7 preferred, v4 accepted); the idempotency key' });
export const MATERIALS = ['HDPE', 'PET', 'COEX', 'PP', 'glass', 'aluminium', 'plastic_bag', 'paper_bag', 'composite_bag'] as const;
export const BAG_STATES = ['open', 'sealed', 'picked_up', 'received', 'disposed', 'rejected', 'missing'] as const;
export type BagState = (typeof BAG_STATES)[number];
export const MANIFEST_STATUSES = ['open', 'in_transit', 'delivered', 'closed'] as const;
export const DISCREPANCY_TYPES = ['count', 'weight', 'missing_bag', 'broken_seal', 'wrong_material'] as const;
export type DiscrepancyType = (typeof DISCREPANCY_TYPES)[number];
export const DISPOSAL_METHODS = ['recycling', 'incineration', 'landfill'] as const;
export const SEAL_NO = str({ min: 1, max: 64, pattern: '^[A-Za-z0-9-]+$', description: 'Number printed on the tamper-evident seal' });
export const TRACKING_NO = str({ pattern: '^[0-9]{16}$', description: '16 digits: county (6) + serial (8) + ISO 7064 MOD 97-10 check digits (2)' });
const WEIGHT_G = int({ min: 0, max: 10_000_000, description: 'Grams' });
const SCAN = str({ min: 1, max: 300, description: 'What the scanner read: a trace URL or the bare 32-digit unit code' });
const DEVICE = str({ min: 1, max: 100, description: 'The device the signature was made on (terminal id, phone model, pad serial)' });

export const BAG_CREATE = obj({ id: CUSTODY_CLIENT_ID, shopId: uuid(), material: enumOf(MATERIALS) });

export const BAG_ITEMS_ADD = obj(
  {
    id: CUSTODY_CLIENT_ID,
    counts: arr(obj({ containerTypeId: uuid(), quantity: int({ min: 1, max: 100_000 }) }), { max: 50 }),
    unitCodes: arr(SCAN, { max: 2000 }),
  },
  ['counts', 'unitCodes'],
  { minProperties: 2 },
);

export const BAG_SEAL = obj({ id: CUSTODY_CLIENT_ID, sealNo: SEAL_NO, shopWeightG: WEIGHT_G }, ['shopWeightG']);

const BAG_ITEM = obj({ itemNo: int(), containerTypeId: uuid(), containerTypeCode: str(), unitCode: nullable(str()), quantity: int(), tareWeightG: int() });

export const BAG = obj({
  id: uuid(), countyId: str(), shopId: uuid(), material: str(), state: enumOf(BAG_STATES), sealNo: nullable(str()),
  declaredQuantity: int(), expectedWeightG: int(), shopWeightG: nullable(int()),
  holder: obj({ type: enumOf(['shop', 'hauler', 'facility']), id: uuid() }),
  manifestId: nullable(uuid()), measuredWeightG: nullable(int()), countedQuantity: nullable(int()), rejectedQuantity: int(),
  disposalId: nullable(uuid()), createdAt: dateTime(), sealedAt: nullable(dateTime()),
  items: arr(BAG_ITEM),
});

export const MANIFEST_CREATE = obj({ id: CUSTODY_CLIENT_ID, haulerId: uuid('The first transporter'), facilityId: uuid('The designated receiving facility') });
export const MANIFEST_BAGS_ADD = obj({ id: CUSTODY_CLIENT_ID, bagIds: arr(uuid(), { min: 1, max: 500 }) });
export const TRANSPORTER_ADD = obj({ id: CUSTODY_CLIENT_ID, haulerId: uuid('The next transporter') });

export const SIGNATURE_CREATE = obj(
  {
    id: CUSTODY_CLIENT_ID,
    handover: str({ pattern: '^(pickup:[0-9a-f-]{36}|transfer:[1-9][0-9]?|delivery)$', description: 'pickup:<shopId> | transfer:<n> | delivery' }),
    side: enumOf(['giver', 'receiver']),
    device: DEVICE,
    signedAt: dateTime('When it was signed (default: now)'),
  },
  ['signedAt'],
);

const PARTY = obj({ type: enumOf(['shop', 'hauler', 'facility']), id: uuid() });
export const NEXT_SIGNER = obj(
  { status: enumOf(['waiting_for_bags', 'sign', 'complete']), handover: str(), side: enumOf(['giver', 'receiver']), party: PARTY },
  ['handover', 'side', 'party'],
);

export const SIGNATURE = obj({
  id: uuid(), handover: str(), side: str(), party: PARTY, signer: str(), signerRole: str(), device: str(), signedAt: dateTime(), recordedAt: dateTime(),
});

export const MANIFEST = obj({
  id: uuid(), countyId: str(), trackingNo: str(), status: enumOf(MANIFEST_STATUSES), facilityId: uuid(),
  transporters: arr(obj({ seq: int(), haulerId: uuid() })),
  bags: arr(obj({ bagId: uuid(), shopId: uuid(), sealNo: nullable(str()), material: str(), state: str(), declaredQuantity: int(), expectedWeightG: int() })),
  signatures: arr(SIGNATURE),
  completedHandovers: arr(str()),
  nextSigner: NEXT_SIGNER,
  createdAt: dateTime(),
});

const DISCREPANCY = obj({ type: enumOf(DISCREPANCY_TYPES), comment: text(1000, 'Mandatory: what was found') });

export const INSPECTION_BAG = obj(
  {
    bagId: uuid(),
    outcome: enumOf(['accepted', 'partially_rejected', 'rejected', 'missing'], 'missing: the bag is not in the load'),
    measuredWeightG: WEIGHT_G,
    sealNoRead: str({ min: 1, max: 64, description: 'The seal number as read at the gate' }),
    sealIntact: bool(),
    countedQuantity: int({ min: 0, max: 100_000, description: 'Containers counted, when the bag was opened' }),
    rejectedQuantity: int({ min: 1, max: 100_000, description: 'partially_rejected: how many containers are refused' }),
    discrepancies: arr(DISCREPANCY, { max: 5 }),
  },
  ['measuredWeightG', 'sealNoRead', 'sealIntact', 'countedQuantity', 'rejectedQuantity', 'discrepancies'],
  { description: 'One bag at the gate. Unless outcome is missing, measuredWeightG and sealIntact are required; rejectedQuantity is given exactly when outcome is partially_rejected (400 VALIDATION_FAILED naming the field otherwise)' },
);

export const RECEIVING_CREATE = obj({ id: CUSTODY_CLIENT_ID, bags: arr(INSPECTION_BAG, { min: 1, max: 500 }) });

export const CORRECTION_CREATE = obj(
  {
    id: CUSTODY_CLIENT_ID,
    outcome: enumOf(['accepted', 'partially_rejected', 'rejected']),
    measuredWeightG: WEIGHT_G,
    countedQuantity: int({ min: 0, max: 100_000 }),
    rejectedQuantity: int({ min: 1, max: 100_000 }),
    discrepancies: arr(DISCREPANCY, { max: 5 }),
    comment: text(1000, 'Why the earlier inspection is corrected'),
  },
  ['countedQuantity', 'rejectedQuantity', 'discrepancies'],
);

export const INSPECTION = obj({
  id: uuid(), bagId: uuid(), outcome: str(), measuredWeightG: nullable(int()), expectedWeightG: int(), weightDeviationPct: nullable({ type: 'number' }),
  sealNoRead: nullable(str()), sealIntact: nullable(bool()), countedQuantity: nullable(int()), rejectedQuantity: int(), supersedesId: nullable(uuid()),
  discrepancies: arr(obj({ type: str(), expectedValue: nullable(int()), actualValue: nullable(int()), comment: str() })),
});

export const DISPOSAL_CREATE = obj(
  {
    id: CUSTODY_CLIENT_ID,
    bagIds: arr(uuid(), { min: 1, max: 1000 }),
    method: enumOf(DISPOSAL_METHODS),
    disposalFacilityId: uuid('The county facility that disposed of the bags, when it is one'),
    facilityLicenceNo: text(64, 'Licence of the disposal facility'),
    certificateNo: text(64, 'Disposal certificate number'),
    disposedOn: date(),
  },
  ['disposalFacilityId'],
);

export const DISPOSAL = obj({
  id: uuid(), countyId: str(), holderFacilityId: uuid(), disposalFacilityId: nullable(uuid()), method: str(), facilityLicenceNo: str(),
  certificateNo: str(), disposedOn: str(), bagIds: arr(uuid()), recordedAt: dateTime(),
});

// --- answers of the custody checks and the bag detail ---

const CUSTODY_EVENT_TYPES = [
  'bag_opened', 'bag_items_added', 'bag_sealed', 'manifest_created', 'manifest_bags_added', 'transporter_added',
  'signature_recorded', 'custody_passed', 'bag_inspected', 'inspection_corrected', 'bags_disposed',
] as const;
const HASH = str({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256, hex' });

/** One bag with its custody events, oldest first (GET …/bags/{bagId}). */
export const BAG_DETAIL = obj({
  ...(BAG.properties as Record<string, ReturnType<typeof str>>),
  events: arr(obj({
    seq: int({ min: 1, description: 'Position in the county\'s custody chain' }),
    type: enumOf(CUSTODY_EVENT_TYPES),
    actor: str(),
    recordedAt: dateTime(),
    data: { type: 'object', additionalProperties: true, description: 'What the event recorded; its fields depend on the type (docs/custody.md)' },
    hash: HASH,
  })),
});

/** GET …/custody/verify. */
export const CHAIN_REPORT = obj({
  countyId: str({ pattern: '^[1-8][0-9]{5}$' }),
  ok: bool('true when every link of the chain recomputes'),
  events: int({ min: 0, description: 'Events checked (up to the first broken one)' }),
  headHash: HASH,
  firstBroken: nullable(obj({
    seq: int({ min: 1 }),
    eventId: uuid(),
    reason: enumOf(['hash_mismatch', 'prev_hash_mismatch', 'seq_gap', 'column_mismatch']),
    message: str(),
  })),
});

const G = (d: string) => int({ description: `${d} (grams)` });
const N = (d: string) => int({ description: `${d} (containers)` });
const KG = (d: string) => ({ type: 'number', description: `${d} (kg)` });

/** GET …/custody/balance. */
export const BALANCE_REPORT = obj({
  countyId: str({ pattern: '^[1-8][0-9]{5}$' }),
  ok: bool('true when every material balances within the tolerance'),
  tolerancePct: { type: 'number', minimum: 0, description: 'The county\'s weight tolerance, percent' },
  materials: arr(obj({
    material: enumOf(MATERIALS),
    counts: obj({
      returned: N('Accepted at shops'), notBagged: N('Loose at shops'), inBagsAtShops: N('In bags at shops'), inTransit: N('In transit'),
      atFacilities: N('At facilities'), disposed: N('Disposed of'), explainedByDiscrepancies: N('Explained by recorded discrepancies'), unexplained: N('Not accounted for'),
    }),
    grams: obj({
      returned: G('Accepted at shops'), notBagged: G('Loose at shops'), inBagsAtShops: G('In bags at shops'), inTransit: G('In transit'),
      atFacilities: G('At facilities'), disposed: G('Disposed of'), explainedByDiscrepancies: G('Explained by recorded discrepancies'),
      withinTolerance: G('Difference within the weight tolerance'), unexplained: G('Not accounted for'),
    }),
    kg: obj({ returned: KG('Accepted at shops'), atShops: KG('At shops'), inTransit: KG('In transit'), atFacilities: KG('At facilities'), disposed: KG('Disposed of'), unexplained: KG('Not accounted for') }),
    holds: bool('Whether this material balances'),
  })),
  problems: arr(obj({ material: str(), message: str(), bagId: uuid(), shopId: uuid() }, ['bagId', 'shopId'])),
});

/** GET …/custody/ledger?format=json. */
export const INSPECTOR_LEDGER = obj({
  countyId: str({ pattern: '^[1-8][0-9]{5}$' }),
  from: date(), to: date(),
  shops: arr(obj({
    shopId: uuid(), shopName: str(), licenceNo: str(),
    received: arr(obj({ day: date(), containerType: str(), material: str(), quantity: int({ min: 0 }), weightKg: { type: 'number' } })),
    bags: arr(obj({
      bagId: uuid(), sealNo: nullable(str()), material: str(), sealedOn: nullable(date()), quantity: int({ min: 0 }),
      expectedWeightKg: { type: 'number' }, measuredWeightKg: { type: ['number', 'null'] },
      state: enumOf(BAG_STATES), trackingNo: nullable(str()), facility: nullable(str()), facilityLicence: nullable(str()),
      disposalMethod: nullable(str()), disposalCertificateNo: nullable(str()), disposedOn: nullable(date()), disposalLicence: nullable(str()),
    })),
  })),
});
