// The records of the demo county 青神县 Qingshen (511425, seeds/demo-county.ts) that the documented
// examples show: docs/api.md and openapi.json answer a township example with 青城镇 and its real id, a
// shop example with 青城镇丰收农资店, and so on, so an example request sent to a freshly seeded server
// finds what it names. The ids are the seed's own (UUID v5 of the seed's natural keys, spelled out
// here because this module is shared with the terminals); test/http/example-requests.test.ts checks
// them against seeds/demo-county.ts.

export const DEMO_EXAMPLE_COUNTY = '511425';

/**
 * The moment the examples are written for: 1 April 2026, 10:00 in the county (UTC+8). Sales and
 * returns of mid-March are recent, March has ended (its reports and statements can be made), a
 * deposit schedule or incentive rate from 1 April starts today.
 */
export const EXAMPLE_NOW = '2026-04-01T02:00:00.000Z';

/** Ids of seeded demo records (seeds/demo-county.ts demoId). */
export const DEMO_IDS = {
  /** 青城镇 Qingcheng */
  township: '079eec19-d416-503c-803a-b9191b705cb4',
  /** 高台镇 Gaotai, the township of the example farmer */
  farmerTownship: '119e65ff-8849-5ab3-b3b2-5575f292bc1d',
  /** 青城镇丰收农资店 (the shop of clerk.qingcheng) */
  shop: '3085bfb3-e2fb-55b8-96b2-53e658aa38e7',
  /** 青神县农药包装废弃物集中收集中心 */
  facility: '10686318-7cc1-538f-98b5-1f843dee637a',
  /** 眉山市绿洲环保科技有限公司 (incinerator), where manifests end */
  disposalFacility: '771b644f-3de0-581c-933a-0d1e799d1da0',
  /** 眉山市安顺危险货物运输有限公司 */
  hauler: '6338b101-7d7e-5fbd-b6aa-582e33c75460',
  /** HDPE-1L, 1升高密度聚乙烯瓶 */
  containerType: '06b3f577-73e1-59e5-9a9a-7b37c6f8ea99',
  /** PD20070128 草甘膦异丙胺盐 41% 水剂, 1 L (浙江新安化工) */
  product: '70fedd64-9835-5a89-9c89-42bdb36d5753',
  /** The county-wide default deposit schedule (1 yuan, from 2024-01-01) */
  depositSchedule: '644db8ec-2e63-5cbf-b8f5-8639d6045b39',
  /** 徐兵, 高台镇复兴村 (the first demo farmer) */
  farmer: 'fd155605-1e0f-5b95-9780-5dd374f632c3',
  /** qingshen.official */
  user: '0dec66c1-f8b6-5af2-b049-2e5f22f8c425',
  /** clerk.qingcheng */
  clerkUser: '3cb074c0-8fd7-5fed-8acf-16ecaa9e47a9',
} as const;

/** Facts of the same records, for examples that name them. */
export const DEMO_FACTS = {
  farmerPhone: '+8617464647741',
  productGtin: '6923301100375',
  productRegistrationNo: 'PD20070128',
  productName: '草甘膦异丙胺盐 41% 水剂',
  manufacturer: '浙江新安化工集团股份有限公司',
  shopName: '青城镇丰收农资店',
  shopLicence: '农药经许（川）51142520180001',
  clerkUsername: 'clerk.qingcheng',
  /** A unit of the example product, own production, its pack code 210 (docs/unit-codes.md) */
  unitCode: '10701281210048392057163820495731',
} as const;

/**
 * A stable, UUID v7-shaped id for a kind of record the seed does not hold (a sale, a bag, a manifest):
 * its time part is 2026-03-15 02:30 UTC, the rest comes from the name, so two kinds never share an id.
 */
export function exampleIdFor(name: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < name.length; i++) {
    h1 = Math.imul(h1 ^ name.charCodeAt(i), 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ name.charCodeAt(i), 0x5bd1e995) >>> 0;
  }
  const hex = (n: number, len: number) => (n >>> 0).toString(16).padStart(8, '0').slice(0, len);
  return `019cef54-3840-7${hex(h1, 3)}-${(8 + (h2 & 3)).toString(16)}${hex(h2 >>> 4, 3)}-${hex(h1 ^ h2, 8)}${hex(Math.imul(h1, 31) ^ h2, 4)}`;
}
