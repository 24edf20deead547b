// The rules of the statutory ledgers: which period (a month or from/to county business days), which
// shops (a clerk's own; an official's county, or one shop of it), and how the purchaser is shown —
// in clear to the shop that keeps the ledger (and the admin), masked for officials (DESIGN rule 11).
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { archivedYears } from '../archive/archive-store.js';
import { yearArchived } from '../archive/archive-service.js';
import type { Principal } from '../../auth/permissions.js';
import { businessMonth, DEFAULT_TIME_ZONE, lastDayOfMonth } from '../../shared/business-day.js';
import { maskName, maskPhone } from '../../shared/phone.js';
import { inspectorLedger } from '../custody/inspector-ledger.js';
import { countyOf, ledgerShops, salesLedgerRows } from './ledger-store.js';
import type { LedgerColumn, LedgerTable } from './ledger-formats.js';

export type LedgerKind = 'sales' | 'recycling';
export interface LedgerRequest { countyId: string; shopId?: string; period?: string; from?: string; to?: string }

const STATE_ZH: Record<string, string> = { open: '未封口', sealed: '已封口', picked_up: '运输中', received: '已入库', disposed: '已处置', rejected: '拒收', missing: '缺失' };

const SHOP_COLUMNS: LedgerColumn[] = [
  { key: 'shopName', zh: '经营单位', en: 'Shop', kind: 'text', width: 24, shop: true },
  { key: 'shopLicence', zh: '经营许可证号', en: 'Licence', kind: 'text', width: 28, shop: true },
];

export const SALES_COLUMNS: LedgerColumn[] = [
  ...SHOP_COLUMNS,
  { key: 'day', zh: '销售日期', en: 'Date', kind: 'date', width: 12 },
  { key: 'saleNo', zh: '销售单号', en: 'Sale no.', kind: 'text', width: 22 },
  { key: 'productName', zh: '农药名称', en: 'Product', kind: 'text', width: 24 },
  { key: 'registrationNo', zh: '农药登记证号', en: 'Registration no.', kind: 'text', width: 14 },
  { key: 'manufacturer', zh: '生产企业', en: 'Manufacturer', kind: 'text', width: 24 },
  { key: 'packSize', zh: '规格', en: 'Pack size', kind: 'text', width: 10 },
  { key: 'quantity', zh: '数量（件）', en: 'Quantity', kind: 'int', width: 10 },
  { key: 'depositPerContainer', zh: '包装押金单价（元）', en: 'Deposit each (yuan)', kind: 'yuan', width: 14 },
  { key: 'deposit', zh: '包装押金金额（元）', en: 'Deposit (yuan)', kind: 'yuan', width: 14 },
  { key: 'purchaserName', zh: '购买人', en: 'Purchaser', kind: 'text', width: 12 },
  { key: 'purchaserPhone', zh: '购买人联系电话', en: 'Purchaser phone', kind: 'text', width: 18 },
];

export const RECYCLING_COLUMNS: LedgerColumn[] = [
  ...SHOP_COLUMNS,
  { key: 'record', zh: '记录类型', en: 'Record', kind: 'text', width: 10 },
  { key: 'day', zh: '日期', en: 'Date', kind: 'date', width: 12 },
  { key: 'containerType', zh: '包装类型', en: 'Container type', kind: 'text', width: 12 },
  { key: 'material', zh: '材质', en: 'Material', kind: 'text', width: 8 },
  { key: 'quantity', zh: '数量（件）', en: 'Count', kind: 'int', width: 10 },
  { key: 'weightKg', zh: '重量（千克）', en: 'Weight (kg)', kind: 'kg', width: 12 },
  { key: 'sealNo', zh: '封条号', en: 'Seal no.', kind: 'text', width: 14 },
  { key: 'state', zh: '状态', en: 'State', kind: 'text', width: 8 },
  { key: 'trackingNo', zh: '转移联单号', en: 'Manifest no.', kind: 'text', width: 20 },
  { key: 'facility', zh: '去向单位', en: 'Sent to', kind: 'text', width: 24 },
  { key: 'facilityLicence', zh: '去向单位许可证号', en: 'Its licence', kind: 'text', width: 22 },
  { key: 'disposalMethod', zh: '处置方式', en: 'Disposal', kind: 'text', width: 12 },
  { key: 'disposedOn', zh: '处置日期', en: 'Disposed on', kind: 'date', width: 12 },
  { key: 'certificateNo', zh: '处置证明编号', en: 'Certificate no.', kind: 'text', width: 20 },
];

/** Whether the principal sees purchasers in clear: the shop's own clerk or terminal, and the admin. */
export function seesPurchaserInClear(p: Principal): boolean {
  return p.role === 'clerk' || p.role === 'terminal' || p.role === 'admin';
}

const periodError = (field: string, message: string) => new AppError('VALIDATION_FAILED', undefined, [{ field, code: 'period', message }]);

/** A month (YYYY-MM) or from/to county business days; neither → the county's current month. */
export function resolvePeriod(q: LedgerRequest, now: Date, timeZone: string): { from: string; to: string } {
  if (q.period !== undefined) {
    if (q.from !== undefined || q.to !== undefined) throw periodError('/query/period', 'give either period or from and to, not both');
    return { from: `${q.period}-01`, to: lastDayOfMonth(q.period) };
  }
  if ((q.from === undefined) !== (q.to === undefined)) throw periodError(q.from === undefined ? '/query/from' : '/query/to', 'give both from and to');
  if (q.from !== undefined && q.to !== undefined) {
    if (q.from > q.to) throw periodError('/query/from', 'from is after to');
    return { from: q.from, to: q.to };
  }
  const month = businessMonth(now, timeZone);
  return { from: `${month}-01`, to: lastDayOfMonth(month) };
}

export async function buildLedger(knex: Knex, kind: LedgerKind, principal: Principal, q: LedgerRequest, now: Date): Promise<LedgerTable> {
  const county = await countyOf(knex, q.countyId);
  if (!county) throw new AppError('NOT_FOUND');
  const tz = county.timezone ?? DEFAULT_TIME_ZONE;
  const { from, to } = resolvePeriod(q, now, tz);
  // A period reaching into an archived year would be missing that year's records: say so instead.
  const archived = [...(await archivedYears(knex, q.countyId)).keys()].filter((y) => from <= `${y}-12-31` && to >= `${y}-01-01`);
  if (archived.length) throw yearArchived(q.countyId, archived[0]!, `the ${kind} ledger of ${from} to ${to}`);
  const ownShop = principal.role === 'clerk' || principal.role === 'terminal' ? principal.shopId : null;
  if (ownShop && q.shopId !== undefined && q.shopId !== ownShop) throw new AppError('OUT_OF_SCOPE');
  const shopId = ownShop ?? q.shopId ?? null;
  const shops = await ledgerShops(knex, q.countyId, shopId);
  if (shopId && shops.length === 0) throw new AppError('NOT_FOUND');
  const base = { countyName: county.nameZh, from, to };
  const shopHead = (s: { id: string; name: string; licenceNo: string }) => ({ id: s.id, name: s.name, licenceNo: s.licenceNo, shopName: s.name, shopLicence: s.licenceNo });

  if (kind === 'sales') {
    const clear = seesPurchaserInClear(principal);
    const rows = await salesLedgerRows(knex, { countyId: q.countyId, shopIds: shops.map((s) => s.id), from, to });
    return {
      ...base, titleZh: '农药销售台账', titleEn: 'Pesticide sales ledger', sheetName: '销售台账', fileStem: 'sales-ledger',
      notes: [
        '依据《农药管理条例》第二十七条：如实记录销售农药的名称、规格、数量、生产企业、购买人、销售日期，保存2年以上。 Pesticide Management Regulation art. 27; kept at least two years.',
        ...(clear ? [] : ['购买人姓名和电话已脱敏。 Purchaser names and phone numbers are masked.']),
      ],
      columns: SALES_COLUMNS,
      purchaserReads: [...new Set(rows.map((r) => r.saleId))],
      shops: shops.map((s) => ({
        id: s.id, name: s.name, licenceNo: s.licenceNo,
        rows: rows.filter((r) => r.shopId === s.id).map((r) => ({
          shopName: s.name, shopLicence: s.licenceNo, day: r.day, saleNo: r.saleNo, productName: r.productName, registrationNo: r.registrationNo,
          manufacturer: r.manufacturer, packSize: r.packSize, quantity: r.quantity, depositPerContainer: r.depositPerContainerFen, deposit: r.depositFen,
          purchaserName: clear ? r.purchaserName : maskName(r.purchaserName), purchaserPhone: clear ? r.purchaserPhone : maskPhone(r.purchaserPhone),
        })),
      })),
    };
  }

  const custody = await inspectorLedger(knex, { countyId: q.countyId, shopIds: shops.map((s) => s.id), from, to });
  return {
    ...base, titleZh: '农药包装废弃物回收台账', titleEn: 'Pesticide packaging waste recycling ledger', sheetName: '回收台账', fileStem: 'recycling-ledger',
    notes: ['依据《农药包装废弃物回收处理管理办法》（2020）：记录回收农药包装废弃物的数量和去向，保存2年以上。 2020 Measures on pesticide packaging waste: quantities taken back and where they went, kept at least two years.'],
    columns: RECYCLING_COLUMNS,
    shops: custody.map((s) => {
      const head = shopHead({ id: s.shopId, name: s.shopName, licenceNo: s.licenceNo });
      return {
        id: s.shopId, name: s.shopName, licenceNo: s.licenceNo,
        rows: [
          ...s.received.map((r) => ({ shopName: head.shopName, shopLicence: head.shopLicence, record: '回收入库', day: r.day, containerType: r.containerType, material: r.material, quantity: r.quantity, weightKg: r.weightKg })),
          ...s.bags.map((b) => ({
            shopName: head.shopName, shopLicence: head.shopLicence, record: '交运去向', day: b.sealedOn, containerType: null, material: b.material, quantity: b.quantity,
            weightKg: b.measuredWeightKg ?? b.expectedWeightKg, sealNo: b.sealNo, state: STATE_ZH[b.state] ?? b.state, trackingNo: b.trackingNo, facility: b.facility,
            facilityLicence: b.facilityLicence, disposalMethod: b.disposalMethod, disposedOn: b.disposedOn, certificateNo: b.disposalCertificateNo,
          })),
        ],
      };
    }),
  };
}
