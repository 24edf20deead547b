// Inspector mode at the counter: with the server out of reach, the clerk prints the shop's ledgers
// (sales ledger of art. 27, containers taken back) from the terminal's own journal; the ESC/POS bytes
// reach a loopback TCP printer and carry, in GB18030, every sale line with its registration number
// and purchaser, and the totals.
import net from 'node:net';
import fs from 'node:fs';
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import { parseEscPos, printedLines } from '../../../terminals/printing/escpos-parse.js';
import { GLYPHOSATE, GLYPHOSATE_5L } from '../../features/ledger/ledger-fixtures.js';
import { enrolmentCode, openGate, tempDir, terminalConfig, waitFor, type Gate } from './pos-support.js';

describe('terminal inspector mode: the shop\'s ledgers printed offline from the journal', function () {
  this.timeout(120_000);
  const NOW = '2026-03-15T02:00:00.000Z';
  let gate!: Gate;
  let term!: RunningTerminal;
  let printer!: net.Server;
  const jobs: Buffer[] = [];
  const dir = tempDir('inspector-ledger-pos');
  after(async () => {
    await term?.stop();
    await gate?.close();
    printer?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const t = useTestApp({ clock: NOW });

  before(async () => {
    gate = await openGate(t);
    printer = net.createServer((sock) => {
      const chunks: Buffer[] = [];
      sock.on('data', (d) => chunks.push(d));
      sock.on('end', () => { jobs.push(Buffer.concat(chunks)); sock.end(); });
    });
    await new Promise<void>((r) => printer.listen(0, '127.0.0.1', () => r()));
    const port = (printer.address() as net.AddressInfo).port;
    term = await startTerminal(terminalConfig(gate.url, dir, { PRINTER: `127.0.0.1:${port}`, PRINTER_WIDTH: '80' }), { now: () => new Date(NOW) });
    const { code } = await enrolmentCode(t);
    await term.enrol(code);
    await waitFor('reference data', () => term.reference());
    gate.down = true; // the server is out of reach from here on
    await term.counter.sale({ purchaser: { phone: '17460000951', name: '检查甲' }, lines: [{ productId: GLYPHOSATE.id, quantity: 3 }, { productId: GLYPHOSATE_5L.id, quantity: 1 }] });
    await term.counter.sale({ purchaser: { phone: '17460000952', name: '检查乙' }, lines: [{ productId: GLYPHOSATE.id, quantity: 2 }] });
    await term.counter.return({ items: [{ productId: GLYPHOSATE.id, quantity: 4, inspection: 'accepted' }, { productId: GLYPHOSATE.id, quantity: 1, inspection: 'rejected', reasonCode: 'not_rinsed' }], payment: { method: 'cash' } });
    await waitFor('three receipts printed', () => jobs.length >= 3);
  });

  it('prints every sale line with its registration number and purchaser, and the containers accepted back', async () => {
    const res = await fetch(`${term.url}/local/inspector-ledger`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: '2026-03-01', to: '2026-03-15' }) });
    expect(res.status).to.equal(200);
    const body = await res.json() as { ledger: { sales: unknown[]; received: Array<{ day: string; productName: string; quantity: number }> }; printJobId: string | null };
    expect(body.ledger.sales).to.have.length(3);
    expect(body.ledger.received.map((r) => [r.day, r.quantity])).to.deep.equal([['2026-03-15', 4]]);
    expect(body.ledger.received[0]!.productName).to.contain('草甘膦');
    expect(body.printJobId).to.be.a('string');
    await waitFor('the ledger printed', () => jobs.length >= 4);
    const text = printedLines(parseEscPos(jobs[3]!)).map((l) => l.text).join('\n');
    expect(text).to.contain('农药经营台账（检查用）').and.to.contain('2026-03-01 至 2026-03-15');
    expect(text).to.contain('登记证号 PD20070128').and.to.contain('登记证号 PD20070129');
    expect(text).to.contain('购买人 检查甲 +8617460000951').and.to.contain('购买人 检查乙 +8617460000952');
    expect(text).to.match(/销售合计 Sales total\s+3 \/ 6/);
    expect(text).to.match(/回收合计 Total taken back\s+4/);
    expect(parseEscPos(jobs[3]!).some((c) => c.op === 'cut')).to.equal(true);
    // A period without records prints the empty ledger; a bad period is refused with the field named.
    const empty = await (await fetch(`${term.url}/local/inspector-ledger`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: '2026-02-01', to: '2026-02-28' }) })).json() as { ledger: { sales: unknown[] } };
    expect(empty.ledger.sales).to.deep.equal([]);
    const bad = await fetch(`${term.url}/local/inspector-ledger`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: '2026-03-15', to: '2026-03-01' }) });
    expect(bad.status).to.equal(422);
    expect(((await bad.json()) as { error: { code: string; field: string } }).error).to.include({ code: 'VALIDATION_FAILED', field: 'from' });
  });
});
