// Points for goods at the counter (issue 17), by keyboard at 1366×768 in headless Chromium, in Chinese
// and in English, against the real county server and its points routes: F7, the phone, the balance,
// the points, the goods and their value, Enter on Redeem; the answer is lost once after the server
// recorded it, the same redemption is sent again and recorded once; the receipt prints once with the
// balance after; the day end counts the points redeemed.
// Screenshots go to test-artifacts/ (git-ignored; CI keeps them).
import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium, skipWithoutChromium } from '../../support/browser.js';
import { useTestApp } from '../../support/harness.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import { parseEscPos, printedLines } from '../../../terminals/printing/index.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { businessDay } from '../../../src/shared/business-day.js';
import { earnedPoints, postPoints } from '../../../src/features/points/points-store.js';
import { COUNTY, GLYPHOSATE, SHOP_A } from '../../features/ledger/ledger-fixtures.js';
import { enrolmentCode, tempDir, terminalConfig, waitFor } from './pos-support.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts');
const LANGS = ['zh', 'en'] as const;

describe('points for goods at the counter, by keyboard, against the county server (issue 17)', function () {
  this.timeout(180_000);
  const t = useTestApp();
  let server: http.Server;
  let dropNextRedemptionAnswer = false;
  let printer: net.Server;
  const jobs: Buffer[] = [];
  let term: RunningTerminal;
  let browser: Browser | null = null;
  const dir = tempDir('pos-points');
  const pageErrors: string[] = [];

  before(async function () {
    skipWithoutChromium(this, 'the points journeys');
    t.clock.set(new Date(Date.now() + 3600_000).toISOString());
    server = http.createServer((req, res) => {
      if (dropNextRedemptionAnswer && req.method === 'POST' && req.url === `/api/v1/counties/${COUNTY}/points-redemptions`) {
        dropNextRedemptionAnswer = false;
        // The server records the redemption; its answer is lost on the way back (the village line drops).
        res.writeHead = (() => res) as unknown as typeof res.writeHead;
        res.end = (() => {
          req.socket.destroy();
          return res;
        }) as unknown as typeof res.end;
      }
      t.app(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    printer = net.createServer((sock) => {
      const chunks: Buffer[] = [];
      sock.on('data', (d) => chunks.push(d));
      sock.on('end', () => { jobs.push(Buffer.concat(chunks)); sock.end(); });
    });
    await new Promise<void>((r) => printer.listen(0, '127.0.0.1', () => r()));
    const serverUrl = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    term = await startTerminal(terminalConfig(serverUrl, dir, { PRINTER: `127.0.0.1:${(printer.address() as net.AddressInfo).port}`, PRINTER_WIDTH: '80' }));
    await term.enrol((await enrolmentCode(t)).code);
    await waitFor('reference data', () => term.reference());
    browser = await launchChromium();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await term?.stop();
    printer?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server?.closeAllConnections();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    expect(pageErrors.splice(0), 'script errors on the clerk\'s screen').to.deep.equal([]);
  });

  /** A farmer of the county (registered by a sale) holding points earned by an earlier return. */
  async function farmerWithPoints(phone: string, milli: number): Promise<string> {
    const sold = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await t.token('clerk.qingcheng'))
      .send({ id: newClientId(), shopId: SHOP_A, eventTime: t.clock.now().toISOString(), purchaser: { phone, name: '积分农户' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] });
    expect(sold.status, JSON.stringify(sold.body)).to.equal(201);
    const farmerId = (await t.db.knex('farmers').where({ county_id: COUNTY, phone_e164: `+86${phone}` }).first()).id as string;
    const now = t.clock.now();
    await t.db.knex.transaction((trx) => postPoints(trx, COUNTY, [earnedPoints(COUNTY, {
      amountMilli: milli, clientId: newClientId(), refId: newClientId(), itemNo: 1, unitCode: null, farmerId, shopId: SHOP_A,
      eventTime: now, businessDay: businessDay(now, 'Asia/Shanghai'), actor: 'test',
    })], now));
    // The terminal finds the farmer's id in its next snapshot.
    await waitFor('the farmer in the snapshot', () => term.reference()!.snapshot.farmers.some((f) => f.id === farmerId));
    return farmerId;
  }

  async function open(lang: 'zh' | 'en'): Promise<Page> {
    const page = await browser!.newPage({ viewport: { width: 1366, height: 768 } });
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    await page.addInitScript((l) => localStorage.setItem('lang', l), lang);
    await page.goto(term.url);
    await page.locator('#sale-phone:focus').waitFor({ timeout: 20_000 });
    return page;
  }
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `terminal-${name}.png`) });
  const text = async (page: Page, sel: string) => (await page.locator(sel).textContent()) ?? '';

  for (const lang of LANGS) {
    it(`${lang}: phone → balance → points, goods, value → Redeem; a lost answer is sent again and recorded once; one receipt`, async () => {
      const phone = lang === 'zh' ? '17460001801' : '17460001802';
      const farmerId = await farmerWithPoints(phone, 12_750);
      const page = await open(lang);
      await page.keyboard.press('F7');
      await page.locator('#pts-phone:focus').waitFor();
      await page.keyboard.type(phone);
      await page.keyboard.press('Enter');
      await page.locator('#pts-points:focus').waitFor();
      expect(await text(page, '#pts-balance-now')).to.equal('12.75');
      await page.keyboard.type('10.5');
      await page.keyboard.press('Enter');
      await page.locator('#pts-goods:focus').waitFor();
      await page.keyboard.type(lang === 'zh' ? '洗衣粉 2 袋' : 'washing powder, 2 bags');
      await page.keyboard.press('Enter');
      await page.locator('#pts-value:focus').waitFor();
      await page.keyboard.type('35.5');
      await page.keyboard.press('Enter');
      await page.locator('#pts-confirm:focus').waitFor();
      await shot(page, `points-redeem-${lang}`);
      // The answer is lost after the server recorded it: the clerk reads that the server was not reached.
      dropNextRedemptionAnswer = true;
      const printed = jobs.length;
      await page.keyboard.press('Enter');
      await page.locator('#pts-msg.err small.code').waitFor();
      expect(await text(page, '#pts-msg small.code')).to.contain('POINTS_NEED_SERVER');
      const first = await t.db.knex('points_redemptions').where({ county_id: COUNTY, farmer_id: farmerId });
      expect(first).to.have.length(1);
      // Again (Ctrl+Enter): the same id, the stored redemption answers; it prints once.
      await page.keyboard.press('Control+Enter');
      await waitFor('the redemption confirmed', async () => (await text(page, '#pts-msg.ok')).length > 0);
      expect(await text(page, '#pts-msg')).to.contain('10.5').and.to.contain('2.25');
      await shot(page, `points-redeemed-${lang}`);
      const rows = await t.db.knex('points_redemptions').where({ county_id: COUNTY, farmer_id: farmerId });
      expect(rows).to.have.length(1);
      expect(rows[0].id).to.equal(first[0].id);
      expect(Number(rows[0].points_milli)).to.equal(10_500);
      expect(Number(rows[0].goods_value_fen)).to.equal(3550);
      await waitFor('the redemption receipt printed', () => jobs.length > printed, 30_000);
      const paper = printedLines(parseEscPos(jobs.at(-1)!)).map((l) => l.text).join('\n');
      expect(paper).to.contain('积分兑换收据').and.to.match(/使用积分 Points used\s+10\.5/).and.to.match(/积分余额 Balance after\s+2\.25/);
      expect(jobs.length - printed, 'one receipt').to.equal(1);
      // The day end counts it; no cash moved.
      const day = term.points.list().find((r) => r.clientId === rows[0].id)!.businessDay;
      expect(term.counter.drawerFigures(day).pointsRedeemedMilli).to.be.at.least(10_500);
      // More than is left: refused in plain words, nothing recorded.
      await page.keyboard.type(phone);
      await page.keyboard.press('Enter');
      await page.locator('#pts-points:focus').waitFor();
      await page.keyboard.type('3');
      await page.locator('#pts-goods').fill('手套');
      await page.keyboard.press('Control+Enter');
      await page.locator('#pts-msg.err small.code').waitFor();
      expect(await text(page, '#pts-msg small.code')).to.contain('POINTS_INSUFFICIENT');
      expect(await t.db.knex('points_redemptions').where({ county_id: COUNTY, farmer_id: farmerId })).to.have.length(1);
      await page.close();
    });
  }
});
