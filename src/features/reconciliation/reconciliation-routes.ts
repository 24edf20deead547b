// Reconciliation runs of a county: run one now, list them, read one as JSON, CSV or a printable page.
import { route, type RouteDef } from '../../http/route.js';
import { actorName } from '../../auth/authenticate.js';
import { COUNTY_CODE, PAGE_QUERY, dateTime, enumOf, obj, refusedAs, str, uuid } from '../../shared/schemas/builders.js';
import { listRuns, loadRun, runReconciliation } from './reconciliation-service.js';
import { runCsv, runHtml } from './reconciliation-export.js';
import { RECONCILIATION_RUN, RECONCILIATION_RUN_LIST } from './reconciliation-schemas.js';

const base = '/api/v1/counties/:countyId/reconciliations';
const RUN = RECONCILIATION_RUN;
/** The run list's cursor is the last run's (runAt, id), base64url: opaque to clients. */
const RUN_CURSOR = { type: 'string', maxLength: 200, pattern: '^[A-Za-z0-9_-]+$', description: 'The nextCursor of the previous page, exactly as the server returned it' };

export const reconciliationRoutes: RouteDef[] = [
  route({
    method: 'post', path: base, tag: 'reconciliation', auth: { permission: 'reconciliation:run' },
    summary: 'Run and store a reconciliation of the money, unit and custody books for a month or a year',
    params: obj({ countyId: COUNTY_CODE }),
    body: obj({
      period: refusedAs('RECONCILIATION_PERIOD_INVALID', str({ max: 7, pattern: '^(?:19|2[0-9])[0-9]{2}(?:-(?:0[1-9]|1[0-2]))?$', description: 'A month (2026-03) or a year (2026) of the years 1900–2999, in the county time zone; otherwise 422 RECONCILIATION_PERIOD_INVALID', examples: ['2026-03'] })),
      asOf: dateTime('Record-time cut-off (default: now): only rows stored at or before it count, so the same asOf gives the same figures'),
    }, ['asOf']),
    responses: { 201: { description: 'The run', schema: RUN }, 410: { description: 'YEAR_ARCHIVED: the period reaches into a year the county has archived, or its cumulative figures would need one the per-day books no longer hold; details name the year and the command that restores it (stored runs stay readable)' }, 422: { description: 'RECONCILIATION_PERIOD_INVALID, RECONCILIATION_AS_OF_IN_FUTURE' } },
    handler: async ({ params, body, principal, deps }) => {
      const run = await runReconciliation(deps.db.knex, {
        countyId: params.countyId, period: body.period, asOf: body.asOf ? new Date(body.asOf) : undefined, now: deps.clock.now(), trigger: 'api', actor: actorName(principal),
      });
      return { status: 201, body: run };
    },
  }),
  route({
    method: 'get', path: base, tag: 'reconciliation', auth: { permission: 'reconciliation:read' },
    summary: 'The reconciliation runs of a county (without figures), newest first, a page at a time',
    params: obj({ countyId: COUNTY_CODE }),
    query: obj({ ...PAGE_QUERY, cursor: RUN_CURSOR }, ['limit', 'cursor']),
    responses: { 200: { description: 'Runs, newest first; `runs` is the same page under its old name, deprecated, removed in the next release', schema: RECONCILIATION_RUN_LIST } },
    handler: async ({ params, query, deps }) => {
      const page = await listRuns(deps.db.knex, params.countyId, { limit: query.limit, cursor: query.cursor });
      return { body: { ...page, runs: page.items } };
    },
  }),
  route({
    method: 'get', path: `${base}/:runId`, tag: 'reconciliation', auth: { permission: 'reconciliation:read' },
    summary: 'One run as JSON, as CSV (format=csv) or as a printable bilingual page (format=html)',
    params: obj({ countyId: COUNTY_CODE, runId: uuid() }),
    query: obj({ format: enumOf(['json', 'csv', 'html']) }, ['format']),
    responses: {
      200: { description: 'The run (JSON; format=csv and format=html give the same run as CSV or a printable page)', schema: RUN, alternatives: [{ contentType: 'text/csv; charset=utf-8' }, { contentType: 'text/html; charset=utf-8' }] },
      404: { description: 'NOT_FOUND' },
    },
    handler: async ({ params, query, deps }) => {
      const run = await loadRun(deps.db.knex, params.countyId, params.runId);
      if (query.format === 'csv') {
        return { contentType: 'text/csv; charset=utf-8', body: runCsv(run), headers: { 'Content-Disposition': `attachment; filename="reconciliation-${run.countyId}-${run.period}-${run.id.slice(0, 8)}.csv"` } };
      }
      if (query.format === 'html') {
        const c = await deps.db.knex('counties').where({ id: params.countyId }).first('name_zh');
        return { contentType: 'text/html; charset=utf-8', body: runHtml(run, c?.name_zh ?? run.countyId) };
      }
      return { body: run };
    },
  }),
];
