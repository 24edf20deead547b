// Builds counting-machine reports as the machine's firmware would. For tests, fixtures, the demo
// and as the reference for the firmware authors.
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
  packBcd,
} from './counting-machine-protocol.js';
import type { MachineBody, MachineReport } from './counting-machine-decoder.js';


export function encodeMachineReport(report: MachineReport): Uint8Array {
  const r = new Uint8Array(MACHINE_REPORT_LENGTH);
  const view = new DataView(r.buffer);
  r[OFFSET.reportId] = MACHINE_REPORT_ID;
  r.set(MACHINE_MAGIC, OFFSET.magic);
  r[OFFSET.version] = MACHINE_PROTOCOL_VERSION;
  view.setUint32(OFFSET.sequence, report.sequence >>> 0, true);
  view.setUint8(OFFSET.eventType, EVENT_TYPE[report.body.type]);
  view.setUint32(OFFSET.machineClock, report.machineClock_ms >>> 0, true);
  writePayload(r, view, report.body);
  view.setUint16(OFFSET.crc, crc16(r.subarray(0, OFFSET.crc)), true);
  return r;
}

function writePayload(r: Uint8Array, view: DataView, body: MachineBody): void {
  const p = OFFSET.payload;
  switch (body.type) {
    case 'item_counted': {
      let flags = 0;
      view.setUint8(p, body.lane);
      view.setUint8(p + 1, body.materialCode ?? MATERIALS.indexOf(body.material));
      if (body.unitCodeDigits !== null) {
        flags |= ITEM_FLAG.unitCode;
        r.set(packBcd(body.unitCodeDigits), p + 3);
      }
      if (body.weight_mg !== null) {
        flags |= ITEM_FLAG.weight;
        view.setUint32(p + 19, body.weight_mg, true);
      }
      if (body.unreadableCode) flags |= ITEM_FLAG.unreadableCode;
      view.setUint8(p + 2, flags);
      view.setUint32(p + 23, body.totalCount, true);
      return;
    }
    case 'jam':
      view.setUint8(p, body.lane);
      view.setUint8(p + 1, body.raised ? 1 : 0);
      view.setUint8(p + 2, body.jamCode);
      return;
    case 'bin_full':
      view.setUint8(p, body.bin);
      view.setUint8(p + 1, body.raised ? 1 : 0);
      view.setUint32(p + 2, body.itemsInBin, true);
      return;
    case 'heartbeat': {
      const [major, minor] = body.firmware.split('.').map(Number);
      view.setUint8(p, (body.running ? 1 : 0) | (body.doorOpen ? 2 : 0));
      view.setUint8(p + 1, major ?? 0);
      view.setUint8(p + 2, minor ?? 0);
      view.setUint32(p + 3, body.totalCount, true);
      return;
    }
    case 'counters':
      if (body.laneCounts.length > MAX_LANES) throw new Error(`at most ${MAX_LANES} lanes`);
      view.setUint32(p, body.totalCount, true);
      view.setUint32(p + 4, body.rejectedCount, true);
      view.setUint8(p + 8, body.laneCounts.length);
      body.laneCounts.forEach((c, i) => view.setUint32(p + 9 + 4 * i, c, true));
      return;
  }
}
