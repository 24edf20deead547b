// A second county in another province, so every scope rule has an "other" side to refuse:
// Jiange County 剑阁县 (510823, Sichuan) for county scope and Yongkang 永康市 (330784, Zhejiang) for
// province scope. Small: one township, shop, hauler, facility, container type, product, farmer, users.
import type { Knex } from 'knex';
import { hashPassword } from '../../src/auth/passwords.js';
import { demoId, DEMO_PASSWORD } from '../../seeds/demo-county.js';

export const OTHER_COUNTY_ID = '510823';
export const OTHER_PROVINCE_COUNTY_ID = '330784';

export async function seedOtherCounty(knex: Knex): Promise<void> {
  const hash = await hashPassword(DEMO_PASSWORD);
  for (const [county, nameZh, nameEn, prov, pref, prefix] of [
    [OTHER_COUNTY_ID, '剑阁县', 'Jiange County', '四川省', '广元市', 'jiange'],
    [OTHER_PROVINCE_COUNTY_ID, '永康市', 'Yongkang', '浙江省', '金华市', 'yongkang'],
  ] as const) {
    const id = (t: string) => demoId(t, `${county}:1`);
    await knex('counties').insert({ id: county, name_zh: nameZh, name_en: nameEn, province_code: `${county.slice(0, 2)}0000`, province_name_zh: prov, prefecture_name_zh: pref }).onConflict('id').ignore();
    await knex('townships').insert({ county_id: county, id: id('townships'), name_zh: '城关镇', name_en: 'Chengguan' }).onConflict().ignore();
    await knex('shops').insert({ county_id: county, id: id('shops'), township_id: id('townships'), name: `${nameZh}城关农资店`, licence_no: `TEST-${county}-1` }).onConflict().ignore();
    await knex('haulers').insert({ county_id: county, id: id('haulers'), name: `${nameZh}危货运输公司`, licence_no: `TEST-H-${county}` }).onConflict().ignore();
    await knex('facilities').insert({ county_id: county, id: id('facilities'), name: `${nameZh}收集中心`, kind: 'collection_centre', licence_no: `TEST-F-${county}` }).onConflict().ignore();
    await knex('container_types').insert({ county_id: county, id: id('container_types'), code: 'HDPE-500', name_zh: '500毫升塑料瓶', name_en: '500 mL HDPE bottle', material: 'HDPE', volume_ml: 500, tare_weight_g: 35 }).onConflict().ignore();
    await knex('products').insert({ county_id: county, id: id('products'), registration_no: 'PD20990001', name: '测试产品', manufacturer: '测试厂', gtin: null, container_type_id: id('container_types'), pack_size_code: '500', pack_size_label: '500 mL' }).onConflict().ignore();
    await knex('deposit_schedules').insert({ county_id: county, id: id('deposit_schedules'), container_type_id: null, deposit_fen: 100, effective_from: '2024-01-01' }).onConflict().ignore();
    await knex('farmers').insert({ county_id: county, id: id('farmers'), name: '李四', phone_e164: county === OTHER_COUNTY_ID ? '+8617469000001' : '+8617469000002' }).onConflict().ignore();
    const users = [
      { username: `${prefix}.official`, role: 'county_official' },
      { username: `${prefix}.clerk`, role: 'clerk', shop_id: id('shops') },
      { username: `${prefix}.hauler`, role: 'hauler', hauler_id: id('haulers') },
      { username: `${prefix}.facility`, role: 'facility_operator', facility_id: id('facilities') },
    ];
    for (const u of users) {
      await knex('users').insert({ id: demoId('users', u.username), display_name: u.username, password_hash: hash, county_id: county, ...u }).onConflict('username').ignore();
    }
  }
  await knex('users').insert({ id: demoId('users', 'zhejiang.official'), username: 'zhejiang.official', display_name: 'zhejiang', password_hash: hash, role: 'province_official', province_code: '330000' }).onConflict('username').ignore();
}
