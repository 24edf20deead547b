// GET /api/v1/counties/{countyId}/login-failures: a county's officials see which of their users fail to
// log in, are delayed or locked, and which client addresses are delayed; never another county's users,
// never a password or a username hash; unlocking clears the entry.
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../../src/http/app.js';
import { accountKey } from '../../../src/auth/throttle.js';
import { useTestApp, DEMO_PASSWORD, BACKEND } from '../../support/harness.js';
import { OTHER_COUNTY_ID } from '../../support/other-county.js';

const OWN = '511425';

describe(`login failures for officials (${BACKEND})`, function () {
  this.timeout(120_000);
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });
  let app: express.Express;
  before(() => {
    app = createApp({ ...t.deps, config: { ...t.deps.config, trustProxy: 'loopback' } });
  });
  const login = (username: string, password: string, address: string) =>
    request(app).post('/api/v1/auth/login').set('X-Forwarded-For', address).send({ username, password });
  const bearer = async (username: string, address: string) => {
    const res = await login(username, DEMO_PASSWORD, address);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return `Bearer ${res.body.accessToken}`;
  };
  const list = (county: string, auth: string) => t.api().get(`/api/v1/counties/${county}/login-failures`).set('Authorization', auth);

  it('lists the locked user with counts and lock, hides other counties, refuses clerks and other counties, and unlock clears it', async () => {
    const official = await bearer('qingshen.official', '198.51.100.1');
    const admin = await bearer('admin', '198.51.100.2');
    const clerk = await bearer('clerk.qingcheng', '198.51.100.3');
    const otherOfficial = await bearer('jiange.official', '198.51.100.4');

    const empty = await list(OWN, official);
    expect(empty.status, JSON.stringify(empty.body)).to.equal(200);
    expect(empty.body).to.deep.include({ users: [], addresses: [], windowMinutes: 15 });

    // Another county's user fails twice; a county user fails until locked, waiting out each delay.
    for (let i = 0; i < 2; i++) expect((await login('jiange.clerk', `wrong-${i}`, '203.0.113.9')).status).to.equal(401);
    const attacker = '203.0.113.7';
    let locked: request.Response | null = null;
    const statuses: number[] = [];
    for (let i = 0; i < 40 && !locked; i++) {
      const res = await login('clerk.qingcheng', `wrong-password-${i}`, attacker);
      statuses.push(res.status);
      if (res.status === 423) locked = res;
      else if (res.status === 429) t.clock.advance(Number(res.headers['retry-after']) * 1000);
    }
    expect(locked, statuses.join(',')).to.not.equal(null);
    const lockedUntil = locked!.body.error.details[0].unlocksAt as string;

    const res = await list(OWN, official);
    expect(res.status).to.equal(200);
    const { id } = await t.db.knex('users').where({ username: 'clerk.qingcheng' }).first('id');
    expect(res.body.users).to.have.length(1);
    const [entry] = res.body.users;
    expect(entry.user).to.deep.include({ id, username: 'clerk.qingcheng', role: 'clerk', active: true });
    expect(entry).to.include({ failures: 10, locked: true, lockedUntil });
    expect(Date.parse(entry.lastFailureAt)).to.be.at.most(t.clock.now().getTime());
    expect(Date.parse(entry.blockedUntil)).to.be.greaterThan(0);
    // Ten failures from one address are within its 20 free ones: no address delayed yet.
    expect(res.body.addresses).to.deep.equal([]);

    // Nothing of another county and nothing secret in the answer.
    const text = JSON.stringify(res.body);
    expect(text).to.not.include('jiange');
    expect(text).to.not.include(accountKey('jiange.clerk').key);
    expect(text).to.not.include(accountKey('clerk.qingcheng').key);
    expect(text).to.not.include('wrong-password');
    expect(text).to.not.match(/password/i);

    // The other county's official sees their own user only; for this county they are out of scope.
    const theirs = await list(OTHER_COUNTY_ID, otherOfficial);
    expect(theirs.status).to.equal(200);
    expect(theirs.body.users.map((u: { user: { username: string }; failures: number; locked: boolean }) => [u.user.username, u.failures, u.locked])).to.deep.equal([['jiange.clerk', 2, false]]);
    expect(JSON.stringify(theirs.body)).to.not.include('clerk.qingcheng');
    const outOfScope = await list(OWN, otherOfficial);
    expect(outOfScope.status).to.equal(403);
    expect(outOfScope.body.error.code).to.equal('OUT_OF_SCOPE');
    const byClerk = await list(OWN, clerk);
    expect(byClerk.status).to.equal(403);
    expect(byClerk.body.error.code).to.not.equal('OUT_OF_SCOPE');
    expect((await list(OWN, admin)).body.users).to.have.length(1);

    const unlocked = await t.api().post(`/api/v1/counties/${OWN}/users/${id}/unlock`).set('Authorization', official);
    expect(unlocked.status).to.equal(200);
    expect(unlocked.body.wasLocked).to.equal(true);
    expect((await list(OWN, official)).body.users).to.deep.equal([]);
  });

  it('lists a client address while it is delayed, with no username', async () => {
    const official = await bearer('qingshen.official', '198.51.100.11');
    const address = '203.0.113.50';
    // 21 failures with as many unknown usernames: the address is over its 20 free failures.
    for (let i = 0; i < 21; i++) expect((await login(`nobody-${i}`, 'wrong-password', address)).status).to.equal(401);
    const res = await list(OWN, official);
    expect(res.status).to.equal(200);
    expect(res.body.users).to.deep.equal([]);
    expect(res.body.addresses).to.have.length(1);
    expect(res.body.addresses[0]).to.include({ kind: 'login_address', address, failures: 21 });
    expect(JSON.stringify(res.body)).to.not.include('nobody');
    t.clock.advance(1_000); // the 21st failure earned one second
    expect((await list(OWN, official)).body.addresses).to.deep.equal([]);
  });
});
