// The public check never shows a farmer another shop's sale. Before terminals had numbers of their own
// in the county, a terminal signed its receipt numbers with the last four characters of its id, so two
// shops' terminals could print the same number on the same day (XS20260315-BEEF-0001). A receipt number
// that more than one sale of the county carries names no one sale: the page says so in plain words
// (Chinese, English) and to ask the shop — and shows neither sale.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { PLAIN_WORDS } from '../../../src/shared/plain-words.js';
import { COUNTY, GLYPHOSATE, GLYPHOSATE_5L, SHOP_A, SHOP_B, saleBody } from '../ledger/ledger-fixtures.js';
import { OTHER_COUNTY_ID } from '../../support/other-county.js';
import { demoId } from '../../../seeds/demo-county.js';

const SHARED = 'XS20260315-BEEF-0001';
const OWN = 'XS20260315-T012-0001';

describe('public check of a receipt number two shops printed: the ambiguity page, never one of the sales', function () {
  this.timeout(60_000);
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });
  const productName = async (id: string) => (await t.db.knex('products').where({ county_id: COUNTY, id }).first('name')).name as string;

  before(async () => {
    const admin = await t.token('admin');
    // Two shops' terminals whose ids ended alike printed the same number on the same day, as old terminals did.
    for (const [shopId, productId, phone] of [[SHOP_A, GLYPHOSATE.id, '17460003101'], [SHOP_B, GLYPHOSATE_5L.id, '17460003102']] as const) {
      const res = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', admin)
        .send(saleBody({ shopId, receiptNo: SHARED, purchaser: { phone, name: '旧票农户' }, lines: [{ productId, quantity: 1 }] }));
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
    }
    // A number only one sale of the county carries; the same number in another county does not count.
    const own = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', admin)
      .send(saleBody({ shopId: SHOP_A, receiptNo: OWN, purchaser: { phone: '17460003103', name: '新票农户' }, lines: [{ productId: GLYPHOSATE.id, quantity: 2 }] }));
    expect(own.status, JSON.stringify(own.body)).to.equal(201);
    const elsewhere = await t.api().post(`/api/v1/counties/${OTHER_COUNTY_ID}/sales`).set('Authorization', admin)
      .send(saleBody({ shopId: demoId('shops', `${OTHER_COUNTY_ID}:1`), receiptNo: OWN, purchaser: { phone: '17460003104', name: '外县农户' }, lines: [{ productId: demoId('products', `${OTHER_COUNTY_ID}:1`), quantity: 1 }] }));
    expect(elsewhere.status, JSON.stringify(elsewhere.body)).to.equal(201);
    expect(Number((await t.db.knex('sales').where({ county_id: COUNTY, receipt_no: SHARED }).count({ n: '*' }).first())!.n)).to.equal(2);
  });
  beforeEach(async () => {
    await t.db.knex('auth_throttle').where({ kind: 'public_check' }).del();
  });

  for (const [what, q] of [['the receipt number', SHARED], ['an older receipt\'s QR payload', `AGRIRETURN:SALE:${SHARED}`]] as const) {
    it(`${what}: 409 with the number and the plain words (zh, en) saying to ask the shop; neither sale's lines`, async () => {
      const res = await t.api().get(`/check/${COUNTY}`).query({ q });
      expect(res.status).to.equal(409);
      expect(res.headers['content-type']).to.match(/^text\/html/);
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.text).to.contain('data-error="RECEIPT_AMBIGUOUS"');
      expect(res.text).to.contain(SHARED);
      const words = PLAIN_WORDS.RECEIPT_AMBIGUOUS!;
      expect(res.text).to.contain(words.zh);
      expect(res.text).to.contain(words.en.replaceAll("'", '&#39;'));
      expect(words.zh).to.contain('询问');
      expect(words.en).to.contain('Ask the shop');
      // Neither sale: no product of either, no sold-on day, no table of lines.
      for (const p of [GLYPHOSATE.id, GLYPHOSATE_5L.id]) expect(res.text).to.not.contain(await productName(p));
      expect(res.text).to.not.contain('<table');
      expect(res.text).to.not.contain('售出日期');
    });
  }

  it('a receipt number one sale of the county carries still shows that sale (the same number in another county is not counted)', async () => {
    const res = await t.api().get(`/check/${COUNTY}`).query({ q: OWN });
    expect(res.status, res.text).to.equal(200);
    expect(res.text).to.contain(OWN).and.to.contain(await productName(GLYPHOSATE.id));
    expect(res.text).to.not.contain('RECEIPT_AMBIGUOUS');
  });

  it('the clerks\' lookup by receipt number lists both sales with their shops, so the counter can refuse to pick one', async () => {
    const res = await t.api().get(`/api/v1/counties/${COUNTY}/sale-receipts/${SHARED}`).set('Authorization', await t.token('clerk.qingcheng'));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.items.map((s: { shopId: string }) => s.shopId).sort()).to.deep.equal([SHOP_A, SHOP_B].sort());
  });
});
