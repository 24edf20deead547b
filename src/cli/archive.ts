// `npm run archive -- --county C --year Y`: moves the county's finished sales and returns of a closed
// year at least two full years old into the schema archive_<Y> (docs/traceability.md "Archive by
// year"). `npm run archive:restore -- --county C --year Y` (this file with --restore) brings them back
// into the live tables for an audit, checked row for row against what left. Exit 0 done, 1 the
// ledger check or the restore's checksums failed (nothing changed), 2 refused (nothing changed).
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ArchiveRefused, archiveYear, restoreCommand, restoreYear, type ArchiveResult } from '../features/archive/archive-service.js';
import { CliError, cliConfig, openForCli, runCli } from './cli-support.js';

const USAGE = 'usage: npm run archive -- --county 511425 --year 2023   |   npm run archive:restore -- --county 511425 --year 2023';

function tablesLine(r: ArchiveResult): string {
  return Object.entries(r.tables).map(([t, d]) => `${t} ${d.rows}`).join(', ');
}

const restore = process.argv.includes('--restore');
const name = restore ? 'archive:restore' : 'archive';

runCli(name, async () => {
  let values: { county?: string; year?: string };
  try {
    ({ values } = parseArgs({ options: { county: { type: 'string' }, year: { type: 'string' }, restore: { type: 'boolean' } }, allowPositionals: false }));
  } catch (err) {
    throw new CliError(`${(err as Error).message}. ${USAGE}`);
  }
  if (!values.county || !/^[1-8]\d{5}$/.test(values.county)) throw new CliError(`give the county as six digits (--county 511425). ${USAGE}`);
  if (!values.year || !/^\d{4}$/.test(values.year)) throw new CliError(`give the year as four digits (--year 2023). ${USAGE}`);
  const countyId = values.county;
  const year = Number(values.year);
  const actor = `ops:${os.userInfo().username}`;
  const db = await openForCli(cliConfig(), { schema: 'required' });
  try {
    if (!restore) {
      const r = await archiveYear(db.knex, { countyId, year, actor, now: new Date() });
      console.log(`${countyId} ${year}: archived into schema ${r.schema} (run ${r.runId}): ${tablesLine(r)}`);
      console.log(`  kept live: ${r.keptLive.sales} sales and ${r.keptLive.returns} returns of ${year} (containers still outstanding or expired, held refunds, refund differences or points, or tied to such a record)`);
      for (const [t, d] of Object.entries(r.tables)) console.log(`  ${t}: ${d.rows} rows, md5 ${d.md5}`);
      console.log(`  the ledger check passes; restore for an audit: ${restoreCommand(countyId, year)}`);
    } else {
      const r = await restoreYear(db.knex, { countyId, year, actor, now: new Date() });
      console.log(`${countyId} ${year}: restored from schema ${r.schema} into the live tables (run ${r.runId}; archived by run ${r.archivedBy.id}): ${tablesLine(r)}`);
      for (const [t, d] of Object.entries(r.tables)) console.log(`  ${t}: ${d.rows} rows, md5 ${d.md5} — as archived`);
      console.log('  every table\'s count and checksum equal what left at archiving; the ledger check passes');
    }
    return 0;
  } catch (err) {
    if (err instanceof ArchiveRefused) {
      const failed = err.code === 'LEDGER_CHECK_FAILED' || err.code === 'RESTORE_MISMATCH';
      throw new CliError(`${failed ? '' : 'refused: '}${err.message}`, failed ? 1 : 2);
    }
    throw err;
  } finally {
    await db.close();
  }
});
