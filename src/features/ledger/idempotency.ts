// Every write carries a client-made id (DESIGN rule 7). The first statement of the writing
// transaction claims the id (INSERT … ON CONFLICT DO NOTHING); a retry with the same content gets the stored answer (200), the same id
// with other content gets IDEMPOTENCY_CONFLICT. A concurrent twin waits on the claim, then replays.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { postTransfers, type TransferInput } from './ledger-store.js';

export interface IdempotencyKey {
  countyId: string;
  clientId: string;
  operation: string;
  /** The validated request body: what "same content" means. */
  content: unknown;
}

export interface WriteResult<B = unknown> {
  status: number;
  body: B;
  replayed?: boolean;
  /**
   * The ledger postings of this write, posted in the same transaction after the answer is stored
   * (so the hot account rows stay locked for as few statements as possible before COMMIT). In a
   * group commit (group-commit.ts) the postings of every write of the group are posted together at
   * its end: each account — deposits outstanding above all — is locked and moved once per group.
   */
  postings?: Posting;
  /** Other work that must run in the same transaction after the answer is stored (the farmer's SMS). */
  afterStore?: () => Promise<void>;
}

export interface Posting {
  countyId: string;
  transfers: TransferInput[];
  recordedAt: Date;
}

/** The client id was claimed by a committed write: replay it (thrown to roll back the open transaction). */
class AlreadyClaimed extends Error {}

/** JSON with object keys sorted, so the same content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function requestHash(operation: string, content: unknown): string {
  return createHash('sha256').update(`${operation}\n${canonicalJson(content)}`).digest('hex');
}

export interface StoredKey {
  operation: string;
  request_hash: string;
  status_code: number | null;
  response: unknown;
}

/**
 * The other hash the same request may have been stored under. A `countyId` in the content that names
 * the key's own county adds nothing (the county is the key's): with it or without it, the content is
 * the same request. So a caller of its own county who named it in the body of a deprecated alias
 * (POST /api/v1/sales with `countyId`) can retry at the county path, whose body never has it, and
 * the other way round, and gets the stored answer instead of IDEMPOTENCY_CONFLICT (docs/api.md,
 * "Deprecated aliases"). The stored hash itself is unchanged: what is stored is what was sent.
 */
export function sameContentHash(key: Pick<IdempotencyKey, 'countyId' | 'operation' | 'content'>): string | undefined {
  const c = key.content;
  if (!c || typeof c !== 'object' || Array.isArray(c)) return undefined;
  const { countyId, ...rest } = c as Record<string, unknown>;
  if (countyId === undefined) return requestHash(key.operation, { ...rest, countyId: key.countyId });
  return countyId === key.countyId ? requestHash(key.operation, rest) : undefined;
}

export function replay(stored: StoredKey, key: Pick<IdempotencyKey, 'clientId' | 'operation'>, hash: string, alsoSame?: string): WriteResult {
  if (stored.operation !== key.operation || (stored.request_hash !== hash && (alsoSame === undefined || stored.request_hash !== alsoSame))) {
    throw new AppError('IDEMPOTENCY_CONFLICT', undefined, [{ field: '/body/id', code: 'reused', message: `client id ${key.clientId} was first used for a different ${stored.operation}`, operation: stored.operation }]);
  }
  return { status: 200, body: stored.response, replayed: true };
}

function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && e.constraint === constraint;
}

/** Deadlocks and serialisation failures: the whole transaction is worth running again. */
export const RETRYABLE = new Set(['40P01', '40001']);

/** Posts postings (one postTransfers call per county, in the order given: balances after each entry stay exact). */
export async function postAll(trx: Knex.Transaction, postings: Posting[]): Promise<void> {
  const byCounty = new Map<string, TransferInput[]>();
  for (const p of postings) {
    const list = byCounty.get(p.countyId) ?? [];
    list.push(...p.transfers.map((t) => ({ ...t, recordedAt: t.recordedAt ?? p.recordedAt })));
    byCounty.set(p.countyId, list);
  }
  for (const [countyId, transfers] of byCounty) await postTransfers(trx, countyId, transfers, transfers[0]?.recordedAt ?? new Date());
}

/**
 * The per-request write inside a transaction someone else owns (and commits): claims the client id,
 * runs `work`, stores the answer, runs afterStore. A client id already claimed replays the stored
 * answer — one committed by another transaction (a concurrent claim is waited for by the INSERT), or
 * one stored earlier in this same transaction (a twin in the same group). With `deferPostings` the
 * postings are returned for the caller to post (group commit); otherwise they are posted here.
 */
export async function idempotentWriteIn<B>(trx: Knex.Transaction, key: IdempotencyKey, now: () => Date, work: (trx: Knex.Transaction) => Promise<WriteResult<B>>, opts: { deferPostings?: boolean } = {}): Promise<WriteResult<B>> {
  const hash = requestHash(key.operation, key.content);
  // The claim is the first statement: a retry of a stored write finds the key taken and replays;
  // a concurrent twin waits here for the first to commit, then replays too.
  const claimed = (await trx.raw(
    'INSERT INTO idempotency_keys (county_id, client_id, operation, request_hash, recorded_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (county_id, client_id) DO NOTHING RETURNING client_id',
    [key.countyId, key.clientId, key.operation, hash, now()],
  )) as { rows: unknown[] };
  if (claimed.rows.length === 0) {
    const stored = (await trx.raw('SELECT operation, request_hash, status_code, response FROM idempotency_keys WHERE county_id = ? AND client_id = ?', [key.countyId, key.clientId])).rows[0] as StoredKey | undefined;
    if (stored && stored.status_code !== null) return replay(stored, key, hash, sameContentHash(key)) as WriteResult<B>;
    throw new AlreadyClaimed();
  }
  const { afterStore, postings, ...result } = await work(trx);
  await trx.raw('UPDATE idempotency_keys SET status_code = ?, response = ? WHERE county_id = ? AND client_id = ?',
    [result.status, JSON.stringify(result.body), key.countyId, key.clientId]);
  if (postings && !opts.deferPostings) await postAll(trx, [postings]);
  if (afterStore) await afterStore();
  return opts.deferPostings && postings ? { ...result, postings } : result;
}

/**
 * Runs `work` in a transaction of its own under the client id. Deadlocks and serialisation failures
 * are retried a few times; the work must therefore only touch the database through `trx`.
 *
 * `knex` may itself be an open transaction (a sync batch applies many records in one): the write
 * then runs under a SAVEPOINT of it, so a refused record rolls back alone and the caller's COMMIT
 * makes it durable. Inside an outer transaction a deadlock is not retried here (the outer
 * transaction still holds its earlier locks, so the same wait would come back): it is thrown for
 * the caller to apply the record again in a transaction of its own.
 */
export async function idempotentWrite<B>(knex: Knex, key: IdempotencyKey, now: () => Date, work: (trx: Knex.Transaction) => Promise<WriteResult<B>>): Promise<WriteResult<B>> {
  const hash = requestHash(key.operation, key.content);
  const find = async () => (await knex('idempotency_keys').where({ county_id: key.countyId, client_id: key.clientId }).first()) as StoredKey | undefined;
  const nested = (knex as unknown as { isTransaction?: boolean }).isTransaction === true;
  for (let attempt = 1; ; attempt++) {
    try {
      return await knex.transaction((trx) => idempotentWriteIn(trx, key, now, work));
    } catch (err) {
      if (err instanceof AlreadyClaimed || isUniqueViolation(err, 'idempotency_keys_pkey')) {
        const again = await find();
        if (again && again.status_code !== null) return replay(again, key, hash, sameContentHash(key)) as WriteResult<B>;
        if (err instanceof AlreadyClaimed && attempt < 4 && !nested) continue;
      }
      const code = (err as { code?: string }).code;
      if (!nested && code && RETRYABLE.has(code) && attempt < 4) continue;
      throw err;
    }
  }
}
