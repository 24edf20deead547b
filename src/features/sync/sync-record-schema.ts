// A sync record as the OpenAPI document shows it: one shape per `kind` (oneOf), whose `payload` is
// the very schema the record is validated with before its service (KIND_HANDLERS: the single
// endpoint's body; for bag events one per action) less the record's own `id` and `eventTime`, which
// the payload may not repeat. Generated clients (the terminal's, src/shared/api-types.gen.ts) get a
// union discriminated by `kind`.
//
// The batch itself is still validated with SYNC_BATCH (a payload is any object there): a record whose
// payload breaks its kind's schema is answered `refused` VALIDATION_FAILED on its own, with the field
// under /payload, and never makes the whole batch a 400.
import { arr, enumOf, obj, type JsonSchema } from '../../shared/schemas/builders.js';
import { CLIENT_ID } from '../../shared/schemas/ledger-schemas.js';
import { BAG_EVENT_ACTIONS, BAG_EVENT_BODIES } from './bag-event.js';
import { KIND_HANDLERS } from './sync-service.js';
import { SYNC_BATCH, SYNC_KINDS, SYNC_MAX_RECORDS, type SyncKind } from './sync-schemas.js';

type ObjectSchema = JsonSchema & { properties: Record<string, JsonSchema>; required?: string[] };

/** A single endpoint's body as a record's payload: without the record's id and eventTime. */
export function payloadOf(body: JsonSchema): JsonSchema {
  const b = body as ObjectSchema;
  const properties = Object.fromEntries(Object.entries(b.properties).filter(([k]) => k !== 'id' && k !== 'eventTime'));
  const required = (b.required ?? []).filter((k) => k !== 'id' && k !== 'eventTime');
  const { required: _r, properties: _p, ...rest } = b;
  return { ...rest, properties, ...(required.length ? { required } : {}) };
}

const PAYLOAD_DESCRIPTIONS: Record<SyncKind, string> = {
  sale: 'The body of POST /api/v1/counties/{countyId}/sales without id and eventTime, with the county as an optional countyId (default: the terminal\'s own)',
  return: 'The body of POST /api/v1/counties/{countyId}/returns without id and eventTime, with the county as an optional countyId (default: the terminal\'s own)',
  reversal: 'The body of POST /api/v1/counties/{countyId}/reversals without id and eventTime, with the county as an optional countyId (default: the terminal\'s own)',
  'bag-event': 'A bag action at the counter, named by `action`: open (the body of POST /api/v1/counties/{countyId}/bags), add (…/bags/{bagId}/items), seal (…/bags/{bagId}/seal) or sign (…/manifests/{manifestId}/signatures, signed at the record\'s eventTime), with the bag or manifest id in the payload',
  'drawer-report': 'The till\'s end-of-day drawer report: the business day it closes and its figures',
};

/** The payload schema of one kind: what KIND_HANDLERS validates it with. */
export function payloadSchemaOf(kind: SyncKind): JsonSchema | undefined {
  const handler = KIND_HANDLERS[kind];
  if (!handler) return undefined;
  if (kind === 'bag-event') return { description: PAYLOAD_DESCRIPTIONS[kind], oneOf: BAG_EVENT_ACTIONS.map((a) => payloadOf(BAG_EVENT_BODIES[a])) };
  if (typeof handler.schema === 'function') throw new Error(`sync kind ${kind}: a payload schema chosen per payload needs its own entry here`);
  return { ...payloadOf(handler.schema), description: PAYLOAD_DESCRIPTIONS[kind] };
}

/** One journal record, typed by its kind. */
export const SYNC_RECORD_DOCUMENTED: JsonSchema = {
  description: 'One journal record: its kind, its client id (the idempotency key), when it happened at the shop, and the payload of that kind',
  oneOf: SYNC_KINDS.flatMap((kind) => {
    const payload = payloadSchemaOf(kind);
    if (!payload) return [];
    const base = (SYNC_BATCH as { properties: { records: { items: ObjectSchema } } }).properties.records.items.properties;
    return [obj({ kind: enumOf([kind]), id: CLIENT_ID, eventTime: base.eventTime!, payload })];
  }),
};

/** The sync batch as the document shows it (validation: SYNC_BATCH). */
export const SYNC_BATCH_DOCUMENTED: JsonSchema = obj(
  { batchId: CLIENT_ID, records: arr(SYNC_RECORD_DOCUMENTED, { min: 1, max: SYNC_MAX_RECORDS }) },
  ['batchId'],
);
