// "Today" is the county's today, everywhere (issue 11, part 1). Between 00:00 and 08:00 Beijing time
// the UTC date is still yesterday: each date-dependent path runs with the clock at 16:30 and 23:30
// UTC (00:30 and 07:30 the next morning in Asia/Shanghai), and once in a county whose zone is not
// Shanghai's (Asia/Tokyo, at 15:30 UTC = 00:30 in Tokyo, still 23:30 yesterday in Beijing) to show the
// day comes from the county's own zone (counties.timezone), not a built-in one.
import { expect } from 'chai';
import { demoId } from '../../seeds/demo-county.js';
import { newClientId } from '../../src/shared/client-id.js';
import { addDays, dayStart } from '../../src/shared/business-day.js';
import { runExpiry } from '../../src/features/expiry/expiry-service.js';
import { enqueueExpiryReminders } from '../../src/features/sms/sms-notifications.js';
import { useTestApp } from '../support/harness.js';
import { COUNTY, GLYPHOSATE, SHOP_A, expectLedgerClean, freshToken, returnBody, saleBody } from './ledger/ledger-fixtures.js';

const HDPE_1L = demoId('container_types', `${COUNTY}:HDPE-1L`);
const CENTRE = demoId('facilities', `${COUNTY}:collection-centre`);
const INCINERATOR = demoId('facilities', `${COUNTY}:incinerator`);
const base = `/api/v1/counties/${COUNTY}`;

interface Scenario { title: string; zone: string; now: string; today: string; utcDate: string }

const SCENARIOS: Scenario[] = [
  { title: '16:30 UTC, 00:30 in Beijing', zone: 'Asia/Shanghai', now: '2026-03-31T16:30:00.000Z', today: '2026-04-01', utcDate: '2026-03-31' },
  { title: '23:30 UTC, 07:30 in Beijing', zone: 'Asia/Shanghai', now: '2026-03-31T23:30:00.000Z', today: '2026-04-01', utcDate: '2026-03-31' },
  { title: '15:30 UTC in a county on Asia/Tokyo time (00:30 there, 23:30 yesterday in Beijing)', zone: 'Asia/Tokyo', now: '2026-03-31T15:30:00.000Z', today: '2026-04-01', utcDate: '2026-03-31' },
];

for (const s of SCENARIOS) {
  describe(`the county's today at ${s.title}`, function () {
    this.timeout(120_000);
    const t = useTestApp({ clock: s.now });
    const midnight = dayStart(s.today, s.zone).getTime(); // the county's midnight starting today
    const at = (ms: number) => new Date(ms).toISOString();
    /** Sets the clock and logs in afresh (cached tokens would have been issued at another time). */
    const clockAt = (iso: string) => t.clock.set(iso);
    // Writes go to the county paths (the deprecated aliases have their own test: ledger/county-paths*.test.ts).
    const send = async (method: 'get' | 'post', path: string, who: string, body?: unknown) => {
      const req = t.api()[method](path).set('Authorization', await freshToken(t, who));
      return body === undefined ? req : req.send(body as object);
    };
    const ok = (res: { status: number; body: unknown }, status: number) => expect(res.status, JSON.stringify(res.body)).to.equal(status);
    const sellNow = async (over: Record<string, unknown> = {}) => {
      const res = await send('post', `${base}/sales`, 'clerk.qingcheng', saleBody({ eventTime: t.clock.now().toISOString(), ...over }));
      ok(res, 201);
      return res.body;
    };

    before(async () => {
      if (s.zone !== 'Asia/Shanghai') await t.db.knex('counties').where({ id: COUNTY }).update({ timezone: s.zone });
    });
    beforeEach(() => clockAt(s.now));

    it('the scenario really is after the county\'s midnight and before the UTC one', () => {
      expect(t.clock.now().toISOString().slice(0, 10)).to.equal(s.utcDate);
      expect(midnight).to.be.below(Date.parse(s.now));
    });

    it('sales and returns recorded now carry the county\'s business day', async () => {
      const sale = await sellNow();
      expect(sale.businessDay).to.equal(s.today);
      const ret = await send('post', `${base}/returns`, 'clerk.qingcheng', returnBody({ eventTime: s.now, returner: { phone: '17460000999' }, items: [{ productId: GLYPHOSATE.id, quantity: 1, inspection: 'accepted' }], payment: { method: 'cash' } }));
      ok(ret, 201);
      expect(ret.body.businessDay).to.equal(s.today);
      await expectLedgerClean(t);
    });

    it('a clerk may reverse what was recorded since the county\'s midnight, not what came before it', async () => {
      clockAt(at(midnight - 10 * 60_000)); // 23:50 yesterday in the county
      const yesterday = await sellNow();
      expect(yesterday.businessDay).to.equal(addDays(s.today, -1));
      clockAt(at(midnight + 10 * 60_000)); // 00:10 today
      const today = await sellNow();
      expect(today.businessDay).to.equal(s.today);
      clockAt(s.now);
      const refused = await send('post', `${base}/reversals`, 'clerk.qingcheng', { id: newClientId(), targetType: 'sale', targetId: yesterday.saleId, reason: '录错了' });
      expect(refused.status).to.equal(403);
      expect(refused.body.error.code).to.equal('REVERSAL_WINDOW_CLOSED');
      const allowed = await send('post', `${base}/reversals`, 'clerk.qingcheng', { id: newClientId(), targetType: 'sale', targetId: today.saleId, reason: '录错了' });
      ok(allowed, 201);
      expect(allowed.body.businessDay).to.equal(s.today);
      await expectLedgerClean(t);
    });

    it('disposal on the county\'s today is accepted; tomorrow is still the future', async () => {
      // Containers returned today, bagged, picked up, delivered and inspected: all today.
      ok(await send('post', `${base}/returns`, 'clerk.qingcheng', returnBody({ eventTime: s.now, returner: { phone: '17460000555', name: '甲' }, items: [{ productId: GLYPHOSATE.id, quantity: 3, inspection: 'accepted' }], payment: { method: 'cash' } })), 201);
      const bag = await send('post', `${base}/bags`, 'clerk.qingcheng', { id: newClientId(), shopId: SHOP_A, material: 'HDPE' });
      ok(bag, 201);
      const bagId = bag.body.id as string;
      ok(await send('post', `${base}/bags/${bagId}/items`, 'clerk.qingcheng', { id: newClientId(), counts: [{ containerTypeId: HDPE_1L, quantity: 3 }] }), 200);
      ok(await send('post', `${base}/bags/${bagId}/seal`, 'clerk.qingcheng', { id: newClientId(), sealNo: `DAY-${Date.parse(s.now)}` }), 200);
      const haulerId = (await send('get', '/api/v1/auth/me', 'hauler.demo')).body.user.haulerId;
      const m = await send('post', `${base}/manifests`, 'hauler.demo', { id: newClientId(), haulerId, facilityId: CENTRE });
      ok(m, 201);
      const mid = m.body.id as string;
      ok(await send('post', `${base}/manifests/${mid}/bags`, 'hauler.demo', { id: newClientId(), bagIds: [bagId] }), 200);
      const sign = (who: string, handover: string, side: string) => send('post', `${base}/manifests/${mid}/signatures`, who, { id: newClientId(), handover, side, device: `pad-${who}` });
      ok(await sign('clerk.qingcheng', `pickup:${SHOP_A}`, 'giver'), 201);
      ok(await sign('hauler.demo', `pickup:${SHOP_A}`, 'receiver'), 201);
      ok(await sign('hauler.demo', 'delivery', 'giver'), 201);
      ok(await sign('facility.demo', 'delivery', 'receiver'), 201);
      ok(await send('post', `${base}/manifests/${mid}/inspections`, 'facility.demo', { id: newClientId(), bags: [{ bagId, outcome: 'accepted', measuredWeightG: 165, sealIntact: true }] }), 201);

      const disposal = { id: newClientId(), bagIds: [bagId], method: 'incineration', disposalFacilityId: INCINERATOR, facilityLicenceNo: '川环危第511402063号', certificateNo: `CERT-${Date.parse(s.now)}`, disposedOn: s.today };
      const tomorrow = await send('post', `${base}/disposals`, 'facility.demo', { ...disposal, id: newClientId(), disposedOn: addDays(s.today, 1) });
      expect(tomorrow.status).to.equal(422);
      expect(tomorrow.body.error.code).to.equal('EVENT_TIME_IN_FUTURE');
      const res = await send('post', `${base}/disposals`, 'facility.demo', disposal);
      ok(res, 201);
      expect((await send('get', `${base}/bags/${bagId}`, 'clerk.qingcheng')).body.state).to.equal('disposed');
    });

    it('the inspectors\' ledger (台账) by default ends on the county\'s today, with today\'s containers and bags in it', async () => {
      ok(await send('post', `${base}/returns`, 'clerk.qingcheng', returnBody({ eventTime: s.now, returner: { phone: '17460000556', name: '乙' }, items: [{ productId: GLYPHOSATE.id, quantity: 2, inspection: 'accepted' }], payment: { method: 'cash' } })), 201);
      const bag = await send('post', `${base}/bags`, 'clerk.qingcheng', { id: newClientId(), shopId: SHOP_A, material: 'HDPE' });
      ok(bag, 201);
      const res = await send('get', `${base}/custody/ledger?format=json`, 'clerk.qingcheng');
      ok(res, 200);
      expect(res.body.to).to.equal(s.today);
      expect(res.body.from).to.equal(`${Number(s.today.slice(0, 4)) - 2}${s.today.slice(4)}`);
      const [shop] = res.body.shops;
      const received = shop.received.filter((r: { day: string }) => r.day === s.today);
      expect(received.reduce((n: number, r: { quantity: number }) => n + r.quantity, 0)).to.be.at.least(2);
      expect(shop.bags.map((b: { bagId: string }) => b.bagId)).to.include(bag.body.id);
    });

    it('settlement periods are the county\'s months: today\'s sale is in this month\'s statement, and last month has ended', async () => {
      const month = s.today.slice(0, 7);
      const statement = async (period: string) => (await send('get', `${base}/settlements/statements/${period}`, 'qingshen.official')).body;
      const before = await statement(month);
      expect(before.from).to.equal(dayStart(`${month}-01`, s.zone).toISOString());
      const lastMonthBefore = await statement('2026-03');
      await sellNow({ lines: [{ productId: GLYPHOSATE.id, quantity: 2 }] });
      const shopLine = (st: { shops: Array<{ shopId: string; depositsCollectedFen: number }> }) => st.shops.find((l) => l.shopId === SHOP_A)!.depositsCollectedFen;
      expect(shopLine(await statement(month)) - shopLine(before)).to.equal(200);
      expect(shopLine(await statement('2026-03'))).to.equal(shopLine(lastMonthBefore));
      // March has ended in the county (though not in UTC): paying it is not refused as unfinished.
      const pay = await send('post', `${base}/settlements`, 'qingshen.official', { id: newClientId(), shopId: SHOP_A, period: '2026-03', amountFen: 1, direction: 'from_shop', method: 'cash' });
      expect(pay.body.error?.code).not.to.equal('PERIOD_NOT_ENDED');
      const thisMonth = await send('post', `${base}/settlements`, 'qingshen.official', { id: newClientId(), shopId: SHOP_A, period: month, amountFen: 1, direction: 'from_shop', method: 'cash' });
      expect(thisMonth.body.error.code).to.equal('PERIOD_NOT_ENDED');
    });

    it('expiry and its SMS reminder speak of the county\'s date', async () => {
      const validityMs = 365 * 86_400_000;
      // A deposit taken one hour after "now" a year ago expires in an hour, on the county's today.
      const soldAt = Date.parse(s.now) - validityMs + 3_600_000;
      clockAt(at(soldAt));
      await sellNow({ purchaser: { phone: '17460000557', name: '丙' }, lines: [{ productId: GLYPHOSATE.id, quantity: 2 }] });
      clockAt(s.now);
      const reminders = await enqueueExpiryReminders(t.db.knex, COUNTY, new Date(s.now), 30);
      expect(reminders.queued).to.equal(1);
      const [sms] = await t.db.knex('sms_outbox').where({ county_id: COUNTY, kind: 'expiry' }).select('body');
      expect(sms.body).to.include(s.today).and.not.include(s.utcDate);
      // Not yet expired now; expired once its validity has run out.
      expect((await runExpiry(t.db.knex, COUNTY, new Date(s.now), 'test')).lotContainersExpired).to.equal(0);
      const later = new Date(soldAt + validityMs + 60_000);
      const run = await runExpiry(t.db.knex, COUNTY, later, 'test');
      expect(run.lotContainersExpired).to.equal(2);
      expect(run.cutoff).to.equal(new Date(later.getTime() - validityMs).toISOString());
      await expectLedgerClean(t);
    });

    it('the dashboard\'s default period and cohort day are the county\'s', async () => {
      const res = await send('get', `/api/v1/counties/${COUNTY}/dashboard`, 'qingshen.official');
      ok(res, 200);
      expect(res.body.range).to.deep.equal({ from: `${s.today.slice(0, 4)}-01`, to: s.today.slice(0, 7), days: 90, asOfDay: s.today });
    });

    it('fraud flags by default look at the 30 days up to the county\'s today', async () => {
      const ret = await send('post', `${base}/returns`, 'clerk.qingcheng', returnBody({ eventTime: s.now, returner: { phone: '17460000558', name: '丁' }, items: [{ productId: GLYPHOSATE.id, quantity: 51, inspection: 'accepted' }], payment: { method: 'cash' } }));
      ok(ret, 201);
      const res = await send('get', `${base}/fraud-flags`, 'qingshen.official');
      ok(res, 200);
      const heavy = res.body.items.filter((f: { kind: string; day: string }) => f.kind === 'daily_returns_above_threshold' && f.day === s.today);
      expect(heavy, JSON.stringify(res.body.items)).to.have.length(1);
      const explicit = await send('get', `${base}/fraud-flags?from=${addDays(s.today, -30)}&to=${s.today}`, 'qingshen.official');
      expect(explicit.body.items).to.deep.equal(res.body.items);
    });
  });
}
