// The access log (issue 16): every read of personal data — even masked — by an inspector or an
// official is written down: who, when, which record, and why when the reader says so (header
// `X-Access-Reason`, or the `why` query parameter where a route takes one). The administrator exports
// it as CSV. Rows are written once and never changed or deleted (triggers), like the ledgers.
import type { Knex } from 'knex';
import type { Request } from 'express';
import type { AppDeps } from '../../app-deps.js';
import { readsAreLogged, type Principal } from '../../auth/permissions.js';
import { newId } from '../../shared/client-id.js';

export type AccessRecordType = 'farmer' | 'farmer_list' | 'sale_purchaser' | 'held_refund_queue' | 'lot_purchasers';

export interface AccessRead {
  countyId: string;
  recordType: AccessRecordType;
  recordId: string;
  /** The route template read, e.g. GET /api/v1/counties/:countyId/units/:unitCode/trace. */
  action: string;
}

export const ACCESS_REASON_HEADER = 'x-access-reason';

/** The reader's stated reason: the `why` query parameter, else the X-Access-Reason header; at most 300 characters. */
export function accessReason(req: Pick<Request, 'headers'>, queryWhy?: unknown): string | null {
  const raw = typeof queryWhy === 'string' && queryWhy.trim() !== '' ? queryWhy : req.headers[ACCESS_REASON_HEADER];
  if (typeof raw !== 'string') return null;
  // Headers are Latin-1 on the wire: a Chinese reason is sent percent-encoded.
  let text = raw;
  if (typeof queryWhy !== 'string' || queryWhy.trim() === '') {
    try { text = decodeURIComponent(raw); } catch { text = raw; }
  }
  const clean = text.replace(/\p{Cc}/gu, ' ').trim();
  return clean === '' ? null : clean.slice(0, 300);
}

/** Writes one row per record read when the principal's reads are logged (inspectors, officials). */
export async function logAccess(
  knex: Knex, deps: Pick<AppDeps, 'clock'>, principal: Principal, req: Pick<Request, 'headers' | 'method'> & { route?: { path?: string } },
  reads: AccessRead[], why: string | null,
): Promise<number> {
  if (!readsAreLogged(principal) || reads.length === 0) return 0;
  const at = deps.clock.now();
  await knex('access_log').insert(reads.map((r) => ({
    county_id: r.countyId, id: newId(), user_id: principal.userId, username: principal.username, role: principal.role,
    record_type: r.recordType, record_id: r.recordId.slice(0, 100), action: r.action.slice(0, 100), why, accessed_at: at,
  })));
  return reads.length;
}

export interface AccessLogRow {
  accessed_at: Date; username: string; role: string; record_type: string; record_id: string; action: string; why: string | null; user_id: string;
}

export async function readAccessLog(knex: Knex, countyId: string, from: Date, to: Date, limit: number): Promise<AccessLogRow[]> {
  return (await knex('access_log').where({ county_id: countyId }).andWhere('accessed_at', '>=', from).andWhere('accessed_at', '<', to)
    .orderBy([{ column: 'accessed_at' }, { column: 'id' }]).limit(limit)
    .select('accessed_at', 'user_id', 'username', 'role', 'record_type', 'record_id', 'action', 'why')) as AccessLogRow[];
}

function csvCell(v: string): string {
  // A leading =, +, - or @ would be a formula in a spreadsheet: quote it as text.
  const safe = /^[=+\-@]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function accessLogCsv(countyId: string, rows: AccessLogRow[]): string {
  const head = ['county_id', 'accessed_at', 'user_id', 'username', 'role', 'record_type', 'record_id', 'action', 'why'];
  const lines = rows.map((r) => [countyId, new Date(r.accessed_at).toISOString(), r.user_id, r.username, r.role, r.record_type, r.record_id, r.action, r.why ?? ''].map(csvCell).join(','));
  return `\uFEFF${[head.join(','), ...lines].join('\r\n')}\r\n`;
}
