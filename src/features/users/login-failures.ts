// The failed logins of a county's users and the client addresses being delayed, for its officials:
// the county's usernames are hashed as the throttle hashes them and matched against auth_throttle,
// so no other county's usernames (nor their hashes) and never a password are shown.
import type { Knex } from 'knex';
import type { Clock } from '../../app-deps.js';
import type { AuthThrottleConfig } from '../../config.js';
import { accountKey } from '../../auth/throttle.js';
import { ThrottleStore, type ThrottleRow } from '../../auth/throttle-store.js';
import type { UserRow } from '../auth/auth-store.js';

export interface LoginFailureUser {
  user: { id: string; username: string; displayName: string; role: string; active: boolean };
  /** Failures in the current window (0 once the window has passed, while a lock may still hold). */
  failures: number;
  lastFailureAt: string | null;
  blockedUntil: string | null;
  lockedUntil: string | null;
  delayed: boolean;
  locked: boolean;
}

export interface DelayedAddress {
  kind: 'login_address' | 'device_address';
  address: string;
  failures: number;
  lastFailureAt: string | null;
  blockedUntil: string;
}

export interface LoginFailures {
  asOf: string;
  windowMinutes: number;
  users: LoginFailureUser[];
  addresses: DelayedAddress[];
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
const after = (d: Date | null, now: Date): boolean => d !== null && d.getTime() > now.getTime();

export async function loginFailures(knex: Knex, countyId: string, config: AuthThrottleConfig, clock: Clock): Promise<LoginFailures> {
  const now = clock.now();
  const windowStart = now.getTime() - config.windowSeconds * 1000;
  const store = new ThrottleStore(knex);
  const users = await knex<UserRow>('users').where({ county_id: countyId }).select('id', 'username', 'display_name', 'role', 'active');
  const byKey = new Map(users.map((u) => [accountKey(u.username).key, u]));
  const rows = await store.rowsOfKind('login_account', [...byKey.keys()]);
  const listed: LoginFailureUser[] = [];
  for (const r of rows) {
    const u = byKey.get(r.key);
    if (!u) continue;
    const failures = r.window_started_at.getTime() > windowStart ? r.failures : 0;
    const delayed = after(r.blocked_until, now);
    const locked = after(r.locked_until, now);
    if (failures === 0 && !delayed && !locked) continue;
    listed.push({
      user: { id: u.id, username: u.username, displayName: u.display_name, role: u.role, active: u.active },
      failures, lastFailureAt: iso(r.last_failure_at), blockedUntil: iso(r.blocked_until), lockedUntil: iso(r.locked_until), delayed, locked,
    });
  }
  // Locked first, then delayed, then the latest failure.
  const rank = (x: LoginFailureUser) => (x.locked ? 0 : x.delayed ? 1 : 2);
  listed.sort((a, b) => rank(a) - rank(b) || (b.lastFailureAt ?? '').localeCompare(a.lastFailureAt ?? '') || a.user.username.localeCompare(b.user.username));
  const addresses = (await store.delayedAddresses(now)).map((r: ThrottleRow) => ({
    kind: r.kind as DelayedAddress['kind'], address: r.key, failures: r.failures, lastFailureAt: iso(r.last_failure_at), blockedUntil: (r.blocked_until as Date).toISOString(),
  }));
  return { asOf: now.toISOString(), windowMinutes: config.windowSeconds / 60, users: listed, addresses };
}
