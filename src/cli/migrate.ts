// `npm run migrate`: apply pending migrations to the configured database and list what ran.
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/connection.js';
import { migrateLatest, migrationStatus } from '../db/migrator.js';

const config = loadConfig();
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 2 });
try {
  const applied = await migrateLatest(db.knex);
  const status = await migrationStatus(db.knex);
  console.log(applied.length ? `applied ${applied.length} migration(s):\n  ${applied.join('\n  ')}` : 'database is up to date');
  console.log(`${status.done.length} migration(s) in total, ${status.pending.length} pending`);
} finally {
  await db.close();
}
