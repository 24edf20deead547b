// Device-to-screen latency at the shop terminal: how long after a device report is due an event
// reaches the clerk's screen stream (GET /local/devices/stream, what the browser's EventSource reads).
// A real terminal (journal, device service, device bridge, UI server) replays a recording at
// recorded timing: keyboard-scanner scans, HID POS scans and counting-machine counts. The design's
// figure is "every event on the clerk's screen within 50 ms"; this section measures and prints it.
// It is a latency figure, so it lives here and not in the tests, which decide on behaviour only.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeMachineReport } from '../../terminals/hid/counting-machine-encoder.js';
import { encodeHidPosScan } from '../../terminals/hid/hid-pos-encoder.js';
import { hidPosProfile } from '../../terminals/hid/hid-pos-profiles.js';
import { encodeKeyboardScan } from '../../terminals/hid/keyboard-encoder.js';
import type { ReplayFile } from '../../terminals/hid/replay-file.js';
import { loadTerminalConfig } from '../../terminals/pos/config.js';
import { startTerminal } from '../../terminals/pos/terminal.js';
import type { BenchContext, BenchRow, BenchSection } from '../harness.js';
import { sseEvents } from '../../terminals/pos/sse-reader.js';

const EVENTS = Number(process.env.BENCH_DEVICE_EVENTS ?? 300);
const TARGET_MS = 50;

/** `n` events, one every 20 ms: a keyboard scan (4 ms between reports), a HID POS scan, a machine count. */
function recording(n: number): ReplayFile {
  const records: ReplayFile['records'] = [];
  const profile = hidPosProfile('aim-56');
  let t = 0;
  let sequence = 0;
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) {
      for (const bytes of encodeKeyboardScan(`BENCH-KB-${i}`)) records.push({ t_ms: (t += 4), device: 'kb', bytes });
    } else if (i % 3 === 1) {
      records.push({ t_ms: t, device: 'pos', bytes: encodeHidPosScan(profile, `BENCH-POS-${i}`, ']C0')[0] as Uint8Array });
    } else {
      records.push({ t_ms: t, device: 'counter', bytes: encodeMachineReport({ sequence: ++sequence, machineClock_ms: t, body: { type: 'item_counted', lane: 1, material: 'hdpe', unitCodeDigits: null, unreadableCode: false, weight_mg: null, totalCount: sequence } }) });
    }
    t += 20;
  }
  return {
    recorded_at: null,
    devices: [{ key: 'kb', kind: 'keyboard' }, { key: 'pos', kind: 'hid-pos', hidPos: { profile: 'aim-56' } }, { key: 'counter', kind: 'counting-machine' }],
    records,
  };
}

export const devicesSection: BenchSection = {
  name: 'devices',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-bench-devices-'));
    const term = await startTerminal(loadTerminalConfig({ SERVER_URL: ctx.baseUrl, POS_DATA_DIR: dir, UI_PORT: '0' }), { autoSync: false });
    const lags: number[] = [];
    const ac = new AbortController();
    try {
      const res = await fetch(`${term.url}/local/devices/stream`, { signal: ac.signal });
      const reading = (async () => {
        try {
          for await (const e of sseEvents(res.body!)) {
            if (e.event === 'notice') lags.push(Date.now() - (JSON.parse(e.data) as { at_ms: number }).at_ms);
          }
        } catch {
          /* aborted */
        }
      })();
      await term.devices.replay(recording(EVENTS), { speed: 1, name: 'bench' });
      for (const until = Date.now() + 10_000; lags.length < EVENTS && Date.now() < until;) await new Promise((r) => setTimeout(r, 20));
      ac.abort();
      await reading;
    } finally {
      await term.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const sorted = [...lags].sort((a, b) => a - b);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
    const within = lags.filter((l) => l < TARGET_MS).length;
    console.log(`devices: ${lags.length}/${EVENTS} events on the clerk's screen stream; device-to-screen p50 ${at(50)} ms, p99 ${at(99)} ms, max ${sorted.at(-1) ?? NaN} ms; ${within}/${lags.length} within ${TARGET_MS} ms (the design's figure)`);
    return [{
      section: 'devices', operation: `device report -> clerk's screen stream (ms; target < ${TARGET_MS})`, concurrency: 1,
      ops: lags.length, errors: EVENTS - lags.length, perSecond: NaN, p50Ms: at(50), p99Ms: at(99),
    }];
  },
};
