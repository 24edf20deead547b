// Turns an Authorization header into a principal: a user (JWT + live session) or an enrolled POS
// terminal (device credential). Anything else is a stable 401.
import type { Knex } from 'knex';
import { AppError } from '../http/errors.js';
import { sha256 } from './passwords.js';
import { verifyAccessToken, DEVICE_TOKEN_PATTERN, DEVICE_TOKEN_PREFIX } from './tokens.js';
import type { Principal } from './permissions.js';
import { SessionCache } from './session-cache.js';

/**
 * `cache` (session-cache.ts) spares the session and terminal rows' query per request while keeping
 * logout and revocation immediate; without one the rows are read every time.
 */
export async function authenticate(knex: Knex, header: string | undefined, jwtSecret: string, now: Date, cache: SessionCache = new SessionCache(knex, 0)): Promise<Principal> {
  if (!header) throw new AppError('UNAUTHENTICATED');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new AppError('UNAUTHENTICATED', 'Send the token as "Authorization: Bearer <token>"');
  const token = m[1] as string;

  const device = DEVICE_TOKEN_PATTERN.exec(token);
  if (device) {
    const [, countyId, terminalId] = device as unknown as [string, string, string];
    const row = await cache.terminal(countyId, terminalId);
    if (!row || row.credential_hash === null || row.credential_hash !== sha256(token)) throw new AppError('TOKEN_INVALID');
    if (row.revoked_at !== null) throw new AppError('TERMINAL_REVOKED');
    // Best effort, at most once a minute: last_seen_at is for officials' overview, not worth a write
    // on every request of a syncing terminal, nor failing a request over.
    const seen = row.last_seen_at ? new Date(row.last_seen_at).getTime() : 0;
    if (now.getTime() - seen >= 60_000) {
      row.last_seen_at = now; // the cached row too, so the next requests do not write again
      void knex('terminals').where({ county_id: countyId, id: terminalId }).update({ last_seen_at: now }).catch(() => undefined);
    }
    return { kind: 'terminal', role: 'terminal', terminalId, countyId, shopId: row.shop_id };
  }
  // A malformed device credential is a bad credential (401), never a malformed request.
  if (token.startsWith(DEVICE_TOKEN_PREFIX)) throw new AppError('TOKEN_INVALID');

  const claims = verifyAccessToken(jwtSecret, token, now.getTime());
  const found = await cache.session(claims.sid);
  if (!found || found.user.id !== claims.sub) throw new AppError('TOKEN_INVALID');
  if (found.session.revoked_at !== null) throw new AppError('SESSION_REVOKED');
  if (!found.user.active) throw new AppError('ACCOUNT_DISABLED');
  const u = found.user;
  return {
    kind: 'user',
    userId: u.id,
    username: u.username,
    role: u.role,
    sessionId: claims.sid,
    provinceCode: u.province_code,
    countyId: u.county_id,
    shopId: u.shop_id,
    haulerId: u.hauler_id,
    facilityId: u.facility_id,
    manufacturer: u.manufacturer ?? null,
  };
}

export function actorName(p: Principal): string {
  return p.kind === 'user' ? `user:${p.username}` : `terminal:${p.terminalId}`;
}
