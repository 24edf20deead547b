// The session cache (src/auth/session-cache.ts): a session checked once is not read again per
// request, yet logout, deactivation, a password change and a terminal's revocation made through one
// server process are refused by another process on the same database at once — the very next
// request, with no waiting. Two apps (two pools, two caches, two LISTEN connections) on one database
// stand for two server processes.
import { expect } from 'chai';
import knexFactory from 'knex';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../src/http/app.js';
import type { AppDeps } from '../../src/app-deps.js';
import type { Database } from '../../src/db/connection.js';
import { sessionCacheOf } from '../../src/auth/session-cache.js';
import { useTestApp, DEMO_PASSWORD, BACKEND } from '../support/harness.js';

describe(`session cache across server processes (${BACKEND})`, () => {
  const t = useTestApp();
  let db2: Database;
  let deps2: AppDeps;
  let app2: express.Express;
  const COUNTY = '511425';

  before(async () => {
    // A second "process": its own pool on the same database, its own app, cache and listener.
    const settings = (t.db.knex.client as unknown as { connectionSettings: Record<string, unknown> }).connectionSettings;
    const knex2 = knexFactory({ client: 'pg', connection: { ...settings }, pool: { min: 0, max: 4 } });
    db2 = { knex: knex2, kind: t.db.kind, description: 'second process', close: () => knex2.destroy() };
    deps2 = { ...t.deps, db: db2 };
    app2 = createApp(deps2);
  });
  after(async () => {
    await db2?.close();
  });

  const a = () => request(t.app);
  const b = () => request(app2);
  async function login(username: string, password = DEMO_PASSWORD): Promise<string> {
    const res = await a().post('/api/v1/auth/login').send({ username, password });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return `Bearer ${res.body.accessToken}`;
  }

  /** Statements that read the sessions table through this pool while `fn` runs. */
  async function sessionReads(db: Database, fn: () => Promise<void>): Promise<number> {
    let n = 0;
    const listen = (q: { sql: string }) => {
      if (/"sessions"/.test(q.sql) && /^select/i.test(q.sql)) n++;
    };
    db.knex.on('query', listen);
    try {
      await fn();
    } finally {
      db.knex.off('query', listen);
    }
    return n;
  }

  it('reads a session once, then answers from the cache', async () => {
    const auth = await login('clerk.qingcheng');
    const reads = await sessionReads(db2, async () => {
      for (let i = 0; i < 5; i++) expect((await b().get('/api/v1/auth/me').set('Authorization', auth)).status).to.equal(200);
    });
    expect(reads).to.equal(1);
    const stats = sessionCacheOf(deps2).stats;
    expect(stats.hits).to.be.at.least(4);
  });

  it('refuses a token on process B right after logout on process A, every time', async () => {
    for (let i = 0; i < 5; i++) {
      const auth = await login('clerk.qingcheng');
      // B has the session cached (a second request reads no row).
      expect((await b().get('/api/v1/auth/me').set('Authorization', auth)).status).to.equal(200);
      expect(await sessionReads(db2, async () => {
        expect((await b().get('/api/v1/auth/me').set('Authorization', auth)).status).to.equal(200);
      })).to.equal(0);
      expect((await a().post('/api/v1/auth/logout').set('Authorization', auth).send({})).status).to.equal(204);
      const after = await b().get('/api/v1/auth/me').set('Authorization', auth);
      expect(after.status).to.equal(401);
      expect(after.body.error.code).to.equal('SESSION_REVOKED');
    }
  });

  it('refuses on B at once a user deactivated on A, and every session of a user whose password A changed', async () => {
    const official = await login('qingshen.official');
    const created = await a().post(`/api/v1/counties/${COUNTY}/users`).set('Authorization', official)
      .send({ username: 'cache.clerk', displayName: '缓存测试', password: 'long-enough-pw', role: 'clerk', shopId: (await t.db.knex('shops').where({ county_id: COUNTY }).first('id')).id });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const patch = async (body: Record<string, unknown>) => {
      const u = await t.db.knex('users').where({ username: 'cache.clerk' }).first('id', 'version');
      const res = await a().patch(`/api/v1/counties/${COUNTY}/users/${u.id}`).set('Authorization', official).send({ version: u.version, ...body });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
    };
    // Password change: both sessions of the user, cached on B, are refused on B.
    const s1 = await login('cache.clerk', 'long-enough-pw');
    const s2 = await login('cache.clerk', 'long-enough-pw');
    for (const s of [s1, s2]) expect((await b().get('/api/v1/auth/me').set('Authorization', s)).status).to.equal(200);
    await patch({ password: 'another-long-pw' });
    for (const s of [s1, s2]) expect((await b().get('/api/v1/auth/me').set('Authorization', s)).body.error.code).to.equal('SESSION_REVOKED');
    // Deactivation.
    const s3 = await login('cache.clerk', 'another-long-pw');
    expect((await b().get('/api/v1/auth/me').set('Authorization', s3)).status).to.equal(200);
    await patch({ active: false });
    const res = await b().get('/api/v1/auth/me').set('Authorization', s3);
    expect(res.status).to.equal(401);
    expect(['SESSION_REVOKED', 'ACCOUNT_DISABLED']).to.include(res.body.error.code);
  });

  it('refuses on B at once a terminal revoked on A', async () => {
    const official = await login('qingshen.official');
    const shop = await t.db.knex('shops').where({ county_id: COUNTY }).first('id');
    const issued = await a().post(`/api/v1/counties/${COUNTY}/terminals`).set('Authorization', official).send({ shopId: shop.id, name: '缓存 1' });
    const enrolled = await a().post('/api/v1/terminals/enrol').send({ enrolmentCode: issued.body.enrolmentCode });
    expect(enrolled.status).to.equal(200);
    const auth = `Bearer ${enrolled.body.credential}`;
    for (let i = 0; i < 2; i++) expect((await b().get('/api/v1/auth/me').set('Authorization', auth)).status).to.equal(200);
    expect((await a().post(`/api/v1/counties/${COUNTY}/terminals/${enrolled.body.terminalId}/revoke`).set('Authorization', official).send({ reason: '设备丢失' })).status).to.equal(200);
    const res = await b().get('/api/v1/auth/me').set('Authorization', auth);
    expect(res.status).to.equal(401);
    expect(res.body.error.code).to.equal('TERMINAL_REVOKED');
  });

  it('caches nothing while its LISTEN connection is lost, so logout stays immediate', async () => {
    const auth = await login('clerk.qingcheng');
    expect((await b().get('/api/v1/auth/me').set('Authorization', auth)).status).to.equal(200);
    // Cut B's listener (as a server restart or a network blip would).
    const killed = await t.db.knex.raw(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN agrireturn_auth' OR (datname = current_database() AND query = 'SELECT 1' AND pid <> pg_backend_pid())`);
    expect(killed.rows.length).to.be.at.least(1);
    expect((await a().post('/api/v1/auth/logout').set('Authorization', auth).send({})).status).to.equal(204);
    const res = await b().get('/api/v1/auth/me').set('Authorization', auth);
    expect(res.status).to.equal(401);
    expect(res.body.error.code).to.equal('SESSION_REVOKED');
  });
});
