// A write that waited for a month close books after it, never into the month just closed
// (DESIGN rule 12, docs/ledger.md "Closing a month"). Deterministic: the test holds the close's lock
// itself, starts the booking, sees it wait, commits the close, and reads where the write was booked.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { bookingFor } from '../../../src/features/periods/booking.js';
import { COUNTY, freshToken } from '../ledger/ledger-fixtures.js';

describe('booking a record while its month is being closed', () => {
  const t = useTestApp({ clock: '2026-05-01T00:00:01.000Z' });

  it('a write that waited for the close of its month is booked as a late adjustment in the next open month', async function () {
    this.timeout(60_000);
    const run = await t.api().post(`/api/v1/counties/${COUNTY}/reconciliations`).set('Authorization', await freshToken(t, 'qingshen.official')).send({ period: '2026-04' });
    expect(run.status, JSON.stringify(run.body)).to.equal(201);
    const knex = t.db.knex;
    const tz = 'Asia/Shanghai';
    const eventTime = new Date('2026-04-30T08:00:00.000Z');

    // The close: lock the county row as PeriodService.close does, and write the closed month.
    const close = await knex.transaction();
    let booking: ReturnType<typeof bookingFor> | undefined;
    const write = await knex.transaction();
    try {
      await close.raw('SELECT id FROM counties WHERE id = ? FOR UPDATE', [COUNTY]);
      await close('closed_periods').insert({
        county_id: COUNTY, period_key: '2026-04', period_from: new Date('2026-03-31T16:00:00.000Z'), period_to: new Date('2026-04-30T16:00:00.000Z'),
        reconciliation_run_id: run.body.id, figures_as_of: new Date('2026-05-01T00:00:00.000Z'), closed_by: 'test', closed_at: new Date('2026-05-01T00:00:01.000Z'),
      });
      // The write starts while the close holds the lock; its first statement must wait for it.
      const writerPid = (await write.raw('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      booking = bookingFor(write, COUNTY, eventTime, tz);
      for (let i = 0; ; i++) {
        const w = (await knex.raw('SELECT wait_event_type FROM pg_stat_activity WHERE pid = ?', [writerPid])).rows[0];
        if (w?.wait_event_type === 'Lock') break;
        if (i > 2000) throw new Error('the booking never waited for the close\'s lock');
        await new Promise((r) => setImmediate(r));
      }
      await close.commit();
      const b = await booking;
      expect(b).to.deep.include({ lateAdjustment: true, bookedPeriod: '2026-05', bookedDay: '2026-05-01' });
      await write.commit();
    } finally {
      if (!close.isCompleted()) await close.rollback();
      if (!write.isCompleted()) await write.rollback();
    }
  });

  it('a write after the close sees it, and a record of an open month books in its own month', async function () {
    const knex = t.db.knex;
    const write = await knex.transaction();
    try {
      const b = await bookingFor(write, COUNTY, new Date('2026-04-30T08:00:00.000Z'), 'Asia/Shanghai');
      // The first test closed April: a later write sees it; March is open and stays March.
      expect(b.lateAdjustment).to.equal(true);
      const march = await bookingFor(write, COUNTY, new Date('2026-03-30T08:00:00.000Z'), 'Asia/Shanghai');
      expect(march).to.deep.include({ lateAdjustment: false, bookedPeriod: '2026-03' });
    } finally { await write.rollback(); }
  });
});
