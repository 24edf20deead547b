import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { encodeMachineReport } from '../../../terminals/hid/counting-machine-encoder.js';
import type { DeviceEvent } from '../../../terminals/hid/events.js';
import { encodeHidPosScan } from '../../../terminals/hid/hid-pos-encoder.js';
import { hidPosProfile } from '../../../terminals/hid/hid-pos-profiles.js';
import { encodeKeyboardScan } from '../../../terminals/hid/keyboard-encoder.js';
import { parseReplayFile, type ReplayFile } from '../../../terminals/hid/replay-file.js';
import { DeviceService } from '../../../terminals/hid/service.js';
import { ManualScheduler } from '../../support/manual-scheduler.js';
import { buildFixtures, GTIN, TRACE_URL, UNIT_CODE, UNIT_CODE_2 } from '../../fixtures/hid/generate.js';

const fixture = (name: string): ReplayFile => parseReplayFile(readFileSync(new URL(`../../fixtures/hid/${name}`, import.meta.url), 'utf8'));

async function replayEvents(file: ReplayFile, config = {}): Promise<DeviceEvent[]> {
  const service = new DeviceService({ devices: [], ...config });
  const events: DeviceEvent[] = [];
  service.on('event', (e: DeviceEvent) => events.push(e));
  await service.replay(file, { speed: 0 });
  await service.close();
  return events;
}

const summary = (e: DeviceEvent): string => {
  switch (e.type) {
    case 'scan':
      return `scan ${e.payload.kind === 'unit_code' ? e.payload.code : e.payload.kind === 'gtin' ? e.payload.gtin : e.payload.text}`;
    case 'misread':
      return `misread ${e.reason}`;
    case 'duplicate_scan':
      return `duplicate ${e.code}`;
    case 'count':
      return `count lane ${e.lane} total ${e.totalCount} code ${e.unitCodeStatus}`;
    case 'weight':
      return `weight ${e.status} ${e.weight_g}`;
    case 'machine_fault':
      return `${e.fault} ${e.state}`;
    case 'sequence_gap':
      return `gap ${e.expected}..${e.received - 1} items missed ${e.itemsMissed}`;
    case 'sequence_repeat':
      return `repeat ${e.sequence}`;
    default:
      return e.type;
  }
};

describe('device service on recorded reports', () => {
  it('fixture files are what the generator makes (regenerate with `npx tsx test/fixtures/hid/generate.ts`)', () => {
    for (const [name, text] of Object.entries(buildFixtures())) {
      expect(readFileSync(new URL(`../../fixtures/hid/${name}`, import.meta.url), 'utf8'), name).to.equal(text);
    }
  });

  it('keyboard scanner: unit code inside a URL, a GTIN, then the same unit code again counts once', async () => {
    const events = await replayEvents(fixture('keyboard-url-unit-code.jsonl'));
    expect(events.map(summary)).to.deep.equal([`scan ${UNIT_CODE}`, `scan ${GTIN}`, `duplicate ${UNIT_CODE}`]);
    expect(events[0]).to.include({ deviceKey: 'scanner-kb', source: 'keyboard', text: TRACE_URL, replayed: true });
  });

  it('keyboard scanner: dropped characters are misreads, never a wrong code', async () => {
    const events = await replayEvents(fixture('keyboard-dropped-chars.jsonl'));
    expect(events.map(summary)).to.deep.equal([
      'misread misread',
      'misread ambiguous',
      'misread bad_check_digit',
      'misread unterminated',
      `scan ${UNIT_CODE_2}`,
    ]);
  });

  it('keyboard scanner: rollover-error reports are dropped', async () => {
    expect((await replayEvents(fixture('keyboard-rollover.jsonl'))).map(summary)).to.deep.equal([`scan ${UNIT_CODE}`]);
  });

  it('HID POS scanner: a Chinese QR payload in UTF-8 across several reports', async () => {
    const file = fixture('hid-pos-chinese-qr.jsonl');
    expect(file.records.length).to.be.greaterThan(1);
    const [e] = await replayEvents(file);
    expect(e).to.include({ type: 'scan', source: 'hid-pos', symbology: 'qr' });
    if (e?.type === 'scan') {
      expect(e.text).to.match(/^农药包装废弃物回收 .*示例化工有限公司$/);
      expect(e.payload).to.include({ kind: 'unit_code', code: UNIT_CODE });
    }
  });

  it('HID POS scanner: a long URL split over reports, an EAN-13, and a scan cut short', async () => {
    const events = await replayEvents(fixture('hid-pos-split-scan.jsonl'));
    expect(events.map(summary)).to.deep.equal([`scan ${UNIT_CODE_2}`, `scan ${GTIN}`, 'misread unterminated', `scan ${UNIT_CODE}`]);
    expect(events.map((e) => (e.type === 'scan' ? e.symbology : null))).to.deep.equal(['qr', 'ean13', null, 'data_matrix']);
  });

  it('scale: zero, in motion, stable, overload, negative and pounds in grams; repeats suppressed', async () => {
    const events = await replayEvents(fixture('scale-readings.jsonl'));
    expect(events.map(summary)).to.deep.equal([
      'weight zero 0',
      'weight in_motion 812',
      'weight in_motion 1190',
      'weight stable 1234',
      'weight overload null',
      'weight under_zero -15',
      'weight stable 1133.981',
    ]);
    expect(events.filter((e) => e.type === 'weight' && e.usable).length).to.equal(2);
  });

  it('scale: −120 g under zero recorded from a scale (signed weight) is −120 g', async () => {
    const events = await replayEvents(fixture('scale-under-zero.jsonl'));
    expect(events.map(summary)).to.deep.equal(['weight zero 0', 'weight under_zero -120', 'weight under_zero -2', 'weight in_motion -40', 'weight stable 32767']);
    expect(events.filter((e) => e.type === 'weight' && e.usable).length).to.equal(1);
  });

  it('counting machine: counts, a lost report, a repeated report, faults and a corrupt report', async () => {
    const events = await replayEvents(fixture('counting-machine-stream.jsonl'));
    expect(events.map(summary)).to.deep.equal([
      'machine_status',
      'count lane 1 total 42 code read',
      'count lane 2 total 43 code none',
      'gap 103..103 items missed 1',
      'count lane 2 total 45 code none',
      'repeat 104',
      'jam raised',
      'jam cleared',
      'bin_full raised',
      'count lane 1 total 46 code unreadable',
      'count lane 1 total 47 code misread',
      'machine_status',
      'report_error',
    ]);
    const counts = events.filter((e) => e.type === 'count');
    expect(counts.map((e) => (e.type === 'count' ? e.unitCode : null))).to.deep.equal([UNIT_CODE, null, null, null, null]);
    expect(counts[0]).to.include({ weight_g: 48.5, material: 'hdpe', sequence: 101 });
  });

  it('de-duplicates unit codes within the configured window only, and never GTINs', async () => {
    const t = (t_ms: number, text: string) => encodeKeyboardScan(text).map((bytes, i) => ({ t_ms: t_ms + i * 4, device: 'kb', bytes }));
    const file: ReplayFile = {
      recorded_at: null,
      devices: [{ key: 'kb', kind: 'keyboard' }],
      records: [...t(0, UNIT_CODE), ...t(1000, UNIT_CODE), ...t(2000, GTIN), ...t(3000, GTIN), ...t(5000, UNIT_CODE)],
    };
    const events = await replayEvents(file, { dedupWindow_ms: 1500 });
    expect(events.map(summary)).to.deep.equal([`scan ${UNIT_CODE}`, `duplicate ${UNIT_CODE}`, `scan ${GTIN}`, `scan ${GTIN}`, `scan ${UNIT_CODE}`]);
  });

  it('reports a device with no configuration once, rather than guessing a decoder', async () => {
    const file: ReplayFile = { recorded_at: null, devices: [], records: [0, 1].map((t_ms) => ({ t_ms, device: 'ghost', bytes: new Uint8Array(8) })) };
    expect((await replayEvents(file)).map((e) => e.type === 'report_error' && e.reason)).to.deep.equal(['unknown_device']);
  });

  it('replayed at recorded timing, delivers each event when its report is due, in order, stamped with the recording', async () => {
    // One report completes each event: a machine count or a single-report HID POS scan. The replay's
    // clock is a manual scheduler: the test moves time, so the check is the same on a busy machine.
    // (How late events arrive on real timers is a latency figure: `npm run bench`, section devices.)
    const profile = hidPosProfile('aim-56');
    const records: ReplayFile['records'] = [];
    const expected: Array<[number, string]> = [];
    for (let i = 0; i < 12; i++) {
      const t_ms = 30 + i * 40;
      if (i % 2 === 0) {
        records.push({ t_ms, device: 'counter', bytes: encodeMachineReport({ sequence: i / 2 + 1, machineClock_ms: t_ms, body: { type: 'item_counted', lane: 1, material: 'pet', unitCodeDigits: null, unreadableCode: false, weight_mg: null, totalCount: i + 1 } }) });
        expected.push([t_ms, `count ${i + 1}`]);
      } else {
        const text = `BAG-${i}`;
        records.push({ t_ms, device: 'pos', bytes: encodeHidPosScan(profile, text, ']C0')[0] as Uint8Array });
        expected.push([t_ms, `scan ${text}`]);
      }
    }
    const file: ReplayFile = { recorded_at: null, devices: [{ key: 'counter', kind: 'counting-machine' }, { key: 'pos', kind: 'hid-pos', hidPos: { profile: 'aim-56' } }], records };
    const clock = new ManualScheduler();
    const start = clock.now();
    const service = new DeviceService({ devices: [] }, { scheduler: clock });
    const seen: Array<[number, string, number]> = [];
    service.on('event', (e: DeviceEvent) => {
      const key = e.type === 'count' ? `count ${e.totalCount}` : e.type === 'scan' && e.payload.kind === 'text' ? `scan ${e.payload.text}` : e.type;
      seen.push([e.at_ms - start, key, clock.now() - start]);
    });
    const done = service.replay(file, { speed: 1 });
    await clock.advance(29);
    expect(seen, 'nothing before the first report is due').to.deep.equal([]);
    for (const [i, [t_ms, key]] of expected.entries()) {
      await clock.advance(t_ms - (clock.now() - start));
      // Delivered the moment it is due: stamped with the recording's time, and nothing early.
      expect(seen, `after ${t_ms} ms`).to.deep.equal(expected.slice(0, i + 1).map(([t, k]) => [t, k, t]));
    }
    await done;
    await service.close();
    expect(clock.pending()).to.equal(0);
  });

  it('decides a replay the same on a busy host: a stall between two scans of one code still makes the second a duplicate', async () => {
    // The second scan comes 50 ms after the first in the recording; the host stalls for 300 ms when
    // the first arrives (a loaded machine). The window is 100 ms: the recording says "duplicate".
    const scan = (t_ms: number, text: string) => encodeKeyboardScan(text).map((bytes) => ({ t_ms, device: 'kb', bytes }));
    const file: ReplayFile = { recorded_at: null, devices: [{ key: 'kb', kind: 'keyboard' }], records: [...scan(0, UNIT_CODE), ...scan(50, UNIT_CODE)] };
    const service = new DeviceService({ devices: [], dedupWindow_ms: 100 });
    const events: DeviceEvent[] = [];
    service.on('event', (e: DeviceEvent) => {
      events.push(e);
      if (events.length === 1) for (const until = Date.now() + 300; Date.now() < until;) { /* the machine is busy */ }
    });
    await service.replay(file, { speed: 1 });
    await service.close();
    expect(events.map(summary)).to.deep.equal([`scan ${UNIT_CODE}`, `duplicate ${UNIT_CODE}`]);
  });

  it('also delivers through an async iterator', async () => {
    const service = new DeviceService({ devices: [] });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of service.events()) seen.push(e.type);
    })();
    await service.replay(fixture('keyboard-rollover.jsonl'), { speed: 0 });
    await service.close();
    await reading;
    expect(seen).to.deep.equal(['scan']);
  });
});
