// Receipt models the printing tests share: Chinese product names, amounts that need grouping, every
// reject reason, both payment methods.
import type { BagLabel, DrawerReport, RedemptionReceipt, RefundReceipt, SaleReceipt } from '../../../../terminals/printing/models.js';
import { bagQrPayload, refundQrPayload, saleQrPayload } from '../../../../terminals/printing/models.js';

export const sale: SaleReceipt = {
  shopName: '青神县瑞丰农资店',
  saleNumber: 'S-20250403-0012',
  soldAt: '2025-04-03T06:05:00Z',
  purchaserMaskedName: '张**',
  purchaserMaskedPhone: '+86 174****0001',
  lines: [
    { productName: '草甘膦异丙胺盐 41% 水剂 200mL', quantity: 2, depositPerContainerFen: 100, lineDepositFen: 200 },
    { productName: '吡虫啉 10% 可湿性粉剂 袋装', quantity: 3, depositPerContainerFen: 50, lineDepositFen: 150 },
    { productName: 'Mancozeb 80% WP 1kg', quantity: 1, depositPerContainerFen: 200, lineDepositFen: 200 },
  ],
  totalDepositFen: 550,
  qrPayload: saleQrPayload('S-20250403-0012', { serverUrl: 'https://agrireturn.qingshen.gov.cn/', countyId: '511425' }),
};

export const refund: RefundReceipt = {
  shopName: '青神县瑞丰农资店',
  refundNumber: 'R-20250510-0007',
  returnedAt: '2025-05-10T02:30:00Z',
  returnerMaskedName: '李*',
  returnerMaskedPhone: '+86 174****0002',
  accepted: [
    { productName: '草甘膦异丙胺盐 41% 水剂 200mL', quantity: 2, refundFen: 200 },
    { productName: '吡虫啉 10% 可湿性粉剂 袋装', quantity: 1, refundFen: 50 },
  ],
  rejected: [
    { productName: '草甘膦异丙胺盐 41% 水剂 200mL', quantity: 1, reason: 'not_rinsed' },
    { productName: '未知瓶', quantity: 1, reason: 'unknown_code' },
    { productName: '百草枯 20%', quantity: 1, reason: 'other_county' },
  ],
  refundedFen: 250,
  payment: { method: 'mobile', reference: 'WX4200001234202505' },
  qrPayload: refundQrPayload('R-20250510-0007'),
};

export const bagLabel: BagLabel = {
  sealNumber: 'QS-2025-004711',
  material: 'HDPE 塑料瓶',
  county: '青神县',
  shopName: '青神县瑞丰农资店',
  sealedAt: '2025-05-12',
  counts: [
    { containerType: '塑料瓶 ≤250mL', count: 140 },
    { containerType: '塑料瓶 1L', count: 22 },
  ],
  qrPayload: bagQrPayload('QS-2025-004711'),
};

export const drawer: DrawerReport = {
  shopName: '青神县瑞丰农资店',
  day: '2025-05-12',
  openingFloatFen: 20000,
  depositsTakenFen: 123450,
  refundsPaidFen: 45600,
  refundsPaidCashFen: 30000,
  netCashExpectedFen: 113450,
  salesCount: 41,
  containersSold: 1234,
  returnsCount: 17,
  containersAccepted: 456,
  containersRejected: 12,
  printedAt: '2025-05-12T10:30:00Z',
  clerkName: '王*',
};

/** Issue 17: a refund with a deposit, a buy-back with points, points only and a capped item; balance known. */
export const refundWithIncentives: RefundReceipt = {
  shopName: '青神县瑞丰农资店',
  refundNumber: 'HS20260610-C0DE-0003',
  returnedAt: '2026-06-10T03:00:00Z',
  returnerMaskedName: '李*',
  returnerMaskedPhone: '+86 174****0701',
  accepted: [
    { productName: '草甘膦异丙胺盐 41% 水剂', packSizeLabel: '200 mL', quantity: 5, refundFen: 290, incentive: { kind: 'buyback_points', buybackFen: 90, pointsMilli: 600, reason: null } },
    { productName: '草甘膦异丙胺盐 41% 水剂', packSizeLabel: '200 mL', quantity: 1, refundFen: 100, incentive: { kind: 'deposit', buybackFen: 0, pointsMilli: 0, reason: null } },
    { productName: '吡虫啉 10% 可湿性粉剂 袋装', quantity: 4, refundFen: 0, incentive: { kind: 'points', buybackFen: 0, pointsMilli: 2000, reason: null } },
    { productName: '百菌清 75% 可湿性粉剂 1 kg', quantity: 2, refundFen: 0, incentive: { kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'fund_empty' } },
    { productName: 'Mancozeb 80% WP 1kg', quantity: 1, refundFen: 0, incentive: { kind: 'points', buybackFen: 0, pointsMilli: 150, reason: 'household_cap' } },
  ],
  rejected: [{ productName: '草甘膦异丙胺盐 41% 水剂', quantity: 1, reason: 'not_rinsed' }],
  refundedFen: 390,
  payment: { method: 'cash' },
  qrPayload: refundQrPayload('HS20260610-C0DE-0003'),
  buybackFen: 90,
  pointsEarnedMilli: 2750,
  pointsBalanceMilli: 12_750,
  incentivesEstimated: false,
};

export const redemption: RedemptionReceipt = {
  shopName: '青神县瑞丰农资店',
  receiptNo: 'DH20260610-C0DE-0001',
  redemptionNo: '1042',
  redeemedAt: '2026-06-10T03:30:00Z',
  farmerMaskedName: '李*',
  farmerMaskedPhone: '+86 174****0701',
  goods: '洗衣粉 2 袋（立白 1.5 kg）和一副劳保手套',
  goodsValueFen: 3550,
  pointsMilli: 10_500,
  balanceAfterMilli: 2250,
};

export const drawerWithIncentives: DrawerReport = {
  ...drawer,
  buybackPaidFen: 12_330,
  pointsEarnedMilli: 123_400,
  pointsRedeemedMilli: 10_500,
  redemptionsCount: 3,
  redeemedGoodsValueFen: 3550,
};
