// SQL for the failure counters of auth_throttle. Counting is one INSERT … ON CONFLICT … RETURNING,
// so concurrent failures on PostgreSQL each get their own number; blocks only ever move later.
import type { Knex } from 'knex';

export type ThrottleKind = 'login_account' | 'login_address' | 'device_address' | 'enrolment_code' | 'public_check';

export interface ThrottleKey {
  kind: ThrottleKind;
  key: string;
}

export interface ThrottleRow {
  kind: ThrottleKind;
  key: string;
  failures: number;
  window_started_at: Date;
  last_failure_at: Date | null;
  blocked_until: Date | null;
  locked_until: Date | null;
}

export class ThrottleStore {
  constructor(private readonly knex: Knex) {}

  rows(keys: ThrottleKey[]): Promise<ThrottleRow[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.knex<ThrottleRow>('auth_throttle').where((q) => {
      for (const k of keys) q.orWhere({ kind: k.kind, key: k.key });
    });
  }

  /** Counts one failure; a window older than `windowStart` starts again. Returns the count in the window. */
  async countFailure(k: ThrottleKey, now: Date, windowStart: Date): Promise<number> {
    const { rows } = await this.knex.raw<{ rows: Array<{ failures: number }> }>(
      `INSERT INTO auth_throttle AS t (kind, key, failures, window_started_at, last_failure_at)
       VALUES (?, ?, 1, ?, ?)
       ON CONFLICT (kind, key) DO UPDATE SET
         failures = CASE WHEN t.window_started_at <= ? THEN 1 ELSE t.failures + 1 END,
         window_started_at = CASE WHEN t.window_started_at <= ? THEN EXCLUDED.window_started_at ELSE t.window_started_at END,
         last_failure_at = EXCLUDED.last_failure_at
       RETURNING failures`,
      [k.kind, k.key, now, now, windowStart, windowStart],
    );
    return Number(rows[0]?.failures);
  }

  /** Moves the block (and the lock) later, never earlier: concurrent failures cannot shorten it. */
  async block(k: ThrottleKey, blockedUntil: Date | null, lockedUntil: Date | null): Promise<void> {
    await this.knex.raw(
      `UPDATE auth_throttle SET blocked_until = GREATEST(blocked_until, ?::timestamptz), locked_until = GREATEST(locked_until, ?::timestamptz)
       WHERE kind = ? AND key = ?`,
      [blockedUntil, lockedUntil, k.kind, k.key],
    );
  }

  /** A successful login or an official's unlock: the count starts again, block and lock lifted. */
  async reset(k: ThrottleKey, now: Date): Promise<boolean> {
    const n = await this.knex('auth_throttle')
      .where({ kind: k.kind, key: k.key })
      .andWhere((q) => q.where('failures', '>', 0).orWhereNotNull('blocked_until').orWhereNotNull('locked_until'))
      .update({ failures: 0, window_started_at: now, blocked_until: null, locked_until: null });
    return n > 0;
  }

  /** The rows of these keys of one kind (e.g. a county's users' login names), in one indexed read. */
  rowsOfKind(kind: ThrottleKind, keys: string[]): Promise<ThrottleRow[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.knex<ThrottleRow>('auth_throttle').where({ kind }).whereIn('key', keys);
  }

  /** Client addresses (login and terminal) that must wait now, latest failure first. */
  delayedAddresses(now: Date): Promise<ThrottleRow[]> {
    return this.knex<ThrottleRow>('auth_throttle')
      .whereIn('kind', ['login_address', 'device_address'])
      .where('blocked_until', '>', now)
      .orderBy([{ column: 'last_failure_at', order: 'desc' }, { column: 'key' }]);
  }

  /** Deletes rows whose window has passed and that are neither blocked nor locked now; returns how many. */
  prune(now: Date, windowStart: Date): Promise<number> {
    return this.knex('auth_throttle')
      .where('window_started_at', '<=', windowStart)
      .andWhere((q) => q.whereNull('blocked_until').orWhere('blocked_until', '<=', now))
      .andWhere((q) => q.whereNull('locked_until').orWhere('locked_until', '<=', now))
      .del();
  }
}
