// What every operator's command shares: open the configured database and check it is the schema
// this version expects, and turn expected failures (no schema yet, schema behind, database not
// reachable, data directory in use, bad arguments) into one line saying what is wrong and what to do,
// exit code 2 — never a stack trace. Only a failure nobody expected prints its stack (exit 1).
import type { Config } from '../config.js';
import { ConfigError, loadConfig, redactUrl } from '../config.js';
import pg from 'pg';
import { openDatabase, type Database } from '../db/connection.js';
import { DirLockedError } from '../db/dir-lock.js';
import { EmbeddedServerError } from '../db/embedded-server.js';
import { migrationStatus } from '../db/migrator.js';

/** An expected condition: printed as one line on stderr, exit code 2. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'CliError';
  }
}

const NO_SCHEMA = 'The database has no agrireturn schema yet: run `npm run migrate` (or `npm start` once).';

function where(config: Config): string {
  return config.databaseUrl ? `PostgreSQL at ${redactUrl(config.databaseUrl)}` : `the embedded PostgreSQL server in ${config.dataDir}`;
}

/** Database errors an operator can fix, as one line; null for anything else. */
export function explainDatabaseError(err: unknown, config: Config): string | null {
  const e = err as { code?: string; message?: string };
  if (err instanceof DirLockedError) return `The data directory ${err.dir} is in use by process ${err.holderPid}, which is not the county server: wait for it to finish or stop it (one process per data directory).`;
  if (err instanceof EmbeddedServerError) return `The embedded PostgreSQL server could not start: ${err.message}`;
  if (!e || typeof e !== 'object') return null;
  const code = e.code ?? '';
  if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', '57P03', '08001', '08006'].includes(code)) {
    return `Cannot reach ${where(config)} (${code}): start the database server, or set DATABASE_URL to one that runs.`;
  }
  if (code === '3D000') return `The database named in DATABASE_URL (${config.databaseUrl ? redactUrl(config.databaseUrl) : ''}) does not exist: create it (createdb), or fix DATABASE_URL.`;
  if (code === '28P01' || code === '28000') return `${where(config)} refused the login: fix the user or password in DATABASE_URL.`;
  if (code === '42P01') return NO_SCHEMA;
  if (typeof e.message === 'string' && /Knex: Timeout acquiring a connection/.test(e.message)) return `Cannot reach ${where(config)} (timed out): start the database server, or check DATABASE_URL.`;
  return null;
}

/**
 * Opens the configured database. With `schema: 'required'`, refuses (CliError) a database that was
 * never migrated or is behind this version's migrations, before any command reads a table.
 */
export async function openForCli(config: Config, opts: { poolMax?: number; schema: 'required' | 'any' }): Promise<Database> {
  let db: Database;
  try {
    // Reach the server once with a plain client first: the pool would log its own retries otherwise.
    if (config.databaseUrl) {
      const probe = new pg.Client({ connectionString: config.databaseUrl, connectionTimeoutMillis: 10_000 });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
      } finally {
        await probe.end().catch(() => undefined);
      }
    }
    // Without DATABASE_URL: the running county server's embedded PostgreSQL when it runs, otherwise
    // one started for as long as the command runs (src/db/connection.ts).
    db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: opts.poolMax ?? 2, shareRunningServer: true });
  } catch (err) {
    const line = explainDatabaseError(err, config);
    throw line ? new CliError(line) : err;
  }
  try {
    const r = await db.knex.raw(`SELECT to_regclass('public.counties') IS NOT NULL AS has_schema, to_regclass('public.knex_migrations') IS NOT NULL AS has_migrations`);
    const row = (r.rows as Array<{ has_schema: boolean; has_migrations: boolean }>)[0];
    if (opts.schema === 'required') {
      if (!row?.has_schema || !row.has_migrations) throw new CliError(NO_SCHEMA);
      const status = await migrationStatus(db.knex);
      if (status.pending.length > 0) {
        throw new CliError(`The database schema is ${status.pending.length} migration(s) behind this version: run \`npm run migrate\` first.`);
      }
    }
    return db;
  } catch (err) {
    await db.close().catch(() => undefined);
    if (err instanceof CliError) throw err;
    const line = explainDatabaseError(err, config);
    throw line ? new CliError(line) : err;
  }
}

/** Loads the configuration; a bad setting is a one-line CliError. */
export function cliConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`The configuration is not valid: ${err.problems.join('; ')}. Fix the environment (see docs/operations.md).`);
    throw err;
  }
}

/**
 * Runs a command's main function: its return value is the exit code; a CliError (or a database error
 * an operator can fix) prints one line and exits 2; anything else prints its stack and exits 1.
 */
export function runCli(name: string, main: () => Promise<number | void>): void {
  main().then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (err: unknown) => {
      let line: string | null = err instanceof CliError ? err.message : null;
      if (line === null) {
        try {
          line = explainDatabaseError(err, loadConfig());
        } catch {
          line = null;
        }
      }
      if (line !== null) {
        console.error(`${name}: ${line}`);
        process.exitCode = err instanceof CliError ? err.exitCode : 2;
        return;
      }
      console.error(`${name}: unexpected failure, please report it:`);
      console.error(err);
      process.exitCode = 1;
    },
  );
}
