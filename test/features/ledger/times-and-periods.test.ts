// Times the clerk can choose decide nothing they should not (issue 11, part 2; docs/ledger.md):
// the reversal window by record time and the terminal's own journal, event times bounded by the
// county's maximum offline age, and months an official closes after reconciling them.
import { expect } from 'chai';
import { useTestApp, type TestContext } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { COUNTY, GLYPHOSATE, SHOP_A, expectLedgerClean, freshToken, returnBody, saleBody, unitCode } from './ledger-fixtures.js';

const DAY = 86_400_000;

async function enrolTerminal(t: TestContext, name: string): Promise<string> {
  const issued = await t.api().post(`/api/v1/counties/${COUNTY}/terminals`).set('Authorization', await freshToken(t, 'qingshen.official')).send({ shopId: SHOP_A, name });
  expect(issued.status, JSON.stringify(issued.body)).to.equal(201);
  const enrolled = await t.api().post('/api/v1/terminals/enrol').send({ enrolmentCode: issued.body.enrolmentCode });
  expect(enrolled.status, JSON.stringify(enrolled.body)).to.equal(200);
  return `Bearer ${enrolled.body.credential}`;
}

const saleRecord = (eventTime: string, over: Record<string, unknown> = {}) => {
  const { id, eventTime: _e, ...payload } = saleBody(over);
  return { kind: 'sale', id, eventTime, payload };
};
const reversalRecord = (targetId: string, eventTime: string) => ({ kind: 'reversal', id: newClientId(), eventTime, payload: { targetType: 'sale', targetId, reason: '录错了' } });

describe('times the clerk can choose: reversal window and event-time bounds', () => {
  // 10:00 Beijing on 15 March 2026.
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });
  const as = async (who: string) => freshToken(t, who);
  const reverse = async (who: string, targetId: string, over: Record<string, unknown> = {}) =>
    t.api().post(`/api/v1/counties/${COUNTY}/reversals`).set('Authorization', await as(who)).send({ id: newClientId(), targetType: 'sale', targetId, reason: '录错了', ...over });
  const sync = (auth: string, records: unknown[]) => t.api().post('/api/v1/sync/batches').set('Authorization', auth).send({ records });

  it('refuses a clerk voiding an old sale with a forged same-day event time, and lets a county official reverse it', async () => {
    t.clock.set('2026-02-10T02:00:00.000Z');
    const old = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await as('clerk.qingcheng'))
      .send(saleBody({ eventTime: '2026-02-10T01:00:00.000Z', lines: [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: [unitCode(GLYPHOSATE)] }] }));
    expect(old.status, JSON.stringify(old.body)).to.equal(201);
    t.clock.set('2026-03-15T02:00:00.000Z');
    // The event time names the sale's own day: before, that opened the window; now it decides nothing.
    const forged = await reverse('clerk.qingcheng', old.body.saleId, { eventTime: '2026-02-10T05:00:00.000Z' });
    expect(forged.status, JSON.stringify(forged.body)).to.equal(403);
    expect(forged.body.error.code).to.equal('REVERSAL_WINDOW_CLOSED');
    expect(forged.body.error.details[0]).to.include({ field: '/body/targetId', code: 'recorded_earlier' });
    expect(await t.db.knex('reversals').where({ county_id: COUNTY, target_id: old.body.saleId }).first()).to.equal(undefined);
    const official = await reverse('qingshen.official', old.body.saleId);
    expect(official.status, JSON.stringify(official.body)).to.equal(201);
    expect(official.body).to.include({ lateAdjustment: false, bookedPeriod: '2026-03', bookedDay: '2026-03-15' });
    await expectLedgerClean(t);
  });

  it('lets a clerk void a sale the server stored today', async () => {
    t.clock.set('2026-03-15T02:00:00.000Z');
    const sale = (await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await as('clerk.qingcheng')).send(saleBody({ eventTime: '2026-03-15T01:00:00.000Z' }))).body;
    const res = await reverse('clerk.qingcheng', sale.saleId);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
  });

  it('accepts a terminal’s offline same-day void synced the next morning, and refuses what its journal cannot vouch for', async () => {
    const pos = await enrolTerminal(t, 'times pos');
    const other = await enrolTerminal(t, 'times pos 2');
    // Offline all of 16 March: a sale at 11:00 and its void at 14:00 (Beijing), in the journal.
    t.clock.set('2026-03-17T01:00:00.000Z'); // 09:00 on the 17th: the terminal syncs
    const sale = saleRecord('2026-03-16T03:00:00.000Z');
    const res = await sync(pos, [sale, reversalRecord(sale.id, '2026-03-16T06:00:00.000Z')]);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.results.map((r: { status: string }) => r.status), JSON.stringify(res.body.results)).to.deep.equal(['applied', 'applied']);
    expect(res.body.results[1].result).to.include({ businessDay: '2026-03-16', eventTime: '2026-03-16T06:00:00.000Z' });

    // A sale that reached the server on the 17th; the terminal goes offline, voids it in its journal
    // on the 17th and syncs on the 18th: a sync on a later day closed the window.
    const synced = saleRecord('2026-03-17T00:50:00.000Z');
    expect((await sync(pos, [synced])).body.results[0].status).to.equal('applied');
    // Another terminal of the same shop may not void it, nor the journal of another day.
    const foreign = await sync(other, [reversalRecord(synced.id, '2026-03-17T00:55:00.000Z')]);
    expect(foreign.body.results[0].error.code).to.equal('REVERSAL_WINDOW_CLOSED');
    expect(foreign.body.results[0].error.details[0].code).to.equal('other_terminal');
    t.clock.set('2026-03-18T01:00:00.000Z');
    const late = await sync(pos, [reversalRecord(synced.id, '2026-03-17T08:00:00.000Z'), reversalRecord(synced.id, '2026-03-18T00:30:00.000Z')]);
    expect(late.body.results.map((r: { status: string }) => r.status)).to.deep.equal(['refused', 'refused']);
    expect(late.body.results.map((r: { error: { details: Array<{ code: string }> } }) => r.error.details[0]?.code)).to.deep.equal(['recorded_earlier', 'other_journal_day']);
    expect(late.body.results[0].error.code).to.equal('REVERSAL_WINDOW_CLOSED');
    expect(await t.db.knex('reversals').where({ county_id: COUNTY, target_id: synced.id }).first()).to.equal(undefined);
    t.clock.set('2026-03-15T02:00:00.000Z');
    await expectLedgerClean(t);
  });

  it('refuses sales, returns and synced records older than the county’s maximum offline age (45 days), with the field named', async () => {
    t.clock.set('2026-03-15T02:00:00.000Z');
    const county = await t.api().get(`/api/v1/counties/${COUNTY}`).set('Authorization', await as('qingshen.official'));
    expect(county.body.maxOfflineAgeDays).to.equal(45);
    const now = Date.parse('2026-03-15T02:00:00.000Z');
    const at = (days: number) => new Date(now - days * DAY).toISOString();
    const clerk = await as('clerk.qingcheng');
    const tooOldBody = saleBody({ eventTime: at(46) });
    const tooOld = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(tooOldBody);
    expect(tooOld.status).to.equal(422);
    expect(tooOld.body.error.code).to.equal('EVENT_TIME_TOO_OLD');
    expect(tooOld.body.error.details[0]).to.include({ field: '/body/eventTime', code: 'too_old', maxOfflineAgeDays: 45, earliest: at(45) });
    expect(await t.db.knex('sales').where({ county_id: COUNTY, id: tooOldBody.id }).first()).to.equal(undefined);
    const ok = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(saleBody({ eventTime: at(44) }));
    expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
    const ret = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', clerk).send(returnBody({ eventTime: at(46), items: [{ scan: unitCode(GLYPHOSATE), inspection: 'rejected', reasonCode: 'damaged' }] }));
    expect(ret.status).to.equal(422);
    expect(ret.body.error.code).to.equal('EVENT_TIME_TOO_OLD');
    const batch = await sync(clerk, [saleRecord(at(46)), saleRecord(at(44))]);
    expect(batch.body.results.map((r: { status: string }) => r.status)).to.deep.equal(['refused', 'applied']);
    expect(batch.body.results[0].error.code).to.equal('EVENT_TIME_TOO_OLD');
    // The future bound stays.
    const future = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(saleBody({ eventTime: new Date(now + 10 * 60_000).toISOString() }));
    expect(future.body.error.code).to.equal('EVENT_TIME_IN_FUTURE');
    // An admin may record an older sale (a paper record); the bound is for clerks and terminals.
    const byOfficial = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await as('admin')).send(saleBody({ eventTime: at(46) }));
    expect(byOfficial.status, JSON.stringify(byOfficial.body)).to.equal(201);
    // The county's policy (set by an admin) may widen the bound for clerks and terminals.
    const patched = await t.api().patch(`/api/v1/counties/${COUNTY}`).set('Authorization', await as('admin')).send({ version: county.body.version, maxOfflineAgeDays: 60 });
    expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(saleBody({ eventTime: at(46) }))).status).to.equal(201);
    await expectLedgerClean(t);
  });
});

describe('period close: a closed month never changes; late records are booked in the first open month', () => {
  const t = useTestApp({ clock: '2026-03-20T02:00:00.000Z' });
  const as = async (who: string) => freshToken(t, who);
  const close = async (period: string, who = 'qingshen.official') => t.api().post(`/api/v1/counties/${COUNTY}/periods/${period}/close`).set('Authorization', await as(who)).send();
  const reconcile = async (period: string) => {
    const r = await t.api().post(`/api/v1/counties/${COUNTY}/reconciliations`).set('Authorization', await as('qingshen.official')).send({ period });
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    return r.body;
  };
  const statement = async (period: string) => {
    const r = await t.api().get(`/api/v1/counties/${COUNTY}/settlements/statements/${period}`).set('Authorization', await as('qingshen.official'));
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    return r.body;
  };

  it('needs an official, an ended month and a reconciliation covering every record of it', async () => {
    const sale = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await as('clerk.qingcheng')).send(saleBody({ eventTime: '2026-03-18T02:00:00.000Z' }));
    expect(sale.status).to.equal(201);
    t.clock.set('2026-04-02T02:00:00.000Z');
    const clerk = await close('2026-03', 'clerk.qingcheng');
    expect(clerk.status).to.equal(403);
    expect(clerk.body.error.code).to.equal('FORBIDDEN');
    const notEnded = await close('2026-04');
    expect(notEnded.status).to.equal(422);
    expect(notEnded.body.error.code).to.equal('PERIOD_NOT_ENDED');
    const noRun = await close('2026-03');
    expect(noRun.status).to.equal(409);
    expect(noRun.body.error.code).to.equal('PERIOD_NOT_RECONCILED');
    expect(noRun.body.error.details[0].code).to.equal('no_run');
    await reconcile('2026-03');
    // An offline till's March sale arrives after the run: the run no longer covers the month.
    t.clock.set('2026-04-02T02:10:00.000Z');
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await as('clerk.qingcheng')).send(saleBody({ eventTime: '2026-03-30T02:00:00.000Z' }))).status).to.equal(201);
    const outdated = await close('2026-03');
    expect(outdated.status).to.equal(409);
    expect(outdated.body.error.details[0].code).to.equal('run_outdated');
    expect(await t.db.knex('closed_periods').where({ county_id: COUNTY })).to.deep.equal([]);
  });

  let closedRun: any;
  let closedStatement: any;
  it('closes the month on its latest run, once', async () => {
    closedRun = await reconcile('2026-03');
    t.clock.set('2026-04-02T02:20:00.000Z');
    const res = await close('2026-03');
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({ period: '2026-03', state: 'closed', closedBy: 'user:qingshen.official', reconciliationRunId: closedRun.id, figuresAsOf: closedRun.asOf });
    expect((await close('2026-03')).body.error.code).to.equal('PERIOD_ALREADY_CLOSED');
    const list = await t.api().get(`/api/v1/counties/${COUNTY}/periods`).set('Authorization', await as('qingshen.official'));
    expect(list.status).to.equal(200);
    expect(list.body.firstOpenPeriod).to.equal('2026-04');
    expect(list.body.periods.map((p: { period: string; state: string }) => `${p.period}:${p.state}`)).to.deep.equal(['2026-04:open', '2026-03:closed']);
    closedStatement = await statement('2026-03');
    expect(closedStatement.totals.depositsCollectedFen).to.equal(200);
    expect(closedStatement.closed).to.include({ reconciliationRunId: closedRun.id });
  });

  it('accepts a late record of the closed month, books it in April as a late adjustment, and leaves March’s statement and reconciliation as closed', async () => {
    t.clock.set('2026-04-03T02:00:00.000Z');
    const pos = await enrolTerminal(t, 'late pos');
    const rec = saleRecord('2026-03-31T03:00:00.000Z', { lines: [{ productId: GLYPHOSATE.id, quantity: 3 }] });
    const res = await t.api().post('/api/v1/sync/batches').set('Authorization', pos).send({ records: [rec] });
    expect(res.body.results[0].status, JSON.stringify(res.body.results[0])).to.equal('applied');
    expect(res.body.results[0].result).to.include({
      eventTime: '2026-03-31T03:00:00.000Z', businessDay: '2026-03-31', lateAdjustment: true, bookedPeriod: '2026-04', bookedDay: '2026-04-01', totalDepositFen: 300,
    });
    const row = await t.db.knex('sales').where({ county_id: COUNTY, id: rec.id }).first();
    expect(new Date(row.booked_at).toISOString()).to.equal('2026-03-31T16:00:00.000Z'); // 1 April, 00:00 Beijing
    const transfer = await t.db.knex('ledger_transfers').where({ county_id: COUNTY, ref_type: 'sale', ref_id: rec.id }).first();
    expect(new Date(transfer.booked_at).toISOString()).to.equal('2026-03-31T16:00:00.000Z');

    // March: the same statement, the same reconciliation figures and fingerprint.
    expect(await statement('2026-03')).to.deep.equal(closedStatement);
    const again = await reconcile('2026-03');
    expect(again.figures).to.deep.equal(closedRun.figures);
    expect(again.fingerprint).to.equal(closedRun.fingerprint);
    // No more settlement payments into the closed month.
    const pay = await t.api().post(`/api/v1/counties/${COUNTY}/settlements`).set('Authorization', await as('qingshen.official'))
      .send({ id: newClientId(), shopId: SHOP_A, period: '2026-03', amountFen: 200, direction: 'from_shop', method: 'cash' });
    expect(pay.status).to.equal(409);
    expect(pay.body.error.code).to.equal('PERIOD_CLOSED');

    // April shows the adjustment, as such.
    const april = await statement('2026-04');
    const shopA = april.shops.find((s: { shopId: string }) => s.shopId === SHOP_A);
    expect(shopA).to.include({ depositsCollectedFen: 300, lateAdjustmentDepositsFen: 300, lateAdjustments: 1 });
    expect(april.lateAdjustments.map((a: { id: string; type: string }) => `${a.type}:${a.id}`)).to.deep.equal([`sale:${rec.id}`]);
    expect(april.closed).to.equal(null);
    t.clock.set('2026-05-01T00:00:00.000Z');
    const run = await reconcile('2026-04');
    expect(run.figures.money.depositsCollectedFen).to.equal(300);
    expect(run.figures.money.outstandingOpeningFen).to.equal(200);
    expect(run.figures.money.outstandingClosingFen).to.equal(500);
    expect(run.exceptions.filter((e: { severity: string }) => e.severity === 'error')).to.deep.equal([]);
    const adj = run.exceptions.find((e: { kind: string }) => e.kind === 'late_adjustment');
    expect(adj.records).to.deep.equal([{ type: 'sale', id: rec.id }]);
    await expectLedgerClean(t);
  });

  it('lets no write slip into a month while it is being closed (concurrent late sales and the close)', async function () {
    this.timeout(60_000);
    t.clock.set('2026-05-01T00:00:00.000Z');
    await reconcile('2026-04'); // covers every April record so far
    t.clock.set('2026-05-01T00:00:01.000Z');
    const clerk = await as('clerk.qingcheng');
    const official = await as('qingshen.official');
    const bodies = Array.from({ length: 8 }, (_, i) => saleBody({ eventTime: `2026-04-30T0${i}:00:00.000Z` }));
    const [closing, ...sold] = await Promise.all([
      t.api().post(`/api/v1/counties/${COUNTY}/periods/2026-04/close`).set('Authorization', official).send(),
      ...bodies.map((b) => t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(b)),
    ]);
    expect(sold.map((r) => r.status)).to.deep.equal(bodies.map(() => 201));
    const rows = await t.db.knex('sales').where({ county_id: COUNTY }).whereIn('id', bodies.map((b) => b.id)).select('id', 'booked_at', 'recorded_at');
    if (closing.status === 201) {
      // Whatever was stored after the run's cut-off went to May; April stands as closed.
      for (const r of rows) expect(r.booked_at, r.id).to.not.equal(null);
      for (const r of sold) expect(r.body).to.include({ lateAdjustment: true, bookedPeriod: '2026-05' });
    } else {
      // The close saw sales stored after its run and refused; they count in April.
      expect(closing.body.error.details[0].code).to.equal('run_outdated');
      for (const r of rows) expect(r.booked_at, r.id).to.equal(null);
    }
    await expectLedgerClean(t);
  });
});
