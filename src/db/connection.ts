// Opens the database through one knex `pg` pool either way: an external PostgreSQL server when
// DATABASE_URL is set, otherwise the embedded PostgreSQL 15 server this process runs on DATA_DIR
// (src/db/embedded-server.ts). The SQL, the driver and the type parsers are the same for both.
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { redactUrl } from '../config.js';
import { attachToRunningServer, startEmbeddedServer, type EmbeddedLogger, type EmbeddedRole, type EmbeddedServer } from './embedded-server.js';

let parsersInstalled = false;

/**
 * int8 (count(*), sums of fen) must arrive as numbers we can add, not strings; a value outside the
 * safe-integer range is a bug we want loudly, not silently rounded money. `date` stays 'YYYY-MM-DD'
 * so a business day never shifts through a time zone.
 */
export function installTypeParsers(): void {
  if (parsersInstalled) return;
  parsersInstalled = true;
  pg.types.setTypeParser(20, (v: string) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new Error(`int8 value ${v} exceeds the safe integer range`);
    return n;
  });
  pg.types.setTypeParser(1082, (v: string) => v);
}

export interface Database {
  knex: Knex;
  /** 'embedded': the PostgreSQL server on DATA_DIR (run by this process or by the application). */
  kind: 'postgres' | 'embedded';
  /** The embedded server this process supervises; absent on DATABASE_URL or when attached to the app's. */
  embedded?: EmbeddedServer;
  /** For people: which database this is, without its password. */
  description: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl: string | null;
  dataDir: string;
  poolMax?: number;
  logger?: EmbeddedLogger;
  /**
   * Commands (migrate, seed, ledger:check, …) set this: when the county server is running on DATA_DIR
   * they connect to its embedded PostgreSQL server; otherwise they start one for as long as they run.
   * The county server itself leaves it off, so a second server on one directory is refused.
   */
  shareRunningServer?: boolean;
  /** Recorded in DATA_DIR for whoever looks (default 'server', or 'cli' with shareRunningServer). */
  role?: EmbeddedRole;
}

function pool(connection: Knex.Config['connection'], poolMax: number): Knex {
  return knexFactory({
    client: 'pg',
    connection,
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 10_000,
  });
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  installTypeParsers();
  const poolMax = opts.poolMax ?? 10;
  if (opts.databaseUrl) {
    const knex = pool({ connectionString: opts.databaseUrl, application_name: 'agrireturn' }, poolMax);
    return { knex, kind: 'postgres', description: `PostgreSQL ${redactUrl(opts.databaseUrl)}`, close: () => knex.destroy() };
  }
  if (opts.shareRunningServer) {
    const running = attachToRunningServer(opts.dataDir);
    if (running) {
      const knex = pool(running.config() as unknown as Knex.PgConnectionConfig, poolMax);
      const c = running.config();
      return { knex, kind: 'embedded', description: `embedded PostgreSQL 15 of the running county server (process ${running.ownerPid}) at ${c.host}:${c.port}`, close: () => knex.destroy() };
    }
  }
  const server = await startEmbeddedServer({ dataDir: opts.dataDir, role: opts.role ?? (opts.shareRunningServer ? 'cli' : 'server'), logger: opts.logger });
  // A function, so every new connection reads the current port: after the supervisor restarts a
  // crashed server the pool's broken connections are discarded and new ones reach the new postmaster.
  const knex = pool(() => server.connectionConfig() as unknown as Knex.PgConnectionConfig, poolMax);
  return {
    knex,
    kind: 'embedded',
    embedded: server,
    get description() {
      return `embedded PostgreSQL 15 in ${server.cluster} (127.0.0.1:${server.port()})`;
    },
    async close() {
      await knex.destroy();
      await server.stop();
    },
  };
}
