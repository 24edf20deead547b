// `npm run restore -- <file>`: brings a backup back into the configured database, which must be new
// and empty; then checks the ledger and the custody chain there. Exit 0 restored and clean,
// 1 restored but a check failed, 2 refused (nothing written).
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/connection.js';
import { restoreBackup } from '../backup/backup-archive.js';
import { assertCopyCapable, CopyRefusedError } from '../backup/table-copy.js';
import { checkAllCounties } from '../features/ledger/ledger-check.js';

const file = process.argv.slice(2).find((a) => !a.startsWith('--'));
if (!file) {
  console.error('usage: npm run restore -- <backup file>   (into the empty database DATABASE_URL names)');
  process.exit(2);
}
const config = loadConfig();
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 2, shareRunningServer: true });
try {
  assertCopyCapable(db);
  const got = await restoreBackup(db.knex, file, (p) => console.log(`[${p.index}/${p.of}] ${p.table}: ${p.rows} rows`));
  const rows = got.tables.reduce((n, t) => n + t.rows, 0);
  console.log(`restored ${file}: ${got.tables.length} tables, ${rows} rows, as of ${got.manifest.createdAt} (migration ${got.manifest.lastMigration})`);
  let failed = 0;
  for (const r of await checkAllCounties(db.knex)) {
    console.log(`ledger ${r.countyId}: ${r.ok ? 'ok' : 'FAILED'} (${r.transfers} transfers)`);
    if (!r.ok) failed++;
  }
  for (const r of got.resendRequests) console.log(`terminals of ${r.countyId} are asked to send again everything since ${r.since} (request ${r.id}); they do at their next sync`);
  process.exitCode = failed ? 1 : 0;
} catch (err) {
  if (!(err instanceof CopyRefusedError)) throw err;
  console.error(`restore refused: ${err.message}`);
  process.exitCode = 2;
} finally {
  await db.close();
}
