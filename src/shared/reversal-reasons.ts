// Why a clerk voids a sale or a return at the counter: the reason codes the shop terminal offers and
// sends as a reversal's `reason` (the server stores the reason as text, up to 300 characters; an
// official's reversal may carry free text). One list, in words, for the terminal's screen and slip.
export const VOID_REASONS = ['wrong_quantity', 'wrong_product', 'wrong_farmer', 'entered_twice', 'farmer_cancelled', 'other'] as const;
export type VoidReason = (typeof VOID_REASONS)[number];

export const VOID_REASON_TEXT: Readonly<Record<VoidReason, { zh: string; en: string }>> = {
  wrong_quantity: { zh: '数量错误', en: 'wrong quantity' },
  wrong_product: { zh: '商品错误', en: 'wrong product' },
  wrong_farmer: { zh: '农户错误', en: 'wrong farmer' },
  entered_twice: { zh: '重复录入', en: 'entered twice' },
  farmer_cancelled: { zh: '农户取消', en: 'farmer cancelled' },
  other: { zh: '其他', en: 'other' },
};

export function isVoidReason(v: unknown): v is VoidReason {
  return typeof v === 'string' && (VOID_REASONS as readonly string[]).includes(v);
}
