// Builds HID POS scale data reports, for tests, fixtures and the demo.
import { SCALE_STATUS_BY_CODE, SCALE_UNIT_BY_CODE, type ScaleStatus, type WeightUnit } from './scale-decoder.js';

const codeOf = <T extends string>(table: Readonly<Record<number, T>>, value: T): number => {
  const entry = Object.entries(table).find(([, v]) => v === value);
  if (entry === undefined) throw new Error(`no code for ${value}`);
  return Number(entry[0]);
};

/** `raw` is the weight field: −32768…32767 written as signed 16-bit (the HID POS way), 32768…65535 as unsigned. */
export function encodeScaleReport(reading: { status: ScaleStatus; unit: WeightUnit; exponent: number; raw: number }, reportId = 0x03): Uint8Array {
  const r = new Uint8Array(6);
  const view = new DataView(r.buffer);
  view.setUint8(0, reportId);
  view.setUint8(1, codeOf(SCALE_STATUS_BY_CODE, reading.status));
  view.setUint8(2, codeOf(SCALE_UNIT_BY_CODE, reading.unit));
  view.setInt8(3, reading.exponent);
  if (reading.raw < 0) view.setInt16(4, reading.raw, true);
  else view.setUint16(4, reading.raw, true);
  return r;
}
