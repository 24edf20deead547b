// Receipts a farmer can use, against the real county server with two terminals of one county, each on a
// real loopback TCP printer (ESC/POS bytes as the paper gets them):
// - the sale receipt's QR opens the server's PUBLIC_URL check page even though the terminals reach the
//   server at another address (their SERVER_URL, here 127.0.0.1:<port>, as a shop LAN address would
//   be) — online, and offline from the cached snapshot; without PUBLIC_URL, the SERVER_URL one;
// - each terminal prints its own number of the county in its receipt numbers, so two terminals never
//   print the same number on the same day; a terminal whose server gave no number (an older server)
//   keeps the old form.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { useTestApp } from '../../support/harness.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import { parseEscPos, printedLines } from '../../../terminals/printing/index.js';
import type { Snapshot } from '../../../terminals/pos/reference-cache.js';
import { CounterError } from '../../../terminals/pos/counter.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { COUNTY, GLYPHOSATE, SHOP_A, SHOP_B } from '../../features/ledger/ledger-fixtures.js';
import { LoopbackPrinter } from '../printing/support/loopback-printer.js';
import { enrolmentCode, openGate, tempDir, terminalConfig, waitFor, type Gate } from './pos-support.js';

const PUBLIC = 'https://agrireturn.qingshen.gov.cn/qs';

describe('receipts: the QR names the server\'s public address, receipt numbers carry the terminal\'s number', function () {
  this.timeout(120_000);
  const t = useTestApp();
  let gate: Gate;
  const dirs: string[] = [];
  const printers: LoopbackPrinter[] = [];
  const running: RunningTerminal[] = [];
  let a: { term: RunningTerminal; printer: LoopbackPrinter; dir: string };
  let b: { term: RunningTerminal; printer: LoopbackPrinter; dir: string };
  let phone = 17460002100;

  async function start(dir: string, printer: LoopbackPrinter): Promise<RunningTerminal> {
    const term = await startTerminal(terminalConfig(gate.url, dir, { PRINTER: `127.0.0.1:${printer.port}`, PRINTER_WIDTH: '58' }), { now: () => t.clock.now() });
    running.push(term);
    return term;
  }

  async function enrolled(shopId: string) {
    const dir = tempDir('pos-receipt-no');
    dirs.push(dir);
    const printer = await LoopbackPrinter.start();
    printers.push(printer);
    const term = await start(dir, printer);
    await term.enrol((await enrolmentCode(t, shopId)).code);
    await waitFor('reference data', () => term.reference());
    return { term, printer, dir };
  }

  /** A sale at the counter; what its paper says: the receipt number and the QR payload, from the printed bytes. */
  async function sell(x: { term: RunningTerminal; printer: LoopbackPrinter }): Promise<{ receiptNo: string; qr: string }> {
    const before = x.printer.jobs().length;
    const r = await x.term.counter.sale({ purchaser: { phone: String(phone++), name: '编号农户' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] });
    const bytes = (await x.printer.waitForJobs(before + 1)).at(-1)!;
    const qr = parseEscPos(bytes).find((c) => c.op === 'qr_store') as { data: Buffer } | undefined;
    expect(qr, 'a QR code on the paper').to.not.equal(undefined);
    const receiptNo = r.entry.record.local.receiptNo as string;
    expect(printedLines(parseEscPos(bytes)).map((l) => l.text).join('\n'), 'the receipt number on the paper').to.contain(receiptNo);
    return { receiptNo, qr: qr!.data.toString('utf8') };
  }

  const terminalNo = async (id: string) => Number((await t.db.knex('terminals').where({ county_id: COUNTY, id }).first('terminal_no')).terminal_no);

  before(async () => {
    // The county server's public address differs from the one the terminals use (gate.url, 127.0.0.1).
    t.deps.config.publicUrl = PUBLIC;
    gate = await openGate(t);
    a = await enrolled(SHOP_A);
    b = await enrolled(SHOP_B);
  });
  after(async () => {
    t.deps.config.publicUrl = null;
    while (running.length) await running.pop()!.stop();
    for (const p of printers) await p.stop();
    await gate?.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('two terminals of one county have different numbers and print different receipt numbers on the same day, each with its own number', async () => {
    const [noA, noB] = [await terminalNo(a.term.state()!.terminalId), await terminalNo(b.term.state()!.terminalId)];
    expect(noA).to.not.equal(noB);
    expect(a.term.reference()!.snapshot.terminal).to.deep.equal({ id: a.term.state()!.terminalId, terminalNo: noA });
    const sa = await sell(a);
    const sb = await sell(b);
    const day = a.term.counter.today().replaceAll('-', '');
    expect(b.term.counter.today().replaceAll('-', '')).to.equal(day);
    expect(sa.receiptNo).to.equal(`XS${day}-T${String(noA).padStart(3, '0')}-0001`);
    expect(sb.receiptNo).to.equal(`XS${day}-T${String(noB).padStart(3, '0')}-0001`);
    // Both reach the server, each under its own number: the public check shows each its own sale.
    await waitFor('both sales synced', async () => Number((await t.db.knex('sales').where({ county_id: COUNTY }).whereIn('receipt_no', [sa.receiptNo, sb.receiptNo]).count({ n: '*' }).first())!.n) === 2);
    for (const [s, shop] of [[sa, SHOP_A], [sb, SHOP_B]] as const) {
      const rows = await t.db.knex('sales').where({ county_id: COUNTY, receipt_no: s.receiptNo }).select('shop_id');
      expect(rows.map((r) => r.shop_id)).to.deep.equal([shop]);
      const page = await t.api().get(`/check/${COUNTY}`).query({ q: s.receiptNo });
      expect(page.status, page.text).to.equal(200);
      expect(page.text).to.contain(s.receiptNo);
    }
  });

  it('the sale receipt\'s QR opens the PUBLIC_URL check page, online and offline, not the address the terminal uses', async () => {
    expect(a.term.state()!.serverUrl).to.equal(gate.url);
    expect(a.term.reference()!.snapshot.publicUrl).to.equal(PUBLIC);
    const online = await sell(a);
    expect(online.qr).to.equal(`${PUBLIC}/check/${COUNTY}?q=${online.receiptNo}`);
    // The village line goes down: the cached public address still goes on the paper.
    gate.down = true;
    try {
      await waitFor('offline', async () => {
        a.term.worker.kick();
        return a.term.worker.view().online === false;
      });
      const offline = await sell(a);
      expect(offline.qr).to.equal(`${PUBLIC}/check/${COUNTY}?q=${offline.receiptNo}`);
      expect(offline.qr).to.not.contain('127.0.0.1');
    } finally {
      gate.down = false;
    }
  });

  it('without PUBLIC_URL on the server, the QR opens the check page at the terminal\'s SERVER_URL', async () => {
    t.deps.config.publicUrl = null;
    try {
      const before = b.term.reference()!;
      await waitFor('a snapshot without a public address', () => {
        b.term.worker.kick();
        const ref = b.term.reference()!;
        return ref !== before && ref.snapshot.publicUrl === null;
      });
      const s = await sell(b);
      expect(s.qr).to.equal(`${gate.url}/check/${COUNTY}?q=${s.receiptNo}`);
    } finally {
      t.deps.config.publicUrl = PUBLIC;
    }
  });

  it('at the return counter, a receipt number two shops printed (old receipts) opens neither sale: RECEIPT_AMBIGUOUS', async () => {
    const shared = 'XS20260315-BEEF-0007';
    const admin = await t.token('admin');
    for (const [shopId, phone] of [[SHOP_A, '17460002201'], [SHOP_B, '17460002202']] as const) {
      const res = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', admin)
        .send({ id: newClientId(), shopId, receiptNo: shared, eventTime: t.clock.now().toISOString(), purchaser: { phone, name: '旧票农户' }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
    }
    let refused: unknown = null;
    try {
      await b.term.counter.findSale(shared);
    } catch (err) {
      refused = err;
    }
    expect(refused).to.be.instanceOf(CounterError);
    expect((refused as CounterError).code).to.equal('RECEIPT_AMBIGUOUS');
    // A number one sale carries still opens it, from the other shop's terminal too.
    const own = await sell(a);
    await waitFor('the sale synced', async () => (await t.db.knex('sales').where({ county_id: COUNTY, receipt_no: own.receiptNo }).first('id')) !== undefined);
    const found = await b.term.counter.findSale(own.receiptNo);
    expect(found.receiptNo).to.equal(own.receiptNo);
  });

  it('a terminal whose server sent neither a number nor a public address (an older server) keeps the old receipt number and its SERVER_URL', async () => {
    const id = a.term.state()!.terminalId;
    await a.term.stop();
    running.splice(running.indexOf(a.term), 1);
    // What an older server's snapshot holds: no `terminal`, no `publicUrl`. Offline, so it stays cached.
    gate.down = true;
    try {
      const file = path.join(a.dir, 'reference.json');
      const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as { snapshot: Snapshot; fetchedAt: string };
      delete cached.snapshot.terminal;
      delete cached.snapshot.publicUrl;
      fs.writeFileSync(file, JSON.stringify(cached));
      a.term = await start(a.dir, a.printer);
      const s = await sell(a);
      const day = a.term.counter.today().replaceAll('-', '');
      expect(s.receiptNo).to.match(new RegExp(`^XS${day}-${id.slice(-4).toUpperCase()}-\\d{4}$`));
      expect(s.qr).to.equal(`${gate.url}/check/${COUNTY}?q=${s.receiptNo}`);
    } finally {
      gate.down = false;
    }
  });
});
