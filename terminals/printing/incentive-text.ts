// Incentives in words (issue 17): which incentive a returned item got and why, in Chinese and English,
// and points as a farmer reads them. Shared by the receipts and the clerk's screen.

import { formatPoints, type IncentiveKind, type IncentiveReason, type ItemIncentive } from '../../src/shared/points.js';

export { formatPoints, parsePoints, type IncentiveKind, type IncentiveReason, type ItemIncentive } from '../../src/shared/points.js';

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

