// docs/hardware/counting-machine.md is the contract with the machine's firmware; these tests hold
// the decoder and the encoder to it, and replay one recorded stream per question the document
// answers (test/fixtures/hid/counting-machine-*.jsonl, built by generate.ts).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { decodeMachineReport } from '../../../terminals/hid/counting-machine-decoder.js';
import { encodeMachineReport } from '../../../terminals/hid/counting-machine-encoder.js';
import {
  MACHINE_POLL_INTERVAL_MS,
  MACHINE_REPORT_DESCRIPTOR,
  MACHINE_REPORT_ID,
  MACHINE_REPORT_LENGTH,
  nextSequence,
  OFFSET,
} from '../../../terminals/hid/counting-machine-protocol.js';
import type { DeviceEvent } from '../../../terminals/hid/events.js';
import { parseReportDescriptor } from '../../../terminals/hid/hid-descriptor.js';
import { parseReplayFile, type ReplayFile } from '../../../terminals/hid/replay-file.js';
import { DeviceService } from '../../../terminals/hid/service.js';
import { UNIT_CODE, UNIT_CODE_2 } from '../../fixtures/hid/generate.js';

const doc = readFileSync(new URL('../../../docs/hardware/counting-machine.md', import.meta.url), 'utf8');
const fixture = (name: string): ReplayFile => parseReplayFile(readFileSync(new URL(`../../fixtures/hid/${name}`, import.meta.url), 'utf8'));
const hexBytes = (text: string): number[] => text.split(/[\s|]+/).filter((t) => /^[0-9a-f]{2}$/i.test(t)).map((t) => parseInt(t, 16));

async function replay(name: string): Promise<DeviceEvent[]> {
  const service = new DeviceService({ devices: [] });
  const events: DeviceEvent[] = [];
  service.on('event', (e: DeviceEvent) => events.push(e));
  await service.replay(fixture(name), { speed: 0 });
  await service.close();
  return events;
}

/** Rows "| offset | size | field | notes |" of the table under a heading of the document. */
function layoutTable(heading: string): Array<{ offset: number; size: number; field: string }> {
  const start = doc.indexOf(heading);
  expect(start, heading).to.be.greaterThan(-1);
  const rows: Array<{ offset: number; size: number; field: string }> = [];
  for (const line of doc.slice(start).split('\n').slice(1)) {
    if (line.startsWith('#')) break;
    const m = /^\| (\d+) \| (\d+)[^|]* \| ([^|]+) \|/.exec(line);
    if (m) rows.push({ offset: Number(m[1]), size: Number(m[2]), field: (m[3] as string).trim() });
  }
  return rows;
}

describe('counting machine: the document and the code agree (the document wins)', () => {
  it('the report descriptor in the document is the one the decoder derives its report length from', () => {
    const block = /```hex descriptor\n([\s\S]*?)```/.exec(doc);
    expect(block, 'descriptor block').to.not.equal(null);
    const bytes = Uint8Array.from(hexBytes(block?.[1] ?? ''));
    expect([...bytes]).to.deep.equal([...MACHINE_REPORT_DESCRIPTOR]);
    expect(doc).to.include(`exactly these ${bytes.length} bytes`);
    const parsed = parseReportDescriptor(bytes);
    expect(parsed).to.include({ usagePage: 0xff41, usage: 0x01, collections: 1, outputs: 0, features: 0 });
    expect(parsed.inputs).to.have.length(1);
    expect(parsed.inputs[0]).to.include({ reportId: MACHINE_REPORT_ID, bits: 63 * 8, bytes: 63 });
    expect(parsed.inputs[0]?.fields).to.deep.equal([{ reportSize: 8, reportCount: 63, logicalMinimum: 0, logicalMaximum: 255, flags: 0x02 }]);
    expect(MACHINE_REPORT_LENGTH).to.equal(64);
    // Each row of the item table is the bytes it names, in order.
    const itemRows = [...doc.matchAll(/^\| `([0-9a-f ]+)` \|/gm)].flatMap((m) => hexBytes(m[1] as string));
    expect(itemRows).to.deep.equal([...MACHINE_REPORT_DESCRIPTOR]);
  });

  it('the polling interval in the document is the one the code states', () => {
    expect(doc).to.include(`**bInterval ${MACHINE_POLL_INTERVAL_MS}**`);
  });

  it("the document's example bytes decode to its caption, and the encoder writes the same bytes", () => {
    const block = /## Example[\s\S]*?```\n([\s\S]*?)```/.exec(doc);
    const bytes = Uint8Array.from(hexBytes(block?.[1] ?? ''));
    expect(bytes).to.have.length(64);
    const decoded = decodeMachineReport(bytes);
    expect(decoded.ok, JSON.stringify(decoded)).to.equal(true);
    if (!decoded.ok) return;
    expect(decoded.report.sequence).to.equal(101);
    expect(decoded.report.body).to.deep.include({ type: 'item_counted', lane: 1, material: 'hdpe', unitCodeDigits: UNIT_CODE, weight_mg: 48_500, totalCount: 42, unreadableCode: false });
    expect(doc).to.match(new RegExp(`lane 1, HDPE, unit code \`${UNIT_CODE}\`, 48.5 g, total 42,\\s+sequence 101`));
    expect([...encodeMachineReport(decoded.report)]).to.deep.equal([...bytes]);
  });

  it('every offset in the layout tables is where the encoder writes that field', () => {
    const header = layoutTable('## Report layout');
    const at = (field: string) => header.find((r) => r.field === field);
    expect(at('report id')).to.deep.include({ offset: OFFSET.reportId, size: 1 });
    expect(at('magic')).to.deep.include({ offset: OFFSET.magic, size: 2 });
    expect(at('protocol version')).to.deep.include({ offset: OFFSET.version, size: 1 });
    expect(at('sequence number')).to.deep.include({ offset: OFFSET.sequence, size: 4 });
    expect(at('event type')).to.deep.include({ offset: OFFSET.eventType, size: 1 });
    expect(at('machine clock')).to.deep.include({ offset: OFFSET.machineClock, size: 4 });
    expect(at('payload')).to.deep.include({ offset: OFFSET.payload, size: OFFSET.crc - OFFSET.payload });
    expect(at('checksum')).to.deep.include({ offset: OFFSET.crc, size: 2 });

    // Distinct values per field, read back at the documented offsets (little-endian).
    const read = (b: Uint8Array, row: { offset: number; size: number } | undefined) => {
      expect(row).to.not.equal(undefined);
      let v = 0;
      for (let i = (row?.size ?? 0) - 1; i >= 0; i--) v = v * 256 + (b[(row?.offset ?? 0) + i] as number);
      return v;
    };
    const field = (table: ReturnType<typeof layoutTable>, name: string) => table.find((r) => r.field === name);
    const r = encodeMachineReport({ sequence: 0x01020304, machineClock_ms: 0x0a0b0c0d, body: { type: 'item_counted', lane: 3, material: 'glass', unitCodeDigits: UNIT_CODE_2, unreadableCode: true, weight_mg: 0x00112233, totalCount: 0x44556677 } });
    expect(read(r, at('sequence number'))).to.equal(0x01020304);
    expect(read(r, at('event type'))).to.equal(0x01);
    expect(read(r, at('machine clock'))).to.equal(0x0a0b0c0d);
    const item = layoutTable('### 0x01 item counted');
    expect(read(r, field(item, 'lane'))).to.equal(3);
    expect(read(r, field(item, 'material class'))).to.equal(4);
    expect(read(r, field(item, 'flags'))).to.equal(0b111);
    expect(Buffer.from(r.subarray(field(item, 'unit code')?.offset, (field(item, 'unit code')?.offset ?? 0) + 16)).toString('hex')).to.equal(UNIT_CODE_2);
    expect(read(r, field(item, 'weight'))).to.equal(0x00112233);
    expect(read(r, field(item, 'total count'))).to.equal(0x44556677);

    const jam = layoutTable('### 0x02 jam');
    const j = encodeMachineReport({ sequence: 1, machineClock_ms: 0, body: { type: 'jam', lane: 5, raised: true, jamCode: 0x33 } });
    expect([read(j, field(jam, 'lane')), read(j, field(jam, 'state')), read(j, field(jam, 'jam code'))]).to.deep.equal([5, 1, 0x33]);
    const bin = layoutTable('### 0x03 bin full');
    const b = encodeMachineReport({ sequence: 1, machineClock_ms: 0, body: { type: 'bin_full', bin: 2, raised: true, itemsInBin: 0x01020304 } });
    expect([read(b, field(bin, 'bin')), read(b, field(bin, 'state')), read(b, field(bin, 'items in bin'))]).to.deep.equal([2, 1, 0x01020304]);
    const hb = layoutTable('### 0x04 heartbeat');
    const h = encodeMachineReport({ sequence: 1, machineClock_ms: 0, body: { type: 'heartbeat', running: true, doorOpen: true, firmware: '2.7', totalCount: 0x0a0b0c0d } });
    expect([read(h, field(hb, 'state flags')), read(h, field(hb, 'firmware major')), read(h, field(hb, 'firmware minor')), read(h, field(hb, 'total count'))]).to.deep.equal([3, 2, 7, 0x0a0b0c0d]);
    const ct = layoutTable('### 0x05 counters');
    const c = encodeMachineReport({ sequence: 1, machineClock_ms: 0, body: { type: 'counters', totalCount: 0x11, rejectedCount: 0x22, laneCounts: [0x33, 0x44] } });
    expect([read(c, field(ct, 'total count')), read(c, field(ct, 'rejected count')), read(c, field(ct, 'lanes'))]).to.deep.equal([0x11, 0x22, 2]);
    const laneCounts = field(ct, 'lane counts');
    expect(laneCounts?.offset).to.equal(22);
    expect([read(c, { offset: 22, size: 4 }), read(c, { offset: 26, size: 4 })]).to.deep.equal([0x33, 0x44]);
  });
});

describe('counting machine: one recorded stream per answer in the document', () => {
  const summary = (e: DeviceEvent): string => {
    switch (e.type) {
      case 'count': return `count #${e.sequence} lane ${e.lane} total ${e.totalCount} ${e.material} code ${e.unitCodeStatus}${e.problems.length ? ` [${e.problems.join(',')}]` : ''}`;
      case 'sequence_gap': return `gap ${e.expected.toString(16)}..${e.received.toString(16)} missing ${e.missing} items ${e.itemsMissed}`;
      case 'machine_fault': return `${e.fault} ${e.state}${e.inferred ? ' (inferred)' : ''} lane ${e.lane}`;
      case 'machine_status': return `status running ${e.running} total ${e.totalCount}`;
      case 'machine_restarted': return `restarted after ${e.previousSequence}`;
      case 'counters_reset': return `counters reset ${e.previousTotal} -> ${e.totalCount}`;
      default: return e.type;
    }
  };

  it('sequence numbers wrap modulo 2³² and skip 0; 0 is a restart', async () => {
    expect(nextSequence(0xfffffffe)).to.equal(0xffffffff);
    expect(nextSequence(0xffffffff)).to.equal(1);
    expect((await replay('counting-machine-sequence-wrap.jsonl')).map(summary)).to.deep.equal([
      'count #4294967293 lane 1 total 10 pet code none',
      'count #4294967294 lane 1 total 11 pet code none',
      // Only 0xFFFFFFFF is missing across the wrap (0 is never a regular number), carrying item 12.
      'gap ffffffff..1 missing 1 items 1',
      'count #1 lane 1 total 13 pet code none',
      'count #2 lane 1 total 14 pet code none',
      'restarted after 2',
      'status running null total 0',
      'count #1 lane 2 total 1 pet code none',
    ]);
  });

  it('a BCD nibble above 9, material code 9, both code flags and lane 0 each keep their count and flag the field', async () => {
    const events = await replay('counting-machine-faulty-fields.jsonl');
    expect(events.map(summary)).to.deep.equal([
      'count #500 lane 1 total 70 pet code misread [unit_code_not_bcd]',
      'count #501 lane 1 total 71 unknown code none [material_code_unknown]',
      'count #502 lane 2 total 72 pet code unreadable [unit_code_and_unreadable]',
      'count #503 lane 0 total 73 pet code read',
    ]);
    expect(events.map((e) => (e.type === 'count' ? e.unitCode : 'x'))).to.deep.equal([null, null, null, UNIT_CODE_2]);
    expect(events[1]).to.include({ materialCode: 9 });
    // Before: the whole report was dropped as bad_payload. Nothing is a report_error now.
    expect(events.filter((e) => e.type === 'report_error')).to.deep.equal([]);
  });

  it('a counter reset is told apart from a restart; items lost across a reset are "unknown", not 0', async () => {
    expect((await replay('counting-machine-counter-reset.jsonl')).map(summary)).to.deep.equal([
      'count #20 lane 1 total 57 pet code none',
      'count #21 lane 1 total 58 pet code none',
      'counters reset 58 -> 0',
      'status running null total 0',
      'count #23 lane 1 total 1 pet code none',
      'count #24 lane 2 total 2 pet code none',
      'gap 19..1a missing 1 items null',
      'counters reset 2 -> 1',
      'count #26 lane 1 total 1 pet code none',
    ]);
  });

  it('heartbeats go on during a jam without clearing it; running again after a lost "cleared" clears it', async () => {
    expect((await replay('counting-machine-jam-heartbeat.jsonl')).map(summary)).to.deep.equal([
      'status running true total 80',
      'jam raised lane 2',
      'status running false total 80',
      'status running false total 80',
      'status running false total 80',
      'gap 23..24 missing 1 items 0',
      'jam cleared (inferred) lane 2',
      'status running true total 80',
      'count #37 lane 2 total 81 pet code none',
    ]);
  });

  it('a burst at the polling rate (one report per 10 ms) gives every count, in order', async () => {
    const file = fixture('counting-machine-burst.jsonl');
    const steps = file.records.slice(1).map((r, i) => r.t_ms - (file.records[i]?.t_ms ?? 0));
    expect(new Set(steps)).to.deep.equal(new Set([MACHINE_POLL_INTERVAL_MS]));
    const events = await replay('counting-machine-burst.jsonl');
    expect(events.map((e) => e.type)).to.deep.equal(Array(100).fill('count'));
    expect(events.map((e) => (e.type === 'count' ? e.totalCount : 0))).to.deep.equal(Array.from({ length: 100 }, (_, i) => 201 + i));
  });
});
