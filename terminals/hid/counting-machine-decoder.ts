// Decodes one counting-machine report (pure, no state). Sequence tracking is in
// counting-machine-stream.ts.
import {
  crc16,
  EVENT_TYPE,
  ITEM_FLAG,
  MACHINE_MAGIC,
  MACHINE_PROTOCOL_VERSION,
  MACHINE_REPORT_ID,
  MACHINE_REPORT_LENGTH,
  MATERIALS,
  MAX_LANES,
  OFFSET,
  unpackBcd,
  type MaterialClass,
} from './counting-machine-protocol.js';

export type MachineBody =
  | {
      type: 'item_counted';
      lane: number;
      material: MaterialClass;
      /** The 32 digits the machine's camera read, unchecked; null when none was read. */
      unitCodeDigits: string | null;
      /** The camera saw a code but could not read it. */
      unreadableCode: boolean;
      weight_mg: number | null;
      totalCount: number;
    }
  | { type: 'jam'; lane: number; raised: boolean; jamCode: number }
  | { type: 'bin_full'; bin: number; raised: boolean; itemsInBin: number }
  | { type: 'heartbeat'; running: boolean; doorOpen: boolean; firmware: string; totalCount: number }
  | { type: 'counters'; totalCount: number; rejectedCount: number; laneCounts: number[] };

export interface MachineReport {
  sequence: number;
  machineClock_ms: number;
  body: MachineBody;
}

export type MachineDecodeResult =
  | { ok: true; report: MachineReport }
  | { ok: false; reason: 'bad_length' | 'not_machine_report' | 'bad_version' | 'bad_checksum' | 'unknown_event' | 'bad_payload'; detail: string };

export function decodeMachineReport(report: Uint8Array): MachineDecodeResult {
  if (report.length !== MACHINE_REPORT_LENGTH) {
    return { ok: false, reason: 'bad_length', detail: `${report.length} bytes; a machine report has ${MACHINE_REPORT_LENGTH}` };
  }
  if (report[OFFSET.reportId] !== MACHINE_REPORT_ID || report[OFFSET.magic] !== MACHINE_MAGIC[0] || report[OFFSET.magic + 1] !== MACHINE_MAGIC[1]) {
    return { ok: false, reason: 'not_machine_report', detail: 'report id or magic "AR" missing' };
  }
  const view = new DataView(report.buffer, report.byteOffset, report.byteLength);
  const crc = view.getUint16(OFFSET.crc, true);
  const computed = crc16(report.subarray(0, OFFSET.crc));
  if (crc !== computed) {
    return { ok: false, reason: 'bad_checksum', detail: `checksum 0x${hex4(crc)} does not match 0x${hex4(computed)}` };
  }
  const version = view.getUint8(OFFSET.version);
  if (version !== MACHINE_PROTOCOL_VERSION) {
    return { ok: false, reason: 'bad_version', detail: `protocol version ${version}; this decoder speaks ${MACHINE_PROTOCOL_VERSION}` };
  }
  const sequence = view.getUint32(OFFSET.sequence, true);
  const machineClock_ms = view.getUint32(OFFSET.machineClock, true);
  const type = view.getUint8(OFFSET.eventType);
  const p = OFFSET.payload;
  const u8 = (i: number) => view.getUint8(p + i);
  const u32 = (i: number) => view.getUint32(p + i, true);

  let body: MachineBody;
  switch (type) {
    case EVENT_TYPE.item_counted: {
      const flags = u8(2);
      const material = MATERIALS[u8(1)];
      if (material === undefined) return { ok: false, reason: 'bad_payload', detail: `material class ${u8(1)}` };
      let unitCodeDigits: string | null = null;
      if (flags & ITEM_FLAG.unitCode) {
        unitCodeDigits = unpackBcd(report.subarray(p + 3, p + 19));
        if (unitCodeDigits === null) return { ok: false, reason: 'bad_payload', detail: 'unit code is not packed BCD' };
      }
      body = {
        type: 'item_counted',
        lane: u8(0),
        material,
        unitCodeDigits,
        unreadableCode: (flags & ITEM_FLAG.unreadableCode) !== 0,
        weight_mg: flags & ITEM_FLAG.weight ? u32(19) : null,
        totalCount: u32(23),
      };
      break;
    }
    case EVENT_TYPE.jam:
      body = { type: 'jam', lane: u8(0), raised: u8(1) === 1, jamCode: u8(2) };
      break;
    case EVENT_TYPE.bin_full:
      body = { type: 'bin_full', bin: u8(0), raised: u8(1) === 1, itemsInBin: u32(2) };
      break;
    case EVENT_TYPE.heartbeat:
      body = {
        type: 'heartbeat',
        running: (u8(0) & 0x01) !== 0,
        doorOpen: (u8(0) & 0x02) !== 0,
        firmware: `${u8(1)}.${u8(2)}`,
        totalCount: u32(3),
      };
      break;
    case EVENT_TYPE.counters: {
      const lanes = u8(8);
      if (lanes > MAX_LANES) return { ok: false, reason: 'bad_payload', detail: `${lanes} lanes; at most ${MAX_LANES}` };
      body = {
        type: 'counters',
        totalCount: u32(0),
        rejectedCount: u32(4),
        laneCounts: Array.from({ length: lanes }, (_, i) => u32(9 + 4 * i)),
      };
      break;
    }
    default:
      return { ok: false, reason: 'unknown_event', detail: `event type 0x${type.toString(16).padStart(2, '0')}` };
  }
  return { ok: true, report: { sequence, machineClock_ms, body } };
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}
