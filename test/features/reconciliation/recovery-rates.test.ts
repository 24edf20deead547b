// The three recovery rates (DESIGN rule 10), worked out by hand on a small history:
//   2025-06-10  shop B sells 4 × 1 L glyphosate without unit codes (farmer F2)
//   2026-01-10  shop A sells u1–u4 (4 × 1 L, tare 55 g)
//   2026-01-20  u1 returned at A (10 days after sale)
//   2026-02-05  shop A sells 2 × 5 L (tare 210 g); never returned
//   2026-03-01  u2 returned at B (50 days, cross-shop)
//   2026-03-10  F2 returns the 4 old containers at B
//   2026-03-14  u3 returned at A (63 days)
// January–March 2026: sold 6, returned 7 → period 116.7 % (returns of 2025 sales count);
// mass 7 × 55 = 385 g of 4 × 55 + 2 × 210 = 640 g → 60.2 %; cohort (30 days, as of 15 March):
// only January is complete, 1 of 4 → 25.0 %. After u3's return is reversed: as of 1 July (90 days),
// 2 of 6 → 33.3 %.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { refreshRecoveryAggregates } from '../../../src/features/recovery-rates/aggregation-job.js';
import { addLateRecordExceptions } from '../../support/extra-exceptions.js';
import { lastCompleteCohortMonth } from '../../../src/features/recovery-rates/recovery-rates.js';
import { COUNTY, GLYPHOSATE, GLYPHOSATE_5L, SHOP_A, SHOP_B, freshToken, returnBody, saleBody, unitCode } from '../ledger/ledger-fixtures.js';

describe('recovery rates and the dashboard API', () => {
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });
  const u = [unitCode(GLYPHOSATE), unitCode(GLYPHOSATE), unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)];
  const F2 = '17460000777';
  const get = async (path: string, who = 'qingshen.official') => t.api().get(path).set('Authorization', await freshToken(t, who));
  const Q = 'from=2026-01&to=2026-03';

  before(async () => {
    const post = async (path: 'sales' | 'returns', who: string, body: Record<string, any>) => {
      // Each record reaches the server an hour after it happened (event times older than the
      // county's maximum offline age are refused).
      t.clock.set(new Date(Date.parse(body.eventTime) + 3_600_000).toISOString());
      const r = await t.api().post(`/api/v1/counties/${COUNTY}/${path}`).set('Authorization', await freshToken(t, who)).send(body);
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
    };
    const B = { shopId: SHOP_B }; // an admin names the shop; the county is the path's
    await post('sales', 'admin', saleBody({ ...B, eventTime: '2025-06-10T02:00:00.000Z', purchaser: { phone: F2, name: '李四' }, lines: [{ productId: GLYPHOSATE.id, quantity: 4 }] }));
    await post('sales', 'clerk.qingcheng', saleBody({ eventTime: '2026-01-10T02:00:00.000Z', lines: [{ productId: GLYPHOSATE.id, quantity: 4, unitCodes: u }] }));
    await post('returns', 'clerk.qingcheng', returnBody({ eventTime: '2026-01-20T02:00:00.000Z', items: [{ scan: u[0], inspection: 'accepted' }] }));
    await post('sales', 'clerk.qingcheng', saleBody({ eventTime: '2026-02-05T02:00:00.000Z', lines: [{ productId: GLYPHOSATE_5L.id, quantity: 2 }] }));
    await post('returns', 'admin', returnBody({ ...B, eventTime: '2026-03-01T02:00:00.000Z', items: [{ scan: u[1], inspection: 'accepted' }] }));
    await post('returns', 'admin', returnBody({ ...B, eventTime: '2026-03-10T02:00:00.000Z', returner: { phone: F2 }, items: [{ productId: GLYPHOSATE.id, quantity: 4, inspection: 'accepted' }] }));
    await post('returns', 'clerk.qingcheng', returnBody({ eventTime: '2026-03-14T02:00:00.000Z', items: [{ scan: u[2], inspection: 'accepted' }] }));
    t.clock.set('2026-03-15T02:00:00.000Z');
    t.clock.advance(120_000); // past the aggregation job's one-minute settling time
  });

  it('knows when a cohort month is complete', () => {
    expect(lastCompleteCohortMonth('2026-03-15', 30)).to.equal('2026-01');
    expect(lastCompleteCohortMonth('2026-03-31', 30)).to.equal('2026-02'); // 1 March + 30 days = 31 March
    expect(lastCompleteCohortMonth('2026-07-01', 90)).to.equal('2026-03');
  });

  it('gives the three labelled rates for the county, by shop and by product', async () => {
    const county = await get(`/api/v1/counties/${COUNTY}/recovery-rates?${Q}&days=30`);
    expect(county.status, JSON.stringify(county.body)).to.equal(200);
    expect(county.body.definitions.map((d: { key: string }) => d.key)).to.deep.equal(['cohort', 'period', 'mass']);
    expect(county.body.definitions[0].label_zh).to.equal('批次回收率（30天）');
    expect(county.body.definitions[1].definition_en).to.match(/can exceed 100%/);
    expect(county.body.rows[0]).to.include({
      soldUnits: 6, returnedUnits: 7, periodRatePct: 116.7, soldKg: 0.64, returnedKg: 0.385, massRatePct: 60.2,
      cohortSoldUnits: 4, cohortReturnedUnits: 1, cohortRatePct: 25,
    });
    const shops = (await get(`/api/v1/counties/${COUNTY}/recovery-rates?${Q}&days=30&by=shop`)).body.rows;
    const a = shops.find((r: { key: string }) => r.key === SHOP_A);
    const b = shops.find((r: { key: string }) => r.key === SHOP_B);
    expect(a).to.include({ soldUnits: 6, returnedUnits: 2, periodRatePct: 33.3, cohortSoldUnits: 4, cohortReturnedUnits: 1, cohortRatePct: 25 });
    expect(b).to.include({ soldUnits: 0, returnedUnits: 5, periodRatePct: null });
    const products = (await get(`/api/v1/counties/${COUNTY}/recovery-rates?${Q}&days=30&by=product`)).body.rows;
    expect(products.find((r: { key: string }) => r.key === GLYPHOSATE.id)).to.include({ soldUnits: 4, returnedUnits: 7, periodRatePct: 175 });
    expect(products.find((r: { key: string }) => r.key === GLYPHOSATE_5L.id)).to.include({ soldUnits: 2, returnedUnits: 0, periodRatePct: 0 });
    const manufacturers = (await get(`/api/v1/counties/${COUNTY}/recovery-rates?${Q}&days=30&by=manufacturer`)).body.rows;
    expect(manufacturers.reduce((n: number, r: { soldUnits: number }) => n + r.soldUnits, 0)).to.equal(6);
    const townships = (await get(`/api/v1/counties/${COUNTY}/recovery-rates?${Q}&days=30&by=township`)).body.rows;
    expect(townships).to.have.length(1); // both shops are in 青城镇
    expect(townships[0]).to.include({ name: '青城镇', soldUnits: 6, returnedUnits: 7 });
  });

  it('rebuilds only what changed, and a second run changes nothing', async () => {
    const again = await refreshRecoveryAggregates(t.db.knex, COUNTY, t.clock.now(), 0);
    expect(again.monthsRebuilt).to.deep.equal([]);
    const before = await t.db.knex('recovery_monthly').where({ county_id: COUNTY }).orderBy(['month', 'shop_id', 'product_id']);
    t.clock.advance(1000); // the test clock stands still; real rows recorded after a run carry a later time
    // A reversal of u3's return (same business day rules aside, an official may reverse it).
    const ret = await t.db.knex('returns').where({ county_id: COUNTY }).orderBy('event_time', 'desc').first('id');
    const rev = await t.api().post(`/api/v1/counties/${COUNTY}/reversals`).set('Authorization', await freshToken(t, 'qingshen.official'))
      .send({ id: '0190a000-0000-7000-8000-00000000a001', targetType: 'return', targetId: ret.id, reason: '测试冲正' });
    expect(rev.status, JSON.stringify(rev.body)).to.equal(201);
    t.clock.advance(1000);
    const after = await refreshRecoveryAggregates(t.db.knex, COUNTY, t.clock.now(), 0);
    expect(after.monthsRebuilt).to.deep.equal(['2026-01', '2026-03']); // u3's sale month (cohort) and return month
    const r = (await get(`/api/v1/counties/${COUNTY}/recovery-rates?${Q}&days=30`)).body.rows[0];
    expect(r).to.include({ returnedUnits: 6 });
    expect((await refreshRecoveryAggregates(t.db.knex, COUNTY, t.clock.now(), 0)).monthsRebuilt).to.deep.equal([]);
    expect(before.length).to.be.greaterThan(0);
  });

  it('counts activity at once: a refresh right after a sale shows it, and a watermark in the future is not trusted', async () => {
    const official = await freshToken(t, 'qingshen.official');
    const rates = async () => (await get(`/api/v1/counties/${COUNTY}/recovery-rates?from=2026-03&to=2026-03&days=30`)).body.rows[0];
    const before = await rates();
    t.clock.advance(1000); // real rows recorded after the last run carry a later time
    // A sale recorded now (the test clock does not move): within the job's settling minute.
    const saleIds: string[] = [];
    const sale = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await freshToken(t, 'clerk.qingcheng'))
      .send(saleBody({ eventTime: t.clock.now().toISOString(), lines: [{ productId: GLYPHOSATE_5L.id, quantity: 1 }] }));
    expect(sale.status, JSON.stringify(sale.body)).to.equal(201);
    saleIds.push(sale.body.saleId);
    const refreshed = await t.api().post(`/api/v1/counties/${COUNTY}/recovery-rates/refresh`).set('Authorization', official);
    expect(refreshed.status, JSON.stringify(refreshed.body)).to.equal(200);
    expect(refreshed.body.monthsRebuilt).to.deep.equal(['2026-03']);
    expect((await rates()).soldUnits).to.equal(before.soldUnits + 1);
    t.clock.advance(1000);
    // A read needs no refresh call: the dashboard notices rows recorded since the last refresh.
    const second = await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', await freshToken(t, 'clerk.qingcheng'))
      .send(saleBody({ eventTime: t.clock.now().toISOString(), lines: [{ productId: GLYPHOSATE_5L.id, quantity: 1 }] }));
    expect(second.status).to.equal(201);
    saleIds.push(second.body.saleId);
    expect((await get(`/api/v1/counties/${COUNTY}/dashboard?from=2026-03&to=2026-03&days=30`)).body.tiles.soldUnits).to.equal(before.soldUnits + 2);
    // A generator run with a future clock once left the watermark in 2027: the next refresh rebuilds everything instead of nothing.
    await t.db.knex('recovery_aggregation_state').where({ county_id: COUNTY }).update({ watermark: new Date('2027-01-01T00:00:00Z'), refreshed_at: new Date('2027-01-01T00:00:00Z') });
    await t.db.knex('recovery_county_monthly').where({ county_id: COUNTY, month: '2026-03' }).update({ sold_units: 0 });
    expect((await get(`/api/v1/counties/${COUNTY}/dashboard?from=2026-03&to=2026-03&days=30`)).body.tiles.soldUnits).to.equal(before.soldUnits + 2);
    // Leave the history as the later tests expect it: both sales reversed.
    expect(saleIds.every(Boolean), JSON.stringify(sale.body)).to.equal(true);
    for (const [i, id] of saleIds.entries()) {
      const rev = await t.api().post(`/api/v1/counties/${COUNTY}/reversals`).set('Authorization', official)
        .send({ id: `0190a000-0000-7000-8000-00000000b00${i}`, targetType: 'sale', targetId: id, reason: '测试冲正' });
      expect(rev.status, JSON.stringify(rev.body)).to.equal(201);
    }
    t.clock.advance(1);
    expect((await rates()).soldUnits).to.equal(before.soldUnits);
  });

  it('serves the county dashboard, the shop table with flags, and a shop with returners masked', async () => {
    const d = await get(`/api/v1/counties/${COUNTY}/dashboard?${Q}&days=30`);
    expect(d.status, JSON.stringify(d.body)).to.equal(200);
    expect(d.body.tiles).to.include({ periodRatePct: 100, soldUnits: 6, returnedUnits: 6 });
    expect(d.body.tiles.depositsOutstandingFen).to.be.a('number');
    expect(d.body.trend.map((p: { month: string }) => p.month)).to.deep.equal(['2026-01', '2026-02', '2026-03']);
    // One period, every stage in containers, kg and bags: 6 sold (640 g) and 6 back in January–March
    // (7 less the return reversed by the test above, 6 × 55 g); nothing hauled or disposed yet.
    expect(d.body.funnel).to.deep.equal({
      scope: 'period', from: '2026-01', to: '2026-03', stages: [
        { key: 'sold', containers: 6, kg: 0.64, bags: null, exceedsPrevious: false },
        { key: 'returned', containers: 6, kg: 0.33, bags: null, exceedsPrevious: false },
        { key: 'hauled', containers: 0, kg: 0, bags: 0, exceedsPrevious: false },
        { key: 'disposed', containers: 0, kg: 0, bags: 0, exceedsPrevious: false },
      ],
    });
    expect(d.body.county).to.include({ timeZone: 'Asia/Shanghai', prefectureZh: '眉山市' });
    expect(d.body.reconciliation).to.deep.equal({ period: '2026-03', run: null });
    const shops = (await get(`/api/v1/counties/${COUNTY}/dashboard/shops?${Q}&days=30`)).body.shops;
    expect(shops.find((s: { key: string }) => s.key === SHOP_B).flags).to.include('returns_above_sales');
    const csv = await get(`/api/v1/counties/${COUNTY}/dashboard/shops?${Q}&format=csv`);
    expect(csv.headers['content-type']).to.match(/text\/csv/);
    expect(csv.text).to.contain('returns_above_sales');
    const shop = (await get(`/api/v1/counties/${COUNTY}/dashboard/shops/${SHOP_B}?${Q}`)).body;
    const returners = shop.recentReturns.map((r: { returner: string | null }) => r.returner).filter(Boolean);
    expect(returners).to.include('+86 174****0777');
    expect(JSON.stringify(shop)).to.not.contain(F2).and.not.contain('李四');
  });

  it('scopes: another county is refused, the province compares counties, bad ranges are refused', async () => {
    expect((await get(`/api/v1/counties/${COUNTY}/dashboard`, 'jiange.official')).body.error.code).to.equal('OUT_OF_SCOPE');
    expect((await get(`/api/v1/counties/${COUNTY}/dashboard/shops/${SHOP_A}`, 'jiange.official')).status).to.equal(403);
    expect((await get(`/api/v1/provinces/510000/dashboard`, 'qingshen.official')).body.error.code).to.equal('OUT_OF_SCOPE');
    expect((await get(`/api/v1/counties/${COUNTY}/dashboard`, 'clerk.qingcheng')).body.error.code).to.equal('FORBIDDEN');
    const p = await get(`/api/v1/provinces/510000/dashboard?${Q}&days=30`, 'sichuan.official');
    expect(p.status, JSON.stringify(p.body)).to.equal(200);
    expect(p.body.counties.find((c: { countyId: string }) => c.countyId === COUNTY)).to.include({ soldUnits: 6 });
    expect((await get(`/api/v1/counties/${COUNTY}/dashboard`, 'sichuan.official')).status).to.equal(200);
    expect((await get(`/api/v1/counties/${COUNTY}/recovery-rates?from=2026-04&to=2026-01`)).body.error.code).to.equal('INVALID_MONTH_RANGE');
    expect((await get(`/api/v1/counties/${COUNTY}/recovery-rates?from=2026-13`)).body.error.code).to.equal('VALIDATION_FAILED');
    expect((await get(`/api/v1/counties/${COUNTY}/recovery-rates?by=farmer`)).body.error.code).to.equal('VALIDATION_FAILED');
  });
  it('shows the reconciliation of the period chosen, out of date once records of it arrive, its exceptions paged and grouped', async () => {
    const official = await freshToken(t, 'qingshen.official');
    const ran = await t.api().post(`/api/v1/counties/${COUNTY}/reconciliations`).set('Authorization', official).send({ period: '2026-03' });
    expect(ran.status, JSON.stringify(ran.body)).to.equal(201);
    await t.api().post(`/api/v1/counties/${COUNTY}/reconciliations`).set('Authorization', official).send({ period: '2026-01' });
    const march = (await get(`/api/v1/counties/${COUNTY}/dashboard?${Q}`)).body.reconciliation;
    expect(march.period).to.equal('2026-03');
    expect(march.run).to.include({ id: ran.body.id, period: '2026-03', exceptionCount: ran.body.exceptions.length, recordsSince: false });
    const jan = (await get(`/api/v1/counties/${COUNTY}/dashboard?from=2026-01&to=2026-01`)).body.reconciliation;
    expect(jan.run.period).to.equal('2026-01');
    expect((await get(`/api/v1/counties/${COUNTY}/dashboard?from=2026-02&to=2026-02`)).body.reconciliation).to.deep.equal({ period: '2026-02', run: null });

    expect(ran.body.exceptions.length).to.be.at.least(1);
    await addLateRecordExceptions(t.db.knex, COUNTY, ran.body.id, [{ id: SHOP_A, name: '青城镇丰收农资店' }, { id: SHOP_B, name: 'B' }], 4);
    const total = ran.body.exceptions.length + 4;
    const path = `/api/v1/counties/${COUNTY}/dashboard/reconciliations/${ran.body.id}/exceptions`;
    const p1 = (await get(`${path}?limit=1`)).body;
    const p2 = (await get(`${path}?limit=1&offset=1`)).body;
    expect(p1).to.include({ total, offset: 0, limit: 1 });
    expect(p1.items).to.have.length(1);
    expect(p2.items[0].no).to.not.equal(p1.items[0].no);
    const byKind = (await get(`${path}?groupBy=kind`)).body;
    expect(byKind.groups.reduce((n: number, g: { count: number }) => n + g.count, 0)).to.equal(total);
    const kinds = byKind.items.map((e: { kind: string }) => e.kind);
    expect(kinds).to.deep.equal([...kinds].sort());
    const above = byKind.items.find((e: { kind: string }) => e.kind === 'returns_above_sales');
    expect(above).to.include({ reasonEn: 'More returned than sold with deposit', reasonZh: '回收多于收押销售', shopId: SHOP_B });
    expect(above.messageEn).to.match(/containers refunded against/);
    expect(byKind.groups.find((g: { key: string }) => g.key === 'late_record').count).to.equal(4);
    const byShop = (await get(`${path}?groupBy=shop`)).body;
    expect(byShop.groups.map((g: { key: string | null }) => g.key)).to.include(SHOP_B);
    expect((await get(`/api/v1/counties/${COUNTY}/dashboard/reconciliations/${ran.body.id}/exceptions`, 'jiange.official')).status).to.equal(403);

    // A March record reaching the server after the run: the run is out of date.
    t.clock.advance(1000);
    const late = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', await freshToken(t, 'clerk.qingcheng'))
      .send(returnBody({ eventTime: t.clock.now().toISOString(), items: [{ productId: GLYPHOSATE_5L.id, quantity: 1, inspection: 'accepted' }] }));
    expect(late.status, JSON.stringify(late.body)).to.equal(201);
    expect((await get(`/api/v1/counties/${COUNTY}/dashboard?${Q}`)).body.reconciliation.run.recordsSince).to.equal(true);
  });

  it('lists a shop\'s returns of the chosen months only, none after the county\'s today, with the county\'s time zone', async () => {
    const jan = (await get(`/api/v1/counties/${COUNTY}/dashboard/shops/${SHOP_A}?from=2026-01&to=2026-01`)).body;
    expect(jan.timeZone).to.equal('Asia/Shanghai');
    expect(jan.returnsWindow).to.deep.equal({ fromDay: '2026-01-01', toDay: '2026-01-31' });
    expect(jan.recentReturns.map((r: { eventTime: string }) => r.eventTime)).to.deep.equal(['2026-01-20T02:00:00.000Z']);
    const toDec = (await get(`/api/v1/counties/${COUNTY}/dashboard/shops/${SHOP_A}?from=2026-01&to=2026-12`)).body;
    expect(toDec.returnsWindow.toDay).to.equal('2026-03-15'); // the county's today, not December
    for (const r of toDec.recentReturns) expect(r.eventTime <= t.clock.now().toISOString()).to.equal(true);
  });

  it('completes the 90-day cohort once 90 days have passed (runs last: the clock moves forward)', async () => {
    t.clock.set('2026-07-01T02:00:00.000Z');
    const r = (await get(`/api/v1/counties/${COUNTY}/recovery-rates?${Q}&days=90`)).body.rows[0];
    // u3's return was reversed above: u1 (10 days) and u2 (50 days) of 6.
    expect(r).to.include({ cohortSoldUnits: 6, cohortReturnedUnits: 2, cohortRatePct: 33.3 });
  });

});
