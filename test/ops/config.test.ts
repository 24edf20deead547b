import { expect } from 'chai';
import { loadConfig, ConfigError } from '../../src/config.js';

describe('configuration from the environment', () => {
  it('defaults to the embedded database in ./data with migrations on and the demo seeded', () => {
    const c = loadConfig({});
    expect(c.databaseUrl).to.equal(null);
    expect(c.dataDir).to.match(/\/data$/);
    expect(c.migrateOnStart).to.equal(true);
    expect(c.seedDemoOnStart).to.equal(true);
    expect(c.port).to.equal(3000);
  });

  it('uses PostgreSQL when DATABASE_URL is set, and does not seed demo data there by default', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/agrireturn' });
    expect(c.databaseUrl).to.equal('postgres://u:p@db:5432/agrireturn');
    expect(c.seedDemoOnStart).to.equal(false);
  });

  it('names every bad value in one message', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', MIGRATE_ON_START: 'maybe', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).to.contain('PORT').and.contain('MIGRATE_ON_START').and.contain('DATABASE_URL').and.contain('LOG_LEVEL');
  });

  it('takes PUBLIC_URL (the address in links and on receipts\' QR codes) without its trailing slash, and refuses what is not an http(s) address', () => {
    expect(loadConfig({}).publicUrl).to.equal(null);
    expect(loadConfig({ PUBLIC_URL: 'https://agrireturn.qingshen.gov.cn/' }).publicUrl).to.equal('https://agrireturn.qingshen.gov.cn');
    expect(loadConfig({ PUBLIC_URL: 'https://gov.example.cn/agrireturn' }).publicUrl).to.equal('https://gov.example.cn/agrireturn');
    for (const bad of ['agrireturn.qingshen.gov.cn', 'ftp://x.cn', 'https://x.cn/?a=1', 'https://user:pw@x.cn']) {
      let err: unknown;
      try {
        loadConfig({ PUBLIC_URL: bad });
      } catch (e) {
        err = e;
      }
      expect(err, bad).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).problems.join('\n'), bad).to.contain('PUBLIC_URL must be an http:// or https:// address');
    }
  });

  it('reads the group commit window and the session cache, refusing values out of range', () => {
    const d = loadConfig({});
    expect(d.groupCommit).to.deep.equal({ maxWaitMs: 2, maxItems: 64, maxInFlight: 4, runInFlight: 1 });
    expect(d.sessionCacheMs).to.equal(10_000);
    const c = loadConfig({ GROUP_COMMIT_WAIT_MS: '0', GROUP_COMMIT_MAX_REQUESTS: '1', GROUP_COMMIT_IN_FLIGHT: '8', GROUP_COMMIT_RUN_IN_FLIGHT: '3', SESSION_CACHE_MS: '0' });
    expect(c.groupCommit).to.deep.equal({ maxWaitMs: 0, maxItems: 1, maxInFlight: 8, runInFlight: 3 });
    expect(c.sessionCacheMs).to.equal(0);
    let err: unknown;
    try {
      loadConfig({ GROUP_COMMIT_WAIT_MS: '5000', GROUP_COMMIT_MAX_REQUESTS: '0', SESSION_CACHE_MS: '-1' });
    } catch (e) {
      err = e;
    }
    expect((err as ConfigError).problems.join('\n')).to.contain('GROUP_COMMIT_WAIT_MS').and.contain('GROUP_COMMIT_MAX_REQUESTS').and.contain('SESSION_CACHE_MS');
  });

  it('requires a strong JWT secret in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).to.throw(ConfigError, /JWT_SECRET is required/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short' })).to.throw(ConfigError, /at least 32/);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) }).jwtSecret).to.have.length(40);
  });

  it('never prints the password of a DATABASE_URL in its errors', () => {
    try {
      loadConfig({ DATABASE_URL: 'mysql://user:hunter2@db/x' });
    } catch (e) {
      expect(String((e as Error).message)).to.not.contain('hunter2');
    }
  });
});
