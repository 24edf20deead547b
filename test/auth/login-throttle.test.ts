// Logins cannot be guessed or used to stall the server: failed logins are counted per username and
// per client address in the database, refused with growing delays before any password is hashed,
// lock the account after repeated failures, and are logged without the password.
import { expect } from 'chai';
import { Writable } from 'node:stream';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { passwordHasher } from '../../src/auth/password-hasher.js';
import { accountKey } from '../../src/auth/throttle.js';
import { useTestApp, DEMO_PASSWORD, BACKEND } from '../support/harness.js';

describe(`login throttling (${BACKEND})`, function () {
  this.timeout(120_000);
  const t = useTestApp();
  // The harness app takes the socket address (127.0.0.1 for every test); this one trusts a proxy on
  // loopback, so each test can come from its own client address through X-Forwarded-For.
  let app: express.Express;
  let addressNo = 0;
  const nextAddress = () => `203.0.113.${++addressNo}`;
  const NEW_PASSWORD = 'long-enough-password';
  before(async () => {
    app = createApp({ ...t.deps, config: { ...t.deps.config, trustProxy: 'loopback' } });
    const official = await t.token('qingshen.official');
    const shop = await t.db.knex('shops').where({ county_id: '511425' }).first('id');
    for (const username of ['zhang.clerk', 'li.clerk']) {
      const res = await t.api().post('/api/v1/counties/511425/users').set('Authorization', official)
        .send({ username, displayName: username, password: NEW_PASSWORD, role: 'clerk', shopId: shop.id });
      expect(res.status).to.equal(201);
    }
  });
  const login = (username: string, password: string, address: string, on = app) =>
    request(on).post('/api/v1/auth/login').set('X-Forwarded-For', address).send({ username, password });
  /** A fresh token (the test clock moves past access-token lifetimes), from an address of its own. */
  const bearer = async (username: string, password: string) => {
    const res = await login(username, password, nextAddress());
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return `Bearer ${res.body.accessToken}`;
  };
  const hashes = () => passwordHasher(t.deps.config).computed;
  const cfg = () => t.deps.config.authThrottle;

  it('150 wrong passwords for one account: 429 RATE_LIMITED with Retry-After after five, and only six hashes computed', async () => {
    const address = nextAddress();
    const before = hashes();
    const statuses: number[] = [];
    let limited: request.Response | null = null;
    for (let i = 0; i < 150; i++) {
      const res = await login('clerk.qingcheng', `wrong-password-${i}`, address);
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
    }
    // Five free failures, the sixth earns a one-second wait; the clock stands still, so every later
    // attempt is refused before its password is hashed.
    expect(statuses.slice(0, 6)).to.deep.equal([401, 401, 401, 401, 401, 401]);
    expect(statuses.slice(6).every((s) => s === 429)).to.equal(true);
    expect(hashes() - before).to.equal(6);
    expect(limited?.headers['retry-after']).to.equal('1');
    expect(limited?.body.error.code).to.equal('RATE_LIMITED');
    expect(limited?.body.error.details[0]).to.include({ code: 'login_account', retryAfterSeconds: 1 });
    t.clock.advance(2_000);
  });

  it('150 wrong passwords at once: refused with 429/503 and the number of hashes stays bounded', async () => {
    const address = nextAddress();
    const before = hashes();
    const all = await Promise.all(Array.from({ length: 150 }, (_, i) => login('hauler.demo', `guess-${i}`, address)));
    const statuses = all.map((r) => r.status);
    expect(statuses.every((s) => s === 401 || s === 429 || s === 503), statuses.join(',')).to.equal(true);
    expect(statuses.filter((s) => s === 429).length).to.be.greaterThan(0);
    for (const r of all.filter((x) => x.status === 429 || x.status === 503)) expect(Number(r.headers['retry-after'])).to.be.greaterThan(0);
    // Checked again inside the hash slot: at most the free failures, the one that earned the wait,
    // and those already holding a slot.
    expect(hashes() - before).to.be.at.most(cfg().accountFreeFailures + 1 + cfg().hashConcurrency);
    t.clock.advance(10_000);
  });

  it('many usernames from one address: the address is slowed down too, unknown names alike', async () => {
    const address = nextAddress();
    const before = hashes();
    const statuses: number[] = [];
    for (let i = 0; i < 150; i++) statuses.push((await login(`nobody-${i}`, 'some-password', address)).status);
    const free = cfg().addressFreeFailures;
    expect(statuses.slice(0, free + 1).every((s) => s === 401)).to.equal(true);
    expect(statuses.slice(free + 1).every((s) => s === 429)).to.equal(true);
    expect(hashes() - before).to.equal(free + 1);
    // Another address is not slowed down by this one.
    expect((await login('nobody-else', 'some-password', nextAddress())).status).to.equal(401);
  });

  it('the right password during a block still gets 429 until the delay passes, then logs in and starts the count again', async () => {
    const address = nextAddress();
    for (let i = 0; i < 6; i++) expect((await login('facility.demo', `nope-${i}`, address)).status).to.equal(401);
    const blocked = await login('facility.demo', DEMO_PASSWORD, address);
    expect(blocked.status).to.equal(429);
    expect(blocked.headers['retry-after']).to.equal('1');
    t.clock.advance(999);
    expect((await login('facility.demo', DEMO_PASSWORD, address)).status).to.equal(429);
    t.clock.advance(1);
    const ok = await login('facility.demo', DEMO_PASSWORD, address);
    expect(ok.status).to.equal(200);
    const row = await t.db.knex('auth_throttle').where(accountKey('facility.demo')).first();
    expect(row).to.include({ failures: 0, blocked_until: null, locked_until: null });
    // A fresh budget: five wrong passwords are answered 401 again, not 429.
    for (let i = 0; i < 5; i++) expect((await login('facility.demo', `again-${i}`, address)).status).to.equal(401);
  });

  it('the delay doubles with each further failure', async () => {
    const address = nextAddress();
    for (let i = 0; i < 5; i++) await login('sichuan.official', `x-${i}`, address);
    const waits: string[] = [];
    for (let i = 0; i < 3; i++) {
      expect((await login('sichuan.official', `y-${i}`, address)).status).to.equal(401);
      const r = await login('sichuan.official', `z-${i}`, address);
      waits.push(r.headers['retry-after'] as string);
      t.clock.advance(Number(r.headers['retry-after']) * 1000);
    }
    expect(waits).to.deep.equal(['1', '2', '4']);
    t.clock.advance(16 * 60_000);
  });

  describe('account lock', () => {
    /** Wrong passwords, waiting out each delay as a patient attacker would, until the lock. */
    async function failUntilLocked(username: string, address: string): Promise<request.Response> {
      for (let i = 0; i < 50; i++) {
        const res = await login(username, `wrong-${i}`, address);
        if (res.status === 423) return res;
        if (res.status === 429) t.clock.advance(Number(res.headers['retry-after']) * 1000);
        else expect(res.status).to.equal(401);
      }
      throw new Error(`${username} was never locked`);
    }

    it('locks after ten failures, tells when it unlocks, refuses even the right password, and an official unlocks it', async () => {
      const address = nextAddress();
      const locked = await failUntilLocked('clerk.qingcheng', address);
      expect(locked.status).to.equal(423);
      expect(locked.body.error.code).to.equal('ACCOUNT_LOCKED');
      expect(locked.body.error.message).to.match(/unlocks by itself at .*official or administrator can unlock/);
      const unlocksAt = Date.parse(locked.body.error.details[0].unlocksAt);
      expect(Number(locked.headers['retry-after'])).to.be.greaterThan(0);
      // The lock counts from the last failure; the loop moved the clock on past it.
      const right = await login('clerk.qingcheng', DEMO_PASSWORD, nextAddress());
      expect(right.status).to.equal(423);
      expect(Date.parse(right.body.error.details[0].unlocksAt)).to.equal(unlocksAt);

      const { id } = await t.db.knex('users').where({ username: 'clerk.qingcheng' }).first('id');
      const official = await bearer('qingshen.official', DEMO_PASSWORD);
      // Only those who may change users unlock them.
      const byClerk = await t.api().post(`/api/v1/counties/511425/users/${id}/unlock`).set('Authorization', await bearer('li.clerk', NEW_PASSWORD));
      expect(byClerk.status).to.equal(403);
      const unlocked = await t.api().post(`/api/v1/counties/511425/users/${id}/unlock`).set('Authorization', official);
      expect(unlocked.status).to.equal(200);
      expect(unlocked.body).to.include({ wasLocked: true });
      expect(unlocked.body.user.username).to.equal('clerk.qingcheng');
      expect((await login('clerk.qingcheng', DEMO_PASSWORD, address)).status).to.equal(200);
      const again = await t.api().post(`/api/v1/counties/511425/users/${id}/unlock`).set('Authorization', official);
      expect(again.body.wasLocked).to.equal(false);
    });

    it('unlocks by itself after the lock time', async () => {
      const address = nextAddress();
      const locked = await failUntilLocked('hauler.demo', address);
      expect(locked.status).to.equal(423);
      const wait = Date.parse(locked.body.error.details[0].unlocksAt) - t.clock.now().getTime();
      t.clock.advance(wait - 1000);
      expect((await login('hauler.demo', DEMO_PASSWORD, address)).status).to.equal(423);
      t.clock.advance(1000);
      expect((await login('hauler.demo', DEMO_PASSWORD, address)).status).to.equal(200);
    });

    it('an unknown username is counted and locked exactly like a real one (no user enumeration)', async () => {
      const known = await failUntilLocked('admin', nextAddress());
      const unknown = await failUntilLocked('no.such.user', nextAddress());
      expect(unknown.status).to.equal(known.status);
      expect(unknown.body.error.code).to.equal(known.body.error.code);
      expect(unknown.body.error.details[0].code).to.equal(known.body.error.details[0].code);
      t.clock.advance(cfg().lockSeconds * 1000);
    });
  });

  it('is shared by two app instances on one database', async () => {
    // A second "process": its own app and its own hash semaphore, the same database.
    const otherConfig = { ...t.deps.config, trustProxy: 'loopback', authThrottle: { ...t.deps.config.authThrottle } };
    const other = createApp({ ...t.deps, config: otherConfig });
    expect(passwordHasher(otherConfig)).to.not.equal(passwordHasher(t.deps.config));
    const address = nextAddress();
    for (let i = 0; i < 3; i++) expect((await login('zhang.clerk', `a-${i}`, address, app)).status).to.equal(401);
    for (let i = 0; i < 3; i++) expect((await login('zhang.clerk', `b-${i}`, address, other)).status).to.equal(401);
    expect((await login('zhang.clerk', NEW_PASSWORD, address, app)).status).to.equal(429);
    expect((await login('zhang.clerk', NEW_PASSWORD, nextAddress(), other)).status).to.equal(429);
    t.clock.advance(1_000);
    expect((await login('zhang.clerk', NEW_PASSWORD, address, other)).status).to.equal(200);
  });

  it('successful logins are never throttled', async () => {
    const address = nextAddress();
    for (let i = 0; i < 25; i++) expect((await login('qingshen.official', DEMO_PASSWORD, address)).status).to.equal(200);
  });

  it('logs every failed login at warn with username, address and reason, and never the password', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    const logged = createApp({ ...t.deps, logger: createLogger('debug', sink), config: { ...t.deps.config, trustProxy: 'loopback' } });
    const address = nextAddress();
    await login('clerk.qingcheng', 'Secret-Guess-0001', address, logged);
    await login('ghost.user', 'Secret-Guess-0002', address, logged);
    for (let i = 0; i < 6; i++) await login('facility.demo', `Secret-Guess-1${i}`, address, logged);
    await login('facility.demo', DEMO_PASSWORD, address, logged);
    await new Promise((r) => setTimeout(r, 50));
    const all = lines.join('');
    expect(all).to.not.match(/Secret-Guess/);
    expect(all).to.not.contain(DEMO_PASSWORD);
    const events = lines.map((l) => JSON.parse(l)).filter((l) => l.event === 'login_failed');
    expect(events[0]).to.include({ level: 'warn', username: 'clerk.qingcheng', address, reason: 'wrong_password' });
    expect(events[1]).to.include({ level: 'warn', username: 'ghost.user', address, reason: 'unknown_user' });
    expect(events.at(-1)).to.include({ level: 'warn', username: 'facility.demo', reason: 'throttled', code: 'RATE_LIMITED' });
    expect(events.every((e) => typeof e.requestId === 'string')).to.equal(true);
    t.clock.advance(2_000);
  });
});
