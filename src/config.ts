// Reads and validates configuration from the environment once, at start, so a bad value stops the
// server with a message naming the variable instead of failing later at a shop counter.
import path from 'node:path';

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  /** Set → an external PostgreSQL server. Unset → the embedded PostgreSQL 15 server on dataDir. */
  databaseUrl: string | null;
  /** The data directory: the embedded server's cluster (dataDir/postgres), its password, the JWT secret. */
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
  sms: SmsConfig;
  /**
   * Express `trust proxy`: false (default) takes the client address from the socket; behind a
   * reverse proxy set it (1, 'loopback', a CIDR list) so throttling sees the real client address.
   */
  trustProxy: boolean | number | string;
  authThrottle: AuthThrottleConfig;
  backup: BackupConfig;
  groupCommit: GroupCommitConfig;
  /** How long a checked session or terminal credential is kept per process (dropped at once by NOTIFY when revoked); 0 = read every time. */
  sessionCacheMs: number;
}

/** Group commit of online sales and returns (src/features/ledger/group-commit.ts, docs/ledger.md "Throughput"). */
export interface GroupCommitConfig {
  /** How long the first sale (or return) of a county waits for others to share its transaction. */
  maxWaitMs: number;
  /** A group this large goes at once. */
  maxItems: number;
  /** Groups of one county applying at once. */
  maxInFlight: number;
  /**
   * The same for groups applied as one set-based run (POST /sales): their cost hardly grows with
   * their size, so one at a time, with the next gathering meanwhile, costs the least per request.
   */
  runInFlight: number;
}

/** Throttling of failed logins, terminal credentials and enrolment codes (docs/operations.md). */
export interface AuthThrottleConfig {
  /** Failures counted together; a window older than this starts again at zero. */
  windowSeconds: number;
  /** Failures per login name (existing or not) answered at once; each further one blocks the name base·2ⁿ seconds. */
  accountFreeFailures: number;
  /** Failures per client address answered at once before the address is slowed down. */
  addressFreeFailures: number;
  /** Failures within the window that lock the account. */
  lockAfterFailures: number;
  lockSeconds: number;
  /** First delay; it doubles with every further failure, up to the maximum. */
  baseDelaySeconds: number;
  maxDelaySeconds: number;
  /** Bad terminal credentials or enrolment codes from one address answered at once. */
  deviceAddressFreeFailures: number;
  /** Public status checks (/check) from one client address per window answered at once; further ones wait base·2ⁿ seconds. */
  publicChecksPerAddress: number;
  /** Wrong tries of one enrolment code (an expired or used one, or a guess) answered at once. */
  enrolmentCodeFreeFailures: number;
  /** Password hashes (scrypt) computed at once; more wait in the queue. */
  hashConcurrency: number;
  /** Logins waiting for a hash slot; beyond this they are answered 503 SERVER_BUSY at once. */
  hashQueueLimit: number;
}

/** Online backups taken by the server's scheduler (docs/operations.md). */
export interface BackupConfig {
  /** Where `npm run backup` and the scheduled backups write their files. */
  dir: string;
  /** Hours between scheduled backups; 0 = the server takes none (run `npm run backup` from cron). */
  intervalHours: number;
  /** How many backup files to keep in `dir`; older ones are removed after a new one is written. */
  keep: number;
}

/** The farmers' SMS service through Kannel (docs/sms.md). Off until a county and a secret are set. */
export interface SmsConfig {
  /** The county whose farmers text the short number; null turns the inbound endpoint off. */
  countyId: string | null;
  /** The number farmers text (the sender of our SMS). */
  shortNumber: string;
  /** Shared secret Kannel puts in its get-url and dlr-url; null turns the callbacks off. */
  inboundSecret: string | null;
  /** Kannel smsbox sendsms URL; null turns the outbox worker off (messages wait in the outbox). */
  kannelSendsmsUrl: string | null;
  kannelUser: string;
  kannelPassword: string;
  /** Base URL Kannel calls back for delivery reports; default the public URL or host:port. */
  callbackBaseUrl: string | null;
  /** Inbound messages per number per hour that are answered. */
  rateLimitPerHour: number;
  /** Days before a deposit's expiry that the farmer is reminded; 0 = no reminders. */
  expiryReminderDays: number;
  /** How often the outbox worker looks for due messages. */
  workerIntervalMs: number;
  /** Attempts before a message is given up as failed. */
  maxAttempts: number;
  /** Back-off after the first failure; doubles each attempt up to an hour. */
  retryBaseMs: number;
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
  // The address farmers' phones and officials' browsers reach: links, and the check page in the QR of
  // every sale receipt the county's terminals print. A bad one would be printed on paper, so refuse it.
  const publicUrlRaw = env.PUBLIC_URL?.trim() ? env.PUBLIC_URL.trim() : null;
  let publicUrl: string | null = null;
  if (publicUrlRaw !== null) {
    let u: URL | null = null;
    try {
      u = new URL(publicUrlRaw);
    } catch {
      u = null;
    }
    if (!u || !/^https?:$/.test(u.protocol) || u.search || u.hash || u.username || u.password || /\s/.test(publicUrlRaw)) {
      problems.push(`PUBLIC_URL must be an http:// or https:// address without query or credentials (e.g. https://agrireturn.qingshen.gov.cn), got "${publicUrlRaw}"`);
    } else {
      publicUrl = publicUrlRaw.replace(/\/+$/, '');
    }
  }
  const dataDirRaw = str('DATA_DIR', './data');
  const dataDir = path.resolve(dataDirRaw);

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
    publicUrl,
    sms: loadSmsConfig(env, problems, str, int),
    trustProxy: trustProxy(env.TRUST_PROXY, problems),
    authThrottle: {
      windowSeconds: int('AUTH_FAILURE_WINDOW_MINUTES', 15, 1, 24 * 60) * 60,
      accountFreeFailures: int('LOGIN_FREE_FAILURES_PER_ACCOUNT', 5, 1, 1000),
      addressFreeFailures: int('LOGIN_FREE_FAILURES_PER_ADDRESS', 20, 1, 100_000),
      lockAfterFailures: int('LOGIN_LOCK_AFTER_FAILURES', 10, 2, 1000),
      lockSeconds: int('LOGIN_LOCK_MINUTES', 15, 1, 7 * 24 * 60) * 60,
      baseDelaySeconds: int('AUTH_DELAY_BASE_SECONDS', 1, 1, 3600),
      maxDelaySeconds: int('AUTH_DELAY_MAX_SECONDS', 300, 1, 86_400),
      deviceAddressFreeFailures: int('DEVICE_FREE_FAILURES_PER_ADDRESS', 10, 1, 100_000),
      publicChecksPerAddress: int('PUBLIC_CHECKS_PER_ADDRESS', 30, 1, 100_000),
      enrolmentCodeFreeFailures: int('ENROLMENT_FREE_FAILURES_PER_CODE', 3, 1, 1000),
      hashConcurrency: int('PASSWORD_HASH_CONCURRENCY', 2, 1, 64),
      hashQueueLimit: int('PASSWORD_HASH_QUEUE', 16, 0, 10_000),
    },
    backup: {
      dir: path.resolve(str('BACKUP_DIR', './backups')),
      intervalHours: int('BACKUP_INTERVAL_HOURS', nodeEnv === 'test' ? 0 : 24, 0, 24 * 31),
      keep: int('BACKUP_KEEP', 14, 1, 10_000),
    },
    sessionCacheMs: int('SESSION_CACHE_MS', 10_000, 0, 300_000),
    groupCommit: {
      maxWaitMs: int('GROUP_COMMIT_WAIT_MS', 2, 0, 1000),
      maxItems: int('GROUP_COMMIT_MAX_REQUESTS', 64, 1, 1000),
      maxInFlight: int('GROUP_COMMIT_IN_FLIGHT', 4, 1, 64),
      runInFlight: int('GROUP_COMMIT_RUN_IN_FLIGHT', 1, 1, 64),
    },
  };
  if (config.authThrottle.lockAfterFailures <= config.authThrottle.accountFreeFailures) {
    problems.push('LOGIN_LOCK_AFTER_FAILURES must be greater than LOGIN_FREE_FAILURES_PER_ACCOUNT');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function loadSmsConfig(env: Env, problems: string[], str: (n: string, f: string) => string, int: (n: string, f: number, min: number, max: number) => number): SmsConfig {
  const opt = (name: string): string | null => (env[name] && env[name]!.trim() !== '' ? env[name]!.trim() : null);
  const countyId = opt('SMS_COUNTY_ID');
  if (countyId !== null && !/^[1-8][0-9]{5}$/.test(countyId)) problems.push(`SMS_COUNTY_ID must be a six-digit county code, got "${countyId}"`);
  const shortNumber = str('SMS_SHORT_NUMBER', '10690000');
  if (!/^\+?[0-9]{3,20}$/.test(shortNumber)) problems.push(`SMS_SHORT_NUMBER must be digits (an optional leading +), got "${shortNumber}"`);
  const inboundSecret = opt('SMS_INBOUND_SECRET');
  if (inboundSecret !== null && (inboundSecret.length < 16 || !/^[A-Za-z0-9._~-]+$/.test(inboundSecret))) {
    problems.push('SMS_INBOUND_SECRET must be at least 16 characters of A-Z a-z 0-9 . _ ~ - (it travels in a URL)');
  }
  const url = (name: string): string | null => {
    const v = opt(name);
    if (v !== null && !/^https?:\/\/[^\s]+$/.test(v)) {
      problems.push(`${name} must be an http:// or https:// URL`);
      return null;
    }
    return v === null ? null : v.replace(/\/$/, '');
  };
  const kannelSendsmsUrl = url('KANNEL_SENDSMS_URL');
  const callbackBaseUrl = url('SMS_CALLBACK_BASE_URL');
  const kannelUser = str('KANNEL_USER', 'agrireturn');
  const kannelPassword = str('KANNEL_PASSWORD', '');
  if (kannelSendsmsUrl !== null && kannelPassword === '') problems.push('KANNEL_PASSWORD is required when KANNEL_SENDSMS_URL is set');
  if (kannelSendsmsUrl !== null && inboundSecret === null) problems.push('SMS_INBOUND_SECRET is required when KANNEL_SENDSMS_URL is set (delivery reports are checked with it)');
  return {
    countyId, shortNumber, inboundSecret, kannelSendsmsUrl, kannelUser, kannelPassword, callbackBaseUrl,
    rateLimitPerHour: int('SMS_RATE_LIMIT_PER_HOUR', 10, 1, 1000),
    expiryReminderDays: int('SMS_EXPIRY_REMINDER_DAYS', 30, 0, 365),
    workerIntervalMs: int('SMS_WORKER_INTERVAL_MS', 2000, 100, 600_000),
    maxAttempts: int('SMS_MAX_ATTEMPTS', 8, 1, 50),
    retryBaseMs: int('SMS_RETRY_BASE_MS', 30_000, 10, 3_600_000),
  };
}

function trustProxy(raw: string | undefined, problems: string[]): boolean | number | string {
  if (raw === undefined || raw.trim() === '') return false;
  const v = raw.trim();
  if (/^(false|0|no|off)$/i.test(v)) return false;
  if (/^(true|yes|on)$/i.test(v)) return true;
  if (/^\d+$/.test(v)) return Number(v);
  if (!/^[A-Za-z0-9.:/, ]+$/.test(v)) {
    problems.push(`TRUST_PROXY must be false, true, a number of proxy hops, loopback/linklocal/uniquelocal or addresses/CIDRs, got "${raw}"`);
    return false;
  }
  return v;
}

/** Hides the password in a connection string so it can be printed. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
}
