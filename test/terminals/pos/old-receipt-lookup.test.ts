// The return counter and an old-form receipt number (XS20261130-0001, or with the id tail
// XS20261130-3F2A-0001), which two terminals of a county may both have printed: the counter does not
// open its own journal's sale of that number without asking. Online the county server decides
// (RECEIPT_AMBIGUOUS wins over the local match); offline the clerk is told in plain words that the
// receipt may be another shop's and confirms, or scans the codes. A T-form number opens at once.
// Real county server, real journal, terminal A on an older server's snapshot (no terminal number).
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { useTestApp } from '../../support/harness.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import type { Snapshot } from '../../../terminals/pos/reference-cache.js';
import { CounterError, sharedReceiptNumber } from '../../../terminals/pos/counter.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { COUNTY, GLYPHOSATE, SHOP_A, SHOP_B } from '../../features/ledger/ledger-fixtures.js';
import { enrolmentCode, openGate, tempDir, terminalConfig, waitFor, type Gate } from './pos-support.js';

describe('return counter: an old-form receipt number another terminal may have printed', function () {
  this.timeout(120_000);
  const t = useTestApp();
  let gate: Gate;
  let term: RunningTerminal;
  const dir = tempDir('pos-old-receipt');
  const refusal = async (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as CounterError);

  before(async () => {
    gate = await openGate(t);
    term = await startTerminal(terminalConfig(gate.url, dir, {}), { now: () => t.clock.now() });
    await term.enrol((await enrolmentCode(t, SHOP_A)).code);
    await waitFor('reference data', () => term.reference());
  });
  after(async () => {
    await term?.stop();
    await gate?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('knows the old forms from the T form', () => {
    expect(sharedReceiptNumber('XS20261130-0001')).to.equal(true);
    expect(sharedReceiptNumber('XS20261130-3F2A-0001')).to.equal(true);
    expect(sharedReceiptNumber('XS20261130-T007-0001')).to.equal(false);
    expect(sharedReceiptNumber('0190a0b0-0000-7000-8000-000000000000')).to.equal(false);
  });

  it('offline: says the receipt may be another shop\'s and opens its own sale only when the clerk confirms; online: the server\'s RECEIPT_AMBIGUOUS wins', async () => {
    // An older server's snapshot (no terminal number), offline: the sale prints the old id-tail form.
    await term.stop();
    gate.down = true;
    const file = path.join(dir, 'reference.json');
    const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as { snapshot: Snapshot; fetchedAt: string };
    delete cached.snapshot.terminal;
    fs.writeFileSync(file, JSON.stringify(cached));
    term = await startTerminal(terminalConfig(gate.url, dir, {}), { now: () => t.clock.now() });
    const sale = await term.counter.sale({ purchaser: { phone: '17460002301', name: '旧票农户' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] });
    const no = sale.entry.record.local.receiptNo as string;
    expect(sharedReceiptNumber(no), no).to.equal(true);
    // Another shop's terminal printed the same number (it reached the server).
    const res = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await t.token('admin'))
      .send({ id: newClientId(), shopId: SHOP_B, receiptNo: no, eventTime: t.clock.now().toISOString(), purchaser: { phone: '17460002302', name: '别店农户' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);

    const offline = await refusal(term.counter.findSale(no));
    expect(offline).to.be.instanceOf(CounterError);
    expect(offline!.code).to.equal('RECEIPT_MAY_BE_OTHER_TERMINAL');
    expect(offline!.message).to.contain("another shop's terminal");
    expect(offline!.message_zh).to.contain('其他店的终端');
    // Through the terminal's own page, as the screen asks: refused, then opened with confirm=1.
    const page = await fetch(`${term.url}/local/sale-receipt?no=${no}`);
    expect(page.status).to.be.greaterThanOrEqual(400);
    expect(((await page.json()) as { error: { code: string } }).error.code).to.equal('RECEIPT_MAY_BE_OTHER_TERMINAL');
    const confirmed = await term.counter.findSale(no, { confirmOwn: true });
    expect(confirmed.saleId).to.equal(sale.entry.record.id);

    // Online: both sales are on the server; the number names no one sale, even confirmed.
    gate.down = false;
    await waitFor('the sale synced', async () => {
      term.worker.kick();
      return Number((await t.db.knex('sales').where({ county_id: COUNTY, receipt_no: no }).count({ n: '*' }).first())!.n) === 2;
    });
    for (const opts of [{}, { confirmOwn: true }]) {
      const online = await refusal(term.counter.findSale(no, opts));
      expect(online!.code).to.equal('RECEIPT_AMBIGUOUS');
    }
  });

  it('a T-form number of its own opens from the journal, offline too', async () => {
    await waitFor('a snapshot with the terminal number', () => {
      term.worker.kick();
      return Boolean(term.reference()?.snapshot.terminal);
    });
    const sale = await term.counter.sale({ purchaser: { phone: '17460002303', name: '新票农户' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] });
    const no = sale.entry.record.local.receiptNo as string;
    expect(no).to.match(/-T\d{3,}-\d{4}$/);
    gate.down = true;
    try {
      expect((await term.counter.findSale(no)).saleId).to.equal(sale.entry.record.id);
    } finally {
      gate.down = false;
    }
  });
});
