// A county never loses its last active official through PATCH …/users/{id}: nobody deactivates their
// own account, and the last active county official stays, even when two officials deactivate each
// other at the same moment (on PostgreSQL the county's officials are locked in id order first).
import { expect } from 'chai';
import { useTestApp, BACKEND } from '../../support/harness.js';

describe(`user deactivation guards (${BACKEND})`, function () {
  this.timeout(60_000);
  const t = useTestApp();
  const COUNTY = '511425';
  const user = (username: string) => t.db.knex('users').where({ username }).first('id', 'version', 'active');
  const patch = async (auth: string, username: string, body: Record<string, unknown>) => {
    const u = await user(username);
    return t.api().patch(`/api/v1/counties/${COUNTY}/users/${u.id}`).set('Authorization', auth).send({ version: u.version, ...body });
  };
  const activeOfficials = async () => Number((await t.db.knex('users').where({ county_id: COUNTY, role: 'county_official', active: true }).count({ n: '*' }))[0]?.n);

  it('refuses deactivating your own account (CANNOT_DEACTIVATE_SELF) and changes nothing', async () => {
    const before = await user('qingshen.official');
    const res = await patch(await t.token('qingshen.official'), 'qingshen.official', { active: false });
    expect(res.status).to.equal(422);
    expect(res.body.error.code).to.equal('CANNOT_DEACTIVATE_SELF');
    expect(await user('qingshen.official')).to.deep.equal(before);
    // Renaming yourself is fine.
    expect((await patch(await t.token('qingshen.official'), 'qingshen.official', { displayName: '青神县农业农村局' })).status).to.equal(200);
  });

  it('refuses deactivating the last active county official of a county (LAST_ACTIVE_OFFICIAL), even for the admin', async () => {
    expect(await activeOfficials()).to.equal(1);
    const res = await patch(await t.token('admin'), 'qingshen.official', { active: false });
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal('LAST_ACTIVE_OFFICIAL');
    expect((await user('qingshen.official')).active).to.equal(true);
  });

  it('lets an official deactivate another official while one stays, and any clerk', async () => {
    const official = await t.token('qingshen.official');
    const created = await t.api().post(`/api/v1/counties/${COUNTY}/users`).set('Authorization', official)
      .send({ username: 'second.official', displayName: '副局长', password: 'long-enough-pw', role: 'county_official' });
    expect(created.status).to.equal(201);
    expect((await patch(official, 'second.official', { active: false })).status).to.equal(200);
    expect((await patch(official, 'clerk.qingcheng', { active: false })).status).to.equal(200);
    expect(await activeOfficials()).to.equal(1);
    // Reactivated for the race below.
    expect((await patch(official, 'second.official', { active: true })).status).to.equal(200);
  });

  it('two officials deactivating each other at once leave exactly one active', async () => {
    const login = async (username: string, password: string) => {
      const res = await t.api().post('/api/v1/auth/login').send({ username, password });
      expect(res.status).to.equal(200);
      return `Bearer ${res.body.accessToken}`;
    };
    for (let round = 0; round < 5; round++) {
      const a = `race.a${round}`;
      const b = `race.b${round}`;
      const official = await t.token('admin');
      for (const username of [a, b]) {
        const res = await t.api().post(`/api/v1/counties/${COUNTY}/users`).set('Authorization', official)
          .send({ username, displayName: username, password: 'long-enough-pw', role: 'county_official' });
        expect(res.status).to.equal(201);
      }
      // Only the two racers are active officials of the county.
      for (const username of ['qingshen.official', 'second.official', `race.a${round - 1}`, `race.b${round - 1}`]) {
        const u = await user(username);
        if (u?.active) expect((await patch(await login(a, 'long-enough-pw'), username, { active: false })).status).to.equal(200);
      }
      expect(await activeOfficials()).to.equal(2);
      const [ta, tb] = [await login(a, 'long-enough-pw'), await login(b, 'long-enough-pw')];
      const [ua, ub] = [await user(a), await user(b)];
      const [ra, rb] = await Promise.all([
        t.api().patch(`/api/v1/counties/${COUNTY}/users/${ub.id}`).set('Authorization', ta).send({ version: ub.version, active: false }),
        t.api().patch(`/api/v1/counties/${COUNTY}/users/${ua.id}`).set('Authorization', tb).send({ version: ua.version, active: false }),
      ]);
      const outcomes = [ra, rb].map((r) => (r.status === 200 ? 'ok' : r.body.error.code)).sort();
      // The loser is refused by the rule, or, if the winner committed before it was authenticated,
      // finds its own session already ended.
      expect(outcomes[0], JSON.stringify(outcomes)).to.be.oneOf(['LAST_ACTIVE_OFFICIAL', 'SESSION_REVOKED']);
      expect(outcomes[1]).to.equal('ok');
      expect(await activeOfficials()).to.equal(1);
      // The survivor brings the county official back for the next round.
      const survivor = ra.status === 200 ? ta : tb;
      const q = await user('qingshen.official');
      expect((await t.api().patch(`/api/v1/counties/${COUNTY}/users/${q.id}`).set('Authorization', survivor).send({ version: q.version, active: true })).status).to.equal(200);
    }
  });
});
