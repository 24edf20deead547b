// The event feed's envelope and data (docs/events.md): CloudEvents 1.0 attribute names, one data
// shape per event type. Shared so an integrator's or terminal's code can import the same schemas.
import { COUNTY_CODE, FEN, arr, bool, date, dateTime, enumOf, int, nullable, obj, str, uuid, type JsonSchema } from './builders.js';

export const EVENT_TYPE_PREFIX = 'cn.agrireturn.';

export const CUSTODY_EVENT_TYPES = [
  'bag_opened', 'bag_items_added', 'bag_sealed',
  'manifest_created', 'manifest_bags_added', 'transporter_added', 'signature_recorded', 'custody_passed',
  'bag_inspected', 'inspection_corrected', 'bags_disposed',
] as const;

export const EVENT_TYPES = [
  'cn.agrireturn.sale.recorded',
  'cn.agrireturn.return.recorded',
  'cn.agrireturn.reversal.recorded',
  'cn.agrireturn.settlement.recorded',
  ...CUSTODY_EVENT_TYPES.map((t) => `cn.agrireturn.custody.${t}` as const),
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** `<countyId>.<position>`: the place after which a read continues. Position 0 is before the first event. */
export const EVENT_CURSOR_PATTERN = /^([1-8][0-9]{5})\.(0|[1-9][0-9]{0,14})$/;

const INSTANT = dateTime();

export const SALE_EVENT_DATA = obj({
  saleId: uuid('The sale\'s client id'),
  saleNo: int({ min: 1, description: 'The county\'s running sale number' }),
  shopId: uuid(),
  eventTime: INSTANT, businessDay: date('The county\'s business day of the sale'), recordedAt: INSTANT,
  totalDepositFen: FEN, depositMismatch: bool('A line\'s deposit differed from the schedule in force'),
  lines: arr(obj({ lineNo: int({ min: 1 }), productId: uuid(), quantity: int({ min: 1 }), depositPerContainerFen: FEN, depositFen: FEN })),
});

export const RETURN_EVENT_DATA = obj({
  returnId: uuid('The return\'s client id'),
  returnNo: int({ min: 1, description: 'The county\'s running return number' }),
  shopId: uuid(),
  eventTime: INSTANT, businessDay: date('The county\'s business day of the return'), recordedAt: INSTANT,
  totalRefundFen: FEN,
  items: arr(obj({
    itemNo: int({ min: 1 }), productId: nullable(uuid()), unitCode: nullable(str({ pattern: '^[0-9]{32}$' })), quantity: int({ min: 1 }),
    inspection: enumOf(['accepted', 'rejected']), outcome: enumOf(['refunded', 'accepted_no_refund', 'rejected']), reasonCode: nullable(str()), refundFen: FEN,
  })),
});

export const REVERSAL_EVENT_DATA = obj({
  reversalId: uuid(), targetType: enumOf(['sale', 'return']), targetId: uuid(), shopId: uuid(), reason: str(),
  eventTime: INSTANT, recordedAt: INSTANT,
});

export const SETTLEMENT_EVENT_DATA = obj({
  settlementId: uuid(), shopId: uuid(), period: str({ description: '2026-03, 2026-W11 or 2026-03-15' }), asOf: INSTANT,
  direction: enumOf(['from_shop', 'to_shop']), amountFen: FEN, method: str(), reference: nullable(str()), recordedAt: INSTANT,
});

export const CUSTODY_EVENT_DATA = obj({
  custodyEventId: uuid(), custodySeq: int({ min: 1, description: 'Place in the county\'s custody hash chain' }),
  custodyType: enumOf(CUSTODY_EVENT_TYPES), bagId: nullable(uuid()), manifestId: nullable(uuid()), recordedAt: INSTANT,
  hash: str({ pattern: '^[0-9a-f]{64}$' }), prevHash: str({ pattern: '^[0-9a-f]{64}$' }),
  content: { type: 'object', additionalProperties: true, description: 'Exactly what was hashed (docs/custody.md): the custody event\'s own fields, which differ by event type' },
});

function envelope(types: readonly string[], data: JsonSchema): JsonSchema {
  return obj({
    specversion: enumOf(['1.0']),
    id: str({ max: 64, description: 'Stable and unique within its source: `<kind>:<id of the record>`; the key to deduplicate on' }),
    source: str({ pattern: '^/api/v1/counties/[1-8][0-9]{5}$', description: 'The county\'s feed' }),
    type: enumOf(types),
    subject: str({ description: 'The record the event is about, e.g. sales/<id>, bags/<id>' }),
    time: dateTime('When it happened: the event time at the shop for sales, returns and reversals; the record time otherwise'),
    datacontenttype: enumOf(['application/json']),
    cursor: str({ description: 'Extension attribute: pass it as `after` to read on from just after this event' }),
    data,
  });
}

export const FEED_EVENT = {
  oneOf: [
    envelope(['cn.agrireturn.sale.recorded'], SALE_EVENT_DATA),
    envelope(['cn.agrireturn.return.recorded'], RETURN_EVENT_DATA),
    envelope(['cn.agrireturn.reversal.recorded'], REVERSAL_EVENT_DATA),
    envelope(['cn.agrireturn.settlement.recorded'], SETTLEMENT_EVENT_DATA),
    envelope(CUSTODY_EVENT_TYPES.map((t) => `cn.agrireturn.custody.${t}`), CUSTODY_EVENT_DATA),
  ],
} satisfies JsonSchema;

export const FEED_PAGE = obj({
  countyId: COUNTY_CODE,
  items: arr(FEED_EVENT),
  nextCursor: str({ description: 'Where to read on: the cursor of the last event, or — when the page was not full — the end of what this reader may see' }),
  hasMore: bool('More events were committed already: read again at once'),
});

export interface FeedEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: EventType;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  cursor: string;
  data: Record<string, unknown>;
}
