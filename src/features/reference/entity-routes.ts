// The five routes every reference entity has: list, get, create, change (incl. deactivate) and history.
import { route, type RouteDef } from '../../http/route.js';
import { COUNTY_CODE, PAGE_QUERY, SCHEMA_ERROR_CODES, VERSION, arr, bool, dateTime, enumOf, int, obj, page, partial, refusedAs, str, uuid, type JsonSchema } from '../../shared/schemas/builders.js';
import type { EntityDef } from './entity.js';
import { EntityService } from './entity-service.js';
import { accessReason, logAccess } from '../access-log/access-log.js';

/** The field's schema with the entity's example value for it (EntityDef.example), keeping its refusal code. */
function withExample(def: EntityDef, key: string, schema: JsonSchema): JsonSchema {
  if (!def.example || !(key in def.example)) return schema;
  const out = { ...schema, examples: [def.example[key]] };
  const code = SCHEMA_ERROR_CODES.get(schema);
  return code ? refusedAs(code, out) : out;
}

export function itemSchema(def: EntityDef, extra: Record<string, JsonSchema> = {}, optional: string[] = []): JsonSchema {
  const props: Record<string, JsonSchema> = {
    id: withExample(def, 'id', uuid()), countyId: COUNTY_CODE,
    ...Object.fromEntries(Object.entries(def.fields).map(([k, f]) => [k, withExample(def, k, f.response ?? f.schema)])),
    active: bool(), version: int({ min: 1 }), createdAt: dateTime(), updatedAt: dateTime(),
    ...extra,
  };
  // Every column is answered (null where empty), so every field is required: generated clients type ids as present.
  return { type: 'object', properties: props, required: Object.keys(props).filter((k) => !optional.includes(k)), additionalProperties: false };
}

export function createSchema(def: EntityDef): JsonSchema {
  const props: Record<string, JsonSchema> = {};
  const optional: string[] = [];
  for (const [k, f] of Object.entries(def.fields)) {
    if (f.create === 'never') continue;
    props[k] = withExample(def, k, f.schema);
    if (f.create === 'optional') optional.push(k);
  }
  return obj(props, optional);
}

export function patchSchema(def: EntityDef): JsonSchema {
  const props: Record<string, JsonSchema> = { version: VERSION, active: bool('false deactivates the record, true brings it back') };
  for (const [k, f] of Object.entries(def.fields)) if (f.update) props[k] = f.schema;
  return partial(props, { required: ['version'], minProperties: 2 });
}

export function entityRoutes(def: EntityDef, opts: { itemExtra?: Record<string, JsonSchema>; itemOptional?: string[] } = {}): RouteDef[] {
  const base = `/api/v1/counties/:countyId/${def.plural}`;
  const countyParams = obj({ countyId: COUNTY_CODE });
  const itemParams = obj({ countyId: COUNTY_CODE, id: uuid() });
  const item = itemSchema(def, opts.itemExtra, opts.itemOptional);
  const filterSchemas = Object.fromEntries(Object.entries(def.filters ?? {}).map(([k, f]) => [k, f.schema]));
  const listQuery = obj({ ...PAGE_QUERY, active: bool('Only active (true) or only deactivated (false) records'), ...filterSchemas }, ['limit', 'cursor', 'active', ...Object.keys(filterSchemas)]);
  const svc = (deps: Parameters<RouteDef['handler']>[0]['deps']) => new EntityService(def, deps);
  const history = obj({ items: arr(obj({ version: int({ min: 1 }), op: enumOf(['create', 'update', 'deactivate', 'reactivate', 'supersede']), actor: str(), recordedAt: dateTime(), data: { ...item, required: ['id', 'version'], description: 'The record as it was at this version (fields added to the record since are absent from older versions)' } })) });

  const routes: RouteDef[] = [
    route({
      method: 'get', path: base, tag: def.tag, auth: { permission: def.readPermission },
      summary: `List ${def.label} of a county`, params: countyParams, query: listQuery,
      responses: { 200: { description: `A page of ${def.label}`, schema: page(item) } },
      handler: async ({ params, query, principal, deps, req }) => {
        const body = await svc(deps).list(params.countyId, query, principal);
        // Farmers are personal data: an inspector's or official's look-up is logged, one row per farmer shown.
        if (def.entity === 'farmer') {
          await logAccess(deps.db.knex, deps, principal, req, body.items.map((f) => ({ countyId: params.countyId, recordType: 'farmer' as const, recordId: String(f.id), action: `GET ${base}` })), accessReason(req));
        }
        return { body };
      },
    }),
    route({
      method: 'get', path: `${base}/:id`, tag: def.tag, auth: { permission: def.readPermission },
      summary: `One of the county's ${def.label}`, params: itemParams,
      responses: { 200: { description: def.entity, schema: item }, 404: { description: 'NOT_FOUND' } },
      handler: async ({ params, principal, deps, req }) => {
        const body = await svc(deps).get(params.countyId, params.id, principal);
        if (def.entity === 'farmer') {
          await logAccess(deps.db.knex, deps, principal, req, [{ countyId: params.countyId, recordType: 'farmer', recordId: params.id, action: `GET ${base}/:id` }], accessReason(req));
        }
        return { body };
      },
    }),
    route({
      method: 'post', path: base, tag: def.tag, auth: { permission: def.writePermission },
      summary: `Add to the county's ${def.label}`, params: countyParams, body: createSchema(def),
      responses: { 201: { description: 'Created', schema: item }, 409: { description: 'DUPLICATE' }, 422: { description: 'A rule of this record is broken' } },
      handler: async ({ params, body, principal, deps }) => ({ status: 201, body: await svc(deps).create(params.countyId, body, principal) }),
    }),
  ];
  if (def.updatable !== false) {
    routes.push(route({
      method: 'patch', path: `${base}/:id`, tag: def.tag, auth: { permission: def.writePermission },
      summary: `Change or deactivate one of the county's ${def.label} (send the version you read)`,
      params: itemParams, body: patchSchema(def),
      responses: { 200: { description: 'Changed', schema: item }, 404: { description: 'NOT_FOUND' }, 409: { description: 'VERSION_CONFLICT or DUPLICATE' }, 422: { description: 'A rule of this record is broken' } },
      handler: async ({ params, body, principal, deps }) => ({ body: await svc(deps).update(params.countyId, params.id, body, principal) }),
    }));
  }
  routes.push(route({
    method: 'get', path: `${base}/:id/history`, tag: def.tag, auth: { permission: 'history:read' },
    summary: `Every version of one of the county's ${def.label}, oldest first`, params: itemParams,
    responses: { 200: { description: 'Versions', schema: history }, 404: { description: 'NOT_FOUND' } },
    handler: async ({ params, principal, deps }) => ({ body: await svc(deps).history(params.countyId, params.id, principal) }),
  }));
  return routes;
}
