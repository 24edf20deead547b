// SQL for POS terminals and their enrolment.
import type { Knex } from 'knex';

export interface TerminalRow {
  county_id: string;
  id: string;
  shop_id: string;
  name: string;
  enrolment_code_hash: string | null;
  enrolment_expires_at: Date | null;
  enrolled_at: Date | null;
  credential_hash: string | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
  last_seen_at: Date | null;
  created_by: string;
  created_at: Date;
}

export class TerminalStore {
  constructor(private readonly knex: Knex) {}

  async insert(row: Omit<TerminalRow, 'created_at' | 'enrolled_at' | 'credential_hash' | 'revoked_at' | 'revoked_reason' | 'last_seen_at'>): Promise<void> {
    await this.knex('terminals').insert(row);
  }

  get(countyId: string, id: string): Promise<TerminalRow | undefined> {
    return this.knex<TerminalRow>('terminals').where({ county_id: countyId, id }).first();
  }

  list(countyId: string, limit: number, cursor: string | null): Promise<TerminalRow[]> {
    const q = this.knex<TerminalRow>('terminals').where({ county_id: countyId }).orderBy('id').limit(limit + 1);
    if (cursor) q.where('id', '>', cursor);
    return q;
  }

  byEnrolmentCodeForUpdate(trx: Knex, codeHash: string): Promise<TerminalRow | undefined> {
    return trx<TerminalRow>('terminals').where({ enrolment_code_hash: codeHash }).forUpdate().first();
  }

  async completeEnrolment(trx: Knex, countyId: string, id: string, credentialHash: string, now: Date): Promise<void> {
    // The code is single-use: clearing it in the same transaction means a second attempt finds nothing.
    await trx('terminals').where({ county_id: countyId, id }).update({ credential_hash: credentialHash, enrolled_at: now, enrolment_code_hash: null, enrolment_expires_at: null });
  }

  async revoke(countyId: string, id: string, reason: string, now: Date): Promise<number> {
    return this.knex('terminals').where({ county_id: countyId, id }).whereNull('revoked_at').update({ revoked_at: now, revoked_reason: reason, enrolment_code_hash: null });
  }
}
