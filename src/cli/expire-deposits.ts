// `npm run ledger:expire`: the daily expiry job for every county (run from cron or a systemd timer).
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/connection.js';
import { runExpiry } from '../features/expiry/expiry-service.js';

const config = loadConfig();
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 2 });
try {
  const counties = (await db.knex('counties').where({ active: true }).orderBy('id').select('id')) as Array<{ id: string }>;
  for (const { id } of counties) {
    const r = await runExpiry(db.knex, id, new Date(), 'system:expiry');
    console.log(`${id}: ${r.unitsExpired} unit(s) and ${r.lotContainersExpired} untracked container(s) expired, ${r.amountFen} fen to unredeemed`);
  }
} finally {
  await db.close();
}
