// The generated fuzz test (docs/architecture.md, "Hostile input"): from the OpenAPI document, for
// every operation, certainly-invalid requests with hostile paths, queries, headers and bodies, sent as
// a caller whose role may call the operation. No 5xx ever, every answer a 4xx in the catalogue's error
// shape, no business table changed, no error-level log line. FUZZ_SEED / FUZZ_REQUESTS override the
// defaults; `npm run fuzz -- --requests N --seed S` runs long.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { TEST_JWT_SECRET, useTestApp } from '../support/harness.js';
import { rawServer, type RawServer } from '../support/raw-http.js';
import { operationsFromOpenApi, runFuzz, snapshotBusinessTables, actorsFor, type FuzzActor } from '../support/fuzz.js';
import { fuzzActors } from '../support/fuzz-setup.js';

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Date.now() / 1000) % 100_000);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 2000);

describe(`fuzz: hostile requests to every operation (seed ${SEED}, ${REQUESTS} requests)`, function () {
  this.timeout(600_000);
  const t = useTestApp();
  const lines: string[] = [];
  let server: RawServer;
  let actors: FuzzActor[];

  before(async () => {
    const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    const app = createApp({ ...t.deps, logger: createLogger('warn', sink) });
    actors = await fuzzActors(app);
    server = await rawServer(app);
  });
  after(async () => {
    await server?.close();
  });

  it('every operation of the OpenAPI document is fuzzed, as a caller that may call it', () => {
    const ops = operationsFromOpenApi();
    expect(ops.length).to.be.greaterThan(90);
    const unreachable = ops.filter((o) => !o.isPublic && actorsFor(o, actors).length === 0).map((o) => `${o.method} ${o.path}`);
    expect(unreachable).to.deep.equal([]);
  });

  it('no 5xx, the catalogue’s error shape, no business table changed, no error log line', async () => {
    console.log(`      fuzz seed ${SEED} (rerun with FUZZ_SEED=${SEED}, or npm run fuzz -- --seed ${SEED} --requests N)`);
    const before = await snapshotBusinessTables(t.db.knex);
    lines.length = 0;
    const started = Date.now();
    const result = await runFuzz({ server, actors, requests: REQUESTS, seed: SEED, jwtSecret: TEST_JWT_SECRET });
    await new Promise((r) => setTimeout(r, 50));
    const after = await snapshotBusinessTables(t.db.knex);
    console.log(`      ${result.requests} requests over ${result.operations} operations in ${((Date.now() - started) / 1000).toFixed(1)} s; statuses ${JSON.stringify(result.byStatus)}; kinds ${JSON.stringify(result.byKind)}`);
    expect(result.failures, `seed ${SEED}:\n${result.failures.map((f) => JSON.stringify(f)).join('\n')}`).to.deep.equal([]);
    expect(after, 'business tables are unchanged').to.deep.equal(before);
    const errors = lines.map((l) => JSON.parse(l) as { level: string; msg?: string; err?: { stack?: string } }).filter((l) => l.level === 'error' || l.level === 'fatal' || l.err?.stack);
    expect(errors.map((e) => JSON.stringify(e).slice(0, 500)), `seed ${SEED}`).to.deep.equal([]);
    expect(result.requests).to.equal(REQUESTS);
  });
});

describe('npm run fuzz: the long run as a command', function () {
  this.timeout(300_000);
  const run = (...args: string[]) => new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/fuzz-cli.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += String(d); });
    child.stderr.on('data', (d) => { out += String(d); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });

  it('runs N requests with a seed, prints the tally, exits 0; bad arguments exit 2', async () => {
    const ok = await run('--requests', '60', '--seed', '5');
    expect(ok.code, ok.out).to.equal(0);
    expect(ok.out).to.contain('fuzz: seed 5, 60 requests');
    expect(ok.out).to.match(/fuzz: 60 requests over \d+ operations/);
    expect(ok.out).to.contain('no 5xx, every answer a catalogued 4xx, nothing changed (seed 5)');
    const bad = await run('--requests', 'many');
    expect(bad.code, bad.out).to.equal(2);
    expect(bad.out).to.contain('Usage: npm run fuzz');
  });
});
