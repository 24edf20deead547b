// Voiding (作废) at the counter, against the real county server with the real journal and a loopback
// ESC/POS printer: a clerk who rang up the wrong quantity voids the sale at once and rings it again,
// online and offline; a return is voided and its container returned again; the same void pressed
// twice is one record; what the terminal knows is not allowed (an earlier day, another terminal's
// record, already voided) is refused without the server; what the server refuses (REVERSAL_WINDOW_CLOSED)
// stays in Records with its reason; the day end counts voids on their own lines.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { useTestApp } from '../../support/harness.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import { CounterError } from '../../../terminals/pos/counter.js';
import { parseEscPos, printedLines } from '../../../terminals/printing/index.js';
import { COUNTY, GLYPHOSATE, SHOP_A, expectLedgerClean, unitCode } from '../../features/ledger/ledger-fixtures.js';
import { LoopbackPrinter } from '../printing/support/loopback-printer.js';
import { enrolmentCode, openGate, tempDir, terminalConfig, waitFor, type Gate } from './pos-support.js';

const text = (bytes: Buffer) => printedLines(parseEscPos(bytes)).map((l) => l.text).join('\n');

describe('voiding a sale or a return at the counter', function () {
  this.timeout(180_000);
  let gate: Gate;
  let printer: LoopbackPrinter;
  let a: RunningTerminal;
  let b: RunningTerminal;
  const dirs: string[] = [];
  let phone = 17460003100;
  // Registered before the app's own hooks, so the terminals stop before the database closes.
  after(async () => {
    await a?.stop();
    await b?.stop();
    await printer?.stop();
    await gate?.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  // 10:00 in Beijing on 2026-03-15.
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });

  async function start(extra: Record<string, string> = {}): Promise<RunningTerminal> {
    const dir = tempDir('pos-void');
    dirs.push(dir);
    const term = await startTerminal(terminalConfig(gate.url, dir, extra), { now: () => t.clock.now(), answerWaitMs: 0 });
    await term.enrol((await enrolmentCode(t, SHOP_A)).code);
    await waitFor('reference data', () => term.reference());
    return term;
  }

  /** Everything journaled has an answer from the server (synced or refused). */
  async function drained(term: RunningTerminal): Promise<void> {
    await waitFor('the journal sent', () => {
      term.worker.kick();
      const c = term.journal.counts();
      return c.pending + c.sending === 0;
    }, 60_000);
  }

  async function offline(term: RunningTerminal): Promise<void> {
    gate.down = true;
    await waitFor('offline', () => {
      term.worker.kick();
      return term.worker.view().online === false;
    });
  }

  function sell(term: RunningTerminal, codes: string[], quantity = codes.length) {
    t.clock.advance(1000);
    return term.counter.sale({ purchaser: { phone: String(phone++), name: '作废农户' }, lines: [{ productId: GLYPHOSATE.id, quantity, unitCodes: codes }] });
  }

  async function refusal(p: Promise<unknown> | (() => unknown)): Promise<CounterError> {
    try {
      await (typeof p === 'function' ? p() : p);
    } catch (err) {
      expect(err).to.be.instanceOf(CounterError);
      return err as CounterError;
    }
    throw new Error('expected a refusal');
  }

  const reversalsOf = async (targetId: string) => t.db.knex('reversals').where({ county_id: COUNTY, target_id: targetId }).select('id', 'target_type', 'reason', 'actor');
  const voidsIn = (term: RunningTerminal, targetId: string) => term.journal.all().filter((e) => e.record.kind === 'reversal' && e.record.payload.targetId === targetId);

  before(async () => {
    gate = await openGate(t);
    printer = await LoopbackPrinter.start();
    a = await start({ PRINTER: `127.0.0.1:${printer.port}`, PRINTER_WIDTH: '58' });
    b = await start();
  });

  it('online: a sale voided at once (journaled, synced, a void slip on the printer) and rung again with the same codes', async () => {
    const codes = [unitCode(GLYPHOSATE), unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)];
    const sale = await sell(a, codes);
    await drained(a);
    const before = printer.jobs().length;

    // What the confirmation shows, from the journal alone.
    const preview = await (await fetch(`${a.url}/local/void?target=${encodeURIComponent(String(sale.entry.record.local.receiptNo))}`)).json() as Record<string, any>;
    expect(preview).to.include({ targetType: 'sale', targetId: sale.entry.record.id, receiptNo: sale.entry.record.local.receiptNo, containers: 3, amountFen: 300, cashFen: -300 });
    expect(preview.reasons.map((r: { code: string }) => r.code)).to.include('wrong_quantity');

    t.clock.advance(1000);
    const v = await a.counter.void({ target: sale.entry.record.id, reason: 'wrong_quantity' });
    const rec = v.entry.record;
    expect(rec.kind).to.equal('reversal');
    // A UUIDv7 made from the void's own time.
    expect(rec.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(rec.id.replaceAll('-', '').slice(0, 12), 16)).to.equal(Date.parse(rec.eventTime));
    expect(rec.payload).to.deep.equal({ targetType: 'sale', targetId: sale.entry.record.id, reason: 'wrong_quantity' });
    const day = a.counter.today().replaceAll('-', '');
    expect(rec.local.receiptNo).to.match(new RegExp(`^ZF${day}-T\\d{3}-0001$`));
    // On disk before the call returned.
    expect(fs.readFileSync(path.join(a.config.dataDir, 'journal.jsonl'), 'utf8')).to.contain(rec.id);

    // The void slip: real ESC/POS bytes on the loopback printer.
    const slip = text((await printer.waitForJobs(before + 1))[before]!);
    expect(slip).to.contain('作废销售').and.to.contain(String(rec.local.receiptNo)).and.to.contain(String(sale.entry.record.local.receiptNo))
      .and.to.contain('退还押金').and.to.contain('￥3.00').and.to.contain('数量错误');

    // Rung again at once, the same containers: no longer sold here, so no UNIT_CODE_ALREADY_SOLD.
    const again = await sell(a, codes.slice(0, 2), 2);
    await drained(a);
    expect(a.journal.get(rec.id)!.state).to.equal('synced');
    expect(a.journal.get(again.entry.record.id)!.state).to.equal('synced');
    const rows = await reversalsOf(sale.entry.record.id);
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ id: rec.id, target_type: 'sale', reason: 'wrong_quantity', actor: `terminal:${a.state()!.terminalId}` });
    const units = await t.db.knex('sold_units').where({ county_id: COUNTY }).whereIn('unit_code', codes).select('sale_id', 'unit_code', 'state');
    expect(units.filter((u) => u.sale_id === sale.entry.record.id).map((u) => u.state)).to.deep.equal(['voided', 'voided', 'voided']);
    expect(units.filter((u) => u.sale_id === again.entry.record.id).map((u) => u.state)).to.deep.equal(['outstanding', 'outstanding']);
    await expectLedgerClean(t);

    // Voiding it again: refused at the counter, nothing written.
    expect((await refusal(a.counter.void({ target: sale.entry.record.id, reason: 'wrong_quantity' }))).code).to.equal('ALREADY_REVERSED');
    expect(voidsIn(a, sale.entry.record.id)).to.have.length(1);
  });

  it('offline: sale, void, the sale again, a return, its void and the return again — synced later, each once; the day end counts the voids on their own lines', async () => {
    const f0 = a.counter.drawerFigures();
    await offline(a);
    try {
      const code = unitCode(GLYPHOSATE);
      const s1 = await sell(a, [code, unitCode(GLYPHOSATE)]);
      t.clock.advance(1000);
      await a.counter.void({ target: String(s1.entry.record.local.receiptNo), reason: 'wrong_quantity' });
      const s2 = await sell(a, [code], 1);
      t.clock.advance(1000);
      const r1 = await a.counter.return({ items: [{ scan: code, inspection: 'accepted' }], payment: { method: 'cash' } });
      expect(r1.entry.record.local.refundPaidFen).to.equal(100);
      t.clock.advance(1000);
      const vr = await a.counter.void({ target: 'last', reason: 'entered_twice' });
      expect(vr.void).to.include({ targetType: 'return', targetId: r1.entry.record.id, containers: 1, amountFen: 100, cashFen: 100 });
      // The voided return's code can be returned again (as sold here: its deposit).
      t.clock.advance(1000);
      const r2 = await a.counter.return({ items: [{ scan: code, inspection: 'accepted' }], payment: { method: 'cash' } });
      expect((r2.entry.record.local.items as Array<{ inspection: string; refundFen: number }>)[0]).to.include({ inspection: 'accepted', refundFen: 100 });

      const f = a.counter.drawerFigures();
      expect(f.voidsCount - f0.voidsCount).to.equal(2);
      expect(f.voidedSalesFen - f0.voidedSalesFen).to.equal(200);
      expect(f.voidedReturnsFen - f0.voidedReturnsFen).to.equal(100);
      expect(f.voidedReturnsCashFen - f0.voidedReturnsCashFen).to.equal(100);
      // +200 −200 (the void) +100 −100 +100 (the void) −100.
      expect(f.netCashExpectedFen - f0.netCashExpectedFen).to.equal(0);
      expect(f.netCashExpectedFen).to.equal(f.depositsTakenFen - f.refundsPaidCashFen - f.voidedSalesFen + f.voidedReturnsCashFen);

      gate.down = false;
      await drained(a);
      for (const e of a.journal.all()) expect(e.state, `${e.record.kind} ${String(e.error?.code)}`).to.equal('synced');
      expect(await reversalsOf(s1.entry.record.id)).to.have.length(1);
      expect(await reversalsOf(r1.entry.record.id)).to.have.length(1);
      expect(Number((await t.db.knex('returns').where({ county_id: COUNTY, id: r2.entry.record.id }).first('total_refund_fen'))!.total_refund_fen)).to.equal(100);
      expect((await t.db.knex('sold_units').where({ county_id: COUNTY, sale_id: s2.entry.record.id, unit_code: code }).first('state'))!.state).to.equal('refunded');
      await expectLedgerClean(t);

      // The day end: the voids on their own lines on the paper; the county gets the day as it stands after them.
      const before = printer.jobs().length;
      const report = await a.counter.drawerReport({ openingFloatFen: 0 });
      const paper = text((await printer.waitForJobs(before + 1))[before]!);
      expect(paper).to.contain(`作废 Voids: ${f.voidsCount}`).and.to.contain('作废销售退押金').and.to.contain('作废退押收回');
      const p = report.entry.record.payload as Record<string, number>;
      expect(p.depositsTakenFen).to.equal(f.depositsTakenFen - f.voidedSalesFen);
      expect(p.refundsPaidCashFen).to.equal(f.refundsPaidCashFen - f.voidedReturnsCashFen);
      expect(p.netCashExpectedFen).to.equal(f.netCashExpectedFen);
      expect(p.depositsTakenFen! - p.refundsPaidCashFen!).to.equal(p.netCashExpectedFen);
      expect(p).to.not.have.property('voidsCount');
      await drained(a);
      expect(a.journal.get(report.entry.record.id)!.state, JSON.stringify(a.journal.get(report.entry.record.id)!.error)).to.equal('synced');
    } finally {
      gate.down = false;
    }
  });

  it('the same void pressed twice is one record (two requests at once, at the counter and through the screen API)', async () => {
    const s = await sell(a, [unitCode(GLYPHOSATE)]);
    t.clock.advance(1000);
    const both = await Promise.allSettled([a.counter.void({ target: s.entry.record.id, reason: 'wrong_product' }), a.counter.void({ target: s.entry.record.id, reason: 'wrong_product' })]);
    expect(both.map((x) => x.status).sort()).to.deep.equal(['fulfilled', 'rejected']);
    expect(((both.find((x) => x.status === 'rejected') as PromiseRejectedResult).reason as CounterError).code).to.equal('ALREADY_REVERSED');

    const s2 = await sell(a, [unitCode(GLYPHOSATE)]);
    t.clock.advance(1000);
    const post = () => fetch(`${a.url}/local/voids`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ target: s2.entry.record.id, reason: 'wrong_product' }) });
    const answers = await Promise.all([post(), post()]);
    expect(answers.map((r) => r.status).sort()).to.deep.equal([200, 422]);
    const refused = await answers.find((r) => r.status === 422)!.json() as { error: { code: string } };
    expect(refused.error.code).to.equal('ALREADY_REVERSED');

    await drained(a);
    for (const sale of [s, s2]) {
      expect(voidsIn(a, sale.entry.record.id)).to.have.length(1);
      expect(await reversalsOf(sale.entry.record.id)).to.have.length(1);
    }
    await expectLedgerClean(t);
  });

  it('a void the server refuses (REVERSAL_WINDOW_CLOSED: the sale reached it yesterday) stays in Records with its reason; the sale stands', async () => {
    // 23:50 in Beijing: a sale, synced; the line drops; the clerk voids it at 23:55; it reaches the server after midnight.
    t.clock.set('2026-03-15T15:50:00.000Z');
    const code = unitCode(GLYPHOSATE);
    const s = await sell(a, [code]);
    await drained(a);
    await offline(a);
    let voidId: string;
    try {
      t.clock.set('2026-03-15T15:55:00.000Z');
      voidId = (await a.counter.void({ target: s.entry.record.id, reason: 'farmer_cancelled' })).entry.record.id;
      t.clock.set('2026-03-15T16:10:00.000Z');
    } finally {
      gate.down = false;
    }
    await drained(a);
    const e = a.journal.get(voidId)!;
    expect(e.state).to.equal('refused');
    expect(e.error!.code).to.equal('REVERSAL_WINDOW_CLOSED');
    expect(await reversalsOf(s.entry.record.id)).to.have.length(0);
    // Records: among the refused with the server's reason; the sale shows no void standing.
    const status = await (await fetch(`${a.url}/local/status`)).json() as { refused: Array<{ id: string; kind: string; receiptNo: string; error: { code: string } }> };
    const shown = status.refused.find((r) => r.id === voidId)!;
    expect(shown).to.include({ kind: 'reversal', receiptNo: e.record.local.receiptNo });
    expect(shown.error.code).to.equal('REVERSAL_WINDOW_CLOSED');
    const records = await (await fetch(`${a.url}/local/records?limit=100`)).json() as { items: Array<{ id: string; voidedBy?: string | null; voidable?: boolean; void?: { targetReceiptNo: string } }> };
    expect(records.items.find((r) => r.id === s.entry.record.id)).to.include({ voidedBy: null, voidable: false });
    expect(records.items.find((r) => r.id === voidId)!.void!.targetReceiptNo).to.equal(s.entry.record.local.receiptNo);
    // The sale stands here too: its code is still sold.
    expect((await refusal(sell(a, [code]))).code).to.equal('UNIT_CODE_ALREADY_SOLD');
    await expectLedgerClean(t);
  });

  it('refused at the counter without the server: a record of an earlier journal day, another terminal\'s record', async () => {
    // It is 00:10 on the 16th now: yesterday's sales are of an earlier day.
    const yesterday = a.journal.all().find((e) => e.record.kind === 'sale' && e.record.local.businessDay === '2026-03-15' && !a.counter.voidedIds().has(e.record.id))!;
    const other = await sell(b, [unitCode(GLYPHOSATE)]);
    gate.down = true; // nothing here needs the server
    try {
      const n = a.journal.all().length;
      expect((await refusal(a.counter.void({ target: yesterday.record.id, reason: 'wrong_quantity' }))).code).to.equal('VOID_EARLIER_DAY');
      const res = await fetch(`${a.url}/local/void?target=${encodeURIComponent(String(yesterday.record.local.receiptNo))}`);
      expect(res.status).to.equal(422);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('VOID_EARLIER_DAY');
      // Another terminal's receipt (today, same shop): not this journal's.
      expect((await refusal(a.counter.void({ target: String(other.entry.record.local.receiptNo), reason: 'wrong_quantity' }))).code).to.equal('VOID_OTHER_TERMINAL');
      // No reason: nothing written either.
      expect((await refusal(b.counter.void({ target: other.entry.record.id, reason: '' }))).code).to.equal('VOID_REASON_REQUIRED');
      expect(a.journal.all().length).to.equal(n);
      expect(voidsIn(b, other.entry.record.id)).to.have.length(0);
    } finally {
      gate.down = false;
    }
  });
});
