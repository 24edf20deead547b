// Shapes of the terminal sync API: a batch of journal records in, one result per record out; and the
// reference snapshot a terminal caches to keep selling offline.
import { CLIENT_ID, RETURN_RECEIPT, REVERSAL_RESULT, SALE_RECEIPT } from '../../shared/schemas/ledger-schemas.js';
import { BAG, MANIFEST } from '../../shared/schemas/custody-schemas.js';
import { INCENTIVE_FIELDS, SNAPSHOT_INCENTIVE_RATES, SNAPSHOT_INCENTIVES_IN_FORCE } from '../../shared/schemas/incentive-schemas.js';
import { COUNTY_CODE, FEN, arr, date, dateTime, enumOf, int, nullable, obj, str, text, uuid, bool } from '../../shared/schemas/builders.js';

export const SYNC_KINDS = ['sale', 'return', 'reversal', 'bag-event', 'drawer-report'] as const;
export type SyncKind = (typeof SYNC_KINDS)[number];
/** More per request would outgrow the default 1 MiB body limit with large sales. */
export const SYNC_MAX_RECORDS = 1000;

export const SYNC_RECORD = obj({
  kind: enumOf(SYNC_KINDS),
  id: CLIENT_ID,
  eventTime: dateTime('When it happened at the shop (the terminal clock)'),
  payload: { type: 'object', description: 'The body of the single endpoint of this kind, without id and eventTime; its schema per kind is in openapi.json (the request body of this operation: one record shape per kind). A payload its kind refuses makes that record `refused` (VALIDATION_FAILED, fields under /payload), never the whole batch' },
});

export const SYNC_BATCH = obj(
  { batchId: CLIENT_ID, records: arr(SYNC_RECORD, { min: 1, max: SYNC_MAX_RECORDS }) },
  ['batchId'],
);

export const SYNC_STATUSES = ['applied', 'duplicate', 'conflict', 'refused', 'retry'] as const;
export type SyncStatus = (typeof SYNC_STATUSES)[number];

/** What a drawer report answers (DrawerReportService.record). */
export const DRAWER_REPORT_RESULT = obj({ drawerReportId: uuid(), countyId: COUNTY_CODE, shopId: uuid(), businessDay: date(), recordedAt: dateTime() });

export const SYNC_RESULT = obj(
  {
    id: str(), kind: str(),
    status: enumOf(SYNC_STATUSES, 'applied: stored now; duplicate: stored before (result is the stored answer); conflict: the id was used for other content; refused: a rule says no (keep it, show the reason); retry: a passing problem, send it again later'),
    result: {
      description: 'The single endpoint\'s answer (applied, duplicate): a sale receipt, a return receipt, a reversal, a bag (bag-event open/add/seal), a manifest (bag-event sign) or a drawer report',
      anyOf: [SALE_RECEIPT, RETURN_RECEIPT, REVERSAL_RESULT, BAG, MANIFEST, DRAWER_REPORT_RESULT],
    },
    error: obj({
      code: str({ description: 'A code of the error catalogue (docs/errors.md)' }), message: str(), message_zh: str(),
      details: arr({ type: 'object', properties: { field: str(), code: str(), message: str() }, required: ['code', 'message'], additionalProperties: true, description: 'As in the error envelope: the field (JSON pointer), a code and a message, and facts of the error' }),
    }),
  },
  ['result', 'error'],
);

export const SYNC_BATCH_RESULT = obj({
  batchId: nullable(str()),
  receivedAt: dateTime(),
  results: arr(SYNC_RESULT),
  counts: obj({ applied: int(), duplicate: int(), conflict: int(), refused: int(), retry: int() }),
});

export const DRAWER_REPORT_PAYLOAD = obj(
  {
    shopId: uuid(),
    businessDay: date('The business day the report closes'),
    depositsTakenFen: FEN, refundsPaidFen: FEN, refundsPaidCashFen: FEN,
    netCashExpectedFen: int({ min: -100_000_000, max: 100_000_000 }),
    openingFloatFen: FEN,
    salesCount: int({ min: 0 }), containersSold: int({ min: 0 }), returnsCount: int({ min: 0 }),
    containersAccepted: int({ min: 0 }), containersRejected: int({ min: 0 }),
    clerkName: text(100),
    // Issue 17 (optional: terminals before it send none): buy-back paid (part of the refunds), points earned and redeemed.
    buybackPaidFen: FEN, pointsEarnedMilli: int({ min: 0 }), pointsRedeemedMilli: int({ min: 0 }),
    redemptionsCount: int({ min: 0 }), redeemedGoodsValueFen: FEN,
  },
  ['openingFloatFen', 'clerkName', 'buybackPaidFen', 'pointsEarnedMilli', 'pointsRedeemedMilli', 'redemptionsCount', 'redeemedGoodsValueFen'],
);

export const SNAPSHOT = obj({
  serverTime: dateTime(),
  businessDay: date(),
  county: obj({
    id: str(), nameZh: str(), nameEn: str(), timezone: str(), untrackedRefundPolicy: str(), lateReturnPolicy: str(), depositValidityDays: int({ min: 1, max: 36500, description: 'Days after a sale its deposit can be refunded (receipts print the last day)' }),
    // The county's incentive settings (docs/incentives.md): the terminal shows what a return will earn offline.
    ...INCENTIVE_FIELDS,
  }),
  shop: nullable(obj({ id: uuid(), name: str(), licenceNo: str(), address: str() })),
  containerTypes: arr(obj({ id: uuid(), code: str(), nameZh: str(), nameEn: str(), material: str(), volumeMl: int({ min: 1, description: 'Nominal volume in mL (or g for bags): incentive rates match it against their band' }) })),
  products: arr(obj({ id: uuid(), name: str(), registrationNo: str(), manufacturer: str(), gtin: nullable(str()), containerTypeId: uuid(), packSizeCode: nullable(str()), packSizeLabel: str() })),
  depositSchedules: arr(obj({ id: uuid(), containerTypeId: nullable(uuid()), depositFen: FEN, effectiveFrom: date(), effectiveTo: nullable(date()) })),
  depositsInForce: arr(obj({ containerTypeId: uuid(), depositFen: nullable(FEN) })),
  incentiveRates: SNAPSHOT_INCENTIVE_RATES,
  incentivesInForce: SNAPSHOT_INCENTIVES_IN_FORCE,
  farmers: arr(obj({ id: uuid(), name: str(), phoneE164: str(), village: str() })),
  farmersIncluded: bool('false when the caller may not see farmers'),
  terminalJournalKeepDays: int({ min: 7, max: 3650, description: "Days the terminal keeps synced records (journal archives) before removing them: the county's setting" }),
  resend: nullable(obj({ id: uuid(), since: dateTime(), requestedAt: dateTime() })),
  publicUrl: nullable(str({ description: "The server's public address (its PUBLIC_URL), the one farmers' phones can open: a terminal's sale receipts carry its check page in their QR code (<publicUrl>/check/<county>?q=<receipt no.>). null when PUBLIC_URL is not set: the terminal then uses the address it is enrolled with" })),
  terminal: nullable(obj({
    id: uuid(),
    terminalNo: int({ min: 1, description: 'The terminal\'s number, unique in its county and never reused: its receipt numbers carry it (XS20261130-T007-0001), so no two terminals of a county print the same one' }),
  }, [], { description: 'The calling terminal; null when a user (not a terminal) asks' })),
});

export const SNAPSHOT_QUERY = obj({ countyId: COUNTY_CODE, shopId: uuid() }, ['countyId', 'shopId']);
