// The shops' statutory ledgers over HTTP: the sales ledger (Pesticide Management Regulation art. 27)
// and the recycling ledger (2020 Measures), each as CSV, XLSX and a printable page — one route per
// ledger and format, so every answer has one declared content type. Clerks and terminals get their
// own shop; officials their county (province officials their province), all shops or the one named.
import { route, type HandlerContext, type RouteDef } from '../../http/route.js';
import { COUNTY_CODE, date, obj, str, uuid } from '../../shared/schemas/builders.js';
import { buildLedger, type LedgerKind } from './ledger-service.js';
import { accessReason, logAccess } from '../access-log/access-log.js';
import { tableCsv, tableHtml, tableXlsx, type LedgerTable } from './ledger-formats.js';

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const MONTH = str({ pattern: '^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$', description: 'A month of the county (YYYY-MM); or give from and to', examples: ['2026-03'] });
const QUERY = obj({
  shopId: uuid('One shop of the county (clerks and terminals: their own, the default); without it, officials get every shop of the county'),
  period: MONTH,
  from: { ...date('First county business day (with to), of the years 1900–2999'), pattern: '^(?:19|2[0-9])[0-9]{2}-' },
  to: { ...date('Last county business day (with from), of the years 1900–2999'), pattern: '^(?:19|2[0-9])[0-9]{2}-' },
}, ['shopId', 'period', 'from', 'to']);

const FORMATS = {
  csv: { contentType: 'text/csv; charset=utf-8', schema: { type: 'string', description: 'UTF-8 with a BOM; a header row of Chinese column names; one row per record' } },
  xlsx: { contentType: XLSX_TYPE, schema: { type: 'string', format: 'binary', description: 'One sheet, header row frozen, Chinese column names, yuan as #,##0.00 and kg as #,##0.000' } },
  html: { contentType: 'text/html; charset=utf-8', schema: { type: 'string', description: 'A printable page, Chinese first, one table per shop' } },
} as const;
type Format = keyof typeof FORMATS;

const WHAT: Record<LedgerKind, string> = {
  sales: 'The sales ledger of Pesticide Management Regulation art. 27 (date, product, registration number, manufacturer, pack size, quantity, deposit, purchaser — masked for officials)',
  recycling: 'The recycling ledger of the 2020 Measures (containers received by type, count and weight; bags, where they went and when, disposal certificate)',
};

async function render(t: LedgerTable, format: Format): Promise<string | Buffer> {
  if (format === 'csv') return tableCsv(t);
  if (format === 'xlsx') return tableXlsx(t);
  return tableHtml(t);
}

function ledgerRoute(kind: LedgerKind, format: Format): RouteDef {
  return route({
    method: 'get', path: `/api/v1/counties/:countyId/statutory-ledgers/${kind}.${format}`, tag: 'custody',
    auth: { permission: 'custody:export', target: (ctx: HandlerContext<any, any>) => (ctx.query.shopId ? { countyId: ctx.params.countyId, shopId: ctx.query.shopId } : { countyId: ctx.params.countyId }) },
    summary: `${WHAT[kind]} as ${format.toUpperCase()}`,
    description: 'Period: period=YYYY-MM, or from and to (county business days); neither gives the county\'s current month. Clerks and terminals get their own shop (naming another is 403 OUT_OF_SCOPE); officials every shop of the county, or the shop named. docs/statutory-ledgers.md',
    params: obj({ countyId: COUNTY_CODE }),
    query: QUERY,
    scopeExample: ({ shopId }) => ({ query: { shopId, period: '2026-03' } }),
    responses: { 200: { description: `The ${kind} ledger as ${format.toUpperCase()}`, ...FORMATS[format] }, 404: { description: 'No such shop in this county' }, 410: { description: 'YEAR_ARCHIVED: the period reaches into a year the county has archived; details name the year and the command that restores it' } },
    handler: async ({ params, query, principal, deps, req }) => {
      const t = await buildLedger(deps.db.knex, kind, principal, { countyId: params.countyId, ...query }, deps.clock.now());
      // The sales ledger shows purchasers (masked for officials and inspectors): their reads are logged,
      // one row per sale shown (docs/traceability.md, access log).
      if (t.purchaserReads?.length) {
        await logAccess(deps.db.knex, deps, principal, req, t.purchaserReads.map((id) => ({ countyId: params.countyId, recordType: 'sale_purchaser' as const, recordId: id, action: `GET /api/v1/counties/:countyId/statutory-ledgers/${kind}.${format}` })), accessReason(req));
      }
      const body = await render(t, format);
      const headers: Record<string, string> = format === 'html' ? {} : { 'Content-Disposition': `attachment; filename="${t.fileStem}-${params.countyId}-${t.from}-${t.to}.${format}"` };
      return { contentType: FORMATS[format].contentType, body, headers };
    },
  });
}

export const statutoryLedgerRoutes: RouteDef[] = (['sales', 'recycling'] as const).flatMap((k) => (['csv', 'xlsx', 'html'] as const).map((f) => ledgerRoute(k, f)));
