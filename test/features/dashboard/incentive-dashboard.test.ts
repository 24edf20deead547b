// The dashboard's incentive figures (issue 17): each incentive's cost (deposit refunds, buy-back,
// points issued and redeemed with the goods given for them), containers recovered per yuan and the
// budget left, by county, township and shop — as JSON (figures by hand) and on the page in headless
// Chromium, in Chinese and English. Every figure comes from requests to the API: the official's
// incentive rates and allocation, a sale and return with deposits, a return at another shop that is
// bought back and earns points, and a points redemption at that shop's counter.
import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { launchChromium, skipWithoutChromium } from '../../support/browser.js';
import { useTestApp, DEMO_PASSWORD } from '../../support/harness.js';
import { precompressDashboardAssets } from '../../../src/features/dashboard/static-assets.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { perYuan } from '../../../src/features/dashboard/incentive-costs.js';
import { demoId } from '../../../seeds/demo-county.js';
import { COUNTY, FARMER_PHONE, GLYPHOSATE, SHOP_A, SHOP_B, expectLedgerClean, freshToken, returnBody, saleBody, unitCode } from '../ledger/ledger-fixtures.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts');
const NOW = '2026-03-15T02:00:00.000Z';
/** 代森锰锌 500 g in a composite film bag (COMP-BAG-500G: a bag). */
const BAG_PRODUCT = demoId('products', `${COUNTY}:PD20083920:500`);

describe('dashboard: incentive costs, containers per yuan, budget left', function () {
  this.timeout(300_000);
  const t = useTestApp({ clock: NOW });
  let official: string;
  let townshipB: string;
  const get = async (query: string) => {
    const res = await t.api().get(`/api/v1/counties/${COUNTY}/dashboard/incentives?${query}`).set('Authorization', official);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };

  before(async () => {
    // 10 March: the official sets the rates (never in the past): bottles 0.30 yuan buy-back, bags 0.2 points.
    t.clock.set('2026-03-10T01:00:00.000Z');
    official = await freshToken(t, 'qingshen.official');
    for (const rate of [{ containerKind: 'bottle', buybackFen: 30, pointsMilli: 0 }, { containerKind: 'bag', buybackFen: 0, pointsMilli: 200 }]) {
      const res = await t.api().post(`/api/v1/counties/${COUNTY}/incentive-rates`).set('Authorization', official).send({ ...rate, effectiveFrom: '2026-03-10' });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
    }
    t.clock.set(NOW);
    official = await freshToken(t, 'qingshen.official');
    const clerk = await freshToken(t, 'clerk.qingcheng');
    // Deposit: 2 containers sold and returned at shop A (100 fen each).
    const codes = [unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)];
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(saleBody({ eventTime: '2026-03-10T02:00:00Z', lines: [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: codes }] }))).status).to.equal(201);
    const ret = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', clerk).send(returnBody({ eventTime: '2026-03-12T02:00:00Z', items: codes.map((scan) => ({ scan, inspection: 'accepted' })) }));
    expect(ret.body.totalRefundFen, JSON.stringify(ret.body)).to.equal(200);
    // The fund: 100 yuan for 2026.
    const alloc = await t.api().post(`/api/v1/counties/${COUNTY}/incentive-fund/allocations`).set('Authorization', official).send({ id: newClientId(), budgetYear: 2026, amountFen: 10_000 });
    expect(alloc.status, JSON.stringify(alloc.body)).to.equal(201);
    // Shop B's clerk, as the county creates one.
    const user = await t.api().post(`/api/v1/counties/${COUNTY}/users`).set('Authorization', official)
      .send({ username: 'clerk.lvyuan', displayName: '绿源农资经营部店员', password: DEMO_PASSWORD, role: 'clerk', shopId: SHOP_B });
    expect(user.status, JSON.stringify(user.body)).to.equal(201);
    const clerkB = await freshToken(t, 'clerk.lvyuan');
    // Shop B, 13 March: the farmer brings 5 bottles without a deposit (bought back at 0.30: 1.50 yuan)
    // and 4 bags (0.2 points each: 0.8 points).
    const back = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', clerkB).send(returnBody({
      shopId: SHOP_B, eventTime: '2026-03-13T02:00:00Z', returner: { phone: FARMER_PHONE },
      items: [{ productId: GLYPHOSATE.id, quantity: 5, inspection: 'accepted' }, { productId: BAG_PRODUCT, quantity: 4, inspection: 'accepted' }],
    }));
    expect(back.status, JSON.stringify(back.body)).to.equal(201);
    expect(back.body.items.map((i: { incentive: { kind: string } }) => i.incentive.kind)).to.deep.equal(['buyback', 'points']);
    expect(back.body).to.include({ totalRefundFen: 150, totalBuybackFen: 150, totalPointsMilli: 800, pointsBalanceMilli: 800 });
    // Shop B, 14 March: half a point redeemed for goods worth 0.50 yuan.
    const redeemed = await t.api().post(`/api/v1/counties/${COUNTY}/points-redemptions`).set('Authorization', clerkB)
      .send({ id: newClientId(), shopId: SHOP_B, phone: FARMER_PHONE, points: 0.5, goods: '手套一副', goodsValueFen: 50, eventTime: '2026-03-14T03:00:00Z' });
    expect(redeemed.status, JSON.stringify(redeemed.body)).to.equal(201);
    expect(redeemed.body).to.include({ pointsMilli: 500, balanceAfterMilli: 300 });
    // A shop cap of 2 yuan per year: shop B has 0.50 left.
    const county = (await t.api().get(`/api/v1/counties/${COUNTY}`).set('Authorization', await freshToken(t, 'admin'))).body;
    expect((await t.api().patch(`/api/v1/counties/${COUNTY}`).set('Authorization', await freshToken(t, 'admin')).send({ version: county.version, incentiveShopBuybackCapFen: 200 })).status).to.equal(200);
    townshipB = (await t.db.knex('shops').where({ county_id: COUNTY, id: SHOP_B }).first('township_id')).township_id;
    // Nothing was written beside the API: the ledger ties the fund to the buy-back of returns that stand.
    await expectLedgerClean(t);
  });

  it('county: each incentive\'s cost and containers, per yuan, and the fund left', async () => {
    const c = await get('from=2026-03&to=2026-03&by=county');
    expect(c.fund).to.deep.equal({ balanceFen: 9850, allocatedFen: 10_000, paidFen: 150, year: 2026, allocatedThisYearFen: 10_000, paidThisYearFen: 150 });
    expect(c.rows).to.have.length(1);
    expect(c.rows[0]).to.deep.include({
      key: COUNTY, depositRefundsFen: 200, buybackFen: 150, pointsIssuedMilli: 800, pointsRedeemedMilli: 500, pointsRedeemedGoodsFen: 50,
      containersRecovered: 11, depositContainers: 2, buybackContainers: 5, pointsContainers: 4, incentiveContainers: 9, noIncentiveContainers: 0,
      incentiveSpendFen: 200, budgetLeftFen: 9850,
    });
    // 2 per 2 yuan, 5 per 1.50 yuan, 4 per 0.50 yuan, 9 per 2 yuan.
    expect(c.rows[0].containersPerYuan).to.deep.equal({ deposit: 1, buyback: 3.33, points: 8, incentives: 4.5 });
    expect(perYuan(1, 0)).to.equal(null);
    // Another month: nothing happened, nothing per yuan.
    const feb = await get('from=2026-02&to=2026-02&by=county');
    expect(feb.rows[0]).to.include({ containersRecovered: 0, buybackFen: 0, budgetLeftFen: 9850 });
    expect(feb.rows[0].containersPerYuan).to.deep.equal({ deposit: null, buyback: null, points: null, incentives: null });
  });

  it('shops and townships: the same figures split, a shop\'s budget left under its yearly cap', async () => {
    const s = await get('from=2026-03&to=2026-03&by=shop');
    const a = s.rows.find((r: { key: string }) => r.key === SHOP_A);
    const b = s.rows.find((r: { key: string }) => r.key === SHOP_B);
    expect(a).to.include({ depositRefundsFen: 200, depositContainers: 2, buybackFen: 0, budgetLeftFen: 200 });
    expect(b).to.include({ depositRefundsFen: 0, buybackFen: 150, buybackContainers: 5, pointsContainers: 4, pointsRedeemedGoodsFen: 50, budgetLeftFen: 50 });
    expect(s.shopBuybackCapFen).to.equal(200);
    const sum = (rows: Array<Record<string, number>>, k: string) => rows.reduce((x, r) => x + r[k]!, 0);
    const tw = await get('from=2026-03&to=2026-03&by=township');
    for (const k of ['depositRefundsFen', 'buybackFen', 'pointsIssuedMilli', 'containersRecovered']) expect(sum(tw.rows, k), k).to.equal(sum(s.rows, k));
    expect(tw.rows.find((r: { key: string }) => r.key === townshipB)).to.include({ buybackFen: 150, budgetLeftFen: null });
    const clerk = await t.api().get(`/api/v1/counties/${COUNTY}/dashboard/incentives`).set('Authorization', await freshToken(t, 'clerk.qingcheng'));
    expect(clerk.status).to.equal(403);
  });

  describe('the page (headless Chromium, 1366×768)', () => {
    let browser: Browser | null = null;
    let server: http.Server | null = null;
    let url = '';
    before(async function () {
      skipWithoutChromium(this, 'the incentive panel');
      await precompressDashboardAssets();
      server = http.createServer(t.app);
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    });

    for (const lang of ['zh', 'en'] as const) {
      it(`[${lang}] shows the fund, the costs by township and the shops' figures`, async () => {
        const context = await browser!.newContext({ viewport: { width: 1366, height: 768 }, locale: lang === 'zh' ? 'zh-CN' : 'en-US', timezoneId: 'UTC' });
        await context.addInitScript((l) => localStorage.setItem('agrireturn.lang', l), lang);
        const page = await context.newPage();
        page.setDefaultTimeout(60_000);
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`${url}/dashboard`);
        await page.fill('input[name=username]', 'qingshen.official');
        await page.fill('input[name=password]', DEMO_PASSWORD);
        await page.click('#login-form button[type=submit]');
        await page.waitForSelector('body[data-loaded=county]');
        expect(await page.locator('#incentives h3').textContent()).to.equal(lang === 'zh' ? '回收激励：成本与效果' : 'Incentives: cost and effect');
        expect(await page.locator('#incentive-tiles .tile[data-key=fundLeft] .v').textContent()).to.equal(lang === 'zh' ? '98.50 元' : '98.50 yuan');
        expect(await page.locator('#incentive-tiles .tile[data-key=perYuanBuyback] .v').textContent()).to.equal('3.33');
        expect(await page.locator('#incentive-tiles .tile[data-key=fundPaidYear] .l').textContent()).to.contain('2026');
        // Both charts drew (SVG renderer): bars for the townships.
        expect(await page.locator('#incentive-chart svg path').count()).to.be.above(0);
        expect(await page.locator('#incentive-yuan-chart svg').count()).to.equal(1);
        const rowB = page.locator(`#incentive-shops tr[data-shop="${SHOP_B}"] td`);
        const cells = await rowB.allTextContents();
        expect(cells).to.include('1.50'); // buy-back, yuan
        expect(cells).to.include('0.8'); // points issued
        expect(cells).to.include('0.50'); // goods for points, and budget left
        expect(await page.locator('#incentive-help').textContent()).to.contain(lang === 'zh' ? '每元回收包装数' : 'Containers per yuan');
        await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-incentives-${lang}.png`), fullPage: true });
        expect(errors).to.deep.equal([]);
        await context.close();
      });
    }
  });
});
