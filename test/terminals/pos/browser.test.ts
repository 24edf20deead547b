// A clerk at the counter, by keyboard only, in headless Chromium: a sale and a return; the receipts
// reach a loopback TCP "printer" as ESC/POS with GB18030 text; the county server has both records.
import { expect } from 'chai';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type Browser } from 'playwright-core';
import { launchChromium, skipWithoutChromium } from '../../support/browser.js';
import { useTestApp } from '../../support/harness.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import { parseEscPos, printedLines } from '../../../terminals/printing/index.js';
import { COUNTY, GLYPHOSATE } from '../../features/ledger/ledger-fixtures.js';
import { encodeKeyboardScan } from '../../../terminals/hid/keyboard-encoder.js';
import { formatReplayFile, parseReplayFile } from '../../../terminals/hid/replay-file.js';
import { enrolmentCode, openGate, tempDir, terminalConfig, waitFor, type Gate } from './pos-support.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts');

describe('terminal UI in a browser', function () {
  this.timeout(120_000);
  const t = useTestApp();
  let gate: Gate;
  let printer: net.Server;
  const jobs: Buffer[] = [];
  let term: RunningTerminal;
  let browser: Browser | null = null;
  const dir = tempDir('pos-ui');

  before(async function () {
    skipWithoutChromium(this, 'the terminal browser test');
    t.clock.set(new Date(Date.now() + 3600_000).toISOString());
    gate = await openGate(t);
    printer = net.createServer((sock) => {
      const chunks: Buffer[] = [];
      sock.on('data', (d) => chunks.push(d));
      sock.on('end', () => {
        jobs.push(Buffer.concat(chunks));
        sock.end();
      });
    });
    await new Promise<void>((r) => printer.listen(0, '127.0.0.1', () => r()));
    const port = (printer.address() as net.AddressInfo).port;
    term = await startTerminal(terminalConfig(gate.url, dir, { PRINTER: `127.0.0.1:${port}`, PRINTER_WIDTH: '58' }));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await term?.stop();
    await gate?.close();
    printer?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('enrols, sells and takes a return by keyboard; receipts print; the server has both records', async () => {
    const page = await browser!.newPage({ viewport: { width: 1366, height: 768 } });
    await page.goto(term.url);
    const { code } = await enrolmentCode(t);
    await page.locator('#enrol-code').focus();
    await page.keyboard.type(code);
    await page.keyboard.press('Enter');
    await page.locator('#sale-phone:focus').waitFor({ timeout: 20_000 });
    await waitFor('reference data', () => term.reference());
    const gtin = term.reference()!.snapshot.products.find((p) => p.id === GLYPHOSATE.id)!.gtin!;

    // Sale: phone → Enter → name (new farmer) → Enter → scan → Enter; quantity 3; Ctrl+Enter.
    await page.keyboard.type('174 6000 0960');
    await page.keyboard.press('Enter');
    await page.locator('#sale-name:focus').waitFor();
    await page.keyboard.type('键盘农户');
    await page.keyboard.press('Enter');
    await page.locator('#sale-scan:focus').waitFor();
    for (let i = 0; i < 3; i++) {
      await page.keyboard.type(gtin);
      await page.keyboard.press('Enter');
    }
    await waitFor('the total of three containers', async () => (await page.locator('#sale-total').textContent()) === '¥3.00');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'terminal-sale.png') });
    await page.keyboard.press('Control+Enter');
    await waitFor('the sale confirmed', async () => (await page.locator('#sale-msg.ok').textContent())?.includes('已确认'));

    // Return: F2, the farmer's phone, scan two containers, reject the second as not rinsed, pay.
    await page.keyboard.press('F2');
    await page.locator('#ret-scan:focus').waitFor();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.type('17460000960');
    await page.keyboard.press('Enter');
    await page.locator('#ret-scan:focus').waitFor();
    await page.keyboard.type(gtin);
    await page.keyboard.press('Enter');
    await page.keyboard.type(gtin);
    await page.keyboard.press('Enter');
    await waitFor('two items', async () => (await page.locator('#ret-items select.dec').count()) === 2);
    await page.locator('#ret-items select.dec').nth(1).focus();
    await page.keyboard.press('ArrowDown'); // accepted → not rinsed
    await page.locator('#ret-scan').focus();
    await waitFor('the refund of one container', async () => (await page.locator('#ret-total').textContent()) === '¥1.00');
    await page.keyboard.press('Control+Enter');
    await waitFor('the refund confirmed', async () => (await page.locator('#ret-msg.ok').textContent())?.includes('¥1.00'));
    await page.screenshot({ path: path.join(ARTIFACTS, 'terminal-return.png') });

    // Both receipts arrive at the printer as ESC/POS with Chinese text and a QR code.
    await waitFor('two receipts printed', () => jobs.length >= 2, 30_000);
    const [saleText, returnText] = jobs.map((b) => printedLines(parseEscPos(b)).map((l) => l.text).join('\n'));
    expect(saleText).to.contain('押金合计').and.to.contain('￥3.00');
    expect(returnText).to.contain('退款合计').and.to.contain('￥1.00').and.to.contain('未清洗');
    const qr = parseEscPos(jobs[0]!).find((c) => c.op === 'qr_store') as { data: Buffer } | undefined;
    expect(qr?.data.toString('utf8')).to.match(/^http:\/\/127\.0\.0\.1:\d+\/check\/511425\?q=XS[0-9]{8}-T[0-9]{3,}-0001$/); // the public check page of the receipt
    expect(parseEscPos(jobs[0]!).some((c) => c.op === 'cut')).to.equal(true);

    // And the county server has them, once.
    await waitFor('synced', () => term.journal.counts().synced === 2, 30_000);
    const sales = await t.db.knex('sales').where({ county_id: COUNTY }).whereIn('id', term.journal.all().map((e) => e.record.id)).count({ n: '*' }).first();
    const returns = await t.db.knex('returns').where({ county_id: COUNTY }).whereIn('id', term.journal.all().map((e) => e.record.id)).select('total_refund_fen');
    expect(Number(sales!.n)).to.equal(1);
    expect(returns.map((r: { total_refund_fen: number }) => Number(r.total_refund_fen))).to.deep.equal([100]);
    await page.close();
  });

  it('shows device events on the return screen, in order, then bags, seals and labels the containers on the bags screen', async () => {
    const page = await browser!.newPage({ viewport: { width: 1366, height: 768 } });
    await page.goto(term.url);
    await page.locator('#sale-phone:focus').waitFor({ timeout: 20_000 });
    await page.keyboard.press('F2');
    await page.locator('#ret-scan:focus').waitFor();
    await waitFor('the terminal to know the return screen is up', () => term.bridge.view().screen === 'return');
    // A scanner (replayed reports) reads the product's barcode, then a unit code with a digit lost.
    const gtin = term.reference()!.snapshot.products.find((p) => p.id === GLYPHOSATE.id)!.gtin!;
    const kb = { key: 'scanner-kb', kind: 'keyboard' as const };
    const reports = [...encodeKeyboardScan(gtin), ...encodeKeyboardScan('1070128121012345678901234567890')];
    await term.devices.replay(parseReplayFile(formatReplayFile({ recorded_at: new Date().toISOString(), devices: [kb], records: reports.map((bytes, i) => ({ t_ms: i * 8, device: kb.key, bytes })) })), { speed: 1 });
    await page.locator('#ret-items tr.device').waitFor();
    await page.locator('#dev-notices p.error').waitFor();
    const seen = await page.evaluate(() => (window as unknown as { __deviceNotices: Array<{ seq: number; type: string; at_ms: number; shown_ms: number }> }).__deviceNotices);
    // Each event once, in the order the scanner sent them (how fast: `npm run bench`, section devices).
    expect(seen.map((n) => n.type)).to.deep.equal(['scan', 'misread']);
    expect(seen[1]!.seq).to.equal(seen[0]!.seq + 1);
    expect(seen[1]!.at_ms - seen[0]!.at_ms, 'stamped with the recording: the second scan ends 8 ms × its reports after the first').to.equal(8 * (encodeKeyboardScan('1070128121012345678901234567890').length));
    expect(await page.locator('#ret-items tr.device').count()).to.equal(1);
    await waitFor('the refund of the device-counted container', async () => (await page.locator('#ret-total').textContent()) === '¥1.00');
    await page.keyboard.press('Control+Enter');
    await waitFor('the refund confirmed', async () => (await page.locator('#ret-msg.ok').textContent())?.includes('¥1.00'));

    // Bags: F3, open an HDPE bag with its seal number, put in the return's containers, seal with a weight.
    await page.keyboard.press('F3');
    await page.locator('#bag-scan:focus').waitFor();
    await page.locator('#bag-seal').fill('UI-SEAL-0001');
    await page.locator('#bag-open').click();
    await waitFor('the bag opened', async () => (await page.locator('#bag-list').textContent())?.includes('UI-SEAL-0001'));
    await waitFor('returns to choose from', async () => (await page.locator('#bag-return option').count()) > 1);
    await page.locator('#bag-return').selectOption({ index: 1 });
    await page.locator('#bag-add-return').click();
    await waitFor('the container in the bag', async () => (await page.locator('#bag-msg.ok').textContent())?.includes('已装袋'));
    await page.locator('#bag-weight-g').fill('60');
    await page.locator('#bag-seal-go').click();
    await waitFor('the bag sealed', async () => (await page.locator('#bag-list').textContent())?.includes('已封口'));
    await page.screenshot({ path: path.join(ARTIFACTS, 'terminal-bags.png') });
    await waitFor('the bag label printed', () => jobs.some((b) => (parseEscPos(b).find((c) => c.op === 'qr_store') as { data: Buffer } | undefined)?.data.toString('utf8') === 'AGRIRETURN:BAG:UI-SEAL-0001'), 30_000);
    await waitFor('the sealed bag on the server', async () => (await t.db.knex('custody_bags').where({ county_id: COUNTY, seal_no: 'UI-SEAL-0001', state: 'sealed' }).first()) ?? null, 30_000);
    await page.close();
  });
});
