// `npm run bench` on a tiny load, on the suite's database (the embedded server the bench starts
// itself, or the external server of DATABASE_URL): the bench starts the county server as its own
// process, runs the pgbench and raw INSERT baselines, the sync-returns, ledger and history sections (so
// none of them can rot unseen), and prints one
// table whose rows, columns, ratios and "main before" figures are checked here. Behaviour only: no
// figure is judged for speed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { COLUMNS, parseTable } from '../../bench/table.js';
import { findPgbench } from '../../bench/pgbench.js';
import { BACKEND } from '../support/test-db.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function runBench(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runScript('bench/run.ts', args, env);
}

function runScript(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const isNumber = (cell: string) => cell !== '-' && Number.isFinite(Number(cell.replace(/,/g, '')));

describe('npm run bench (smoke: tiny load, table shape)', function () {
  this.timeout(15 * 60_000);
  const database = BACKEND === 'postgres' ? 'external' : 'embedded';
  let out: { code: number | null; stdout: string; stderr: string };
  let table: ReturnType<typeof parseTable>;
  let json: { rows: Array<{ section: string; database: string }> };
  let again: { code: number | null; stdout: string } | null;
  const jsonFile = path.join(os.tmpdir(), `agrireturn-bench-smoke-${process.pid}.json`);
  const profDir = path.join(os.tmpdir(), `agrireturn-bench-smoke-prof-${process.pid}`);
  let profiles: string[] = [];
  let windows: Array<{ pid: number; section: string; database: string; fromUs: number; toUs: number }> = [];
  let profileTop: { code: number | null; stdout: string } | null = null;

  before(async () => {
    out = await runBench(['--db', database, '--sections', 'sync-returns,ledger,history', '--seconds', '0.2', '--concurrency', '1,16', '--history', '1000', '--json', jsonFile, '--cpu-prof', profDir], {
      ...process.env, BENCH_SYNC_BATCHES: '10', BENCH_SYNC_ROUNDS: '1',
    });
    table = parseTable(out.stdout);
    json = fs.existsSync(jsonFile) ? JSON.parse(fs.readFileSync(jsonFile, 'utf8')) : { rows: [] };
    again = fs.existsSync(jsonFile) ? await runBench(['--table-from', jsonFile], process.env) : null;
    fs.rmSync(jsonFile, { force: true });
    if (fs.existsSync(profDir)) {
      const files = fs.readdirSync(profDir);
      profiles = files.filter((f) => f.endsWith('.cpuprofile'));
      windows = files.filter((f) => /^window\.\d+\.json$/.test(f)).map((f) => JSON.parse(fs.readFileSync(path.join(profDir, f), 'utf8')));
      const main = profiles.find((f) => windows.some((w) => f.includes(`.${w.pid}.0.`)));
      if (main) profileTop = await runScript('bench/profile-top.ts', [path.join(profDir, main), '10']);
      fs.rmSync(profDir, { recursive: true, force: true });
    }
  });

  const row = (section: string, operation: RegExp | string, clients: number) =>
    table.find((r) => r.section === section && (typeof operation === 'string' ? r.operation === operation : operation.test(r.operation)) && r.clients === String(clients) && r.database === database);

  it('finishes and prints one table with every column', () => {
    expect(out.code, out.stderr.slice(-3000)).to.equal(0);
    const header = out.stdout.split('\n').find((l) => l.startsWith('| section |'));
    expect(header).to.equal(`| ${COLUMNS.join(' | ')} |`);
    expect(out.stdout.split('\n').filter((l) => l.startsWith('| section |'))).to.have.length(1);
    expect(table.length).to.be.greaterThan(8);
    expect(new Set(table.filter((r) => r.database !== '-').map((r) => r.database))).to.deep.equal(new Set([database]));
  });

  it('measures the baselines in the same run: raw INSERT transactions and pgbench TPC-B at 16 clients', function () {
    for (const c of [1, 16]) expect(isNumber(row('baseline', /^raw INSERT tx/, c)?.['ops/s'] ?? '-'), `raw INSERT at ${c}`).to.equal(true);
    if (!findPgbench()) this.skip();
    const pg = row('baseline', /^pgbench TPC-B/, 16);
    expect(pg, 'pgbench row').to.not.equal(undefined);
    expect(isNumber(pg!['ops/s'])).to.equal(true);
    expect(pg!['vs pgbench']).to.equal('1.000');
    expect(pg!['main before']).to.equal('1,852 tps');
  });

  it('prints sales and returns with their ratios to raw INSERT and pgbench, the server process CPU, and main\'s figures beside them', () => {
    for (const op of ['POST /sales', 'POST /returns']) {
      for (const c of [1, 16]) {
        const r = row('ledger', op, c);
        expect(r, `${op} at ${c}`).to.not.equal(undefined);
        for (const col of ['ops/s', 'p50 ms', 'p99 ms', 'baseline ops/s', 'ratio', 'app CPU ms/op'] as const) expect(isNumber(r![col]), `${op} ${c} ${col}: ${r![col]}`).to.equal(true);
        expect(r!.baseline).to.equal('raw INSERT tx');
        if (findPgbench()) expect(isNumber(r!['vs pgbench']), `${op} vs pgbench`).to.equal(true);
      }
    }
    expect(row('ledger', 'POST /sales', 16)!['main before']).to.equal('141/s, p99 525 ms');
    expect(row('ledger', 'POST /returns', 16)!['main before']).to.equal('175/s, p99 342 ms');
    expect(row('ledger', 'POST /sales', 1)!['main before']).to.equal('-');
  });

  it('measures a sync batch of returns beside a raw multi-row INSERT of as many rows, with the server process CPU', () => {
    // BENCH_SYNC_BATCHES=10: the section sells 10 coded containers (and 10 without a code), then
    // syncs their 10 returns; it throws (and the bench exits non-zero) unless all 10 were applied and
    // refunded 200 fen each.
    const sync = row('sync-returns', 'sync batch of 10 returns (records/s)', 1);
    const raw = row('sync-returns', 'raw multi-row INSERT of 10 return rows (rows/s)', 1);
    expect(sync, 'sync-returns row').to.not.equal(undefined);
    expect(raw, 'raw INSERT row').to.not.equal(undefined);
    for (const col of ['ops/s', 'p50 ms', 'p99 ms', 'baseline ops/s', 'ratio', 'app CPU ms/op'] as const) expect(isNumber(sync![col]), `sync-returns ${col}: ${sync![col]}`).to.equal(true);
    expect(sync!.baseline).to.equal('raw multi-row INSERT of 10');
    expect(sync!['baseline ops/s']).to.equal(raw!['ops/s']);
    expect(json.rows.filter((r) => r.section === 'sync-returns')).to.have.length(2);
  });

  it('measures sales and sync with history stored against the empty database', () => {
    const sales = row('history', /^POST \/sales, with 1,000 sold units stored$/, 16);
    const sync = row('history', /^sync batch of 10, with 1,000 sold units stored/, 1);
    for (const r of [sales, sync]) {
      expect(r).to.not.equal(undefined);
      expect(r!.baseline).to.equal('same, empty database');
      expect(isNumber(r!.ratio), r!.ratio).to.equal(true);
    }
    expect(row('history', 'POST /sales, empty database', 16)).to.not.equal(undefined);
    // The generator preloads the history: about 1,000 unit codes (every container coded; the year before and its opening deposits).
    expect(out.stdout).to.match(/history \(\w+\): (9\d\d|1,0\d\d) sold unit codes in [\d,]+ sales stored by the generator/);
  });

  it('lists main\'s figures this run did not measure, and writes the rows as JSON', () => {
    const notMeasured = table.filter((r) => r.database === '-').map((r) => r.section);
    expect(notMeasured).to.include.members(['sync', 'dashboard', 'generate']);
    expect(table.find((r) => r.section === 'dashboard')!['main before']).to.match(/^15\.2 s .*not measured in this run/);
    expect(json.rows.filter((r) => r.section === 'ledger')).to.have.length(4);
    expect(json.rows.every((r) => r.database === database)).to.equal(true);
  });

  it('profiles each section\'s server process (--cpu-prof) and reads a profile within the section\'s window', () => {
    expect(windows.map((w) => w.section).sort()).to.deep.equal(['history', 'ledger', 'sync-returns']);
    expect(new Set(windows.map((w) => w.pid)).size).to.equal(3); // a fresh server process per section
    for (const w of windows) {
      expect(w.database).to.equal(database);
      expect(w.toUs).to.be.greaterThan(w.fromUs);
      expect(profiles.some((f) => f.includes(`.${w.pid}.`)), `profile of ${w.pid}`).to.equal(true);
    }
    expect(profileTop?.code).to.equal(0);
    expect(profileTop!.stdout).to.match(/^(embedded|external) (sync-returns|ledger|history): server process \d+/);
    expect(profileTop!.stdout).to.match(/ms busy in the section's window \(idle left out\)/);
    expect(profileTop!.stdout).to.include('self time by module group:');
    expect(profileTop!.stdout).to.not.match(/\(idle\)/);
  });

  it('prints the same table again from the JSON file (--table-from)', () => {
    expect(again?.code).to.equal(0);
    expect(parseTable(again!.stdout)).to.deep.equal(table);
  });
});

describe('npm run bench -- --sections trace (smoke: a tiny generated county-year)', function () {
  this.timeout(15 * 60_000);
  const database = BACKEND === 'postgres' ? 'external' : 'embedded';
  let out: { code: number | null; stdout: string; stderr: string };

  before(async () => {
    out = await runBench(['--db', database, '--sections', 'trace', '--no-pgbench', '--seconds', '0.2', '--concurrency', '1', '--history', '0'], {
      ...process.env, BENCH_TRACE_CONTAINERS: '400', BENCH_TRACE_REQUESTS: '12', BENCH_TRACE_WARM_UP: '2',
    });
  });

  it('generates the county-year, traces sampled unit codes over HTTP and prints the unit trace p95 (every trace answered 200)', () => {
    expect(out.code, out.stderr.slice(-3000)).to.equal(0);
    console.log(out.stdout.split('\n').filter((l) => /^(trace|unit trace|lot trace)/.test(l)).join('\n'));
    expect(out.stdout).to.match(/^trace bench data: 511425 [\d,]+ containers \/ [\d,]+ sales \/ [\d,]+ returns/m);
    const returned = /^trace bench: (\d+) returned and (\d+) other sampled codes; (\d+) returned codes put into disposed bags/m.exec(out.stdout);
    expect(returned, out.stdout.slice(-3000)).to.not.equal(null);
    expect(Number(returned![1]) + Number(returned![2])).to.equal(12);
    expect(Number(returned![1])).to.be.greaterThan(0);
    const unit = /^unit trace: p50 ([\d.]+) ms, p95 ([\d.]+) ms, p99 ([\d.]+) ms \((\d+) requests, (\d+) errors, 400 containers\)/m.exec(out.stdout);
    expect(unit, out.stdout.slice(-3000)).to.not.equal(null);
    expect(Number(unit![4])).to.equal(12);
    expect(Number(unit![5]), 'traces that did not answer 200').to.equal(0);
    expect(Number(unit![2])).to.be.at.least(Number(unit![1]));
    expect(out.stdout).to.match(/^trace plan: \d+ scans, \d+ sequential/m);
    const table = parseTable(out.stdout);
    const row = table.find((r) => r.section === 'trace' && /^unit trace \(p95 [\d.]+ ms\)$/.test(r.operation) && r.database === database);
    expect(row, 'the unit trace row of the table').to.not.equal(undefined);
    expect(isNumber(row!['p50 ms'])).to.equal(true);
  });
});
