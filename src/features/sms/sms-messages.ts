// Every text the SMS service sends, in Chinese and English. Each is written to fit one SMS (70
// UCS-2 characters in Chinese) in the common case; lists of products or shops may run longer and
// are then split by splitSms. Amounts go through formatFen; nothing here names another person.
import { formatFen } from '../../shared/money.js';
import { formatPoints } from '../../shared/points.js';

export type SmsLanguage = 'zh' | 'en';

export interface BalanceFigures {
  products: Array<{ name: string; containers: number }>;
  outstandingContainers: number;
  refundableFen: number;
  lateRefundableFen: number;
  /** Deposits refunded this year (buy-back is not in it). */
  refundsThisYearFen: number;
  /** Buy-back paid from the county incentive fund this year; shown only when above zero. */
  buybackThisYearFen?: number;
  year: number;
  collectionPoints: string[];
  /** The farmer's points balance in milli-points (积分, issue 17); shown only when above zero. */
  pointsMilli?: number;
}

export interface HistoryEntry {
  /** Local date, YYYY-MM-DD. */
  day: string;
  shopName: string;
  containers: number;
  /** Deposits refunded by the return (buy-back is not in it). */
  refundFen: number;
  /** Buy-back the return paid from the county incentive fund; shown only when above zero. */
  buybackFen?: number;
}

/** "草甘膦异丙胺盐 41% 水剂（大包装）" → "草甘膦异丙胺盐": the active ingredient is what farmers call it. */
export function shortProductName(name: string): string {
  const m = /^[^\s0-9（(]+/.exec(name.trim());
  return m ? m[0] : name.trim();
}

/** "获得积分1.5分，积分余额3分。" when the return earned points; nothing otherwise. */
function pointsSentence(lang: SmsLanguage, n: { pointsMilli?: number; pointsBalanceMilli?: number | null }): string {
  const earned = n.pointsMilli ?? 0;
  if (earned <= 0) return '';
  const balance = n.pointsBalanceMilli ?? null;
  return lang === 'zh'
    ? `获得积分${formatPoints(earned)}分${balance !== null ? `，积分余额${formatPoints(balance)}分` : ''}。`
    : `Points earned: ${formatPoints(earned)}${balance !== null ? `, balance ${formatPoints(balance)}` : ''}. `;
}

function containers(n: number): string {
  return `${n} container${n === 1 ? '' : 's'}`;
}

function mmdd(day: string): string {
  const [, m, d] = day.split('-');
  return `${Number(m)}/${Number(d)}`;
}

/** Products with the same short name (two pack sizes of one pesticide) are added up. */
function productList(products: BalanceFigures['products'], lang: SmsLanguage): string {
  const byName = new Map<string, number>();
  for (const p of products) {
    if (p.containers <= 0) continue;
    const k = shortProductName(p.name);
    byName.set(k, (byName.get(k) ?? 0) + p.containers);
  }
  return [...byName].map(([n, c]) => (lang === 'zh' ? `${n}${c}个` : `${n} x${c}`)).join(lang === 'zh' ? '、' : ', ');
}

export const messages = {
  balance(lang: SmsLanguage, b: BalanceFigures): string {
    const fen = (n: number) => formatFen(n, lang);
    if (lang === 'zh') {
      const parts: string[] = [];
      if (b.outstandingContainers === 0) parts.push('您目前没有待退押金的包装。');
      else parts.push(`待退押金${fen(b.refundableFen)}，包装${b.outstandingContainers}个（${productList(b.products, lang)}）。`);
      if (b.lateRefundableFen > 0) parts.push(`已过期仍可退${fen(b.lateRefundableFen)}。`);
      parts.push((b.buybackThisYearFen ?? 0) > 0 ? `${b.year}年已退${fen(b.refundsThisYearFen)}，有偿回收${fen(b.buybackThisYearFen!)}。` : `${b.year}年已退${fen(b.refundsThisYearFen)}。`);
      if ((b.pointsMilli ?? 0) > 0) parts.push(`积分${formatPoints(b.pointsMilli!)}分。`);
      if (b.collectionPoints.length) parts.push(`回收点：${b.collectionPoints.join('、')}`);
      return parts.join('');
    }
    const parts: string[] = [];
    if (b.outstandingContainers === 0) parts.push('No deposits to refund.');
    else parts.push(`Refundable deposit ${fen(b.refundableFen)} on ${containers(b.outstandingContainers)} (${productList(b.products, lang)}).`);
    if (b.lateRefundableFen > 0) parts.push(`Expired, still refunded: ${fen(b.lateRefundableFen)}.`);
    parts.push((b.buybackThisYearFen ?? 0) > 0 ? `Refunded in ${b.year}: ${fen(b.refundsThisYearFen)}; buy-back ${fen(b.buybackThisYearFen!)}.` : `Refunded in ${b.year}: ${fen(b.refundsThisYearFen)}.`);
    if ((b.pointsMilli ?? 0) > 0) parts.push(`Points: ${formatPoints(b.pointsMilli!)}.`);
    if (b.collectionPoints.length) parts.push(`Return to: ${b.collectionPoints.join(', ')}`);
    return parts.join(' ');
  },

  history(lang: SmsLanguage, entries: HistoryEntry[]): string {
    if (entries.length === 0) return lang === 'zh' ? '您还没有退还包装的记录。' : 'No returns recorded yet.';
    // A deposit refund and buy-back are two figures (docs/incentives.md): buy-back is named when there is any.
    const paidZh = (e: HistoryEntry) => ((e.buybackFen ?? 0) > 0
      ? `${e.refundFen > 0 ? `退${formatFen(e.refundFen, lang)}，` : ''}有偿回收${formatFen(e.buybackFen!, lang)}`
      : `退${formatFen(e.refundFen, lang)}`);
    const paidEn = (e: HistoryEntry) => ((e.buybackFen ?? 0) > 0
      ? `${e.refundFen > 0 ? `refund ${formatFen(e.refundFen, lang)}, ` : ''}buy-back ${formatFen(e.buybackFen!, lang)}`
      : `refund ${formatFen(e.refundFen, lang)}`);
    if (lang === 'zh') return `最近退还：${entries.map((e) => `${mmdd(e.day)}${e.shopName}${e.containers}个${paidZh(e)}`).join('；')}`;
    return `Last returns: ${entries.map((e) => `${mmdd(e.day)} ${e.shopName} ${containers(e.containers)}, ${paidEn(e)}`).join('; ')}`;
  },

  help(lang: SmsLanguage): string {
    return lang === 'zh'
      ? '回复：余额 查押金，记录 查退还，退订 停通知，订阅 开通知。空包装洗净后可到任一农资店退押金。'
      : 'Reply BAL for your deposits, HIST for returns, STOP to end alerts, START to resume. Return rinsed empty containers to any shop for your deposit.';
  },

  /** Anything not understood: shorter than help, so a typo does not cost a long reply. */
  unknownCommand(lang: SmsLanguage): string {
    return lang === 'zh' ? '未识别的指令。回复 余额 查押金，回复 帮助 看全部指令。' : 'Not understood. Reply BAL for your deposits or HELP for all commands.';
  },

  /** To a number no farmer is registered with: how to register, and nothing about anyone. */
  unregistered(): string {
    return '本号码未登记。在任一农资店买药时向店员报手机号即可登记，之后发 余额 可查押金。';
  },

  stopped(lang: SmsLanguage): string {
    return lang === 'zh' ? '已停止押金通知。回复 订阅 可恢复；回复 余额 仍可查询。' : 'Alerts stopped. Reply START to resume; BAL still works.';
  },

  started(lang: SmsLanguage): string {
    return lang === 'zh' ? '已开通押金通知。回复 退订 可停止。' : 'Alerts on. Reply STOP to end them.';
  },

  rateLimited(lang: SmsLanguage): string {
    return lang === 'zh' ? '查询太频繁，请1小时后再试。' : 'Too many messages; please try again in an hour.';
  },

  saleRecorded(lang: SmsLanguage, n: { shopName: string; containers: number; depositFen: number }): string {
    return lang === 'zh'
      ? `${n.shopName}收押金${formatFen(n.depositFen, lang)}（${n.containers}个包装）。空包装洗净后退任一农资店可退押金。`
      : `${n.shopName}: deposit ${formatFen(n.depositFen, lang)} on ${containers(n.containers)}. Return them rinsed to any shop for a refund.`;
  },

  refundPaid(lang: SmsLanguage, n: { shopName: string; containers: number; refundFen: number; stillRefundableFen: number; buybackFen?: number; pointsMilli?: number; pointsBalanceMilli?: number | null }): string {
    const buyback = n.buybackFen ?? 0;
    if (buyback > 0) {
      // Incentives (docs/incentives.md): buy-back paid from the county fund, part of the cash paid.
      return lang === 'zh'
        ? `${n.shopName}回收${n.containers}个包装，共付${formatFen(n.refundFen, lang)}（含有偿回收${formatFen(buyback, lang)}）。${pointsSentence(lang, n)}尚可退押金${formatFen(n.stillRefundableFen, lang)}。`
        : `${n.shopName}: ${containers(n.containers)} returned, paid ${formatFen(n.refundFen, lang)} (buy-back ${formatFen(buyback, lang)}). ${pointsSentence(lang, n)}Deposit still refundable: ${formatFen(n.stillRefundableFen, lang)}.`;
    }
    return lang === 'zh'
      ? `${n.shopName}退还${n.containers}个包装，退押金${formatFen(n.refundFen, lang)}。${pointsSentence(lang, n)}尚可退${formatFen(n.stillRefundableFen, lang)}。`
      : `${n.shopName}: ${containers(n.containers)} returned, refund ${formatFen(n.refundFen, lang)}. ${pointsSentence(lang, n)}Still refundable: ${formatFen(n.stillRefundableFen, lang)}.`;
  },

  /** A return that paid nothing but earned points (积分制). */
  pointsEarned(lang: SmsLanguage, n: { shopName: string; containers: number; pointsMilli: number; pointsBalanceMilli: number | null }): string {
    return lang === 'zh'
      ? `${n.shopName}回收${n.containers}个包装。${pointsSentence(lang, n)}`
      : `${n.shopName}: ${containers(n.containers)} returned. ${pointsSentence(lang, n)}`.trimEnd();
  },

  /** A return's refund held for the county's review (codes nobody sold): no codes, no amounts per item. */
  refundHeld(lang: SmsLanguage, n: { containers: number; refundFen: number }): string {
    return lang === 'zh'
      ? `您退还的${n.containers}个包装，退款${formatFen(n.refundFen, lang)}正在审核，审核结果将短信通知您。`
      : `Your refund of ${formatFen(n.refundFen, lang)} for ${containers(n.containers)} is under review; you will get an SMS when it is decided.`;
  },

  /** Approved: collect it at any shop of the county (approved refunds do not lapse). */
  heldRefundApproved(lang: SmsLanguage, n: { refundFen: number; countyName: string }): string {
    return lang === 'zh'
      ? `您的退款${formatFen(n.refundFen, lang)}已审核通过，可到${n.countyName}任一农资店报本手机号领取。`
      : `Your refund of ${formatFen(n.refundFen, lang)} is approved. Collect it at any shop in ${n.countyName}; give this phone number.`;
  },

  /** Approved and paid by the county's mobile payment: nothing to collect. */
  heldRefundPaidByMobile(lang: SmsLanguage, n: { refundFen: number; countyName: string }): string {
    return lang === 'zh'
      ? `您的退款${formatFen(n.refundFen, lang)}已审核通过，${n.countyName}已通过移动支付付给您，无需再到店领取。`
      : `Your refund of ${formatFen(n.refundFen, lang)} is approved and was paid to you by mobile payment from ${n.countyName}. Nothing to collect.`;
  },

  /** Declined: the reason's category (never the official's free text) and whom to ask. */
  heldRefundDeclined(lang: SmsLanguage, n: { refundFen: number; reason: 'unsold_code' | 'likely_counterfeit'; countyName: string }): string {
    if (lang === 'zh') {
      const why = n.reason === 'likely_counterfeit' ? '包装疑似假冒' : '包装上的码没有销售记录';
      return `您的退款${formatFen(n.refundFen, lang)}未获批准：${why}。如有疑问请联系${n.countyName}农业农村局。`;
    }
    const why = n.reason === 'likely_counterfeit' ? 'the container looks counterfeit' : 'the code on the container was never sold';
    return `Your refund of ${formatFen(n.refundFen, lang)} was not approved: ${why}. Questions: contact the ${n.countyName} agriculture office.`;
  },

  expiryReminder(lang: SmsLanguage, n: { containers: number; depositFen: number; expiresOn: string }): string {
    return lang === 'zh'
      ? `提醒：您有${n.containers}个包装的押金${formatFen(n.depositFen, lang)}将于${n.expiresOn}到期，请尽快退回农资店。`
      : `Reminder: deposit ${formatFen(n.depositFen, lang)} on ${containers(n.containers)} expires on ${n.expiresOn}. Return them to a shop soon.`;
  },
};
