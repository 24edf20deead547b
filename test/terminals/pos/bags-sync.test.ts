// The bags screen offline: open, fill (from the day's returns and by scanning), seal and label a bag
// with the village internet down, then sync. The server ends up with the sealed bag exactly once,
// re-sending the same records changes nothing, and a bag event the server refuses (more containers
// than the shop accepted on return) is kept on the terminal with its reason.
import { expect } from 'chai';
import fs from 'node:fs';
import { useTestApp } from '../../support/harness.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import { ServerClient } from '../../../terminals/pos/server-client.js';
import { outgoing } from '../../../terminals/pos/sync-worker.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { COUNTY, GLYPHOSATE, FARMER_PHONE, unitCode, traceUrl } from '../../features/ledger/ledger-fixtures.js';
import { LoopbackPrinter, waitFor as waitForBytes } from '../printing/support/loopback-printer.js';
import { readReceipt } from '../printing/support/receipt-bytes.js';
import { enrolmentCode, openGate, tempDir, terminalConfig, waitFor, type Gate } from './pos-support.js';

describe('shop terminal bags screen (offline, then synced)', function () {
  this.timeout(120_000);
  const t = useTestApp();
  let gate: Gate;
  let printer: LoopbackPrinter;
  let term: RunningTerminal;
  let dir: string;

  before(async () => {
    t.clock.set(new Date(Date.now() + 3600_000).toISOString());
    gate = await openGate(t);
    printer = await LoopbackPrinter.start();
    dir = tempDir('pos-bags');
    term = await startTerminal(terminalConfig(gate.url, dir, { PRINTER: `127.0.0.1:${printer.port}` }));
    const { code } = await enrolmentCode(t);
    await term.enrol(code);
    await waitFor('reference data', () => term.reference());
  });
  after(async () => {
    await term?.stop();
    await printer?.stop();
    await gate?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('open, add, seal and label offline; sync gives one sealed bag; retries are harmless; a refused add keeps its reason', async () => {
    const coded = [unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)];
    const hdpe1l = term.reference()!.product(GLYPHOSATE.id)!.containerTypeId;
    gate.down = true;
    // The day's counter work, offline: a sale with two coded units, their return plus three uncoded.
    await term.counter.sale({ purchaser: { phone: FARMER_PHONE, name: '测试农户' }, lines: [{ productId: GLYPHOSATE.id, quantity: 5, unitCodes: coded }] });
    const ret = await term.counter.return({
      returner: { phone: FARMER_PHONE },
      items: [{ scan: traceUrl(coded[0]!), inspection: 'accepted' }, { productId: GLYPHOSATE.id, quantity: 3, inspection: 'accepted' }],
    });
    // The bags screen: open with the seal number, add from the return, scan one more, seal.
    const sealNo = `QS-${Date.now().toString(36).toUpperCase()}`;
    const opened = await term.bags.open({ material: 'HDPE', sealNo });
    const bagId = opened.entry.record.id;
    expect(opened.entry.state).to.be.oneOf(['pending', 'sending']);
    await term.bags.add(bagId, { fromReturns: [ret.entry.record.id] });
    // Taking the same return twice adds nothing more.
    let err: unknown = null;
    try { await term.bags.add(bagId, { fromReturns: [ret.entry.record.id] }); } catch (e) { err = e; }
    expect((err as { code?: string })?.code).to.equal('NOTHING_TO_ADD');
    // More than the shop accepted: the terminal records it, the server will refuse it.
    const tooMany = await term.bags.add(bagId, { counts: [{ containerTypeId: hdpe1l, quantity: 50 }] });
    let local = term.bags.bag(bagId);
    expect(local.quantity).to.equal(54);
    expect(local.contents[0]!.unitCodes).to.deep.equal([coded[0]]);
    // A second container was returned later and is bagged by scanning its code.
    await term.counter.return({ items: [{ scan: coded[1]!, inspection: 'accepted' }] });
    await term.bags.add(bagId, { scans: [traceUrl(coded[1]!)] });
    const sealed = await term.bags.seal(bagId, { shopWeightG: 321 });
    expect(sealed.preview.join('\n')).to.contain(sealNo);
    // The label reached the printer with the seal number as text and QR code.
    await waitForBytes(() => printer.connections.some((b) => readReceipt(b).qrCodes.some((q) => q.payload === `AGRIRETURN:BAG:${sealNo}`)), 'bag label at the printer', 10_000);
    const label = readReceipt(printer.connections.find((b) => readReceipt(b).qrCodes.some((q) => q.payload === `AGRIRETURN:BAG:${sealNo}`))!);
    expect(label.text).to.contain(sealNo);
    expect(label.text).to.contain('农药包装废弃物回收袋');
    // Sealed locally: nothing more goes in.
    err = null;
    try { await term.bags.add(bagId, { counts: [{ containerTypeId: hdpe1l, quantity: 1 }] }); } catch (e) { err = e; }
    expect((err as { code?: string })?.code).to.equal('BAG_SEALED');
    expect(await t.db.knex('custody_bags').where({ county_id: COUNTY, id: bagId }).first()).to.equal(undefined);

    gate.down = false;
    term.worker.kick();
    await waitFor('everything answered', () => term.journal.counts().pending + term.journal.counts().sending === 0);
    const refused = term.journal.get(tooMany.entry.record.id)!;
    expect(refused.state).to.equal('refused');
    expect(refused.error!.code).to.equal('BAG_EXCEEDS_RETURNED');
    expect(refused.error!.message_zh).to.be.a('string');
    expect(term.journal.counts().refused).to.equal(1);

    const rows = await t.db.knex('custody_bags').where({ county_id: COUNTY, seal_no: sealNo });
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ id: bagId, state: 'sealed', declared_quantity: 5, shop_weight_g: 321 });
    const items = await t.db.knex('custody_bag_items').where({ county_id: COUNTY, bag_id: bagId }).orderBy('item_no');
    expect(items.filter((i: { unit_code: string | null }) => i.unit_code).map((i: { unit_code: string }) => i.unit_code).sort()).to.deep.equal([...coded].sort());
    local = term.bags.bag(bagId);
    expect(local.quantity).to.equal(5);
    expect(local.server).to.include({ state: 'sealed', sealNo, declaredQuantity: 5 });

    // The same records again (a batch whose answer was lost): duplicates, the refusal again, nothing new.
    const events = Number((await t.db.knex('custody_events').where({ county_id: COUNTY }).count({ n: '*' }).first())!.n);
    const client = new ServerClient(gate.url, term.state()!.credential);
    const again = await client.sendBatch(newClientId(), term.journal.all().filter((e) => e.record.kind === 'bag-event').map((e) => outgoing(e.record)));
    expect(again.results.map((r) => r.status)).to.deep.equal(['duplicate', 'duplicate', 'refused', 'duplicate', 'duplicate']);
    expect(Number((await t.db.knex('custody_events').where({ county_id: COUNTY }).count({ n: '*' }).first())!.n)).to.equal(events);
    expect(await t.db.knex('custody_bags').where({ county_id: COUNTY, seal_no: sealNo }).count({ n: '*' }).first()).to.deep.equal({ n: 1 });
  });
});
