// Small builders for JSON Schemas (draft 2020-12, which OpenAPI 3.1 uses as is). Shared by the
// county server (ajv validation, OpenAPI) and the terminals (validating what they send and cache).

import { PHONE_PATTERN } from '../phone.js';

export type JsonSchema = Record<string, unknown>;

/** An object that refuses unknown fields; every property is required unless listed in `optional`. */
export function obj(properties: Record<string, JsonSchema>, optional: string[] = [], extra: JsonSchema = {}): JsonSchema {
  const required = Object.keys(properties).filter((k) => !optional.includes(k));
  return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false, ...extra };
}

/** Like obj but every property optional: a PATCH body. */
export function partial(properties: Record<string, JsonSchema>, extra: JsonSchema = {}): JsonSchema {
  return { type: 'object', properties, additionalProperties: false, minProperties: 1, ...extra };
}

export const str = (opts: { min?: number; max?: number; pattern?: string; format?: string; description?: string; examples?: unknown[] } = {}): JsonSchema => ({
  type: 'string',
  ...(opts.min !== undefined ? { minLength: opts.min } : {}),
  ...(opts.max !== undefined ? { maxLength: opts.max } : {}),
  ...(opts.pattern ? { pattern: opts.pattern } : {}),
  ...(opts.format ? { format: opts.format } : {}),
  ...(opts.description ? { description: opts.description } : {}),
  ...(opts.examples ? { examples: opts.examples } : {}),
});

export const text = (max: number, description?: string): JsonSchema => str({ min: 1, max, pattern: '\\S', ...(description ? { description } : {}) });

export const int = (opts: { min?: number; max?: number; description?: string } = {}): JsonSchema => ({
  type: 'integer',
  ...(opts.min !== undefined ? { minimum: opts.min } : {}),
  ...(opts.max !== undefined ? { maximum: opts.max } : {}),
  ...(opts.description ? { description: opts.description } : {}),
});

export const bool = (description?: string): JsonSchema => ({ type: 'boolean', ...(description ? { description } : {}) });
export const uuid = (description?: string): JsonSchema => ({ type: 'string', format: 'uuid', ...(description ? { description } : {}) });
export const date = (description?: string): JsonSchema => ({ type: 'string', format: 'date', ...(description ? { description } : {}) });
export const dateTime = (description?: string): JsonSchema => ({ type: 'string', format: 'date-time', ...(description ? { description } : {}) });
export const enumOf = <T extends string>(values: readonly T[], description?: string): JsonSchema => ({ type: 'string', enum: [...values], ...(description ? { description } : {}) });
export const arr = (items: JsonSchema, opts: { min?: number; max?: number } = {}): JsonSchema => ({
  type: 'array', items,
  ...(opts.min !== undefined ? { minItems: opts.min } : {}),
  ...(opts.max !== undefined ? { maxItems: opts.max } : {}),
});

/**
 * Schemas whose refusal keeps the stable error code the service used before the rule moved into the
 * schema (INVALID_PHONE, INVALID_REGISTRATION_NO, …): when every problem of a request is in such
 * schemas with one code, validation answers that code instead of VALIDATION_FAILED. Keyed by the
 * schema object, so the JSON Schema itself stays plain (ajv strict mode, OpenAPI, terminals).
 */
export const SCHEMA_ERROR_CODES = new WeakMap<JsonSchema, string>();
/** Every code some schema is refused with (besides VALIDATION_FAILED). */
export const SCHEMA_REFUSAL_CODES = new Set<string>();

/** The schema, refused with this stable code (see SCHEMA_ERROR_CODES). */
export function refusedAs<T extends JsonSchema>(code: string, schema: T): T {
  SCHEMA_ERROR_CODES.set(schema, code);
  SCHEMA_REFUSAL_CODES.add(code);
  return schema;
}

/** Allows null besides the schema's own type. */
export function nullable(schema: JsonSchema): JsonSchema {
  const t = schema.type;
  if (typeof t === 'string') {
    const { enum: en, ...rest } = schema as { enum?: unknown[] } & JsonSchema;
    return { ...rest, type: [t, 'null'], ...(en ? { enum: [...en, null] } : {}) };
  }
  return { anyOf: [schema, { type: 'null' }] };
}

export const COUNTY_CODE = str({ pattern: '^[1-8][0-9]{5}$', description: 'GB/T 2260 six-digit county code', examples: ['511425'] });
export const FEN = int({ min: 0, max: 100_000_000, description: 'Amount in fen (1 yuan = 100 fen)' });
export const VERSION = int({ min: 1, description: 'The version you read; a stale version is refused with VERSION_CONFLICT' });

/** Query parameters of every list endpoint. */
export const PAGE_QUERY = {
  limit: { type: 'integer', minimum: 1, maximum: 500, default: 50, description: 'Page size' },
  // A server cursor is the last id of the previous page; anything else is refused here, naming
  // /query/cursor, rather than reaching the database as a value it cannot compare.
  cursor: { type: 'string', maxLength: 200, pattern: '^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[1-8][0-9]{5})$', description: 'The nextCursor of the previous page, exactly as the server returned it' },
} satisfies Record<string, JsonSchema>;

export function page(item: JsonSchema): JsonSchema {
  return obj({ items: arr(item), nextCursor: nullable(str()) });
}

/**
 * A phone number as people type it (a farmer's, a purchaser's, a returner's): the pattern is exactly
 * what the server turns into E.164 (src/shared/phone.ts, checked both ways by
 * test/shared/schema-patterns.test.ts), so a number the server cannot use is refused by validation,
 * before any work, with 422 INVALID_PHONE naming the field (a value that is not a string: 400
 * VALIDATION_FAILED).
 */
export const PHONE_DESCRIPTION = 'A Chinese mobile number in any common spelling (138 0013 8000, +86-138…, full-width digits) or a foreign number in international form; stored as E.164. Landlines and service numbers cannot receive SMS and are refused with 422 INVALID_PHONE';
export function phone(description = PHONE_DESCRIPTION): JsonSchema {
  return refusedAs('INVALID_PHONE', str({ min: 5, max: 30, pattern: PHONE_PATTERN, description, examples: ['174 6464 7741'] }));
}
