import { expect } from 'chai';
import { useTestApp } from '../support/harness.js';

describe('HTTP basics', () => {
  const t = useTestApp();

  it('answers /healthz and /readyz', async () => {
    expect((await t.api().get('/healthz')).body).to.deep.equal({ status: 'ok' });
    const ready = await t.api().get('/readyz');
    expect(ready.status).to.equal(200);
    expect(ready.body.status).to.equal('ready');
  });

  it('logs in a demo user and lists the demo county', async () => {
    const auth = await t.token('qingshen.official');
    const res = await t.api().get('/api/v1/counties').set('Authorization', auth);
    expect(res.status).to.equal(200);
    expect(res.body.items.map((c: { id: string }) => c.id)).to.deep.equal(['511425']);
  });
});

describe('readiness when the database is gone', () => {
  const t = useTestApp();

  it('answers /readyz with 503 DATABASE_UNAVAILABLE and /healthz still 200', async () => {
    const { createApp } = await import('../../src/http/app.js');
    const { openDatabase } = await import('../../src/db/connection.js');
    // A pool pointed at a port nothing listens on stands in for a database that went away.
    const gone = await openDatabase({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', dataDir: '' });
    const app = createApp({ ...t.deps, db: gone });
    const request = (await import('supertest')).default;
    const ready = await request(app).get('/readyz');
    expect(ready.status).to.equal(503);
    expect(ready.body.error.code).to.equal('DATABASE_UNAVAILABLE');
    expect((await request(app).get('/healthz')).status).to.equal(200);
    const login = await request(app).post('/api/v1/auth/login').send({ username: 'admin', password: 'x' });
    expect(login.status).to.equal(503);
    expect(login.body.error.code).to.equal('DATABASE_UNAVAILABLE');
    await gone.close();
  });
});
