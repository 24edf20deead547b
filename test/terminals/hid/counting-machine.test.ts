import { expect } from 'chai';
import fc from 'fast-check';
import { decodeMachineReport, type MachineReport } from '../../../terminals/hid/counting-machine-decoder.js';
import { encodeMachineReport } from '../../../terminals/hid/counting-machine-encoder.js';
import { crc16, MATERIALS } from '../../../terminals/hid/counting-machine-protocol.js';
import { SequenceTracker } from '../../../terminals/hid/sequence-tracker.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u8 = fc.integer({ min: 0, max: 255 });
const digits32 = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 32, maxLength: 32 });
/** What a faulty camera may send: any nibble, 0–F. */
const nibbles32 = fc.string({ unit: fc.constantFrom(...'0123456789ABCDEF'), minLength: 32, maxLength: 32 });
const body = fc.oneof(
  fc.record({
    type: fc.constant('item_counted' as const),
    lane: u8,
    materialCode: u8,
    unitCodeDigits: fc.option(fc.oneof(digits32, nibbles32)),
    unreadableCode: fc.boolean(),
    weight_mg: fc.option(u32),
    totalCount: u32,
  }).map((b) => ({ ...b, material: MATERIALS[b.materialCode] ?? ('unknown' as const) })),
  fc.record({ type: fc.constant('jam' as const), lane: u8, raised: fc.boolean(), jamCode: u8 }),
  fc.record({ type: fc.constant('bin_full' as const), bin: u8, raised: fc.boolean(), itemsInBin: u32 }),
  fc.record({
    type: fc.constant('heartbeat' as const),
    running: fc.boolean(),
    doorOpen: fc.boolean(),
    firmware: fc.tuple(u8, u8).map(([a, b]) => `${a}.${b}`),
    totalCount: u32,
  }),
  fc.record({ type: fc.constant('counters' as const), totalCount: u32, rejectedCount: u32, laneCounts: fc.array(u32, { maxLength: 8 }) }),
);
const report: fc.Arbitrary<MachineReport> = fc.record({ sequence: u32, machineClock_ms: u32, body });

describe('counting machine report protocol', () => {
  it('decodes every encoded report to what was encoded', () => {
    fc.assert(
      fc.property(report, (r) => {
        const bytes = encodeMachineReport(r);
        expect(bytes).to.have.length(64);
        expect(decodeMachineReport(bytes)).to.deep.equal({ ok: true, report: r });
      }),
    );
  });

  it('rejects a report with any single byte changed (checksum)', () => {
    fc.assert(
      fc.property(report, fc.integer({ min: 0, max: 63 }), fc.integer({ min: 1, max: 255 }), (r, i, x) => {
        const bytes = encodeMachineReport(r);
        bytes[i] = (bytes[i] as number) ^ x;
        expect(decodeMachineReport(bytes).ok).to.equal(false);
      }),
    );
  });

  it('uses CRC-16/CCITT-FALSE (check value 0x29B1 for "123456789")', () => {
    expect(crc16(new TextEncoder().encode('123456789'))).to.equal(0x29b1);
  });

  it('names what is wrong with a report that is not ours', () => {
    expect(decodeMachineReport(new Uint8Array(8))).to.include({ ok: false, reason: 'bad_length' });
    expect(decodeMachineReport(new Uint8Array(64))).to.include({ ok: false, reason: 'not_machine_report' });
  });
});

describe('sequence tracking', () => {
  it('accepts consecutive numbers, reports gaps with how many are missing, and repeats', () => {
    const t = new SequenceTracker();
    expect(t.observe(7, 'a')).to.deep.equal({ kind: 'first' });
    expect(t.observe(8, 'b')).to.deep.equal({ kind: 'next' });
    expect(t.observe(11, 'c')).to.deep.equal({ kind: 'gap', expected: 9, missing: 2 });
    expect(t.observe(11, 'c')).to.deep.equal({ kind: 'repeat', identical: true });
    expect(t.observe(8, 'x')).to.deep.equal({ kind: 'repeat', identical: false });
    expect(t.observe(12, 'd')).to.deep.equal({ kind: 'next' });
  });

  it('wraps from 0xFFFFFFFF to 1 and takes 0 as a restart', () => {
    const t = new SequenceTracker();
    t.observe(0xfffffffe, 'a');
    expect(t.observe(0xffffffff, 'b')).to.deep.equal({ kind: 'next' });
    expect(t.observe(1, 'c')).to.deep.equal({ kind: 'next' });
    expect(t.observe(0, 'd')).to.deep.equal({ kind: 'restarted', previous: 1 });
    expect(t.observe(1, 'e')).to.deep.equal({ kind: 'next' });
    const u = new SequenceTracker();
    u.observe(0xfffffffe, 'a');
    expect(u.observe(2, 'b')).to.deep.equal({ kind: 'gap', expected: 0xffffffff, missing: 2 });
  });
});
