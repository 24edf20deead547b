// The county server as the bench runs it: its own process, started the way `npm start` starts it
// (src/main.ts under tsx, configured through the environment), on a database the bench names. The
// bench's HTTP clients run in the bench process, so what the server process spends is the server's.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH_JWT_SECRET = 'bench-secret-that-is-long-enough-0123456789';

export interface ServerProcess {
  url: string;
  pid: number;
  /** SIGTERM, then waits for the graceful stop (SIGKILL after 30 s). */
  stop(): Promise<void>;
}

export interface ServerOptions {
  databaseUrl: string;
  poolMax: number;
  /** When set, the server runs under `node --cpu-prof` and writes its profile into this folder on exit. */
  cpuProfDir?: string | null;
}

export async function startServerProcess(opts: ServerOptions): Promise<ServerProcess> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-bench-server-'));
  const { DATABASE_URL: _omit, ...rest } = process.env;
  void _omit;
  const env: NodeJS.ProcessEnv = {
    ...rest,
    DATABASE_URL: opts.databaseUrl,
    NODE_ENV: 'production',
    JWT_SECRET: BENCH_JWT_SECRET,
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
    SEED_DEMO: 'true',
    MIGRATE_ON_START: 'true',
    DB_POOL_MAX: String(opts.poolMax),
    DATA_DIR: scratch,
    BACKUP_DIR: path.join(scratch, 'backups'),
    // No background work while measuring: the scheduler's jobs would compete with the load.
    EXPIRY_JOB_INTERVAL_MINUTES: '0',
    AGGREGATE_JOB_INTERVAL_MINUTES: '0',
    RECONCILIATION_JOB_INTERVAL_MINUTES: '0',
    BACKUP_INTERVAL_HOURS: '0',
    // A section's logins outlive a long setup (storing 10 M units of history): tokens last a day.
    ACCESS_TOKEN_TTL_SECONDS: '86400',
  };
  const nodeArgs = ['--import', 'tsx'];
  if (opts.cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    if (err.length > 20_000) err = err.slice(-10_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench: the county server did not start within 600 s (migrations and the demo seed on a loaded machine can take minutes)\n${out}\n${err}`)), 600_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /county server is running at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`bench: the county server exited (code ${code}) before it was ready\n${out}\n${err}`));
    });
  });
  let stopping: Promise<void> | null = null;
  return {
    url,
    pid: child.pid!,
    stop() {
      stopping ??= (async () => {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(killer);
        fs.rmSync(scratch, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
