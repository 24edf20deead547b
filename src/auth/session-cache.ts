// Sessions (and terminal credentials) without a table query per request, without weakening logout.
//
// Each server process keeps the sessions it has checked (session + user row) and the terminals'
// credential rows for a short while (SESSION_CACHE_MS). Triggers on `sessions`, `users` and
// `terminals` NOTIFY `agrireturn_auth` with the id of every row that changes (migration
// 20261130011000_auth_notify), in the changing transaction, so every process drops the entry the
// moment that transaction commits — a logout, a deactivation, a password or role change, a revoked
// terminal, whichever process or command made it.
//
// "At once" across processes needs one more step: a notification travels on its own connection and
// could, in principle, reach process B after a request that was sent once process A had answered the
// logout. So before trusting its cache, a request waits for a round trip on the LISTEN connection
// that started after the request arrived (`SELECT 1`, shared by every request waiting at that
// moment). PostgreSQL delivers every notification of a transaction committed before that query to
// the listener before the query's answer, so an entry still present afterwards was not revoked
// before the request came. That costs no table read, no query building, and under load one round
// trip serves many requests. If the LISTEN connection is down, nothing is cached: every request
// reads the rows, as before. The connection itself (connect, loss, back-off, the round trip) is
// src/db/listen-connection.ts, shared with the event feed.
import type { Knex } from 'knex';
import type { AppDeps } from '../app-deps.js';
import { ListenConnection, type ListenConnectionOptions } from '../db/listen-connection.js';
import { AuthStore, type SessionRow, type UserRow } from '../features/auth/auth-store.js';

export const AUTH_CHANNEL = 'agrireturn_auth';

export interface CachedSession {
  session: SessionRow;
  user: UserRow;
}

export interface TerminalRow {
  county_id: string;
  id: string;
  shop_id: string;
  credential_hash: string | null;
  revoked_at: Date | null;
  last_seen_at: Date | null;
}

interface Entry<V> {
  value: V;
  at: number;
  /** The row's id as named in notifications: `s:<session>`, `u:<user>`, `t:<county>:<terminal>`. */
  keys: string[];
}

export interface SessionCacheStats {
  hits: number;
  misses: number;
  barriers: number;
  invalidations: number;
}

export class SessionCache {
  private readonly entries = new Map<string, Entry<unknown>>();
  /** Notification key → cache keys it drops. */
  private readonly byKey = new Map<string, Set<string>>();
  /** Bumped by every notification and every loss of the listener: a read begun before is not cached. */
  private generation = 0;
  private readonly listen: ListenConnection;
  readonly stats: SessionCacheStats = { hits: 0, misses: 0, barriers: 0, invalidations: 0 };

  constructor(
    private readonly knex: Knex,
    private readonly ttlMs: number,
    logger?: AppDeps['logger'],
    private readonly maxEntries = 20_000,
    listenOptions: Pick<ListenConnectionOptions, 'clock' | 'retry'> = {},
  ) {
    this.listen = new ListenConnection(knex, {
      ...listenOptions,
      channels: { [AUTH_CHANNEL]: (payload) => this.notified(payload) },
      logger,
      messages: {
        lost: 'session cache lost its LISTEN connection; reading sessions from the database until it is back',
        failed: 'session cache could not LISTEN; reading sessions from the database',
      },
      // Entries read before the connection was up, or while it was down, may have missed a notification.
      onListening: () => this.dropAll(),
      onLost: () => this.dropAll(),
    });
  }

  /** The LISTEN connection (tests cut it). */
  get connection(): ListenConnection {
    return this.listen;
  }

  /** The session and its user, from the cache when nothing revoked it; undefined when there is none. */
  async session(sessionId: string): Promise<CachedSession | undefined> {
    return this.lookup(`s:${sessionId}`, async () => {
      const found = await new AuthStore(this.knex).sessionWithUser(sessionId);
      return found ? { value: found, keys: [`s:${sessionId}`, `u:${found.user.id}`] } : undefined;
    });
  }

  /** A terminal's credential row, from the cache when it did not change. */
  async terminal(countyId: string, terminalId: string): Promise<TerminalRow | undefined> {
    const key = `t:${countyId}:${terminalId}`;
    return this.lookup(key, async () => {
      const row = (await this.knex('terminals').where({ county_id: countyId, id: terminalId })
        .first('county_id', 'id', 'shop_id', 'credential_hash', 'revoked_at', 'last_seen_at')) as TerminalRow | undefined;
      return row ? { value: row, keys: [key] } : undefined;
    });
  }

  /** Stops listening and forgets everything (the database is closing). */
  async stop(): Promise<void> {
    this.dropAll();
    await this.listen.close();
  }

  private async lookup<V>(key: string, read: () => Promise<{ value: V; keys: string[] } | undefined>): Promise<V | undefined> {
    if (this.ttlMs <= 0 || !(await this.listen.ready())) {
      this.stats.misses++;
      return (await read())?.value;
    }
    try {
      this.stats.barriers++;
      await this.listen.fence(); // a failed trip counts as a loss there, which empties the cache
    } catch {
      this.stats.misses++;
      return (await read())?.value;
    }
    const hit = this.entries.get(key) as Entry<V> | undefined;
    if (hit && Date.now() - hit.at < this.ttlMs) {
      this.stats.hits++;
      return hit.value;
    }
    this.stats.misses++;
    const generation = this.generation;
    const found = await read();
    // Only what no notification (and no listener loss) overtook may be kept.
    if (found && generation === this.generation && this.listen.listening) this.put(key, found.value, found.keys);
    return found?.value;
  }

  private put(key: string, value: unknown, keys: string[]): void {
    if (this.entries.size >= this.maxEntries) this.dropAll();
    this.drop(key);
    this.entries.set(key, { value, at: Date.now(), keys });
    for (const k of keys) {
      let set = this.byKey.get(k);
      if (!set) this.byKey.set(k, (set = new Set()));
      set.add(key);
    }
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    for (const k of e.keys) {
      const set = this.byKey.get(k);
      set?.delete(key);
      if (set && set.size === 0) this.byKey.delete(k);
    }
  }

  private dropAll(): void {
    this.generation++;
    this.entries.clear();
    this.byKey.clear();
  }

  private notified(payload: string): void {
    this.generation++;
    this.stats.invalidations++;
    for (const key of [...(this.byKey.get(payload) ?? [])]) this.drop(key);
  }
}

const caches = new WeakMap<AppDeps['db'], SessionCache>();

/** The cache of the app on this database handle; stopped when the handle closes. */
export function sessionCacheOf(deps: AppDeps): SessionCache {
  let cache = caches.get(deps.db);
  if (!cache) {
    const c = new SessionCache(deps.db.knex, deps.config.sessionCacheMs, deps.logger);
    cache = c;
    caches.set(deps.db, c);
    const close = deps.db.close.bind(deps.db);
    deps.db.close = async () => {
      await c.stop();
      await close();
    };
  }
  return cache;
}
