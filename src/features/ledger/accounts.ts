// The accounts of a county's deposit ledger. Ids are derived from (county, code), so a transaction
// knows every id it will lock before reading anything, and locks them in id order.
import { createHash } from 'node:crypto';

export type AccountKind = 'shop_position' | 'deposits_outstanding' | 'unredeemed' | 'policy_refunds' | 'settlements' | 'refund_differences'
  | 'incentive_fund' | 'incentive_funding';
export type AccountBound = 'none' | 'non_negative' | 'non_positive';

/**
 * Balances are debit-positive. A shop's position is what it owes the scheme (deposits collected −
 * refunds paid − settlements); the scheme's liabilities (deposits outstanding, unredeemed) are
 * credit balances and may never turn positive; policy refunds are an expense and never negative.
 */
export const ACCOUNT_BOUNDS: Record<AccountKind, AccountBound> = {
  shop_position: 'none',
  deposits_outstanding: 'non_positive',
  unredeemed: 'non_positive',
  policy_refunds: 'non_negative',
  settlements: 'none',
  // Offline refunds paid beyond (+) or short of (−) what the scheme owed: + is for the county to
  // chase back, − is owed to farmers.
  refund_differences: 'none',
  // The incentive fund (docs/incentives.md): what is left to pay buy-back from, a credit balance that
  // never turns positive (the fund cannot go negative); funding is where allocations came from.
  incentive_fund: 'non_positive',
  incentive_funding: 'none',
};

export interface AccountRef {
  id: string;
  code: string;
  kind: AccountKind;
  shopId: string | null;
}

function derivedId(countyId: string, code: string): string {
  const b = createHash('sha256').update(`agrireturn-ledger:${countyId}:${code}`).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80; // version 8: custom
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function countyAccount(countyId: string, kind: Exclude<AccountKind, 'shop_position'>): AccountRef {
  return { id: derivedId(countyId, kind), code: kind, kind, shopId: null };
}

export function shopAccount(countyId: string, shopId: string): AccountRef {
  const code = `shop:${shopId}`;
  return { id: derivedId(countyId, code), code, kind: 'shop_position', shopId };
}
