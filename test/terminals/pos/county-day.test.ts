// At the counter too, "today" is the county's today (issue 11, part 1): with the terminal's clock at
// 16:30 and 23:30 UTC (00:30 and 07:30 in Beijing) the till's day is already the next one — the
// deposit shown, the sale's business day, the journal's day of records that carry no day of their
// own (bag events), and the day-end drawer report, on the terminal and on the server.
import { expect } from 'chai';
import fs from 'node:fs';
import { useTestApp } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { addDays, dayStart } from '../../../src/shared/business-day.js';
import { Journal, recordDay, type JournalRecord } from '../../../terminals/pos/journal.js';
import { startTerminal, type RunningTerminal } from '../../../terminals/pos/terminal.js';
import { COUNTY, GLYPHOSATE } from '../../features/ledger/ledger-fixtures.js';
import { enrolmentCode, openGate, tempDir, terminalConfig, waitFor, type Gate } from './pos-support.js';

const bagEvent = (at: string): JournalRecord => ({
  kind: 'bag-event', id: newClientId(Date.parse(at)), eventTime: at, payload: { action: 'open', material: 'HDPE' }, local: { action: 'open' },
});

describe('terminal journal: the day of a record without its own business day', function () {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('is the county day of its event time, in the zone the terminal was given', async () => {
    expect(recordDay(bagEvent('2026-03-31T16:30:00.000Z'))).to.equal('2026-04-01'); // Asia/Shanghai by default
    expect(recordDay(bagEvent('2026-03-31T23:30:00.000Z'), 'Asia/Shanghai')).to.equal('2026-04-01');
    expect(recordDay(bagEvent('2026-03-31T15:30:00.000Z'), 'Asia/Shanghai')).to.equal('2026-03-31');
    expect(recordDay(bagEvent('2026-03-31T15:30:00.000Z'), 'Asia/Tokyo')).to.equal('2026-04-01');
    // A record's own business day wins.
    expect(recordDay({ ...bagEvent('2026-03-31T16:30:00.000Z'), local: { businessDay: '2026-03-31' } })).to.equal('2026-03-31');

    const dir = tempDir('county-day-journal');
    dirs.push(dir);
    let zone = 'Asia/Shanghai';
    const j = await Journal.open(dir, { now: () => new Date('2026-04-09T00:00:00Z'), archiveAfterMs: 0, timeZone: () => zone });
    const late = bagEvent('2026-03-31T16:30:00.000Z');
    await j.append(late);
    expect(j.entriesOfDay('2026-04-01').map((e) => e.record.id)).to.deep.equal([late.id]);
    expect(j.entriesOfDay('2026-03-31')).to.deep.equal([]);
    zone = 'America/New_York';
    expect(j.entriesOfDay('2026-03-31').map((e) => e.record.id)).to.deep.equal([late.id]);
    await j.close();
  });
});

for (const now of ['2026-03-31T16:30:00.000Z', '2026-03-31T23:30:00.000Z']) {
  describe(`the till's day at ${now.slice(11, 16)} UTC is the county's today`, function () {
    this.timeout(120_000);
    const TODAY = '2026-04-01';
    const lastEvening = new Date(dayStart(TODAY, 'Asia/Shanghai').getTime() - 30 * 60_000).toISOString(); // 23:30 yesterday in Beijing
    let gate!: Gate;
    let term!: RunningTerminal;
    let termNow = lastEvening;
    const dir = tempDir('county-day-pos');
    // Registered before the app's own hooks, so the terminal stops before the database closes.
    after(async () => {
      await term?.stop();
      await gate?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const t = useTestApp({ clock: lastEvening });

    before(async () => {
      gate = await openGate(t);
      // From today the county's default deposit is 1.50 yuan: decided yesterday evening.
      const official = await t.token('qingshen.official');
      const sched = await t.api().post(`/api/v1/counties/${COUNTY}/deposit-schedules`).set('Authorization', official).send({ containerTypeId: null, depositFen: 150, effectiveFrom: TODAY });
      expect(sched.status, JSON.stringify(sched.body)).to.equal(201);
      term = await startTerminal(terminalConfig(gate.url, dir), { now: () => new Date(termNow) });
      const { code } = await enrolmentCode(t);
      await term.enrol(code);
      await waitFor('reference data', () => term.reference());
      expect(term.reference()!.snapshot.businessDay).to.equal(addDays(TODAY, -1));
      // The village internet goes down before midnight; the till works on through the night.
      gate.down = true;
      termNow = now;
    });

    it('shows and charges today\'s deposit, and books the sale on today', async () => {
      const ref = await (await fetch(`${term.url}/local/reference`)).json() as { products: Array<{ id: string; depositFen: number }> };
      expect(ref.products.find((p) => p.id === GLYPHOSATE.id)!.depositFen).to.equal(150);
      const sale = await term.counter.sale({ purchaser: { phone: '17460000931', name: '夜班' }, lines: [{ productId: GLYPHOSATE.id, quantity: 2 }] });
      expect(sale.entry.record.local).to.include({ businessDay: TODAY, totalDepositFen: 300 });
    });

    it('files a bag event, which carries no day of its own, under today', async () => {
      const opened = await term.bags.open({ material: 'HDPE' });
      expect(opened.entry.record.local.businessDay).to.equal(undefined);
      expect(term.journal.entriesOfDay(TODAY).map((e) => e.record.id)).to.include(opened.entry.record.id);
      expect(term.journal.entriesOfDay(addDays(TODAY, -1)).map((e) => e.record.kind)).not.to.include('bag-event');
    });

    it('closes the day (drawer report) for today, with today\'s sale in it, here and on the server', async () => {
      const figures = term.counter.drawerFigures();
      expect(figures).to.include({ businessDay: TODAY, salesCount: 1, depositsTakenFen: 300 });
      const report = await term.counter.drawerReport({});
      expect(report.entry.record.payload).to.include({ businessDay: TODAY, salesCount: 1, depositsTakenFen: 300 });
      // Back online (the server's clock has reached the terminal's): the server stores the same day.
      t.clock.set(now);
      gate.down = false;
      term.worker.kick();
      await waitFor('records synced', () => term.journal.counts().pending === 0 && term.journal.counts().sending === 0);
      const drawer = await t.db.knex('drawer_reports').where({ county_id: COUNTY, id: report.entry.record.id }).first();
      expect(drawer, 'drawer report on the server').to.not.equal(undefined);
      expect(String(drawer.business_day)).to.equal(TODAY);
      const sales = await t.db.knex('sales').where({ county_id: COUNTY }).where('event_time', '>=', dayStart(TODAY, 'Asia/Shanghai')).select('business_day', 'total_deposit_fen');
      expect(sales).to.deep.equal([{ business_day: TODAY, total_deposit_fen: 300 }]);
    });
  });
}
