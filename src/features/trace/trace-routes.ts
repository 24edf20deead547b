// Traceability over HTTP (issue 16): one container's trace, the lot trace, the public check page and
// the administrator's export of the access log.
import { route, type RouteDef } from '../../http/route.js';
import { AppError } from '../../http/errors.js';
import { AuthThrottle, addressKey, clientAddress } from '../../auth/throttle.js';
import { COUNTY_CODE, FEN, arr, bool, date, dateTime, enumOf, int, nullable, obj, str, uuid } from '../../shared/schemas/builders.js';
import { businessDay, dayStart, addDays, DEFAULT_TIME_ZONE } from '../../shared/business-day.js';
import { accessLogCsv, accessReason, logAccess, readAccessLog } from '../access-log/access-log.js';
import { traceUnit } from './trace-service.js';
import { traceLot } from './lot-trace.js';
import { problemHtml, publicCheckPage } from './public-check.js';
import { DEMO_FACTS } from '../../shared/schemas/demo-examples.js';

const SHOP = obj({ shopId: uuid(), name: str(), licenceNo: str() });
const STATUS = enumOf(['unknown', 'sold', 'returned', 'in_transit', 'at_facility', 'disposed', 'rejected']);
const SEQS = arr(int({ min: 1 }), {});
const WHY = str({ max: 300, description: 'Why the record is read (written to the access log; the X-Access-Reason header does the same)' });

export const UNIT_TRACE_SCHEMA = obj({
  countyId: COUNTY_CODE,
  unitCode: str({ pattern: '^[0-9]{32}$' }),
  status: STATUS,
  product: nullable(obj({ productId: uuid(), name: str(), registrationNo: str(), manufacturer: str(), gtin: nullable(str()), containerType: str(), material: str() })),
  sale: nullable(obj({
    saleId: uuid(), lineNo: int({ min: 1 }), saleNo: str(), receiptNo: nullable(str()), shop: SHOP,
    eventTime: dateTime('When the sale happened at the shop'), recordedAt: dateTime('When the server stored it'), businessDay: date(),
    depositFen: FEN, unitState: enumOf(['outstanding', 'refunded', 'expired', 'late_refunded', 'late_returned', 'voided']), reversed: bool(),
    purchaser: nullable(obj({ farmerId: uuid(), name: str(), phone: str(), masked: bool('True for officials and inspectors: name and phone masked') })),
  })),
  returns: arr(obj({
    returnId: uuid(), itemNo: int({ min: 1 }), returnNo: str(), shop: SHOP, eventTime: dateTime(), recordedAt: dateTime(), businessDay: date(),
    inspection: enumOf(['accepted', 'rejected']), outcome: enumOf(['refunded', 'accepted_no_refund', 'refund_held', 'rejected']), reasonCode: nullable(str()),
    refundFen: FEN, likelyCounterfeit: bool(), reversed: bool(),
    refund: nullable(obj({ method: enumOf(['cash', 'mobile']), reference: nullable(str()), paidAt: dateTime(), returnTotalFen: FEN })),
    held: nullable(obj({
      heldRefundId: uuid(), state: enumOf(['held', 'approved', 'declined', 'paid', 'voided']), reason: enumOf(['unsold_code', 'likely_counterfeit']), amountFen: FEN,
      decision: nullable(obj({ decision: enumOf(['approve', 'decline']), reason: nullable(str()), decidedAt: dateTime() })),
      payout: nullable(obj({ method: enumOf(['cash', 'mobile', 'prepaid']), amountFen: FEN, paidAt: dateTime() })),
    })),
  })),
  bag: nullable(obj({
    bagId: uuid(), shopId: uuid(), material: str(), state: str(), sealNo: nullable(str()), declaredQuantity: int({ min: 0 }), expectedWeightG: int({ min: 0 }),
    shopWeightG: nullable(int()), openedAt: dateTime(), addedAt: dateTime(), sealedAt: nullable(dateTime()),
    holder: obj({ type: enumOf(['shop', 'hauler', 'facility']), id: uuid() }), custodyEvents: SEQS,
  })),
  manifest: nullable(obj({
    manifestId: uuid(), trackingNo: str(), status: enumOf(['open', 'in_transit', 'delivered', 'closed']), createdAt: dateTime(),
    transporters: arr(obj({ seq: int({ min: 1 }), haulerId: uuid(), name: str(), licenceNo: str(), addedAt: dateTime() })), custodyEvents: SEQS,
  })),
  receiving: nullable(obj({
    inspectionId: uuid(), outcome: enumOf(['accepted', 'partially_rejected', 'rejected', 'missing']), measuredWeightG: nullable(int()), countedQuantity: nullable(int()),
    rejectedQuantity: int({ min: 0 }), sealIntact: nullable(bool()), sealNoRead: nullable(str()), corrected: bool(), recordedAt: dateTime(),
    discrepancies: arr(obj({ type: str(), expectedValue: nullable(int()), actualValue: nullable(int()), comment: str() })), custodyEvents: SEQS,
  })),
  facility: nullable(obj({ facilityId: uuid(), name: str(), licenceNo: str(), kind: str() })),
  disposal: nullable(obj({
    disposalId: uuid(), method: enumOf(['recycling', 'incineration', 'landfill']), certificateNo: str(), disposedOn: date(), facilityLicenceNo: str(),
    disposalFacility: nullable(obj({ facilityId: uuid(), name: str() })), recordedAt: dateTime(), custodyEvents: SEQS,
  })),
  custody: arr(obj({
    seq: int({ min: 1 }), eventId: uuid(), type: str(), step: enumOf(['bag', 'manifest', 'receiving', 'disposal']), recordedAt: dateTime(), actor: str(), hash: str(),
    link: obj({ verified: bool(), reason: nullable(enumOf(['hash_mismatch', 'prev_hash_mismatch', 'seq_gap', 'column_mismatch'])), message: nullable(str()) }),
  })),
  chainLinksOk: bool('Every custody event of this trace is a sound link of the county\'s hash chain'),
});

const LOT_BAG = obj({ bagId: uuid(), quantity: int({ min: 1 }), sealNo: nullable(str()), state: str(), trackingNo: nullable(str()), certificateNo: nullable(str()) });
export const LOT_TRACE_SCHEMA = obj({
  countyId: COUNTY_CODE, matchedBy: enumOf(['fifo']),
  query: obj({ saleId: nullable(uuid()), lineNo: nullable(int()), gtin: nullable(str()), from: nullable(date()), to: nullable(date()) }),
  totals: obj({ sold: int({ min: 0 }), returned: int({ min: 0 }), bagged: int({ min: 0 }) }),
  lots: arr(obj({
    saleId: uuid(), lineNo: int({ min: 1 }), saleNo: str(), receiptNo: nullable(str()), shop: obj({ shopId: uuid(), name: str() }), eventTime: dateTime(), businessDay: date(),
    product: obj({ productId: uuid(), name: str(), registrationNo: str(), gtin: nullable(str()) }),
    quantity: int({ min: 0 }), depositPerContainerFen: FEN, outstanding: int({ min: 0 }), expired: int({ min: 0 }), voided: bool(), returned: int({ min: 0 }),
    returns: arr(obj({
      returnId: uuid(), itemNo: int({ min: 1 }), returnNo: str(), shop: obj({ shopId: uuid(), name: str() }), eventTime: dateTime(), businessDay: date(),
      source: enumOf(['lot', 'lot_expired']), quantity: int({ min: 1 }), refundFen: FEN, bags: arr(LOT_BAG), notYetBagged: int({ min: 0 }),
    })),
  })),
});

export const traceRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/counties/:countyId/units/:unitCode/trace', tag: 'traceability', auth: { permission: 'trace:read' },
    summary: 'One container\'s life (全程追溯): product, sale, return, bag, manifest and transporters, receiving, facility, disposal certificate — each custody step with its event and whether its hash-chain link verifies',
    description: 'The unit code may be given bare or as the trace URL printed on the container (URL-encoded in the path). The purchaser is masked for officials and inspectors, and their reads are written to the access log (reason: `why` or the X-Access-Reason header).',
    params: obj({ countyId: COUNTY_CODE, unitCode: str({ min: 1, max: 300, description: 'The 32-digit unit code, or a scanned trace URL holding it' }) }),
    query: obj({ why: WHY }, ['why']),
    responses: { 200: { description: 'The trace', schema: UNIT_TRACE_SCHEMA }, 404: { description: 'NOT_FOUND: nothing of the county holds this code' }, 410: { description: 'YEAR_ARCHIVED: the code\'s sale and returns are in an archived year; details name the year and the command that restores it' }, 422: { description: 'UNIT_CODE_INVALID' } },
    handler: async ({ params, query, principal, deps, req }) => {
      const trace = await traceUnit(deps.db.knex, params.countyId, params.unitCode, principal);
      if (trace.sale?.purchaser) {
        await logAccess(deps.db.knex, deps, principal, req, [{ countyId: params.countyId, recordType: 'sale_purchaser', recordId: trace.sale.purchaser.farmerId, action: 'GET /api/v1/counties/:countyId/units/:unitCode/trace' }], accessReason(req, query.why));
      }
      return { body: trace };
    },
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/lots/trace', tag: 'traceability', auth: { permission: 'trace:read' },
    summary: 'Lot trace for containers sold without a unit code: a sale line, or a GTIN and a range of days, lead to the returns matched to them (FIFO) and the bags that hold them',
    description: 'Give `saleId` (and optionally `lineNo`), or `gtin` with `from` and `to` (the county\'s days of the sales). Returns are the allocations the returns service made first-in-first-out; bags are inferred first-in-first-out at the returning shop per container type (`matchedBy: fifo`). No personal data.',
    params: obj({ countyId: COUNTY_CODE }),
    // The example: the lot of the demo product sold in March.
    query: obj({ saleId: uuid(), lineNo: int({ min: 1 }), gtin: str({ pattern: '^[0-9]{8}$|^[0-9]{12,14}$' }), from: date(), to: date() }, ['saleId', 'lineNo', 'gtin', 'from', 'to'],
      { examples: [{ gtin: DEMO_FACTS.productGtin, from: '2026-03-01', to: '2026-03-31' }] }),
    responses: { 200: { description: 'The lots and where their containers went', schema: LOT_TRACE_SCHEMA }, 422: { description: 'LOT_TRACE_QUERY_INVALID' } },
    handler: async ({ params, query, deps }) => ({ body: await traceLot(deps.db.knex, params.countyId, query) }),
  }),
  route({
    method: 'get', path: '/check/:countyId', tag: 'traceability', auth: 'public',
    summary: 'Public check without login: the page a QR scan opens (Chinese first, English) — a container\'s status with dates and the certificate number, or a receipt\'s containers; no personal data; rate-limited per client address',
    description: 'Server-rendered HTML. `q` is what was scanned: a trace URL or bare unit code, a receipt\'s QR payload (AGRIRETURN:SALE:<receipt no.> or agrireturn:sale:<county>:<sale id>) or a receipt number. Each client address may check PUBLIC_CHECKS_PER_ADDRESS times per throttle window before it waits (429 CHECK_RATE_LIMITED, a page with Retry-After).',
    params: obj({ countyId: COUNTY_CODE }),
    query: obj({ q: str({ min: 1, max: 300, description: 'What was scanned: a trace URL, a bare 32-digit unit code, or a sale receipt number' }) }),
    responses: {
      200: { description: 'The status page', contentType: 'text/html; charset=utf-8', schema: { type: 'string' } },
      404: { description: 'Nothing found (a page)', contentType: 'text/html; charset=utf-8', schema: { type: 'string' } },
      409: { description: 'RECEIPT_AMBIGUOUS (a page): more than one sale of the county carries this receipt number (receipts printed before terminals had numbers of their own); no sale is shown, the page says to ask the shop', contentType: 'text/html; charset=utf-8', schema: { type: 'string' } },
      422: { description: 'UNIT_CODE_INVALID (a page)', contentType: 'text/html; charset=utf-8', schema: { type: 'string' } },
      429: { description: 'CHECK_RATE_LIMITED (a page, with Retry-After)', contentType: 'text/html; charset=utf-8', schema: { type: 'string' } },
    },
    handler: async ({ params, query, deps, req }) => {
      const html = 'text/html; charset=utf-8';
      const throttle = AuthThrottle.of(deps);
      const key = addressKey('public_check', clientAddress(req));
      try {
        await throttle.check([key]);
        await throttle.fail([key]); // every check counts, found or not
        const page = await publicCheckPage(deps.db.knex, params.countyId, query.q);
        return { status: page.status, contentType: html, body: page.html, headers: { 'Cache-Control': 'no-store' } };
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        return { status: e.status, contentType: html, body: problemHtml(e.code, e.status), headers: { ...e.headers, 'Cache-Control': 'no-store' } };
      }
    },
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/access-log', tag: 'traceability', auth: { permission: 'access_log:read' },
    summary: 'The access log of personal-data reads by inspectors and officials (who, when, which record, why), as CSV or JSON',
    description: 'The period is the county\'s days from `from` to `to` (default: the last 30 days up to today).',
    params: obj({ countyId: COUNTY_CODE }),
    query: obj({ from: date(), to: date(), format: enumOf(['csv', 'json']), limit: int({ min: 1, max: 100_000 }) }, ['from', 'to', 'format', 'limit']),
    responses: {
      200: {
        description: 'The log, oldest first: CSV (UTF-8 with BOM) by default, JSON with format=json',
        contentType: 'text/csv; charset=utf-8', schema: { type: 'string' },
        alternatives: [{ contentType: 'application/json', schema: obj({ countyId: COUNTY_CODE, from: date(), to: date(), items: arr(obj({ accessedAt: dateTime(), userId: uuid(), username: str(), role: str(), recordType: str(), recordId: str(), action: str(), why: nullable(str()) })) }) }],
      },
    },
    handler: async ({ params, query, deps }) => {
      const tz = ((await deps.db.knex('counties').where({ id: params.countyId }).first('timezone')) as { timezone: string } | undefined)?.timezone ?? DEFAULT_TIME_ZONE;
      const to: string = query.to ?? businessDay(deps.clock.now(), tz);
      const from: string = query.from ?? addDays(to, -30);
      if (from > to) throw new AppError('VALIDATION_FAILED', undefined, [{ field: '/query/from', code: 'order', message: 'from is after to' }]);
      const rows = await readAccessLog(deps.db.knex, params.countyId, dayStart(from, tz), dayStart(addDays(to, 1), tz), query.limit ?? 100_000);
      if (query.format === 'json') {
        return { body: { countyId: params.countyId, from, to, items: rows.map((r) => ({ accessedAt: new Date(r.accessed_at).toISOString(), userId: r.user_id, username: r.username, role: r.role, recordType: r.record_type, recordId: r.record_id, action: r.action, why: r.why })) } };
      }
      return {
        contentType: 'text/csv; charset=utf-8', body: accessLogCsv(params.countyId, rows),
        headers: { 'Content-Disposition': `attachment; filename="access-log-${params.countyId}-${from}-${to}.csv"` },
      };
    },
  }),
];
