// `npm run ledger:check`: verify every county's ledger; exits 1 when any check fails, 2 when it cannot
// run (no schema yet, database not reachable), saying in one line what to do.
import { checkAllCounties } from '../features/ledger/ledger-check.js';
import { cliConfig, openForCli, runCli } from './cli-support.js';

runCli('ledger:check', async () => {
  const db = await openForCli(cliConfig(), { schema: 'required' });
  let failed = 0;
  let counties = 0;
  try {
    for (const r of await checkAllCounties(db.knex)) {
      counties++;
      console.log(`${r.countyId}: ${r.ok ? 'ok' : 'FAILED'} (${r.transfers} transfers, entries sum ${r.entriesSumFen} fen)`);
      for (const p of r.problems) console.log(`  - [${p.check}] ${p.message}`);
      if (!r.ok) failed++;
    }
  } finally {
    await db.close();
  }
  if (counties === 0) console.log('no counties in the database yet (load the demo county with `npm run seed`)');
  console.log(failed ? `${failed} county ledger(s) failed the check` : 'all county ledgers pass');
  return failed ? 1 : 0;
});
