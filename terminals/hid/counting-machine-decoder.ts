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
  isBcdDigits,
  unpackBcd,
  type MaterialClass,
} from './counting-machine-protocol.js';

export type MachineBody =
  | {
      type: 'item_counted';
      /** 1-based lane; 0 = the machine does not know the lane (single gate, lane sensor fault). */
      lane: number;
      /** The material class byte as sent (8–255 are not defined in version 1); the encoder derives it from material when absent. */
      materialCode?: number;
      /** The class for materialCode; 'unknown' for a code version 1 does not define. */
      material: MaterialClass;
      /**
       * The 32 nibbles the machine's camera read, unchecked (A–F where a nibble is not a decimal
       * digit); null when flag bit 0 is clear.
       */
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

/**
 * What is wrong in an item-counted report that is still a count (docs/hardware/counting-machine.md,
 * "Faulty fields"): the item was counted, the field in question is not used.
 */
export type ItemProblem = 'unit_code_not_bcd' | 'material_code_unknown' | 'unit_code_and_unreadable';

export function itemProblems(body: Extract<MachineBody, { type: 'item_counted' }>): ItemProblem[] {
  const problems: ItemProblem[] = [];
  if (body.unitCodeDigits !== null && !isBcdDigits(body.unitCodeDigits)) problems.push('unit_code_not_bcd');
  if (body.unitCodeDigits !== null && body.unreadableCode) problems.push('unit_code_and_unreadable');
  if (body.materialCode !== undefined && MATERIALS[body.materialCode] === undefined) problems.push('material_code_unknown');
  return problems;
}

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
      // A faulty field never costs the count: the container did pass the gate (see "Faulty fields").
      const flags = u8(2);
      const materialCode = u8(1);
      const unitCodeDigits = flags & ITEM_FLAG.unitCode ? unpackBcd(report.subarray(p + 3, p + 19)) : null;
      body = {
        type: 'item_counted',
        lane: u8(0),
        materialCode,
        material: MATERIALS[materialCode] ?? 'unknown',
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
