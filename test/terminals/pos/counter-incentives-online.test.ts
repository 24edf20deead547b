// Incentives at the counter (issue 17), online, against the real county server: the county official
// sets a buy-back and points rate and funds the budget; the terminal caches the rate with its snapshot;
// a return of containers beyond the farmer's own deposits is paid with the buy-back, waits a moment for
// the server's answer and prints its points and the farmer's balance; the record carries the server's
// decision item by item; the day end counts the buy-back as cash out of the drawer.
import { expect } from 'chai';
import fs from 'node:fs';
import { useTestApp } from '../../support/harness.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import { Counter } from '../../../terminals/pos/counter.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { businessDay } from '../../../src/shared/business-day.js';
import { COUNTY, GLYPHOSATE } from '../../features/ledger/ledger-fixtures.js';
import { enrolmentCode, openGate, tempDir, terminalConfig, waitFor, type Gate } from './pos-support.js';

describe('incentives at the counter, online: the server decides, the paper shows its points and balance (issue 17)', function () {
  this.timeout(120_000);
  const t = useTestApp();
  let gate: Gate;
  let term: RunningTerminal;
  const dir = tempDir('pos-incentives-online');

  before(async () => {
    const official = await t.token('qingshen.official');
    const today = businessDay(t.clock.now(), 'Asia/Shanghai');
    const rate = await t.api().post(`/api/v1/counties/${COUNTY}/incentive-rates`).set('Authorization', official)
      .send({ containerKind: 'bottle', buybackFen: 30, pointsMilli: 200, effectiveFrom: today, note: '瓶：回收0.3元，5个积1分' });
    expect(rate.status, JSON.stringify(rate.body)).to.equal(201);
    const fund = await t.api().post(`/api/v1/counties/${COUNTY}/incentive-fund/allocations`).set('Authorization', official)
      .send({ id: newClientId(), budgetYear: Number(today.slice(0, 4)), amountFen: 100_000, note: '预算' });
    expect(fund.status, JSON.stringify(fund.body)).to.equal(201);
    gate = await openGate(t);
    term = await startTerminal(terminalConfig(gate.url, dir), { now: () => t.clock.now(), answerWaitMs: 30_000 });
    await term.enrol((await enrolmentCode(t)).code);
    await waitFor('the rate in the snapshot', () => (term.reference()?.incentiveRates.length ?? 0) > 0);
    await waitFor('online', () => term.worker.view().online === true);
  });
  after(async () => {
    await term?.stop();
    await gate?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('pays the buy-back, journals it in refundPaidFen, prints the server\'s points and balance, and the day end counts it', async () => {
    const r = await term.counter.return({
      returner: { phone: '17460001901', name: '在线农户' },
      items: [{ productId: GLYPHOSATE.id, quantity: 2, inspection: 'accepted' }, { productId: GLYPHOSATE.id, quantity: 1, inspection: 'rejected', reasonCode: 'damaged' }],
      payment: { method: 'cash' },
    });
    const entry = term.journal.get(r.entry.record.id)!;
    expect(entry.state, 'answered before the paper printed').to.equal('synced');
    expect(entry.record.local).to.include({ refundPaidFen: 60, buybackPaidFen: 60 });
    const inc = Counter.returnIncentives(entry);
    expect(inc).to.deep.include({ fromServer: true, totalBuybackFen: 60, totalPointsMilli: 400, pointsBalanceMilli: 400 });
    expect(inc.items[0]).to.deep.equal({ kind: 'buyback_points', buybackFen: 60, pointsMilli: 400, reason: null });
    expect(inc.items[1]).to.include({ kind: 'none' });
    // The server agrees with what was paid: no refund difference.
    const result = entry.result as { totalRefundFen: number; refundDifferenceFen: number; totalBuybackFen: number };
    expect(result).to.include({ totalRefundFen: 60, refundDifferenceFen: 0, totalBuybackFen: 60 });
    const paper = r.preview.join('\n');
    expect(paper).to.match(/其中有偿回收 buy-back\s+￥0\.60/).and.to.match(/本次积分 Points earned\s+0\.4/).and.to.match(/积分余额 Points balance\s+0\.4/);
    expect(paper).to.not.contain('本机估算');
    // The screen's record view says the server decided.
    const view = await (await fetch(`${term.url}/local/record?id=${r.entry.record.id}`)).json() as { incentives: { fromServer: boolean; items: Array<{ zh: string; en: string }> } };
    expect(view.incentives.fromServer).to.equal(true);
    expect(view.incentives.items[0]!.en).to.equal('buy-back + points ¥0.60 · 0.4 points');
    const fig = term.counter.drawerFigures(entry.record.local.businessDay as string);
    expect(fig.buybackPaidFen).to.equal(60);
    expect(fig.pointsEarnedMilli).to.equal(400);
    expect(fig.netCashExpectedFen).to.equal(fig.depositsTakenFen - fig.refundsPaidCashFen);
  });
});
