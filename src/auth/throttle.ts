// Growing delays after failed logins, bad terminal credentials and wrong enrolment codes, counted per
// login name, per client address and per enrolment code in the database (auth_throttle), so every
// server process and every restart sees the same counts. An attempt is refused (429 RATE_LIMITED with
// Retry-After, or 423 ACCOUNT_LOCKED) before any password is hashed; successful logins never count.
import type { Request } from 'express';
import type { Knex } from 'knex';
import type { AppDeps, Clock } from '../app-deps.js';
import type { AuthThrottleConfig } from '../config.js';
import { AppError } from '../http/errors.js';
import { sha256 } from './passwords.js';
import { ThrottleStore, type ThrottleKey, type ThrottleKind, type ThrottleRow } from './throttle-store.js';

export type { ThrottleKey, ThrottleKind };

interface Policy {
  freeFailures: number;
  /** Failures within the window that lock (login names only). */
  lockAfter: number | null;
}

function policy(kind: ThrottleKind, c: AuthThrottleConfig): Policy {
  switch (kind) {
    case 'login_account': return { freeFailures: c.accountFreeFailures, lockAfter: c.lockAfterFailures };
    case 'login_address': return { freeFailures: c.addressFreeFailures, lockAfter: null };
    case 'device_address': return { freeFailures: c.deviceAddressFreeFailures, lockAfter: null };
    case 'enrolment_code': return { freeFailures: c.enrolmentCodeFreeFailures, lockAfter: null };
    case 'public_check': return { freeFailures: c.publicChecksPerAddress, lockAfter: null };
  }
}

/** Seconds to wait after the n-th failure in a window: none while free, then base·2ᵏ up to the maximum. */
export function delaySeconds(failures: number, freeFailures: number, c: Pick<AuthThrottleConfig, 'baseDelaySeconds' | 'maxDelaySeconds'>): number {
  if (failures <= freeFailures) return 0;
  return Math.min(c.baseDelaySeconds * 2 ** Math.min(failures - freeFailures - 1, 30), c.maxDelaySeconds);
}

/** A login name, known or not, normalised as login does; hashed so the table holds no typed text. */
export function accountKey(username: string): ThrottleKey {
  return { kind: 'login_account', key: sha256(`login:${username.trim().toLowerCase()}`) };
}

export function addressKey(kind: 'login_address' | 'device_address' | 'public_check', address: string): ThrottleKey {
  return { kind, key: address.slice(0, 64) };
}

export function enrolmentCodeKey(canonicalCode: string): ThrottleKey {
  return { kind: 'enrolment_code', key: sha256(`enrol:${canonicalCode}`) };
}

/**
 * The client address a throttle counts: IPv4 as is (IPv4-mapped IPv6 unwrapped), IPv6 by its /64,
 * since one subscriber holds a whole /64. Behind a proxy, set TRUST_PROXY so req.ip is the client.
 */
export function clientAddress(req: Pick<Request, 'ip' | 'socket'>): string {
  const raw = (req.ip ?? req.socket?.remoteAddress ?? 'unknown').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(raw);
  if (mapped) return mapped[1] as string;
  if (!raw.includes(':')) return raw;
  return `${ipv6Groups(raw).slice(0, 4).join(':')}::/64`;
}

function ipv6Groups(addr: string): string[] {
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(Math.max(8 - h.length - t.length, 0)).fill('0');
  return [...h, ...fill, ...t].map((g) => (g.replace(/^0+/, '') || '0').toLowerCase());
}

export interface FailureOutcome {
  /** Set when this failure locked the login name. */
  lockedUntil: Date | null;
}

export class AuthThrottle {
  private readonly store: ThrottleStore;
  constructor(
    knex: Knex,
    private readonly config: AuthThrottleConfig,
    private readonly clock: Clock,
  ) {
    this.store = new ThrottleStore(knex);
  }

  static of(deps: AppDeps): AuthThrottle {
    return new AuthThrottle(deps.db.knex, deps.config.authThrottle, deps.clock);
  }

  /** Refuses the attempt if any of the keys is locked or blocked now: 423 ACCOUNT_LOCKED before 429 RATE_LIMITED. */
  async check(keys: ThrottleKey[]): Promise<void> {
    const now = this.clock.now();
    const rows = await this.store.rows(keys);
    const locked = rows.filter((r) => r.locked_until && r.locked_until.getTime() > now.getTime());
    if (locked.length > 0) throw lockedError(latest(locked.map((r) => r.locked_until as Date)), now);
    const blocked = rows.filter((r) => r.blocked_until && r.blocked_until.getTime() > now.getTime());
    if (blocked.length > 0) throw rateLimitedError(blocked, now);
  }

  /** Counts a failure on every key and sets the delay (and lock) it earns. */
  async fail(keys: ThrottleKey[]): Promise<FailureOutcome> {
    const now = this.clock.now();
    const windowStart = new Date(now.getTime() - this.config.windowSeconds * 1000);
    let lockedUntil: Date | null = null;
    for (const k of keys) {
      const p = policy(k.kind, this.config);
      const failures = await this.store.countFailure(k, now, windowStart);
      const delay = delaySeconds(failures, p.freeFailures, this.config);
      const lock = p.lockAfter !== null && failures >= p.lockAfter ? new Date(now.getTime() + this.config.lockSeconds * 1000) : null;
      if (delay > 0 || lock) await this.store.block(k, delay > 0 ? new Date(now.getTime() + delay * 1000) : null, lock);
      if (lock) lockedUntil = lock;
    }
    return { lockedUntil };
  }

  /** Starts the count of one key again and lifts its block and lock; true if there was anything to lift. */
  async reset(key: ThrottleKey): Promise<boolean> {
    return this.store.reset(key, this.clock.now());
  }

  /** Deletes the rows whose window has passed and that are neither blocked nor locked (hourly job). */
  async prune(): Promise<number> {
    const now = this.clock.now();
    return this.store.prune(now, new Date(now.getTime() - this.config.windowSeconds * 1000));
  }

  /** The lock on a login name now in force, if any. */
  async lockedUntil(key: ThrottleKey): Promise<Date | null> {
    const now = this.clock.now();
    const [row] = await this.store.rows([key]);
    return row?.locked_until && row.locked_until.getTime() > now.getTime() ? row.locked_until : null;
  }
}

function latest(dates: Date[]): Date {
  return dates.reduce((a, b) => (b.getTime() > a.getTime() ? b : a));
}

function retryAfter(until: Date, now: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
}

export function lockedError(until: Date, now: Date): AppError {
  const seconds = retryAfter(until, now);
  const err = new AppError(
    'ACCOUNT_LOCKED',
    `This account is locked after too many failed logins. It unlocks by itself at ${until.toISOString()} (in ${Math.ceil(seconds / 60)} min); a county official or administrator can unlock it now.`,
    [{ code: 'locked', message: 'unlocks by itself at unlocksAt, or an official unlocks it (POST /api/v1/counties/{countyId}/users/{id}/unlock)', unlocksAt: until.toISOString(), retryAfterSeconds: seconds }],
  );
  err.headers['Retry-After'] = String(seconds);
  return err;
}

const WHAT: Record<ThrottleKind, string> = {
  login_account: 'failed logins with this username',
  login_address: 'failed logins from this address',
  device_address: 'bad terminal credentials or enrolment codes from this address',
  enrolment_code: 'wrong tries of this enrolment code',
  public_check: 'status checks from this address',
};

function rateLimitedError(rows: ThrottleRow[], now: Date): AppError {
  const until = latest(rows.map((r) => r.blocked_until as Date));
  const seconds = retryAfter(until, now);
  const checks = rows.every((r) => r.kind === 'public_check');
  const err = new AppError(
    checks ? 'CHECK_RATE_LIMITED' : 'RATE_LIMITED',
    checks ? `Too many status checks from this address; try again in ${seconds} s` : `Too many failed attempts; try again in ${seconds} s`,
    rows.map((r) => ({ code: r.kind, message: `too many ${WHAT[r.kind]}`, retryAfterSeconds: retryAfter(r.blocked_until as Date, now), retryAt: (r.blocked_until as Date).toISOString() })),
  );
  err.headers['Retry-After'] = String(seconds);
  return err;
}
