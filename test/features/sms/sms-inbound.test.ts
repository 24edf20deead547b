// Kannel's get-url as farmers see it: balance, history, help, opt-out, English, the number the
// network reported as the only recipient, de-duplication by Kannel's id, and hourly rate limits.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { useTestApp } from '../../support/harness.js';
import { createApp } from '../../../src/http/app.js';
import { enqueueSaleNotification } from '../../../src/features/sms/sms-notifications.js';
import { GLYPHOSATE, GLYPHOSATE_5L, saleBody, returnBody, unitCode } from '../ledger/ledger-fixtures.js';
import { configureSms, COUNTY, demoFarmer, outbox, replyTo, SECRET, textIn, type DemoFarmer } from './sms-fixtures.js';

describe('sms inbound (Kannel get-url)', () => {
  const t = useTestApp();
  let zhFarmer: DemoFarmer;
  let enFarmer: DemoFarmer;
  let other: DemoFarmer;
  let saleId: string;

  before(async () => {
    configureSms(t);
    zhFarmer = await demoFarmer(t, 0);
    enFarmer = await demoFarmer(t, 1, 'en');
    other = await demoFarmer(t, 2);
    const clerk = await t.token('clerk.qingcheng');
    const sale = saleBody({ purchaser: { phone: zhFarmer.phone }, lines: [{ productId: GLYPHOSATE.id, quantity: 3 }, { productId: GLYPHOSATE_5L.id, quantity: 1, unitCodes: [unitCode(GLYPHOSATE_5L)] }] });
    saleId = sale.id;
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(sale)).status).to.equal(201);
    // The other farmer owes a lot: none of it may ever show in anyone else's reply.
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(saleBody({ purchaser: { phone: other.phone }, lines: [{ productId: GLYPHOSATE.id, quantity: 7 }] }))).status).to.equal(201);
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(saleBody({ purchaser: { phone: enFarmer.phone }, lines: [{ productId: GLYPHOSATE.id, quantity: 2 }] }))).status).to.equal(201);
    const ret = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', clerk).send(returnBody({ returner: { phone: zhFarmer.phone }, items: [{ productId: GLYPHOSATE.id, quantity: 1, inspection: 'accepted' }] }));
    expect(ret.status, JSON.stringify(ret.body)).to.equal(201);
  });

  it('refuses a wrong or missing secret and records nothing', async () => {
    const before = await t.db.knex('sms_inbound').count({ n: '*' }).first();
    const id = randomUUID();
    const res = await textIn(t, zhFarmer.phone, '余额', { id, secret: 'wrong-secret-wrong-secret' });
    expect(res.status).to.equal(403);
    expect(res.body.error.code).to.equal('SMS_SECRET_INVALID');
    const missing = await t.api().get('/api/v1/sms/kannel/inbound').query({ id, from: zhFarmer.phone, text: '余额' });
    expect(missing.status).to.equal(400);
    expect(await t.db.knex('sms_inbound').count({ n: '*' }).first()).to.deep.equal(before);
    expect(await replyTo(t, id)).to.deep.equal([]);
  });

  it('answers SMS_NOT_CONFIGURED while no secret is set', async () => {
    configureSms(t, { inboundSecret: null });
    try {
      const res = await textIn(t, zhFarmer.phone, '余额');
      expect(res.status).to.equal(503);
      expect(res.body.error.code).to.equal('SMS_NOT_CONFIGURED');
    } finally {
      configureSms(t);
    }
  });

  it('余额 from a registered farmer: the balance, in one Chinese SMS, to the sender only', async () => {
    const id = randomUUID();
    const res = await textIn(t, zhFarmer.phone, '余额', { id });
    expect(res.status).to.equal(200);
    expect(res.text).to.equal('');
    const [reply, ...more] = await replyTo(t, id);
    expect(more).to.deep.equal([]);
    expect(reply!.phone_e164).to.equal(zhFarmer.phone);
    // 3 × 1 L at ¥1.00 + 1 × 5 L at ¥2.00, one 1 L container returned: 3 containers, ¥4.00.
    expect(reply!.body).to.match(/^待退押金¥4\.00，包装3个（草甘膦异丙胺盐3个）。2026年已退¥1\.00。回收点：/);
    expect(reply!.body.length).to.be.at.most(70);
    const logged = await t.db.knex('sms_inbound').where({ county_id: COUNTY, kannel_id: id }).first();
    expect(logged).to.include({ command: 'balance', outcome: 'replied', farmer_id: zhFarmer.id, phone_e164: zhFarmer.phone });
  });

  it('accepts the sender in the forms networks report it', async () => {
    for (const from of [zhFarmer.phone.slice(3), `0086${zhFarmer.phone.slice(3)}`, zhFarmer.phone.slice(1)]) {
      const id = randomUUID();
      await textIn(t, from, 'ye', { id });
      const [reply] = await replyTo(t, id);
      expect(reply!.phone_e164, from).to.equal(zhFarmer.phone);
      expect(reply!.body).to.match(/^待退押金¥4\.00/);
    }
  });

  it('English farmers get English replies', async () => {
    const id = randomUUID();
    await textIn(t, enFarmer.phone, 'BAL', { id });
    const parts = await replyTo(t, id);
    expect(parts.map((p) => p.body).join('')).to.contain('Refundable deposit ¥2.00 on 2 containers');
    expect(parts[0]!.language).to.equal('en');
    const help = randomUUID();
    await textIn(t, enFarmer.phone, 'help', { id: help });
    expect((await replyTo(t, help))[0]!.body).to.match(/^Reply BAL/);
  });

  it('记录 lists the last returns; 帮助 and anything else get help texts', async () => {
    const hist = randomUUID();
    await textIn(t, zhFarmer.phone, '记录', { id: hist });
    expect((await replyTo(t, hist))[0]!.body).to.equal('最近退还：3/15青城镇丰收农资店1个退¥1.00');
    const help = randomUUID();
    await textIn(t, zhFarmer.phone, '帮助', { id: help });
    expect((await replyTo(t, help))[0]!.body).to.match(/^回复：余额 查押金/);
    const junk = randomUUID();
    await textIn(t, zhFarmer.phone, '你好，在吗', { id: junk });
    expect((await replyTo(t, junk))[0]!.body).to.match(/^未识别的指令/);
  });

  it('privacy: another farmer\'s number typed in the text is ignored; the reply goes to the sender with the sender\'s figures', async () => {
    const before = await outbox(t, { phone_e164: other.phone });
    const id = randomUUID();
    await textIn(t, zhFarmer.phone, `余额 ${other.phone}`, { id });
    const id2 = randomUUID();
    await textIn(t, zhFarmer.phone, `BAL ${other.phone.slice(3)}`, { id: id2 });
    for (const k of [id, id2]) {
      const [reply] = await replyTo(t, k);
      expect(reply!.phone_e164).to.equal(zhFarmer.phone);
      expect(reply!.body).to.match(/^待退押金¥4\.00/);
      expect(reply!.body).not.to.contain('¥7.00');
      expect(reply!.body).not.to.contain(other.name);
    }
    expect(await outbox(t, { phone_e164: other.phone })).to.deep.equal(before);
  });

  it('privacy: an unknown number learns how to register and nothing about anyone', async () => {
    const stranger = '+8617469999001';
    const id = randomUUID();
    await textIn(t, stranger, `余额 ${other.phone}`, { id });
    const parts = await replyTo(t, id);
    expect(parts).to.have.length(1);
    expect(parts[0]).to.include({ phone_e164: stranger, body: '本号码未登记。在任一农资店买药时向店员报手机号即可登记，之后发 余额 可查押金。' });
    // Nothing went to the number typed in the text: only its own sale notification is there.
    expect((await outbox(t, { phone_e164: other.phone })).map((m) => m.kind)).to.deep.equal(['sale']);
    const logged = await t.db.knex('sms_inbound').where({ county_id: COUNTY, kannel_id: id }).first();
    expect(logged).to.include({ outcome: 'unregistered', farmer_id: null });
  });

  it('a sender that is not a phone number gets no reply', async () => {
    const id = randomUUID();
    expect((await textIn(t, 'CMCC', '余额', { id })).status).to.equal(200);
    expect(await replyTo(t, id)).to.deep.equal([]);
    expect(await t.db.knex('sms_inbound').where({ county_id: COUNTY, kannel_id: id }).first()).to.include({ outcome: 'invalid_sender', phone_e164: null });
  });

  it('a repeated Kannel message id is answered once', async () => {
    const id = randomUUID();
    await textIn(t, zhFarmer.phone, '余额', { id });
    await textIn(t, zhFarmer.phone, '余额', { id });
    await Promise.all([textIn(t, zhFarmer.phone, '余额', { id }), textIn(t, zhFarmer.phone, '余额', { id })]);
    expect(await replyTo(t, id)).to.have.length(1);
    expect(await t.db.knex('sms_inbound').where({ county_id: COUNTY, kannel_id: id })).to.have.length(1);
  });

  it('退订 stops notifications and 订阅 resumes them; the farmer record keeps its history', async () => {
    const stop = randomUUID();
    await textIn(t, zhFarmer.phone, '退订', { id: stop });
    expect((await replyTo(t, stop))[0]!.body).to.match(/^已停止押金通知/);
    const farmer = await t.db.knex('farmers').where({ county_id: COUNTY, id: zhFarmer.id }).first();
    expect(farmer.sms_opt_out).to.equal(true);
    const history = await t.db.knex('entity_history').where({ county_id: COUNTY, entity: 'farmer', entity_id: zhFarmer.id, version: farmer.version }).first();
    expect(history).to.include({ op: 'update', actor: `sms:${stop}` });
    const none = await t.db.knex.transaction((trx) => enqueueSaleNotification(trx, { countyId: COUNTY, saleId, now: t.clock.now() }));
    expect(none).to.deep.include({ queued: false, reason: 'opted_out' });
    // Replies to questions still come: 退订 ends notifications, not the service.
    const bal = randomUUID();
    await textIn(t, zhFarmer.phone, '余额', { id: bal });
    expect(await replyTo(t, bal)).to.have.length(1);

    await textIn(t, zhFarmer.phone, 'START');
    expect((await t.db.knex('farmers').where({ county_id: COUNTY, id: zhFarmer.id }).first()).sms_opt_out).to.equal(false);
    // A new sale after 订阅 queues its notification again.
    const next = saleBody({ purchaser: { phone: zhFarmer.phone }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] });
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await t.token('clerk.qingcheng')).send(next)).status).to.equal(201);
    expect(await outbox(t, { event_key: `sale:${next.id}#1` })).to.have.length(1);
  });

  it('rate limit: N answers per number per hour, then one short notice, then silence; kept across a restart', async () => {
    configureSms(t, { rateLimitPerHour: 3 });
    try {
      t.clock.set('2026-03-16T05:00:00.000Z');
      const ids = Array.from({ length: 6 }, () => randomUUID());
      for (const id of ids.slice(0, 4)) await textIn(t, other.phone, '余额', { id });
      // A restarted server (new app on the same database) keeps counting.
      const restarted = createApp(t.deps);
      for (const id of ids.slice(4)) {
        await request(restarted).get('/api/v1/sms/kannel/inbound').query({ secret: SECRET, id, from: other.phone, to: '10690000', text: '余额' });
      }
      const replies = await Promise.all(ids.map((id) => replyTo(t, id)));
      expect(replies.map((r) => r.length)).to.deep.equal([1, 1, 1, 1, 0, 0]);
      expect(replies[3]![0]!.body).to.equal('查询太频繁，请1小时后再试。');
      const outcomes = await t.db.knex('sms_inbound').whereIn('kannel_id', ids).select('kannel_id', 'outcome');
      const byId = new Map(outcomes.map((o: { kannel_id: string; outcome: string }) => [o.kannel_id, o.outcome]));
      expect(ids.map((id) => byId.get(id))).to.deep.equal(['replied', 'replied', 'replied', 'rate_limited', 'silenced', 'silenced']);
      // Counters hold a keyed hash, never the number.
      const counters = await t.db.knex('sms_rate_counters').where({ county_id: COUNTY });
      expect(JSON.stringify(counters)).not.to.contain(other.phone.slice(3));
      // Another number is not affected; the next hour starts afresh.
      const fresh = randomUUID();
      await textIn(t, zhFarmer.phone, '余额', { id: fresh });
      expect(await replyTo(t, fresh)).to.have.length(1);
      t.clock.set('2026-03-16T06:00:01.000Z');
      const later = randomUUID();
      await textIn(t, other.phone, '余额', { id: later });
      expect((await replyTo(t, later))[0]!.body).to.match(/^待退押金¥7\.00/);
    } finally {
      configureSms(t);
      t.clock.set('2026-03-15T02:00:00.000Z');
    }
  });
});
