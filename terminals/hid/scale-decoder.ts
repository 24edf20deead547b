// Decodes HID POS scale data reports (usage page 0x8D): report id, status, unit, signed decimal
// exponent and a signed 16-bit weight (Data Weight, two's complement: −120 g is 0xFF88), into
// grams with the scale's stability state.

export type ScaleStatus =
  | 'fault'
  | 'zero'
  | 'in_motion'
  | 'stable'
  | 'under_zero'
  | 'overload'
  | 'needs_calibration'
  | 'needs_rezero';

/** Scale Status usages 0x70–0x77 of the HID POS usage tables, as sent in the status byte. */
export const SCALE_STATUS_BY_CODE: Readonly<Record<number, ScaleStatus>> = {
  1: 'fault',
  2: 'zero',
  3: 'in_motion',
  4: 'stable',
  5: 'under_zero',
  6: 'overload',
  7: 'needs_calibration',
  8: 'needs_rezero',
};

export type WeightUnit =
  | 'mg' | 'g' | 'kg' | 'ct' | 'tael' | 'gr' | 'dwt' | 't' | 'ton_us' | 'ozt' | 'oz' | 'lb';

/** Weight Unit codes of the scale data report (Weight Unit usages 0x50–0x5B). */
export const SCALE_UNIT_BY_CODE: Readonly<Record<number, WeightUnit>> = {
  1: 'mg', 2: 'g', 3: 'kg', 4: 'ct', 5: 'tael', 6: 'gr', 7: 'dwt', 8: 't', 9: 'ton_us', 10: 'ozt', 11: 'oz', 12: 'lb',
};

const GRAMS_PER_UNIT: Readonly<Record<WeightUnit, number | null>> = {
  mg: 0.001,
  g: 1,
  kg: 1000,
  ct: 0.2,
  // Which tael (市两 50 g, Hong Kong 37.799 g, troy) the scale means is not in the report.
  tael: null,
  gr: 0.06479891,
  dwt: 1.55517384,
  t: 1_000_000,
  ton_us: 907_184.74,
  ozt: 31.1034768,
  oz: 28.349523125,
  lb: 453.59237,
};

export interface ScaleOptions {
  /** Expected report id (byte 0), default 0x03; null for unnumbered reports. */
  reportId?: number | null;
  /** Grams per tael if the scale reports taels (e.g. 50 for 市两); unset means tael is rejected. */
  taelGrams?: number;
  /**
   * The scale's report descriptor declares Data Weight with Logical Minimum 0 (0–65535, never
   * negative): read the weight unsigned. Default false: signed, as the HID POS usage tables define it.
   */
  unsignedWeight?: boolean;
}

export interface ScaleReading {
  kind: 'reading';
  status: ScaleStatus;
  /** Weight in grams rounded to the milligram; negative under zero; null when the scale has none to give. */
  weight_g: number | null;
  /** The scale says the reading is settled (zero or stable). */
  stable: boolean;
  /** A settled, positive weight that may be recorded (e.g. a bag weight). */
  usable: boolean;
  unit: WeightUnit;
  exponent: number;
  /** The weight field as read: signed unless `unsignedWeight`. */
  raw: number;
}

export type ScaleOutput = ScaleReading | { kind: 'report_error'; reason: 'bad_report' | 'unknown_status' | 'unsupported_unit'; detail: string };

export function decodeScaleReport(report: Uint8Array, options: ScaleOptions = {}): ScaleOutput | null {
  const reportId = options.reportId === undefined ? 0x03 : options.reportId;
  const base = reportId === null ? 0 : 1;
  if (reportId !== null && report[0] !== reportId) return null; // another report (e.g. control), not data
  if (report.length < base + 5) {
    return { kind: 'report_error', reason: 'bad_report', detail: `scale report of ${report.length} bytes; expected at least ${base + 5}` };
  }
  const view = new DataView(report.buffer, report.byteOffset, report.byteLength);
  const statusCode = view.getUint8(base);
  const unitCode = view.getUint8(base + 1);
  const exponent = view.getInt8(base + 2);
  const raw = options.unsignedWeight === true ? view.getUint16(base + 3, true) : view.getInt16(base + 3, true);

  const status = SCALE_STATUS_BY_CODE[statusCode];
  if (status === undefined) return { kind: 'report_error', reason: 'unknown_status', detail: `scale status code ${statusCode}` };
  const unit = SCALE_UNIT_BY_CODE[unitCode];
  const perUnit = unit === 'tael' ? (options.taelGrams ?? null) : unit === undefined ? undefined : GRAMS_PER_UNIT[unit];
  const hasWeight = status === 'zero' || status === 'in_motion' || status === 'stable' || status === 'under_zero';
  if (unit === undefined || perUnit === undefined || (perUnit === null && hasWeight)) {
    return { kind: 'report_error', reason: 'unsupported_unit', detail: `scale unit code ${unitCode}${unit ? ` (${unit})` : ''} is not supported` };
  }

  let weight_g: number | null = null;
  if (hasWeight && perUnit !== null) {
    // Under zero the weight is negative: as sent (two's complement), or the magnitude some scales
    // send with the under-zero status.
    const value = status === 'under_zero' ? -Math.abs(raw) : raw;
    const grams = value * 10 ** exponent * perUnit;
    weight_g = status === 'zero' ? 0 : Math.round(grams * 1000) / 1000;
    if (Object.is(weight_g, -0)) weight_g = 0;
  }
  const stable = status === 'zero' || status === 'stable';
  return {
    kind: 'reading',
    status,
    weight_g,
    stable,
    usable: status === 'stable' && weight_g !== null && weight_g > 0,
    unit,
    exponent,
    raw,
  };
}
