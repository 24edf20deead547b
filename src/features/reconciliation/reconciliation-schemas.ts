// The answers of the reconciliation routes, as JSON Schemas (the OpenAPI document and the suite's
// response check use them). Mirrors ReconciliationRun in reconciliation-service.ts.
import { COUNTY_CODE, arr, bool, dateTime, enumOf, int, nullable, obj, str, uuid, type JsonSchema } from '../../shared/schemas/builders.js';

const FEN = (description: string): JsonSchema => int({ description: `${description} (fen)` });
const UNITS = (description: string): JsonSchema => int({ description: `${description} (containers)` });
const PERIOD = str({ pattern: '^[0-9]{4}(-(0[1-9]|1[0-2]))?$', description: 'The month (2026-03) or year (2026) reconciled', examples: ['2026-03'] });

export const RUN_HEADER_PROPS = {
  id: uuid(),
  countyId: COUNTY_CODE,
  period: PERIOD,
  from: dateTime('Start of the period (inclusive), county time zone'),
  to: dateTime('End of the period (exclusive)'),
  asOf: dateTime('Record-time cut-off: only rows stored at or before it count'),
  runAt: dateTime(),
  trigger: enumOf(['api', 'scheduled']),
  actor: str({ description: 'Who ran it (user:…, system:scheduler)' }),
  fingerprint: str({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the figures and exceptions: the same county, period and asOf give the same fingerprint' }),
  durationMs: int({ min: 0 }),
  errorCount: int({ min: 0, description: 'Exceptions of severity error' }),
  exceptionCount: int({ min: 0 }),
} satisfies Record<string, JsonSchema>;

export const RECONCILIATION_EXCEPTION = obj({
  book: enumOf(['money', 'units', 'custody']),
  kind: str({ description: 'What does not tie (docs/reconciliation.md lists the kinds)' }),
  severity: enumOf(['error', 'warning', 'info']),
  shopId: nullable(uuid()),
  expected: nullable(int()),
  actual: nullable(int()),
  messageEn: str(),
  messageZh: str(),
  records: arr(obj({ type: str({ description: 'sale, return, transfer, bag, inspection…' }), id: uuid() }), {}),
});

const SHOP_LINE = obj({
  shopId: uuid(),
  shopName: str(),
  depositsCollectedFen: FEN('Deposits collected in the period'),
  refundsPaidFen: FEN('Refunds paid in the period'),
  positionFen: int({ description: 'Ledger position at period end: what the shop owes the scheme (negative: is owed), fen' }),
  settlementStatus: enumOf(['settled', 'open', 'nothing_due']),
  settlementOutstandingFen: FEN('Settlement not yet paid'),
  soldUnits: UNITS('Sold with deposit'),
  returnedUnits: UNITS('Returned'),
  looseAtShop: UNITS('Returned, not yet bagged'),
  inBagsAtShop: UNITS('In bags still at the shop'),
  overdueBags: int({ min: 0, description: 'Sealed bags past the pickup deadline' }),
});

const FIGURES = obj({
  countyId: COUNTY_CODE,
  period: PERIOD,
  from: dateTime(),
  to: dateTime(),
  asOf: dateTime(),
  money: obj({
    depositsCollectedFen: FEN('Deposits collected'),
    refundsPaidFen: FEN('Refunds paid'),
    lateRefundsFen: FEN('Refunds paid after the deposit period'),
    policyRefundsFen: FEN('Refunds paid under a county policy (no matching deposit)'),
    buybackPaidFen: FEN('Buy-back paid from the county incentive fund (absent in runs stored before incentives)'),
    expiredFen: FEN('Deposits expired unredeemed'),
    settlementsFromShopsFen: FEN('Settlements paid by shops'),
    settlementsToShopsFen: FEN('Settlements paid to shops'),
    outstandingOpeningFen: FEN('Deposits outstanding at the start'),
    outstandingClosingFen: FEN('Deposits outstanding at the end'),
    unredeemedClosingFen: FEN('Expired deposits never redeemed, at the end'),
  }, ['buybackPaidFen']),
  units: obj({
    soldUnits: UNITS('Sold with deposit'),
    soldWithDeposit: { ...UNITS('Deprecated: the old name of soldUnits, removed in the next release'), deprecated: true },
    returnedAccepted: UNITS('Returns accepted'),
    returnedAgainstDeposit: UNITS('Returned against a deposit'),
    returnedLate: UNITS('Returned late'),
    returnedPolicy: UNITS('Returned under a policy'),
    returnedBuyback: UNITS('Returned and paid buy-back from the incentive fund (absent in runs stored before incentives)'),
    returnedNoRefund: UNITS('Returned without refund'),
    rejected: UNITS('Rejected at return'),
    expired: UNITS('Deposits expired'),
    outstandingContainers: UNITS('Deposit still out at the end'),
    outstandingClosing: { ...UNITS('Deprecated: the old name of outstandingContainers, removed in the next release'), deprecated: true },
    expiredUnreturnedClosing: UNITS('Expired and not returned, at the end'),
  }, ['returnedBuyback']),
  custody: obj({
    available: bool('false when the custody chain could not be read for the period'),
    returnedUnits: UNITS('Accepted at shops'),
    looseAtShops: UNITS('Loose at shops'),
    inBagsAtShops: UNITS('In bags at shops'),
    inTransit: UNITS('In transit'),
    received: UNITS('Received at a facility'),
    disposed: UNITS('Disposed of'),
    missing: UNITS('Found missing at inspection'),
    bagsAwaitingPickup: int({ min: 0 }),
    overdueBags: int({ min: 0 }),
    openDiscrepancies: int({ min: 0 }),
  }),
  shops: arr(SHOP_LINE),
});

export const RECONCILIATION_RUN = obj({ ...RUN_HEADER_PROPS, figures: FIGURES, exceptions: arr(RECONCILIATION_EXCEPTION) }, [], {
  description: 'A stored run: figures of the money, unit and custody books, shop lines and exceptions',
});

const RUN_HEADER = obj(RUN_HEADER_PROPS);
/** The list convention ({ items, nextCursor }); `runs` is the old name of `items`, kept one release. */
export const RECONCILIATION_RUN_LIST = obj({
  items: arr(RUN_HEADER),
  nextCursor: nullable(str({ description: 'Pass back as cursor for the next page; null on the last page' })),
  runs: { ...arr(RUN_HEADER), deprecated: true, description: 'Deprecated: the same runs as items; removed in the next release' },
}, [], { description: 'Runs, newest first, without figures' });
