// The preview is the paper as text: same lines as the printer gets, same widths.
import { expect } from 'chai';
import {
  displayWidth,
  layoutDrawerReport,
  layoutRedemptionReceipt,
  layoutRefundReceipt,
  layoutSaleReceipt,
  PAPER,
  renderEscPos,
  renderPreview,
  wrapToWidth,
} from '../../../terminals/printing/index.js';
import { drawerWithIncentives, redemption, refund, refundWithIncentives, sale } from './support/fixtures.js';
import { readReceipt } from './support/receipt-bytes.js';

describe('printing: preview and column widths', () => {
  it('counts CJK and other multi-byte GB18030 characters two columns, ASCII one', () => {
    expect(displayWidth('押金 x2')).to.equal(7);
    expect(displayWidth('￥5.50')).to.equal(6);
    expect(displayWidth('×')).to.equal(2); // "ambiguous" in Unicode, two bytes in GB18030
    expect(displayWidth('')).to.equal(0);
  });

  it('wraps without splitting Latin words and never starts a line with 。', () => {
    expect(wrapToWidth('Return rinsed containers', 10)).to.deep.equal(['Return', 'rinsed', 'containers']);
    const lines = wrapToWidth('请妥善保管此单据。', 16);
    expect(lines).to.deep.equal(['请妥善保管此单', '据。']);
  });

  for (const paper of [58, 80] as const) {
    it(`${paper} mm: every preview line fits and every printed text line appears in the preview`, () => {
      for (const doc of [layoutSaleReceipt(sale, { paper }), layoutRefundReceipt(refund, { paper }), layoutRefundReceipt(refundWithIncentives, { paper }), layoutRedemptionReceipt(redemption, { paper }), layoutDrawerReport(drawerWithIncentives, { paper })]) {
        const preview = renderPreview(doc);
        for (const line of preview) expect(displayWidth(line), line).to.be.at.most(PAPER[paper].columns);
        const printed = readReceipt(renderEscPos(doc)).lines.filter((l) => l.width === 1 && l.text.trim() !== '');
        const previewTrimmed = preview.map((l) => l.trim());
        for (const l of printed) expect(previewTrimmed).to.include(l.text.trim());
      }
    });
  }
});
