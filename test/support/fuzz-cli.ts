// `npm run fuzz -- --requests N --seed S`: the fuzz test's long run, on a fresh seeded database
// (embedded, or PostgreSQL when DATABASE_URL is set). Prints the seed, the tally and every failure
// (5xx, a 4xx outside the catalogue's shape, an error-level log line, a changed business table);
// exits 1 when there is any, 2 on bad arguments.
import { parseArgs } from 'node:util';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import type { AppDeps } from '../../src/app-deps.js';
import { freshDatabase, endOfRun, BACKEND } from './test-db.js';
import { TestClock, TEST_JWT_SECRET } from './harness.js';
import { rawServer } from './raw-http.js';
import { runFuzz, snapshotBusinessTables } from './fuzz.js';
import { fuzzActors } from './fuzz-setup.js';

let values: { requests: string; seed?: string };
try {
  ({ values } = parseArgs({ options: { requests: { type: 'string', default: '10000' }, seed: { type: 'string' } } }) as { values: typeof values });
} catch (err) {
  console.error(`fuzz: ${(err as Error).message}. Usage: npm run fuzz -- [--requests N] [--seed S]`);
  process.exit(2);
}
const requests = Number(values.requests);
const seed = values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : Number(values.seed);
if (!Number.isInteger(requests) || requests < 1 || !Number.isInteger(seed) || seed < 0) {
  console.error('fuzz: --requests must be a positive whole number and --seed a whole number ≥ 0. Usage: npm run fuzz -- [--requests N] [--seed S]');
  process.exit(2);
}

const db = await freshDatabase();
const errors: string[] = [];
let failed = false;
try {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      const line = JSON.parse(String(chunk)) as { level: string; err?: { stack?: string } };
      if ((line.level === 'error' || line.level === 'fatal' || line.err?.stack) && errors.length < 20) errors.push(String(chunk).slice(0, 800));
      cb();
    },
  });
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'warn' });
  const deps: AppDeps = { db, config, logger: createLogger('warn', sink), clock: new TestClock(), jwtSecret: TEST_JWT_SECRET };
  const app = createApp(deps);
  const actors = await fuzzActors(app);
  const server = await rawServer(app);
  console.log(`fuzz: seed ${seed}, ${requests} requests, backend ${BACKEND}`);
  const before = await snapshotBusinessTables(db.knex);
  const started = Date.now();
  const result = await runFuzz({ server, actors, requests, seed, jwtSecret: TEST_JWT_SECRET, onProgress: (n) => { if (n % 2000 === 0) console.log(`  ${n} sent`); } });
  await server.close();
  const after = await snapshotBusinessTables(db.knex);
  console.log(`fuzz: ${result.requests} requests over ${result.operations} operations in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`  statuses ${JSON.stringify(result.byStatus)}`);
  console.log(`  kinds ${JSON.stringify(result.byKind)}`);
  for (const f of result.failures) console.log(`  FAIL ${f.problem}: ${f.operation} [${f.kind}] → ${f.status} ${f.body}\n    ${f.request}`);
  const changed = Object.keys({ ...before, ...after }).filter((t) => before[t] !== after[t]);
  for (const t of changed) console.log(`  FAIL business table ${t} changed: ${before[t]} → ${after[t]}`);
  for (const e of errors) console.log(`  FAIL error log line: ${e}`);
  failed = result.failures.length > 0 || changed.length > 0 || errors.length > 0;
  console.log(failed ? `fuzz: FAILED (seed ${seed})` : `fuzz: no 5xx, every answer a catalogued 4xx, nothing changed (seed ${seed})`);
} finally {
  await db.close();
  await endOfRun();
}
process.exitCode = failed ? 1 : 0;
