// Terminal credentials and enrolment codes cannot be guessed: bad ones are counted per client address
// (and per enrolment code) in the database and refused with 429 RATE_LIMITED and Retry-After.
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../src/http/app.js';
import { useTestApp, BACKEND } from '../support/harness.js';

describe(`terminal credential and enrolment code throttling (${BACKEND})`, function () {
  this.timeout(120_000);
  const t = useTestApp();
  let app: express.Express;
  let addressNo = 0;
  const nextAddress = () => `198.51.100.${++addressNo}`;
  let shopId: string;
  before(async () => {
    app = createApp({ ...t.deps, config: { ...t.deps.config, trustProxy: 'loopback' } });
    shopId = (await t.db.knex('shops').where({ county_id: '511425' }).first('id')).id;
  });
  const cfg = () => t.deps.config.authThrottle;
  const issue = async (name: string) => {
    const res = await t.api().post('/api/v1/counties/511425/terminals').set('Authorization', await t.token('qingshen.official')).send({ shopId, name });
    expect(res.status).to.equal(201);
    return res.body as { terminal: { id: string }; enrolmentCode: string };
  };
  const enrol = (code: string, address: string) => request(app).post('/api/v1/terminals/enrol').set('X-Forwarded-For', address).send({ enrolmentCode: code });
  const me = (credential: string, address: string) => request(app).get('/api/v1/auth/me').set('X-Forwarded-For', address).set('Authorization', `Bearer ${credential}`);

  it('bad terminal credentials from one address: 429 with Retry-After after the free ones, even for a good credential, until the delay passes', async () => {
    const issued = await issue('guarded');
    const good = (await enrol(issued.enrolmentCode, nextAddress())).body.credential as string;
    const forged = `${good.split('.')[0]}.${'A'.repeat(43)}`;
    const attacker = nextAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await me(forged, attacker)).status);
    const free = cfg().deviceAddressFreeFailures;
    expect(statuses.slice(0, free + 1).every((s) => s === 401)).to.equal(true);
    expect(statuses.slice(free + 1).every((s) => s === 429)).to.equal(true);
    const limited = await me(good, attacker);
    expect(limited.status).to.equal(429);
    expect(limited.body.error.code).to.equal('RATE_LIMITED');
    expect(limited.headers['retry-after']).to.equal('1');
    // Another address (the shop's own) is not affected.
    expect((await me(good, nextAddress())).status).to.equal(200);
    t.clock.advance(1_000);
    expect((await me(good, attacker)).status).to.equal(200);
  });

  it('a revoked terminal retrying its real credential does not slow down its address', async () => {
    const issued = await issue('revoked');
    const address = nextAddress();
    const credential = (await enrol(issued.enrolmentCode, address)).body.credential as string;
    await t.api().post(`/api/v1/counties/511425/terminals/${issued.terminal.id}/revoke`).set('Authorization', await t.token('qingshen.official')).send({ reason: '设备丢失' });
    for (let i = 0; i < cfg().deviceAddressFreeFailures + 5; i++) expect((await me(credential, address)).body.error.code).to.equal('TERMINAL_REVOKED');
  });

  it('enrolment codes cannot be brute-forced from one address', async () => {
    const issued = await issue('brute');
    const attacker = nextAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await enrol(`WXYZ-${1000 + i}-QRST`, attacker)).status);
    const free = cfg().deviceAddressFreeFailures;
    expect(statuses.slice(0, free + 1).every((s) => s === 401)).to.equal(true);
    expect(statuses.slice(free + 1).every((s) => s === 429)).to.equal(true);
    // The right code from the blocked address waits too; it is still valid afterwards.
    const blocked = await enrol(issued.enrolmentCode, attacker);
    expect(blocked.status).to.equal(429);
    expect(Number(blocked.headers['retry-after'])).to.be.greaterThan(0);
    t.clock.advance(Number(blocked.headers['retry-after']) * 1000);
    expect((await enrol(issued.enrolmentCode, attacker)).status).to.equal(200);
  });

  it('one enrolment code tried from many addresses is blocked by itself', async () => {
    const issued = await issue('expired');
    t.clock.advance(73 * 3600_000);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await enrol(issued.enrolmentCode, nextAddress())).status);
    const free = cfg().enrolmentCodeFreeFailures;
    expect(statuses.slice(0, free + 1).every((s) => s === 401)).to.equal(true);
    expect(statuses.slice(free + 1).every((s) => s === 429)).to.equal(true);
    const row = await t.db.knex('auth_throttle').where({ kind: 'enrolment_code' }).first();
    // Only a hash of the code is kept.
    expect(row.key).to.have.length(64);
    expect(row.key).to.not.contain(issued.enrolmentCode.replace(/-/g, ''));
  });
});
