// Request and response shapes of the money core (sales, returns, reversals, settlements, balances).
// Shared by the county server and the shop terminals, which validate what they queue offline.
import { CLIENT_ID_PATTERN } from '../client-id.js';
import { COUNTY_CODE, FEN, arr, bool, dateTime, enumOf, int, nullable, obj, str, text, uuid } from './builders.js';

export const CLIENT_ID = str({ pattern: CLIENT_ID_PATTERN, description: 'A UUID made by the client before sending (any RFC 9562 version; v7 preferred, v4 accepted); the idempotency key' });
const GTIN = str({ pattern: '^[0-9]{8}$|^[0-9]{12,14}$', description: 'EAN-13 / GTIN as scanned' });
const SCAN = str({ min: 1, max: 300, description: 'What the scanner read: a trace URL or the bare 32-digit unit code' });
const PHONE = str({ min: 5, max: 30, description: 'Mobile number in any common form' });
const SIGNED_FEN = int({ min: -100_000_000_000, max: 100_000_000_000, description: 'Signed amount in fen' });

export const REJECTION_REASONS = ['not_rinsed', 'not_empty', 'damaged', 'not_scheme_product', 'unknown_code', 'already_returned', 'other_county', 'other'] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export const PERSON = obj({ phone: PHONE, name: text(100, 'Needed only when the phone number is not registered yet'), village: str({ max: 100 }) }, ['name', 'village']);

export const SALE_REQUEST = obj(
  {
    id: CLIENT_ID,
    countyId: COUNTY_CODE,
    shopId: uuid(),
    eventTime: dateTime('When the sale happened at the shop'),
    receiptNo: str({ min: 1, max: 40, pattern: '^[A-Za-z0-9-]+$', description: 'The number the shop printed on the receipt (and in its QR code); any shop of the county can look the sale up by it' }),
    purchaser: PERSON,
    lines: arr(
      obj(
        {
          productId: uuid(),
          gtin: GTIN,
          quantity: int({ min: 1, max: 10_000 }),
          unitCodes: arr(SCAN, { max: 10_000 }),
          depositChargedFen: int({ min: 0, max: 100_000, description: 'Offline sales: the deposit per container the terminal actually charged' }),
        },
        ['productId', 'gtin', 'unitCodes', 'depositChargedFen'],
      ),
      { min: 1, max: 200 },
    ),
  },
  ['countyId', 'receiptNo'],
);

const FLAG = str({ description: 'deposit_mismatch: the deposit charged differs from the schedule' });

export const SALE_RECEIPT = obj({
  saleId: uuid(), saleNo: str(), countyId: str(), shopId: uuid(), eventTime: dateTime(), recordedAt: dateTime(), businessDay: str(),
  bookedDay: str({ description: 'The county business day the record counts in (statements, reconciliation): its own day, or the first day of the first open month for a late adjustment' }), bookedPeriod: str({ description: 'The month (2026-03) the record counts in' }), lateAdjustment: bool('true when the event month was closed when the server stored it: booked in the first open month instead'),
  purchaser: obj({ farmerId: uuid(), name: str(), phoneMasked: str(), registeredNow: bool() }),
  lines: arr(obj({
    lineNo: int(), productId: uuid(), productName: str(), quantity: int(), unitCodes: arr(str()),
    depositPerContainerFen: FEN, scheduleDepositFen: nullable(FEN), depositFen: FEN, flags: arr(FLAG),
  })),
  totalDepositFen: FEN, flags: arr(FLAG), qrPayload: str(),
});

/** A sale looked up by the number on the farmer's receipt: what was sold and what can still come back. */
export const SALE_BY_RECEIPT = obj({
  items: arr(obj({
    saleId: uuid(), receiptNo: str(), countyId: str(), shopId: uuid(), shopName: str(), eventTime: dateTime(), businessDay: str(),
    purchaser: obj({ phoneMasked: str(), nameMasked: str() }),
    lines: arr(obj({
      lineNo: int(), productId: uuid(), productName: str(), packSizeLabel: str(), quantity: int(), depositPerContainerFen: FEN,
      unitCodes: arr(obj({ unitCode: str(), state: str({ description: 'outstanding (can come back), returned, expired or voided' }) })),
      outstandingContainers: int({ min: 0, description: 'Containers sold without a unit code whose deposit is still outstanding' }),
      outstandingCounted: { ...int({ min: 0, description: 'Deprecated: the old name of outstandingContainers, removed in the next release' }), deprecated: true },
    })),
  })),
});

export const RETURN_REQUEST = obj(
  {
    id: CLIENT_ID,
    countyId: COUNTY_CODE,
    shopId: uuid(),
    eventTime: dateTime('When the containers were handed in'),
    returner: PERSON,
    items: arr(
      obj(
        {
          scan: SCAN,
          gtin: GTIN,
          productId: uuid(),
          quantity: int({ min: 1, max: 10_000, description: 'Containers of this product (GTIN / product items only; a unit code is one container)' }),
          inspection: enumOf(['accepted', 'rejected']),
          reasonCode: enumOf(REJECTION_REASONS, 'Why a container was rejected'),
          refundPaidFen: int({ min: 0, max: 1_000_000_000, description: 'Offline returns: the refund the clerk actually paid out for this item (all its containers). Recorded as paid; a difference from what the server computes is flagged (refund_mismatch), never refused' }),
        },
        ['scan', 'gtin', 'productId', 'quantity', 'reasonCode', 'refundPaidFen'],
      ),
      { min: 1, max: 500 },
    ),
    payment: obj({ method: enumOf(['cash', 'mobile']), reference: str({ min: 1, max: 100 }) }, ['reference']),
  },
  ['countyId', 'returner', 'payment'],
);

const REFUND_FLAG = str({ description: 'refund_mismatch: what the clerk paid (refundPaidFen) differs from what the scheme owes (refundFen); unsold_code: a unit code never sold in the county; likely_counterfeit: a unit code absent from its product’s imported registry of issued codes; refund_held (return): some refund waits for the county’s review' });

export const RETURN_RECEIPT = obj({
  returnId: uuid(), returnNo: str(), countyId: str(), shopId: uuid(), eventTime: dateTime(), recordedAt: dateTime(), businessDay: str(),
  bookedDay: str({ description: 'The county business day the record counts in (statements, reconciliation): its own day, or the first day of the first open month for a late adjustment' }), bookedPeriod: str({ description: 'The month (2026-03) the record counts in' }), lateAdjustment: bool('true when the event month was closed when the server stored it: booked in the first open month instead'),
  returner: nullable(obj({ farmerId: uuid(), name: str(), phoneMasked: str(), registeredNow: bool() })),
  items: arr(obj({
    itemNo: int(), unitCode: nullable(str()), productId: nullable(uuid()), quantity: int(),
    outcome: enumOf(['refunded', 'accepted_no_refund', 'refund_held', 'rejected'], 'refund_held: accepted into custody, refund 0 now, held for the county’s review (see heldRefund)'), reasonCode: nullable(str()),
    refundFen: FEN, refundedQuantity: int(),
    sources: arr(obj({ source: str(), quantity: int(), amountFen: FEN })),
    refundPaidFen: FEN, refundDifferenceFen: SIGNED_FEN, flags: arr(REFUND_FLAG),
    heldRefund: nullable(obj({ heldRefundId: uuid(), amountFen: FEN, reason: enumOf(['unsold_code', 'likely_counterfeit']) })),
  })),
  totalRefundFen: FEN,
  totalHeldFen: FEN,
  totalPaidFen: FEN,
  refundDifferenceFen: SIGNED_FEN,
  flags: arr(REFUND_FLAG),
  payment: nullable(obj({ method: str(), reference: nullable(str()) })),
  qrPayload: str(),
});

export const REVERSAL_REQUEST = obj(
  {
    id: CLIENT_ID,
    countyId: COUNTY_CODE,
    targetType: enumOf(['sale', 'return']),
    targetId: uuid(),
    reason: text(300),
    eventTime: dateTime('When the clerk reversed it at the counter (offline terminals); default: when the server receives it. A clerk may reverse only records of that same business day (county time zone); future times are refused'),
  },
  ['countyId', 'eventTime'],
);

export const REVERSAL_RESULT = obj({
  reversalId: uuid(), countyId: str(), targetType: str(), targetId: uuid(), shopId: uuid(), reason: str(), eventTime: dateTime(), businessDay: str(), recordedAt: dateTime(),
  bookedDay: str({ description: 'The county business day the record counts in (statements, reconciliation): its own day, or the first day of the first open month for a late adjustment' }), bookedPeriod: str({ description: 'The month (2026-03) the record counts in' }), lateAdjustment: bool('true when the event month was closed when the server stored it: booked in the first open month instead'),
  transfers: arr(obj({ transferId: uuid(), reversesTransferId: uuid(), amountFen: FEN })),
});

export const SETTLEMENT_REQUEST = obj(
  {
    id: CLIENT_ID,
    countyId: COUNTY_CODE,
    shopId: uuid(),
    period: str({ pattern: '^[0-9]{4}-(?:[0-9]{2}|W[0-9]{2}|[0-9]{2}-[0-9]{2})$', description: '2026-03 (monthly), 2026-W11 (weekly) or 2026-03-15 (daily)' }),
    asOf: dateTime('The statement cut-off this payment settles (default: now)'),
    amountFen: FEN,
    direction: enumOf(['from_shop', 'to_shop'], 'from_shop: the shop pays the scheme; to_shop: the scheme pays the shop'),
    method: enumOf(['bank', 'cash', 'mobile']),
    reference: str({ min: 1, max: 100 }),
  },
  ['countyId', 'asOf', 'reference'],
);

export const STATEMENT_LINE = obj({
  shopId: uuid(), shopName: str(),
  depositsCollectedFen: SIGNED_FEN, refundsPaidFen: SIGNED_FEN, refundsForOtherShopsDepositsFen: SIGNED_FEN,
  netFen: SIGNED_FEN, settledFen: SIGNED_FEN, outstandingFen: SIGNED_FEN,
  lateDepositsFen: SIGNED_FEN, lateRefundsFen: SIGNED_FEN, lateEvents: int(),
  lateAdjustmentDepositsFen: SIGNED_FEN, lateAdjustmentRefundsFen: SIGNED_FEN, lateAdjustments: int({ description: 'Transfers of closed months booked in this period' }),
});

export const STATEMENT = obj({
  countyId: str(), period: str(), periodKind: str(), from: dateTime(), to: dateTime(), asOf: dateTime(),
  shops: arr(STATEMENT_LINE),
  lateAdjustments: arr(obj({ type: str(), id: uuid(), shopId: uuid(), eventTime: dateTime(), recordedAt: dateTime(), bookedAt: dateTime() })),
  closed: nullable(obj({ closedAt: dateTime(), closedBy: str(), reconciliationRunId: uuid(), figuresAsOf: dateTime() })),
  totals: obj({ depositsCollectedFen: SIGNED_FEN, refundsPaidFen: SIGNED_FEN, netFen: SIGNED_FEN, settledFen: SIGNED_FEN, outstandingFen: SIGNED_FEN }),
});

export const FARMER_BALANCE = obj({
  farmerId: uuid(), countyId: str(), asOf: dateTime(),
  products: arr(obj({ productId: uuid(), productName: str(), containers: int(), refundableFen: FEN, expiredContainers: int() })),
  outstandingContainers: int(), refundableFen: FEN, expiredContainers: int(), lateRefundableFen: FEN,
  year: int(), refundsThisYearFen: FEN,
});
