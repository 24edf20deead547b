// `npm run ledger:expire`: the daily expiry job for every county (run from cron or a systemd timer).
// Exits 2 with one line saying what to do when it cannot run (no schema yet, database not reachable).
import { runExpiry } from '../features/expiry/expiry-service.js';
import { cliConfig, openForCli, runCli } from './cli-support.js';

runCli('ledger:expire', async () => {
  const db = await openForCli(cliConfig(), { schema: 'required' });
  try {
    const counties = (await db.knex('counties').where({ active: true }).orderBy('id').select('id')) as Array<{ id: string }>;
    if (counties.length === 0) console.log('no active counties in the database yet: nothing to expire');
    for (const { id } of counties) {
      const r = await runExpiry(db.knex, id, new Date(), 'system:expiry');
      console.log(`${id}: ${r.unitsExpired} unit(s) and ${r.lotContainersExpired} untracked container(s) expired, ${r.amountFen} fen to unredeemed`);
    }
  } finally {
    await db.close();
  }
  return 0;
});
