// kill -9 of the terminal process between "confirmed" and "synced" loses nothing: the clerk's five
// sales are confirmed while the server is out of reach, the process is killed, and after a restart
// every one reaches the server exactly once. Also: a torn last line (a write cut by the crash, never
// confirmed) is dropped without harming the rest.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { useTestApp } from '../../support/harness.js';
import { Journal } from '../../../terminals/pos/journal.js';
import { GLYPHOSATE } from '../../features/ledger/ledger-fixtures.js';
import { countSales, enrolmentCode, openGate, tempDir, waitFor, type Gate } from './pos-support.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

function startChild(serverUrl: string, dataDir: string): { child: ChildProcess; url: Promise<string>; exited: Promise<number | null> } {
  const env = { ...process.env, SERVER_URL: serverUrl, POS_DATA_DIR: dataDir, UI_PORT: '0', SYNC_INTERVAL_MS: '200', SYNC_BACKOFF_MS: '50', SYNC_MAX_BACKOFF_MS: '300' };
  const child = spawn(process.execPath, ['--import', 'tsx', 'terminals/pos/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /open (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`terminal exited ${code}: ${out}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url, exited };
}

async function post(url: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

describe('terminal journal durability', function () {
  this.timeout(120_000);
  const t = useTestApp();
  let gate: Gate;
  const dir = tempDir('pos-kill');
  before(async () => {
    t.clock.set(new Date(Date.now() + 3600_000).toISOString());
    gate = await openGate(t);
  });
  after(async () => {
    await gate.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 after "confirmed" and before "synced" loses nothing; after restart all sync exactly once', async () => {
    const first = startChild(gate.url, dir);
    const ui = await first.url;
    const { code } = await enrolmentCode(t);
    await post(`${ui}/local/enrol`, { enrolmentCode: code });
    await waitFor('reference data', async () => ((await (await fetch(`${ui}/local/status`)).json()) as { reference: unknown }).reference);

    gate.down = true; // the village internet is out
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await post(`${ui}/local/sales`, { purchaser: { phone: '17460000950', name: '断电农户' }, lines: [{ productId: GLYPHOSATE.id, quantity: i + 1 }] });
      expect(r.confirmed).to.equal(true);
      expect(r.record.state).to.be.oneOf(['pending', 'sending']);
      ids.push(r.record.id);
    }
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await countSales(t, ids)).to.equal(0);

    // Simulate a write torn by the crash: half a line at the end, never confirmed to anyone.
    fs.appendFileSync(path.join(dir, 'journal.jsonl'), '{"t":"rec","rec":{"kind":"sale","id":"0190');

    gate.down = false;
    const second = startChild(gate.url, dir);
    const ui2 = await second.url;
    await waitFor('everything synced', async () => {
      const s = (await (await fetch(`${ui2}/local/status`)).json()) as { sync: { waiting: number; synced: number } };
      return s.sync.waiting === 0 && s.sync.synced === 5;
    });
    expect(await countSales(t, ids)).to.equal(5);
    second.child.kill('SIGTERM');
    expect(await second.exited).to.equal(0);

    const j = await Journal.open(dir);
    expect(j.all().map((e) => e.record.id)).to.deep.equal(ids);
    expect(j.all().every((e) => e.state === 'synced')).to.equal(true);
    await j.close();
  });
});
