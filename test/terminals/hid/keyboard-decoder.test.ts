import { expect } from 'chai';
import fc from 'fast-check';
import { KeyboardScanDecoder, type KeyboardOutput } from '../../../terminals/hid/keyboard-decoder.js';
import { encodeKeyboardScan, keyReport, RELEASE_REPORT, ROLLOVER_REPORT } from '../../../terminals/hid/keyboard-encoder.js';

function decode(reports: Uint8Array[], options = {}, gap_ms = 4): KeyboardOutput[] {
  const d = new KeyboardScanDecoder(options);
  return reports.flatMap((r, i) => d.push(r, 1000 + i * gap_ms));
}

function texts(outputs: KeyboardOutput[]): string[] {
  return outputs.map((o) => (o.kind === 'scan' ? o.text : `<${o.kind}>`));
}

const printableAscii = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 80 });

describe('HID boot keyboard decoder (keyboard-mode scanners)', () => {
  it('decodes any printable ASCII text typed as key reports back to itself', () => {
    fc.assert(
      fc.property(printableAscii, fc.boolean(), (text, rightShift) => {
        expect(texts(decode(encodeKeyboardScan(text, { rightShift })))).to.deep.equal([text]);
      }),
    );
  });

  it('ignores rollover-error reports and keys held across several reports, wherever they fall', () => {
    fc.assert(
      fc.property(printableAscii, fc.array(fc.nat(), { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 10 }), (text, rollovers, repeats) => {
        const reports = encodeKeyboardScan(text);
        // A repeated report is a key still held; a rollover report carries no key information.
        for (const r of repeats) {
          const i = r % reports.length;
          reports.splice(i, 0, reports[i] as Uint8Array);
        }
        for (const r of rollovers) reports.splice(r % (reports.length + 1), 0, ROLLOVER_REPORT);
        expect(texts(decode(reports))).to.deep.equal([text]);
      }),
    );
  });

  it('types the shifted symbols URLs need', () => {
    const url = 'https://t.example.cn/a_b-c.d?x=1&y=%20~!@#$^*()+{}|:"<>';
    expect(texts(decode(encodeKeyboardScan(url)))).to.deep.equal([url]);
  });

  it('ends a scan on Tab as well as Enter, and keypad Enter', () => {
    expect(texts(decode(encodeKeyboardScan('abc', { terminator: 'tab' })))).to.deep.equal(['abc']);
    expect(texts(decode([...encodeKeyboardScan('abc', { terminator: null }), keyReport(0, 0x58), RELEASE_REPORT]))).to.deep.equal(['abc']);
    expect(texts(decode(encodeKeyboardScan('abc', { terminator: 'tab' }), { endOnTab: false }))).to.deep.equal([]);
  });

  it('strips control-character prefixes (Ctrl+B = STX) and the configured prefix and suffix', () => {
    const reports = [keyReport(0x01, 0x05), RELEASE_REPORT, ...encodeKeyboardScan('SCN:12345/END', { terminator: null }), keyReport(0x10, 0x06), RELEASE_REPORT, keyReport(0, 0x28)];
    const [out] = decode(reports, { prefix: '\u0002SCN:', suffix: '/END' });
    expect(out).to.include({ kind: 'scan', text: '12345', raw: '\u0002SCN:12345/END\u0003' });
  });

  it('treats a usage in consecutive reports as one press, but a press after a release as another', () => {
    const a = keyReport(0, 0x04);
    expect(texts(decode([a, a, a, RELEASE_REPORT, a, keyReport(0, 0x04, 0x05), keyReport(0, 0x28)]))).to.deep.equal(['aab']);
  });

  it('accepts 9-byte reports with a report id in front and flags other lengths', () => {
    const withId = encodeKeyboardScan('ok').map((r) => Uint8Array.of(0x01, ...r));
    expect(texts(decode(withId))).to.deep.equal(['ok']);
    expect(decode([new Uint8Array(5)])[0]).to.include({ kind: 'report_error', reason: 'bad_length' });
  });

  it('reports a scan that never got its Enter as unterminated when the next scan starts', () => {
    const d = new KeyboardScanDecoder({ idleTimeout_ms: 300 });
    const first = encodeKeyboardScan('lost', { terminator: null }).flatMap((r, i) => d.push(r, i * 4));
    const second = encodeKeyboardScan('next').flatMap((r, i) => d.push(r, 2000 + i * 4));
    expect(first).to.deep.equal([]);
    expect(texts(second)).to.deep.equal(['<unterminated>', 'next']);
    expect(d.flush()).to.deep.equal([]);
  });

  it('ignores Alt combinations (Windows Alt codes) rather than typing digits', () => {
    expect(texts(decode([keyReport(0x04, 0x59), RELEASE_REPORT, ...encodeKeyboardScan('1')]))).to.deep.equal(['1']);
  });
});
