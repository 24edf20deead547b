// Officials' journeys on the dashboard in headless Chromium at 1366×768, each in Chinese and in
// English (issue 14): figures current right after activity (no settling minute), the reconciliation
// of the chosen month (offered when missing, times in the county's zone), exceptions paged and
// grouped with reasons in the page's language, the one-period funnel with units, a shop's returns in
// county time within the range, the position explained, a bad range and an expired login in plain
// words, and the province's map: a county opened from it and the way back. Screenshots go to
// test-artifacts/ (git-ignored; CI keeps them).
import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium, skipWithoutChromium } from '../../support/browser.js';
import { useTestApp, DEMO_PASSWORD } from '../../support/harness.js';
import { precompressDashboardAssets } from '../../../src/features/dashboard/static-assets.js';
import { addLateRecordExceptions } from '../../support/extra-exceptions.js';
import { COUNTY, GLYPHOSATE, SHOP_A, SHOP_B, freshToken, returnBody, saleBody, unitCode } from '../ledger/ledger-fixtures.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts');
const NOW = '2026-03-15T02:00:00.000Z';
const CJK = /[\u4e00-\u9fff]/;

const WORDS = {
  zh: { noRun: '2026-03 尚未对账', page1: /^第 1–50 条，共 8\d 条$/, page2: /^第 51–8\d 条，共 8\d 条$/, expired: '登录已过期，请重新登录。', badRange: '起始月份晚于截止月份', units: ['个', '千克', '袋'], exceeds: '多于上一环节', owes: '店铺欠计划的钱', yuan: '（元）', lateReason: '单据迟到上传', countyWide: '全县' },
  en: { noRun: 'No reconciliation for 2026-03 yet', page1: /^1–50 of 8\d$/, page2: /^51–8\d of 8\d$/, expired: 'Your session expired, please sign in again.', badRange: 'The start month is after the end month', units: ['containers', 'kg', 'bags'], exceeds: 'more than the stage before', owes: 'what the shop owes the scheme', yuan: '(yuan)', lateReason: 'Records uploaded late', countyWide: 'County-wide' },
} as const;
type Lang = keyof typeof WORDS;

describe('dashboard journeys in a browser (1366×768, Chinese and English)', function () {
  this.timeout(300_000);
  const t = useTestApp({ clock: NOW });
  let browser: Browser | null = null;
  let server: http.Server;
  let url = '';
  const codes = [unitCode(GLYPHOSATE), unitCode(GLYPHOSATE), unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)];

  before(async function () {
    skipWithoutChromium(this, 'the dashboard journeys');
    const clerk = await freshToken(t, 'clerk.qingcheng');
    for (const [eventTime, line] of [['2026-01-12T02:00:00.000Z', codes.slice(0, 2)], ['2026-02-20T02:00:00.000Z', codes.slice(2)]] as const) {
      t.clock.set(eventTime);
      const r = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(saleBody({ eventTime, lines: [{ productId: GLYPHOSATE.id, quantity: line.length, unitCodes: [...line] }] }));
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
    }
    t.clock.set(NOW);
    // Returned the day before "today" (10:00 in Qingshen), recorded just now: no settling minute passes before the page is read.
    const ret = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', clerk).send(returnBody({ eventTime: '2026-03-14T02:00:00.000Z', returner: { phone: '17460000999' }, items: [{ scan: codes[0], inspection: 'accepted' }] }));
    expect(ret.status, JSON.stringify(ret.body)).to.equal(201);
    // February's reconciliation, with enough exceptions to need pages.
    const feb = await t.api().post(`/api/v1/counties/${COUNTY}/reconciliations`).set('Authorization', await freshToken(t, 'qingshen.official')).send({ period: '2026-02' });
    expect(feb.status, JSON.stringify(feb.body)).to.equal(201);
    await addLateRecordExceptions(t.db.knex, COUNTY, feb.body.id, [{ id: SHOP_A, name: '青城镇丰收农资店' }, { id: SHOP_B, name: 'B' }], 82 - feb.body.exceptions.length);
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

  async function open(lang: Lang): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser!.newContext({ viewport: { width: 1366, height: 768 }, locale: lang === 'zh' ? 'zh-CN' : 'en-US', timezoneId: 'UTC' });
    await context.addInitScript((l) => localStorage.setItem('agrireturn.lang', l), lang);
    const page = await context.newPage();
    page.setDefaultTimeout(60_000); // a loaded CI machine: waits are for behaviour, not speed
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    return { context, page, errors };
  }

  async function login(page: Page, username: string, loaded: string): Promise<void> {
    await page.goto(`${url}/dashboard`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', DEMO_PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector(`body[data-loaded=${loaded}]`, { timeout: 60_000 });
  }

  async function apply(page: Page, from: string, to: string, loaded = 'county'): Promise<void> {
    await page.evaluate(() => document.body.setAttribute('data-loaded', 'pending'));
    await page.fill('#filters input[name=from]', from);
    await page.fill('#filters input[name=to]', to);
    await page.click('#filters button[type=submit]');
    await page.waitForSelector(`body[data-loaded=${loaded}]`, { timeout: 60_000 });
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  for (const lang of ['zh', 'en'] as const) {
    const w = WORDS[lang];

    it(`[${lang}] county: figures current at once, the chosen month's reconciliation (offered, then shown in county time), exceptions paged and grouped`, async () => {
      const { context, page, errors } = await open(lang);
      await login(page, 'qingshen.official', 'county');
      // Recorded seconds ago and already counted: 1 returned of 4 sold.
      expect(await page.locator('.tile[data-key=periodRate] .v').textContent()).to.equal(lang === 'zh' ? '25.0%' : '50.0%');
      const head = page.locator('#run-head');
      if (lang === 'zh') {
        expect(await head.textContent()).to.contain(w.noRun);
        expect(await page.locator('#exceptions-tools').isVisible()).to.equal(false); // nothing to page yet
        await shot(page, `journey-county-no-run-${lang}`);
        await page.evaluate(() => document.body.setAttribute('data-loaded', 'pending'));
        await page.click('#run-now');
        await page.waitForSelector('body[data-loaded=county]');
      }
      const runText = (await head.textContent())!;
      expect(runText).to.contain('2026-03').and.contain('Asia/Shanghai').and.contain('UTC+8');
      expect(runText).to.contain('2026-03-15 10:00'); // 02:00 UTC is 10:00 in the county
      expect(runText).to.not.match(/\d{4}-\d\d-\d\dT\d\d:\d\d/); // never a raw ISO/UTC stamp

      // Activity while the page is open: a return, then Apply — the tiles count it at once.
      const more = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', await freshToken(t, 'clerk.qingcheng'))
        .send(returnBody({ eventTime: t.clock.now().toISOString(), items: [{ scan: codes[lang === 'zh' ? 1 : 2]!, inspection: 'accepted' }] }));
      expect(more.status, JSON.stringify(more.body)).to.equal(201);
      await apply(page, '2026-01', '2026-03');
      expect(await page.locator('.tile[data-key=periodRate] .v').textContent()).to.equal(lang === 'zh' ? '50.0%' : '75.0%');

      // The month choice decides which run is shown: February's, with its 8x exceptions in pages of 50.
      await apply(page, '2026-02', '2026-02');
      expect(await head.textContent()).to.contain('2026-02');
      expect(await page.locator('#exceptions-count').textContent()).to.match(w.page1);
      expect(await page.locator('#exceptions tbody tr').count()).to.equal(50);
      const reasons = await page.locator('#exceptions td.reason').allTextContents();
      expect(reasons).to.include(w.lateReason);
      if (lang === 'en') for (const r of reasons) expect(r, r).to.not.match(CJK);
      await shot(page, `journey-exceptions-page1-${lang}`);
      await page.click('#exceptions-next');
      await page.waitForFunction(() => /51/.test(document.querySelector('#exceptions-count')!.textContent!));
      expect(await page.locator('#exceptions-count').textContent()).to.match(w.page2);
      await page.selectOption('#group-by', 'shop');
      await page.waitForFunction(() => document.querySelectorAll('#exceptions tr.group-row').length > 0);
      expect(await page.locator('#exceptions-count').textContent()).to.match(w.page1);
      const groups = await page.locator('#exceptions tr.group-row').allTextContents();
      expect(groups.some((g) => g.startsWith('青城镇丰收农资店'))).to.equal(true);
      await page.selectOption('#group-by', 'kind');
      await page.waitForFunction((r) => Array.from(document.querySelectorAll('#exceptions tr.group-row')).some((x) => x.textContent!.startsWith(r)), w.lateReason);
      await shot(page, `journey-exceptions-by-kind-${lang}`);
      expect(errors).to.deep.equal([]);
      await context.close();
    });

    it(`[${lang}] funnel: one period stated, units on every stage, the stage above its predecessor explained`, async () => {
      const { context, page, errors } = await open(lang);
      await login(page, 'qingshen.official', 'county');
      await apply(page, '2026-03', '2026-03'); // nothing sold in March, containers returned: returns exceed sales
      const text = (await page.locator('#funnel-chart svg text').allTextContents()).join(' ');
      for (const u of w.units) expect(text).to.contain(u);
      expect(text).to.contain('2026-03');
      expect(text).to.contain('↑');
      expect(await page.locator('#funnel-note').textContent()).to.contain(w.exceeds);
      // Four bars, the last one drawn like the others (a bar with a width, not a point).
      const bars = await page.evaluate(() => {
        const c = (window as any).echarts.getInstanceByDom(document.getElementById('funnel-chart'));
        return c.getOption().series[0].data.length;
      });
      expect(bars).to.equal(4);
      await shot(page, `journey-funnel-${lang}`);
      expect(errors).to.deep.equal([]);
      await context.close();
    });

    it(`[${lang}] shop: returns of the range only, in county time with the zone stated; the position explained`, async () => {
      const { context, page, errors } = await open(lang);
      await login(page, 'qingshen.official', 'county');
      await apply(page, '2026-03', '2026-03');
      await page.click(`#shops a.shop-link[data-shop="${SHOP_A}"]`);
      await page.waitForSelector('body[data-loaded=shop]');
      const header = (await page.locator('#shop-returns thead').textContent())!;
      expect(header).to.contain('Asia/Shanghai').and.contain('UTC+8');
      const times = await page.locator('#shop-returns td.time').allTextContents();
      expect(times).to.include('2026-03-14 10:00');
      for (const x of times) expect(x.slice(0, 10) >= '2026-03-01' && x.slice(0, 10) <= '2026-03-15', x).to.equal(true);
      expect(await page.locator('#returns-window').textContent()).to.contain('2026-03-01').and.contain('2026-03-15');
      expect(await page.locator('#shop-position-help').textContent()).to.contain(lang === 'zh' ? '店铺欠计划的钱' : 'what the shop owes the scheme');
      expect(await page.locator('#shop-facts abbr').getAttribute('title')).to.contain(lang === 'zh' ? '负数' : 'Negative');
      await shot(page, `journey-shop-${lang}`);
      // January: the March returns are outside the range and not listed.
      await page.click('#back');
      await apply(page, '2026-01', '2026-01');
      await page.click(`#shops a.shop-link[data-shop="${SHOP_A}"]`);
      await page.waitForSelector('body[data-loaded=shop]');
      expect(await page.locator('#shop-returns td.time').count()).to.equal(0);
      expect(errors).to.deep.equal([]);
      await context.close();
    });

    it(`[${lang}] a bad range is a plain sentence; an expired login returns to the login page saying so`, async () => {
      const { context, page } = await open(lang);
      await login(page, 'qingshen.official', 'county');
      await apply(page, '2026-03', '2026-01', 'error');
      const problem = (await page.locator('#problem').textContent())!;
      expect(problem).to.contain(w.badRange);
      expect(problem.indexOf('INVALID_MONTH_RANGE')).to.be.greaterThan(problem.indexOf(w.badRange)); // the code only after the sentence, in small print
      await shot(page, `journey-bad-range-${lang}`);
      t.clock.advance(16 * 60_000); // past the 15-minute access token
      try {
        await apply(page, '2026-01', '2026-03', 'login');
        expect(await page.locator('#login').isVisible()).to.equal(true);
        expect(await page.locator('#login-notice').textContent()).to.equal(w.expired);
        await shot(page, `journey-session-expired-${lang}`);
      } finally {
        t.clock.set(NOW);
      }
      await context.close();
    });

    it(`[${lang}] province: the period stated, deposits in yuan, the map coloured and clickable, the county opened in view with a way back`, async () => {
      const { context, page, errors } = await open(lang);
      await login(page, 'sichuan.official', 'province');
      expect(await page.inputValue('#filters input[name=from]')).to.equal('2026-01');
      expect(await page.inputValue('#filters input[name=to]')).to.equal('2026-03');
      expect(await page.locator('#province-period').textContent()).to.contain('2026-01').and.contain('2026-03');
      expect(await page.locator('#counties thead').textContent()).to.contain(w.yuan);
      expect(await page.locator('#province-map svg path').count()).to.be.greaterThan(10);
      await shot(page, `journey-province-${lang}`);
      // Click 青神县 on the map (its centre, from the package's own centre point).
      const at = await page.evaluate(() => {
        const el = document.getElementById('province-map')!;
        const c = (window as any).echarts.getInstanceByDom(el);
        const [x, y] = c.convertToPixel({ seriesIndex: 0 }, [103.846688, 29.831357]);
        const r = el.getBoundingClientRect();
        return { x: r.left + x, y: r.top + y };
      });
      await page.evaluate(() => document.body.setAttribute('data-loaded', 'pending'));
      await page.mouse.click(at.x, at.y);
      await page.waitForSelector('body[data-loaded=county]');
      expect(await page.locator('#county-name').textContent()).to.equal(lang === 'zh' ? '青神县' : 'Qingshen County');
      expect(await page.locator('#province').isVisible()).to.equal(false);
      expect(await page.locator('#back-province').isVisible()).to.equal(true);
      const top = await page.evaluate(() => document.getElementById('county')!.getBoundingClientRect().top);
      expect(top).to.be.within(-5, 768 / 2); // in view, not below the fold
      // The county page's prefecture map, 青神县 highlighted.
      expect((await page.locator('#county-map svg text').allTextContents()).join(' ')).to.contain('青神县');
      expect(await page.locator('#county-map svg path[fill="#2f6b3a"]').count()).to.equal(1);
      await shot(page, `journey-province-county-${lang}`);
      await page.click('#back-province');
      await page.waitForSelector('body[data-loaded=province]');
      expect(await page.locator('#province').isVisible()).to.equal(true);
      expect(await page.locator('#county').isVisible()).to.equal(false);
      expect(errors).to.deep.equal([]);
      await context.close();
    });
  }
});
