import { expect } from 'chai';
import { decodeScaleReport } from '../../../terminals/hid/scale-decoder.js';
import { encodeScaleReport } from '../../../terminals/hid/scale-encoder.js';

describe('HID scale decoder (usage page 0x8D)', () => {
  const cases: Array<[string, Parameters<typeof encodeScaleReport>[0], { weight_g: number | null; stable: boolean; usable: boolean }]> = [
    ['a stable weight in kg with exponent -3', { status: 'stable', unit: 'kg', exponent: -3, raw: 1234 }, { weight_g: 1234, stable: true, usable: true }],
    ['a weight in motion', { status: 'in_motion', unit: 'g', exponent: 0, raw: 812 }, { weight_g: 812, stable: false, usable: false }],
    ['zero', { status: 'zero', unit: 'kg', exponent: -3, raw: 0 }, { weight_g: 0, stable: true, usable: false }],
    ['overload (no weight)', { status: 'overload', unit: 'kg', exponent: -3, raw: 65535 }, { weight_g: null, stable: false, usable: false }],
    ['under zero (negative)', { status: 'under_zero', unit: 'g', exponent: -1, raw: 153 }, { weight_g: -15.3, stable: false, usable: false }],
    ['pounds', { status: 'stable', unit: 'lb', exponent: -2, raw: 250 }, { weight_g: 1133.981, stable: true, usable: true }],
    ['ounces with a positive exponent', { status: 'stable', unit: 'oz', exponent: 1, raw: 3 }, { weight_g: 850.486, stable: true, usable: true }],
    ['a fault', { status: 'fault', unit: 'kg', exponent: 0, raw: 0 }, { weight_g: null, stable: false, usable: false }],
    ['needs calibration', { status: 'needs_calibration', unit: 'g', exponent: 0, raw: 0 }, { weight_g: null, stable: false, usable: false }],
  ];
  for (const [name, reading, expected] of cases) {
    it(`reads ${name}`, () => {
      expect(decodeScaleReport(encodeScaleReport(reading))).to.deep.include({ kind: 'reading', status: reading.status, ...expected });
    });
  }

  it('reads the weight signed: −120 g under zero sent as 0xFF88 is −120 g, not −65,416 g', () => {
    const bytes = Uint8Array.of(0x03, 0x05, 0x02, 0x00, 0x88, 0xff); // report 3, under zero, g, 10^0, −120
    expect(decodeScaleReport(bytes)).to.deep.include({ kind: 'reading', status: 'under_zero', weight_g: -120, raw: -120, usable: false });
    expect([...encodeScaleReport({ status: 'under_zero', unit: 'g', exponent: 0, raw: -120 })]).to.deep.equal([...bytes]);
    // A scale that sends the magnitude with the under-zero status is still negative.
    expect(decodeScaleReport(encodeScaleReport({ status: 'under_zero', unit: 'g', exponent: 0, raw: 120 }))).to.include({ weight_g: -120 });
    // Negative while settling (in motion) is negative too; the largest positive value is 32767.
    expect(decodeScaleReport(encodeScaleReport({ status: 'in_motion', unit: 'g', exponent: 0, raw: -40 }))).to.include({ weight_g: -40, usable: false });
    expect(decodeScaleReport(encodeScaleReport({ status: 'stable', unit: 'g', exponent: 0, raw: 32767 }))).to.include({ weight_g: 32767, usable: true });
    // A scale declaring Data Weight unsigned (Logical Minimum 0) is read unsigned when configured.
    expect(decodeScaleReport(Uint8Array.of(0x03, 0x04, 0x02, 0x00, 0x40, 0x9c), { unsignedWeight: true })).to.include({ weight_g: 40000 });
    expect(decodeScaleReport(Uint8Array.of(0x03, 0x04, 0x02, 0x00, 0x40, 0x9c))).to.include({ weight_g: -25536, usable: false });
  });

  it('rejects taels unless the grams per tael are configured', () => {
    const r = encodeScaleReport({ status: 'stable', unit: 'tael', exponent: 0, raw: 2 });
    expect(decodeScaleReport(r)).to.include({ kind: 'report_error', reason: 'unsupported_unit' });
    expect(decodeScaleReport(r, { taelGrams: 50 })).to.include({ weight_g: 100 });
  });

  it('flags unknown status and unit codes and short reports; ignores other report ids', () => {
    expect(decodeScaleReport(Uint8Array.of(3, 9, 2, 0, 1, 0))).to.include({ reason: 'unknown_status' });
    expect(decodeScaleReport(Uint8Array.of(3, 4, 99, 0, 1, 0))).to.include({ reason: 'unsupported_unit' });
    expect(decodeScaleReport(Uint8Array.of(3, 4))).to.include({ reason: 'bad_report' });
    expect(decodeScaleReport(Uint8Array.of(4, 4, 2, 0, 1, 0))).to.equal(null);
    expect(decodeScaleReport(Uint8Array.of(4, 2, 0, 1, 0), { reportId: null })).to.include({ status: 'stable', weight_g: 1 });
  });
});
