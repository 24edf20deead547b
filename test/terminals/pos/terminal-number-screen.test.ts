// The clerk's screen shows the terminal's own number (T007), as officials see it in the terminal list:
// in the status the header is drawn from (both languages' header text come from it), and on the
// day-end drawer report's paper.
import { expect } from 'chai';
import fs from 'node:fs';
import { useTestApp } from '../../support/harness.js';
import { launchChromium, skipWithoutChromium } from '../../support/browser.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import { COUNTY } from '../../features/ledger/ledger-fixtures.js';
import { enrolmentCode, openGate, tempDir, terminalConfig, waitFor, type Gate } from './pos-support.js';

describe('terminal screen: its own number', function () {
  this.timeout(120_000);
  const t = useTestApp();
  let gate: Gate;
  let term: RunningTerminal;
  const dir = tempDir('pos-terminal-no');

  before(async () => {
    gate = await openGate(t);
    term = await startTerminal(terminalConfig(gate.url, dir, {}), { now: () => t.clock.now() });
    await term.enrol((await enrolmentCode(t)).code);
    await waitFor('reference data', () => term.reference()?.snapshot.terminal);
  });
  after(async () => {
    await term?.stop();
    await gate?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the status (header) and the drawer report carry T<number> as the terminal list shows it', async () => {
    const no = Number((await t.db.knex('terminals').where({ county_id: COUNTY, id: term.state()!.terminalId }).first('terminal_no')).terminal_no);
    const tag = `T${String(no).padStart(3, '0')}`;
    const status = (await (await fetch(`${term.url}/local/status`)).json()) as { enrolment: { terminalNo: number; terminalTag: string } };
    expect(status.enrolment).to.include({ terminalNo: no, terminalTag: tag });
    const html = await (await fetch(`${term.url}/`)).text();
    expect(html).to.contain('id="terminal-no"');
    const js = await (await fetch(`${term.url}/app.js`)).text();
    expect(js).to.contain("terminal: '终端'").and.to.contain("terminal: 'Terminal'").and.to.contain('status.enrolment.terminalTag');
    const report = await term.counter.drawerReport({});
    expect(report.preview.join('\n')).to.contain(`终端 Terminal: ${tag}`);

  });

  it('the header shows it, in Chinese and in English (headless Chromium)', async function () {
    skipWithoutChromium(this, 'the terminal number header test');
    const tag = `T${String(Number((await t.db.knex('terminals').where({ county_id: COUNTY, id: term.state()!.terminalId }).first('terminal_no')).terminal_no)).padStart(3, '0')}`;
    const browser = await launchChromium();
    try {
      for (const [lang, text] of [['zh', `终端 ${tag}`], ['en', `Terminal ${tag}`]] as const) {
        const page = await browser.newPage();
        await page.addInitScript((l) => localStorage.setItem('lang', l), lang);
        await page.goto(term.url);
        await waitFor(`the header in ${lang}`, async () => (await page.locator('#terminal-no').textContent()) === text);
        expect(await page.locator('#terminal-no').isVisible()).to.equal(true);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });
});
