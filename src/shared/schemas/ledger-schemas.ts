// Request and response shapes of the money core (sales, returns, reversals, settlements, balances).
// Shared by the county server and the shop terminals, which validate what they queue offline.
import { CLIENT_ID_PATTERN } from '../client-id.js';
import { COUNTY_CODE, FEN, arr, bool, dateTime, enumOf, int, nullable, obj, phone, refusedAs, str, text, uuid } from './builders.js';

export const CLIENT_ID = str({ pattern: CLIENT_ID_PATTERN, description: 'A UUID made by the client before sending (any RFC 9562 version; v7 preferred, v4 accepted); the idempotency key' });
export const GTIN = str({ pattern: '^[0-9]{8}$|^[0-9]{12,14}$', description: 'EAN-8, UPC-A, EAN-13 or GTIN-14 as scanned. The last digit is the GS1 check digit, which a pattern cannot state: a wrong one is refused with 422 INVALID_GTIN (a misread or mistyped barcode), never taken as another product', examples: ['6923456789012'] });
const SCAN = str({ min: 1, max: 300, description: 'What the scanner read: a trace URL or the bare 32-digit unit code (docs/unit-codes.md)', examples: ['https://www.icama.cn/PublicQuery/zs?code=13604381021047395018264350917283'] });
/** A phone number as people type it (the shared builder: pattern = what the server turns into E.164). */
export const PHONE = phone();
const SIGNED_FEN = int({ min: -100_000_000_000, max: 100_000_000_000, description: 'Signed amount in fen' });

export const REJECTION_REASONS = ['not_rinsed', 'not_empty', 'damaged', 'not_scheme_product', 'unknown_code', 'already_returned', 'other_county', 'other'] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export const PERSON = obj({ phone: PHONE, name: text(100, 'Needed only when the phone number is not registered yet'), village: str({ max: 100 }) }, ['name', 'village']);

/**
 * A settlement period: a month, an ISO week or a day, each written as a real one (years 1900–2999, months
 * 01–12, weeks 01–53, calendar dates with leap years). Which of the three a county uses is its setting, and week 53
 * exists only in some years: both are checked by the server (422 INVALID_PERIOD).
 */
export const SETTLEMENT_PERIOD = refusedAs('INVALID_PERIOD', str({
  pattern: '^(?:19|2[0-9])[0-9]{2}-(?:0[1-9]|1[0-2])$|^(?:19|2[0-9])[0-9]{2}-W(?:0[1-9]|[1-4][0-9]|5[0-3])$|^(?:19|2[0-9])[0-9]{2}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))$|^(?:(?:19|2[0-9])(?:0[48]|[2468][048]|[13579][26])|2[048]00)-02-29$',
  description: '2026-03 (monthly), 2026-W11 (ISO week) or 2026-03-15 (daily) of the years 1900–2999, as the county settles; another kind, or week 53 of a year without one, is refused with 422 INVALID_PERIOD',
  examples: ['2026-03'],
}));

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
          productId: uuid('The product (GET /counties/{countyId}/products)'),
          gtin: GTIN,
          quantity: int({ min: 1, max: 10_000, description: 'Containers sold on this line' }),
          unitCodes: arr(SCAN, { max: 10_000 }),
          depositChargedFen: int({ min: 0, max: 100_000, description: 'Offline sales: the deposit per container the terminal actually charged' }),
        },
        ['productId', 'gtin', 'unitCodes', 'depositChargedFen'],
        { oneOf: [{ required: ['productId'] }, { required: ['gtin'] }], description: 'One product and how many containers of it. Exactly one of productId or gtin names the product; unitCodes (at most quantity of them) must belong to its registration number' },
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
        {
          // A unit code is one container: its branch allows quantity only as 1.
          oneOf: [{ required: ['scan'], properties: { quantity: { const: 1 } } }, { required: ['gtin'] }, { required: ['productId'] }],
          description: 'One returned item: a scanned unit code (one container: quantity absent or 1), or a product named by gtin or productId with a quantity. Exactly one of scan, gtin, productId. A rejected item needs reasonCode and an accepted one has none: refused with 422 REASON_CODE_REQUIRED (kept as its own code rather than a schema rule, so the counter can tell the clerk what to fix)',
        },
      ),
      { min: 1, max: 500 },
    ),
    payment: obj({ method: enumOf(['cash', 'mobile']), reference: str({ min: 1, max: 100, description: 'The mobile payment’s transaction number' }) }, ['reference'], { description: 'How the refund was paid. A mobile refund carries reference and a cash refund none: refused with 422 PAYMENT_REFERENCE_REQUIRED' }),
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
    incentive: obj({
      kind: enumOf(['deposit', 'buyback', 'points', 'buyback_points', 'none'], 'deposit: the container carried a deposit and got it back (never buy-back or points as well); buyback / points / buyback_points: what the county incentive rate gave; none: nothing beyond a policy refund (see sources)'),
      buybackFen: FEN,
      pointsMilli: int({ min: 0, description: 'Points earned, in milli-points (1000 = one point)' }),
      reason: nullable(enumOf(['no_rate', 'returner_required', 'held_for_review', 'household_cap', 'shop_cap', 'fund_empty', 'rejected'],
        'Why the item got less than the incentive policy offers: no_rate (no incentive rate matches: the untracked policy applies), returner_required (incentives need a returner), held_for_review (a never-sold code held for review), household_cap / shop_cap (the yearly cap is reached), fund_empty (the incentive fund cannot pay the buy-back), rejected (the item was rejected). null: nothing held back (a unit code earns points once, ever)')),
    }, [], { description: 'Which incentive the item got (docs/incentives.md)' }),
  })),
  totalRefundFen: FEN,
  totalBuybackFen: FEN,
  totalPointsMilli: int({ min: 0, description: 'Points earned by this return, in milli-points' }),
  pointsBalanceMilli: nullable(int({ min: 0, description: 'The returner’s points balance after this return, in milli-points (null without returner)' })),
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
    period: SETTLEMENT_PERIOD,
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
  buybackPaidFen: { ...SIGNED_FEN, description: 'Buy-back the shop paid farmers for the county incentive fund (transfers buyback_paid, less reversals): the scheme reimburses it; netFen = deposits − refunds − buy-back' },
  netFen: SIGNED_FEN, settledFen: SIGNED_FEN, outstandingFen: SIGNED_FEN,
  lateDepositsFen: SIGNED_FEN, lateRefundsFen: SIGNED_FEN, lateEvents: int(),
  lateAdjustmentDepositsFen: SIGNED_FEN, lateAdjustmentRefundsFen: SIGNED_FEN, lateAdjustments: int({ description: 'Transfers of closed months booked in this period' }),
});

export const STATEMENT = obj({
  countyId: str(), period: str(), periodKind: str(), from: dateTime(), to: dateTime(), asOf: dateTime(),
  shops: arr(STATEMENT_LINE),
  lateAdjustments: arr(obj({ type: str(), id: uuid(), shopId: uuid(), eventTime: dateTime(), recordedAt: dateTime(), bookedAt: dateTime() })),
  closed: nullable(obj({ closedAt: dateTime(), closedBy: str(), reconciliationRunId: uuid(), figuresAsOf: dateTime() })),
  totals: obj({ depositsCollectedFen: SIGNED_FEN, refundsPaidFen: SIGNED_FEN, buybackPaidFen: SIGNED_FEN, netFen: SIGNED_FEN, settledFen: SIGNED_FEN, outstandingFen: SIGNED_FEN }),
});

export const FARMER_BALANCE = obj({
  farmerId: uuid(), countyId: str(), asOf: dateTime(),
  products: arr(obj({ productId: uuid(), productName: str(), containers: int(), refundableFen: FEN, expiredContainers: int() })),
  outstandingContainers: int(), refundableFen: FEN, expiredContainers: int(), lateRefundableFen: FEN,
  year: int(),
  refundsThisYearFen: { ...FEN, description: 'Deposits refunded to the farmer this calendar year (returns not reversed), fen; buy-back is not in it (buybackThisYearFen)' },
  buybackThisYearFen: { ...FEN, description: 'Buy-back paid to the farmer from the county incentive fund this calendar year (returns not reversed), fen' },
});
