// `npm run ledger:check`: verify every county's ledger; exits 1 when any check fails.
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/connection.js';
import { checkAllCounties } from '../features/ledger/ledger-check.js';

const config = loadConfig();
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 2 });
let failed = 0;
try {
  for (const r of await checkAllCounties(db.knex)) {
    console.log(`${r.countyId}: ${r.ok ? 'ok' : 'FAILED'} (${r.transfers} transfers, entries sum ${r.entriesSumFen} fen)`);
    for (const p of r.problems) console.log(`  - [${p.check}] ${p.message}`);
    if (!r.ok) failed++;
  }
} finally {
  await db.close();
}
console.log(failed ? `${failed} county ledger(s) failed the check` : 'all county ledgers pass');
process.exitCode = failed ? 1 : 0;
