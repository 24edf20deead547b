// End to end through real Kannel: fakesmsc (the network) → bearerbox → smsbox → get-url → the
// server → outbox → sendsms → bearerbox → fakesmsc, in Chinese (UCS-2) and English, with delivery
// reports coming back to the dlr-url. Needs Debian's kannel and kannel-extras (installed by .ci/run):
// skipped with a warning without them locally, a failure in CI.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { useTestApp } from '../../support/harness.js';
import { KannelHarness, fakesmscUcs2, missingKannelBinaries } from '../../support/kannel.js';
import type { SmsWorker } from '../../../src/features/sms/sms-outbox-service.js';
import { startSmsRunner, type SmsRunner } from '../../../src/features/sms/sms-runner.js';
import { enqueueSaleNotification } from '../../../src/features/sms/sms-notifications.js';
import { GLYPHOSATE, GLYPHOSATE_5L, saleBody } from '../ledger/ledger-fixtures.js';
import { configureSms, COUNTY, demoFarmer, outbox, SECRET, SHORT_NUMBER, type DemoFarmer } from './sms-fixtures.js';

describe('sms end to end through Kannel (bearerbox, smsbox, fakesmsc)', function () {
  this.timeout(120_000);
  const t = useTestApp();
  let kannel: KannelHarness | null = null;
  let server: http.Server | null = null;
  let runner: SmsRunner | null = null;
  let worker: SmsWorker | null = null;
  let farmer: DemoFarmer;
  let english: DemoFarmer;
  let saleId: string;

  before(async function () {
    const missing = missingKannelBinaries();
    if (missing.length) {
      if (process.env.CI === 'true') throw new Error(`Kannel is required in CI but missing: ${missing.join(', ')} (apt-get install kannel kannel-extras)`);
      console.warn(`\n  !!! SKIPPING the Kannel end-to-end SMS tests: missing ${missing.join(', ')}. Install Debian's kannel and kannel-extras to run them. !!!\n`);
      this.skip();
    }
    server = http.createServer(t.app);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
    const appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    kannel = new KannelHarness({ appUrl, secret: SECRET, shortNumber: SHORT_NUMBER, sendsmsUser: 'agrireturn', sendsmsPassword: 'test-sendsms-password' });
    await kannel.start();
    configureSms(t, { kannelSendsmsUrl: kannel.sendsmsUrl, kannelUser: 'agrireturn', kannelPassword: 'test-sendsms-password', maxAttempts: 3, retryBaseMs: 200, workerIntervalMs: 200, expiryReminderDays: 30 });
    // What the server starts (src/server.ts); the dlr-url points at this test's listener.
    runner = startSmsRunner(t.deps, appUrl);
    worker = runner!.worker;

    farmer = await demoFarmer(t, 10);
    english = await demoFarmer(t, 11, 'en');
    const clerk = await t.token('clerk.qingcheng');
    const sale = saleBody({ purchaser: { phone: farmer.phone }, lines: [{ productId: GLYPHOSATE.id, quantity: 2 }, { productId: GLYPHOSATE_5L.id, quantity: 1 }] });
    saleId = sale.id;
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(sale)).status).to.equal(201);
    expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', clerk).send(saleBody({ purchaser: { phone: english.phone }, lines: [{ productId: GLYPHOSATE.id, quantity: 1 }] }))).status).to.equal(201);
  });

  after(async () => {
    await runner?.stop();
    await kannel?.stop();
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  });

  it('余额 sent from a farmer\'s phone comes back as the balance, decoded correctly in Chinese', async () => {
    await kannel!.network([`${farmer.phone} ${SHORT_NUMBER} ucs2 ${fakesmscUcs2('余额')}`]);
    // The farmer's sale notification may reach the same phone around the same time: wait for the
    // reply's own outbox row and then for the message carrying exactly its text.
    let replyRow: { body: string } | undefined;
    for (const until = Date.now() + 30_000; !replyRow && Date.now() < until;) {
      replyRow = await t.db.knex('sms_outbox').where({ county_id: COUNTY, phone_e164: farmer.phone, kind: 'reply' }).first('body');
      if (!replyRow) await new Promise((res) => setTimeout(res, 50));
    }
    expect(replyRow, 'the reply was queued').to.not.equal(undefined);
    const reply = await kannel!.waitForMessage((m) => m.to === farmer.phone && m.text === replyRow!.body);
    expect(reply.from).to.equal(SHORT_NUMBER);
    expect(reply.coding).to.equal('ucs-2');
    // 2 × 1 L at ¥1.00 + 1 × 5 L at ¥2.00.
    expect(reply.text).to.match(/^待退押金¥4\.00，包装3个（草甘膦异丙胺盐3个）。2026年已退¥0\.00。回收点：/);
    const [row] = await t.db.knex('sms_inbound').where({ county_id: COUNTY, phone_e164: farmer.phone }).select('text', 'command', 'outcome');
    expect(row).to.deep.equal({ text: '余额', command: 'balance', outcome: 'replied' });
  });

  it('an English farmer texting "bal" gets an English reply, split into marked parts (the shop names are Chinese)', async () => {
    await kannel!.network([`${english.phone} ${SHORT_NUMBER} text bal`]);
    // Wait for the reply's own second part: the farmer's sale notification (also two parts) goes to
    // the same phone around the same time, so its "(2/2)" must not end the wait.
    await kannel!.waitForMessage((m) => m.to === english.phone && /^\(2\/2\)Refunded/.test(m.text));
    // Only the reply's parts.
    const parts = kannel!.messages().filter((m) => m.to === english.phone && /^\([12]\/2\)(Refundable|Refunded)/.test(m.text)).map((m) => m.text).sort();
    expect(parts).to.have.length(2);
    for (const p of parts) expect(p.length).to.be.at.most(70);
    expect(parts[0]).to.match(/^\(1\/2\)Refundable deposit ¥1\.00 on 1 container/);
    expect(parts[1]).to.match(/^\(2\/2\)Refunded in 2026: ¥0\.00\. Return to: /);
  });

  it('a sale notification goes out through sendsms, arrives decoded, and its delivery report comes back', async () => {
    await kannel!.network();
    // POST /api/v1/counties/{countyId}/sales queued it in the sale's own transaction; calling again queues nothing.
    const r = await t.db.knex.transaction((trx) => enqueueSaleNotification(trx, { countyId: COUNTY, saleId, now: t.clock.now() }));
    expect(r).to.deep.include({ queued: false, reason: 'already_queued' });
    worker!.kick();
    const [row] = await outbox(t, { event_key: `sale:${saleId}#1` });
    const sms = await kannel!.waitForMessage((m) => m.to === farmer.phone && m.text === row!.body);
    expect(sms.text).to.equal('青城镇丰收农资店收押金¥4.00（3个包装）。空包装洗净后退任一农资店可退押金。');
    const until = Date.now() + 30_000;
    let state: { status: string; delivery: string | null } | undefined;
    while (Date.now() < until) {
      state = await t.db.knex('sms_outbox').where({ county_id: COUNTY, id: row!.id }).first('status', 'delivery');
      if (state?.delivery === 'delivered') break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(state).to.deep.equal({ status: 'sent', delivery: 'delivered' });
    // Sent once: a second call for the same sale queues nothing and nothing more arrives.
    await t.db.knex.transaction((trx) => enqueueSaleNotification(trx, { countyId: COUNTY, saleId, now: t.clock.now() }));
    await worker!.drain();
    await new Promise((res) => setTimeout(res, 500));
    expect(kannel!.messages().filter((m) => m.text === row!.body)).to.have.length(1);
  });

  it('expiry reminders queued by the server\'s hourly run arrive in each farmer\'s language', async () => {
    await kannel!.network();
    t.clock.set('2027-02-20T00:00:00.000Z');
    try {
      expect(await runner!.remind()).to.deep.include({ queued: 2 });
      const en = await kannel!.waitForMessage((m) => m.to === english.phone && m.text.startsWith('Reminder'));
      expect(en.text).to.equal('Reminder: deposit ¥1.00 on 1 container expires on 2027-03-15. Return them to a shop soon.');
      const zh = await kannel!.waitForMessage((m) => m.to === farmer.phone && m.text.startsWith('提醒'));
      expect(zh.text).to.equal('提醒：您有3个包装的押金¥4.00将于2027-03-15到期，请尽快退回农资店。');
    } finally {
      t.clock.set('2026-03-15T02:00:00.000Z');
    }
  });
});
