// The dashboard's plain words, in one place: what each kind of reconciliation exception means, and a
// sentence (what happened, what to do) for every error code an official can meet on the dashboard.
// Served to the page as /dashboard/plain-words.js; a test fails when an exception kind or one of the
// dashboard's error codes has no text. Error sentences come from the shared catalogue
// (src/shared/plain-words.ts, the same words the terminal shows); the dashboard only words a few codes
// for its own screens (e.g. which button to press) on top of it.
import { PLAIN_WORDS } from '../../shared/plain-words.js';

export interface Words { zh: string; en: string }

/** Every kind of exception a reconciliation run can report (src/features/reconciliation/). */
export const EXCEPTION_REASONS: Record<string, Words> = {
  ledger_records_mismatch: { zh: '账簿与业务记录不一致', en: 'Ledger and records disagree' },
  outstanding_mismatch: { zh: '未退押金对不上', en: 'Deposits outstanding do not match' },
  unredeemed_mismatch: { zh: '逾期未退押金对不上', en: 'Unredeemed deposits do not match' },
  shop_position_mismatch: { zh: '店铺头寸对不上', en: 'Shop position does not match' },
  returns_above_sales: { zh: '回收多于收押销售', en: 'More returned than sold with deposit' },
  negative_outstanding: { zh: '退款超过收押销售', en: 'More refunded than sold with deposit' },
  unit_refunded_twice: { zh: '同一包装重复退款', en: 'One container refunded twice' },
  late_record: { zh: '单据迟到上传', en: 'Records uploaded late' },
  late_adjustment: { zh: '结账后的迟到调整', en: 'Late adjustment after closing' },
  deposit_differs_from_schedule: { zh: '押金与标准不符', en: 'Deposit differs from the schedule' },
  refund_paid_differs: { zh: '实付退款与应退不符', en: 'Refund paid differs from refund due' },
  bagged_exceeds_returns: { zh: '装袋数多于回收数', en: 'More bagged than returned' },
  overdue_pickup: { zh: '逾期未收运', en: 'Pickup overdue' },
  // discrepancy_<type>, one per custody discrepancy type (custody_discrepancies_type check)
  discrepancy_count: { zh: '点数与申报不符', en: 'Count differs from the declared number' },
  discrepancy_weight: { zh: '称重与预期不符', en: 'Weight differs from the expected weight' },
  discrepancy_missing_bag: { zh: '回收袋丢失', en: 'Bag missing' },
  discrepancy_broken_seal: { zh: '封签破损', en: 'Seal broken' },
  discrepancy_wrong_material: { zh: '材质不符', en: 'Wrong material in the bag' },
};

/** The dashboard's own wording of codes it meets on its screens, over the shared catalogue. */
const DASHBOARD_WORDING: Record<string, Words> = {
  INVALID_MONTH_RANGE: { zh: '起始月份晚于截止月份，请把起始月改到截止月之前或同月，再点“查询”。', en: 'The start month is after the end month. Choose a start month on or before the end month, then press Apply.' },
  VALIDATION_FAILED: { zh: '查询条件有误（月份应为 年-月），请改正后再查询。', en: 'The query is not valid (months are year-month). Correct it and try again.' },
  TOKEN_EXPIRED: { zh: '登录已过期，请重新登录。', en: 'Your session expired, please sign in again.' },
  SESSION_REVOKED: { zh: '登录已过期，请重新登录。', en: 'Your session expired, please sign in again.' },
  TOKEN_INVALID: { zh: '登录已过期，请重新登录。', en: 'Your session expired, please sign in again.' },
  UNAUTHENTICATED: { zh: '登录已过期，请重新登录。', en: 'Your session expired, please sign in again.' },
  INVALID_CREDENTIALS: { zh: '用户名或密码不对，请再试一次。', en: 'The username or password is wrong. Please try again.' },
  OUT_OF_SCOPE: { zh: '您无权查看这个县的数据。', en: 'You may not see this county’s figures.' },
  FORBIDDEN: { zh: '您的账号不能查看看板，请联系管理员。', en: 'Your account may not view the dashboard. Ask your administrator.' },
  NOT_FOUND: { zh: '没有找到这条数据，可能已被删除。', en: 'This was not found; it may have been removed.' },
  RATE_LIMITED: { zh: '尝试次数过多，请稍后再试。', en: 'Too many attempts. Please wait a little and try again.' },
  RECONCILIATION_PERIOD_INVALID: { zh: '对账期间应为某月（如 2026-03）。', en: 'A reconciliation period is a month such as 2026-03.' },
  RECONCILIATION_AS_OF_IN_FUTURE: { zh: '对账截止时间不能晚于现在。', en: 'A reconciliation cannot be made as of a future time.' },
  NETWORK: { zh: '连不上服务器，请检查网络后再试。', en: 'The server cannot be reached. Check the network and try again.' },
  INTERNAL: { zh: '服务器出错了，请稍后再试；如一直出现，请把下方代码告诉技术支持。', en: 'Something went wrong on the server. Try again later; if it keeps happening, give support the code below.' },
};

/** Sentences for every error code (shared catalogue, dashboard wording first); the code stays in small print for support calls. */
export const ERROR_SENTENCES: Record<string, Words> = { ...PLAIN_WORDS, ...DASHBOARD_WORDING };

/** The page's copy of the catalogue (a plain script, no build step). */
export function plainWordsScript(): string {
  return `window.PLAIN_WORDS = ${JSON.stringify({ exceptions: EXCEPTION_REASONS, errors: ERROR_SENTENCES })};\n`;
}
