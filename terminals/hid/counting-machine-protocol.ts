// The counting machine's vendor-defined HID report (docs/hardware/counting-machine.md): constants
// and the checksum shared by the decoder and the encoder.

export const MACHINE_REPORT_LENGTH = 64;
export const MACHINE_REPORT_ID = 0x01;
export const MACHINE_MAGIC = [0x41, 0x52] as const; // "AR"
export const MACHINE_PROTOCOL_VERSION = 1;

export const OFFSET = {
  reportId: 0,
  magic: 1,
  version: 3,
  sequence: 4,
  eventType: 8,
  machineClock: 9,
  payload: 13,
  crc: 62,
} as const;

export const EVENT_TYPE = {
  item_counted: 0x01,
  jam: 0x02,
  bin_full: 0x03,
  heartbeat: 0x04,
  counters: 0x05,
} as const;
export type MachineEventType = keyof typeof EVENT_TYPE;

export const MATERIALS = ['unknown', 'hdpe', 'pet', 'other_plastic', 'glass', 'metal', 'foil_composite', 'paper'] as const;
export type MaterialClass = (typeof MATERIALS)[number];

export const ITEM_FLAG = { unitCode: 0x01, weight: 0x02, unreadableCode: 0x04 } as const;
export const MAX_LANES = 8;

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor). */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** 32 decimal digits → 16 bytes of packed BCD, first digit in the high nibble. */
export function packBcd(digits: string): Uint8Array {
  if (!/^[0-9]{32}$/.test(digits)) throw new Error('a unit code is 32 digits');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = (Number(digits[2 * i]) << 4) | Number(digits[2 * i + 1]);
  return out;
}

/** Packed BCD → digits, or null when a nibble is not 0–9. */
export function unpackBcd(bytes: Uint8Array): string | null {
  let s = '';
  for (const b of bytes) {
    const hi = b >> 4;
    const lo = b & 0x0f;
    if (hi > 9 || lo > 9) return null;
    s += `${hi}${lo}`;
  }
  return s;
}
