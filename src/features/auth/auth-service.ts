// Login, refresh and logout. Refresh tokens are random, stored only as a hash, rotated on every use;
// a refresh token used twice means it was stolen, so the whole session is revoked.
import type { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { AppError } from '../../http/errors.js';
import { dummyPasswordHash, randomToken, sha256, verifyPassword } from '../../auth/passwords.js';
import { signAccessToken } from '../../auth/tokens.js';
import { AuthStore, type UserRow } from './auth-store.js';
import type { AppDeps } from '../../app-deps.js';

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
    language: u.language,
    active: u.active,
  };
}

export class AuthService {
  private readonly store: AuthStore;
  constructor(private readonly deps: AppDeps) {
    this.store = new AuthStore(deps.db.knex);
  }

  async login(username: string, password: string): Promise<TokenPair> {
    const user = await this.store.userByUsername(username.trim().toLowerCase());
    // Hash even for an unknown user so response time does not reveal which usernames exist.
    const ok = await verifyPassword(password, user?.password_hash ?? (await dummyPasswordHash()));
    if (!user || !ok) throw new AppError('INVALID_CREDENTIALS');
    if (!user.active) throw new AppError('ACCOUNT_DISABLED');
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
