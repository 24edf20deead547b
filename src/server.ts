// Starts a county server from configuration: opens the database, migrates, optionally seeds the
// demo county, listens, and shuts down gracefully (finish requests in flight, close the database).
import fs from 'node:fs';
import path from 'node:path';
import { precompressDashboardAssets } from './features/dashboard/static-assets.js';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/connection.js';
import { migrateLatest } from './db/migrator.js';
import { createLogger, type Logger } from './logger.js';
import { createApp } from './http/app.js';
import { systemClock, type AppDeps } from './app-deps.js';
import { startScheduler, type Scheduler } from './jobs/scheduler.js';
import { countyJobs, serverJobs } from './jobs/jobs.js';
import { startSmsRunner } from './features/sms/sms-runner.js';
import { closeSharedBrowser } from './features/monthly-report/chromium.js';
import { stopEventFeed } from './features/events/feed-service.js';

/**
 * The JWT signing secret: JWT_SECRET when set; otherwise one the server generated once and keeps in
 * the database (`server_secrets`), so backups carry it and a restored county keeps its sessions. A
 * secret an older version left in DATA_DIR/jwt-secret is adopted into the table on first start.
 * Two servers starting at once agree: the first insert wins and both read it back.
 */
export async function resolveJwtSecret(config: Config, knex: Knex): Promise<string> {
  if (config.jwtSecret) return config.jwtSecret;
  const stored = await knex('server_secrets').where({ name: JWT_SECRET_NAME }).first();
  if (stored) return stored.value as string;
  const legacy = config.dataDir.startsWith('memory://') ? null : path.join(config.dataDir, 'jwt-secret');
  const value = legacy && fs.existsSync(legacy) ? fs.readFileSync(legacy, 'utf8').trim() : randomBytes(48).toString('base64url');
  await knex('server_secrets').insert({ name: JWT_SECRET_NAME, value }).onConflict('name').ignore();
  return (await knex('server_secrets').where({ name: JWT_SECRET_NAME }).first()).value as string;
}

const JWT_SECRET_NAME = 'jwt';

export interface RunningServer {
  url: string;
  deps: AppDeps;
  scheduler: Scheduler;
  server: http.Server;
  stop(): Promise<void>;
}

export async function startServer(config: Config, opts: { logger?: Logger; db?: Database; onSeeded?: (users: Array<{ username: string; password: string; role: string; description_zh: string; description_en: string }>) => void } = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const db = opts.db ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: config.dbPoolMax, logger }));
  try {
    if (config.migrateOnStart) {
      const applied = await migrateLatest(db.knex);
      if (applied.length) logger.info({ applied }, 'migrations applied');
    }
    if (config.seedDemoOnStart) {
      const { seedDemoCounty } = await import('../seeds/demo-county.js');
      const result = await seedDemoCounty(db.knex);
      opts.onSeeded?.(result.users);
    }
  } catch (err) {
    await db.close();
    throw err;
  }
  const deps: AppDeps = { db, config, logger, clock: systemClock, jwtSecret: await resolveJwtSecret(config, db.knex) };
  const app = createApp(deps);
  // The dashboard's files are compressed now (or read back from the cache), not on the first visit.
  precompressDashboardAssets().then((sizes) => logger.debug({ sizes }, 'dashboard assets precompressed'), (err) => logger.warn({ err }, 'dashboard assets not precompressed'));
  const scheduler = startScheduler(db.knex, deps.clock, logger, [...countyJobs(config), ...serverJobs(config, db)]);
  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = config.publicUrl ?? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  const sms = startSmsRunner(deps, url);
  let stopping: Promise<void> | null = null;
  return {
    url, deps, server, scheduler,
    stop() {
      stopping ??= (async () => {
        await stopEventFeed(deps); // parked long polls answer now instead of holding the drain
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          // Requests still running after 10 s are cut: a supervisor will not wait for ever.
          setTimeout(() => server.closeAllConnections(), 10_000).unref();
        });
        await scheduler.stop();
        await sms?.stop();
        await closeSharedBrowser();
        await db.close();
      })();
      return stopping;
    },
  };
}
