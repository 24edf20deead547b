// SQL for users, sessions and the lookups authentication needs.
import type { Knex } from 'knex';
import type { Role } from '../../auth/permissions.js';

export interface UserRow {
  id: string;
  username: string;
  display_name: string;
  password_hash: string;
  role: Role;
  province_code: string | null;
  county_id: string | null;
  shop_id: string | null;
  hauler_id: string | null;
  facility_id: string | null;
  manufacturer?: string | null;
  language: 'zh' | 'en';
  active: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export interface SessionRow {
  id: string;
  user_id: string;
  refresh_token_hash: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
  replaced_by: string | null;
}

export class AuthStore {
  constructor(private readonly knex: Knex) {}

  userByUsername(username: string): Promise<UserRow | undefined> {
    return this.knex<UserRow>('users').where({ username }).first();
  }

  userById(id: string): Promise<UserRow | undefined> {
    return this.knex<UserRow>('users').where({ id }).first();
  }

  async createSession(row: Omit<SessionRow, 'created_at' | 'revoked_at' | 'revoked_reason' | 'replaced_by'>): Promise<void> {
    await this.knex('sessions').insert(row);
  }

  sessionByRefreshHash(hash: string, trx: Knex = this.knex): Promise<SessionRow | undefined> {
    return trx<SessionRow>('sessions').where({ refresh_token_hash: hash }).forUpdate().first();
  }

  async sessionWithUser(sessionId: string): Promise<{ session: SessionRow; user: UserRow } | undefined> {
    const row = await this.knex('sessions as s')
      .join('users as u', 'u.id', 's.user_id')
      .where('s.id', sessionId)
      .select('s.id as s_id', 's.revoked_at as s_revoked_at', 's.expires_at as s_expires_at', 'u.*')
      .first();
    if (!row) return undefined;
    const { s_id, s_revoked_at, s_expires_at, ...user } = row as Record<string, unknown>;
    return {
      session: { id: s_id, revoked_at: s_revoked_at, expires_at: s_expires_at } as SessionRow,
      user: user as unknown as UserRow,
    };
  }

  async revokeSession(id: string, reason: string, trx: Knex = this.knex, replacedBy: string | null = null): Promise<number> {
    return trx('sessions').where({ id }).whereNull('revoked_at').update({ revoked_at: trx.fn.now(), revoked_reason: reason, replaced_by: replacedBy });
  }

  async revokeAllSessions(userId: string, reason: string, trx: Knex = this.knex): Promise<number> {
    return trx('sessions').where({ user_id: userId }).whereNull('revoked_at').update({ revoked_at: trx.fn.now(), revoked_reason: reason });
  }
}
