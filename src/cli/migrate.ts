// `npm run migrate`: apply pending migrations to the configured database and list what ran.
// Exits 2 with one line saying what to do when the database cannot be opened.
import { migrateLatest, migrationStatus } from '../db/migrator.js';
import { cliConfig, openForCli, runCli } from './cli-support.js';

runCli('migrate', async () => {
  const db = await openForCli(cliConfig(), { schema: 'any' });
  try {
    const applied = await migrateLatest(db.knex);
    const status = await migrationStatus(db.knex);
    console.log(applied.length ? `applied ${applied.length} migration(s):\n  ${applied.join('\n  ')}` : 'database is up to date');
    console.log(`${status.done.length} migration(s) in total, ${status.pending.length} pending`);
  } finally {
    await db.close();
  }
  return 0;
});
