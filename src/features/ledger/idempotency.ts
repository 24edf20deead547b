// Every write carries a client-made id (DESIGN rule 7). The first statement of the writing
// transaction claims the id (INSERT … ON CONFLICT DO NOTHING); a retry with the same content gets the stored answer (200), the same id
// with other content gets IDEMPOTENCY_CONFLICT. A concurrent twin waits on the claim, then replays.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';

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
   * Work that must run in the same transaction but after the answer is stored — the ledger posting,
   * so the hot account rows stay locked for as few statements as possible before COMMIT.
   */
  afterStore?: () => Promise<void>;
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

export function replay(stored: StoredKey, key: Pick<IdempotencyKey, 'clientId' | 'operation'>, hash: string): WriteResult {
  if (stored.operation !== key.operation || stored.request_hash !== hash) {
    throw new AppError('IDEMPOTENCY_CONFLICT', undefined, [{ field: '/body/id', code: 'reused', message: `client id ${key.clientId} was first used for a different ${stored.operation}`, operation: stored.operation }]);
  }
  return { status: 200, body: stored.response, replayed: true };
}

function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && e.constraint === constraint;
}

export const RETRYABLE = new Set(['40P01', '40001']);

/**
 * Runs `work` in a transaction under the client id. Deadlocks and serialisation failures (PostgreSQL
 * only) are retried a few times; the work must therefore only touch the database through `trx`.
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
      return await knex.transaction(async (trx) => {
        // The claim is the first statement: a retry of a stored write finds the key taken and replays;
        // a concurrent twin waits here for the first to commit, then replays too.
        const claimed = await trx('idempotency_keys')
          .insert({ county_id: key.countyId, client_id: key.clientId, operation: key.operation, request_hash: hash, recorded_at: now() })
          .onConflict(['county_id', 'client_id']).ignore().returning('client_id');
        if (claimed.length === 0) throw new AlreadyClaimed();
        const { afterStore, ...result } = await work(trx);
        await trx('idempotency_keys').where({ county_id: key.countyId, client_id: key.clientId })
          .update({ status_code: result.status, response: JSON.stringify(result.body) });
        if (afterStore) await afterStore();
        return result;
      });
    } catch (err) {
      if (err instanceof AlreadyClaimed || isUniqueViolation(err, 'idempotency_keys_pkey')) {
        const again = await find();
        if (again) return replay(again, key, hash) as WriteResult<B>;
        if (err instanceof AlreadyClaimed && attempt < 4 && !nested) continue;
      }
      const code = (err as { code?: string }).code;
      if (!nested && code && RETRYABLE.has(code) && attempt < 4) continue;
      throw err;
    }
  }
}
