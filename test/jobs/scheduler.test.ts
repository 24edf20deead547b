// The in-server scheduler runs the deposit-expiry job for every active county, idempotently.
import { expect } from 'chai';
import { useTestApp } from '../support/harness.js';
import { startScheduler } from '../../src/jobs/scheduler.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { countyJobs, serverJobs } from '../../src/jobs/jobs.js';
import { readManifest } from '../../src/backup/backup-archive.js';
import { loadConfig } from '../../src/config.js';
import { AuthThrottle, accountKey, addressKey } from '../../src/auth/throttle.js';
import { COUNTY, balances, expectLedgerClean, saleBody } from '../features/ledger/ledger-fixtures.js';

describe('scheduled jobs', () => {
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });

  it('is off in tests by default and on elsewhere', () => {
    expect(countyJobs(loadConfig({ NODE_ENV: 'test' })).map((j) => j.intervalMs)).to.deep.equal([0, 0, 0, 0]);
    expect(countyJobs(loadConfig({})).map((j) => [j.name, j.intervalMs])).to.deep.equal([
      ['deposit-expiry', 3_600_000], ['points-expiry', 3_600_000], ['recovery-aggregates', 300_000], ['monthly-reconciliation', 3_600_000],
    ]);
  });

  it('expires deposits past the validity period once, for every county, and keeps the ledger clean', async () => {
    const clerk = await t.token('clerk.qingcheng');
    const sale = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(saleBody({ eventTime: '2026-03-15T01:00:00.000Z' }));
    expect(sale.status).to.equal(201);
    const before = await balances(t);
    const scheduler = startScheduler(t.db.knex, t.clock, t.deps.logger, countyJobs(loadConfig({ EXPIRY_JOB_INTERVAL_MINUTES: '60' })), { firstRunDelayMs: 3_600_000 });
    try {
      const early = await scheduler.tick();
      const expiry = early.filter((r) => r.job === 'deposit-expiry');
      expect(expiry.filter((r) => r.ok)).to.have.length(3); // three active counties in the test data
      expect(early.filter((r) => !r.ok), JSON.stringify(early.filter((r) => !r.ok))).to.deep.equal([]);
      // The reconciliation of the previous month (2026-02) is stored once per county.
      const runs = await t.db.knex('reconciliation_runs').where({ trigger: 'scheduled' }).select('county_id', 'period_key');
      expect(runs.map((r: { county_id: string; period_key: string }) => `${r.county_id}:${r.period_key}`).sort()).to.deep.equal(['330784:2026-02', '510823:2026-02', '511425:2026-02']);
      expect(await balances(t)).to.deep.equal(before);

      t.clock.set('2027-03-20T02:00:00.000Z'); // 370 days later: past the 365-day validity
      await scheduler.tick();
      const afterFirst = await balances(t);
      expect(afterFirst).to.not.deep.equal(before);
      const unredeemed = Object.entries(afterFirst).find(([code]) => code === 'unredeemed');
      expect(Math.abs(unredeemed?.[1] ?? 0)).to.equal(100);
      await scheduler.tick();
      expect(await balances(t)).to.deep.equal(afterFirst);
      await expectLedgerClean(t, COUNTY);
    } finally {
      await scheduler.stop();
    }
  });
});

describe('scheduled backups (BACKUP_INTERVAL_HOURS, BACKUP_DIR, BACKUP_KEEP)', () => {
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });

  it('are off in tests, every 24 h elsewhere, keeping 14', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).backup.intervalHours).to.equal(0);
    expect(loadConfig({}).backup).to.include({ intervalHours: 24, keep: 14 });
  });

  it('write a backup per run into BACKUP_DIR and keep only the newest BACKUP_KEEP', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agrireturn-sched-backups-'));
    try {
      const all = serverJobs(loadConfig({ BACKUP_INTERVAL_HOURS: '6', BACKUP_DIR: dir, BACKUP_KEEP: '2' }), t.db);
      expect(all.map((j) => [j.name, j.intervalMs])).to.deep.equal([['backup', 6 * 3_600_000], ['auth-throttle-prune', 3_600_000]]);
      const jobs = all.filter((j) => j.name === 'backup');
      const scheduler = startScheduler(t.db.knex, t.clock, t.deps.logger, jobs, { firstRunDelayMs: 3_600_000 });
      try {
        for (let i = 0; i < 3; i++) {
          t.clock.advance(6 * 3_600_000); // names come from the scheduler's clock
          const [r] = await scheduler.tick();
          expect(r!.ok, r!.error).to.equal(true);
        }
      } finally {
        await scheduler.stop();
      }
      expect(fs.readdirSync(dir).sort()).to.deep.equal(['agrireturn-20260315T140000Z.backup', 'agrireturn-20260315T200000Z.backup']);
      const { manifest } = await readManifest(path.join(dir, 'agrireturn-20260315T200000Z.backup'));
      expect(manifest.tables.find((x) => x.name === 'counties')!.rows).to.equal(3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pruning of failed-login counters (auth-throttle-prune)', () => {
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });

  it('deletes rows whose window has passed unless still delayed or locked, and keeps those until they are not', async () => {
    const prune = serverJobs(loadConfig({}), t.db).filter((j) => j.name === 'auth-throttle-prune');
    expect(prune.map((j) => [j.intervalMs, j.scope])).to.deep.equal([[3_600_000, 'server']]);
    expect(serverJobs(loadConfig({ NODE_ENV: 'test' }), t.db).find((j) => j.name === 'auth-throttle-prune')?.intervalMs).to.equal(0);
    // Long locks and delays so that some outlast the 15-minute window.
    const throttle = new AuthThrottle(t.db.knex, { ...t.deps.config.authThrottle, lockSeconds: 3_600, maxDelaySeconds: 86_400 }, t.clock);
    const once = accountKey('typo.user');
    const oldDelay = addressKey('login_address', '192.0.2.6');
    const longDelay = addressKey('device_address', '192.0.2.25');
    const lockedLong = accountKey('locked.user');
    const recent = accountKey('recent.user');
    await throttle.fail([once]);
    for (let i = 0; i < 21; i++) await throttle.fail([oldDelay]); // 1 s
    for (let i = 0; i < 25; i++) await throttle.fail([longDelay]); // 2^14 s
    for (let i = 0; i < 10; i++) await throttle.fail([lockedLong]); // locked one hour
    t.clock.advance(10 * 60_000);
    await throttle.fail([recent]);
    const keys = async () => (await t.db.knex('auth_throttle').select('key')).map((r: { key: string }) => r.key).sort();
    expect(await keys()).to.deep.equal([once, oldDelay, longDelay, lockedLong, recent].map((k) => k.key).sort());

    const scheduler = startScheduler(t.db.knex, t.clock, t.deps.logger, prune, { firstRunDelayMs: 3_600_000 });
    try {
      const [early] = await scheduler.tick(); // all windows current: nothing goes
      expect(early).to.deep.include({ ok: true, result: { deleted: 0 } });

      t.clock.advance(5 * 60_000); // 15 min after the first failures: their window has passed
      const [r] = await scheduler.tick();
      expect(r).to.deep.include({ ok: true, result: { deleted: 2 } });
      expect(await keys()).to.deep.equal([longDelay, lockedLong, recent].map((k) => k.key).sort());
      // Still in force: the lock and the long delay.
      expect(await throttle.lockedUntil(lockedLong)).to.not.equal(null);
      try {
        await throttle.check([longDelay]);
        expect.fail('the long delay was lost');
      } catch (err) {
        expect((err as { code?: string }).code).to.equal('RATE_LIMITED');
      }

      t.clock.advance(60 * 60_000); // the lock and the recent window have passed, the long delay not
      expect((await scheduler.tick())[0]).to.deep.include({ ok: true, result: { deleted: 2 } });
      expect(await keys()).to.deep.equal([longDelay.key]);
      t.clock.advance(5 * 3_600_000);
      expect((await scheduler.tick())[0]).to.deep.include({ ok: true, result: { deleted: 1 } });
      expect(await keys()).to.deep.equal([]);
    } finally {
      await scheduler.stop();
    }
  });
});
