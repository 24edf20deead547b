// A clerk's journeys at 1366×768 in headless Chromium, in Chinese and in English (issue 14): plain
// words instead of codes, a distinct signal for each scan outcome (misreads never become a row or a
// bag line), the farmer's sale-receipt QR opening that sale, a real loopback TCP printer switched off
// and on (header state, retry, handwritten receipt, records that no longer show the old code), screens
// that start clean with focus where the next key belongs (day end by keyboard alone), and paying an
// approved held refund at the counter, again after a lost answer, against the real county server.
// Screenshots go to test-artifacts/ (git-ignored; CI keeps them).
import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, launchChromium, skipWithoutChromium } from '../../support/browser.js';
import { useTestApp } from '../../support/harness.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import { parseEscPos, printedLines } from '../../../terminals/printing/index.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { businessDay } from '../../../src/shared/business-day.js';
import { COUNTY, GLYPHOSATE, SHOP_A, SHOP_B } from '../../features/ledger/ledger-fixtures.js';
import { unitCode } from '../../features/ledger/ledger-fixtures.js';
import { enrolmentCode, tempDir, terminalConfig, waitFor } from './pos-support.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts');
const LANGS = ['zh', 'en'] as const;
type Lang = (typeof LANGS)[number];

/** A receipt printer on a loopback port that can be switched off (connections refused) and on again. */
class LoopbackPrinter {
  readonly jobs: Buffer[] = [];
  private server: net.Server | null = null;
  port = 0;
  async on(): Promise<void> {
    const s = net.createServer((sock) => {
      const chunks: Buffer[] = [];
      sock.on('data', (d) => chunks.push(d));
      sock.on('end', () => {
        this.jobs.push(Buffer.concat(chunks));
        sock.end();
      });
    });
    await new Promise<void>((r) => s.listen(this.port, '127.0.0.1', () => r()));
    this.port = (s.address() as net.AddressInfo).port;
    this.server = s;
  }
  get isOn(): boolean {
    return this.server !== null;
  }
  async off(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
  texts(): string[] {
    return this.jobs.map((b) => printedLines(parseEscPos(b)).map((l) => l.text).join('\n'));
  }
}

describe('the counter in plain words, at 1366×768 (issue 14)', function () {
  this.timeout(180_000);
  const t = useTestApp();
  let server: http.Server;
  let serverUrl = '';
  /** Set to drop the answer of the next held-refund payout after the server applied it. */
  let dropNextPayoutAnswer = false;
  const printer = new LoopbackPrinter();
  let term: RunningTerminal;
  let browser: Browser | null = null;
  const dir = tempDir('pos-journeys');
  let gtin = '';

  before(async function () {
    skipWithoutChromium(this, 'the counter journeys');
    t.clock.set(new Date(Date.now() + 3600_000).toISOString());
    server = http.createServer((req, res) => {
      if (dropNextPayoutAnswer && req.method === 'POST' && req.url === `/api/v1/counties/${COUNTY}/held-refund-payouts`) {
        dropNextPayoutAnswer = false;
        // The server applies the payout; its answer is lost on the way back (the village line drops).
        res.writeHead = (() => res) as unknown as typeof res.writeHead;
        res.end = (() => {
          req.socket.destroy();
          return res;
        }) as unknown as typeof res.end;
      }
      t.app(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    serverUrl = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    await printer.on();
    term = await startTerminal(terminalConfig(serverUrl, dir, { PRINTER: `127.0.0.1:${printer.port}`, PRINTER_WIDTH: '80' }));
    const { code } = await enrolmentCode(t);
    await term.enrol(code);
    await waitFor('reference data', () => term.reference());
    gtin = term.reference()!.snapshot.products.find((p) => p.id === GLYPHOSATE.id)!.gtin!;
    browser = await launchChromium({ args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'] });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await term?.stop();
    await printer.off();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server?.closeAllConnections();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const pageErrors: string[] = [];
  beforeEach(async () => {
    if (!printer.isOn) await printer.on(); // a journey that failed half-way leaves the printer as it was
  });
  afterEach(() => {
    const errs = pageErrors.splice(0);
    expect(errs, 'script errors on the clerk\'s screen').to.deep.equal([]);
  });
  async function open(lang: Lang, url = term.url): Promise<Page> {
    const page = await browser!.newPage({ viewport: { width: 1366, height: 768 } });
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    await page.addInitScript((l) => localStorage.setItem('lang', l), lang);
    await page.goto(url);
    return page;
  }
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `terminal-${name}.png`) });
  const text = async (page: Page, sel: string) => (await page.locator(sel).textContent()) ?? '';
  const tones = (page: Page) => page.evaluate(() => ((window as unknown as { __tones?: Array<{ kind: string; freqs: number[] }> }).__tones ?? []));
  async function scan(page: Page, field: string, code: string) {
    await page.locator(field).focus();
    await page.keyboard.type(code);
    await page.keyboard.press('Enter');
  }

  for (const lang of LANGS) {
    describe(`in ${lang === 'zh' ? 'Chinese' : 'English'}`, () => {
      it('enrolment without a server address says so in plain words, with the code in small print', async () => {
        const bare = tempDir('pos-bare');
        const t2 = await startTerminal(terminalConfig(serverUrl, bare, { SERVER_URL: '' }));
        try {
          const page = await open(lang, t2.url);
          await page.locator('#enrol-code:focus').waitFor({ timeout: 20_000 });
          expect(await page.locator('#enrol-server').inputValue()).to.equal('');
          await page.keyboard.type('ABCD-EFGH-JKLM');
          await page.keyboard.press('Enter');
          await page.locator('#enrol-msg.err small.code').waitFor();
          const msg = await text(page, '#enrol-msg');
          expect(msg).to.contain(lang === 'zh' ? '没有填写县服务器地址' : 'county server address is missing');
          expect(await text(page, '#enrol-msg small.code')).to.contain('SERVER_URL_MISSING');
          await shot(page, `enrol-no-server-${lang}`);
          await page.close();
        } finally {
          await t2.stop();
          fs.rmSync(bare, { recursive: true, force: true });
        }
      });

      it('wrong scans on the return screen: each outcome its own colour, words and tone; a misread never adds a row; Delete removes the focused row', async () => {
        const page = await open(lang);
        await page.locator('#sale-phone:focus').waitFor({ timeout: 20_000 });
        await page.keyboard.press('F2');
        await page.locator('#ret-scan:focus').waitFor();
        // A scheme product: accepted.
        await page.keyboard.type(gtin);
        await page.keyboard.press('Enter');
        await page.locator('#scan-flash.accepted').waitFor();
        // A foreign barcode: refused, and the words say what it is.
        await page.keyboard.type('4006381333931');
        await page.keyboard.press('Enter');
        await page.locator('#scan-flash.refused').waitFor();
        expect(await text(page, '#scan-flash')).to.contain(lang === 'zh' ? '商品条码 4006381333931' : 'Product barcode 4006381333931');
        await waitFor('two rows', async () => (await page.locator('#ret-items tbody tr').count()) === 2);
        // A unit code cut short by a bad read: misread, no row.
        const cut = unitCode(GLYPHOSATE).slice(0, 27);
        await page.keyboard.type(cut);
        await page.keyboard.press('Enter');
        await page.locator('#scan-flash.misread').waitFor();
        expect(await text(page, '#scan-flash')).to.contain(lang === 'zh' ? '读码不全，请重扫' : 'Misread — scan again');
        await shot(page, `return-misread-${lang}`);
        expect(await page.locator('#ret-items tbody tr').count()).to.equal(2);
        const heard = await tones(page);
        expect(heard.map((x) => x.kind)).to.deep.equal(['accepted', 'refused', 'misread']);
        // Distinct tones: the three outcomes never sound alike.
        expect(new Set(heard.map((x) => x.freqs.join('+'))).size).to.equal(3);
        // Delete on the focused row removes it; focus stays in the table, then on the scan field.
        await page.locator('#ret-items select.dec').nth(1).focus();
        await page.keyboard.press('Delete');
        await waitFor('one row', async () => (await page.locator('#ret-items tbody tr').count()) === 1);
        expect(await page.evaluate(() => document.activeElement?.matches('#ret-items select.dec'))).to.equal(true);
        await page.keyboard.press('Delete');
        await waitFor('no row', async () => (await page.locator('#ret-items tbody tr').count()) === 0);
        expect(await page.evaluate(() => document.activeElement?.id)).to.equal('ret-scan');
        await page.close();
      });

      it('a misread on the bags screen never enters the bag', async () => {
        const page = await open(lang);
        await page.locator('#sale-phone:focus').waitFor({ timeout: 20_000 });
        await page.keyboard.press('F3');
        await page.locator('#bag-scan:focus').waitFor();
        await page.locator('#bag-material').selectOption('HDPE');
        expect(await page.locator('#bag-material option:checked').textContent()).to.equal(lang === 'zh' ? '高密度聚乙烯 HDPE' : 'HDPE plastic');
        await page.locator('#bag-seal').fill(`J-${lang}-1`);
        await page.locator('#bag-open').click();
        await waitFor('the bag opened', async () => (await text(page, '#bag-list')).includes(`J-${lang}-1`));
        expect(await text(page, '#bag-list')).to.contain(lang === 'zh' ? '高密度聚乙烯 HDPE' : 'HDPE plastic');
        const before = term.journal.all().length;
        await scan(page, '#bag-scan', unitCode(GLYPHOSATE).slice(0, 31));
        await page.locator('#bag-msg.err small.code').waitFor();
        expect(await text(page, '#bag-msg')).to.contain(lang === 'zh' ? '读码不全，请重扫' : 'Misread — scan again');
        expect(await text(page, '#bag-msg small.code')).to.contain('MISREAD');
        await page.locator('#scan-flash.misread').waitFor();
        await shot(page, `bags-misread-${lang}`);
        expect(term.journal.all().length, 'nothing journaled for the misread').to.equal(before);
        expect(term.bags.bags().find((b) => b.sealNo === `J-${lang}-1`)!.quantity).to.equal(0);
        await page.close();
      });

      it('a sale prints its pack size, refund-by date and receipt-number QR; that QR on the return screen opens the sale and lists what can come back', async () => {
        const page = await open(lang);
        await page.locator('#sale-phone:focus').waitFor({ timeout: 20_000 });
        await page.keyboard.type(lang === 'zh' ? '17460001401' : '17460001402');
        await page.keyboard.press('Enter');
        await page.locator('#sale-name:focus').waitFor();
        await page.keyboard.type('扫码农户');
        await page.keyboard.press('Enter');
        const codes = [unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)];
        for (const c of codes) {
          await page.keyboard.type(c);
          await page.keyboard.press('Enter');
        }
        const pack = term.reference()!.product(GLYPHOSATE.id)!.packSizeLabel;
        await waitFor('two coded containers', async () => (await text(page, '#sale-total')) === '¥2.00');
        expect(await text(page, '#sale-lines tbody')).to.contain(pack);
        const printedBefore = printer.jobs.length;
        await page.keyboard.press('Control+Enter');
        await waitFor('the sale confirmed', async () => (await text(page, '#sale-msg.ok')).includes('¥2.00'));
        const receiptNo = term.journal.all().filter((e) => e.record.kind === 'sale').at(-1)!.record.local.receiptNo as string;
        await waitFor('the receipt printed', () => printer.jobs.length > printedBefore);
        const bytes = printer.jobs.at(-1)!;
        const receipt = printedLines(parseEscPos(bytes)).map((l) => l.text).join('\n');
        // The last county day of the deposit: the sale's instant plus the county's validity, as a county date.
        const saleRec = term.journal.all().filter((e) => e.record.kind === 'sale').at(-1)!.record;
        const validity = Number((await t.db.knex('counties').where({ id: COUNTY }).first()).deposit_validity_days);
        const until = businessDay(new Date(Date.parse(saleRec.eventTime) + validity * 86_400_000), term.reference()!.timeZone);
        expect(receipt).to.contain(pack).and.to.contain(`押金可退至 Refundable until: ${until}`);
        const qr = parseEscPos(bytes).find((c) => c.op === 'qr_store') as { data: Buffer } | undefined;
        // The QR is the public check page of the receipt on the server the terminal is enrolled with.
        const checkUrl = `${term.state()!.serverUrl}/check/${COUNTY}?q=${receiptNo}`;
        expect(qr?.data.toString('utf8')).to.equal(checkUrl);
        // The last confirmation does not linger into the next transaction.
        await page.keyboard.press('F2');
        await page.keyboard.press('F1');
        await page.locator('#sale-phone:focus').waitFor();
        expect(await text(page, '#sale-msg')).to.equal('');
        expect(await page.locator('#sale-result').isHidden()).to.equal(true);
        // The farmer hands over the receipt: its QR (the check URL) opens the sale on the return screen.
        await page.keyboard.press('F2');
        await page.locator('#ret-scan:focus').waitFor();
        await page.keyboard.type(checkUrl);
        await page.keyboard.press('Enter');
        await page.locator('#ret-sale').waitFor({ state: 'visible' });
        await page.locator('#scan-flash.receipt').waitFor();
        expect(await text(page, '#ret-sale-title')).to.contain(receiptNo);
        expect(await text(page, '#ret-sale-lines')).to.contain(codes[0]!.slice(-6)).and.to.contain(codes[1]!.slice(-6));
        await shot(page, `return-receipt-qr-${lang}`);
        await page.locator('#ret-sale-add:focus').waitFor();
        await page.keyboard.press('Enter');
        await waitFor('both containers on the return', async () => (await text(page, '#ret-total')) === '¥2.00');
        await page.keyboard.press('Control+Enter');
        await waitFor('the refund confirmed', async () => (await text(page, '#ret-msg.ok')).includes('¥2.00'));
        await page.close();
      });

      it('a receipt printed at another shop of the county opens through the county server', async () => {
        const codes = [unitCode(GLYPHOSATE)];
        const receiptNo = `XS20261130-B0B0-00${lang === 'zh' ? '01' : '02'}`;
        const sold = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await t.token('admin'))
          .send({ id: newClientId(), shopId: SHOP_B, receiptNo, eventTime: t.clock.now().toISOString(), purchaser: { phone: '17460001431', name: '邻店农户' }, lines: [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: codes }] });
        expect(sold.status, JSON.stringify(sold.body)).to.equal(201);
        const page = await open(lang);
        await page.locator('#sale-phone:focus').waitFor({ timeout: 20_000 });
        await page.keyboard.press('F2');
        await page.locator('#ret-scan:focus').waitFor();
        await page.keyboard.type(`AGRIRETURN:SALE:${receiptNo}`);
        await page.keyboard.press('Enter');
        await page.locator('#ret-sale').waitFor({ state: 'visible' });
        const shopB = (await t.db.knex('shops').where({ county_id: COUNTY, id: SHOP_B }).first()).name as string;
        expect(await text(page, '#ret-sale-title')).to.contain(receiptNo).and.to.contain(shopB);
        expect(await text(page, '#ret-sale-lines')).to.contain(codes[0]!.slice(-6));
        await page.locator('#ret-sale-add:focus').waitFor();
        await page.keyboard.press('Enter');
        // One coded container and one counted: both on the return.
        await waitFor('two rows', async () => (await page.locator('#ret-items tbody tr').count()) === 2);
        await shot(page, `return-other-shop-receipt-${lang}`);
        // An unknown receipt number says so in plain words.
        await page.keyboard.type('AGRIRETURN:SALE:XS20261130-FFFF-0999');
        await page.keyboard.press('Enter');
        await page.locator('#ret-msg.err small.code').waitFor();
        expect(await text(page, '#ret-msg small.code')).to.contain('RECEIPT_NOT_FOUND');
        expect(await text(page, '#ret-msg')).to.contain(lang === 'zh' ? '找不到这张销售小票' : 'sale receipt was not found');
        await page.close();
      });

      it('printer off: the header says so, the failed receipt shows at the counter; retry after it is back prints it; handwritten is recorded; records show no stale code', async () => {
        const page = await open(lang);
        await page.locator('#sale-phone:focus').waitFor({ timeout: 20_000 });
        await printer.off();
        const sell = async (phone: string) => {
          await page.locator('#sale-phone').focus();
          await page.keyboard.type(phone);
          await page.keyboard.press('Enter');
          // A phone nobody has used yet (one per language): once the lookup answers, focus moves to the name.
          await page.locator('#sale-name:focus').waitFor();
          await page.keyboard.type('打印农户');
          await page.locator('#sale-scan').focus();
          await page.keyboard.type(gtin);
          await page.keyboard.press('Enter');
          await waitFor('a line', async () => (await text(page, '#sale-total')) === '¥1.00');
          await page.keyboard.press('Control+Enter');
          await waitFor('the sale confirmed', async () => (await text(page, '#sale-msg.ok')).includes('¥1.00'));
        };
        await sell(lang === 'zh' ? '17460001421' : '17460001423');
        await page.locator('#print-fail').waitFor({ state: 'visible', timeout: 30_000 });
        expect(await text(page, '#print-fail-text')).to.contain(lang === 'zh' ? '连不上打印机' : 'printer cannot be reached');
        expect(await text(page, '#print-fail-code')).to.equal('PRINTER_UNREACHABLE');
        await waitFor('the header shows the printer off', async () => (await page.locator('#printer').getAttribute('data-state')) === 'off');
        expect(await text(page, '#printer')).to.equal(lang === 'zh' ? '打印机未连接' : 'Printer not reachable');
        await shot(page, `printer-off-${lang}`);
        const jobId = await page.locator('#print-fail').getAttribute('data-job');
        // The printer comes back: retry prints the waiting receipt now.
        await printer.on();
        const before = printer.jobs.length;
        await page.locator('#print-retry').click();
        await waitFor('the receipt printed', () => printer.jobs.length > before, 30_000);
        await page.locator('#print-fail').waitFor({ state: 'hidden' });
        await waitFor('the header shows the printer ready', async () => (await page.locator('#printer').getAttribute('data-state')) === 'ok');
        expect(term.printer!.get(jobId!)!.state).to.equal('printed');
        // Records: printed, without the old code.
        await page.keyboard.press('F5');
        await waitFor('the job listed', async () => (await page.locator(`#jobs tr[data-job="${jobId}"]`).count()) === 1);
        const row = await text(page, `#jobs tr[data-job="${jobId}"] .jstate`);
        expect(row).to.equal(lang === 'zh' ? '已打印' : 'printed');
        expect(await text(page, '#jobs')).to.not.contain('PRINTER_UNREACHABLE');
        // Off again, and the farmer cannot wait: a handwritten receipt is given and recorded.
        await printer.off();
        await page.keyboard.press('F1');
        await sell(lang === 'zh' ? '17460001422' : '17460001424');
        await page.locator('#print-fail').waitFor({ state: 'visible', timeout: 30_000 });
        const second = await page.locator('#print-fail').getAttribute('data-job');
        await page.locator('#print-hand').click();
        await page.locator('#print-fail').waitFor({ state: 'hidden' });
        expect(await text(page, '#sale-msg')).to.contain(lang === 'zh' ? '手写收据' : 'handwritten receipt');
        expect(term.printer!.get(second!)!.state).to.equal('handwritten');
        expect(term.printer!.get(second!)!.handwrittenAt).to.be.a('string');
        await printer.on();
        await page.close();
      });

      it('day end by keyboard alone: F4 lands focus, Enter walks the fields, the report confirms, the next screen starts clean', async () => {
        const page = await open(lang);
        await page.locator('#sale-phone:focus').waitFor({ timeout: 20_000 });
        await page.keyboard.press('F4');
        await page.locator('#de-float:focus').waitFor();
        await page.keyboard.type('200');
        await page.keyboard.press('Enter');
        await page.locator('#de-clerk:focus').waitFor();
        await page.keyboard.type(lang === 'zh' ? '王收银' : 'Wang');
        await page.keyboard.press('Enter');
        await page.locator('#de-confirm:focus').waitFor();
        const before = printer.jobs.length;
        await page.keyboard.press('Enter');
        await waitFor('the day end confirmed', async () => (await text(page, '#de-msg.ok')).length > 0);
        await shot(page, `day-end-${lang}`);
        expect(await page.evaluate(() => document.activeElement?.id)).to.equal('de-confirm');
        await waitFor('the day end printed', () => printer.jobs.length > before, 30_000);
        const report = printer.texts().at(-1)!;
        expect(report).to.contain(lang === 'zh' ? '王收银' : 'Wang');
        // Back on the day end screen later: the last report's confirmation is gone.
        await page.keyboard.press('F1');
        await page.keyboard.press('F4');
        await page.locator('#de-float:focus').waitFor();
        expect(await text(page, '#de-msg')).to.equal('');
        expect(await page.locator('#de-result').isHidden()).to.equal(true);
        await page.close();
      });

      it('pays an approved held refund at the counter; after a lost answer the same payout is sent again and paid once; the receipt prints', async () => {
        const phone = lang === 'zh' ? '17460001411' : '17460001412';
        // A code nobody sold, returned at a shop: its refund is held, then the county approves it.
        const clerk = await t.token('clerk.qingcheng');
        const code = unitCode(GLYPHOSATE);
        const ret = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', clerk)
          .send({ id: newClientId(), shopId: SHOP_A, eventTime: t.clock.now().toISOString(), returner: { phone, name: '待审农户' }, items: [{ scan: code, inspection: 'accepted' }] });
        expect(ret.status, JSON.stringify(ret.body)).to.equal(201);
        const heldRefundId = ret.body.items[0].heldRefund.heldRefundId as string;
        const amount = ret.body.items[0].heldRefund.amountFen as number;
        const ok = await t.api().post(`/api/v1/counties/${COUNTY}/held-refunds/${heldRefundId}/decision`).set('Authorization', await t.token('qingshen.official')).send({ id: newClientId(), decision: 'approve' });
        expect(ok.status, JSON.stringify(ok.body)).to.equal(201);

        const page = await open(lang);
        await page.locator('#sale-phone:focus').waitFor({ timeout: 20_000 });
        await page.keyboard.press('F6');
        await page.locator('#held-phone:focus').waitFor();
        await page.keyboard.type(phone);
        await page.keyboard.press('Enter');
        await waitFor('the approved refund listed', async () => (await page.locator('#held-items tbody tr').count()) === 1);
        expect(await text(page, '#held-items')).to.contain(code.slice(-8));
        expect(await text(page, '#held-total')).to.equal(`¥${(amount / 100).toFixed(2)}`);
        await page.locator('#held-pay:focus').waitFor();
        await shot(page, `held-refund-${lang}`);
        // The answer is lost after the server paid: the clerk is told the line is down.
        dropNextPayoutAnswer = true;
        const printed = printer.jobs.length;
        await page.keyboard.press('Control+Enter');
        await page.locator('#held-msg.err').waitFor();
        expect(await text(page, '#held-msg small.code')).to.contain('OFFLINE');
        const first = await t.db.knex('held_refund_payouts').where({ county_id: COUNTY, held_refund_id: heldRefundId });
        expect(first).to.have.length(1);
        // Again: the same client id, so the server answers with the payout it stored; it prints once.
        await page.keyboard.press('Control+Enter');
        await waitFor('the payout confirmed', async () => (await text(page, '#held-msg.ok')).length > 0);
        expect(await text(page, '#held-msg')).to.contain(`¥${(amount / 100).toFixed(2)}`);
        const rows = await t.db.knex('held_refund_payouts').where({ county_id: COUNTY, held_refund_id: heldRefundId });
        expect(rows).to.have.length(1);
        expect(rows[0].id).to.equal(first[0].id);
        expect(rows[0].shop_id).to.equal(SHOP_A);
        expect((await t.db.knex('held_refunds').where({ county_id: COUNTY, id: heldRefundId }).first()).state).to.equal('paid');
        await waitFor('the payout receipt printed', () => printer.jobs.length > printed, 30_000);
        const receipt = printer.texts().at(-1)!;
        expect(receipt).to.contain(code.slice(-6)).and.to.contain('现金 cash');
        expect(printer.jobs.length - printed, 'one receipt').to.equal(1);
        // The cash left this till: the day end counts it among the cash refunds.
        const paid = term.heldPayouts.list().find((p) => p.heldRefundId === heldRefundId)!;
        expect(paid.state).to.equal('paid');
        const fig = term.counter.drawerFigures(paid.businessDay);
        expect(fig.refundsPaidCashFen).to.be.at.least(amount);
        // Nothing left to pay for this phone.
        await page.keyboard.type(phone);
        await page.keyboard.press('Enter');
        await page.locator('#held-msg.err').waitFor();
        expect(await text(page, '#held-msg')).to.contain(lang === 'zh' ? '没有县里已批准' : 'no county-approved refund');
        await page.close();
      });
    });
  }
});
