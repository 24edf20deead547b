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
// reads the rows, as before.
import type { Knex } from 'knex';
import type pg from 'pg';
import type { AppDeps } from '../app-deps.js';
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
  private client: pg.Client | null = null;
  private listening = false;
  private connecting: Promise<void> | null = null;
  private nextAttempt = 0;
  private stopped = false;
  private barrierNow: Promise<void> | null = null;
  private barrierNext: Promise<void> | null = null;
  readonly stats: SessionCacheStats = { hits: 0, misses: 0, barriers: 0, invalidations: 0 };

  constructor(private readonly knex: Knex, private readonly ttlMs: number, private readonly logger?: AppDeps['logger'], private readonly maxEntries = 20_000) {}

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
    this.stopped = true;
    this.dropAll();
    const c = this.client;
    this.client = null;
    this.listening = false;
    await c?.end().catch(() => undefined);
  }

  private async lookup<V>(key: string, read: () => Promise<{ value: V; keys: string[] } | undefined>): Promise<V | undefined> {
    if (this.ttlMs <= 0 || !(await this.ready())) {
      this.stats.misses++;
      return (await read())?.value;
    }
    try {
      await this.barrier();
    } catch {
      this.lost();
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
    if (found && generation === this.generation && this.listening) this.put(key, found.value, found.keys);
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

  private lost(): void {
    this.listening = false;
    this.dropAll();
    const c = this.client;
    this.client = null;
    void c?.end().catch(() => undefined);
    this.nextAttempt = Date.now() + 1000;
  }

  /** Whether the LISTEN connection is up (connecting it at most once a second while it is not). */
  private async ready(): Promise<boolean> {
    if (this.listening) return true;
    if (this.stopped || Date.now() < this.nextAttempt) return false;
    this.connecting ??= this.connect().finally(() => { this.connecting = null; });
    await this.connecting;
    return this.listening;
  }

  private async connect(): Promise<void> {
    try {
      const c = await (this.knex.client as { acquireRawConnection(): Promise<pg.Client> }).acquireRawConnection();
      if (this.stopped) {
        await c.end().catch(() => undefined);
        return;
      }
      c.on('notification', (n) => {
        if (n.channel === AUTH_CHANNEL) this.notified(n.payload ?? '');
      });
      c.on('error', (err) => {
        if (this.client !== c) return;
        this.logger?.warn({ err }, 'session cache lost its LISTEN connection; reading sessions from the database until it is back');
        this.lost();
      });
      c.on('end', () => {
        if (this.client === c) this.lost();
      });
      this.client = c;
      await c.query(`LISTEN ${AUTH_CHANNEL}`);
      if (this.stopped) {
        await c.end().catch(() => undefined);
        return;
      }
      this.dropAll();
      this.listening = true;
    } catch (err) {
      this.logger?.warn({ err }, 'session cache could not LISTEN; reading sessions from the database');
      this.lost();
    }
  }

  /**
   * Resolves after a round trip on the LISTEN connection that began after this call: every
   * notification committed before the call has then been handled. Concurrent callers share trips.
   */
  private barrier(): Promise<void> {
    if (!this.barrierNow) return (this.barrierNow = this.trip());
    // A trip is under way but began before us: wait for the one after it.
    this.barrierNext ??= this.barrierNow.catch(() => undefined).then(() => {
      this.barrierNext = null;
      return (this.barrierNow = this.trip());
    });
    return this.barrierNext;
  }

  private trip(): Promise<void> {
    const c = this.client;
    this.stats.barriers++;
    const p = (c ? c.query('SELECT 1').then(() => undefined) : Promise.reject(new Error('not listening'))).finally(() => {
      if (this.barrierNow === p) this.barrierNow = null;
    });
    return p;
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
