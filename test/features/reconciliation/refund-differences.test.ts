// An offline till paid a refund that differs from the computed one: the ledger moves the shop's
// position by the cash paid, and reconciliation explains the difference instead of reporting the
// shop's position as broken.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { COUNTY, GLYPHOSATE, expectLedgerClean, freshToken, returnBody, saleBody, unitCode } from '../ledger/ledger-fixtures.js';

describe('reconciliation of refunds paid above or below the computed refund', () => {
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });

  it('shows a refund_paid_differs warning with the net difference and no money errors', async () => {
    const clerk = await freshToken(t, 'clerk.qingcheng');
    const over = unitCode(GLYPHOSATE);
    const under = unitCode(GLYPHOSATE);
    const sale = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: [over, under] }] }));
    expect(sale.status, JSON.stringify(sale.body)).to.equal(201);
    const ret = returnBody({ items: [
      { scan: over, inspection: 'accepted', refundPaidFen: 130 }, // paid 30 fen too much
      { scan: under, inspection: 'accepted', refundPaidFen: 90 }, // paid 10 fen too little
    ] });
    const res = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', clerk).send(ret);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    await expectLedgerClean(t);

    t.clock.set('2026-04-01T00:00:00.000Z');
    const run = await t.api().post(`/api/v1/counties/${COUNTY}/reconciliations`).set('Authorization', await freshToken(t, 'qingshen.official')).send({ period: '2026-03' });
    expect(run.status, JSON.stringify(run.body)).to.equal(201);
    const money = run.body.exceptions.filter((e: { book: string }) => e.book === 'money');
    expect(money.filter((e: { severity: string }) => e.severity === 'error'), JSON.stringify(money)).to.deep.equal([]);
    const diff = money.find((e: { kind: string }) => e.kind === 'refund_paid_differs');
    expect(diff, JSON.stringify(money)).to.not.equal(undefined);
    expect(diff.actual).to.equal(20);
    expect(diff.records).to.deep.equal([{ type: 'return', id: ret.id }]);
  });
});
