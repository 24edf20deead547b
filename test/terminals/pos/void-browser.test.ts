// A clerk voids at the counter, by keyboard only, in headless Chromium: in Chinese, a sale rung with the
// wrong quantity is voided at once with F8 (the last receipt) and rung again; the same F8 again says it
// was voided already; in English, a return is voided from the Records screen (F5). The confirmation shows
// what is undone; the void slips reach a loopback TCP printer as ESC/POS; the day end shows the voids on
// their own lines; the county server has each void once and its ledger checks clean.
import { expect } from 'chai';
import fs from 'node:fs';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium, skipWithoutChromium } from '../../support/browser.js';
import { useTestApp } from '../../support/harness.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import { parseEscPos, printedLines } from '../../../terminals/printing/index.js';
import { COUNTY, GLYPHOSATE, SHOP_A, expectLedgerClean } from '../../features/ledger/ledger-fixtures.js';
import { LoopbackPrinter } from '../printing/support/loopback-printer.js';
import { enrolmentCode, openGate, tempDir, terminalConfig, waitFor, type Gate } from './pos-support.js';

const text = (bytes: Buffer) => printedLines(parseEscPos(bytes)).map((l) => l.text).join('\n');

describe('terminal UI in a browser: voiding a sale and a return by keyboard, in Chinese and English', function () {
  this.timeout(180_000);
  let gate: Gate;
  let printer: LoopbackPrinter;
  let term: RunningTerminal;
  let browser: Browser | null = null;
  const dir = tempDir('pos-void-ui');
  // Registered before the app's own hooks, so the terminal stops before the database closes.
  after(async () => {
    await browser?.close();
    await term?.stop();
    await printer?.stop();
    await gate?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });

  before(async function () {
    skipWithoutChromium(this, 'the terminal void browser test');
    gate = await openGate(t);
    printer = await LoopbackPrinter.start();
    term = await startTerminal(terminalConfig(gate.url, dir, { PRINTER: `127.0.0.1:${printer.port}`, PRINTER_WIDTH: '58' }), { now: () => t.clock.now(), answerWaitMs: 0 });
    await term.enrol((await enrolmentCode(t, SHOP_A)).code);
    await waitFor('reference data', () => term.reference());
    browser = await launchChromium();
  });

  const slips = () => printer.jobs().map(text).filter((s) => s.includes('作废'));

  async function key(page: Page, ...keys: string[]) {
    for (const k of keys) await page.keyboard.press(k);
  }

  it('voids the last sale with F8 (zh), refuses the second F8, rings it again; voids a return from Records (en); the day end and the server agree', async () => {
    const page = await browser!.newPage({ viewport: { width: 1366, height: 768 } });
    await page.goto(term.url);
    await page.locator('#sale-phone:focus').waitFor({ timeout: 20_000 });
    const gtin = term.reference()!.snapshot.products.find((p) => p.id === GLYPHOSATE.id)!.gtin!;

    // A sale of three containers — the farmer bought two.
    await page.keyboard.type('17460003900');
    await key(page, 'Enter');
    await page.locator('#sale-name:focus').waitFor();
    await page.keyboard.type('作废键盘农户');
    await key(page, 'Enter');
    await page.locator('#sale-scan:focus').waitFor();
    for (let i = 0; i < 3; i++) {
      await page.keyboard.type(gtin);
      await key(page, 'Enter');
    }
    await waitFor('three containers', async () => (await page.locator('#sale-total').textContent()) === '¥3.00');
    await key(page, 'Control+Enter');
    await waitFor('the sale confirmed', async () => (await page.locator('#sale-msg.ok').textContent())?.includes('已确认'));
    const sale = term.journal.all().find((e) => e.record.kind === 'sale')!;
    const saleNo = String(sale.record.local.receiptNo);

    // F8: the confirmation says what is undone, in Chinese; a reason by arrow key; Enter, Enter.
    t.clock.advance(60_000);
    await key(page, 'F8');
    await page.locator('#void-reason:focus').waitFor();
    expect(await page.locator('#void-title').textContent()).to.equal(`作废销售 ${saleNo}`);
    expect(await page.locator('#void-summary').textContent()).to.equal('将撤销：包装 3 个，押金 ¥3.00。请从钱箱取出 ¥3.00 现金退还购买人。');
    expect(await page.locator('#void-lines tbody tr').count()).to.equal(1);
    await key(page, 'Enter'); // no reason yet: stays
    await page.locator('#void-reason:focus').waitFor();
    await key(page, 'ArrowDown', 'Enter');
    await page.locator('#void-confirm:focus').waitFor();
    await key(page, 'Enter');
    await waitFor('the void confirmed', async () => (await page.locator('#void-msg.ok').textContent())?.includes('已作废'));
    const voids = () => term.journal.all().filter((e) => e.record.kind === 'reversal');
    expect(voids()).to.have.length(1);
    expect(voids()[0]!.record.payload).to.deep.equal({ targetType: 'sale', targetId: sale.record.id, reason: 'wrong_quantity' });
    const voidNo = String(voids()[0]!.record.local.receiptNo);
    expect(await page.locator('#void-msg').textContent()).to.contain(voidNo);
    await waitFor('the void slip printed', () => slips().length === 1, 30_000);
    expect(slips()[0]).to.contain('作废销售').and.to.contain(saleNo).and.to.contain(voidNo).and.to.contain('数量错误');

    // Pressed again (Ctrl+Enter in the panel, then F8 anew): nothing more is written; F8 says why, in plain words.
    await key(page, 'Control+Enter');
    await key(page, 'F8');
    await waitFor('the refusal', async () => (await page.locator('#void-msg.err').textContent())?.includes('这张单据已经冲正过了'));
    expect(await page.locator('#void-msg small.code').textContent()).to.contain('ALREADY_REVERSED');
    expect(await page.locator('#void-confirm').isHidden()).to.equal(true);
    expect(voids()).to.have.length(1);
    await key(page, 'Escape');
    await page.locator('#void-panel').waitFor({ state: 'hidden' });

    // Rung again with two: the known farmer, F1.
    t.clock.advance(60_000);
    await key(page, 'F1');
    await page.locator('#sale-phone:focus').waitFor();
    await page.keyboard.type('17460003900');
    await key(page, 'Enter');
    await page.locator('#sale-scan:focus').waitFor();
    for (let i = 0; i < 2; i++) {
      await page.keyboard.type(gtin);
      await key(page, 'Enter');
    }
    await waitFor('two containers', async () => (await page.locator('#sale-total').textContent()) === '¥2.00');
    await key(page, 'Control+Enter');
    await waitFor('the sale confirmed', async () => (await page.locator('#sale-msg.ok').textContent())?.includes('已确认'));

    // English from here. A return of one container, then F5: the focus lands on its Void button.
    await page.locator('#lang').focus();
    await key(page, 'Enter');
    await waitFor('English', async () => (await page.locator('#lang').textContent()) === '中文');
    t.clock.advance(60_000);
    await key(page, 'F2');
    await page.locator('#ret-scan:focus').waitFor();
    await page.keyboard.type(gtin);
    await key(page, 'Enter');
    await waitFor('one item', async () => (await page.locator('#ret-items select.dec').count()) === 1);
    await waitFor('the refund of one container', async () => (await page.locator('#ret-total').textContent()) === '¥1.00');
    await key(page, 'Control+Enter');
    await waitFor('the refund confirmed', async () => (await page.locator('#ret-msg.ok').textContent())?.includes('¥1.00'));
    const ret = term.journal.all().find((e) => e.record.kind === 'return')!;
    const retNo = String(ret.record.local.receiptNo);

    t.clock.advance(60_000);
    await key(page, 'F5');
    await page.locator(`#recent button.void[data-id="${ret.record.id}"]:focus`).waitFor();
    // The voided sale is marked and offers no void.
    const voidedRow = page.locator(`#recent tr[data-id="${sale.record.id}"]`);
    expect(await voidedRow.getAttribute('class')).to.equal('voided');
    expect(await voidedRow.locator('button.void').count()).to.equal(0);
    expect(await voidedRow.textContent()).to.contain(`voided ${voidNo}`);
    await key(page, 'Enter');
    await page.locator('#void-reason:focus').waitFor();
    expect(await page.locator('#void-title').textContent()).to.equal(`Void return ${retNo}`);
    expect(await page.locator('#void-summary').textContent()).to.equal('This undoes 1 containers accepted, refund ¥1.00. Take ¥1.00 cash back from the farmer into the drawer; the containers go back to the farmer.');
    expect(await page.locator('#void-reason option:nth-child(2)').textContent()).to.equal('wrong quantity');
    await key(page, 'ArrowDown', 'ArrowDown', 'Enter', 'Enter');
    await waitFor('the void confirmed', async () => (await page.locator('#void-msg.ok').textContent())?.includes('Voided'));
    await waitFor('two void slips printed', () => slips().length === 2, 30_000);
    expect(slips()[1]).to.contain('作废退押').and.to.contain(retNo).and.to.contain('收回退款').and.to.contain('商品错误');
    expect(voids().map((e) => e.record.payload)).to.deep.equal([
      { targetType: 'sale', targetId: sale.record.id, reason: 'wrong_quantity' },
      { targetType: 'return', targetId: ret.record.id, reason: 'wrong_product' },
    ]);

    // Day end (F4): the voids on their own lines; the cash in the drawer is what stayed.
    await key(page, 'Escape');
    await key(page, 'F4');
    await page.locator('#de-float:focus').waitFor();
    await waitFor('the void lines', async () => (await page.locator('#de-figures tr[data-fig="voidsCount"] td').textContent()) === '2');
    expect(await page.locator('#de-figures tr[data-fig="voidsCount"] th').textContent()).to.equal('Voids');
    expect(await page.locator('#de-figures tr[data-fig="voidedSalesFen"] td').textContent()).to.equal('¥3.00');
    expect(await page.locator('#de-figures tr[data-fig="voidedReturnsFen"] td').textContent()).to.equal('¥1.00');
    // 3 − 3 (void) + 2 − 1 + 1 (void) = ¥2.00.
    expect(await page.locator('#de-figures tr[data-fig="netCashExpectedFen"] td').textContent()).to.equal('¥2.00');

    // The county server: every record once, each void applied once, the ledger clean.
    await waitFor('all synced', () => {
      term.worker.kick();
      return term.journal.counts().synced === term.journal.all().length;
    }, 60_000);
    for (const target of [sale.record.id, ret.record.id]) {
      expect(await t.db.knex('reversals').where({ county_id: COUNTY, target_id: target }).count({ n: '*' }).first().then((r) => Number(r!.n))).to.equal(1);
    }
    await expectLedgerClean(t);
    await page.close();
  });
});
