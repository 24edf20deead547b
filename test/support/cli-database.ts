// For tests of the operators' commands (`npm run ledger:check`, `custody:verify`, …): a database the
// command can open on its own — a data directory on which the command starts its own embedded
// PostgreSQL server, or a throwaway database on the external server when the suite runs on
// DATABASE_URL — an app on it to create data through the API, and a way to run the
// command as a separate process, judged by exit code and output.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type express from 'express';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import type { AppDeps } from '../../src/app-deps.js';
import { seedDemoCounty } from '../../seeds/demo-county.js';
import { BACKEND, throwawayDatabase } from './test-db.js';
import { TestClock, TEST_JWT_SECRET } from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliRun { code: number | null; stdout: string; stderr: string }

export interface CliDatabase {
  /** The environment the command runs with (DATA_DIR or DATABASE_URL). */
  env: NodeJS.ProcessEnv;
  open(): Promise<Database>;
  /** Opens, migrates and seeds the demo county, and hands over an app on it; closes afterwards. */
  prepare(work: (db: Database, app: express.Express, clock: TestClock) => Promise<void>): Promise<void>;
  run(script: string, ...args: string[]): Promise<CliRun>;
  /** Runs the command with some environment variables changed (e.g. an unreachable DATABASE_URL). */
  runWith(extraEnv: NodeJS.ProcessEnv, script: string, ...args: string[]): Promise<CliRun>;
  cleanup(): Promise<void>;
}

export async function cliDatabase(tag: string): Promise<CliDatabase> {
  const { DATABASE_URL: _omit, ...rest } = process.env;
  void _omit;
  let dataDir = '';
  let pgDb: Awaited<ReturnType<typeof throwawayDatabase>> | null = null;
  let env: NodeJS.ProcessEnv;
  if (BACKEND === 'embedded') {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `agrireturn-${tag}-`));
    env = { ...rest, DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  } else {
    pgDb = await throwawayDatabase(tag.replace(/-/g, '_'));
    env = { ...rest, DATABASE_URL: pgDb.url, LOG_LEVEL: 'silent' };
  }
  const open = (): Promise<Database> => (pgDb
    ? openDatabase({ databaseUrl: pgDb.url, dataDir: '', poolMax: 2 })
    : openDatabase({ databaseUrl: null, dataDir }));
  const self: CliDatabase = {
    env,
    open,
    async prepare(work) {
      const db = await open();
      try {
        await migrateLatest(db.knex);
        await seedDemoCounty(db.knex, { farmers: 3 });
        const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent' });
        const clock = new TestClock(new Date().toISOString());
        const deps: AppDeps = { db, config, logger: createLogger('silent'), clock, jwtSecret: TEST_JWT_SECRET };
        await work(db, createApp(deps), clock);
      } finally {
        await db.close();
      }
    },
    run(script, ...args) {
      return self.runWith({}, script, ...args);
    },
    runWith(extraEnv, script, ...args) {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', path.join('src/cli', script), ...args], { cwd: ROOT, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => { stdout += String(d); });
        child.stderr.on('data', (d) => { stderr += String(d); });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    },
    async cleanup() {
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      if (pgDb) await pgDb.drop();
    },
  };
  return self;
}
