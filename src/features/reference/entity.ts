// Reference data entities of a county share one life cycle: created, changed with optimistic
// versioning, deactivated (never deleted), every version kept in entity_history. An EntityDef says
// what differs; this module supplies the store, the service and the routes from it.
import type { Knex } from 'knex';
import type { Permission, Principal } from '../../auth/permissions.js';
import type { JsonSchema } from '../../shared/schemas/builders.js';

export interface FieldDef {
  schema: JsonSchema;
  /** The field as answered, when that differs from what is taken (a phone: taken in any spelling, answered as E.164 or masked). */
  response?: JsonSchema;
  /** Required on create unless listed optional; 'default' fields fall back to the column default. */
  create: 'required' | 'optional' | 'never';
  update: boolean;
}

export interface RuleContext {
  trx: Knex;
  countyId: string;
  principal: Principal;
  now: Date;
  /** The current row on update, undefined on create. */
  existing?: Record<string, unknown>;
}

export interface EntityDef {
  /** Singular name used in history and messages: 'shop'. */
  entity: string;
  /** Path segment and table: 'shops'. */
  plural: string;
  table: string;
  tag: string;
  label: string;
  /** API field name (camelCase) → definition; the column is its snake_case. */
  fields: Record<string, FieldDef>;
  readPermission: Permission;
  writePermission: Permission;
  /** Extra list filters: query name → schema and how it narrows the query. */
  filters?: Record<string, { schema: JsonSchema; apply: (q: Knex.QueryBuilder, value: any, principal: Principal) => void }>;
  /** Validates and normalises an input (camelCase API fields); throws AppError with stable codes. */
  rules?: (input: Record<string, unknown>, ctx: RuleContext) => Promise<Record<string, unknown>>;
  /**
   * Takes the lock that serialises writes of this entity, first thing in every create and update
   * transaction — before the update reads its row FOR UPDATE and before any rule or beforeInsert runs.
   * One lock order for both: an entity whose create locks the county row and then changes older rows
   * (supersede) would otherwise deadlock with an update that holds its row and then wants the county.
   */
  lockFirst?: (trx: Knex, countyId: string) => Promise<void>;
  /** Runs inside the create transaction after the rules, before the insert (e.g. superseding). */
  beforeInsert?: (row: Record<string, unknown>, ctx: RuleContext) => Promise<void>;
  /** Adjusts what a principal sees (masking personal data). */
  view?: (item: Record<string, unknown>, principal: Principal) => Record<string, unknown>;
  updatable?: boolean;
  /**
   * One record of the demo county (seeds/demo-county.ts) as the API answers it, its id the seeded
   * one: the documented examples of this entity's routes show it (src/shared/schemas/demo-examples.ts).
   */
  example?: Record<string, unknown>;
}

export const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
export const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

export function rowToApi(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[camel(k)] = v instanceof Date ? v.toISOString() : v;
  return out;
}

export function apiToRow(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) out[snake(k)] = v;
  return out;
}
