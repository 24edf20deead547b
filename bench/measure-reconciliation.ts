// Times a county-year reconciliation both ways (full recomputation and books) on an existing database,
// e.g. one filled by `npm run generate`: DATABASE_URL=… npx tsx bench/measure-reconciliation.ts [county] [year]
import { openDatabase } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrator.js';
import { benchReconciliation } from './sections/reconciliation.js';

const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL!, dataDir: '', poolMax: 4 });
try {
  await migrateLatest(db.knex);
  const r = await benchReconciliation(db.knex, process.argv[2] ?? '511425', Number(process.argv[3] ?? 2026));
  console.log(JSON.stringify(r));
  process.exitCode = r.identical ? 0 : 1;
} finally {
  await db.close();
}
