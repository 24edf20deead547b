// Applies a terminal's batch of journal records one by one through the same services as the single
// endpoints (sales, returns, ...), each in its own transaction under its client id. So one bad record
// never blocks the others, a batch re-sent after a lost answer only meets "duplicate", and a record
// lands in the period of its own event time (the services book by event time, not arrival) unless
// that month was closed before it arrived: then it is a late adjustment in the first open month.
import type { AppDeps } from '../../app-deps.js';
import { can, inScope, type Permission, type Principal, type Target } from '../../auth/permissions.js';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../../http/errors.js';
import { toAppError } from '../../http/error-middleware.js';
import { validate } from '../../http/validation.js';
import type { JsonSchema } from '../../shared/schemas/builders.js';
import { RETURN_REQUEST, REVERSAL_REQUEST, SALE_REQUEST } from '../../shared/schemas/ledger-schemas.js';
import type { WriteResult } from '../ledger/idempotency.js';
import { ReturnService, type ReturnInput } from '../returns/return-service.js';
import { SaleService, type SaleInput } from '../sales/sale-service.js';
import { ReversalService, targetShop, type ReversalInput } from '../reversals/reversal-service.js';
import { countyOf } from '../ledger/county-policy.js';
import { DrawerReportService, type DrawerReportInput } from './drawer-report-service.js';
import { applyBagEvent, bagEventSchema, bagEventTarget } from './bag-event.js';
import { DRAWER_REPORT_PAYLOAD, type SyncKind, type SyncStatus } from './sync-schemas.js';
import { obj } from '../../shared/schemas/builders.js';
import { CLIENT_ID } from '../../shared/schemas/ledger-schemas.js';
import { COUNTY_CODE, dateTime } from '../../shared/schemas/builders.js';

export interface SyncRecord {
  kind: SyncKind;
  id: string;
  eventTime: string;
  payload: Record<string, unknown>;
}

export interface SyncResult {
  id: string;
  kind: string;
  status: SyncStatus;
  result?: unknown;
  error?: { code: string; message: string; message_zh: string; details: unknown[] };
}

interface KindHandler {
  permission: Permission;
  /** The single endpoint's body schema (or one per payload shape); the record's id and eventTime are merged into the payload. */
  schema: JsonSchema | ((body: any) => JsonSchema);
  /** Whether the single endpoint takes the event time (all do: for a terminal's reversal it is the journal's clock the window is judged by). */
  eventTime: boolean;
  /** What the record touches, for the scope check; default: its countyId and shopId. */
  target?(deps: AppDeps, principal: Principal, body: any): Promise<Target>;
  apply(deps: AppDeps, principal: Principal, body: any): Promise<WriteResult>;
}

const DRAWER_REPORT_BODY: JsonSchema = (() => {
  const p = DRAWER_REPORT_PAYLOAD as { properties: Record<string, JsonSchema>; required: string[] };
  return obj({ ...p.properties, id: CLIENT_ID, countyId: COUNTY_CODE, eventTime: dateTime() }, ['countyId', 'openingFloatFen', 'clerkName']);
})();

/**
 * What each kind goes through. Kinds whose service has not landed on this server yet are answered
 * `retry` (SYNC_KIND_UNAVAILABLE): the terminal keeps them and sends them again after an upgrade.
 */
export const KIND_HANDLERS: Partial<Record<SyncKind, KindHandler>> = {
  sale: { permission: 'sales:write', schema: SALE_REQUEST, eventTime: true, apply: (deps, p, body: SaleInput) => new SaleService(deps).record(p, body) },
  return: { permission: 'returns:write', schema: RETURN_REQUEST, eventTime: true, apply: (deps, p, body: ReturnInput) => new ReturnService(deps).record(p, body) },
  reversal: { permission: 'reversals:write', schema: REVERSAL_REQUEST, eventTime: true,
    target: async (deps, p, body: ReversalInput) => {
      const countyId = countyOf(p, body.countyId);
      return { countyId, shopId: await targetShop(deps.db.knex, countyId, body.targetType, body.targetId) };
    },
    apply: (deps, p, body: ReversalInput) => new ReversalService(deps).reverse(p, body) },
  'bag-event': { permission: 'bags:write', schema: bagEventSchema, eventTime: true, target: bagEventTarget, apply: applyBagEvent },
  'drawer-report': { permission: 'sales:write', schema: DRAWER_REPORT_BODY, eventTime: true, apply: (deps, p, body: DrawerReportInput) => new DrawerReportService(deps).record(p, body) },
};

function errorOf(e: AppError) {
  return { code: e.code, message: e.message, message_zh: ERROR_CATALOGUE[e.code].message_zh, details: e.details };
}

function statusOf(code: ErrorCode, httpStatus: number): SyncStatus {
  if (code === 'IDEMPOTENCY_CONFLICT') return 'conflict';
  if (httpStatus >= 500 || code === 'SYNC_KIND_UNAVAILABLE') return 'retry';
  return 'refused';
}

export class SyncService {
  constructor(private readonly deps: AppDeps) {}

  async applyBatch(principal: Principal, records: SyncRecord[], log: { error(obj: unknown, msg: string): void }): Promise<SyncResult[]> {
    const results: SyncResult[] = [];
    let databaseDown = false;
    for (const rec of records) {
      if (databaseDown) {
        // No point knocking on a closed door a thousand times: the rest waits for the next attempt.
        const e = new AppError('DATABASE_UNAVAILABLE');
        results.push({ id: rec.id, kind: rec.kind, status: 'retry', error: errorOf(e) });
        continue;
      }
      const r = await this.applyOne(principal, rec, log);
      if (r.error?.code === 'DATABASE_UNAVAILABLE') databaseDown = true;
      results.push(r);
    }
    return results;
  }

  async applyOne(principal: Principal, rec: SyncRecord, log: { error(obj: unknown, msg: string): void }): Promise<SyncResult> {
    const base = { id: rec.id, kind: rec.kind };
    try {
      const handler = KIND_HANDLERS[rec.kind];
      if (!handler) throw new AppError('SYNC_KIND_UNAVAILABLE', `This server does not apply "${rec.kind}" records yet; the terminal keeps them and sends them again later`);
      if (!can(principal, handler.permission)) throw new AppError('FORBIDDEN', `Your role (${principal.role}) may not do this: it needs ${handler.permission}`);
      if ('id' in rec.payload || 'eventTime' in rec.payload) {
        throw new AppError('VALIDATION_FAILED', 'id and eventTime belong to the record, not its payload', [{ field: '/payload', code: 'not_allowed', message: 'id and eventTime are given once, on the record' }]);
      }
      const body = handler.eventTime ? { ...rec.payload, id: rec.id, eventTime: rec.eventTime } : { ...rec.payload, id: rec.id };
      validate('body', typeof handler.schema === 'function' ? handler.schema(body) : handler.schema, body);
      const b = body as { countyId?: string; shopId?: string };
      const target = handler.target ? await handler.target(this.deps, principal, body) : { countyId: b.countyId ?? principal.countyId ?? undefined, shopId: b.shopId };
      if (!inScope(principal, target)) throw new AppError('OUT_OF_SCOPE');
      const written = await handler.apply(this.deps, principal, body);
      return { ...base, status: written.replayed || written.status === 200 ? 'duplicate' : 'applied', result: written.body };
    } catch (err) {
      const known = toAppError(err);
      if (!known) {
        log.error({ err, recordId: rec.id, kind: rec.kind }, 'sync record failed');
        const e = new AppError('INTERNAL');
        return { ...base, status: 'retry', error: errorOf(e) };
      }
      if (known.status >= 500) log.error({ err, recordId: rec.id, kind: rec.kind }, 'sync record failed');
      return { ...base, status: statusOf(known.code, known.status), error: errorOf(known) };
    }
  }
}
