// Incentives at the counter (issue 17), by keyboard at 1366×768 in headless Chromium, in Chinese and
// in English, against the real county server: the return screen shows per row which incentive applies
// and why, and says offline that the amounts are the terminal's estimate the server confirms; the paper
// carries the buy-back and the points; the day end counts the buy-back as cash out of the drawer; the
// points screen (F7) says offline in plain words that points need the county server.
// Screenshots go to test-artifacts/ (git-ignored; CI keeps them).
//
// The county's incentive rates reach a terminal in the sync snapshot (`incentiveRates`): the county
// official creates the rate on the server (POST …/incentive-rates), the terminal fetches its snapshot
// while online, and then the village line goes down — the offline journey estimates with the rate the
// terminal cached, exactly as the server sent it.
import { expect } from 'chai';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium, skipWithoutChromium } from '../../support/browser.js';
import { useTestApp } from '../../support/harness.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import { parseEscPos, printedLines } from '../../../terminals/printing/index.js';
import { businessDay } from '../../../src/shared/business-day.js';
import { COUNTY, GLYPHOSATE, freshToken } from '../../features/ledger/ledger-fixtures.js';
import { enrolmentCode, openGate, tempDir, terminalConfig, waitFor, type Gate } from './pos-support.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts');
const LANGS = ['zh', 'en'] as const;

describe('incentives at the counter, by keyboard (issue 17)', function () {
  this.timeout(180_000);
  const t = useTestApp();
  let gate: Gate;
  let printer: net.Server;
  const jobs: Buffer[] = [];
  let term: RunningTerminal;
  let browser: Browser | null = null;
  const dir = tempDir('pos-incentives');
  let gtin = '';
  const pageErrors: string[] = [];

  before(async function () {
    skipWithoutChromium(this, 'the incentive journeys');
    // Today (by the terminal's own clock, the real one) the official sets a rate for bottles: 0.30 yuan
    // buy-back and 0.2 points. Rates never start in the past, so it is created at the real time; the
    // server's clock then runs an hour ahead, so nothing the terminal records is in the server's future.
    t.clock.set(new Date().toISOString());
    const rate = await t.api().post(`/api/v1/counties/${COUNTY}/incentive-rates`).set('Authorization', await freshToken(t, 'qingshen.official'))
      .send({ containerKind: 'bottle', buybackFen: 30, pointsMilli: 200, effectiveFrom: businessDay(t.clock.now(), 'Asia/Shanghai'), note: '瓶：回收0.3元，5个积1分' });
    expect(rate.status, JSON.stringify(rate.body)).to.equal(201);
    t.clock.set(new Date(Date.now() + 3600_000).toISOString());
    gate = await openGate(t);
    printer = net.createServer((sock) => {
      const chunks: Buffer[] = [];
      sock.on('data', (d) => chunks.push(d));
      sock.on('end', () => { jobs.push(Buffer.concat(chunks)); sock.end(); });
    });
    await new Promise<void>((r) => printer.listen(0, '127.0.0.1', () => r()));
    const port = (printer.address() as net.AddressInfo).port;
    const config = terminalConfig(gate.url, dir, { PRINTER: `127.0.0.1:${port}`, PRINTER_WIDTH: '58' });
    const first = await startTerminal(config);
    await first.enrol((await enrolmentCode(t)).code);
    await waitFor('reference data with the county\'s rate', () => first.reference()?.incentiveRates.some((r) => r.id === rate.body.id) ?? false);
    await first.stop();
    // The village line goes down: the terminal starts again with the snapshot it cached.
    gate.down = true;
    term = await startTerminal(config);
    const cached = term.reference()!.incentiveRates;
    expect(cached).to.have.length(1);
    expect(cached[0]).to.deep.include({
      id: rate.body.id, containerTypeId: null, containerKind: 'bottle', minVolumeMl: null, maxVolumeMl: null, buybackFen: 30, pointsMilli: 200,
      effectiveFrom: rate.body.effectiveFrom, effectiveTo: null,
    });
    gtin = term.reference()!.snapshot.products.find((p) => p.id === GLYPHOSATE.id)!.gtin!;
    browser = await launchChromium();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await term?.stop();
    await gate?.close();
    printer?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    expect(pageErrors.splice(0), 'script errors on the clerk\'s screen').to.deep.equal([]);
  });

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
    it(`${lang}: offline, each row says which incentive applies and why, as an estimate; the paper and the day end carry the buy-back and points`, async () => {
      const page = await open(lang);
      await waitFor('the header shows offline', async () => (await text(page, '#net')) === (lang === 'zh' ? '离线' : 'Offline'));
      await page.keyboard.press('F2');
      await page.locator('#ret-scan:focus').waitFor();
      // No phone first: containers beyond anyone's deposits get nothing, and the row says why.
      await page.keyboard.type(gtin);
      await page.keyboard.press('Enter');
      await page.locator('#ret-items td.inc[data-reason="returner_required"]').waitFor();
      expect(await text(page, '#ret-items td.inc')).to.contain(lang === 'zh' ? '没有留手机号' : 'no phone given');
      expect(await text(page, '#ret-total')).to.equal('¥0.00');
      // The farmer's phone (a new farmer: the name follows), then one more container.
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.type(lang === 'zh' ? '17460001701' : '17460001702');
      await page.keyboard.press('Enter');
      await page.locator('#ret-name:focus').waitFor();
      await page.keyboard.type('积分农户');
      await page.keyboard.press('Enter');
      await page.locator('#ret-scan:focus').waitFor();
      await page.keyboard.type(gtin);
      await page.keyboard.press('Enter');
      await waitFor('both rows with buy-back and points', async () => (await page.locator('#ret-items td.inc[data-kind="buyback_points"]').count()) === 2);
      expect(await text(page, '#ret-items tbody tr:first-child td.inc')).to.contain(lang === 'zh' ? '有偿回收 + 积分 ¥0.30 · 积分 0.2' : 'buy-back + points ¥0.30 · 0.2 points');
      expect(await text(page, '#ret-total')).to.equal('¥0.60');
      expect(await text(page, '#ret-points')).to.equal('0.4');
      expect(await text(page, '#ret-estimate-note')).to.contain(lang === 'zh' ? '离线：回收款和积分为本机估算' : 'Offline: buy-back and points are this terminal\'s estimate');
      await shot(page, `return-incentives-${lang}`);
      const printed = jobs.length;
      await page.keyboard.press('Control+Enter');
      await waitFor('the refund confirmed', async () => (await text(page, '#ret-msg.ok')).includes('¥0.60'));
      await page.locator('#ret-incentives[data-source="estimate"]').waitFor();
      expect(await text(page, '#ret-incentives-title')).to.contain(lang === 'zh' ? '离线' : 'Offline');
      await shot(page, `return-incentives-done-${lang}`);
      // The journal keeps what the clerk paid: buy-back included.
      const rec = term.journal.all().filter((e) => e.record.kind === 'return').at(-1)!.record;
      expect(rec.local).to.include({ refundPaidFen: 60, buybackPaidFen: 60, pointsEstimateMilli: 400 });
      await waitFor('the refund receipt printed', () => jobs.length > printed, 30_000);
      const paper = printedLines(parseEscPos(jobs.at(-1)!)).map((l) => l.text).join('\n');
      expect(paper).to.match(/其中有偿回收 buy-back\s+￥0\.60/).and.to.match(/本次积分 Points earned\s+0\.4/);
      expect(paper.replace(/\s+/g, '')).to.contain('回收款和积分为本机估算');
      // The day end: the buy-back is cash out of the drawer, the points are counted apart.
      await page.keyboard.press('F4');
      await page.locator('#de-float:focus').waitFor();
      await page.locator('#de-figures tr[data-fig="buybackPaidFen"]').waitFor();
      const fig = term.counter.drawerFigures();
      expect(fig.buybackPaidFen).to.be.at.least(60);
      expect(fig.netCashExpectedFen).to.equal(fig.depositsTakenFen - fig.refundsPaidCashFen);
      expect(await text(page, '#de-figures tr[data-fig="buybackPaidFen"] td')).to.equal(`¥${(fig.buybackPaidFen / 100).toFixed(2)}`);
      expect(await text(page, '#de-figures tr[data-fig="pointsEarnedMilli"] td')).to.equal(String(fig.pointsEarnedMilli / 1000));
      await shot(page, `day-end-incentives-${lang}`);
      await page.close();
    });

    it(`${lang}: the points screen (F7) by keyboard says offline, in plain words, that points need the county server`, async () => {
      const page = await open(lang);
      await page.keyboard.press('F7');
      await page.locator('#pts-phone:focus').waitFor();
      await page.locator('#pts-offline').waitFor({ state: 'visible' });
      expect(await text(page, '#pts-offline')).to.contain(lang === 'zh' ? '积分只能在连上县服务器时兑换' : 'Points can only be redeemed when the terminal reaches the county server');
      // A farmer of the county (in the cached farmers): the balance is only at the server.
      const known = term.reference()!.snapshot.farmers[0]!.phoneE164.replace(/^\+86/, '');
      await page.keyboard.type(known);
      await page.keyboard.press('Enter');
      await page.locator('#pts-msg.err small.code').waitFor();
      expect(await text(page, '#pts-msg small.code')).to.contain('POINTS_NEED_SERVER');
      expect(await text(page, '#pts-msg')).to.contain(lang === 'zh' ? '积分只能在连上县服务器时兑换' : 'Points can only be redeemed when the terminal reaches the county server');
      await shot(page, `points-offline-${lang}`);
      // Nothing was recorded.
      expect(term.points.list()).to.deep.equal([]);
      await page.close();
    });
  }
});
