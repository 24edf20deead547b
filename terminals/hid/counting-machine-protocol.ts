// The counting machine's vendor-defined HID report (docs/hardware/counting-machine.md): constants
// and the checksum shared by the decoder and the encoder.

import { parseReportDescriptor } from './hid-descriptor.js';

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

/** Sequence numbers run 0 (after power-on or reset only), 1, 2, … 0xFFFFFFFF, 1, 2, …: modulo 2³², 0 skipped. */
export function nextSequence(sequence: number): number {
  return sequence >= 0xffffffff ? 1 : sequence + 1;
}

/** Interrupt IN endpoint bInterval (full speed, ms): the host polls at most this often, so at most 100 reports/s. */
export const MACHINE_POLL_INTERVAL_MS = 10;
/** Reports the machine must be able to hold while the host does not poll (e.g. during a USB re-enumeration). */
export const MACHINE_REPORT_QUEUE = 64;
/** A heartbeat every second while powered, including during a jam and with the door open. */
export const MACHINE_HEARTBEAT_MS = 1000;

/**
 * The machine's HID report descriptor, byte for byte (docs/hardware/counting-machine.md): one
 * vendor-defined application collection with one input report, id 0x01, 63 bytes of 8 bits after
 * the id (64 bytes with it). No output or feature reports.
 */
export const MACHINE_REPORT_DESCRIPTOR = Uint8Array.of(
  0x06, 0x41, 0xff, // Usage Page (Vendor-defined 0xFF41)
  0x09, 0x01, //       Usage (0x01: counting machine)
  0xa1, 0x01, //       Collection (Application)
  0x85, 0x01, //         Report ID (1)
  0x09, 0x02, //         Usage (0x02: machine report)
  0x15, 0x00, //         Logical Minimum (0)
  0x26, 0xff, 0x00, //   Logical Maximum (255)
  0x75, 0x08, //         Report Size (8 bits)
  0x95, 0x3f, //         Report Count (63)
  0x81, 0x02, //         Input (Data, Variable, Absolute)
  0xc0, //             End Collection
);

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor). */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/**
 * 32 nibbles → 16 bytes of packed BCD, first digit in the high nibble. Digits are 0–9; A–F are
 * accepted only so that tests and fixtures can build what a faulty machine sends.
 */
export function packBcd(digits: string): Uint8Array {
  if (!/^[0-9A-F]{32}$/.test(digits)) throw new Error('a unit code is 32 digits');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = (parseInt(digits[2 * i] as string, 16) << 4) | parseInt(digits[2 * i + 1] as string, 16);
  return out;
}

/** Packed BCD → 32 characters, one per nibble: 0–9, and A–F for a nibble that is not a decimal digit. */
export function unpackBcd(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b >> 4).toString(16).toUpperCase() + (b & 0x0f).toString(16).toUpperCase();
  return s;
}

export const isBcdDigits = (s: string): boolean => /^[0-9]*$/.test(s);

/** 64: the report id byte plus the input report the descriptor declares (Report Size 8 × Report Count 63). */
export const MACHINE_REPORT_LENGTH = 1 + (parseReportDescriptor(MACHINE_REPORT_DESCRIPTOR).inputs.find((r) => r.reportId === MACHINE_REPORT_ID)?.bytes ?? 0);
