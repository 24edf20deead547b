// The terminal's HID_EVENTS_URL path, end to end: the device service runs as its own process
// (`npm run hid -- serve --config FILE`, terminals/hid/cli.ts), a recording of raw HID reports — the
// bytes a keyboard-wedge scanner and a HID POS scanner (profile code-60) send for a unit code's
// trace URL, made by the encoders in terminals/hid — is posted to the service with
// `npm run hid -- replay FILE --to <service> --token T`, the service decodes the bytes and streams
// the events over GET /events (Server-Sent Events), and the terminal, started with HID_EVENTS_URL
// pointing at the service, reads that stream (sse-reader.ts, device-bridge.ts `connect`): the
// scanned codes arrive as return rows (and, on the bags screen, as bag scans), a second scan of the
// same code is shown and not added, and the confirmed return reaches the county server with those
// unit codes. Nothing is mocked: service, terminal and server are the real pieces.
import { expect } from 'chai';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { useTestApp } from '../../support/harness.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import type { ClerkNotice } from '../../../terminals/pos/device-bridge.js';
import { sseEvents } from '../../../terminals/pos/sse-reader.js';
import { encodeKeyboardScan } from '../../../terminals/hid/keyboard-encoder.js';
import { encodeHidPosScan } from '../../../terminals/hid/hid-pos-encoder.js';
import { hidPosProfile } from '../../../terminals/hid/hid-pos-profiles.js';
import { formatReplayFile, type ReplayRecord } from '../../../terminals/hid/replay-file.js';
import type { DeviceConfig } from '../../../terminals/hid/device-config.js';
import { COUNTY, FARMER_PHONE, unitCode, traceUrl } from '../../features/ledger/ledger-fixtures.js';
import { enrolmentCode, openGate, tempDir, terminalConfig, waitFor, type Gate } from './pos-support.js';

const execFileP = promisify(execFile);
const TOKEN = 'service-replay-token';
const KB: DeviceConfig = { key: 'scanner-kb', kind: 'keyboard' };
const POS: DeviceConfig = { key: 'scanner-pos', kind: 'hid-pos', hidPos: { profile: 'code-60' } };
const ROOT = path.resolve(new URL('../../..', import.meta.url).pathname);

/** Starts `hid serve` as its own process on a free port; resolves with its URL once it listens. */
async function startDeviceService(configFile: string): Promise<{ url: string; proc: ChildProcess; log: () => string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'terminals/hid/cli.ts', 'serve', '--config', configFile, '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  proc.stdout!.resume();
  const url = await waitFor('the device service to listen', () => {
    if (proc.exitCode !== null) throw new Error(`hid serve exited ${proc.exitCode}: ${err}`);
    return /device events at (http:\/\/\S+)\/events/.exec(err)?.[1] ?? null;
  }, 60_000);
  return { url, proc, log: () => err };
}

/** A recording: each text scanned by one of the two scanners, 150 ms apart, as the raw reports they send. */
function recording(scans: Array<{ device: DeviceConfig; text: string }>): string {
  const records: ReplayRecord[] = [];
  let t = 0;
  for (const s of scans) {
    const reports = s.device.kind === 'keyboard' ? encodeKeyboardScan(s.text) : encodeHidPosScan(hidPosProfile('code-60'), s.text, 0x01);
    for (const bytes of reports) {
      records.push({ t_ms: t, device: s.device.key, bytes });
      t += 4;
    }
    t += 150;
  }
  return formatReplayFile({ recorded_at: new Date().toISOString(), devices: [KB, POS], records });
}

/** The clerk's screen stream (GET /local/devices/stream), as the browser's EventSource reads it. */
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

describe('the terminal subscribed to a running device service (HID_EVENTS_URL)', function () {
  this.timeout(180_000);
  const t = useTestApp();
  let gate: Gate;
  let term: RunningTerminal;
  let dir: string;
  let service: Awaited<ReturnType<typeof startDeviceService>>;
  let product: { id: string; reg: string; pack: string };

  type View = { returnItems: Array<{ unitCode: string | null; productId: string | null; quantity: number; source: string }>; bagScans: string[]; devices: Record<string, { status: string; detail: string }> };
  const view = async () => (await (await fetch(`${term.url}/local/devices`)).json()) as View;
  const post = (p: string, body: unknown) => fetch(`${term.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  /** Posts a recording to the running device service with the operators' command. */
  const replayIntoService = async (text: string) => {
    const file = path.join(dir, `scan-${Date.now()}.jsonl`);
    fs.writeFileSync(file, text);
    const { stdout } = await execFileP(process.execPath, ['--import', 'tsx', 'terminals/hid/cli.ts', 'replay', file, '--to', service.url, '--speed', '1', '--token', TOKEN], { cwd: ROOT });
    expect(stdout).to.contain(`replaying into ${service.url}`);
  };

  before(async () => {
    t.clock.set(new Date(Date.now() + 3600_000).toISOString());
    gate = await openGate(t);
    dir = tempDir('pos-hid-url');
    const configFile = path.join(dir, 'devices.json');
    // The scanners are configured (no such hardware here: nothing live to read) and replays are on.
    fs.writeFileSync(configFile, JSON.stringify({ devices: [KB, POS], http: { replayToken: TOKEN } }));
    service = await startDeviceService(configFile);
    term = await startTerminal(terminalConfig(gate.url, dir, { HID_EVENTS_URL: service.url }));
    const { code } = await enrolmentCode(t);
    await term.enrol(code);
    await waitFor('reference data', () => term.reference());
    const p = term.reference()!.snapshot.products.find((x) => x.packSizeCode && term.reference()!.depositFor(x.containerTypeId, term.reference()!.snapshot.businessDay))!;
    product = { id: p.id, reg: p.registrationNo.slice(-6), pack: p.packSizeCode! };
    // Subscribed: the bridge's stream to the service is open (it says so once GET /events answered).
    await waitFor('the terminal subscribed to the device service', async () => (await view()).devices[`sse:${service.url}`]?.status === 'connected');
  });
  after(async () => {
    await term?.stop();
    await gate?.close();
    if (service?.proc && service.proc.exitCode === null) {
      const exited = new Promise((r) => service.proc.once('exit', r));
      service.proc.kill('SIGTERM');
      await exited;
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('scans replayed into the device service arrive as return rows; the confirmed return reaches the server with those codes', async () => {
    const codeA = unitCode(product);
    const codeB = unitCode(product);
    const codeC = unitCode(product);
    const sold = await term.counter.sale({ purchaser: { phone: FARMER_PHONE, name: '测试农户' }, lines: [{ productId: product.id, quantity: 3, unitCodes: [codeA, codeB, codeC] }] });
    await post('/local/devices/screen', { screen: 'return' });
    const stream = await listen(term.url);
    await replayIntoService(recording([
      { device: KB, text: traceUrl(codeA) }, // keyboard-wedge scanner
      { device: POS, text: traceUrl(codeB) }, // HID POS scanner: the URL spans two reports
      { device: KB, text: traceUrl(codeA) }, // A again: shown, not added
      { device: POS, text: traceUrl(codeC) },
    ]));
    const rows = await waitFor('three scanned rows in the return', async () => {
      const v = await view();
      return v.returnItems.length === 3 && stream.notices.length >= 4 ? v.returnItems : null;
    });
    await stream.close();
    expect(rows.map((r) => [r.unitCode, r.productId, r.quantity, r.source])).to.deep.equal([
      [codeA, product.id, 1, 'scan'], [codeB, product.id, 1, 'scan'], [codeC, product.id, 1, 'scan'],
    ]);
    // What the clerk's screen showed, in the order the scanners sent it, from both devices.
    expect(stream.notices.map((n) => [n.type, n.deviceKey, n.added?.unitCode ?? null])).to.deep.equal([
      ['scan', KB.key, codeA], ['scan', POS.key, codeB], ['duplicate_scan', KB.key, null], ['scan', POS.key, codeC],
    ]);

    const res = await post('/local/returns', { deviceSession: true, returner: { phone: FARMER_PHONE }, payment: { method: 'cash' } });
    const body = (await res.json()) as { record: { id: string } };
    expect(res.status, JSON.stringify(body)).to.equal(200);
    term.worker.kick();
    await waitFor('sale and return synced', () => term.journal.get(body.record.id)?.state === 'synced' && term.journal.get(sold.entry.record.id)?.state === 'synced');
    const items = (await t.db.knex('return_items').where({ county_id: COUNTY, return_id: body.record.id }).select('unit_code', 'inspection')) as Array<{ unit_code: string; inspection: string }>;
    expect(items.map((i) => i.unit_code).sort()).to.deep.equal([codeA, codeB, codeC].sort());
    expect(items.every((i) => i.inspection === 'accepted')).to.equal(true);
  });

  it('on the bags screen the same stream fills the bag scans', async () => {
    await post('/local/devices/clear', { what: 'return' });
    await post('/local/devices/screen', { screen: 'bags' });
    const codes = [unitCode(product), unitCode(product)];
    await replayIntoService(recording([{ device: POS, text: traceUrl(codes[0]!) }, { device: KB, text: traceUrl(codes[1]!) }]));
    const v = await waitFor('two bag scans', async () => {
      const x = await view();
      return x.bagScans.length >= 2 ? x : null;
    });
    expect(v.bagScans.map((s) => codes.find((c) => s.includes(c)) ?? s)).to.deep.equal(codes);
    expect(v.returnItems).to.deep.equal([]);
  });

  it('keeps the subscription across a device service restart', async () => {
    // The service goes away: the bridge reports it, then finds it again when it is back on the same port.
    const port = new URL(service.url).port;
    const exited = new Promise((r) => service.proc.once('exit', r));
    service.proc.kill('SIGTERM');
    await exited;
    await waitFor('the bridge to notice', async () => (await view()).devices[`sse:${service.url}`]?.status === 'disconnected');
    const configFile = path.join(dir, 'devices.json');
    const again = spawn(process.execPath, ['--import', 'tsx', 'terminals/hid/cli.ts', 'serve', '--config', configFile, '--port', port], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    again.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    again.stdout!.resume();
    service = { url: service.url, proc: again, log: () => err };
    await waitFor('the restarted service', () => {
      if (again.exitCode !== null) throw new Error(`hid serve exited ${again.exitCode}: ${err}`);
      return err.includes('device events at');
    }, 60_000);
    await waitFor('the terminal subscribed again', async () => (await view()).devices[`sse:${service.url}`]?.status === 'connected');
    await post('/local/devices/screen', { screen: 'return' });
    await post('/local/devices/clear', { what: 'return' });
    const code = unitCode(product);
    await replayIntoService(recording([{ device: KB, text: traceUrl(code) }]));
    const rows = await waitFor('the scan after the restart', async () => {
      const r = (await view()).returnItems;
      return r.length ? r : null;
    });
    expect(rows.map((r) => r.unitCode)).to.deep.equal([code]);
  });
});
