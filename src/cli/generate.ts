// `npm run generate -- --counties N --year YYYY [--containers K]`: realistic seasonal data for N
// counties (the demo county first) on the configured database, then the recovery aggregates and a
// ledger check and the custody checks. K is containers per county and year (default 100,000; a real county sells ~1 million).
// Rows are streamed in by COPY in bounded memory; at the end it prints the rows per table, the time
// and the peak resident memory (process.memoryUsage().rss, sampled every 100 ms and after every COPY flush).
import { parseArgs } from 'node:util';
import { migrateLatest } from '../db/migrator.js';
import { seedDemoCounty } from '../../seeds/demo-county.js';
import { generateData } from '../features/generator/generate-data.js';
import { refreshRecoveryAggregates } from '../features/recovery-rates/aggregation-job.js';
import { checkLedger } from '../features/ledger/ledger-check.js';
import { verifyChain } from '../features/custody/hash-chain.js';
import { massBalance } from '../features/custody/mass-balance.js';
import { CliError, cliConfig, openForCli, runCli } from './cli-support.js';

runCli('generate', async () => {
  let values: { counties: string; year: string; containers: string; seed?: string; 'keys-after-load'?: boolean };
  try {
    ({ values } = parseArgs({ options: { counties: { type: 'string', default: '1' }, year: { type: 'string', default: '2026' }, containers: { type: 'string', default: '100000' }, seed: { type: 'string' }, 'keys-after-load': { type: 'boolean' } } }) as { values: typeof values });
  } catch (err) {
    throw new CliError(`${(err as Error).message}. Usage: npm run generate -- --counties N (1–99) --year YYYY [--containers K] [--seed S] [--keys-after-load]`);
  }
  const counties = Number(values.counties);
  const year = Number(values.year);
  const containers = Number(values.containers);
  if (!Number.isInteger(counties) || counties < 1 || counties > 99 || !Number.isInteger(year) || year < 2000 || year > 2100 || !Number.isInteger(containers) || containers < 1) {
    throw new CliError('usage: npm run generate -- --counties N (1–99) --year YYYY [--containers K] [--seed S] [--keys-after-load]');
  }
  const db = await openForCli(cliConfig(), { poolMax: 4, schema: 'any' });
  let failed = false;
  try {
    await migrateLatest(db.knex);
    await seedDemoCounty(db.knex);
    console.log(`generating ${counties} county(ies) × ${containers} containers for ${year} …`);
    let peakRss = process.memoryUsage().rss;
    const sample = () => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    };
    const timer = setInterval(sample, 100);
    let r;
    try {
      r = await generateData(db.knex, { counties, year, containersPerCounty: containers, seed: values.seed ? Number(values.seed) : undefined, log: (m) => console.log(m), onFlush: sample, keysAfterLoad: values['keys-after-load'] === true });
    } finally {
      clearInterval(timer);
      sample();
    }
    console.log(`generated ${r.sales} sales, ${r.containers} containers (+ ${r.openingContainers} opening deposits of ${year - 1}, ${r.expiredContainers} expired), ${r.returns} returns, ${r.bags} bags, ${r.custodyEvents} custody events in ${(r.ms / 1000).toFixed(1)} s (${((r.ms - r.booksMs) / 1000).toFixed(1)} s writing, ${(r.booksMs / 1000).toFixed(1)} s bringing the reconciliation books up to date)`);
    const width = Math.max(...Object.keys(r.rows).map((t) => t.length));
    console.log('rows written per table:');
    for (const [t, n] of Object.entries(r.rows)) console.log(`  ${t.padEnd(width)} ${String(n).padStart(10)}`);
    const total = Object.values(r.rows).reduce((a, n) => a + n, 0);
    console.log(`  ${'total'.padEnd(width)} ${String(total).padStart(10)} rows in ${(r.ms / 1000).toFixed(1)} s (${Math.round(total / Math.max(r.ms / 1000, 0.001))} rows/s); peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
    const t0 = Date.now();
    // Up to now, like the server's own refresh: rows the generator dated after today count once their time comes.
    const now = new Date();
    for (const c of r.counties) await refreshRecoveryAggregates(db.knex, c, now, 0);
    console.log(`recovery aggregates built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (const c of r.counties) {
      const check = await checkLedger(db.knex, c);
      console.log(`ledger ${c}: ${check.ok ? 'ok' : 'FAILED'}${check.problems.map((p) => `\n  - ${p.message}`).join('')}`);
      failed ||= !check.ok;
      const chain = await verifyChain(db.knex, c);
      const balance = await massBalance(db.knex, c);
      console.log(`custody ${c}: hash chain ${chain.ok ? 'ok' : 'BROKEN'} (${chain.events} events); mass balance ${balance.ok ? 'holds' : 'FAILS'}${balance.problems.map((p) => `\n  - ${p.message}`).join('')}`);
      failed ||= !chain.ok || !balance.ok;
    }
  } finally {
    await db.close();
  }
  return failed ? 1 : 0;
});
