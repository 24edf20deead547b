// The officials' dashboard in headless Chromium: a county official logs in, sees the tiles and charts
// in Chinese, switches to English, sorts the shop table, opens a shop (returners masked), exports a
// CSV; an official of another county cannot see it; the province official compares counties. The
// page reads the county's and the province's paths, not the deprecated /api/v1/dashboard/… aliases.
// Screenshots go to test-artifacts/.
import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium, skipWithoutChromium } from '../../support/browser.js';
import { useTestApp, DEMO_PASSWORD } from '../../support/harness.js';
import { precompressDashboardAssets } from '../../../src/features/dashboard/static-assets.js';
import { COUNTY, GLYPHOSATE, SHOP_A, freshToken, returnBody, saleBody, unitCode } from '../ledger/ledger-fixtures.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts');

describe('dashboard in a browser', function () {
  this.timeout(300_000);
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });
  let browser: Browser | null = null;
  let server: http.Server;
  let url = '';

  before(async function () {
    skipWithoutChromium(this, 'the dashboard browser test');
    const clerk = await freshToken(t, 'clerk.qingcheng');
    const codes = [unitCode(GLYPHOSATE), unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)];
    // Each sale is recorded when it happened (the server's clock then): older event times than the
    // county's maximum offline age are refused from clerks.
    for (const [eventTime, n] of [['2026-01-12T02:00:00.000Z', 2], ['2026-02-20T02:00:00.000Z', 1]] as const) {
      t.clock.set(eventTime);
      const r = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(saleBody({ eventTime, lines: [{ productId: GLYPHOSATE.id, quantity: n, unitCodes: n === 2 ? codes.slice(0, 2) : codes.slice(2) }] }));
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
    }
    t.clock.set('2026-03-15T02:00:00.000Z');
    const ret = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', clerk).send(returnBody({ eventTime: '2026-03-14T02:00:00.000Z', returner: { phone: '17460000999' }, items: [{ scan: codes[0], inspection: 'accepted' }] }));
    expect(ret.status, JSON.stringify(ret.body)).to.equal(201);
    await t.api().post(`/api/v1/counties/${COUNTY}/reconciliations`).set('Authorization', await freshToken(t, 'qingshen.official')).send({ period: '2026-02' });
    t.clock.advance(120_000);
    await precompressDashboardAssets(); // as the server does at start: no page load waits for brotli
    server = http.createServer(t.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  /** The API paths the page requests from now on (the query left off). */
  function apiCalls(page: Page): string[] {
    const paths: string[] = [];
    page.on('request', (r) => { const p = new URL(r.url()).pathname; if (p.startsWith('/api/')) paths.push(p); });
    return paths;
  }

  async function login(page: Page, username: string, loaded: string): Promise<void> {
    await page.goto(`${url}/dashboard`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', DEMO_PASSWORD);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector(`body[data-loaded=${loaded}]`, { timeout: 60_000 }).catch(async (err) => {
      throw new Error(`${err.message}; page errors: ${errors.join(' | ')}; problem: ${await page.locator('#problem').textContent()}`);
    });
  }

  it('a county official sees tiles and charts in Chinese, switches to English, opens a shop and exports a CSV', async () => {
    const context = await browser!.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000); // a loaded CI machine: waits are for behaviour, not speed
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message + ' ' + e.stack));
    const called = apiCalls(page);
    await login(page, 'qingshen.official', 'county');

    expect(await page.locator('#tiles .tile').count()).to.equal(6);
    const labels = await page.locator('#tiles .tile .l').allTextContents();
    expect(labels).to.include.members(['批次回收率（90天）', '同期回收率', '重量回收率', '未退押金', '待收运包装', '未结差异']);
    expect(await page.locator('.tile[data-key=periodRate] .v').textContent()).to.equal('33.3%'); // 1 returned of 3 sold
    expect(await page.locator('#county-name').textContent()).to.equal('青神县');
    // ECharts draws SVG: the legend and axes are text nodes, in Chinese.
    const trendText = (await page.locator('#trend-chart svg text').allTextContents()).join(' ');
    expect(trendText).to.contain('收押销售').and.contain('2026-01');
    const funnelText = (await page.locator('#funnel-chart svg text').allTextContents()).join(' ');
    expect(funnelText).to.contain('回收').and.contain('个').and.contain('千克');
    expect(await page.locator('#shops tbody tr').count()).to.be.greaterThan(5);
    // The range ends in March: no March reconciliation yet, and the page offers one.
    expect(await page.locator('#run-head').textContent()).to.contain('2026-03 尚未对账');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-county-zh.png'), fullPage: true });

    await page.click('#lang-toggle');
    expect(await page.locator('.tile[data-key=cohortRate] .l').textContent()).to.equal('Cohort recovery (90 days)');
    expect(await page.locator('h3 [data-i18n=shops]').textContent()).to.equal('Shops');
    expect((await page.locator('#trend-chart svg text').allTextContents()).join(' ')).to.contain('Sold with deposit');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-county-en.png'), fullPage: true });

    // Sort by sold, descending: the shop that sold is first.
    await page.click('#shops th[data-key=soldUnits]');
    await page.click('#shops th[data-key=soldUnits]');
    expect(await page.locator('#shops th[data-key=soldUnits]').getAttribute('class')).to.equal('desc');
    expect(await page.locator('#shops tbody tr').first().getAttribute('data-shop')).to.equal(SHOP_A);

    await page.click(`#shops a.shop-link[data-shop="${SHOP_A}"]`);
    await page.waitForSelector('body[data-loaded=shop]');
    expect(await page.locator('#shop-name').textContent()).to.equal('青城镇丰收农资店');
    const returners = await page.locator('#shop-returns td.returner').allTextContents();
    expect(returners).to.deep.equal(['+86 174****0999']);
    expect(await page.content()).to.not.contain('17460000999');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-shop-en.png'), fullPage: true });

    await page.click('#back');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-shops')]);
    expect(download.suggestedFilename()).to.match(/^shops-511425-2026-01-2026-03\.csv$/);
    const file = path.join(ARTIFACTS, 'dashboard-shops.csv');
    await download.saveAs(file);
    const csv = fs.readFileSync(file, 'utf8');
    expect(csv).to.contain('shop_id,店铺,乡镇').and.contain('青城镇丰收农资店');
    expect(errors).to.deep.equal([]);
    // The page reads the county's paths, never the deprecated /api/v1/dashboard/… aliases.
    expect(called.filter((p) => p.startsWith('/api/v1/dashboard/'))).to.deep.equal([]);
    expect(called).to.include.members([`/api/v1/counties/${COUNTY}/dashboard`, `/api/v1/counties/${COUNTY}/dashboard/shops`, `/api/v1/counties/${COUNTY}/dashboard/shops/${SHOP_A}`]);
    await context.close();
  });

  it('an official of another county sees only their own county and is refused this one', async () => {
    const context = await browser!.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000); // a loaded CI machine: waits are for behaviour, not speed
    await login(page, 'jiange.official', 'county');
    expect(await page.locator('#county-name').textContent()).to.not.equal('青神县');
    expect(await page.content()).to.not.contain('青城镇丰收农资店');
    const status = await page.evaluate(async (county) => {
      const token = sessionStorage.getItem('agrireturn.token');
      const r = await fetch(`/api/v1/counties/${county}/dashboard`, { headers: { Authorization: `Bearer ${token}` } });
      return { status: r.status, code: (await r.json()).error?.code };
    }, COUNTY);
    expect(status).to.deep.equal({ status: 403, code: 'OUT_OF_SCOPE' });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-other-county.png'), fullPage: true });
    await context.close();
  });

  it('the province official compares counties and opens one', async () => {
    const context = await browser!.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000); // a loaded CI machine: waits are for behaviour, not speed
    const called = apiCalls(page);
    await login(page, 'sichuan.official', 'province');
    expect(await page.locator('#counties tbody').textContent()).to.contain('青神县');
    expect((await page.locator('#province-chart svg text').allTextContents()).join(' ')).to.contain('同期回收率');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-province.png'), fullPage: true });
    await page.click(`#counties a.county-link[data-county="${COUNTY}"]`);
    await page.waitForSelector('body[data-loaded=county]');
    expect(await page.locator('#county-name').textContent()).to.equal('青神县');
    expect(called.filter((p) => p.startsWith('/api/v1/dashboard/'))).to.deep.equal([]);
    expect(called).to.include.members(['/api/v1/provinces/510000/dashboard', '/api/v1/provinces/510000/dashboard/map', `/api/v1/counties/${COUNTY}/dashboard`]);
    await context.close();
  });
});
