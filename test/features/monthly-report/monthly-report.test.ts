// The monthly report an official hands up: its figures are the dashboard's (compared number by
// number with the dashboard's own JSON for the same month), its charts are server-drawn SVG, its
// PDF (printed by Chromium) holds the county, month, rates and shops in Chinese and English as
// text, and a browser print of the live dashboard leaves out the navigation. Screenshots and the
// PDFs go to test-artifacts/.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { closeSharedBrowser, launchChromium } from '../../../src/features/monthly-report/chromium.js';
import { skipWithoutChromium } from '../../support/browser.js';
import { fmtInt, fmtPct } from '../../../src/features/monthly-report/report-html.js';
import { DEMO_PASSWORD, useTestApp } from '../../support/harness.js';
import { OTHER_COUNTY_ID } from '../../support/other-county.js';
import { COUNTY, GLYPHOSATE, SHOP_A, SHOP_B, freshToken, returnBody, saleBody, unitCode } from '../ledger/ledger-fixtures.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts');
const REPORT = `/api/v1/counties/${COUNTY}/reports/monthly`;
const PROVINCE_REPORT = '/api/v1/provinces/510000/reports/monthly';

/** Text of the cells of the row `<tr data-rate="key">` of the rates table: [this month, year to date]. */
function rateCells(html: string, key: string): string[] {
  const row = new RegExp(`<tr data-rate="${key}"><th>[^<]*</th><td class="n">([^<]*)</td><td class="n">([^<]*)</td></tr>`).exec(html);
  expect(row, `rate row ${key}`).to.not.equal(null);
  return [row?.[1] ?? '', row?.[2] ?? ''];
}
function rowCells(html: string, attr: string, id: string): string[] {
  const row = new RegExp(`<tr ${attr}="${id}">(.*?)</tr>`).exec(html);
  expect(row, `${attr} ${id}`).to.not.equal(null);
  return [...(row?.[1] ?? '').matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1] as string);
}
const svgs = (html: string): string[] => html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];

describe('monthly report (county and province)', function () {
  this.timeout(600_000);
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });
  let official = '';

  before(async () => {
    const clerk = await freshToken(t, 'clerk.qingcheng');
    const codes = [unitCode(GLYPHOSATE), unitCode(GLYPHOSATE), unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)];
    // January: 2 sold at shop A; February: 2 sold at shop A, and 1 January container returned at shop A.
    for (const [eventTime, n, slice] of [['2026-01-12T02:00:00.000Z', 2, [0, 2]], ['2026-02-10T02:00:00.000Z', 2, [2, 4]]] as const) {
      t.clock.set(eventTime);
      const r = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(saleBody({ eventTime, lines: [{ productId: GLYPHOSATE.id, quantity: n, unitCodes: codes.slice(...slice) }] }));
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
    }
    // 2026-02-28 23:30 in Sichuan (15:30 UTC): still February in the county's time zone.
    t.clock.set('2026-02-28T15:30:00.000Z');
    const ret = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', clerk).send(returnBody({ eventTime: '2026-02-28T15:30:00.000Z', returner: { phone: '17460000999' }, items: [{ scan: codes[0], inspection: 'accepted' }] }));
    expect(ret.status, JSON.stringify(ret.body)).to.equal(201);
    // Another January container taken back at shop B, which sold nothing: "returns above sales".
    official = await freshToken(t, 'qingshen.official');
    const user = await t.api().post(`/api/v1/counties/${COUNTY}/users`).set('Authorization', official).send({ username: 'clerk.lvyuan', role: 'clerk', shopId: SHOP_B, displayName: 'clerk.lvyuan', password: DEMO_PASSWORD });
    expect(user.status, JSON.stringify(user.body)).to.equal(201);
    t.clock.set('2026-02-20T02:00:00.000Z');
    const retB = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', await freshToken(t, 'clerk.lvyuan')).send(returnBody({ shopId: SHOP_B, eventTime: '2026-02-20T02:00:00.000Z', returner: { phone: '17460000999' }, items: [{ scan: codes[1], inspection: 'accepted' }] }));
    expect(retB.status, JSON.stringify(retB.body)).to.equal(201);
    t.clock.set('2026-03-15T02:00:00.000Z');
    official = await freshToken(t, 'qingshen.official');
    const run = await t.api().post(`/api/v1/counties/${COUNTY}/reconciliations`).set('Authorization', official).send({ period: '2026-02' });
    expect(run.status, JSON.stringify(run.body)).to.be.oneOf([200, 201]);
    t.clock.advance(120_000);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await closeSharedBrowser();
  });

  it('the county HTML report holds the figures the dashboard computes for the month, in Chinese and English', async () => {
    const dash = await t.api().get(`/api/v1/counties/${COUNTY}/dashboard?from=2026-02&to=2026-02`).set('Authorization', official);
    expect(dash.status).to.equal(200);
    const ytd = await t.api().get(`/api/v1/counties/${COUNTY}/recovery-rates?from=2026-01&to=2026-02`).set('Authorization', official);
    const shops = await t.api().get(`/api/v1/counties/${COUNTY}/dashboard/shops?from=2026-02&to=2026-02`).set('Authorization', official);
    const y = ytd.body.rows[0];
    // The month by hand: 2 sold, 2 returned (January containers: at shop A on the county's 28 February, at shop B on the 20th).
    expect(dash.body.tiles).to.include({ soldUnits: 2, returnedUnits: 2, periodRatePct: 100 });
    expect(y).to.include({ soldUnits: 4, returnedUnits: 2, periodRatePct: 50 });

    const json = await t.api().get(`${REPORT}?month=2026-02&format=json`).set('Authorization', official);
    expect(json.status, JSON.stringify(json.body)).to.equal(200);
    expect(json.body.rates.month).to.include({ soldUnits: 2, returnedUnits: 2, periodRatePct: dash.body.tiles.periodRatePct, cohortRatePct: dash.body.tiles.cohortRatePct, massRatePct: dash.body.tiles.massRatePct });
    expect(json.body.rates.yearToDate).to.include({ soldUnits: y.soldUnits, returnedUnits: y.returnedUnits, periodRatePct: y.periodRatePct, cohortRatePct: y.cohortRatePct, massRatePct: y.massRatePct });
    expect(json.body.trend.map((p: { month: string }) => p.month)).to.have.length(12).and.include('2026-02');
    expect(json.body.run).to.include({ period: '2026-02' });

    for (const lang of ['zh', 'en'] as const) {
      const res = await t.api().get(`${REPORT}?month=2026-02&lang=${lang}`).set('Authorization', official);
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.match(/^text\/html/);
      const html = res.text;
      fs.writeFileSync(path.join(ARTIFACTS, `monthly-report-county-${lang}.html`), html);
      expect(rateCells(html, 'period')).to.deep.equal([fmtPct(dash.body.tiles.periodRatePct), fmtPct(y.periodRatePct)]);
      expect(rateCells(html, 'period')).to.deep.equal(['100.0%', '50.0%']);
      expect(rateCells(html, 'cohort')).to.deep.equal([fmtPct(dash.body.tiles.cohortRatePct), fmtPct(y.cohortRatePct)]);
      expect(rateCells(html, 'mass')).to.deep.equal([fmtPct(dash.body.tiles.massRatePct), fmtPct(y.massRatePct)]);
      expect(rateCells(html, 'sold')).to.deep.equal([fmtInt(2), fmtInt(4)]);
      expect(rateCells(html, 'returned')).to.deep.equal([fmtInt(2), fmtInt(2)]);
      // Every shop of the dashboard's table, with its figures.
      expect(shops.body.shops.length).to.be.greaterThan(5);
      for (const s of shops.body.shops) {
        const cells = rowCells(html, 'data-shop', s.key);
        expect(cells.slice(0, 7), s.name).to.deep.equal([s.name, s.township, fmtInt(s.soldUnits), fmtInt(s.returnedUnits), fmtPct(s.periodRatePct), fmtPct(s.cohortRatePct), fmtPct(s.massRatePct)]);
      }
      expect(rowCells(html, 'data-shop', SHOP_A).slice(2, 5)).to.deep.equal(['2', '1', '50.0%']);
      expect(rowCells(html, 'data-shop', SHOP_B).slice(2, 5)).to.deep.equal(['0', '1', '—']);
      const shopB = shops.body.shops.find((x: { key: string }) => x.key === SHOP_B);
      expect(shopB.flags).to.include('returns_above_sales');
      // Open issues name the shop.
      const issue = /<li data-issue="returns_above_sales">([^<]*)<\/li>/.exec(html);
      expect(issue?.[1]).to.equal(lang === 'zh' ? `1 家店铺本月回收多于销售：${shopB.name}` : `1 shop(s) took back more than they sold this month: ${shopB.name}`);
      // Definitions with the rates, and the funnel with units.
      for (const d of dash.body.definitions) expect(html).to.contain(lang === 'zh' ? d.definition_zh : d.definition_en.replace(/'/g, '&#39;'));
      expect(html).to.contain(lang === 'zh' ? '青神县农药包装废弃物回收月报' : 'Qingshen County: monthly report');
      expect(html).to.contain(lang === 'zh' ? '2026年2月' : 'February 2026');
      expect(html).to.contain(lang === 'zh' ? `${dash.body.funnel.stages[0].containers} 个` : `${dash.body.funnel.stages[0].containers} containers`);
      // Times in the county's time zone: the clock is 02:02 UTC, 10:02 in Sichuan.
      expect(html).to.contain('2026-03-15 10:02').and.contain('Asia/Shanghai');
      expect(html).to.not.contain('<script');
      // The month's own reconciliation run, with its counts, at its time in the county.
      const runAt = new Date(json.body.run.runAt);
      expect(json.body.run.runAtLocal).to.equal(`2026-03-15 ${String((runAt.getUTCHours() + 8) % 24).padStart(2, '0')}:${String(runAt.getUTCMinutes()).padStart(2, '0')}`);
      expect(html).to.contain(lang === 'zh'
        ? `对账 2026-02，运行于 ${json.body.run.runAtLocal}：${json.body.run.exceptionCount} 项异常，其中 ${json.body.run.errorCount} 项错误。`
        : `Reconciliation 2026-02, run ${json.body.run.runAtLocal}: ${json.body.run.exceptionCount} exception(s), ${json.body.run.errorCount} error(s).`);

      // Charts: server-drawn SVG, balanced, with the axis months and the legend as text.
      const charts = svgs(html);
      expect(charts).to.have.length(2);
      for (const svg of charts) {
        expect(svg).to.match(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*viewBox="0 0 \d+ \d+"/);
        expect(svg.match(/<svg\b/g)).to.have.length(1);
        expect((svg.match(/<text\b/g) ?? []).length).to.equal((svg.match(/<\/text>/g) ?? []).length);
        expect((svg.match(/<g\b/g) ?? []).length).to.equal((svg.match(/<\/g>/g) ?? []).length);
      }
      expect(charts[0]).to.contain('2026-02').and.contain('2025-03').and.contain(lang === 'zh' ? '同期回收率' : 'Period recovery');
      expect(charts[1]).to.contain(lang === 'zh' ? '已收运' : 'Hauled');
    }
  });

  it('the month is the county calendar month; a month not begun is refused; scope as on the dashboard', async () => {
    const future = await t.api().get(`${REPORT}?month=2026-04`).set('Authorization', official);
    expect(future.status).to.equal(422);
    expect(future.body.error.code).to.equal('REPORT_MONTH_IN_FUTURE');
    const bad = await t.api().get(`${REPORT}?month=2026-13`).set('Authorization', official);
    expect(bad.status).to.equal(400);
    const lang = await t.api().get(`${REPORT}?lang=fr`).set('Authorization', official);
    expect(lang.status).to.equal(400);
    // Default: last month in the county.
    const def = await t.api().get(`${REPORT}?format=json`).set('Authorization', official);
    expect(def.body.month).to.equal('2026-02');
    // March: nothing reconciled yet, and the February return does not appear in March.
    const march = await t.api().get(`${REPORT}?month=2026-03&format=json`).set('Authorization', official);
    expect(march.body.rates.month).to.include({ soldUnits: 0, returnedUnits: 0 });
    expect(march.body.run).to.equal(null);
    expect(march.body.openIssues.map((i: { key: string }) => i.key)).to.include('no_reconciliation');

    const other = await t.api().get(REPORT).set('Authorization', await freshToken(t, 'jiange.official'));
    expect(other.status).to.equal(403);
    expect(other.body.error.code).to.equal('OUT_OF_SCOPE');
    const clerk = await t.api().get(REPORT).set('Authorization', await freshToken(t, 'clerk.qingcheng'));
    expect(clerk.status).to.equal(403);
    expect((await t.api().get(REPORT)).status).to.equal(401);
    expect((await t.api().get(PROVINCE_REPORT).set('Authorization', official)).status).to.equal(403);
    expect((await t.api().get('/api/v1/provinces/330000/reports/monthly').set('Authorization', await freshToken(t, 'sichuan.official'))).status).to.equal(403);
  });

  it('the province report compares the counties with the dashboard figures', async () => {
    const prov = await freshToken(t, 'sichuan.official');
    const dash = await t.api().get('/api/v1/provinces/510000/dashboard?from=2026-02&to=2026-02').set('Authorization', prov);
    expect(dash.status).to.equal(200);
    for (const lang of ['zh', 'en'] as const) {
      const res = await t.api().get(`${PROVINCE_REPORT}?month=2026-02&lang=${lang}`).set('Authorization', prov);
      expect(res.status, res.text).to.equal(200);
      fs.writeFileSync(path.join(ARTIFACTS, `monthly-report-province-${lang}.html`), res.text);
      for (const c of dash.body.counties) {
        const cells = rowCells(res.text, 'data-county', c.countyId);
        expect(cells.slice(1, 6), c.nameZh).to.deep.equal([fmtInt(c.soldUnits), fmtInt(c.returnedUnits), fmtPct(c.periodRatePct), fmtPct(c.cohortRatePct), fmtPct(c.massRatePct)]);
      }
      expect(rowCells(res.text, 'data-county', COUNTY)[0]).to.contain('青神县');
      expect(rowCells(res.text, 'data-county', OTHER_COUNTY_ID)[8]).to.equal(lang === 'zh' ? '未对账' : 'not run');
      expect(res.text).to.contain(lang === 'zh' ? '尚未对账：剑阁县' : 'Not reconciled: Jiange County');
      expect(svgs(res.text)).to.have.length(2);
      expect(svgs(res.text)[1]).to.contain(lang === 'zh' ? '青神县' : 'Qingshen County');
    }
  });

  describe('PDF and print (Chromium)', () => {
    let browser: Browser | null = null;
    before(function () {
      skipWithoutChromium(this, 'the report PDF test');
    });
    after(async () => {
      await browser?.close();
    });

    const pdfText = (buf: Buffer, name: string): string => {
      const file = path.join(ARTIFACTS, name);
      fs.writeFileSync(file, buf);
      return execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
    };

    it('the county PDF holds the county, the month, the rates and the shop names as text, in Chinese and English', async () => {
      for (const lang of ['zh', 'en'] as const) {
        const res = await t.api().get(`${REPORT}?month=2026-02&format=pdf&lang=${lang}`).set('Authorization', official).buffer(true).parse((r, cb) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => cb(null, Buffer.concat(chunks)));
        });
        expect(res.status).to.equal(200);
        expect(res.headers['content-type']).to.equal('application/pdf');
        const body = res.body as Buffer;
        expect(body.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
        const text = pdfText(body, `monthly-report-county-${lang}.pdf`);
        expect(text).to.contain(lang === 'zh' ? '青神县' : 'Qingshen County');
        expect(text).to.contain(lang === 'zh' ? '2026年2月' : 'February 2026');
        expect(text).to.contain('100.0%').and.contain('50.0%');
        expect(text).to.contain(lang === 'zh' ? '同期回收率' : 'Period recovery');
        // Every shop of the county by name (names stay on one line in the table).
        const shops = (await t.db.knex('shops').where({ county_id: COUNTY, active: true }).select('id', 'name')) as Array<{ id: string; name: string }>;
        expect(shops.map((s) => s.id)).to.include.members([SHOP_A, SHOP_B]);
        for (const s of shops) expect(text, s.name).to.contain(s.name);
      }
    });

    it('the province PDF names the province, the month and its counties', async () => {
      const res = await t.api().get(`${PROVINCE_REPORT}?month=2026-02&format=pdf&lang=en`).set('Authorization', await freshToken(t, 'sichuan.official')).buffer(true).parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      });
      expect(res.status).to.equal(200);
      const text = pdfText(res.body as Buffer, 'monthly-report-province-en.pdf');
      expect(text).to.contain('四川省').and.contain('February 2026').and.contain('Qingshen County').and.contain('Jiange County');
    });

    it('the report page is well-formed SVG in a browser; the live dashboard prints without its navigation and links to the report', async () => {
      browser = await launchChromium();
      const server = http.createServer(t.app);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true });
        const page = await context.newPage();
        const html = (await t.api().get(`${REPORT}?month=2026-02&lang=en`).set('Authorization', official)).text;
        const parsed = await page.evaluate((svgList) => svgList.map((s) => {
          const doc = new DOMParser().parseFromString(s, 'image/svg+xml');
          return doc.getElementsByTagName('parsererror').length === 0 && doc.documentElement.nodeName === 'svg';
        }), svgs(html));
        expect(parsed).to.deep.equal([true, true]);

        // Generous bounds: the first visit compresses ECharts (slow on a loaded 2-core machine); a hang detector, not a speed check.
        await page.goto(`${url}/dashboard`, { timeout: 180_000 });
        await page.fill('input[name=username]', 'qingshen.official');
        await page.fill('input[name=password]', DEMO_PASSWORD);
        await page.click('#login-form button[type=submit]');
        await page.waitForSelector('body[data-loaded=county]', { timeout: 60_000 });
        // The report button opens the month chosen in the filters (the "to" month).
        await page.fill('#filters input[name=to]', '2026-02');
        const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('#report-html')]);
        await popup.waitForFunction(() => document.title.includes('2026年2月'), undefined, { timeout: 60_000 });
        expect(await popup.locator('tr[data-rate=period] td').first().textContent()).to.equal('100.0%');
        await popup.screenshot({ path: path.join(ARTIFACTS, 'monthly-report-county-zh.png'), fullPage: true });
        await popup.close();

        await page.emulateMedia({ media: 'print' });
        for (const sel of ['header', '#filters', '#logout', '#lang-toggle', '#export-shops', '#report-html', '#report-pdf']) {
          expect(await page.locator(sel).first().isVisible(), sel).to.equal(false);
        }
        expect(await page.locator('#county-name').isVisible()).to.equal(true);
        expect(await page.locator('#shops').isVisible()).to.equal(true);
        const printed = pdfText(await page.pdf({ format: 'A4' }), 'dashboard-county-print.pdf');
        expect(printed).to.contain('青神县').and.contain('青城镇丰收农资店');
        for (const chrome of ['退出', '查询', 'English', '导出 CSV', '月度报告']) expect(printed, chrome).to.not.contain(chrome);
        await context.close();
      } finally {
        await new Promise<void>((r) => server.close(() => r()));
      }
    });
  });
});
