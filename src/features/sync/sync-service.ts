// Applies a terminal's batch of journal records in journal order, with the same rules and answers as
// the single endpoints (sales, returns, ...), each record under its client id. The batch is split into
// runs of consecutive records of one kind:
//   - a run of sales is applied set-based (applySaleRun), a run of returns too (applyReturnRun): one
//     transaction per at most SYNC_RUN_MAX records, a number of statements that does not grow with
//     the records of that transaction (a batch of 1,000 sales is ten such transactions);
//   - a run of other records (reversals, bag events, drawer reports; at most
//     OTHER_RUN_MAX of them) goes through their services in ONE transaction, each record under its
//     own SAVEPOINT (idempotentWrite nests in the run's transaction).
// So one bad record never blocks the others (it rolls back to its savepoint, or is left out of the
// set and the rest applied again), a batch re-sent after a lost answer only meets "duplicate", and a
// record lands in the period of its own event time unless that month was closed before it arrived:
// then it is a late adjustment in the first open month. Nothing is answered `applied` before its
// transaction committed: a failed COMMIT turns the run's answers into `retry`.
import type { AppDeps } from '../../app-deps.js';
import { can, inScope, type Permission, type Principal, type Target } from '../../auth/permissions.js';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../../http/errors.js';
import { toAppError } from '../../http/error-middleware.js';
import { validate } from '../../http/validation.js';
import type { JsonSchema } from '../../shared/schemas/builders.js';
import { RETURN_REQUEST, REVERSAL_REQUEST, SALE_REQUEST } from '../../shared/schemas/ledger-schemas.js';
import { RETRYABLE, type WriteResult } from '../ledger/idempotency.js';
import type { Knex } from 'knex';
import { applySaleRun, type SaleRunItem } from '../sales/sale-run.js';
import { ReturnService, type ReturnInput } from '../returns/return-service.js';
import { applyReturnRun, type ReturnRunItem } from '../returns/return-run.js';
import { SaleService, type SaleInput } from '../sales/sale-service.js';
import { ReversalService, targetShop, type ReversalInput } from '../reversals/reversal-service.js';
import { countyOf } from '../ledger/county-policy.js';
import { DrawerReportService, type DrawerReportInput } from './drawer-report-service.js';
import { applyBagEvent, bagEventSchema, bagEventTarget } from './bag-event.js';
import { DRAWER_REPORT_PAYLOAD, type SyncKind, type SyncStatus } from './sync-schemas.js';
import { obj } from '../../shared/schemas/builders.js';
import { CLIENT_ID } from '../../shared/schemas/ledger-schemas.js';
import { COUNTY_CODE, dateTime } from '../../shared/schemas/builders.js';

/**
 * Runs that fell back to one record at a time for a reason other than a transient conflict with
 * another transaction (a deadlock, a purchaser registered at the same moment). The set-based tests
 * check it stays put: a fallback gives the same answers, so only this counter shows the run failed.
 */
export const syncRunFallbacks = { sale: 0, return: 0 };

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
  // What the payload leaves optional stays optional here.
  const optional = Object.keys(p.properties).filter((k) => !p.required.includes(k));
  return obj({ ...p.properties, id: CLIENT_ID, countyId: COUNTY_CODE, eventTime: dateTime() }, ['countyId', ...optional]);
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

/** Records of other kinds applied in one transaction at most (bounds how long it holds the hot account rows). */
export const OTHER_RUN_MAX = 32;

/**
 * Sales (or returns) applied set-based in one transaction at most (issue 13). A run posts its ledger
 * last, but from that posting to its COMMIT it holds the hot account rows (the shop's account, the
 * county's deposits_outstanding: docs/ledger.md) and, during the COMMIT, the county's feed counter;
 * both steps grow with the run. A run of 1,000 held them for 0.5–1 s (more on a loaded disk), and an
 * online sale of the same shop waited that long. So a longer run is cut into runs of SYNC_RUN_MAX: each its own
 * transaction, the same answers per record (a later run meets the earlier ones as stored, exactly as
 * one by one), a few more round trips and COMMITs per batch. A kill between two runs leaves the
 * committed runs applied; the terminal, never answered, sends the batch again and meets them as
 * duplicates (client ids).
 */
export const SYNC_RUN_MAX = 100;

/**
 * Test seams (test/features/sync/sync-hold.test.ts): `betweenRuns` is awaited after a run of the
 * batch has committed and before the next begins, `beforeRunCommit` inside a set-based run's
 * transaction after its postings, just before its COMMIT. Unset outside tests.
 */
export const syncBatchSeams: {
  betweenRuns?: (appliedUpTo: number) => Promise<void>;
  beforeRunCommit?: (kind: 'sale' | 'return', records: number) => Promise<void>;
} = {};

type Log = { error(obj: unknown, msg: string): void };

interface Prepared {
  handler: KindHandler;
  body: Record<string, unknown>;
}

/** A deadlock or serialisation failure met inside a shared transaction: the record goes again alone. */
function transientConflict(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return typeof code === 'string' && RETRYABLE.has(code);
}

/** Thrown out of a record's savepoint to roll it back while keeping its answer. */
class Refused extends Error {
  constructor(readonly result: SyncResult) { super('refused'); }
}

export class SyncService {
  constructor(private readonly deps: AppDeps) {}

  async applyBatch(principal: Principal, records: SyncRecord[], log: Log): Promise<SyncResult[]> {
    const results: SyncResult[] = new Array(records.length);
    let pos = 0;
    while (pos < records.length) {
      const kind = setBased(records[pos]!.kind);
      let end = pos + 1;
      const max = kind !== null ? SYNC_RUN_MAX : OTHER_RUN_MAX;
      while (end < records.length && setBased(records[end]!.kind) === kind && end - pos < max) end++;
      const run = Array.from({ length: end - pos }, (_, k) => pos + k);
      const next = kind !== null ? await this.setRun(kind, principal, records, run, results, log) : await this.otherRun(principal, records, run, results, log);
      if (next === 'database_down') {
        // No point knocking on a closed door a thousand times: the rest waits for the next attempt.
        for (let i = end; i < records.length; i++) results[i] = retryResult(records[i]!, new AppError('DATABASE_UNAVAILABLE'));
        break;
      }
      pos = next ?? end;
      if (syncBatchSeams.betweenRuns && pos < records.length) await syncBatchSeams.betweenRuns(pos);
    }
    return results;
  }

  /** A run of sales (or of returns), at most SYNC_RUN_MAX, set-based in one transaction. Answers where the batch goes on (or that the database is down). */
  private async setRun(kind: 'sale' | 'return', principal: Principal, records: SyncRecord[], run: number[], results: SyncResult[], log: Log): Promise<number | undefined | 'database_down'> {
    const staged = new Map<number, SyncResult>();
    try {
      await this.deps.db.knex.transaction(async (trx) => {
        const items: Array<SaleRunItem | ReturnRunItem> = [];
        const at: number[] = [];
        for (const i of run) {
          const rec = records[i]!;
          try {
            const p = await this.prepare(this.depsIn(trx), principal, rec);
            items.push({ principal, input: p.body as never });
            at.push(i);
          } catch (err) {
            staged.set(i, this.failed(rec, err, log));
          }
        }
        if (items.length === 0) return;
        const now = this.deps.clock.now();
        const out = kind === 'sale' ? await applySaleRun(trx, now, items as SaleRunItem[]) : await applyReturnRun(trx, now, items as ReturnRunItem[]);
        out.forEach((r, k) => {
          const i = at[k]!;
          const rec = records[i]!;
          staged.set(i, r.ok ? written(rec, r.written) : this.failed(rec, r.error, log));
        });
        if (syncBatchSeams.beforeRunCommit) await syncBatchSeams.beforeRunCommit(kind, items.length);
      });
    } catch (err) {
      if (toAppError(err)?.code === 'DATABASE_UNAVAILABLE') {
        for (const i of run) results[i] = retryResult(records[i]!, new AppError('DATABASE_UNAVAILABLE'));
        return 'database_down';
      }
      // Anything else (a deadlock with an online request, a purchaser registered at the same
      // moment, ...): nothing of the run is stored; apply its records one by one, as before.
      if (!transientConflict(err)) {
        syncRunFallbacks[kind]++;
        log.error({ err, records: run.length }, `sync ${kind} run failed; applying its records one by one`);
      }
      for (const i of run) {
        const r = await this.applyOne(principal, records[i]!, log);
        results[i] = r;
        if (r.error?.code === 'DATABASE_UNAVAILABLE') {
          for (const j of run.filter((x) => x > i)) results[j] = retryResult(records[j]!, new AppError('DATABASE_UNAVAILABLE'));
          return 'database_down';
        }
      }
      return undefined;
    }
    for (const i of run) results[i] = staged.get(i)!;
    return undefined;
  }

  /**
   * Records of other kinds through their services, in one transaction, each under a savepoint. A
   * record that meets a deadlock stops the run there: what came before commits, the record is
   * applied alone (its own transaction, retried as the single endpoint does), the batch goes on after it.
   */
  private async otherRun(principal: Principal, records: SyncRecord[], run: number[], results: SyncResult[], log: Log): Promise<number | undefined | 'database_down'> {
    const staged = new Map<number, SyncResult>();
    let stoppedAt: number | undefined;
    try {
      await this.deps.db.knex.transaction(async (trx) => {
        for (const i of run) {
          const rec = records[i]!;
          try {
            staged.set(i, await trx.transaction(async (sp) => {
              const r = await this.applyOne(principal, rec, log, this.depsIn(sp), true);
              if (r.status !== 'applied' && r.status !== 'duplicate') throw new Refused(r);
              return r;
            }));
          } catch (err) {
            if (err instanceof Refused) {
              staged.set(i, err.result);
              continue;
            }
            if (transientConflict(err)) {
              stoppedAt = i;
              return;
            }
            throw err;
          }
        }
      });
    } catch (err) {
      const known = toAppError(err);
      if (known?.code !== 'DATABASE_UNAVAILABLE') log.error({ err, records: run.length }, 'sync run failed');
      for (const i of run) results[i] = retryResult(records[i]!, known ?? new AppError('INTERNAL'));
      return known?.code === 'DATABASE_UNAVAILABLE' ? 'database_down' : undefined;
    }
    for (const [i, r] of staged) results[i] = r;
    if (stoppedAt === undefined) return undefined;
    const r = await this.applyOne(principal, records[stoppedAt]!, log);
    results[stoppedAt] = r;
    if (r.error?.code === 'DATABASE_UNAVAILABLE') {
      for (const i of run.filter((x) => x > stoppedAt!)) results[i] = retryResult(records[i]!, new AppError('DATABASE_UNAVAILABLE'));
      return 'database_down';
    }
    return stoppedAt + 1;
  }

  /** The services, reading and writing through `trx` (their idempotentWrite then nests as a savepoint). */
  private depsIn(trx: Knex.Transaction): AppDeps {
    return { ...this.deps, db: { ...this.deps.db, knex: trx } };
  }

  /** Kind, permission, payload shape, schema and scope of a record: what the single endpoint checks before its service. */
  private async prepare(deps: AppDeps, principal: Principal, rec: SyncRecord): Promise<Prepared> {
    const handler = KIND_HANDLERS[rec.kind];
    if (!handler) throw new AppError('SYNC_KIND_UNAVAILABLE', `This server does not apply "${rec.kind}" records yet; the terminal keeps them and sends them again later`);
    if (!can(principal, handler.permission)) throw new AppError('FORBIDDEN', `Your role (${principal.role}) may not do this: it needs ${handler.permission}`);
    if ('id' in rec.payload || 'eventTime' in rec.payload) {
      throw new AppError('VALIDATION_FAILED', 'id and eventTime belong to the record, not its payload', [{ field: '/payload', code: 'not_allowed', message: 'id and eventTime are given once, on the record' }]);
    }
    const body = handler.eventTime ? { ...rec.payload, id: rec.id, eventTime: rec.eventTime } : { ...rec.payload, id: rec.id };
    validate('body', typeof handler.schema === 'function' ? handler.schema(body) : handler.schema, body);
    const b = body as { countyId?: string; shopId?: string };
    const target = handler.target ? await handler.target(deps, principal, body) : { countyId: b.countyId ?? principal.countyId ?? undefined, shopId: b.shopId };
    if (!inScope(principal, target)) throw new AppError('OUT_OF_SCOPE');
    return { handler, body };
  }

  /**
   * One record through its service. Alone (own transaction) by default; with `deps` bound to an open
   * transaction and `rethrowTransient`, a deadlock is thrown for the caller to apply it alone later.
   */
  async applyOne(principal: Principal, rec: SyncRecord, log: Log, deps: AppDeps = this.deps, rethrowTransient = false): Promise<SyncResult> {
    try {
      const p = await this.prepare(deps, principal, rec);
      return written(rec, await p.handler.apply(deps, principal, p.body));
    } catch (err) {
      if (rethrowTransient && transientConflict(err)) throw err;
      return this.failed(rec, err, log);
    }
  }

  private failed(rec: SyncRecord, err: unknown, log: Log): SyncResult {
    const base = { id: rec.id, kind: rec.kind };
    const known = toAppError(err);
    if (!known) {
      log.error({ err, recordId: rec.id, kind: rec.kind }, 'sync record failed');
      return retryResult(rec, new AppError('INTERNAL'));
    }
    if (known.status >= 500) log.error({ err, recordId: rec.id, kind: rec.kind }, 'sync record failed');
    return { ...base, status: statusOf(known.code, known.status), error: errorOf(known) };
  }
}

/** The kinds applied set-based (null: through their services, record by record under savepoints). */
function setBased(kind: SyncKind): 'sale' | 'return' | null {
  return kind === 'sale' || kind === 'return' ? kind : null;
}

function written(rec: SyncRecord, w: WriteResult): SyncResult {
  return { id: rec.id, kind: rec.kind, status: w.replayed || w.status === 200 ? 'duplicate' : 'applied', result: w.body };
}

function retryResult(rec: SyncRecord, e: AppError): SyncResult {
  return { id: rec.id, kind: rec.kind, status: 'retry', error: errorOf(e) };
}
