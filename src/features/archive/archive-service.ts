// Archive by year, the rules (issue 16; docs/traceability.md "Archive by year"): a county's year may
// be archived once it is at least two full years old on the county's clock (the Pesticide
// Management Regulation art. 27 and the 2020 Measures keep records two years) and every month of it
// is closed; only what is finished leaves (archive-store.ts `selectYear`); the move is one
// transaction that records itself in archive_runs, checks what it copied, deletes through the
// no-delete trigger's one door, and runs the ledger check before it commits. A restore brings the
// rows back into the live tables and proves, table by table, that they are exactly what left.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { businessDay } from '../../shared/business-day.js';
import { checkLedger, type LedgerProblem } from '../ledger/ledger-check.js';
import { refreshBooks } from '../reconciliation/day-books.js';
import { rebuildRecoveryYear, refreshRecoveryAggregates } from '../recovery-rates/aggregation-job.js';
import {
  archivedYears, archiveSchema, ensureArchiveTables, liveSchema, moveSelected, restoreRows, selectYear, type ArchiveRunRow, type TableDigest,
} from './archive-store.js';

/** A refusal: nothing changed; `message` says why and what to do (the CLI prints it and exits 2). */
export class ArchiveRefused extends Error {
  constructor(readonly code: 'COUNTY_UNKNOWN' | 'YEAR_INVALID' | 'YEAR_TOO_RECENT' | 'YEAR_NOT_CLOSED' | 'YEAR_ALREADY_ARCHIVED' | 'YEAR_NOT_ARCHIVED' | 'NOTHING_TO_ARCHIVE' | 'LEDGER_CHECK_FAILED' | 'RESTORE_MISMATCH' | 'RESTORE_CONFLICT', message: string) {
    super(message);
    this.name = 'ArchiveRefused';
  }
}

export interface ArchiveResult {
  runId: string;
  countyId: string;
  year: number;
  schema: string;
  tables: Record<string, TableDigest>;
  keptLive: { sales: number; returns: number };
}

export const restoreCommand = (countyId: string, year: number): string => `npm run archive:restore -- --county ${countyId} --year ${year}`;

/** 410 YEAR_ARCHIVED for an HTTP answer that would need an archived year: which year, and the command that restores it. */
export function yearArchived(countyId: string, year: number, what: string): AppError {
  return new AppError('YEAR_ARCHIVED', `${what}: ${year} of county ${countyId} is archived; restore it for the audit with ${restoreCommand(countyId, year)}`, [
    { code: 'archived', message: `${year}: ${restoreCommand(countyId, year)}`, year, restore: restoreCommand(countyId, year) },
  ]);
}

async function county(knex: Knex, countyId: string): Promise<{ id: string; timezone: string }> {
  const c = (await knex('counties').where({ id: countyId }).first('id', 'timezone')) as { id: string; timezone: string } | undefined;
  if (!c) throw new ArchiveRefused('COUNTY_UNKNOWN', `There is no county ${countyId} in this database.`);
  return c;
}

function checkYear(year: number): void {
  if (!Number.isInteger(year) || year < 2000 || year > 2200) throw new ArchiveRefused('YEAR_INVALID', `"${year}" is not a year: give four digits such as 2023.`);
}

const lock = (trx: Knex.Transaction, countyId: string) => trx.raw(`SELECT pg_advisory_xact_lock(hashtext('agrireturn.archive:' || ?))`, [countyId]);

async function openRun(trx: Knex.Transaction, countyId: string, year: number, action: 'archive' | 'restore', actor: string, now: Date): Promise<string> {
  const id = randomUUID();
  await trx('archive_runs').insert({ county_id: countyId, id, year, action, state: 'running', schema_name: archiveSchema(year), txid: trx.raw('txid_current()'), actor, started_at: now });
  return id;
}

function ledgerRefusal(problems: LedgerProblem[], what: string): ArchiveRefused {
  return new ArchiveRefused('LEDGER_CHECK_FAILED', `${what} would leave the county's ledger failing its check, so nothing was changed: ${problems.slice(0, 3).map((p) => `[${p.check}] ${p.message}`).join('; ')}`);
}

/** Moves the finished business records of the county's `year` into archive_<year>. */
export async function archiveYear(knex: Knex, opts: { countyId: string; year: number; actor: string; now: Date }): Promise<ArchiveResult> {
  const { countyId, year } = opts;
  checkYear(year);
  const c = await county(knex, countyId);
  const today = businessDay(opts.now, c.timezone);
  if (Number(today.slice(0, 4)) < year + 3) {
    throw new ArchiveRefused('YEAR_TOO_RECENT', `${year} is too recent to archive: records stay live at least two full years after their year, so ${countyId} can archive ${year} from ${year + 3}-01-01 (county day; today is ${today}).`);
  }
  return knex.transaction(async (trx) => {
    await lock(trx, countyId);
    if ((await archivedYears(trx, countyId)).has(year)) throw new ArchiveRefused('YEAR_ALREADY_ARCHIVED', `${year} of county ${countyId} is archived already; to archive it again (say, what has closed since), restore it first: ${restoreCommand(countyId, year)}`);
    const from = `${year}-01-01`;
    const to = `${year}-12-31`;
    const any = (await trx.raw(`SELECT EXISTS (SELECT 1 FROM sales WHERE county_id = ? AND business_day BETWEEN ? AND ?) OR EXISTS (SELECT 1 FROM returns WHERE county_id = ? AND business_day BETWEEN ? AND ?) AS any`, [countyId, from, to, countyId, from, to])).rows[0].any as boolean;
    if (!any) throw new ArchiveRefused('NOTHING_TO_ARCHIVE', `County ${countyId} has no sales or returns in ${year}: nothing to archive.`);
    const months = Array.from({ length: 12 }, (_, i) => `${year}-${String(i + 1).padStart(2, '0')}`);
    const closed = new Set(((await trx('closed_periods').where({ county_id: countyId }).whereIn('period_key', months).select('period_key')) as Array<{ period_key: string }>).map((r) => r.period_key));
    const open = months.filter((m) => !closed.has(m));
    if (open.length) throw new ArchiveRefused('YEAR_NOT_CLOSED', `The books of ${year} are not closed: month(s) ${open.join(', ')} of county ${countyId} are open. Reconcile and close each (POST /api/v1/counties/${countyId}/periods/{YYYY-MM}/close), then archive.`);

    // The stored figures that keep answering for the archived year (docs/traceability.md "What answers
    // for an archived year") take in every record of it before its rows leave: the per-day books of the
    // reconciliation and the recovery aggregates (dashboard, recovery rates, monthly reports).
    await refreshBooks(trx, countyId, opts.now);
    await refreshRecoveryAggregates(trx, countyId, opts.now, 0);
    const runId = await openRun(trx, countyId, year, 'archive', opts.actor, opts.now);
    await trx.raw(`SELECT set_config('agrireturn.archive_run', ?, true)`, [runId]);
    const sel = await selectYear(trx, countyId, from, to);
    if (!sel.sales && !sel.returns) throw new ArchiveRefused('NOTHING_TO_ARCHIVE', `Nothing of ${year} can leave yet: all ${sel.salesKept} sales and ${sel.returnsKept} returns of county ${countyId} still have containers outstanding or expired, held refunds, refund differences or points, or belong to such a sale or return.`);
    const live = await liveSchema(trx);
    const schema = archiveSchema(year);
    await ensureArchiveTables(trx, live, schema);
    const tables = await moveSelected(trx, countyId, live, schema);
    await trx.raw(`SELECT set_config('agrireturn.archive_run', '', true)`);
    const check = await checkLedger(trx, countyId);
    if (!check.ok) throw ledgerRefusal(check.problems, `Archiving ${year}`);
    const keptLive = { sales: sel.salesKept, returns: sel.returnsKept };
    await trx('archive_runs').where({ county_id: countyId, id: runId }).update({ state: 'done', finished_at: opts.now, tables: JSON.stringify(tables), kept_live: JSON.stringify(keptLive) });
    return { runId, countyId, year, schema, tables, keptLive };
  });
}

/** Brings an archived year of the county back into the live tables, checked against what its archive run moved. */
export async function restoreYear(knex: Knex, opts: { countyId: string; year: number; actor: string; now: Date }): Promise<ArchiveResult & { archivedBy: ArchiveRunRow }> {
  const { countyId, year } = opts;
  checkYear(year);
  await county(knex, countyId);
  try {
    return await knex.transaction(async (trx) => {
      await lock(trx, countyId);
      const archived = (await archivedYears(trx, countyId)).get(year);
      if (!archived) throw new ArchiveRefused('YEAR_NOT_ARCHIVED', `${year} of county ${countyId} is not archived: its records are in the live tables.`);
      const runId = await openRun(trx, countyId, year, 'restore', opts.actor, opts.now);
      // Rows come back as they were: no event-feed events or reconciliation marks are derived from them again.
      await trx.raw(`SELECT set_config('agrireturn.copying', 'on', true)`);
      const { tables, mismatches } = await restoreRows(trx, countyId, await liveSchema(trx), archived.schema_name, archived.tables ?? {});
      await trx.raw(`SELECT set_config('agrireturn.copying', '', true)`);
      if (mismatches.length) throw new ArchiveRefused('RESTORE_MISMATCH', `The archive of ${year} does not give back what left it, so nothing was restored: ${mismatches.join('; ')}`);
      const check = await checkLedger(trx, countyId);
      if (!check.ok) throw ledgerRefusal(check.problems, `Restoring ${year}`);
      // Per-day books built afresh while the year was archived lack it: the next reconciliation rebuilds them whole.
      const books = (await trx('reconciliation_book_state').where({ county_id: countyId }).first('missing_years')) as { missing_years: number[] } | undefined;
      if (books?.missing_years.map(Number).includes(year)) await trx('reconciliation_book_state').where({ county_id: countyId }).delete();
      // The year's recovery aggregates were kept as stored while it was archived; live again, they are rebuilt from its rows.
      await rebuildRecoveryYear(trx, countyId, year, opts.now);
      await trx('archive_runs').where({ county_id: countyId, id: runId }).update({ state: 'done', finished_at: opts.now, tables: JSON.stringify(tables), kept_live: null });
      return { runId, countyId, year, schema: archived.schema_name, tables, keptLive: archived.kept_live as ArchiveResult['keptLive'], archivedBy: archived };
    });
  } catch (err) {
    if ((err as { code?: string }).code === '23505') {
      throw new ArchiveRefused('RESTORE_CONFLICT', `A record of the archived ${year} collides with a live one (${(err as { detail?: string }).detail ?? (err as Error).message}), so nothing was restored: a unit code archived with its sale was sold again since. Ask the county official to look into that code.`);
    }
    throw err;
  }
}
