// The bytes a receipt becomes: standard ESC/POS that a Chinese printer prints as the model says,
// read back through the parser, never by searching the raw buffer.
import { expect } from 'chai';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import {
  layoutBagLabel,
  layoutDrawerReport,
  layoutRedemptionReceipt,
  layoutRefundReceipt,
  layoutSaleReceipt,
  INCENTIVE_REASON_TEXT,
  markAsReprint,
  PAPER,
  ReceiptModelError,
  REJECT_REASON_TEXT,
  renderEscPos,
  type PaperWidth,
  type PrintDoc,
  type RefundReceipt,
  type SaleReceipt,
} from '../../../terminals/printing/index.js';
import { EscPosWriter } from '../../../terminals/printing/escpos-commands.js';
import { EscPosParseError, parseEscPos } from '../../../terminals/printing/escpos-parse.js';
import { bagLabel, drawer, drawerWithIncentives, redemption, refund, refundWithIncentives, sale } from './support/fixtures.js';
import { readReceipt } from './support/receipt-bytes.js';

const PAPERS: PaperWidth[] = [58, 80];

function allDocs(paper: PaperWidth): Array<[string, PrintDoc]> {
  return [
    ['sale receipt', layoutSaleReceipt(sale, { paper })],
    ['refund receipt', layoutRefundReceipt(refund, { paper })],
    ['bag label', layoutBagLabel(bagLabel, { paper })],
    ['drawer report', layoutDrawerReport(drawer, { paper })],
    ['refund receipt with incentives', layoutRefundReceipt(refundWithIncentives, { paper })],
    ['redemption receipt', layoutRedemptionReceipt(redemption, { paper })],
    ['drawer report with incentives', layoutDrawerReport(drawerWithIncentives, { paper })],
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

      it('refund receipt with incentives (issue 17): buy-back paid, points per item and earned, the balance, each reason in both languages', () => {
        const { text, lines } = readReceipt(renderEscPos(layoutRefundReceipt(refundWithIncentives, { paper })));
        const flat = text.replace(/\s+/g, ' ');
        for (const s of ['退款合计', '￥3.90', '有偿回收 buy-back ￥0.90', '积分 points 0.6', '积分 points 2', '积分 points 0.15']) expect(flat).to.include(s);
        for (const reason of ['fund_empty', 'household_cap'] as const) {
          expect(flat).to.include(INCENTIVE_REASON_TEXT[reason].zh);
          expect(flat).to.include(INCENTIVE_REASON_TEXT[reason].en);
        }
        expect(lines.find((l) => l.text.includes('其中有偿回收'))?.text).to.match(/￥0\.90$/);
        expect(lines.find((l) => l.text.includes('其中押金'))?.text).to.match(/￥3\.00$/);
        expect(lines.find((l) => l.text.includes('本次积分'))?.text).to.match(/2\.75$/);
        expect(lines.find((l) => l.text.includes('积分余额'))?.text).to.match(/12\.75$/);
        expect(flat).to.not.include('本机估算');
        // Offline: the figures are the terminal's estimate and the balance is not known at the counter.
        const est = readReceipt(renderEscPos(layoutRefundReceipt({ ...refundWithIncentives, pointsBalanceMilli: null, incentivesEstimated: true }, { paper }))).text.replace(/\s+/g, ' ');
        // Chinese wraps anywhere on narrow paper: read it without the line breaks.
        expect(est.replace(/ /g, '')).to.include('回收款和积分为本机估算，以县服务器核定为准').and.to.include('联网后可查');
        expect(est).to.include('the county server confirms them');
        // A refund receipt without incentives prints as before: no points lines.
        expect(readReceipt(renderEscPos(layoutRefundReceipt(refund, { paper }))).text).to.not.include('积分');
      });

      it('redemption receipt: goods, value, points used and the balance after, and that points are never cash', () => {
        const { text, lines } = readReceipt(renderEscPos(layoutRedemptionReceipt(redemption, { paper })));
        const flat = text.replace(/\s+/g, ' ');
        for (const s of ['积分兑换收据', 'DH20260610-C0DE-0001', '1042', '洗衣粉', '劳保手套', '￥35.50', '+86 174****0701', '2026-06-10 11:30', '不能兑换现金']) expect(flat).to.include(s);
        expect(lines.find((l) => l.text.includes('使用积分'))).to.include({ bold: true, height: 2 });
        expect(lines.find((l) => l.text.includes('使用积分'))?.text).to.match(/10\.5$/);
        expect(lines.find((l) => l.text.includes('积分余额'))?.text).to.match(/2\.25$/);
      });

      it('drawer report with incentives: buy-back within the refunds, points earned and redeemed apart from cash', () => {
        const { lines } = readReceipt(renderEscPos(layoutDrawerReport(drawerWithIncentives, { paper })));
        const line = (s: string) => lines.find((l) => l.text.includes(s))?.text;
        expect(line('其中有偿回收')).to.match(/￥123\.30$/);
        // Buy-back is not a deposit refund: the line above it names both (docs/incentives.md).
        expect(line('退款及有偿回收 Paid out')).to.be.a('string');
        expect(lines.some((l) => l.text.includes('退还押金 Refunds paid'))).to.equal(false);
        expect(line('积分发放')).to.match(/123\.4$/);
        expect(line('积分兑换 Points')).to.match(/10\.5$/);
        expect(line('兑换笔数')).to.match(/3$/);
        expect(line('应有现金')).to.match(/￥1,134\.50$/);
      });

      it('any product names, incentives and amounts: every printed line of a refund receipt fits the paper (property)', () => {
        const cjk = fc.integer({ min: 0x4e00, max: 0x9fa5 }).map((cp) => String.fromCodePoint(cp));
        const name = fc.array(fc.oneof(cjk, fc.constantFrom('a', 'Z', '0', ' ', '%', 'mL', '，')), { minLength: 1, maxLength: 60 }).map((a) => a.join(''));
        const reason = fc.constantFrom(null, ...(Object.keys(INCENTIVE_REASON_TEXT) as Array<keyof typeof INCENTIVE_REASON_TEXT>));
        const item = fc.record({ productName: name, quantity: fc.integer({ min: 1, max: 10000 }), depositFen: fc.integer({ min: 0, max: 10_000_000 }), buybackFen: fc.integer({ min: 0, max: 1_000_000 }), pointsMilli: fc.integer({ min: 0, max: 100_000_000 }), reason });
        fc.assert(fc.property(fc.array(item, { minLength: 1, maxLength: 5 }), fc.option(fc.integer({ min: 0, max: 1_000_000_000 }), { nil: null }), (items, balance) => {
          const accepted = items.map((i) => ({ productName: i.productName, quantity: i.quantity, refundFen: i.depositFen + i.buybackFen, incentive: { kind: i.buybackFen && i.pointsMilli ? 'buyback_points' as const : i.buybackFen ? 'buyback' as const : i.pointsMilli ? 'points' as const : 'none' as const, buybackFen: i.buybackFen, pointsMilli: i.pointsMilli, reason: i.reason } }));
          const r: RefundReceipt = { ...refundWithIncentives, accepted, refundedFen: accepted.reduce((n, a) => n + a.refundFen, 0), buybackFen: items.reduce((n, i) => n + i.buybackFen, 0), pointsEarnedMilli: items.reduce((n, i) => n + i.pointsMilli, 0), pointsBalanceMilli: balance };
          for (const l of readReceipt(renderEscPos(layoutRefundReceipt(r, { paper }))).lines) expect(l.columns, l.text).to.be.at.most(PAPER[paper].columns);
        }), { numRuns: 100 });
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
    // Issue 17: buy-back and points must add up to the items', a buy-back never exceeds the item's cash.
    expect(() => layoutRefundReceipt({ ...refundWithIncentives, buybackFen: 91 }, { paper: 58 })).to.throw(/buy-back/);
    expect(() => layoutRefundReceipt({ ...refundWithIncentives, pointsEarnedMilli: 1 }, { paper: 58 })).to.throw(/points earned/);
    const [first, ...rest] = refundWithIncentives.accepted;
    expect(() => layoutRefundReceipt({ ...refundWithIncentives, accepted: [{ ...first!, refundFen: 80 }, ...rest], refundedFen: 180 }, { paper: 58 })).to.throw(/buy-back 90 > its cash 80/);
    expect(() => layoutRedemptionReceipt({ ...redemption, pointsMilli: 0 }, { paper: 58 })).to.throw(ReceiptModelError);
    expect(() => layoutDrawerReport({ ...drawerWithIncentives, buybackPaidFen: drawer.refundsPaidFen + 1 }, { paper: 58 })).to.throw(/buy-back/);
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
