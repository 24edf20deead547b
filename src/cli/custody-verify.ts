// `npm run custody:verify [countyId]`: recompute every county's custody hash chain and mass balance;
// names the first broken link and every unexplained difference; exits 1 when any check fails.
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/connection.js';
import { verifyChain } from '../features/custody/hash-chain.js';
import { massBalance } from '../features/custody/mass-balance.js';

const config = loadConfig();
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 2 });
let failed = 0;
try {
  const only = process.argv[2];
  const counties = only ? [only] : ((await db.knex('counties').orderBy('id').select('id')) as Array<{ id: string }>).map((c) => c.id);
  for (const countyId of counties) {
    const chain = await verifyChain(db.knex, countyId);
    const balance = await massBalance(db.knex, countyId);
    console.log(`${countyId}: hash chain ${chain.ok ? 'ok' : 'BROKEN'} (${chain.events} events, head ${chain.headHash.slice(0, 16)}…); mass balance ${balance.ok ? 'holds' : 'FAILS'}`);
    if (chain.firstBroken) console.log(`  - first broken link: event ${chain.firstBroken.seq} (${chain.firstBroken.eventId}): ${chain.firstBroken.message}`);
    for (const m of balance.materials) {
      console.log(`  ${m.material}: returned ${m.counts.returned} = at shops ${m.counts.notBagged + m.counts.inBagsAtShops} + in transit ${m.counts.inTransit} + at facilities ${m.counts.atFacilities} + disposed ${m.counts.disposed} + discrepancies ${m.counts.explainedByDiscrepancies} (unexplained ${m.counts.unexplained}); ${m.kg.returned} kg, unexplained ${m.kg.unexplained} kg`);
    }
    for (const p of balance.problems) console.log(`  - ${p.message}`);
    if (!chain.ok || !balance.ok) failed++;
  }
} finally {
  await db.close();
}
console.log(failed ? `${failed} county custody check(s) failed` : 'all custody checks pass');
process.exitCode = failed ? 1 : 0;
