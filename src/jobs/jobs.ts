// The periodic jobs of a county server and how often they run (configurable, 0 = off).
import type { Config } from '../config.js';
import type { Database } from '../db/connection.js';
import { backupWithRotation } from '../backup/backup-archive.js';
import type { CountyJob } from './scheduler.js';
import { runExpiry } from '../features/expiry/expiry-service.js';
import { runPointsExpiryJob } from '../features/points/points-service.js';
import { refreshRecoveryAggregates } from '../features/recovery-rates/aggregation-job.js';
import { runScheduledReconciliation } from '../features/reconciliation/reconciliation-service.js';
import { refreshBooks } from '../features/reconciliation/day-books.js';
import { AuthThrottle } from '../auth/throttle.js';

export function countyJobs(config: Config): CountyJob[] {
  return [
    {
      name: 'deposit-expiry',
      intervalMs: config.expiryJobIntervalMinutes * 60_000,
      run: (knex, countyId, now) => runExpiry(knex, countyId, now, 'system:expiry-job'),
    },
    {
      // Points that lapsed (counties.points_expire_after_years) expire: one run per county business
      // day (its client id is made from the county and the day), a second run expires nothing more.
      name: 'points-expiry',
      intervalMs: config.expiryJobIntervalMinutes * 60_000,
      run: (knex, countyId, now) => runPointsExpiryJob(knex, countyId, now),
    },
    {
      // Keeps the dashboard's monthly aggregates current; rebuilds only months touched since the last run.
      name: 'recovery-aggregates',
      intervalMs: config.aggregateJobIntervalMinutes * 60_000,
      run: (knex, countyId, now) => refreshRecoveryAggregates(knex, countyId, now),
    },
    {
      // Folds the days written since the last tick into the reconciliation books (so an on-demand run
      // has at most an hour's days to fold), then reconciles the previous month once it has ended (a
      // run per county and month; later ticks skip it).
      name: 'monthly-reconciliation',
      intervalMs: config.reconciliationJobIntervalMinutes * 60_000,
      run: async (knex, countyId, now) => {
        await refreshBooks(knex, countyId, now);
        return (await runScheduledReconciliation(knex, countyId, now))?.id ?? 'already done';
      },
    },
  ];
}

/**
 * Jobs for the whole database: the county's scheduled online backups (BACKUP_INTERVAL_HOURS, BACKUP_KEEP),
 * and hourly (off in tests) the pruning of failed-login counters whose window has passed and that
 * neither delay nor lock anything, so auth_throttle does not grow with every address ever seen.
 */
export function serverJobs(config: Config, db: Database): CountyJob[] {
  void db; // both engines are PostgreSQL servers: the embedded one and DATABASE_URL's
  return [
    {
      name: 'backup',
      scope: 'server',
      intervalMs: config.backup.intervalHours * 3_600_000,
      run: async (knex, _countyId, now) => {
        const got = await backupWithRotation(knex, config.backup.dir, config.backup.keep, now);
        return { file: got.file, bytes: got.bytes, removed: got.removed.length };
      },
    },
    {
      name: 'auth-throttle-prune',
      scope: 'server',
      intervalMs: config.env === 'test' ? 0 : 3_600_000,
      run: async (knex, _countyId, now) => ({ deleted: await new AuthThrottle(knex, config.authThrottle, { now: () => now }).prune() }),
    },
  ];
}
