// A return session at the terminal driven entirely by replayed device reports (keyboard scanner,
// counting machine, scale), made with the encoders in terminals/hid: the session gets the right
// containers, counts, unit codes and bag weight; misreads and duplicate scans are shown, not added; a
// lost counting-machine report warns the clerk; every event reaches the clerk's screen stream, in
// order, stamped with its report's time; the confirmed return syncs to the server with the right items
// and refund. (How fast an event reaches the screen is measured by `npm run bench`, not asserted here:
// a test decides on behaviour, whatever else the machine is doing.)
// Also the support path: `npm run hid -- replay FILE --to <terminal>` into the running terminal.
import { expect } from 'chai';
import { sseEvents } from '../../../terminals/pos/sse-reader.js';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { useTestApp } from '../../support/harness.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import type { ClerkNotice } from '../../../terminals/pos/device-bridge.js';
import { encodeKeyboardScan } from '../../../terminals/hid/keyboard-encoder.js';
import { encodeMachineReport } from '../../../terminals/hid/counting-machine-encoder.js';
import type { MachineBody } from '../../../terminals/hid/counting-machine-decoder.js';
import { encodeScaleReport } from '../../../terminals/hid/scale-encoder.js';
import { formatReplayFile, parseReplayFile, type ReplayRecord } from '../../../terminals/hid/replay-file.js';
import type { DeviceConfig } from '../../../terminals/hid/device-config.js';
import { COUNTY, FARMER_PHONE, unitCode, traceUrl } from '../../features/ledger/ledger-fixtures.js';
import { enrolmentCode, openGate, tempDir, terminalConfig, waitFor, type Gate } from './pos-support.js';

const execFileP = promisify(execFile);

const KB: DeviceConfig = { key: 'scanner-kb', kind: 'keyboard' };
const MACHINE: DeviceConfig = { key: 'counter', kind: 'counting-machine' };
const SCALE: DeviceConfig = { key: 'scale', kind: 'scale' };

/** The recorded session: what the devices would send while a farmer returns six containers. */
function sessionFile(p: { gtin: string; codeA: string; codeB: string }, ends: number[] = []): string {
  const records: ReplayRecord[] = [];
  let t = 0;
  const add = (device: string, reports: Uint8Array[], gap = 4) => {
    for (const bytes of reports) {
      records.push({ t_ms: t, device, bytes });
      t += gap;
    }
    // The report that completes the event: a scanner's Enter press (before its release), else the last.
    ends.push(t - gap * (device === KB.key ? 2 : 1));
  };
  const pause = (ms: number) => (t += ms);
  let clock = 10_000;
  const m = (sequence: number, body: MachineBody) => encodeMachineReport({ sequence, machineClock_ms: (clock += 120), body });
  const item = (total: number, digits: string | null): MachineBody => ({ type: 'item_counted', lane: 1, material: 'hdpe', unitCodeDigits: digits, unreadableCode: false, weight_mg: 52_000, totalCount: total });

  add(KB.key, encodeKeyboardScan(traceUrl(p.codeA))); pause(120); // a coded container: added
  add(KB.key, encodeKeyboardScan(traceUrl(p.codeA))); pause(120); // the same again: duplicate, not added
  add(KB.key, encodeKeyboardScan(traceUrl(p.codeB).replace(p.codeB, p.codeB.slice(0, 20) + p.codeB.slice(21)))); pause(120); // a digit lost: misread
  add(KB.key, encodeKeyboardScan(p.gtin)); pause(120); // the product's barcode: one uncoded container, and the product for the machine
  add(MACHINE.key, [m(1, { type: 'heartbeat', running: true, doorOpen: false, firmware: '1.4', totalCount: 0 })]); pause(60);
  add(MACHINE.key, [m(2, item(1, p.codeB))]); pause(60); // the machine's camera read B
  add(MACHINE.key, [m(3, item(2, null))]); pause(60); // no code: the current product
  // #4 (a third uncoded container) lost on the wire
  add(MACHINE.key, [m(5, item(4, null))]); pause(60);
  add(MACHINE.key, [m(5, item(4, null))]); pause(60); // repeated report: not counted again
  add(SCALE.key, [encodeScaleReport({ status: 'in_motion', unit: 'g', exponent: 0, raw: 700 })]); pause(80);
  add(SCALE.key, [encodeScaleReport({ status: 'stable', unit: 'kg', exponent: -3, raw: 1234 })]);
  return formatReplayFile({ recorded_at: new Date().toISOString(), devices: [KB, MACHINE, SCALE], records });
}

/** The clerk's screen stream, as the browser's EventSource sees it. */
async function listen(url: string) {
  const notices: ClerkNotice[] = [];
  const ac = new AbortController();
  const res = await fetch(`${url}/local/devices/stream`, { signal: ac.signal });
  const done = (async () => {
    try {
      for await (const e of sseEvents(res.body!)) if (e.event === 'notice') notices.push(JSON.parse(e.data) as ClerkNotice);
    } catch { /* aborted */ }
  })();
  return { notices, close: async () => { ac.abort(); await done; } };
}

describe('device-driven return session at the terminal', function () {
  this.timeout(120_000);
  const t = useTestApp();
  let gate: Gate;
  let term: RunningTerminal;
  let dir: string;
  let product: { id: string; gtin: string; reg: string; pack: string; name: string };

  before(async () => {
    t.clock.set(new Date(Date.now() + 3600_000).toISOString());
    gate = await openGate(t);
    dir = tempDir('pos-hid');
    term = await startTerminal(terminalConfig(gate.url, dir, { HID_REPLAY_TOKEN: 'demo-token' }));
    const { code } = await enrolmentCode(t);
    await term.enrol(code);
    await waitFor('reference data', () => term.reference());
    const p = term.reference()!.snapshot.products.find((x) => x.gtin && x.packSizeCode && term.reference()!.depositFor(x.containerTypeId, term.reference()!.snapshot.businessDay))!;
    product = { id: p.id, gtin: p.gtin!, reg: p.registrationNo.slice(-6), pack: p.packSizeCode!, name: p.name };
  });
  after(async () => {
    await term?.stop();
    await gate?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('replayed reports alone fill the session, each shown in order; the confirmed return reaches the server with the right refund', async () => {
    const codeA = unitCode(product);
    const codeB = unitCode(product);
    const deposit = term.reference()!.depositFor(term.reference()!.product(product.id)!.containerTypeId, term.reference()!.snapshot.businessDay)!;
    // The farmer bought six with deposit earlier (two of them coded).
    const sold = await term.counter.sale({ purchaser: { phone: FARMER_PHONE, name: '测试农户' }, lines: [{ productId: product.id, quantity: 6, unitCodes: [codeA, codeB] }] });

    const stream = await listen(term.url);
    const ends: number[] = [];
    const file = parseReplayFile(sessionFile({ gtin: product.gtin, codeA, codeB }, ends));
    const started = Date.now();
    await term.devices.replay(file, { speed: 1 });
    await waitFor('the scale reading on screen', () => stream.notices.some((n) => n.type === 'weight' && n.level === 'ok'));
    await stream.close();

    // What the clerk saw: every event, in the order the devices sent them, each stamped with the
    // time its report was due in the recording (so the de-duplication window and the scanner's idle
    // timeout judged the recording, not how busy this machine was).
    expect(stream.notices.map((n) => n.type)).to.deep.equal([
      'scan', 'duplicate_scan', 'misread', 'scan', // A added, A again, B with a digit lost, the product's barcode
      'count', 'count', 'sequence_gap', 'count', 'sequence_repeat', // machine: B, one uncoded, #4 lost, one more, #5 again
      'weight', 'weight', // scale: in motion, then stable
    ]);
    expect(stream.notices.map((n) => n.seq)).to.deep.equal(stream.notices.map((_, i) => stream.notices[0]!.seq + i));
    const t0 = stream.notices[0]!.at_ms;
    // The heartbeat (#1) shows nothing; the gap notice comes with the report after the lost one.
    const completing = [ends[0], ends[1], ends[2], ends[3], ends[5], ends[6], ends[7], ends[7], ends[8], ends[9], ends[10]].map((x) => x! - ends[0]!);
    expect(stream.notices.map((n) => n.at_ms - t0)).to.deep.equal(completing);
    expect(t0).to.be.at.least(started);
    expect(stream.notices.map((n) => n.deviceKey)).to.deep.equal([KB.key, KB.key, KB.key, KB.key, MACHINE.key, MACHINE.key, MACHINE.key, MACHINE.key, MACHINE.key, SCALE.key, SCALE.key]);
    expect(stream.notices.find((n) => n.type === 'scan')!.added).to.include({ unitCode: codeA, source: 'scan' });
    expect(stream.notices.find((n) => n.type === 'misread')!.added).to.equal(null);
    expect(stream.notices.find((n) => n.type === 'duplicate_scan')!.added).to.equal(null);
    const gap = stream.notices.find((n) => n.type === 'sequence_gap')!;
    expect(gap.level).to.equal('warning');
    expect(gap.message_zh).to.contain('漏计');

    // The session: A (scanned), B (machine camera), and three uncoded: the GTIN scan and two machine counts.
    const view = (await (await fetch(`${term.url}/local/devices`)).json()) as { returnItems: Array<{ unitCode: string | null; productId: string; quantity: number; source: string }>; bagWeight: { weight_g: number; stable: boolean }; warnings: unknown[] };
    expect(view.returnItems.filter((i) => i.unitCode).map((i) => [i.unitCode, i.source])).to.deep.equal([[codeA, 'scan'], [codeB, 'machine']]);
    const uncoded = view.returnItems.filter((i) => !i.unitCode);
    expect(uncoded).to.have.length(1);
    expect(uncoded[0]).to.include({ productId: product.id, quantity: 3 });
    expect(view.bagWeight).to.include({ weight_g: 1234, stable: true });
    expect((await (await fetch(`${term.url}/local/bags`)).json()).weight).to.include({ weight_g: 1234 });

    // The clerk confirms the device session (with the farmer's phone) on the return screen.
    const res = await fetch(`${term.url}/local/returns`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ deviceSession: true, returner: { phone: FARMER_PHONE }, payment: { method: 'cash' } }) });
    const body = await res.json() as { record: { id: string }; local: { refundPaidFen: number; items: Array<{ unitCode: string | null; quantity: number; inspection: string }> } };
    expect(res.status, JSON.stringify(body)).to.equal(200);
    expect(body.local.refundPaidFen).to.equal(5 * deposit);
    expect(((await (await fetch(`${term.url}/local/devices`)).json()) as { returnItems: unknown[] }).returnItems).to.deep.equal([]);

    term.worker.kick();
    await waitFor('return synced', () => term.journal.get(body.record.id)?.state === 'synced' && term.journal.get(sold.entry.record.id)?.state === 'synced');
    const ret = await t.db.knex('returns').where({ county_id: COUNTY, id: body.record.id }).first();
    expect(Number(ret.total_refund_fen)).to.equal(5 * deposit);
    const items = await t.db.knex('return_items').where({ county_id: COUNTY, return_id: body.record.id });
    expect(items.filter((i: { unit_code: string | null }) => i.unit_code).map((i: { unit_code: string }) => i.unit_code).sort()).to.deep.equal([codeA, codeB].sort());
    expect(items.reduce((n: number, i: { quantity: number; inspection: string }) => n + (i.inspection === 'accepted' ? Number(i.quantity) : 0), 0)).to.equal(5);
    // The terminal states what the clerk paid for every item; here it matches the server's refund.
    expect(items.reduce((n: number, i: { refund_paid_fen: number | null }) => n + Number(i.refund_paid_fen), 0)).to.equal(5 * deposit);
    expect(items.every((i: { refund_paid_fen: number | null; refund_difference_fen: number }) => i.refund_paid_fen !== null && Number(i.refund_difference_fen) === 0)).to.equal(true);
  });

  it('`npm run hid -- replay FILE --to <terminal>` plays a recording into the running terminal', async () => {
    await fetch(`${term.url}/local/devices/clear`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ what: 'return' }) });
    const code = unitCode(product);
    const file = path.join(dir, 'demo.jsonl');
    fs.writeFileSync(file, formatReplayFile({ recorded_at: new Date().toISOString(), devices: [KB], records: [
      ...encodeKeyboardScan(traceUrl(code)).map((bytes, i) => ({ t_ms: i * 4, device: KB.key, bytes })),
    ] }));
    // Without the token the terminal refuses the replay.
    const refused = await execFileP('npx', ['tsx', 'terminals/hid/cli.ts', 'replay', file, '--to', term.url, '--speed', '0'], { env: { ...process.env, AGRIRETURN_HID_REPLAY_TOKEN: '' } }).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(refused?.code).to.equal(1);
    expect(refused?.stderr).to.contain('401');
    const { stdout } = await execFileP('npx', ['tsx', 'terminals/hid/cli.ts', 'replay', file, '--to', term.url, '--speed', '0', '--token', 'demo-token']);
    expect(stdout).to.contain('replaying into');
    const items = await waitFor('the scan in the session', async () => {
      const v = (await (await fetch(`${term.url}/local/devices`)).json()) as { returnItems: Array<{ unitCode: string | null }> };
      return v.returnItems.length ? v.returnItems : null;
    });
    expect(items.map((i) => i.unitCode)).to.deep.equal([code]);
  });
});
