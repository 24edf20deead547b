// The one path convention (docs/api.md, "Conventions"): what a county owns lives under
// /api/v1/counties/{countyId}/…, the county taken from the path, never from the body. Older
// top-level paths stay for one release as deprecated aliases: same behaviour, marked `deprecated` in
// the OpenAPI document, and every answer carries Deprecation, Sunset and a Link to the successor.
import type { Principal } from '../auth/permissions.js';
import type { JsonSchema } from '../shared/schemas/builders.js';
import type { RouteDef } from './route.js';

/** When the aliases were deprecated (RFC 9745 structured date: 2026-11-30T00:00:00Z). */
export const ALIAS_DEPRECATED_SINCE = '@1795996800';
/** When the aliases go away (RFC 8594 HTTP-date): one release after the county-scoped paths. */
export const ALIAS_SUNSET = 'Wed, 30 Jun 2027 00:00:00 GMT';

/** The same route at its old path, marked deprecated; `successor` is the new path (OpenAPI form). */
export function deprecatedAlias(def: RouteDef, successor: string): RouteDef {
  return {
    ...def,
    deprecated: { successor, since: ALIAS_DEPRECATED_SINCE, sunset: ALIAS_SUNSET },
    description: `Deprecated alias of \`${def.method.toUpperCase()} ${successor}\`, kept until ${ALIAS_SUNSET}; answers carry \`Deprecation\`, \`Sunset\` and \`Link: <…>; rel="successor-version"\`. ${def.description ?? ''}`.trim(),
  };
}

/** The headers of an answer from a deprecated route. */
export function deprecationHeaders(d: NonNullable<RouteDef['deprecated']>, params: Record<string, unknown>): Record<string, string> {
  const link = d.successor.replace(/\{([A-Za-z]+)\}/g, (_m, k: string) => (typeof params[k] === 'string' ? encodeURIComponent(params[k] as string) : `{${k}}`));
  return { Deprecation: d.since, Sunset: d.sunset, Link: `<${link}>; rel="successor-version"` };
}

/** A body schema without some of its fields (the county-scoped path takes `countyId` from the path). */
export function withoutFields(schema: JsonSchema, ...fields: string[]): JsonSchema {
  const properties = { ...((schema.properties ?? {}) as Record<string, JsonSchema>) };
  for (const f of fields) delete properties[f];
  const required = ((schema.required as string[] | undefined) ?? []).filter((r) => !fields.includes(r));
  return { ...schema, properties, required };
}

/**
 * The body the service sees for a county-scoped request: what the deprecated alias would have been
 * sent for the same record. A caller of its own county sends no countyId there (the county is their
 * own), anyone else names it; so a retry may move from the alias to the new path with the same id
 * and content and get the stored answer back instead of IDEMPOTENCY_CONFLICT.
 */
export function aliasBody<B extends object>(principal: Principal, countyId: string, body: B): B & { countyId?: string } {
  return principal.countyId === countyId ? body : { ...body, countyId };
}
