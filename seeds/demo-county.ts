// Demo data for one real county: Qingshen County 青神县 (Meishan 眉山市, Sichuan 四川省), the county
// whose 1-yuan deposit made it the model for pesticide-packaging returns. Townships are the county's
// real ones; shops, facilities, the hauler, product registrations, GTINs and farmers are fictional but
// well-formed (registration numbers match the ICAMA pattern, GTINs carry valid EAN-13 check digits,
// phone numbers sit in the reserved demo block +86 1746xxxxxxx so no real person is ever texted).
//
// Idempotent: every row gets a UUID v5 derived from a stable name, every insert is
// `ON CONFLICT DO NOTHING`, and rows that other rows point at are read back by their natural key, so a
// second run (or a run after an administrator edited the data) inserts nothing and never fails.
// Plain knex builder SQL only: it runs unchanged on any PostgreSQL 15 server.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { hashPassword } from '../src/auth/passwords.js';
import { mulberry32 } from '../src/shared/prng.js';
import { withGtinCheckDigit } from '../src/shared/gtin.js';

export interface DemoUser {
  username: string;
  password: string;
  role: string;
  description_zh: string;
  description_en: string;
}

export const DEMO_COUNTY_ID = '511425';
/** The shared password of every demo login (printed by `npm start` and `npm run seed`). */
export const DEMO_PASSWORD = 'agrireturn-demo';
const DEMO_PHONE_PREFIX = '+861746';

// ---------------------------------------------------------------------------------------------------
// Deterministic ids and randomness

/** RFC 4122 URL namespace; the name below is what makes the ids ours. */
const NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

/** UUID version 5 (SHA-1, RFC 4122) of `agrireturn-demo:<table>:<key>`. */
export function demoId(table: string, key: string): string {
  const ns = Buffer.from(NAMESPACE_URL.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(`agrireturn-demo:${table}:${key}`, 'utf8').digest();
  const b = Buffer.from(hash.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x50; // version 5
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---------------------------------------------------------------------------------------------------
// Content

const COUNTY = {
  id: DEMO_COUNTY_ID,
  name_zh: '青神县',
  name_en: 'Qingshen County',
  province_code: '510000',
  province_name_zh: '四川省',
  prefecture_name_zh: '眉山市',
  timezone: 'Asia/Shanghai',
  deposit_validity_days: 365,
  untracked_refund_policy: 'schedule_up_to_limit',
  untracked_daily_limit: 20,
  late_return_policy: 'refund_from_unredeemed',
  settlement_period: 'monthly',
  weight_tolerance_pct: 10,
};

// The county's current township-level divisions (5 towns, 2 townships). Statistical codes are left
// null rather than guessed.
const TOWNSHIPS: Array<{ name_zh: string; name_en: string; villages: string[] }> = [
  { name_zh: '青城镇', name_en: 'Qingcheng', villages: ['城东村', '中岩村', '竹林村', '兰沟村', '石堰村', '新华村'] },
  { name_zh: '汉阳镇', name_en: 'Hanyang', villages: ['汉阳村', '鸿化村', '河坝村', '永丰村', '红星村'] },
  { name_zh: '瑞峰镇', name_en: 'Ruifeng', villages: ['瑞峰村', '天池村', '高峰村', '桂花村', '白鹤村'] },
  { name_zh: '西龙镇', name_en: 'Xilong', villages: ['西龙村', '柑橘村', '黄坝村', '龙泉村', '三江村'] },
  { name_zh: '高台镇', name_en: 'Gaotai', villages: ['高台村', '花园村', '复兴村', '梨园村'] },
  { name_zh: '白果乡', name_en: 'Baiguo', villages: ['白果村', '银杏村', '松林村', '新民村'] },
  { name_zh: '罗波乡', name_en: 'Luobo', villages: ['罗波村', '碧山村', '团结村', '金竹村'] },
];

const SHOPS: Array<{ township: string; name: string; licence: string; address: string; collection: boolean; phone: string }> = [
  { township: '青城镇', name: '青城镇丰收农资店', licence: '农药经许（川）51142520180001', address: '四川省眉山市青神县青城镇青竹街86号', collection: true, phone: '0000101' },
  { township: '青城镇', name: '青城镇绿源农资经营部', licence: '农药经许（川）51142520180002', address: '四川省眉山市青神县青城镇迎宾大道215号', collection: true, phone: '0000102' },
  { township: '青城镇', name: '青神县惠农农资连锁青城店', licence: '农药经许（川）51142520190007', address: '四川省眉山市青神县青城镇东大街12号', collection: true, phone: '0000103' },
  { township: '汉阳镇', name: '汉阳镇兴农农资店', licence: '农药经许（川）51142520180011', address: '四川省眉山市青神县汉阳镇古镇街33号', collection: true, phone: '0000104' },
  { township: '汉阳镇', name: '汉阳镇金穗农资店', licence: '农药经许（川）51142520200015', address: '四川省眉山市青神县汉阳镇滨江路8号', collection: false, phone: '0000105' },
  { township: '瑞峰镇', name: '瑞峰镇丰泽农资店', licence: '农药经许（川）51142520180021', address: '四川省眉山市青神县瑞峰镇瑞峰街57号', collection: true, phone: '0000106' },
  { township: '瑞峰镇', name: '瑞峰镇利民农资经营部', licence: '农药经许（川）51142520190024', address: '四川省眉山市青神县瑞峰镇新街19号', collection: true, phone: '0000107' },
  { township: '西龙镇', name: '西龙镇永丰农资店', licence: '农药经许（川）51142520180031', address: '四川省眉山市青神县西龙镇西龙街102号', collection: true, phone: '0000108' },
  { township: '西龙镇', name: '西龙镇益农农资店', licence: '农药经许（川）51142520210036', address: '四川省眉山市青神县西龙镇柑橘大道6号', collection: false, phone: '0000109' },
  { township: '高台镇', name: '高台镇百益农资店', licence: '农药经许（川）51142520180041', address: '四川省眉山市青神县高台镇正街45号', collection: true, phone: '0000110' },
  { township: '白果乡', name: '白果乡惠民农资店', licence: '农药经许（川）51142520180051', address: '四川省眉山市青神县白果乡场镇街23号', collection: true, phone: '0000111' },
  { township: '罗波乡', name: '罗波乡绿野农资店', licence: '农药经许（川）51142520190058', address: '四川省眉山市青神县罗波乡罗波街9号', collection: true, phone: '0000112' },
];

const FACILITIES: Array<{ key: string; name: string; kind: string; licence: string; address: string }> = [
  {
    key: 'collection-centre',
    name: '青神县农药包装废弃物集中收集中心',
    kind: 'collection_centre',
    licence: '川危废收集（青神）第2023001号',
    address: '四川省眉山市青神县青城镇工业园区纬二路18号',
  },
  {
    key: 'incinerator',
    name: '眉山市绿洲环保科技有限公司（危险废物焚烧处置）',
    kind: 'incinerator',
    licence: '川环危第511402063号',
    address: '四川省眉山市东坡区修文镇环保产业园3号',
  },
];

const HAULER = {
  name: '眉山市安顺危险货物运输有限公司',
  licence: '川交运管许可眉字511402000123号',
  phone: '0000201',
};

const CONTAINER_TYPES: Array<{ code: string; name_zh: string; name_en: string; material: string; volume_ml: number; tare_weight_g: number }> = [
  { code: 'PET-100', name_zh: '100毫升PET瓶', name_en: '100 mL PET bottle', material: 'PET', volume_ml: 100, tare_weight_g: 12 },
  { code: 'PET-250', name_zh: '250毫升PET瓶', name_en: '250 mL PET bottle', material: 'PET', volume_ml: 250, tare_weight_g: 22 },
  { code: 'HDPE-500', name_zh: '500毫升高密度聚乙烯瓶', name_en: '500 mL HDPE bottle', material: 'HDPE', volume_ml: 500, tare_weight_g: 35 },
  { code: 'HDPE-1L', name_zh: '1升高密度聚乙烯瓶', name_en: '1 L HDPE bottle', material: 'HDPE', volume_ml: 1000, tare_weight_g: 55 },
  { code: 'HDPE-5L', name_zh: '5升高密度聚乙烯桶', name_en: '5 L HDPE jerrycan', material: 'HDPE', volume_ml: 5000, tare_weight_g: 210 },
  { code: 'GLASS-200', name_zh: '200毫升玻璃瓶', name_en: '200 mL glass bottle', material: 'glass', volume_ml: 200, tare_weight_g: 180 },
  { code: 'ALU-BAG-100G', name_zh: '100克铝箔袋', name_en: '100 g aluminium foil sachet', material: 'aluminium', volume_ml: 150, tare_weight_g: 4 },
  { code: 'COMP-BAG-500G', name_zh: '500克复合膜袋', name_en: '500 g composite film bag', material: 'composite_bag', volume_ml: 800, tare_weight_g: 10 },
];

const MANUFACTURERS: Record<string, { name: string; gs1: string | null }> = {
  guoguang: { name: '四川国光农化股份有限公司', gs1: '6921837' },
  lier: { name: '利尔化学股份有限公司', gs1: '6925166' },
  yangnong: { name: '江苏扬农化工股份有限公司', gs1: '6920415' },
  xinan: { name: '浙江新安化工集团股份有限公司', gs1: '6923301' },
  hongtaiyang: { name: '南京红太阳股份有限公司', gs1: '6926412' },
  limin: { name: '利民化学有限责任公司', gs1: '6935027' },
  rainbow: { name: '山东潍坊润丰化工股份有限公司', gs1: '6938870' },
  kelilong: { name: '成都科利隆生化有限公司', gs1: '6940522' },
  syngenta: { name: '先正达南通作物保护有限公司', gs1: '6943305' },
  bayer: { name: '拜耳作物科学（中国）有限公司', gs1: '6951124' },
  // Imported as finished goods: no Chinese GTIN on the pack in this demo.
  basf: { name: '巴斯夫欧洲公司', gs1: null },
  fmc: { name: '美国富美实公司', gs1: null },
};

// [registration_no, name, manufacturer key, container code, pack_size_code, pack_size_label, has GTIN]
const PRODUCTS: Array<[string, string, string, string, string, string, boolean]> = [
  ['PD20096512', '吡虫啉 10% 可湿性粉剂', 'yangnong', 'ALU-BAG-100G', '101', '100 g', true],
  ['PD20070128', '草甘膦异丙胺盐 41% 水剂', 'xinan', 'HDPE-1L', '210', '1 L', true],
  ['PD20070129', '草甘膦异丙胺盐 41% 水剂（大包装）', 'xinan', 'HDPE-5L', '250', '5 L', true],
  ['PD20101744', '阿维菌素 1.8% 乳油', 'hongtaiyang', 'PET-100', '110', '100 mL', true],
  ['PD20121953', '阿维菌素 1.8% 乳油', 'guoguang', 'PET-250', '125', '250 mL', true],
  ['PD20081306', '毒死蜱 40% 乳油', 'rainbow', 'HDPE-500', '150', '500 mL', true],
  ['PD20050196', '苯醚甲环唑 10% 水分散粒剂', 'syngenta', 'ALU-BAG-100G', '010', '100 g', true],
  ['PD20040632', '戊唑醇 430 克/升 悬浮剂', 'bayer', 'PET-100', '100', '100 mL', true],
  ['PD20080478', '氯虫苯甲酰胺 200 克/升 悬浮剂', 'fmc', 'PET-100', '001', '100 mL', false],
  ['PD20080542', '吡唑醚菌酯 250 克/升 乳油', 'basf', 'PET-250', '002', '250 mL', false],
  ['PD20097011', '高效氯氟氰菊酯 2.5% 乳油', 'hongtaiyang', 'PET-100', '111', '100 mL', true],
  ['PD20083920', '代森锰锌 80% 可湿性粉剂', 'limin', 'COMP-BAG-500G', '500', '500 g', true],
  ['PD20131260', '精喹禾灵 5% 乳油', 'kelilong', 'PET-250', '225', '250 mL', true],
  ['PD20141837', '烟嘧磺隆 40 克/升 可分散油悬浮剂', 'kelilong', 'HDPE-500', '350', '500 mL', true],
  ['PD20095577', '莠去津 38% 悬浮剂', 'rainbow', 'HDPE-1L', '310', '1 L', true],
  ['PD20086203', '丁草胺 60% 乳油', 'yangnong', 'HDPE-500', '160', '500 mL', true],
  ['PD20060201', '噻虫嗪 25% 水分散粒剂', 'syngenta', 'ALU-BAG-100G', '020', '100 g', true],
  ['PD20120779', '甲氨基阿维菌素苯甲酸盐 5% 水分散粒剂', 'guoguang', 'ALU-BAG-100G', '105', '100 g', true],
  ['PD20085814', '多菌灵 50% 可湿性粉剂', 'limin', 'COMP-BAG-500G', '501', '500 g', true],
  ['PD20093362', '稻瘟灵 40% 乳油', 'kelilong', 'PET-250', '226', '250 mL', true],
  ['PD20097342', '井冈霉素 5% 水剂', 'guoguang', 'HDPE-1L', '211', '1 L', true],
  ['PD20130457', '吡蚜酮 50% 水分散粒剂', 'yangnong', 'ALU-BAG-100G', '102', '100 g', true],
  ['PD20092866', '敌敌畏 77.5% 乳油', 'hongtaiyang', 'GLASS-200', '120', '200 mL', true],
  ['PD20110367', '草铵膦 200 克/升 水剂', 'lier', 'HDPE-1L', '212', '1 L', true],
  ['PD20110368', '草铵膦 200 克/升 水剂（大包装）', 'lier', 'HDPE-5L', '251', '5 L', true],
  ['PD20151092', '精草铵膦铵盐 10% 水剂', 'lier', 'HDPE-500', '151', '500 mL', true],
  ['PD20102154', '咪鲜胺 25% 乳油', 'guoguang', 'PET-100', '112', '100 mL', true],
  ['PD20070364', '螺螨酯 240 克/升 悬浮剂', 'bayer', 'PET-100', '101', '100 mL', true],
  ['PD20094788', '哒螨灵 15% 乳油', 'limin', 'PET-250', '227', '250 mL', true],
  ['PD20132411', '芸苔素内酯 0.01% 可溶液剂', 'guoguang', 'PET-100', '113', '100 mL', true],
  ['PD20170823', '乙烯利 40% 水剂', 'guoguang', 'GLASS-200', '121', '200 mL', false],
  ['PD20085633', '辛硫磷 40% 乳油', 'rainbow', 'GLASS-200', '122', '200 mL', false],
];

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙', '胡', '朱', '高', '林', '何', '郭', '马', '罗'];
const GIVEN_NAMES = [
  '建国', '建华', '国强', '志强', '德明', '永福', '长春', '富贵', '光荣', '学文', '世华', '正刚', '明华', '文斌', '家全',
  '秀英', '桂兰', '玉珍', '红梅', '淑芬', '兰英', '素华', '春花', '秀琼', '凤英', '德珍', '丽', '芳', '勇', '军', '伟',
  '平', '强', '斌', '刚', '琴', '燕', '霞', '利', '洪', '成', '林', '兵', '涛', '蓉',
];

// ---------------------------------------------------------------------------------------------------

type Row = Record<string, unknown>;

async function insertIgnore(trx: Knex.Transaction, table: string, rows: Row[], inserted: Record<string, number>): Promise<void> {
  inserted[table] ??= 0;
  for (let i = 0; i < rows.length; i += 200) {
    // No conflict target: a row that already exists under any of its unique keys (primary key, natural
    // key, active GTIN) is left as it is, whoever inserted or edited it.
    const got = (await trx(table).insert(rows.slice(i, i + 200)).onConflict().ignore().returning('id')) as unknown[];
    inserted[table] += got.length;
  }
}

/** The ids rows actually carry, by natural key: an administrator may have created one before the seed. */
async function idsBy(trx: Knex.Transaction, table: string, column: string, countyId: string): Promise<Map<string, string>> {
  const rows = (await trx(table).where({ county_id: countyId }).select('id', column)) as Array<Record<string, string>>;
  return new Map(rows.map((r) => [r[column]!, r.id!]));
}

function must<T>(map: Map<string, T>, key: string, what: string): T {
  const v = map.get(key);
  if (v === undefined) throw new Error(`demo seed: ${what} "${key}" is missing`);
  return v;
}

export function demoUsers(): DemoUser[] {
  return [
    { username: 'admin', password: DEMO_PASSWORD, role: 'admin', description_zh: '系统管理员（全部县）', description_en: 'System administrator (all counties)' },
    { username: 'sichuan.official', password: DEMO_PASSWORD, role: 'province_official', description_zh: '四川省农业农村厅官员（比较各县）', description_en: 'Sichuan provincial agriculture official (compares counties)' },
    { username: 'qingshen.official', password: DEMO_PASSWORD, role: 'county_official', description_zh: '青神县农业农村局官员', description_en: 'Qingshen County agriculture bureau official' },
    { username: 'clerk.qingcheng', password: DEMO_PASSWORD, role: 'clerk', description_zh: '青城镇丰收农资店店员', description_en: 'Clerk at the Fengshou agri-supply shop, Qingcheng' },
    { username: 'hauler.demo', password: DEMO_PASSWORD, role: 'hauler', description_zh: '眉山市安顺危险货物运输有限公司司机', description_en: 'Driver for the Anshun hazardous-goods hauler, Meishan' },
    { username: 'facility.demo', password: DEMO_PASSWORD, role: 'facility_operator', description_zh: '青神县农药包装废弃物集中收集中心操作员', description_en: 'Operator at the Qingshen county collection centre' },
    { username: 'xinan.integration', password: DEMO_PASSWORD, role: 'manufacturer', description_zh: '浙江新安化工追溯系统（只读本公司产品的事件）', description_en: "Xin'an Chemical's traceability system (events of its own products only)" },
  ];
}

export async function seedDemoCounty(
  knex: Knex,
  opts: { farmers?: number } = {},
): Promise<{ users: DemoUser[]; inserted: Record<string, number> }> {
  const farmerCount = opts.farmers ?? 300;
  if (!Number.isInteger(farmerCount) || farmerCount < 0 || farmerCount > 100_000) {
    throw new Error(`demo seed: farmers must be a whole number 0..100000, got ${farmerCount}`);
  }
  const c = DEMO_COUNTY_ID;
  const id = (table: string, key: string) => demoId(table, `${c}:${key}`);
  const users = demoUsers();
  const inserted: Record<string, number> = {};

  await knex.transaction(async (trx) => {
    // County -------------------------------------------------------------------------------------
    inserted.counties = 0;
    const countyRows = (await trx('counties').insert(COUNTY).onConflict('id').ignore().returning('id')) as unknown[];
    inserted.counties += countyRows.length;

    // Townships ----------------------------------------------------------------------------------
    await insertIgnore(
      trx,
      'townships',
      TOWNSHIPS.map((t) => ({ county_id: c, id: id('townships', t.name_zh), code: null, name_zh: t.name_zh, name_en: t.name_en })),
      inserted,
    );
    const townshipIds = await idsBy(trx, 'townships', 'name_zh', c);

    // Shops, facilities, hauler ------------------------------------------------------------------
    await insertIgnore(
      trx,
      'shops',
      SHOPS.map((s) => ({
        county_id: c,
        id: id('shops', s.licence),
        township_id: must(townshipIds, s.township, 'township'),
        name: s.name,
        licence_no: s.licence,
        address: s.address,
        is_collection_point: s.collection,
        contact_phone: DEMO_PHONE_PREFIX + s.phone,
      })),
      inserted,
    );
    await insertIgnore(
      trx,
      'facilities',
      FACILITIES.map((f) => ({ county_id: c, id: id('facilities', f.key), name: f.name, kind: f.kind, licence_no: f.licence, address: f.address })),
      inserted,
    );
    await insertIgnore(
      trx,
      'haulers',
      [{ county_id: c, id: id('haulers', HAULER.licence), name: HAULER.name, licence_no: HAULER.licence, contact_phone: DEMO_PHONE_PREFIX + HAULER.phone }],
      inserted,
    );
    const shopIds = await idsBy(trx, 'shops', 'licence_no', c);
    const facilityIds = await idsBy(trx, 'facilities', 'licence_no', c);
    const haulerIds = await idsBy(trx, 'haulers', 'licence_no', c);

    // Container types and products ---------------------------------------------------------------
    await insertIgnore(
      trx,
      'container_types',
      CONTAINER_TYPES.map((t) => ({ county_id: c, id: id('container_types', t.code), ...t })),
      inserted,
    );
    const containerIds = await idsBy(trx, 'container_types', 'code', c);

    const itemCounter = new Map<string, number>();
    await insertIgnore(
      trx,
      'products',
      PRODUCTS.map(([reg, name, mfr, container, packCode, packLabel, hasGtin]) => {
        const m = MANUFACTURERS[mfr];
        if (!m) throw new Error(`demo seed: unknown manufacturer ${mfr}`);
        let gtin: string | null = null;
        if (hasGtin && m.gs1) {
          // GS1 China company prefix (7 digits, 69…) + 5-digit item reference + check digit.
          const item = (itemCounter.get(mfr) ?? 0) + 1;
          itemCounter.set(mfr, item);
          const first12 = m.gs1 + String(10000 + item * 37).padStart(5, '0');
          gtin = withGtinCheckDigit(first12);
        }
        return {
          county_id: c,
          id: id('products', `${reg}:${packCode}`),
          registration_no: reg,
          name,
          manufacturer: m.name,
          gtin,
          container_type_id: must(containerIds, container, 'container type'),
          pack_size_code: packCode,
          pack_size_label: packLabel,
        };
      }),
      inserted,
    );

    // Deposit schedules --------------------------------------------------------------------------
    await insertIgnore(
      trx,
      'deposit_schedules',
      [
        {
          county_id: c,
          id: id('deposit_schedules', 'default:2024-01-01'),
          container_type_id: null,
          deposit_fen: 100,
          effective_from: '2024-01-01',
          effective_to: null,
          note: '全县统一押金每件1元 / County-wide default: 1 yuan per container',
        },
        {
          county_id: c,
          id: id('deposit_schedules', 'HDPE-5L:2024-01-01'),
          container_type_id: must(containerIds, 'HDPE-5L', 'container type'),
          deposit_fen: 200,
          effective_from: '2024-01-01',
          effective_to: null,
          note: '5升桶押金每件2元 / 5 L jerrycans: 2 yuan',
        },
      ],
      inserted,
    );

    // Users --------------------------------------------------------------------------------------
    const firstShop = SHOPS[0]!;
    const scopes: Record<string, Row> = {
      admin: {},
      province_official: { province_code: COUNTY.province_code },
      county_official: { county_id: c },
      clerk: { county_id: c, shop_id: must(shopIds, firstShop.licence, 'shop') },
      hauler: { county_id: c, hauler_id: must(haulerIds, HAULER.licence, 'hauler') },
      facility_operator: { county_id: c, facility_id: must(facilityIds, FACILITIES[0]!.licence, 'facility') },
      manufacturer: { province_code: COUNTY.province_code, manufacturer: MANUFACTURERS.xinan!.name },
    };
    const existing = new Set(
      ((await trx('users').whereIn('username', users.map((u) => u.username)).select('username')) as Array<{ username: string }>).map((u) => u.username),
    );
    const userRows: Row[] = [];
    for (const u of users) {
      if (existing.has(u.username)) continue; // spare the scrypt work; the insert would be ignored anyway
      userRows.push({
        id: demoId('users', u.username),
        username: u.username,
        display_name: u.description_zh,
        password_hash: await hashPassword(u.password),
        role: u.role,
        language: 'zh',
        ...scopes[u.role],
      });
    }
    inserted.users = 0;
    if (userRows.length > 0) {
      const got = (await trx('users').insert(userRows).onConflict('username').ignore().returning('id')) as unknown[];
      inserted.users += got.length;
    }

    // Farmers ------------------------------------------------------------------------------------
    // One PRNG stream, drawn in a fixed order, so the first N farmers are the same whatever N is.
    const rand = mulberry32(0x511425);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const phones = new Set<string>();
    const farmerRows: Row[] = [];
    while (farmerRows.length < farmerCount) {
      const township = pick(TOWNSHIPS);
      const name = pick(SURNAMES) + pick(GIVEN_NAMES);
      const village = pick(township.villages);
      // 1000000..9999999: keeps clear of the 000xxxx numbers given to shops and the hauler.
      const phone = DEMO_PHONE_PREFIX + String(1_000_000 + Math.floor(rand() * 9_000_000));
      const language = rand() < 0.03 ? 'en' : 'zh';
      const smsOptOut = rand() < 0.02;
      if (phones.has(phone)) continue;
      phones.add(phone);
      farmerRows.push({
        county_id: c,
        id: id('farmers', phone),
        name,
        village,
        township_id: must(townshipIds, township.name_zh, 'township'),
        phone_e164: phone,
        language,
        sms_opt_out: smsOptOut,
      });
    }
    await insertIgnore(trx, 'farmers', farmerRows, inserted);
  });

  return { users, inserted };
}
