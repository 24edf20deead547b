// The registry of issued unit codes over HTTP: a county official (or admin) streams a product's
// list of issued codes in (CSV or JSON, read as it arrives, never parsed whole) and reads the imports.
import { route, type RouteDef } from '../../http/route.js';
import { AppError } from '../../http/errors.js';
import { actorName } from '../../auth/authenticate.js';
import { COUNTY_CODE, PAGE_QUERY, arr, dateTime, enumOf, int, nullable, obj, str, uuid } from '../../shared/schemas/builders.js';
import { importCodeRegistry } from './registry-import.js';

const PARAMS = obj({ countyId: COUNTY_CODE, productId: uuid() });
const COUNT = int({ min: 0 });

const IMPORT_RESULT = obj({
  importId: uuid(), countyId: str(), productId: uuid(), source: str(), format: str(), state: str(),
  codesRead: COUNT, codesAdded: COUNT, duplicates: COUNT, invalid: COUNT,
  invalidSamples: arr(obj({ at: str(), value: str(), reason: str() })), registrySize: COUNT, startedAt: dateTime(), finishedAt: dateTime(),
});

const IMPORT_SUMMARY = obj({
  importId: uuid(), source: str(), format: str(), state: str(), codesRead: COUNT, codesAdded: COUNT, duplicates: COUNT, invalid: COUNT, actor: str(), startedAt: dateTime(), finishedAt: nullable(dateTime()),
});

/** Paths whose request body is streamed by the handler, so the JSON body parser must leave it alone. */
export const STREAMED_BODY_PATH = /^\/api\/v1\/counties\/[^/]+\/products\/[^/]+\/code-registry\/?$/;

export const codeRegistryRoutes: RouteDef[] = [
  route({
    method: 'post', path: '/api/v1/counties/:countyId/products/:productId/code-registry', tag: 'code-registry',
    auth: { permission: 'code_registry:import' },
    summary: 'Import a list of issued unit codes of a product (streamed CSV or JSON; millions of rows)',
    description: 'The body is the file itself, read as it arrives: `text/csv` (one code or trace URL per line in the first column, an optional header) or `application/json` (an array of codes, of objects with `code`/`unitCode`, or `{"codes": [...]}`). Codes already in the registry are counted as duplicates; values that are not a unit code of this product are counted as invalid (the first 20 are shown). Once an import completes, a returned unit code of this product that is absent from its registry is flagged as a likely counterfeit and its refund is held for review.',
    params: PARAMS,
    query: obj({ source: enumOf(['manufacturer', 'national_platform'], 'Where the list comes from (default manufacturer)') }, ['source']),
    responses: {
      201: { description: 'The import, complete', schema: IMPORT_RESULT },
      404: { description: 'NOT_FOUND (no such product)' }, 415: { description: 'CODE_REGISTRY_FORMAT' },
      422: { description: 'CODE_REGISTRY_MALFORMED, CODE_REGISTRY_EMPTY' },
    },
    handler: async ({ params, query, principal, deps, req }) => {
      const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
      const format = req.is('text/csv') ? 'csv' : req.is('application/json') ? 'json' : null;
      if (!format || encoding !== 'identity') {
        req.resume();
        throw new AppError('CODE_REGISTRY_FORMAT', undefined, [{ field: '/headers/content-type', code: 'unsupported', message: `got ${String(req.headers['content-type'] ?? 'none')}${encoding !== 'identity' ? `, encoded ${encoding}` : ''}` }]);
      }
      try {
        const result = await importCodeRegistry(deps.db.knex, {
          countyId: params.countyId, productId: params.productId, source: query.source ?? 'manufacturer', format, actor: actorName(principal), now: () => deps.clock.now(),
        }, req);
        return { status: 201, body: result };
      } catch (err) {
        req.resume(); // drain what the client still sends, so the error answer reaches it
        throw err;
      }
    },
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/products/:productId/code-registry', tag: 'code-registry',
    auth: { permission: 'code_registry:import' },
    summary: 'The registry of issued unit codes of a product: its size and its imports',
    description: 'The imports come a page at a time, oldest first: pass `nextCursor` back as `cursor` for the next page. `imports` is the same page under its old name, deprecated, removed in the next release.',
    params: PARAMS,
    query: obj({ ...PAGE_QUERY }, ['limit', 'cursor']),
    responses: { 200: { description: 'The registry', schema: obj({
      productId: uuid(), active: { type: 'boolean', description: 'Some import of this product completed (over all imports, not only this page)' }, registrySize: COUNT,
      items: arr(IMPORT_SUMMARY),
      nextCursor: nullable(str({ description: 'Pass back as cursor for the next page; null on the last page' })),
      imports: { ...arr(IMPORT_SUMMARY), deprecated: true, description: 'Deprecated: the same imports as items; removed in the next release' },
    }) } },
    handler: async ({ params, query, deps }) => {
      const knex = deps.db.knex;
      const limit = query.limit ?? 50;
      const q = knex('code_registry_imports').where({ county_id: params.countyId, product_id: params.productId });
      if (query.cursor) {
        // The cursor is the last import of the previous page (its id): the next page starts after its (started_at, id).
        const at = await knex('code_registry_imports').where({ county_id: params.countyId, product_id: params.productId, id: query.cursor }).first('id');
        if (!at) throw new AppError('VALIDATION_FAILED', undefined, [{ field: '/query/cursor', code: 'cursor', message: 'is not a cursor this server gave (pass back nextCursor unchanged)' }]);
        q.whereRaw('(started_at, id) > (SELECT c.started_at, c.id FROM code_registry_imports c WHERE c.county_id = ? AND c.id = ?)', [params.countyId, query.cursor]);
      }
      const rows = (await q.orderBy([{ column: 'started_at', order: 'asc' }, { column: 'id', order: 'asc' }]).limit(limit + 1)) as Array<Record<string, any>>;
      const page = rows.slice(0, limit);
      const complete = await knex('code_registry_imports').where({ county_id: params.countyId, product_id: params.productId, state: 'complete' }).first('id');
      const size = await knex('issued_unit_codes').where({ county_id: params.countyId, product_id: params.productId }).count<{ n: string }[]>({ n: '*' });
      const items = page.map((m) => ({
        importId: m.id, source: m.source, format: m.format, state: m.state, codesRead: Number(m.codes_read), codesAdded: Number(m.codes_added),
        duplicates: Number(m.duplicates), invalid: Number(m.invalid), actor: m.actor, startedAt: new Date(m.started_at).toISOString(),
        finishedAt: m.finished_at ? new Date(m.finished_at).toISOString() : null,
      }));
      return { body: {
        productId: params.productId, active: complete !== undefined, registrySize: Number(size[0]?.n ?? 0),
        items, nextCursor: rows.length > limit ? (page[page.length - 1]!.id as string) : null, imports: items,
      } };
    },
  }),
];
