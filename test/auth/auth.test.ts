import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { useTestApp, TEST_JWT_SECRET, DEMO_PASSWORD } from '../support/harness.js';

describe('auth: login, refresh, logout, terminals', () => {
  const t = useTestApp();
  const login = (username: string, password = DEMO_PASSWORD) => t.api().post('/api/v1/auth/login').send({ username, password });

  it('logs in with the right password and returns a short-lived JWT and a refresh token', async () => {
    const res = await login('clerk.qingcheng');
    expect(res.status).to.equal(200);
    expect(res.body.tokenType).to.equal('Bearer');
    expect(res.body.expiresIn).to.equal(900);
    expect(res.body.user).to.include({ username: 'clerk.qingcheng', role: 'clerk', countyId: '511425' });
    expect(res.body.user).to.not.have.property('passwordHash');
    const claims = jwt.verify(res.body.accessToken, TEST_JWT_SECRET, { clockTimestamp: Math.floor(t.clock.now().getTime() / 1000) }) as jwt.JwtPayload;
    expect((claims.exp as number) - (claims.iat as number)).to.equal(900);
  });

  it('refuses a wrong password and an unknown user with the same code', async () => {
    const wrong = await login('clerk.qingcheng', 'not-the-password');
    const unknown = await login('nobody.here', 'whatever-password');
    expect(wrong.status).to.equal(401);
    expect(unknown.status).to.equal(401);
    expect(wrong.body.error.code).to.equal('INVALID_CREDENTIALS');
    expect(unknown.body.error.code).to.equal('INVALID_CREDENTIALS');
  });

  it('expires access tokens after their lifetime', async () => {
    const res = await login('qingshen.official');
    t.clock.advance(901_000);
    const me = await t.api().get('/api/v1/auth/me').set('Authorization', `Bearer ${res.body.accessToken}`);
    expect(me.status).to.equal(401);
    expect(me.body.error.code).to.equal('TOKEN_EXPIRED');
    // …and the refresh token still gets a new pair.
    const refreshed = await t.api().post('/api/v1/auth/refresh').send({ refreshToken: res.body.refreshToken });
    expect(refreshed.status).to.equal(200);
    const me2 = await t.api().get('/api/v1/auth/me').set('Authorization', `Bearer ${refreshed.body.accessToken}`);
    expect(me2.status).to.equal(200);
    expect(me2.body.user.username).to.equal('qingshen.official');
  });

  it('rotates refresh tokens; reusing an old one revokes every session of the user', async () => {
    const first = await login('hauler.demo');
    const second = await t.api().post('/api/v1/auth/refresh').send({ refreshToken: first.body.refreshToken });
    expect(second.status).to.equal(200);
    const reuse = await t.api().post('/api/v1/auth/refresh').send({ refreshToken: first.body.refreshToken });
    expect(reuse.status).to.equal(401);
    expect(reuse.body.error.code).to.equal('SESSION_REVOKED');
    const me = await t.api().get('/api/v1/auth/me').set('Authorization', `Bearer ${second.body.accessToken}`);
    expect(me.status).to.equal(401);
    expect(me.body.error.code).to.equal('SESSION_REVOKED');
  });

  it('logout ends the session at once', async () => {
    const res = await login('facility.demo');
    const auth = `Bearer ${res.body.accessToken}`;
    expect((await t.api().post('/api/v1/auth/logout').set('Authorization', auth)).status).to.equal(204);
    const me = await t.api().get('/api/v1/auth/me').set('Authorization', auth);
    expect(me.body.error.code).to.equal('SESSION_REVOKED');
    const refresh = await t.api().post('/api/v1/auth/refresh').send({ refreshToken: res.body.refreshToken });
    expect(refresh.status).to.equal(401);
  });

  it('stores passwords as scrypt hashes, never in clear', async () => {
    const row = await t.db.knex('users').where({ username: 'admin' }).first('password_hash');
    expect(row.password_hash).to.match(/^scrypt\$16384\$8\$1\$/);
    expect(row.password_hash).to.not.contain(DEMO_PASSWORD);
  });

  it('a deactivated user cannot log in and loses existing sessions', async () => {
    const official = await t.token('qingshen.official');
    const created = await t.api().post('/api/v1/counties/511425/users').set('Authorization', official)
      .send({ username: 'temp.clerk', displayName: '临时店员', password: 'long-enough-pw', role: 'clerk', shopId: (await t.db.knex('shops').where({ county_id: '511425' }).first('id')).id });
    expect(created.status).to.equal(201);
    const session = await login('temp.clerk', 'long-enough-pw');
    expect(session.status).to.equal(200);
    const off = await t.api().patch(`/api/v1/counties/511425/users/${created.body.id}`).set('Authorization', official).send({ version: 1, active: false });
    expect(off.status).to.equal(200);
    expect(off.body.active).to.equal(false);
    const me = await t.api().get('/api/v1/auth/me').set('Authorization', `Bearer ${session.body.accessToken}`);
    expect(me.status).to.equal(401);
    const again = await login('temp.clerk', 'long-enough-pw');
    expect(again.body.error.code).to.equal('ACCOUNT_DISABLED');
  });

  it('a user needs the scope that fits the role', async () => {
    const official = await t.token('qingshen.official');
    const res = await t.api().post('/api/v1/counties/511425/users').set('Authorization', official)
      .send({ username: 'bad.clerk', displayName: 'x', password: 'long-enough-pw', role: 'clerk' });
    expect(res.status).to.equal(422);
    expect(res.body.error.code).to.equal('SCOPE_MISMATCH');
    expect(res.body.error.details[0].field).to.equal('/body/shopId');
  });

  describe('terminal enrolment', () => {
    let shopId: string;
    let otherShopId: string;
    before(async () => {
      const shops = await t.db.knex('shops').where({ county_id: '511425' }).orderBy('licence_no').limit(2).select('id');
      shopId = shops[0].id;
      otherShopId = shops[1].id;
    });

    it('issues a one-time code, enrols once, and binds the credential to the shop', async () => {
      const official = await t.token('qingshen.official');
      const issued = await t.api().post('/api/v1/counties/511425/terminals').set('Authorization', official).send({ shopId, name: '收银台 1' });
      expect(issued.status).to.equal(201);
      expect(issued.body.enrolmentCode).to.match(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
      expect(issued.body.terminal.status).to.equal('awaiting_enrolment');
      // Clerks type the code in lower case without dashes.
      const typed = issued.body.enrolmentCode.toLowerCase().replace(/-/g, '');
      const enrolled = await t.api().post('/api/v1/terminals/enrol').send({ enrolmentCode: typed });
      expect(enrolled.status).to.equal(200);
      expect(enrolled.body.shopId).to.equal(shopId);
      const second = await t.api().post('/api/v1/terminals/enrol').send({ enrolmentCode: issued.body.enrolmentCode });
      expect(second.status).to.equal(401);
      expect(second.body.error.code).to.equal('ENROLMENT_CODE_INVALID');

      const auth = `Bearer ${enrolled.body.credential}`;
      const me = await t.api().get('/api/v1/auth/me').set('Authorization', auth);
      expect(me.body).to.deep.include({ kind: 'terminal', role: 'terminal' });
      expect(me.body.terminal.shopId).to.equal(shopId);
      // Stored only as a hash.
      const row = await t.db.knex('terminals').where({ id: enrolled.body.terminalId }).first();
      expect(row.credential_hash).to.have.length(64);
      expect(JSON.stringify(row)).to.not.contain(enrolled.body.credential.split('.')[1]);

      const revoked = await t.api().post(`/api/v1/counties/511425/terminals/${enrolled.body.terminalId}/revoke`).set('Authorization', official).send({ reason: '设备丢失' });
      expect(revoked.status).to.equal(200);
      expect(revoked.body.status).to.equal('revoked');
      const after = await t.api().get('/api/v1/counties/511425/products').set('Authorization', auth);
      expect(after.status).to.equal(401);
      expect(after.body.error.code).to.equal('TERMINAL_REVOKED');
    });

    it('refuses an expired enrolment code', async () => {
      const official = await t.token('qingshen.official');
      const issued = await t.api().post('/api/v1/counties/511425/terminals').set('Authorization', official).send({ shopId: otherShopId, name: '收银台 2' });
      t.clock.advance(73 * 3600_000);
      const res = await t.api().post('/api/v1/terminals/enrol').send({ enrolmentCode: issued.body.enrolmentCode });
      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal('ENROLMENT_CODE_INVALID');
    });

    it('a clerk cannot issue terminal codes', async () => {
      const clerk = await t.token('clerk.qingcheng');
      const res = await t.api().post('/api/v1/counties/511425/terminals').set('Authorization', clerk).send({ shopId, name: 'x' });
      expect(res.status).to.equal(403);
      expect(res.body.error.code).to.equal('FORBIDDEN');
    });
  });
});

describe('terminal last-seen time', () => {
  const t = useTestApp();

  it('is written at most once a minute, not on every request', async () => {
    const official = await t.token('qingshen.official');
    const shop = await t.db.knex('shops').where({ county_id: '511425' }).first('id');
    const issued = await t.api().post('/api/v1/counties/511425/terminals').set('Authorization', official).send({ shopId: shop.id, name: 'seen' });
    const enrolled = await t.api().post('/api/v1/terminals/enrol').send({ enrolmentCode: issued.body.enrolmentCode });
    const auth = `Bearer ${enrolled.body.credential}`;
    const seen = async () => (await t.db.knex('terminals').where({ id: enrolled.body.terminalId }).first('last_seen_at')).last_seen_at as Date | null;
    // The write is fire-and-forget: wait for it (a generous deadline), never for a fixed time.
    const seenAt = async (iso: string) => {
      for (const until = Date.now() + 15_000; (await seen())?.toISOString() !== iso && Date.now() < until;) await new Promise((r) => setTimeout(r, 20));
      return (await seen())?.toISOString();
    };
    // Room for a wrong write to land before checking it did not happen (a busy machine can only hide a bug here, never fail the test).
    const pause = () => new Promise((r) => setTimeout(r, 200));
    await t.api().get('/api/v1/auth/me').set('Authorization', auth);
    const first = t.clock.now().toISOString();
    expect(await seenAt(first)).to.equal(first);
    t.clock.advance(30_000);
    await t.api().get('/api/v1/auth/me').set('Authorization', auth);
    await pause();
    expect((await seen())?.toISOString()).to.equal(first);
    t.clock.advance(30_000);
    await t.api().get('/api/v1/auth/me').set('Authorization', auth);
    expect(await seenAt(t.clock.now().toISOString())).to.equal(t.clock.now().toISOString());
  });
});
