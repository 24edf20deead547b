// The bytes a receipt becomes: standard ESC/POS that a Chinese printer prints as the model says,
// read back through the parser, never by searching the raw buffer.
import { expect } from 'chai';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import {
  layoutBagLabel,
  layoutDrawerReport,
  layoutRefundReceipt,
  layoutSaleReceipt,
  markAsReprint,
  PAPER,
  ReceiptModelError,
  REJECT_REASON_TEXT,
  renderEscPos,
  type PaperWidth,
  type PrintDoc,
  type SaleReceipt,
} from '../../../terminals/printing/index.js';
import { EscPosWriter } from '../../../terminals/printing/escpos-commands.js';
import { EscPosParseError, parseEscPos } from '../../../terminals/printing/escpos-parse.js';
import { bagLabel, drawer, refund, sale } from './support/fixtures.js';
import { readReceipt } from './support/receipt-bytes.js';

const PAPERS: PaperWidth[] = [58, 80];

function allDocs(paper: PaperWidth): Array<[string, PrintDoc]> {
  return [
    ['sale receipt', layoutSaleReceipt(sale, { paper })],
    ['refund receipt', layoutRefundReceipt(refund, { paper })],
    ['bag label', layoutBagLabel(bagLabel, { paper })],
    ['drawer report', layoutDrawerReport(drawer, { paper })],
  ];
}

describe('printing: ESC/POS rendering', () => {
  for (const paper of PAPERS) {
    describe(`${paper} mm paper`, () => {
      for (const [name, doc] of allDocs(paper)) {
        it(`${name}: starts with ESC @ then FS &, ends with a cut, every line fits ${PAPER[paper].columns} columns`, () => {
          const { commands, lines } = readReceipt(renderEscPos(doc));
          expect(commands[0]?.op).to.equal('init');
          expect(commands[1]).to.include({ op: 'chinese_mode', on: true });
          expect(commands.at(-1)?.op).to.equal('cut');
          expect(lines.length).to.be.greaterThan(5);
          for (const line of lines) {
            expect(line.columns, JSON.stringify(line.text)).to.be.at.most(PAPER[paper].columns);
          }
        });
      }

      it('sale receipt: Chinese text decoded from GB18030 carries products, 押金, 合计 and every amount', () => {
        const { text, lines } = readReceipt(renderEscPos(layoutSaleReceipt(sale, { paper })));
        for (const s of ['青神县瑞丰农资店', '押金', '合计', '草甘膦', '吡虫啉', 'Mancozeb', 'S-20250403-0012', '张**', '+86 174****0001', '请妥善保管此单据']) {
          expect(text).to.include(s);
        }
        for (const amount of ['￥1.00', '￥2.00', '￥0.50', '￥1.50', '￥5.50']) expect(text).to.include(amount);
        expect(text).to.include('2025-04-03 14:05'); // 06:05 UTC in Asia/Shanghai
        const total = lines.find((l) => l.text.includes('押金合计'));
        expect(total).to.include({ bold: true, height: 2 });
        expect(total?.text).to.match(/￥5\.50$/);
      });

      it('sale receipt: one QR code, model 2, level M, storing exactly the public check URL of the receipt, printed right after', () => {
        const { qrCodes, commands } = readReceipt(renderEscPos(layoutSaleReceipt(sale, { paper })));
        expect(qrCodes).to.have.length(1);
        expect(qrCodes[0]).to.deep.include({ model: 2, level: 'M', payload: 'https://agrireturn.qingshen.gov.cn/check/511425?q=S-20250403-0012', printedRightAfterStore: true });
        expect(qrCodes[0]!.moduleSize).to.be.within(3, 16);
        const storeAt = commands.findIndex((c) => c.op === 'qr_store');
        const alignBefore = commands.slice(0, storeAt).filter((c) => c.op === 'align').at(-1);
        expect(alignBefore).to.include({ align: 'center' });
      });

      it('refund receipt: accepted and rejected items with reason codes and both languages, amount, payment', () => {
        const { text, qrCodes } = readReceipt(renderEscPos(layoutRefundReceipt(refund, { paper })));
        for (const s of ['押金退还收据', '已接收', '未接收', '退款合计', '￥2.50', '￥2.00', '￥0.50', '移动支付', 'WX4200001234202505']) {
          expect(text).to.include(s);
        }
        for (const item of refund.rejected) {
          const reason = REJECT_REASON_TEXT[item.reason];
          expect(text).to.include(`[${item.reason}]`);
          expect(text).to.include(reason.zh);
          expect(text.replace(/\s+/g, ' ')).to.include(reason.en);
        }
        expect(qrCodes.map((q) => q.payload)).to.deep.equal(['AGRIRETURN:REFUND:R-20250510-0007']);
      });

      it('bag label: the seal number in double size and as the QR payload', () => {
        const { lines, qrCodes, text } = readReceipt(renderEscPos(layoutBagLabel(bagLabel, { paper })));
        expect(lines.find((l) => l.text === 'QS-2025-004711')).to.include({ width: 2, height: 2, bold: true });
        expect(qrCodes.map((q) => q.payload)).to.deep.equal(['AGRIRETURN:BAG:QS-2025-004711']);
        for (const s of ['HDPE 塑料瓶', '青神县', '2025-05-12', '140', '22', '162']) expect(text).to.include(s);
      });

      it('drawer report: deposits, refunds and net cash with grouping', () => {
        const { text, lines } = readReceipt(renderEscPos(layoutDrawerReport(drawer, { paper })));
        for (const s of ['日结报表', '￥1,234.50', '￥456.00', '￥300.00', '1234', '2025-05-12 18:30']) expect(text).to.include(s);
        expect(lines.find((l) => l.text.includes('应有现金'))?.text).to.match(/￥1,134\.50$/);
      });

      it('any product names and amounts: every printed line fits the paper (property)', () => {
        const cjk = fc.integer({ min: 0x4e00, max: 0x9fa5 }).map((cp) => String.fromCodePoint(cp));
        const nameChar = fc.oneof(cjk, fc.constantFrom('a', 'Z', '0', ' ', '%', 'mL', '-', '¥', '\n', '，', '。'));
        const name = fc.array(nameChar, { minLength: 1, maxLength: 60 }).map((a) => a.join(''));
        const line = fc.record({ productName: name, quantity: fc.integer({ min: 0, max: 100000 }), depositPerContainerFen: fc.integer({ min: 0, max: 10_000_000 }) });
        fc.assert(
          fc.property(fc.array(line, { minLength: 1, maxLength: 5 }), name, (lines, shopName) => {
            const full = lines.map((l) => ({ ...l, lineDepositFen: l.quantity * l.depositPerContainerFen }));
            const receipt: SaleReceipt = { ...sale, shopName, lines: full, totalDepositFen: full.reduce((n, l) => n + l.lineDepositFen, 0) };
            const read = readReceipt(renderEscPos(layoutSaleReceipt(receipt, { paper })));
            for (const l of read.lines) expect(l.columns).to.be.at.most(PAPER[paper].columns);
          }),
          { numRuns: 150 },
        );
      });
    });
  }

  it('prints ¥ as the two-byte full-width ￥ (A3A4), never the four-byte GB18030 sequence for U+00A5', () => {
    const bytes = renderEscPos(layoutSaleReceipt(sale, { paper: 58 }));
    const texts = parseEscPos(bytes).flatMap((c) => (c.op === 'text' ? [c.bytes] : []));
    const all = Buffer.concat(texts);
    expect(all.includes(iconv.encode('¥', 'gb18030'))).to.equal(false);
    expect(all.includes(Buffer.from([0xa3, 0xa4]))).to.equal(true);
  });

  it('a reprint is stamped 重印 REPRINT above the original content', () => {
    const doc = markAsReprint(layoutSaleReceipt(sale, { paper: 58 }), '2025-04-04T01:00:00Z');
    const { lines } = readReceipt(renderEscPos(doc));
    expect(lines[0]?.text).to.include('重印 REPRINT');
    expect(lines[1]?.text).to.equal('2025-04-04 09:00');
  });

  it('refuses a receipt whose numbers do not add up, rather than printing them', () => {
    expect(() => layoutSaleReceipt({ ...sale, totalDepositFen: 551 }, { paper: 58 })).to.throw(ReceiptModelError);
    const badLine = { ...sale.lines[0]!, lineDepositFen: 201 };
    expect(() => layoutSaleReceipt({ ...sale, lines: [badLine, ...sale.lines.slice(1)], totalDepositFen: 551 }, { paper: 58 })).to.throw(/line 1/);
    expect(() => layoutRefundReceipt({ ...refund, refundedFen: 1 }, { paper: 80 })).to.throw(ReceiptModelError);
  });
});

describe('printing: ESC/POS writer and parser', () => {
  it('writes the GS ( k QR sequence byte for byte as the Epson reference has it', () => {
    const bytes = new EscPosWriter().qrCode('AB', 6).bytes();
    expect(bytes.toString('hex')).to.equal(
      [
        '1d286b0400314132 00', // fn 165: model 2
        '1d286b0300314306', // fn 167: module size 6
        '1d286b0300314531', // fn 169: level M
        '1d286b0500315030 4142', // fn 180: store "AB" (pL = 2 + 3)
        '1d286b0300315130', // fn 181: print
      ].join('').replace(/ /g, ''),
    );
  });

  it('parses every command it writes back to the same meaning', () => {
    const w = new EscPosWriter().initialize().chineseMode().align('right').bold(true).size(2, 1).text('合计 ok').newline().feedLines(3).cut();
    const ops = parseEscPos(w.bytes()).map((c) => {
      const { offset: _offset, ...rest } = c as { offset: number } & Record<string, unknown>;
      if ('bytes' in rest) delete rest.bytes;
      return rest;
    });
    expect(ops).to.deep.equal([
      { op: 'init' },
      { op: 'chinese_mode', on: true },
      { op: 'align', align: 'right' },
      { op: 'bold', on: true },
      { op: 'size', width: 2, height: 1 },
      { op: 'text', text: '合计 ok' },
      { op: 'newline' },
      { op: 'feed', lines: 3 },
      { op: 'cut', partial: true, feedLines: null },
    ]);
  });

  it('rejects unknown and truncated commands with the byte offset', () => {
    expect(() => parseEscPos(Buffer.from([0x1b, 0x40, 0x1b, 0x7a]))).to.throw(EscPosParseError, /at byte 2/);
    expect(() => parseEscPos(Buffer.from([0x1d, 0x28, 0x6b, 0x09, 0x00, 0x31, 0x50, 0x30]))).to.throw(EscPosParseError, /truncated/);
    expect(() => parseEscPos(Buffer.from([0x41, 0x07]))).to.throw(EscPosParseError, /control byte/);
  });
});
