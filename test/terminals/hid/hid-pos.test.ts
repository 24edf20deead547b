import { expect } from 'chai';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { HidPosDecoder, type HidPosOutput } from '../../../terminals/hid/hid-pos-decoder.js';
import { encodeHidPosScan } from '../../../terminals/hid/hid-pos-encoder.js';
import { HID_POS_PROFILES, hidPosProfile } from '../../../terminals/hid/hid-pos-profiles.js';

function decodeAll(profileName: string, reports: Uint8Array[], gap_ms = 2): HidPosOutput[] {
  const d = new HidPosDecoder(hidPosProfile(profileName));
  return reports.flatMap((r, i) => d.push(r, i * gap_ms));
}

describe('HID POS barcode scanner decoder (usage page 0x8C)', () => {
  for (const name of Object.keys(HID_POS_PROFILES)) {
    it(`reassembles any Unicode payload split across reports (profile ${name})`, () => {
      const profile = hidPosProfile(name);
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 120 }), (text) => {
          const reports = encodeHidPosScan(profile, text, profile.symbologyLength === 1 ? 0x01 : ']Q1');
          const out = decodeAll(name, reports);
          expect(out).to.have.length(1);
          expect(out[0]).to.include({ kind: 'scan', text, symbology: 'qr', reports: reports.length });
        }),
        { numRuns: 50 },
      );
    });
  }

  it('decodes a Chinese QR payload sent as UTF-8 over several reports', () => {
    const text = '农药包装废弃物回收 追溯码 https://nongyao.example.cn/q?c=11203451005123456789012345678901';
    const reports = encodeHidPosScan(hidPosProfile('aim-56'), text, ']Q1');
    expect(reports.length).to.be.greaterThan(1);
    expect(decodeAll('aim-56', reports)[0]).to.include({ kind: 'scan', text, encoding: 'utf-8' });
  });

  it('falls back to GB18030 for scanners set to the Chinese code page', () => {
    const text = '示例化工有限公司';
    const reports = encodeHidPosScan(hidPosProfile('code-60'), new Uint8Array(iconv.encode(text, 'gb18030')), 0x01);
    expect(decodeAll('code-60', reports)[0]).to.include({ kind: 'scan', text, encoding: 'gb18030' });
  });

  it('rejects a length byte larger than the profile allows', () => {
    const [r] = encodeHidPosScan(hidPosProfile('aim-56'), 'x', ']Q1');
    (r as Uint8Array)[1] = 57;
    expect(decodeAll('aim-56', [r as Uint8Array])[0]).to.include({ kind: 'misread', reason: 'bad_report' });
  });

  it('drops a scan whose last report never arrives, and reads the next one', () => {
    const profile = hidPosProfile('aim-56');
    const long = encodeHidPosScan(profile, 'x'.repeat(100), ']Q1');
    const next = encodeHidPosScan(profile, 'next', ']Q1');
    const out = decodeAll('aim-56', [long[0] as Uint8Array, ...next], 1000);
    expect(out.map((o) => o.kind)).to.deep.equal(['misread', 'scan']);
    expect(out[1]).to.include({ text: 'next' });
  });

  it('ignores reports with another report id', () => {
    const other = new Uint8Array(64);
    other[0] = 0x05;
    expect(decodeAll('aim-56', [other])).to.deep.equal([]);
  });
});
