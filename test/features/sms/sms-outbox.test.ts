// The outbox: one message per event even when the event is reported twice or the server restarts,
// retries with exponential back-off, at-most-once when a send was interrupted, delivery reports, and
// the notifications the sale and return services call.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { createLogger } from '../../../src/logger.js';
import { drainOutbox, enqueueSms, KannelGateway, retryDelayMs, type SendResult, type SmsGateway } from '../../../src/features/sms/sms-outbox-service.js';
import { enqueueExpiryReminders, enqueueRefundNotification, enqueueSaleNotification } from '../../../src/features/sms/sms-notifications.js';
import type { OutboxRow } from '../../../src/features/sms/sms-store.js';
import { freshToken, GLYPHOSATE, returnBody, saleBody } from '../ledger/ledger-fixtures.js';
import { configureSms, COUNTY, demoFarmer, outbox, SECRET, type DemoFarmer } from './sms-fixtures.js';

class FakeGateway implements SmsGateway {
  sent: OutboxRow[] = [];
  script: SendResult[] = [];
  async send(row: OutboxRow): Promise<SendResult> {
    const r = this.script.shift() ?? { ok: true };
    if (r.ok) this.sent.push(row);
    return r;
  }
}

describe('sms outbox and notifications', () => {
  const t = useTestApp();
  const logger = createLogger('silent');
  let farmer: DemoFarmer;
  let english: DemoFarmer;
  let saleId: string;
  let returnId: string;

  const worker = (gateway: SmsGateway, over: { maxAttempts?: number } = {}) => ({ knex: t.db.knex, gateway, clock: t.clock, logger, maxAttempts: over.maxAttempts ?? 4, retryBaseMs: 1000 });

  before(async () => {
    configureSms(t);
    farmer = await demoFarmer(t, 5);
    english = await demoFarmer(t, 6, 'en');
    const clerk = await t.token('clerk.qingcheng');
    const sale = saleBody({ purchaser: { phone: farmer.phone }, lines: [{ productId: GLYPHOSATE.id, quantity: 4 }] });
    saleId = sale.id;
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(sale)).status).to.equal(201);
    const ret = returnBody({ returner: { phone: farmer.phone }, items: [{ productId: GLYPHOSATE.id, quantity: 3, inspection: 'accepted' }] });
    returnId = ret.id;
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', clerk).send(ret)).status).to.equal(201);
  });

  it('a sale notification: the sale queues one Chinese line with the shop and the deposit; calling again queues nothing', async () => {
    const again = await t.db.knex.transaction((trx) => enqueueSaleNotification(trx, { countyId: COUNTY, saleId, now: t.clock.now() }));
    expect(again).to.deep.include({ queued: false, reason: 'already_queued' });
    const rows = await outbox(t, { kind: 'sale' });
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ phone_e164: farmer.phone, body: '青城镇丰收农资店收押金¥4.00（4个包装）。空包装洗净后退任一农资店可退押金。', status: 'pending' });
    expect(rows[0]!.body.length).to.be.at.most(70);
  });

  it('a refund notification tells what was paid and what is still refundable', async () => {
    // The return queued it in its own transaction; a second call finds it there.
    const r = await t.db.knex.transaction((trx) => enqueueRefundNotification(trx, { countyId: COUNTY, returnId, now: t.clock.now() }));
    expect(r).to.deep.include({ queued: false, reason: 'already_queued' });
    const [row] = await outbox(t, { kind: 'refund' });
    expect(row!.body).to.equal('青城镇丰收农资店退还3个包装，退押金¥3.00。尚可退¥1.00。');
  });

  it('a notification rolled back with its transaction leaves nothing behind', async () => {
    const before = (await outbox(t)).length;
    await t.db.knex.transaction(async (trx) => {
      await enqueueSms(trx, { countyId: COUNTY, eventKey: 'test:rollback', kind: 'sale', phoneE164: farmer.phone, farmerId: farmer.id, language: 'zh', text: '测试', now: t.clock.now() });
      throw new Error('the sale failed');
    }).catch(() => undefined);
    expect(await outbox(t)).to.have.length(before);
  });

  it('the worker sends each message once, also after a restart (a second worker on the same database)', async () => {
    const gw1 = new FakeGateway();
    const r1 = await drainOutbox(worker(gw1));
    expect(r1.sent).to.equal(2);
    // Enqueued again after the send (a retried sync of the same sale): still nothing new.
    await t.db.knex.transaction((trx) => enqueueSaleNotification(trx, { countyId: COUNTY, saleId, now: t.clock.now() }));
    const gw2 = new FakeGateway();
    expect(await drainOutbox(worker(gw2))).to.deep.equal({ sent: 0, retried: 0, failed: 0 });
    expect(gw2.sent).to.deep.equal([]);
    expect((await outbox(t)).every((m) => m.status === 'sent')).to.equal(true);
  });

  it('retries with exponential back-off while Kannel is unreachable, then gives up after maxAttempts', async () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000))).to.deep.equal([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(30, 1000)).to.equal(3_600_000);
    await enqueueSms(t.db.knex, { countyId: COUNTY, eventKey: 'test:retry', kind: 'sale', phoneE164: farmer.phone, farmerId: farmer.id, language: 'zh', text: '重试测试', now: t.clock.now() });
    const gw = new FakeGateway();
    gw.script = [{ ok: false, retry: true, error: 'Kannel unreachable: ECONNREFUSED' }, { ok: false, retry: true, error: 'Kannel answered 503' }];
    expect(await drainOutbox(worker(gw))).to.deep.include({ retried: 1 });
    let [row] = await outbox(t, { event_key: 'test:retry#1' });
    expect(row).to.include({ status: 'pending', attempts: 1 });
    // Not due yet: nothing happens before the back-off has passed.
    expect(await drainOutbox(worker(gw))).to.deep.equal({ sent: 0, retried: 0, failed: 0 });
    t.clock.advance(1000);
    expect(await drainOutbox(worker(gw))).to.deep.include({ retried: 1 });
    t.clock.advance(1999);
    expect(await drainOutbox(worker(gw))).to.deep.equal({ sent: 0, retried: 0, failed: 0 });
    t.clock.advance(1);
    expect(await drainOutbox(worker(gw))).to.deep.include({ sent: 1 });
    [row] = await outbox(t, { event_key: 'test:retry#1' });
    expect(row).to.include({ status: 'sent', attempts: 3 });

    await enqueueSms(t.db.knex, { countyId: COUNTY, eventKey: 'test:give-up', kind: 'sale', phoneE164: farmer.phone, farmerId: farmer.id, language: 'zh', text: '放弃测试', now: t.clock.now() });
    const down = new FakeGateway();
    down.script = Array.from({ length: 5 }, () => ({ ok: false as const, retry: true, error: 'Kannel unreachable' }));
    for (let i = 0; i < 5; i++) {
      await drainOutbox(worker(down, { maxAttempts: 2 }));
      t.clock.advance(3_600_000);
    }
    const [given] = await outbox(t, { event_key: 'test:give-up#1' });
    expect(given).to.include({ status: 'failed', attempts: 2 });
  });

  it('a send interrupted by a crash is not repeated (at most once), and a timeout is not retried', async () => {
    await enqueueSms(t.db.knex, { countyId: COUNTY, eventKey: 'test:crash', kind: 'sale', phoneE164: farmer.phone, farmerId: farmer.id, language: 'zh', text: '中断测试', now: t.clock.now() });
    await t.db.knex('sms_outbox').where({ county_id: COUNTY, event_key: 'test:crash#1' }).update({ status: 'sending', attempts: 1, sending_since: t.clock.now() });
    t.clock.advance(10 * 60_000);
    const gw = new FakeGateway();
    await drainOutbox(worker(gw));
    expect(gw.sent.map((r) => r.event_key)).not.to.include('test:crash#1');
    const [row] = await outbox(t, { event_key: 'test:crash#1' });
    expect(row!.status).to.equal('failed');

    await enqueueSms(t.db.knex, { countyId: COUNTY, eventKey: 'test:timeout', kind: 'sale', phoneE164: farmer.phone, farmerId: farmer.id, language: 'zh', text: '超时测试', now: t.clock.now() });
    const slow = new FakeGateway();
    slow.script = [{ ok: false, retry: false, error: 'Kannel did not answer in time' }];
    await drainOutbox(worker(slow));
    expect((await outbox(t, { event_key: 'test:timeout#1' }))[0]).to.include({ status: 'failed', attempts: 1 });
  });

  it('long messages go as parts in order, each its own outbox row', async () => {
    const text = '很长的消息，'.repeat(20);
    const r = await enqueueSms(t.db.knex, { countyId: COUNTY, eventKey: 'test:long', kind: 'sale', phoneE164: farmer.phone, farmerId: farmer.id, language: 'zh', text, now: t.clock.now() });
    expect(r.parts).to.equal(2);
    const gw = new FakeGateway();
    await drainOutbox(worker(gw));
    expect(gw.sent.filter((m) => m.event_key.startsWith('test:long')).map((m) => m.body.slice(0, 5))).to.deep.equal(['(1/2)', '(2/2)']);
  });

  it('the Kannel sendsms URL carries UTF-8 text, coding=2 for Chinese, and a dlr-url Kannel can fill in', () => {
    const gw = new KannelGateway({ ...t.deps.config.sms, kannelSendsmsUrl: 'http://127.0.0.1:13013/cgi-bin/sendsms', kannelUser: 'u', kannelPassword: 'p' }, 'http://127.0.0.1:3000');
    const zh = new URL(gw.url({ county_id: COUNTY, id: '0190a0a0-0000-7000-8000-000000000001', phone_e164: farmer.phone, body: '余额¥1.00' } as OutboxRow));
    expect(zh.searchParams.get('text')).to.equal('余额¥1.00');
    expect(zh.searchParams.get('coding')).to.equal('2');
    expect(zh.searchParams.get('charset')).to.equal('UTF-8');
    expect(zh.searchParams.get('to')).to.equal(farmer.phone);
    expect(zh.searchParams.get('dlr-url')).to.match(/\/api\/v1\/sms\/kannel\/dlr\?secret=.+&county=511425&id=0190a0a0-0000-7000-8000-000000000001&type=%d&answer=%A$/);
    const en = new URL(gw.url({ county_id: COUNTY, id: '0190a0a0-0000-7000-8000-000000000001', phone_e164: farmer.phone, body: 'Balance ¥1.00' } as OutboxRow));
    expect(en.searchParams.get('coding')).to.equal('0');
  });

  it('delivery reports: recorded in order, the final state kept; wrong secret or unknown id change nothing', async () => {
    const [row] = await outbox(t, { kind: 'sale', event_key: `sale:${saleId}#1` });
    const dlr = (q: Record<string, unknown>) => t.api().get('/api/v1/sms/kannel/dlr').query({ secret: SECRET, county: COUNTY, id: row!.id, ...q });
    expect((await dlr({ type: 8, answer: 'ACK/' })).status).to.equal(200);
    expect((await dlr({ type: 1, answer: '' })).status).to.equal(200);
    expect((await dlr({ type: 8, answer: 'late ack' })).status).to.equal(200);
    const bad = await dlr({ type: 2, secret: 'not-the-secret-at-all' });
    expect(bad.status).to.equal(403);
    expect(bad.body.error.code).to.equal('SMS_SECRET_INVALID');
    const unknown = await t.api().get('/api/v1/sms/kannel/dlr').query({ secret: SECRET, county: COUNTY, id: '0190a0a0-0000-7000-8000-0000000000ff', type: 1 });
    expect(unknown.status).to.equal(404);
    expect(unknown.body.error.code).to.equal('SMS_OUTBOX_NOT_FOUND');
    expect((await dlr({ type: 'x' })).body.error.code).to.equal('VALIDATION_FAILED');
    const reports = await t.db.knex('sms_delivery_reports').where({ county_id: COUNTY, outbox_id: row!.id }).orderBy('seq').select('seq', 'dlr_type', 'answer');
    expect(reports).to.deep.equal([{ seq: 1, dlr_type: 8, answer: 'ACK/' }, { seq: 2, dlr_type: 1, answer: '' }, { seq: 3, dlr_type: 8, answer: 'late ack' }]);
    expect((await t.db.knex('sms_outbox').where({ county_id: COUNTY, id: row!.id }).first()).delivery).to.equal('delivered');
  });

  it('expiry reminders: once per farmer and date, none for opted-out farmers, in the farmer\'s language', async () => {
    t.clock.set('2026-03-15T02:00:00.000Z');
    const clerk = await freshToken(t, 'clerk.qingcheng');
    const sale = saleBody({ purchaser: { phone: english.phone }, lines: [{ productId: GLYPHOSATE.id, quantity: 2 }] });
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(sale)).status).to.equal(201);
    // Deposits of 2026-03-15 expire after 365 days: 2027-03-15. 30 days before is 2027-02-13.
    expect(await enqueueExpiryReminders(t.db.knex, COUNTY, new Date('2027-02-01T00:00:00Z'), 30)).to.deep.equal({ queued: 0, skippedOptedOut: 0 });
    const now = new Date('2027-02-20T00:00:00Z');
    await t.db.knex('farmers').where({ county_id: COUNTY, id: farmer.id }).update({ sms_opt_out: true });
    expect(await enqueueExpiryReminders(t.db.knex, COUNTY, now, 30)).to.deep.equal({ queued: 1, skippedOptedOut: 1 });
    expect(await enqueueExpiryReminders(t.db.knex, COUNTY, new Date(now.getTime() + 3_600_000), 30)).to.deep.equal({ queued: 0, skippedOptedOut: 1 });
    const [row] = await outbox(t, { kind: 'expiry' });
    expect(row).to.include({ phone_e164: english.phone, language: 'en', body: 'Reminder: deposit ¥2.00 on 2 containers expires on 2027-03-15. Return them to a shop soon.' });
    expect(await enqueueExpiryReminders(t.db.knex, COUNTY, now, 0)).to.deep.equal({ queued: 0, skippedOptedOut: 0 });
  });

  it('opted-out farmers get no sale or refund notification', async () => {
    await t.db.knex('farmers').where({ county_id: COUNTY, id: farmer.id }).update({ sms_opt_out: true });
    t.clock.set('2026-03-15T02:00:00.000Z');
    const clerk = await freshToken(t, 'clerk.qingcheng');
    const sale = saleBody({ purchaser: { phone: farmer.phone }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] });
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(sale)).status).to.equal(201);
    const r = await t.db.knex.transaction((trx) => enqueueSaleNotification(trx, { countyId: COUNTY, saleId: sale.id, now: t.clock.now() }));
    expect(r).to.deep.include({ queued: false, reason: 'opted_out' });
    const r2 = await t.db.knex.transaction((trx) => enqueueRefundNotification(trx, { countyId: COUNTY, returnId, now: t.clock.now() }));
    expect(r2.queued).to.equal(false);
    expect(await outbox(t, { event_key: `sale:${sale.id}#1` })).to.deep.equal([]);
  });

  it('the outbox keeps its rows: no deletes', async () => {
    let err: unknown;
    try {
      await t.db.knex('sms_outbox').where({ county_id: COUNTY }).del();
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/never deleted/);
  });
});
