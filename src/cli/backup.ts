// `npm run backup [-- --dir <dir>]`: an online backup of the configured database while the server
// keeps serving; keeps the newest BACKUP_KEEP files of the directory. Exit 0 written, 2 refused.
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/connection.js';
import { backupWithRotation } from '../backup/backup-archive.js';
import { assertCopyCapable, CopyRefusedError } from '../backup/table-copy.js';

const { values } = parseArgs({ options: { dir: { type: 'string' } } });
const config = loadConfig();
const dir = values.dir ?? config.backup.dir;
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 2, shareRunningServer: true });
try {
  assertCopyCapable(db);
  const got = await backupWithRotation(db.knex, dir, config.backup.keep, new Date(), (p) => console.log(`[${p.index}/${p.of}] ${p.table}: ${p.rows} rows`));
  const rows = got.manifest.tables.reduce((n, t) => n + t.rows, 0);
  console.log(`backup written: ${got.file} (${got.bytes} bytes, ${got.manifest.tables.length} tables, ${rows} rows, snapshot ${got.manifest.createdAt}, migration ${got.manifest.lastMigration})`);
  for (const r of got.removed) console.log(`removed old backup ${r} (keeping ${config.backup.keep})`);
} catch (err) {
  if (!(err instanceof CopyRefusedError)) throw err;
  console.error(`backup refused: ${err.message}`);
  process.exitCode = 2;
} finally {
  await db.close();
}
