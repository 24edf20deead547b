// Period close (DESIGN rule 12): a county official closes a month after reconciling it. From then on
// the month's statements, settlements and reconciliation stand as they were closed; records whose
// event time falls in it are still accepted (they happened) but booked as late adjustments in the
// first open month (booking.ts). "Closed" is decided by the server's record time, never the client's.
import type { Knex } from 'knex';
import type { AppDeps } from '../../app-deps.js';
import { AppError } from '../../http/errors.js';
import { actorName } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/permissions.js';
import { loadCountyPolicy } from '../ledger/county-policy.js';
import { reconciliationPeriod } from '../reconciliation/reconciliation-service.js';
import { monthOf, monthStart, nextMonth } from './booking.js';
import { closedPeriods, type ClosedPeriodRow } from './period-store.js';

export interface PeriodView {
  period: string;
  from: string;
  to: string;
  state: 'open' | 'closed';
  ended: boolean;
  closedAt: string | null;
  closedBy: string | null;
  reconciliationRunId: string | null;
  figuresAsOf: string | null;
  latestReconciliationRunId: string | null;
}

function view(key: string, timeZone: string, now: Date, closed: ClosedPeriodRow | undefined, latestRun: string | null): PeriodView {
  const from = monthStart(key, timeZone);
  const to = monthStart(nextMonth(key), timeZone);
  return {
    period: key, from: from.toISOString(), to: to.toISOString(), state: closed ? 'closed' : 'open', ended: to.getTime() <= now.getTime(),
    closedAt: closed ? new Date(closed.closed_at).toISOString() : null, closedBy: closed?.closed_by ?? null,
    reconciliationRunId: closed?.reconciliation_run_id ?? null, figuresAsOf: closed ? new Date(closed.figures_as_of).toISOString() : null,
    latestReconciliationRunId: latestRun,
  };
}

/** The latest reconciliation run of a month (by its record-time cut-off, then run time). */
async function latestRunOf(knex: Knex, countyId: string, key: string): Promise<{ id: string; as_of: Date } | undefined> {
  return (await knex('reconciliation_runs').where({ county_id: countyId, period_key: key })
    .orderBy([{ column: 'as_of', order: 'desc' }, { column: 'run_at', order: 'desc' }, { column: 'id', order: 'desc' }]).first('id', 'as_of')) as { id: string; as_of: Date } | undefined;
}

/**
 * The newest record time of anything the month's figures count (sales, returns, reversals and ledger
 * transfers booked in it, settlement payments of it) — a run must cover it before the month closes.
 */
async function lastRecordedIn(knex: Knex, countyId: string, key: string, from: Date, to: Date): Promise<Date | null> {
  const row = (await knex.raw(`
    SELECT greatest(
      (SELECT max(recorded_at) FROM sales WHERE county_id = :c AND coalesce(booked_at, event_time) >= :from AND coalesce(booked_at, event_time) < :to),
      (SELECT max(recorded_at) FROM returns WHERE county_id = :c AND coalesce(booked_at, event_time) >= :from AND coalesce(booked_at, event_time) < :to),
      (SELECT max(recorded_at) FROM reversals WHERE county_id = :c AND coalesce(booked_at, event_time) >= :from AND coalesce(booked_at, event_time) < :to),
      (SELECT max(recorded_at) FROM ledger_transfers WHERE county_id = :c AND coalesce(booked_at, event_time) >= :from AND coalesce(booked_at, event_time) < :to),
      (SELECT max(recorded_at) FROM settlements WHERE county_id = :c AND period_key = :k)) AS last`, { c: countyId, from, to, k: key })).rows[0] as { last: Date | null };
  return row.last ? new Date(row.last) : null;
}

export class PeriodService {
  constructor(private readonly deps: AppDeps) {}

  /** A page of months, newest first; `cursor` is the last month of the previous page. */
  async list(countyId: string, page: { limit: number; cursor?: string } = { limit: 240 }): Promise<{ countyId: string; firstOpenPeriod: string; items: PeriodView[]; nextCursor: string | null }> {
    const knex = this.deps.db.knex;
    const now = this.deps.clock.now();
    const county = await loadCountyPolicy(knex, countyId);
    const closed = new Map((await closedPeriods(knex, countyId)).map((c) => [c.period_key, c]));
    const current = monthOf(now, county.timezone);
    const first = (await knex.raw(`SELECT least((SELECT min(event_time) FROM sales WHERE county_id = ?), (SELECT min(event_time) FROM returns WHERE county_id = ?)) AS t`, [countyId, countyId])).rows[0] as { t: Date | null };
    const candidates = [current, ...closed.keys(), ...(first.t ? [monthOf(new Date(first.t), county.timezone)] : [])].sort();
    let key = candidates[0]!;
    const runs = new Map(((await knex('reconciliation_runs').where({ county_id: countyId }).whereRaw(`period_key ~ '^[0-9]{4}-[0-9]{2}$'`)
      .orderBy([{ column: 'as_of', order: 'asc' }, { column: 'run_at', order: 'asc' }, { column: 'id', order: 'asc' }]).select('period_key', 'id')) as Array<{ period_key: string; id: string }>).map((r) => [r.period_key, r.id]));
    const periods: PeriodView[] = [];
    for (let i = 0; i < 240 && key <= current; i++, key = nextMonth(key)) periods.push(view(key, county.timezone, now, closed.get(key), runs.get(key) ?? null));
    let firstOpen = periods.find((p) => p.state === 'open')?.period ?? nextMonth(current);
    while (closed.has(firstOpen)) firstOpen = nextMonth(firstOpen);
    const older = periods.reverse().filter((p) => page.cursor === undefined || p.period < page.cursor);
    const items = older.slice(0, page.limit);
    return { countyId, firstOpenPeriod: firstOpen, items, nextCursor: older.length > page.limit ? items[items.length - 1]!.period : null };
  }

  async close(principal: Principal, countyId: string, key: string): Promise<PeriodView> {
    const now = this.deps.clock.now();
    return this.deps.db.knex.transaction(async (trx) => {
      // Every write that books a record takes KEY SHARE on this row (booking.ts): the close waits for
      // those in flight, and those after it see the month closed.
      const county = await trx('counties').where({ id: countyId }).forUpdate().first('id');
      if (!county) throw new AppError('NOT_FOUND', `No county ${countyId}`);
      const policy = await loadCountyPolicy(trx, countyId);
      const period = reconciliationPeriod(key, policy.timezone);
      if (period.to.getTime() > now.getTime()) throw new AppError('PERIOD_NOT_ENDED', `${key} ends at ${period.to.toISOString()}`);
      if (await trx('closed_periods').where({ county_id: countyId, period_key: key }).first('period_key')) throw new AppError('PERIOD_ALREADY_CLOSED');
      const run = await latestRunOf(trx, countyId, key);
      if (!run) throw new AppError('PERIOD_NOT_RECONCILED', `No reconciliation run of ${key} yet`, [{ field: '/period', code: 'no_run', message: `run POST /api/v1/counties/${countyId}/reconciliations with period ${key} first` }]);
      const last = await lastRecordedIn(trx, countyId, key, period.from, period.to);
      const asOf = new Date(run.as_of);
      if (last && last.getTime() > asOf.getTime()) {
        throw new AppError('PERIOD_NOT_RECONCILED', `Records of ${key} reached the server after the latest reconciliation's cut-off`, [{
          field: '/period', code: 'run_outdated', message: `the latest run ${run.id} counts records up to ${asOf.toISOString()}; the newest record of ${key} was stored at ${last.toISOString()}`,
          reconciliationRunId: run.id, asOf: asOf.toISOString(), lastRecordedAt: last.toISOString(),
        }]);
      }
      const row: ClosedPeriodRow = {
        county_id: countyId, period_key: key, period_from: period.from, period_to: period.to, reconciliation_run_id: run.id,
        figures_as_of: asOf, closed_by: actorName(principal), closed_at: now,
      };
      await trx('closed_periods').insert(row);
      return view(key, policy.timezone, now, row, run.id);
    });
  }
}
