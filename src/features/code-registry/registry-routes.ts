// The registry of issued unit codes over HTTP: a county official (or admin) streams a product's
// list of issued codes in (CSV or JSON, read as it arrives, never parsed whole) and reads the imports.
import { route, type RouteDef } from '../../http/route.js';
import { AppError } from '../../http/errors.js';
import { actorName } from '../../auth/authenticate.js';
import { COUNTY_CODE, arr, dateTime, enumOf, int, nullable, obj, str, uuid } from '../../shared/schemas/builders.js';
import { importCodeRegistry } from './registry-import.js';

const PARAMS = obj({ countyId: COUNTY_CODE, productId: uuid() });
const COUNT = int({ min: 0 });

const IMPORT_RESULT = obj({
  importId: uuid(), countyId: str(), productId: uuid(), source: str(), format: str(), state: str(),
  codesRead: COUNT, codesAdded: COUNT, duplicates: COUNT, invalid: COUNT,
  invalidSamples: arr(obj({ at: str(), value: str(), reason: str() })), registrySize: COUNT, startedAt: dateTime(), finishedAt: dateTime(),
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
    params: PARAMS,
    responses: { 200: { description: 'The registry', schema: obj({ productId: uuid(), active: { type: 'boolean' }, registrySize: COUNT, imports: arr(obj({
      importId: uuid(), source: str(), format: str(), state: str(), codesRead: COUNT, codesAdded: COUNT, duplicates: COUNT, invalid: COUNT, actor: str(), startedAt: dateTime(), finishedAt: nullable(dateTime()),
    })) }) } },
    handler: async ({ params, deps }) => {
      const knex = deps.db.knex;
      const imports = (await knex('code_registry_imports').where({ county_id: params.countyId, product_id: params.productId }).orderBy('started_at')) as Array<Record<string, any>>;
      const size = await knex('issued_unit_codes').where({ county_id: params.countyId, product_id: params.productId }).count<{ n: string }[]>({ n: '*' });
      return { body: {
        productId: params.productId, active: imports.some((m) => m.state === 'complete'), registrySize: Number(size[0]?.n ?? 0),
        imports: imports.map((m) => ({
          importId: m.id, source: m.source, format: m.format, state: m.state, codesRead: Number(m.codes_read), codesAdded: Number(m.codes_added),
          duplicates: Number(m.duplicates), invalid: Number(m.invalid), actor: m.actor, startedAt: new Date(m.started_at).toISOString(),
          finishedAt: m.finished_at ? new Date(m.finished_at).toISOString() : null,
        })),
      } };
    },
  }),
];
