// Enrolment of POS terminals: a county official issues a one-time code for a shop; the terminal
// trades it for a device credential bound to that shop; the county can revoke it at any time.
import { randomInt } from 'node:crypto';
import { newId } from '../../shared/client-id.js';
import { AppError } from '../../http/errors.js';
import { randomToken, sha256 } from '../../auth/passwords.js';
import { formatDeviceToken } from '../../auth/tokens.js';
import type { AppDeps } from '../../app-deps.js';
import type { Logger } from '../../logger.js';
import { AuthThrottle, addressKey, enrolmentCodeKey } from '../../auth/throttle.js';
import { TerminalStore, type TerminalRow } from './terminal-store.js';

/** Letters and digits a clerk cannot confuse when typing (no 0/O, 1/I/L). */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const ENROLMENT_CODE_TTL_HOURS = 72;

export function newEnrolmentCode(): string {
  let s = '';
  for (let i = 0; i < 12; i++) s += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`;
}

/** Clerks type codes in any case, with or without dashes or spaces. */
export function canonicalEnrolmentCode(input: string): string {
  const s = input.toUpperCase().replace(/[\s-]/g, '');
  return s.length === 12 ? `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}` : s;
}

export function terminalView(t: TerminalRow) {
  return {
    id: t.id,
    countyId: t.county_id,
    terminalNo: Number(t.terminal_no),
    shopId: t.shop_id,
    name: t.name,
    status: t.revoked_at ? 'revoked' : t.enrolled_at ? 'enrolled' : 'awaiting_enrolment',
    enrolmentExpiresAt: t.enrolment_expires_at ? t.enrolment_expires_at.toISOString() : null,
    enrolledAt: t.enrolled_at ? t.enrolled_at.toISOString() : null,
    revokedAt: t.revoked_at ? t.revoked_at.toISOString() : null,
    revokedReason: t.revoked_reason,
    lastSeenAt: t.last_seen_at ? t.last_seen_at.toISOString() : null,
  };
}

export class TerminalService {
  private readonly store: TerminalStore;
  constructor(private readonly deps: AppDeps) {
    this.store = new TerminalStore(deps.db.knex);
  }

  async issue(countyId: string, shopId: string, name: string, actor: string) {
    const shop = await this.deps.db.knex('shops').where({ county_id: countyId, id: shopId }).first();
    if (!shop) throw new AppError('REFERENCE_NOT_FOUND', 'No such shop in this county', [{ field: '/body/shopId', code: 'not_found', message: 'no such shop in this county' }]);
    if (!shop.active) throw new AppError('RECORD_INACTIVE', 'The shop is deactivated');
    const code = newEnrolmentCode();
    const id = newId();
    const expires = new Date(this.deps.clock.now().getTime() + ENROLMENT_CODE_TTL_HOURS * 3600_000);
    await this.store.insert({ county_id: countyId, id, shop_id: shopId, name, enrolment_code_hash: sha256(code), enrolment_expires_at: expires, created_by: actor });
    const row = (await this.store.get(countyId, id)) as TerminalRow;
    return { terminal: terminalView(row), enrolmentCode: code };
  }

  /**
   * Wrong codes are counted per client address and per code typed (the same budget as bad device
   * credentials), so codes cannot be guessed: after a few, 429 RATE_LIMITED before any lookup.
   */
  async enrol(codeInput: string, address: string, log: Logger = this.deps.logger) {
    const now = this.deps.clock.now();
    const code = canonicalEnrolmentCode(codeInput);
    const throttle = AuthThrottle.of(this.deps);
    const keys = [addressKey('device_address', address), enrolmentCodeKey(code)];
    try {
      await throttle.check(keys);
    } catch (err) {
      log.warn({ event: 'enrolment_refused', address, reason: 'throttled' }, 'terminal enrolment refused');
      throw err;
    }
    try {
      return await this.deps.db.knex.transaction(async (trx) => {
        const row = await this.store.byEnrolmentCodeForUpdate(trx, sha256(code));
        if (!row || row.revoked_at || !row.enrolment_expires_at || row.enrolment_expires_at.getTime() < now.getTime()) {
          throw new AppError('ENROLMENT_CODE_INVALID');
        }
        const credential = formatDeviceToken(row.county_id, row.id, randomToken(32));
        await this.store.completeEnrolment(trx, row.county_id, row.id, sha256(credential), now);
        const shop = await trx('shops').where({ county_id: row.county_id, id: row.shop_id }).first('name');
        return { terminalId: row.id, countyId: row.county_id, shopId: row.shop_id, shopName: shop?.name ?? '', credential };
      });
    } catch (err) {
      if (err instanceof AppError && err.code === 'ENROLMENT_CODE_INVALID') {
        await throttle.fail(keys);
        log.warn({ event: 'enrolment_refused', address, reason: 'code_invalid' }, 'terminal enrolment refused');
      }
      throw err;
    }
  }

  async revoke(countyId: string, id: string, reason: string) {
    const existing = await this.store.get(countyId, id);
    if (!existing) throw new AppError('NOT_FOUND');
    await this.store.revoke(countyId, id, reason, this.deps.clock.now());
    return terminalView((await this.store.get(countyId, id)) as TerminalRow);
  }

  async get(countyId: string, id: string) {
    const row = await this.store.get(countyId, id);
    if (!row) throw new AppError('NOT_FOUND');
    return terminalView(row);
  }

  async list(countyId: string, limit: number, cursor: string | null) {
    const rows = await this.store.list(countyId, limit, cursor);
    const more = rows.length > limit;
    const items = rows.slice(0, limit).map(terminalView);
    return { items, nextCursor: more ? (items[items.length - 1]?.id ?? null) : null };
  }
}
