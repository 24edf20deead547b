// `npm run db:move -- --to postgres://…`: copies the configured county database to an external
// PostgreSQL server (an empty database there), with progress, then verifies row counts and the
// ledger on the target. Exit 0 moved and verified, 1 a check failed, 2 refused.
import { parseArgs } from 'node:util';
import { loadConfig, redactUrl } from '../config.js';
import { openDatabase } from '../db/connection.js';
import { moveDatabase } from '../backup/move-database.js';
import { assertCopyCapable, CopyRefusedError } from '../backup/table-copy.js';

const { values } = parseArgs({ options: { to: { type: 'string' } } });
const to = values.to;
if (!to || !/^postgres(ql)?:\/\//.test(to)) {
  console.error('usage: npm run db:move -- --to postgres://user:password@host:5432/database   (an empty database)');
  process.exit(2);
}
const config = loadConfig();
const source = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 2, shareRunningServer: true });
const target = await openDatabase({ databaseUrl: to, dataDir: '', poolMax: 2 });
try {
  assertCopyCapable(source);
  console.log(`moving to ${redactUrl(to)}`);
  const got = await moveDatabase(source.knex, target.knex, (p) => console.log(`[${p.index}/${p.of}] ${p.table}: ${p.rows} rows copied`));
  const rows = got.tables.reduce((n, t) => n + t.targetRows, 0);
  console.log(`row counts match: ${got.tables.length} tables, ${rows} rows (migration ${got.migrations.at(-1)})`);
  let failed = 0;
  for (const r of got.ledger) {
    console.log(`ledger ${r.countyId} on the target: ${r.ok ? 'ok' : 'FAILED'} (${r.transfers} transfers)`);
    if (!r.ok) failed++;
  }
  console.log(failed ? 'the move finished but the target failed the ledger check' : `moved. Start the server with DATABASE_URL=${redactUrl(to)}`);
  process.exitCode = failed ? 1 : 0;
} catch (err) {
  if (!(err instanceof CopyRefusedError)) throw err;
  console.error(`db:move refused: ${err.message}`);
  process.exitCode = 2;
} finally {
  await source.close();
  await target.close();
}
