// `npm run custody:verify [countyId]`: recompute every county's custody hash chain and mass balance;
// names the first broken link and every unexplained difference; exits 1 when any check fails, 2 when it
// cannot run (bad county id, no schema yet, database not reachable), saying in one line what to do.
import { verifyChain } from '../features/custody/hash-chain.js';
import { massBalance } from '../features/custody/mass-balance.js';
import { CliError, cliConfig, openForCli, runCli } from './cli-support.js';

runCli('custody:verify', async () => {
  const only = process.argv[2];
  if (only !== undefined && !/^[1-8]\d{5}$/.test(only)) throw new CliError(`"${only}" is not a county code: give six digits such as 511425, or nothing for every county.`);
  const db = await openForCli(cliConfig(), { schema: 'required' });
  let failed = 0;
  try {
    const known = ((await db.knex('counties').orderBy('id').select('id')) as Array<{ id: string }>).map((c) => c.id);
    if (only !== undefined && !known.includes(only)) throw new CliError(`There is no county ${only} in this database: run without an argument to check every county.`);
    const counties = only ? [only] : known;
    if (counties.length === 0) console.log('no counties in the database yet (load the demo county with `npm run seed`)');
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
  return failed ? 1 : 0;
});
