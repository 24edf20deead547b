// The points ledger after earning (issue 17; docs/incentives-points.md): redemption at the counter
// (idempotent, shop-scoped, event times bounded, never overspent — also when two counters race), a
// farmer's points (access-logged for officials), expiry first in, first out (twice expires nothing
// more; the periodic job), and the points in the SMS balance reply.
import { expect } from 'chai';
import { useTestApp, type TestContext } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { countyJobs } from '../../../src/jobs/jobs.js';
import { COUNTY, SHOP_A, SHOP_B, freshToken } from '../ledger/ledger-fixtures.js';
import { configureSms, replyTo, textIn } from '../sms/sms-fixtures.js';
import { earn, farmerAt, pointsBalances, pointsLedgerProblems, setExpireAfterYears, type PointsFarmer } from './points-fixtures.js';

const REDEEM = `/api/v1/counties/${COUNTY}/points-redemptions`;
const EXPIRE = `/api/v1/counties/${COUNTY}/points-expiry-runs`;
const pointsOf = (farmerId: string) => `/api/v1/counties/${COUNTY}/farmers/${farmerId}/points`;

async function enrolTerminal(t: TestContext, shopId: string, name: string): Promise<string> {
  const issued = await t.api().post(`/api/v1/counties/${COUNTY}/terminals`).set('Authorization', await freshToken(t, 'qingshen.official')).send({ shopId, name });
  expect(issued.status, JSON.stringify(issued.body)).to.equal(201);
  const enrolled = await t.api().post('/api/v1/terminals/enrol').send({ enrolmentCode: issued.body.enrolmentCode });
  expect(enrolled.status, JSON.stringify(enrolled.body)).to.equal(200);
  return `Bearer ${enrolled.body.credential}`;
}

function redemption(f: PointsFarmer, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: newClientId(), shopId: SHOP_A, phone: f.phone, points: 2, goods: '洗衣粉 1袋', goodsValueFen: 500, eventTime: '2026-03-15T01:30:00.000Z', ...over };
}

describe('points: redemption at the counter', function () {
  this.timeout(120_000);
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });
  let f: PointsFarmer;
  const redeem = async (body: Record<string, unknown>, who = 'clerk.qingcheng') => t.api().post(REDEEM).set('Authorization', await t.token(who)).send(body);
  const counts = async () => ({
    transfers: Number((await t.db.knex('points_transfers').where({ county_id: COUNTY }).count({ n: '*' }).first())!.n),
    redemptions: Number((await t.db.knex('points_redemptions').where({ county_id: COUNTY }).count({ n: '*' }).first())!.n),
    balances: await pointsBalances(t),
  });

  before(async () => {
    f = await farmerAt(t, 3);
    await earn(t, f.id, 5000, '2026-03-01');
    await earn(t, f.id, 2500, '2026-03-02');
  });

  it('redeems 2 points for goods: a row, a `redeemed` transfer and the balance left; a retry gets the same answer', async () => {
    const body = redemption(f, { points: 2 });
    const res = await redeem(body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.deep.include({
      redemptionId: body.id, countyId: COUNTY, shopId: SHOP_A, pointsMilli: 2000, goods: '洗衣粉 1袋', goodsValueFen: 500, balanceAfterMilli: 5500,
      eventTime: '2026-03-15T01:30:00.000Z', recordedAt: '2026-03-15T02:00:00.000Z', businessDay: '2026-03-15', lateAdjustment: false,
    });
    expect(res.body.farmer).to.deep.equal({ farmerId: f.id, name: f.name, phoneMasked: `+86 ${f.phone.slice(3, 6)}****${f.phone.slice(-4)}` });
    expect(res.body.redemptionNo).to.be.a('number');
    const tr = await t.db.knex('points_transfers').where({ county_id: COUNTY, ref_id: body.id as string });
    expect(tr.map((r: { code: string; amount_milli: number; shop_id: string }) => [r.code, Number(r.amount_milli), r.shop_id])).to.deep.equal([['redeemed', 2000, SHOP_A]]);
    const before = await counts();
    const again = await redeem(body);
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal(res.body);
    expect(await counts()).to.deep.equal(before);
    // The same id with other content is a conflict, and changes nothing.
    const other = await redeem({ ...body, points: 1 });
    expect(other.status).to.equal(409);
    expect(other.body.error.code).to.equal('IDEMPOTENCY_CONFLICT');
    expect(await counts()).to.deep.equal(before);
  });

  it('refuses more than the farmer holds with 409 POINTS_INSUFFICIENT and writes nothing; takes exactly the balance', async () => {
    const before = await counts();
    const over = await redeem(redemption(f, { points: 5.501 }));
    expect(over.status, JSON.stringify(over.body)).to.equal(409);
    expect(over.body.error.code).to.equal('POINTS_INSUFFICIENT');
    expect(over.body.error.details[0]).to.include({ field: '/body/points', balanceMilli: 5500 });
    expect(await counts()).to.deep.equal(before);
    const body = redemption(f, { points: 1.25 });
    const ok = await redeem(body);
    expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
    expect(ok.body).to.include({ pointsMilli: 1250, balanceAfterMilli: 4250 });
    expect(await pointsLedgerProblems(t)).to.deep.equal([]);
  });

  it('refuses bad input with stable codes: finer than milli-points, empty goods, unknown phone, times out of bounds', async () => {
    const before = await counts();
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [redemption(f, { points: 0.0005 }), 400, 'VALIDATION_FAILED'],
      [redemption(f, { points: 0 }), 400, 'VALIDATION_FAILED'],
      [redemption(f, { goods: '   ' }), 400, 'VALIDATION_FAILED'],
      [redemption(f, { goodsValueFen: -1 }), 400, 'VALIDATION_FAILED'],
      [redemption(f, { phone: '17460009903' }), 404, 'NOT_FOUND'],
      [redemption(f, { phone: '12' }), 400, 'VALIDATION_FAILED'],
      [redemption(f, { eventTime: '2026-03-15T03:00:00.000Z' }), 422, 'EVENT_TIME_IN_FUTURE'],
      [redemption(f, { eventTime: '2026-01-15T03:00:00.000Z' }), 422, 'EVENT_TIME_TOO_OLD'],
    ];
    for (const [body, status, code] of cases) {
      const res = await redeem(body);
      expect(res.status, JSON.stringify([body, res.body])).to.equal(status);
      expect(res.body.error.code, JSON.stringify(body)).to.equal(code);
    }
    expect(await counts()).to.deep.equal(before);
  });

  it('a clerk redeems at their own shop only; a terminal redeems for its shop', async () => {
    const elsewhere = await redeem(redemption(f, { shopId: SHOP_B, points: 0.5 }));
    expect(elsewhere.status).to.equal(403);
    expect(elsewhere.body.error.code).to.equal('OUT_OF_SCOPE');
    const official = await redeem(redemption(f, { points: 0.5 }), 'qingshen.official');
    expect(official.status).to.equal(403);
    const pos = await enrolTerminal(t, SHOP_B, 'points pos');
    const mine = await t.api().post(REDEEM).set('Authorization', pos).send(redemption(f, { shopId: SHOP_B, points: 0.5 }));
    expect(mine.status, JSON.stringify(mine.body)).to.equal(201);
    expect(mine.body).to.include({ shopId: SHOP_B, balanceAfterMilli: 3750 });
    const notMine = await t.api().post(REDEEM).set('Authorization', pos).send(redemption(f, { shopId: SHOP_A, points: 0.5 }));
    expect(notMine.status).to.equal(403);
  });

  it('two counters redeeming against one balance at once never overspend: one is paid, the other refused', async () => {
    const g = await farmerAt(t, 4);
    await earn(t, g.id, 3000, '2026-03-10');
    const clerk = await t.token('clerk.qingcheng');
    const pos = await enrolTerminal(t, SHOP_A, 'race pos');
    for (let round = 0; round < 3; round++) {
      if (round > 0) await earn(t, g.id, 2000, '2026-03-10');
      const held = -Number((await t.db.knex('points_accounts').where({ county_id: COUNTY, farmer_id: g.id }).first('balance_milli')).balance_milli);
      // Each asks for more than half of what is held: both together would overspend.
      const each = Math.floor(held / 2) + 1;
      const answers = await Promise.all([clerk, pos].map((auth) => t.api().post(REDEEM).set('Authorization', auth).send(redemption(g, { points: each / 1000 }))));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses, JSON.stringify(answers.map((a) => a.body))).to.deep.equal([201, 409]);
      expect(answers.find((a) => a.status === 409)!.body.error.code).to.equal('POINTS_INSUFFICIENT');
      expect(answers.find((a) => a.status === 201)!.body.balanceAfterMilli).to.equal(held - each);
      expect(await pointsLedgerProblems(t)).to.deep.equal([]);
    }
  });

  it('a redemption racing the expiry run: lapsed points expire exactly once, whoever comes first', async () => {
    await setExpireAfterYears(t, 1);
    try {
      for (let round = 0; round < 2; round++) {
        const h = await farmerAt(t, 10 + round);
        await earn(t, h.id, 2000, '2024-07-01'); // lapsed at the end of 2025
        await earn(t, h.id, 1000, '2026-03-01');
        const [run, red] = await Promise.all([
          t.api().post(EXPIRE).set('Authorization', await t.token('qingshen.official')).send({ id: newClientId() }),
          t.api().post(REDEEM).set('Authorization', await t.token('clerk.qingcheng')).send(redemption(h, { points: 1 })),
        ]);
        expect(run.status, JSON.stringify(run.body)).to.equal(201);
        expect(red.status, JSON.stringify(red.body)).to.equal(201);
        expect(red.body.balanceAfterMilli).to.equal(0);
        const expired = await t.db.knex('points_transfers').where({ county_id: COUNTY, farmer_id: h.id, code: 'expired' }).select('amount_milli');
        expect(expired.map((e: { amount_milli: number }) => Number(e.amount_milli))).to.deep.equal([2000]);
        expect(await pointsLedgerProblems(t)).to.deep.equal([]);
      }
    } finally {
      await setExpireAfterYears(t, null);
    }
  });

  it('a redemption whose month was closed is booked in the first open month', async () => {
    t.clock.set('2026-04-02T02:00:00.000Z');
    const official = await freshToken(t, 'qingshen.official');
    const run = await t.api().post(`/api/v1/counties/${COUNTY}/reconciliations`).set('Authorization', official).send({ period: '2026-03' });
    expect(run.status, JSON.stringify(run.body)).to.equal(201);
    const closed = await t.api().post(`/api/v1/counties/${COUNTY}/periods/2026-03/close`).set('Authorization', official).send();
    expect(closed.status, JSON.stringify(closed.body)).to.equal(201);
    const res = await t.api().post(REDEEM).set('Authorization', await freshToken(t, 'clerk.qingcheng')).send(redemption(f, { points: 0.25, eventTime: '2026-03-30T03:00:00.000Z' }));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({ businessDay: '2026-03-30', bookedDay: '2026-04-01', bookedPeriod: '2026-04', lateAdjustment: true });
    const row = await t.db.knex('points_redemptions').where({ county_id: COUNTY, id: res.body.redemptionId }).first('booked_at', 'business_day');
    expect(new Date(row.booked_at).toISOString()).to.equal('2026-03-31T16:00:00.000Z');
    expect(row.business_day).to.equal('2026-03-30');
  });
});

describe('points: a farmer’s points, expiry and the SMS balance', function () {
  this.timeout(120_000);
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });
  let f: PointsFarmer;
  let g: PointsFarmer;
  const get = async (path: string, who = 'qingshen.official') => t.api().get(path).set('Authorization', await freshToken(t, who));
  const expire = async (body: Record<string, unknown>, who = 'qingshen.official') => t.api().post(EXPIRE).set('Authorization', await freshToken(t, who)).send(body);

  before(async () => {
    f = await farmerAt(t, 5);
    g = await farmerAt(t, 6);
    // f: 3 points in 2024, 4 in 2025, 2 in 2026; redeems 1 (taken from 2024's first).
    await earn(t, f.id, 3000, '2024-05-01');
    await earn(t, f.id, 4000, '2025-06-01');
    await earn(t, f.id, 2000, '2026-03-01');
    await earn(t, g.id, 1500, '2024-12-31');
    const res = await t.api().post(REDEEM).set('Authorization', await t.token('clerk.qingcheng')).send(redemption(f, { points: 1 }));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
  });

  it('answers balance, totals, what lapses next and the transfers newest first, paged; officials’ reads are logged, clerks’ not', async () => {
    await setExpireAfterYears(t, null);
    const res = await get(pointsOf(f.id));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.deep.include({ farmerId: f.id, balanceMilli: 8000, earnedMilli: 9000, redeemedMilli: 1000, expiredMilli: 0, expireAfterYears: null, expiringNext: null, nextCursor: null });
    expect(res.body.transfers.map((x: { code: string; deltaMilli: number }) => [x.code, x.deltaMilli])).to.deep.equal([['redeemed', -1000], ['earned', 2000], ['earned', 4000], ['earned', 3000]]);
    await setExpireAfterYears(t, 1);
    // 2024's 3 points, less the one redeemed, are good until the end of 2025: already lapsed (not yet expired).
    expect((await get(pointsOf(f.id))).body.expiringNext).to.deep.equal({ atEndOf: '2025-12-31', milli: 2000 });
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await get(`${pointsOf(f.id)}?limit=3${cursor ? `&cursor=${cursor}` : ''}`, 'clerk.qingcheng');
      expect(page.status, JSON.stringify(page.body)).to.equal(200);
      pages.push(...page.body.transfers.map((x: { transferId: string }) => x.transferId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(pages).to.deep.equal(res.body.transfers.map((x: { transferId: string }) => x.transferId));
    const bad = await get(`${pointsOf(f.id)}?cursor=${newClientId()}`);
    expect(bad.status).to.equal(400);
    expect((await get(pointsOf(newClientId()))).status).to.equal(404);
    const logged = await t.db.knex('access_log').where({ county_id: COUNTY, record_type: 'farmer', record_id: f.id, action: 'GET /api/v1/counties/:countyId/farmers/:farmerId/points' }).select('username');
    expect(logged.map((r: { username: string }) => r.username)).to.include('qingshen.official');
    expect(logged.map((r: { username: string }) => r.username)).to.not.include('clerk.qingcheng');
  });

  it('a redemption cannot use lapsed points: they expire first, oldest first', async () => {
    await setExpireAfterYears(t, 1);
    // f holds 8: 2 of 2024 (lapsed), 4 of 2025, 2 of 2026. Asking for 6.5 is more than the 6 still good.
    const over = await t.api().post(REDEEM).set('Authorization', await freshToken(t, 'clerk.qingcheng')).send(redemption(f, { points: 6.5 }));
    expect(over.status).to.equal(409);
    expect(over.body.error.details[0]).to.include({ balanceMilli: 6000 });
    expect((await get(pointsOf(f.id))).body).to.include({ balanceMilli: 8000, expiredMilli: 0 });
  });

  it('expiry: points of year Y lapse after the end of Y + N, first in first out; a second run expires nothing more', async () => {
    await setExpireAfterYears(t, 1);
    const badYear = await expire({ id: newClientId(), asOfYear: 2027 });
    expect(badYear.status).to.equal(400);
    const clerk = await expire({ id: newClientId() }, 'clerk.qingcheng');
    expect(clerk.status).to.equal(403);
    const id = newClientId();
    const run = await expire({ id });
    expect(run.status, JSON.stringify(run.body)).to.equal(201);
    expect(run.body).to.include({ runId: id, countyId: COUNTY, asOfDay: '2026-03-15', asOfYear: 2026, expireAfterYears: 1, earnedBefore: '2025-01-01', farmers: 2, expiredMilli: 3500 });
    expect((await get(pointsOf(f.id))).body).to.deep.include({ balanceMilli: 6000, expiredMilli: 2000, expiringNext: { atEndOf: '2026-12-31', milli: 4000 } });
    expect((await get(pointsOf(g.id))).body).to.deep.include({ balanceMilli: 0, expiredMilli: 1500, expiringNext: null });
    const before = await pointsBalances(t);
    expect((await expire({ id })).status).to.equal(200);
    const second = await expire({ id: newClientId() });
    expect(second.body).to.include({ farmers: 0, expiredMilli: 0 });
    expect(await pointsBalances(t)).to.deep.equal(before);
    expect(await pointsLedgerProblems(t)).to.deep.equal([]);
  });

  it('the periodic job expires at the turn of the year by the county’s clock, once a day', async () => {
    await setExpireAfterYears(t, 1);
    const job = countyJobs(t.deps.config).find((j) => j.name === 'points-expiry')!;
    // 23:30 UTC on 31 Dec 2026 is 07:30 on 1 Jan 2027 in Qingshen: 2025's points have lapsed there.
    const first = (await job.run(t.db.knex, COUNTY, new Date('2026-12-31T23:30:00.000Z'))) as { expiredMilli: number; asOfDay: string; farmers: number };
    expect(first).to.include({ asOfDay: '2027-01-01', expiredMilli: 4000, farmers: 1 });
    const again = (await job.run(t.db.knex, COUNTY, new Date('2026-12-31T23:40:00.000Z'))) as { expiredMilli: number };
    expect(again.expiredMilli).to.equal(4000); // the same day's run: the stored answer
    const nextDay = (await job.run(t.db.knex, COUNTY, new Date('2027-01-02T02:00:00.000Z'))) as { expiredMilli: number };
    expect(nextDay.expiredMilli).to.equal(0);
    expect((await get(pointsOf(f.id))).body).to.include({ balanceMilli: 2000, expiredMilli: 6000 });
    await setExpireAfterYears(t, null);
    expect(await job.run(t.db.knex, COUNTY, new Date('2029-01-02T02:00:00.000Z'))).to.equal('points never lapse');
    expect(await pointsLedgerProblems(t)).to.deep.equal([]);
  });

  it('the SMS balance reply carries the points when the farmer has some (Chinese; English for English-speaking farmers)', async () => {
    configureSms(t);
    t.clock.set('2026-03-15T02:00:00.000Z');
    await earn(t, g.id, 12500, '2026-03-01');
    let id = newClientId();
    expect((await textIn(t, g.phone, '余额', { id })).status).to.equal(200);
    const reply = async (id: string) => (await replyTo(t, id)).map((r) => r.body).join('');
    expect(await reply(id)).to.contain('积分12.5分。');
    await t.db.knex('farmers').where({ county_id: COUNTY, id: g.id }).update({ language: 'en' });
    id = newClientId();
    await textIn(t, g.phone, 'BAL', { id });
    expect(await reply(id)).to.contain('Points: 12.5.');
    // A farmer without points hears nothing about them.
    const h = await farmerAt(t, 7);
    id = newClientId();
    await textIn(t, h.phone, '余额', { id });
    expect(await reply(id)).to.not.contain('积分');
  });
});
