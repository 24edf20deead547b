// Points as people read and type them (issue 17, docs/incentives.md), and the per-item incentive
// decision of the return answer: shared by the server (return rules, SMS) and the terminal (screen,
// receipts). Points are kept in milli-points (1000 = one point).

export type IncentiveKind = 'deposit' | 'buyback' | 'points' | 'buyback_points' | 'none';
export type IncentiveReason = 'no_rate' | 'returner_required' | 'held_for_review' | 'household_cap' | 'shop_cap' | 'fund_empty' | 'rejected';

/** Which incentive an item got and why it got less than the policy offers (the pinned API contract). */
export interface ItemIncentive {
  kind: IncentiveKind;
  buybackFen: number;
  pointsMilli: number;
  reason: IncentiveReason | null;
}

/** Whole points with up to three decimals, as a farmer reads them: 1500 → "1.5". */
export function formatPoints(milli: number): string {
  const sign = milli < 0 ? '-' : '';
  const m = Math.abs(Math.trunc(milli));
  const whole = Math.floor(m / 1000);
  const frac = String(m % 1000).padStart(3, '0').replace(/0+$/, '');
  return `${sign}${whole}${frac ? `.${frac}` : ''}`;
}

/** Points typed by the clerk ("2", "0.5", "1.25") in milli-points; null when not a positive amount with ≤ 3 decimals. */
export function parsePoints(input: unknown): number | null {
  const s = typeof input === 'number' ? String(input) : typeof input === 'string' ? input.trim() : '';
  const m = /^(\d{1,9})(?:\.(\d{1,3}))?$/.exec(s);
  if (!m) return null;
  const milli = Number(m[1]) * 1000 + Number((m[2] ?? '').padEnd(3, '0'));
  return milli > 0 ? milli : null;
}
