// One call per test file: a fresh database, the express app on it, a settable clock and a login
// helper. Tests talk to the app through supertest, as a client would.
import request from 'supertest';
import type express from 'express';
import { loadConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import type { AppDeps, Clock } from '../../src/app-deps.js';
import type { Database } from '../../src/db/connection.js';
import { DEMO_PASSWORD } from '../../seeds/demo-county.js';
import { freshDatabase } from './test-db.js';

export { BACKEND } from './test-db.js';
export { DEMO_PASSWORD };

export class TestClock implements Clock {
  private t: number;
  constructor(iso = '2026-03-15T02:00:00.000Z') {
    this.t = Date.parse(iso);
  }
  now(): Date {
    return new Date(this.t);
  }
  set(iso: string): void {
    this.t = Date.parse(iso);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface TestContext {
  db: Database;
  deps: AppDeps;
  app: express.Express;
  clock: TestClock;
  api: () => ReturnType<typeof request>;
  /** Logs in and returns "Bearer …". Cached per username. */
  token(username: string): Promise<string>;
}

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-0123456789';

/** Call at the top of a describe: sets up before() and tears down after(). */
/** `env`: more configuration (environment variables) for the app, e.g. SMS_COUNTY_ID. */
export function useTestApp(opts: { clock?: string; env?: Record<string, string> } = {}): TestContext {
  const ctx = {} as TestContext;
  const tokens = new Map<string, string>();
  before(async function () {
    // The first file of a run builds the migrated, seeded template: minutes on a busy machine. A
    // generous bound (a hang detector, not a speed check: see "Tests on a busy machine").
    this.timeout(600_000);
    const db = await freshDatabase();
    const clock = new TestClock(opts.clock);
    const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', ...opts.env });
    const deps: AppDeps = { db, config, logger: createLogger(config.logLevel), clock, jwtSecret: TEST_JWT_SECRET };
    const app = createApp(deps);
    Object.assign(ctx, {
      db, deps, app, clock,
      api: () => request(app),
      async token(username: string) {
        const cached = tokens.get(username);
        if (cached) return cached;
        const res = await request(app).post('/api/v1/auth/login').send({ username, password: DEMO_PASSWORD });
        if (res.status !== 200) throw new Error(`login ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
        const t = `Bearer ${res.body.accessToken}`;
        tokens.set(username, t);
        return t;
      },
    });
  });
  after(async () => {
    await ctx.db?.close();
  });
  return ctx;
}
