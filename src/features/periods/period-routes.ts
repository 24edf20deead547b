// Periods of a county: list months with their state, and close one (county officials, admins).
import { route, type RouteDef } from '../../http/route.js';
import { COUNTY_CODE, arr, bool, dateTime, enumOf, int, nullable, obj, refusedAs, str, uuid } from '../../shared/schemas/builders.js';
import { PeriodService } from './period-service.js';

const PERIOD = obj({
  period: str(), from: dateTime(), to: dateTime(), state: enumOf(['open', 'closed']), ended: bool(),
  closedAt: nullable(dateTime()), closedBy: nullable(str()), reconciliationRunId: nullable(uuid()), figuresAsOf: nullable(dateTime()),
  latestReconciliationRunId: nullable(uuid()),
});
// Years 1900–2999 like every period of the API (a month of 9999 would end in year 10000, past what dates hold).
const MONTH = refusedAs('INVALID_PERIOD', str({ pattern: '^(?:19|2[0-9])[0-9]{2}-(?:0[1-9]|1[0-2])$', description: 'A month in the county time zone (YYYY-MM) of the years 1900–2999; otherwise 422 INVALID_PERIOD', examples: ['2026-03'] }));

export const periodRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/counties/:countyId/periods', tag: 'reconciliation', auth: { permission: 'ledger:read' },
    summary: 'The months of a county with their state (open or closed) and the first open month late records are booked in',
    description: 'A page of months, newest first: pass `nextCursor` back as `cursor` for older months. `periods` is the same page under its old name, deprecated, removed in the next release.',
    params: obj({ countyId: COUNTY_CODE }),
    query: obj({
      limit: int({ min: 1, max: 500, description: 'Page size (default 240: every month the list holds, as before paging)' }),
      cursor: { ...MONTH, description: 'The nextCursor of the previous page, exactly as the server returned it' },
    }, ['limit', 'cursor']),
    responses: { 200: { description: 'Months, newest first', schema: obj({
      countyId: str(), firstOpenPeriod: str(), items: arr(PERIOD),
      nextCursor: nullable(str({ description: 'Pass back as cursor for the next (older) page; null on the last page' })),
      periods: { ...arr(PERIOD), deprecated: true, description: 'Deprecated: the same months as items; removed in the next release' },
    }) } },
    handler: async ({ params, query, deps }) => {
      const page = await new PeriodService(deps).list(params.countyId, { limit: query.limit ?? 240, cursor: query.cursor });
      return { body: { ...page, periods: page.items } };
    },
  }),
  route({
    method: 'post', path: '/api/v1/counties/:countyId/periods/:period/close', tag: 'reconciliation', auth: { permission: 'periods:close' },
    summary: 'Close a month after its reconciliation: its statements and reconciliation no longer change; later records of it are booked as late adjustments in the first open month',
    params: obj({ countyId: COUNTY_CODE, period: MONTH }),
    responses: {
      201: { description: 'The closed month', schema: PERIOD },
      409: { description: 'PERIOD_NOT_RECONCILED, PERIOD_ALREADY_CLOSED' },
      422: { description: 'PERIOD_NOT_ENDED' },
    },
    handler: async ({ params, principal, deps }) => ({ status: 201, body: await new PeriodService(deps).close(principal, params.countyId, params.period) }),
  }),
];
