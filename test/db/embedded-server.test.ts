// The embedded PostgreSQL 15 server the county server runs without DATABASE_URL: durable settings that
// configuration cannot weaken, a private port on 127.0.0.1 with a generated password kept in the data
// directory, an unprivileged account when started as root, one server per data directory, a restart
// after the postmaster dies that the knex pool follows, a clean stop — and the operators' commands
// reaching it while the county server runs.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { DirLockedError } from '../../src/db/dir-lock.js';
import { embeddedPaths, startEmbeddedServer, EMBEDDED_OS_USER } from '../../src/db/embedded-server.js';
import { migrateLatest } from '../../src/db/migrator.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function runCli(script: string, dataDir: string): Promise<{ code: number | null; out: string }> {
  const { DATABASE_URL: _omit, ...rest } = process.env;
  void _omit;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('src/cli', script)], { cwd: ROOT, env: { ...rest, DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += String(d); });
    child.stderr.on('data', (d) => { out += String(d); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

function processUid(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
}

describe('embedded PostgreSQL server (the default without DATABASE_URL)', function () {
  this.timeout(180_000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-embedded-'));
  let db: Database;

  before(async () => {
    db = await openDatabase({ databaseUrl: null, dataDir, poolMax: 4 });
    await migrateLatest(db.knex);
  });

  after(async () => {
    await db?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('is PostgreSQL 15 with fsync, synchronous_commit and full_page_writes on, which ALTER SYSTEM cannot turn off', async () => {
    const setting = async (name: string) => (await db.knex.raw('select setting, source from pg_settings where name = ?', [name])).rows[0] as { setting: string; source: string };
    expect((await db.knex.raw('show server_version_num')).rows[0].server_version_num).to.match(/^15\d{4}$/);
    for (const name of ['fsync', 'synchronous_commit', 'full_page_writes']) {
      expect(await setting(name), name).to.deep.equal({ setting: 'on', source: 'command line' });
    }
    // A careless (or hostile) configuration change is outranked by the command line the app starts it with.
    await db.knex.raw('alter system set fsync = off');
    await db.knex.raw('alter system set synchronous_commit = off');
    await db.knex.raw('select pg_reload_conf()');
    await new Promise((r) => setTimeout(r, 300));
    expect((await setting('fsync')).setting).to.equal('on');
    expect((await setting('synchronous_commit')).setting).to.equal('on');
    await db.knex.raw('alter system reset all');
    await db.knex.raw('select pg_reload_conf()');
  });

  it('listens only on 127.0.0.1 (no Unix socket), behind a generated password kept in the data directory (0600)', async () => {
    const server = db.embedded!;
    expect((await db.knex.raw('show listen_addresses')).rows[0].listen_addresses).to.equal('127.0.0.1');
    expect((await db.knex.raw('show unix_socket_directories')).rows[0].unix_socket_directories).to.equal('');
    const paths = embeddedPaths(dataDir);
    expect(fs.statSync(paths.password).mode & 0o777).to.equal(0o600);
    expect(fs.readFileSync(paths.password, 'utf8').trim()).to.equal(server.password).and.have.length.greaterThan(20);
    const state = JSON.parse(fs.readFileSync(paths.state, 'utf8'));
    expect(state).to.include({ port: server.port(), host: '127.0.0.1', ownerPid: process.pid, postmasterPid: server.postmasterPid(), role: 'server' });
    const wrong = new pg.Client({ ...server.connectionConfig(), password: 'not-the-password' });
    wrong.on('error', () => undefined);
    let refused = '';
    await wrong.connect().catch((err: Error) => { refused = err.message; });
    await wrong.end().catch(() => undefined);
    expect(refused).to.match(/password authentication failed/);
  });

  it('runs as an unprivileged account when started as root, and owns its data files', function () {
    const pid = db.embedded!.postmasterPid()!;
    const cluster = embeddedPaths(dataDir).cluster;
    expect(fs.statSync(cluster).mode & 0o777).to.equal(0o700);
    if (process.getuid!() === 0) {
      expect(processUid(pid), `the postmaster runs as "${EMBEDDED_OS_USER}", not root`).to.not.equal(0);
      expect(fs.statSync(cluster).uid).to.equal(processUid(pid));
      expect(fs.statSync(path.join(cluster, 'PG_VERSION')).uid).to.equal(processUid(pid));
    } else {
      expect(processUid(pid)).to.equal(process.getuid!());
    }
  });

  it('refuses a second server on the same data directory with a clear message', async () => {
    let err: unknown = null;
    await startEmbeddedServer({ dataDir, role: 'server' }).catch((e: unknown) => { err = e; });
    expect(err).to.be.instanceOf(DirLockedError);
    expect((err as Error).message).to.equal(`the data directory ${dataDir} is in use by process ${process.pid}; stop it first (one process per data directory)`);
    // The county server says so in one line and exits 3 (test/ops/npm-start.test.ts runs it for real).
  });

  it('commands reach the running server: npm run migrate and ledger:check connect to it', async () => {
    const migrate = await runCli('migrate.ts', dataDir);
    expect(migrate.code, migrate.out).to.equal(0);
    expect(migrate.out).to.contain('database is up to date');
    const check = await runCli('ledger-check.ts', dataDir);
    expect(check.code, check.out).to.equal(0);
    expect(check.out).to.contain('all county ledgers pass');
  });

  it('restarts the server when its postmaster is killed (SIGKILL); the pool reconnects and nothing committed is lost', async () => {
    const server = db.embedded!;
    await db.knex.raw('create table if not exists kill_probe (n int primary key)');
    await db.knex('kill_probe').insert([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const before = server.postmasterPid()!;
    process.kill(before, 'SIGKILL');
    // The supervisor notices the exit and starts a new postmaster (crash recovery replays the WAL).
    const deadline = Date.now() + 120_000;
    while (server.restarts() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await server.ready();
    expect(server.restarts()).to.equal(1);
    expect(server.postmasterPid()).to.be.a('number').and.not.equal(before);
    // The pool's connections to the dead server fail once at most; fresh ones reach the new server.
    let rows: Array<{ n: number }> = [];
    for (let i = 0; i < 10; i++) {
      try {
        rows = await db.knex('kill_probe').orderBy('n').select('n');
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(rows.map((r) => r.n)).to.deep.equal([1, 2, 3]);
    expect((await db.knex.raw('show fsync')).rows[0].fsync).to.equal('on');
  });

  it('stops cleanly: the postmaster exits, its pid file and the lock are gone, and it starts again on the same data', async () => {
    const server = db.embedded!;
    const pid = server.postmasterPid()!;
    const paths = embeddedPaths(dataDir);
    await db.close();
    expect(() => process.kill(pid, 0)).to.throw();
    expect(fs.existsSync(path.join(paths.cluster, 'postmaster.pid'))).to.equal(false);
    expect(fs.existsSync(path.join(dataDir, 'agrireturn.lock'))).to.equal(false);
    expect(fs.existsSync(paths.state)).to.equal(false);
    const started = Date.now();
    db = await openDatabase({ databaseUrl: null, dataDir, poolMax: 2 });
    const restartMs = Date.now() - started;
    expect((await db.knex('kill_probe').count({ n: '*' }).first())!.n).to.equal(3);
    console.log(`      (restart on an initialised data directory: ${restartMs} ms)`);
  });

  it('a command with the county server stopped starts the embedded server itself, and stops it when done', async () => {
    await db.close();
    db = undefined as unknown as Database;
    const check = await runCli('ledger-check.ts', dataDir);
    expect(check.code, check.out).to.equal(0);
    expect(check.out).to.contain('all county ledgers pass');
    expect(fs.existsSync(path.join(embeddedPaths(dataDir).cluster, 'postmaster.pid'))).to.equal(false);
    expect(fs.existsSync(path.join(dataDir, 'agrireturn.lock'))).to.equal(false);
  });
});
