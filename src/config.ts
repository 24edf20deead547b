// Reads and validates configuration from the environment once, at start, so a bad value stops the
// server with a message naming the variable instead of failing later at a shop counter.
import path from 'node:path';

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  /** Set → real PostgreSQL through a pg pool. Unset → embedded PGlite. */
  databaseUrl: string | null;
  /** PGlite data directory; 'memory://' keeps everything in memory (tests). */
  dataDir: string;
  dbPoolMax: number;
  migrateOnStart: boolean;
  seedDemoOnStart: boolean;
  /** null → the embedded default generates one and keeps it in the data directory. */
  jwtSecret: string | null;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  bodyLimitBytes: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  publicUrl: string | null;
  /** How often the deposit-expiry job runs; 0 turns the in-server scheduler's job off. */
  expiryJobIntervalMinutes: number;
  /** How often the dashboard's recovery aggregates are refreshed; 0 = off. */
  aggregateJobIntervalMinutes: number;
  /** How often the scheduler looks for a finished month to reconcile; 0 = off. */
  reconciliationJobIntervalMinutes: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];

  const str = (name: string, fallback: string): string => {
    const v = env[name];
    return v === undefined || v === '' ? fallback : v;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw.trim())) {
      problems.push(`${name} must be a whole number between ${min} and ${max}, got "${raw}"`);
      return fallback;
    }
    const n = Number(raw);
    if (n < min || n > max) problems.push(`${name} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  };
  const oneOf = <T extends string>(name: string, fallback: T, allowed: readonly T[]): T => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  };

  const nodeEnv = oneOf('NODE_ENV', 'development', ['development', 'production', 'test'] as const);
  const databaseUrl = env.DATABASE_URL && env.DATABASE_URL.trim() !== '' ? env.DATABASE_URL.trim() : null;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(`DATABASE_URL must start with postgres:// or postgresql://, got "${redactUrl(databaseUrl)}"`);
  }
  const jwtSecret = env.JWT_SECRET && env.JWT_SECRET !== '' ? env.JWT_SECRET : null;
  if (jwtSecret !== null && jwtSecret.length < 32) {
    problems.push('JWT_SECRET must be at least 32 characters long');
  }
  if (nodeEnv === 'production' && jwtSecret === null) {
    problems.push('JWT_SECRET is required when NODE_ENV=production');
  }
  const dataDirRaw = str('DATA_DIR', './data');
  const dataDir = dataDirRaw.startsWith('memory://') ? dataDirRaw : path.resolve(dataDirRaw);

  const config: Config = {
    env: nodeEnv,
    port: int('PORT', 3000, 0, 65535),
    host: str('HOST', '127.0.0.1'),
    databaseUrl,
    dataDir,
    dbPoolMax: int('DB_POOL_MAX', 10, 1, 200),
    migrateOnStart: bool('MIGRATE_ON_START', true),
    seedDemoOnStart: bool('SEED_DEMO', databaseUrl === null),
    jwtSecret,
    accessTokenTtlSeconds: int('ACCESS_TOKEN_TTL_SECONDS', 900, 30, 86_400),
    refreshTokenTtlSeconds: int('REFRESH_TOKEN_TTL_SECONDS', 14 * 86_400, 300, 365 * 86_400),
    bodyLimitBytes: int('BODY_LIMIT_BYTES', 1_048_576, 1024, 64 * 1_048_576),
    logLevel: oneOf('LOG_LEVEL', nodeEnv === 'test' ? 'silent' : 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    expiryJobIntervalMinutes: int('EXPIRY_JOB_INTERVAL_MINUTES', nodeEnv === 'test' ? 0 : 60, 0, 7 * 24 * 60),
    aggregateJobIntervalMinutes: int('AGGREGATE_JOB_INTERVAL_MINUTES', nodeEnv === 'test' ? 0 : 5, 0, 7 * 24 * 60),
    reconciliationJobIntervalMinutes: int('RECONCILIATION_JOB_INTERVAL_MINUTES', nodeEnv === 'test' ? 0 : 60, 0, 7 * 24 * 60),
    publicUrl: env.PUBLIC_URL && env.PUBLIC_URL !== '' ? env.PUBLIC_URL.replace(/\/$/, '') : null,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Hides the password in a connection string so it can be printed. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
}
