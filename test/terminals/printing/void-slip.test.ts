// The void slip (作废) and the day end's void lines, as ESC/POS bytes read back through the parser:
// both paper widths, every line within the paper, what the clerk and the farmer read, sums checked.
import { expect } from 'chai';
import {
  layoutDrawerReport, layoutVoidSlip, PAPER, ReceiptModelError, renderEscPos, type PaperWidth, type VoidSlip,
} from '../../../terminals/printing/index.js';
import { drawer } from './support/fixtures.js';
import { readReceipt } from './support/receipt-bytes.js';

const saleVoid: VoidSlip = {
  shopName: '青神县瑞丰农资店',
  voidNumber: 'ZF20260315-T007-0001',
  voidedAt: '2026-03-15T02:05:00Z',
  target: 'sale',
  targetNumber: 'XS20260315-T007-0012',
  reason: { zh: '数量错误', en: 'wrong quantity' },
  lines: [{ productName: '草甘膦异丙胺盐 41% 水剂', packSizeLabel: '200 mL', quantity: 3, amountFen: 300 }, { productName: 'Mancozeb 80% WP', quantity: 2, amountFen: 400 }],
  containers: 5,
  amountFen: 700,
};
const returnVoid: VoidSlip = {
  ...saleVoid, voidNumber: 'ZF20260315-T007-0002', target: 'return', targetNumber: 'HS20260315-T007-0004', reason: { zh: '重复录入', en: 'entered twice' },
  lines: [{ productName: '草甘膦异丙胺盐 41% 水剂', packSizeLabel: '200 mL', quantity: 1, amountFen: 150 }], containers: 1, amountFen: 150, payment: { method: 'cash' },
};

describe('printing: the void slip', () => {
  for (const paper of [58, 80] as PaperWidth[]) {
    it(`${paper} mm: a voided sale says which sale, why, the containers and the deposit handed back; every line fits`, () => {
      const { commands, lines, text } = readReceipt(renderEscPos(layoutVoidSlip(saleVoid, { paper })));
      expect(commands.at(-1)?.op).to.equal('cut');
      for (const line of lines) expect(line.columns, JSON.stringify(line.text)).to.be.at.most(PAPER[paper].columns);
      for (const s of ['作废销售', 'SALE VOIDED', 'ZF20260315-T007-0001', 'XS20260315-T007-0012', '原因 Reason: 数量错误', '退还押金', '￥7.00', '200 mL', '2026-03-15 10:05']) expect(text, s).to.contain(s);
      expect(lines.find((l) => l.text.startsWith('包装数'))!.text).to.match(/5$/);
    });

    it(`${paper} mm: a voided return says the refund comes back (cash into the drawer, or by mobile payment)`, () => {
      const cash = readReceipt(renderEscPos(layoutVoidSlip(returnVoid, { paper }))).text;
      for (const s of ['作废退押', 'RETURN VOIDED', 'HS20260315-T007-0004', '收回退款', '￥1.50', '农户交回现金']) expect(cash, s).to.contain(s);
      const mobile = readReceipt(renderEscPos(layoutVoidSlip({ ...returnVoid, payment: { method: 'mobile', reference: 'WX42' } }, { paper }))).text;
      expect(mobile).to.contain('经移动支付收回').and.to.contain('WX42').and.not.to.contain('农户交回现金');
    });
  }

  it('refuses a slip whose lines do not add up', () => {
    expect(() => layoutVoidSlip({ ...saleVoid, amountFen: 701 }, { paper: 58 })).to.throw(ReceiptModelError);
    expect(() => layoutVoidSlip({ ...saleVoid, containers: 4 }, { paper: 58 })).to.throw(ReceiptModelError);
  });

  it('the day end prints the voids on their own lines, only when there were any', () => {
    const withVoids = readReceipt(renderEscPos(layoutDrawerReport({ ...drawer, voids: { count: 2, salesFen: 300, returnsFen: 150, returnsCashFen: 100 } }, { paper: 58 })));
    expect(withVoids.text).to.contain('作废 Voids: 2').and.to.contain('作废销售退押金').and.to.contain('-￥3.00').and.to.contain('+￥1.50').and.to.contain('+￥1.00');
    for (const line of withVoids.lines) expect(line.columns).to.be.at.most(PAPER[58].columns);
    expect(readReceipt(renderEscPos(layoutDrawerReport(drawer, { paper: 58 }))).text).to.not.contain('作废');
  });
});
