// Login, refresh and logout. Refresh tokens are random, stored only as a hash, rotated on every use;
// a refresh token used twice means it was stolen, so the whole session is revoked.
import type { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { AppError } from '../../http/errors.js';
import { dummyPasswordHash, randomToken, sha256 } from '../../auth/passwords.js';
import { signAccessToken } from '../../auth/tokens.js';
import { AuthStore, type UserRow } from './auth-store.js';
import type { AppDeps } from '../../app-deps.js';
import type { Logger } from '../../logger.js';
import { passwordHasher } from '../../auth/password-hasher.js';
import { AuthThrottle, accountKey, addressKey, lockedError, type ThrottleKey } from '../../auth/throttle.js';

export interface TokenPair {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
  refreshExpiresAt: string;
  user: PublicUser;
}

export interface PublicUser {
  id: string;
  username: string;
  displayName: string;
  role: string;
  provinceCode: string | null;
  countyId: string | null;
  shopId: string | null;
  haulerId: string | null;
  facilityId: string | null;
  manufacturer: string | null;
  language: string;
  active: boolean;
}

export function publicUser(u: UserRow): PublicUser {
  return {
    id: u.id,
    username: u.username,
    displayName: u.display_name,
    role: u.role,
    provinceCode: u.province_code,
    countyId: u.county_id,
    shopId: u.shop_id,
    haulerId: u.hauler_id,
    facilityId: u.facility_id,
    manufacturer: u.manufacturer ?? null,
    language: u.language,
    active: u.active,
  };
}

export class AuthService {
  private readonly store: AuthStore;
  constructor(private readonly deps: AppDeps) {
    this.store = new AuthStore(deps.db.knex);
  }

  /**
   * Throttled before any hash is computed (per login name and per client address, in the database),
   * with at most a few hashes at once; every refusal is logged for the admin, never the password.
   */
  async login(username: string, password: string, address: string, log: Logger = this.deps.logger): Promise<TokenPair> {
    const name = username.trim().toLowerCase();
    const throttle = AuthThrottle.of(this.deps);
    const keys = [accountKey(name), addressKey('login_address', address)];
    const refused = (reason: string, err: unknown): unknown => {
      if (err instanceof AppError) log.warn({ event: 'login_failed', username: name, address, reason, code: err.code }, 'login refused');
      return err;
    };
    const checked = async () => {
      try {
        await throttle.check(keys);
      } catch (err) {
        throw refused(err instanceof AppError && err.code === 'ACCOUNT_LOCKED' ? 'locked' : 'throttled', err);
      }
    };
    await checked();
    const hasher = passwordHasher(this.deps.config);
    const { user, ok, lockedUntil } = await hasher.run(async () => {
      // Again inside the slot: this attempt may have waited while others were failing.
      await checked();
      const found = await this.store.userByUsername(name);
      // Hash even for an unknown user so response time does not reveal which usernames exist.
      const good = await hasher.verify(password, found?.password_hash ?? (await dummyPasswordHash()));
      // A failure is counted before the slot is given up, so the next attempt's check inside the
      // slot sees it: the number of hashes an attacker gets stays bounded under concurrency.
      const failed = !found || !good ? await throttle.fail(keys) : { lockedUntil: null };
      return { user: found, ok: good, lockedUntil: failed.lockedUntil };
    }).catch((err) => {
      throw err instanceof AppError && err.code === 'SERVER_BUSY' ? refused('server_busy', err) : err;
    });
    if (!user || !ok) {
      log.warn({ event: 'login_failed', username: name, address, reason: user ? 'wrong_password' : 'unknown_user', locked: lockedUntil !== null }, 'login failed');
      // Unknown names are counted and locked exactly like real ones, so the answers tell nothing apart.
      if (lockedUntil) throw lockedError(lockedUntil, this.deps.clock.now());
      throw new AppError('INVALID_CREDENTIALS');
    }
    if (!user.active) {
      log.warn({ event: 'login_failed', username: name, address, reason: 'account_disabled' }, 'login failed');
      throw new AppError('ACCOUNT_DISABLED');
    }
    await throttle.reset(keys[0] as ThrottleKey);
    return this.issue(user, this.deps.db.knex);
  }

  private async issue(user: UserRow, trx: Knex): Promise<TokenPair> {
    const now = this.deps.clock.now();
    const sessionId = randomUUID();
    const refreshToken = randomToken(32);
    const refreshExpiresAt = new Date(now.getTime() + this.deps.config.refreshTokenTtlSeconds * 1000);
    await new AuthStore(trx).createSession({ id: sessionId, user_id: user.id, refresh_token_hash: sha256(refreshToken), expires_at: refreshExpiresAt });
    const ttl = this.deps.config.accessTokenTtlSeconds;
    return {
      accessToken: signAccessToken(this.deps.jwtSecret, { sub: user.id, sid: sessionId, role: user.role }, ttl, now.getTime()),
      tokenType: 'Bearer',
      expiresIn: ttl,
      refreshToken,
      refreshExpiresAt: refreshExpiresAt.toISOString(),
      user: publicUser(user),
    };
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    // The transaction returns a failure instead of throwing it, so a revocation made on the way
    // (token reuse) is committed rather than rolled back with the error.
    const outcome = await this.deps.db.knex.transaction(async (trx): Promise<TokenPair | AppError> => {
      const store = new AuthStore(trx);
      const session = await store.sessionByRefreshHash(sha256(refreshToken), trx);
      if (!session) return new AppError('TOKEN_INVALID');
      if (session.revoked_at !== null) {
        if (session.revoked_reason === 'rotated') {
          // Reuse of a rotated token: someone else holds it. Revoke every session of the user.
          await store.revokeAllSessions(session.user_id, 'refresh_token_reused', trx);
        }
        return new AppError('SESSION_REVOKED');
      }
      if (session.expires_at.getTime() <= this.deps.clock.now().getTime()) return new AppError('TOKEN_EXPIRED');
      const user = await trx<UserRow>('users').where({ id: session.user_id }).first();
      if (!user || !user.active) return new AppError('ACCOUNT_DISABLED');
      const pair = await this.issue(user, trx);
      const newSession = await trx('sessions').where({ refresh_token_hash: sha256(pair.refreshToken) }).first('id');
      await store.revokeSession(session.id, 'rotated', trx, newSession.id);
      return pair;
    });
    if (outcome instanceof AppError) throw outcome;
    return outcome;
  }

  async logout(sessionId: string): Promise<void> {
    await this.store.revokeSession(sessionId, 'logout');
  }
}
