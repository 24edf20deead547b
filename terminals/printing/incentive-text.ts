// Incentives in words (issue 17): which incentive a returned item got and why, in Chinese and English,
// and points as a farmer reads them. Shared by the receipts and the clerk's screen.

export type IncentiveKind = 'deposit' | 'buyback' | 'points' | 'buyback_points' | 'none';
export type IncentiveReason = 'no_rate' | 'returner_required' | 'held_for_review' | 'household_cap' | 'shop_cap' | 'fund_empty' | 'rejected';
/** The pinned per-item decision (API contract of issue 17). */
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

/** Each incentive and reason in plain words, Chinese and English (screen and paper). */
export const INCENTIVE_KIND_TEXT: Readonly<Record<IncentiveKind, { zh: string; en: string }>> = {
  deposit: { zh: '退押金', en: 'deposit refund' },
  buyback: { zh: '有偿回收', en: 'buy-back' },
  points: { zh: '积分', en: 'points' },
  buyback_points: { zh: '有偿回收 + 积分', en: 'buy-back + points' },
  none: { zh: '无奖励', en: 'nothing due' },
};

export const INCENTIVE_REASON_TEXT: Readonly<Record<IncentiveReason, { zh: string; en: string }>> = {
  no_rate: { zh: '没有押金，本县也没有这种包装的回收价或积分', en: 'no deposit, and the county has no buy-back or points rate for it' },
  returner_required: { zh: '没有留手机号，不能给回收款或积分', en: 'no phone given: buy-back and points need the farmer’s phone' },
  held_for_review: { zh: '没人售出过的码，等县里审核', en: 'a code nobody sold: held for the county’s review' },
  household_cap: { zh: '已到本户今年的上限', en: 'the household’s yearly cap is reached' },
  shop_cap: { zh: '已到本店今年的回收款上限', en: 'the shop’s yearly buy-back cap is reached' },
  fund_empty: { zh: '县回收资金已用完，这次不付款', en: 'the county’s incentive fund is used up: no payment is due' },
  rejected: { zh: '未接收', en: 'not accepted' },
};

/** One line for the clerk and the farmer: "有偿回收 ¥0.30 · 已到本户今年的上限". */
export function describeIncentive(i: ItemIncentive, lang: 'zh' | 'en'): string {
  const parts: string[] = [INCENTIVE_KIND_TEXT[i.kind]?.[lang] ?? i.kind];
  if (i.buybackFen > 0) parts[0] += ` ¥${(i.buybackFen / 100).toFixed(2)}`;
  if (i.pointsMilli > 0) parts.push(lang === 'zh' ? `积分 ${formatPoints(i.pointsMilli)}` : `${formatPoints(i.pointsMilli)} points`);
  if (i.reason) parts.push(INCENTIVE_REASON_TEXT[i.reason]?.[lang] ?? i.reason);
  return parts.join(' · ');
}

