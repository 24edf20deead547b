// SQL for POS terminals and their enrolment.
import type { Knex } from 'knex';

export interface TerminalRow {
  county_id: string;
  id: string;
  /** Short number unique in the county, printed in the terminal's receipt numbers (T007). */
  terminal_no: number;
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

/** Attempts at a terminal number before giving up: each failed one lost a race to another registration. */
const NUMBER_ATTEMPTS = 20;

export class TerminalStore {
  constructor(private readonly knex: Knex) {}

  /**
   * Registers a terminal with the county's next terminal number (the highest so far + 1; numbers are
   * never reused, terminals are never deleted). Two registrations at once may both read the same
   * highest number: the unique (county_id, terminal_no) lets one in and the other tries again with
   * the next number, so no lock on the county is needed. Returns the number.
   */
  async insert(row: Omit<TerminalRow, 'terminal_no' | 'created_at' | 'enrolled_at' | 'credential_hash' | 'revoked_at' | 'revoked_reason' | 'last_seen_at'>): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.knex.raw(
          `INSERT INTO terminals (county_id, id, shop_id, name, enrolment_code_hash, enrolment_expires_at, created_by, terminal_no)
           SELECT ?, ?, ?, ?, ?, ?, ?, COALESCE(max(terminal_no), 0) + 1 FROM terminals WHERE county_id = ?
           RETURNING terminal_no`,
          [row.county_id, row.id, row.shop_id, row.name, row.enrolment_code_hash, row.enrolment_expires_at, row.created_by, row.county_id],
        );
        return Number((res.rows as Array<{ terminal_no: number }>)[0]!.terminal_no);
      } catch (err) {
        const e = err as { code?: string; constraint?: string };
        if (e.code === '23505' && e.constraint === 'terminals_county_terminal_no' && attempt < NUMBER_ATTEMPTS) continue;
        throw err;
      }
    }
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
