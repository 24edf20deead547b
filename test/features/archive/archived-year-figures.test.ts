// What answers for an archived year (docs/traceability.md "What answers for an archived year"): a
// generated county-year (2023), every month reconciled and closed, then archived. Reads that would
// sum the live tables over the archived year answer 410 YEAR_ARCHIVED with the year and the restore
// command; reads from stored results (reconciliation runs, recovery aggregates, the per-day books)
// answer exactly what they answered before the archive; after a restore everything answers again.
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { generateData } from '../../../src/features/generator/generate-data.js';
import { archiveYear, restoreYear } from '../../../src/features/archive/archive-service.js';
import { COUNTY } from '../ledger/ledger-fixtures.js';

const RESTORE = `npm run archive:restore -- --county ${COUNTY} --year 2023`;

describe('archive by year: no read presents an archived year\'s partial figures as whole', function () {
  this.timeout(600_000);
  const t = useTestApp({ clock: '2026-11-20T04:00:00.000Z' });
  const get = async (path: string, who = 'qingshen.official') => t.api().get(path).set('Authorization', await t.token(who));
  const post = async (path: string, body: object, who = 'qingshen.official') => t.api().post(path).set('Authorization', await t.token(who)).send(body);
  const ASOF = '2026-11-20T03:00:00.000Z';
  const reads = {
    rates: `/api/v1/counties/${COUNTY}/recovery-rates?from=2023-01&to=2023-12&by=shop`,
    ratesNow: `/api/v1/counties/${COUNTY}/recovery-rates?from=2026-01&to=2026-11`,
    dashboard: `/api/v1/counties/${COUNTY}/dashboard?from=2023-01&to=2023-12`,
    countyReport: `/api/v1/counties/${COUNTY}/reports/monthly?month=2023-06&format=json`,
    provinceReport: '/api/v1/provinces/510000/reports/monthly?month=2023-06&format=json',
  };
  const base: Record<string, unknown> = {};
  let storedRun: { id: string; fingerprint: string };
  let laterRun: { fingerprint: string };
  let farmer: { id: string; balance: unknown };

  const expect410 = (res: { status: number; body: any }) => {
    expect(res.status, JSON.stringify(res.body)).to.equal(410);
    expect(res.body.error.code).to.equal('YEAR_ARCHIVED');
    expect(res.body.error.details[0]).to.include({ year: 2023, restore: RESTORE });
  };
  const fingerprintOf = async (period: string) => {
    const r = await post(`/api/v1/counties/${COUNTY}/reconciliations`, { period, asOf: ASOF });
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    return r.body as { id: string; fingerprint: string };
  };
  const snapshot = async () => {
    const out: Record<string, unknown> = {};
    for (const [k, p] of Object.entries(reads)) {
      const r = await get(p, k === 'provinceReport' ? 'admin' : 'qingshen.official');
      expect(r.status, `${k}: ${JSON.stringify(r.body).slice(0, 300)}`).to.equal(200);
      out[k] = r.body;
    }
    return out;
  };

  before(async () => {
    const g = await generateData(t.db.knex, { counties: 1, year: 2023, containersPerCounty: 200, codedShare: 0.6, seed: 11 });
    expect(g.sales).to.be.greaterThan(20);
    for (let m = 1; m <= 12; m++) {
      const period = `2023-${String(m).padStart(2, '0')}`;
      const run = await post(`/api/v1/counties/${COUNTY}/reconciliations`, { period });
      expect(run.status, JSON.stringify(run.body)).to.equal(201);
      if (m === 3) storedRun = run.body;
      const close = await post(`/api/v1/counties/${COUNTY}/periods/${period}/close`, {});
      expect(close.status, JSON.stringify(close.body)).to.equal(201);
    }
    laterRun = await fingerprintOf('2026-10');
    Object.assign(base, await snapshot());
    const f = (await t.db.knex.raw(`SELECT farmer_id FROM sales WHERE county_id = ? AND farmer_id IS NOT NULL AND business_day < '2024-01-01' ORDER BY id LIMIT 1`, [COUNTY])).rows[0].farmer_id as string;
    const bal = await get(`/api/v1/counties/${COUNTY}/farmers/${f}/balance`);
    expect(bal.status).to.equal(200);
    farmer = { id: f, balance: bal.body };
    const r = await archiveYear(t.db.knex, { countyId: COUNTY, year: 2023, actor: 'test', now: t.clock.now() });
    expect(r.tables.sales!.rows).to.be.greaterThan(0);
  });

  it('a reconciliation of a month or of the archived year itself is refused 410, nothing stored', async () => {
    const n0 = (await t.db.knex('reconciliation_runs').where({ county_id: COUNTY }).count<{ n: string }[]>('* as n'))[0]!.n;
    for (const period of ['2023-03', '2023']) expect410(await post(`/api/v1/counties/${COUNTY}/reconciliations`, { period }));
    const n1 = (await t.db.knex('reconciliation_runs').where({ county_id: COUNTY }).count<{ n: string }[]>('* as n'))[0]!.n;
    expect(n1).to.equal(n0);
  });

  it('a run stored before the archive stays readable, unchanged', async () => {
    const r = await get(`/api/v1/counties/${COUNTY}/reconciliations/${storedRun.id}`);
    expect(r.status).to.equal(200);
    expect(r.body.fingerprint).to.equal(storedRun.fingerprint);
  });

  it('a later period reconciles from the per-day books, which still hold the archived year: the same figures as before', async () => {
    expect((await fingerprintOf('2026-10')).fingerprint).to.equal(laterRun.fingerprint);
  });

  it('recovery rates, the dashboard and the monthly reports of the archived year answer from the stored aggregates, as before — also after a full rebuild', async () => {
    expect(await snapshot()).to.deep.equal(base);
    // A refresh that distrusts its watermark rebuilds every month: not the archived year's.
    await t.db.knex('recovery_aggregation_state').where({ county_id: COUNTY }).update({ watermark: new Date('2099-01-01T00:00:00Z') });
    const refresh = await post(`/api/v1/counties/${COUNTY}/recovery-rates/refresh`, {});
    expect(refresh.status, JSON.stringify(refresh.body)).to.be.oneOf([200, 201]);
    expect(await snapshot()).to.deep.equal(base);
  });

  it('the farmer\'s balance does not depend on the archived year (only open deposits and this year\'s refunds)', async () => {
    const bal = await get(`/api/v1/counties/${COUNTY}/farmers/${farmer.id}/balance`);
    expect(bal.status).to.equal(200);
    expect(bal.body).to.deep.equal(farmer.balance);
  });

  it('the settlement statement of an archived month is refused 410', async () => {
    expect410(await get(`/api/v1/counties/${COUNTY}/settlements/statements/2023-03`));
    const now = await get(`/api/v1/counties/${COUNTY}/settlements/statements/2026-10`);
    expect(now.status, JSON.stringify(now.body)).to.equal(200);
  });

  it('books built afresh after the archive lack the year: a later period is refused 410 rather than answered short', async () => {
    await t.db.knex('reconciliation_book_state').where({ county_id: COUNTY }).delete();
    expect410(await post(`/api/v1/counties/${COUNTY}/reconciliations`, { period: '2026-10', asOf: ASOF }));
  });

  it('restored, every read answers again with the figures of before the archive', async () => {
    t.clock.advance(60_000); // the restore run is the year's latest
    await restoreYear(t.db.knex, { countyId: COUNTY, year: 2023, actor: 'test', now: t.clock.now() });
    t.clock.advance(-60_000); // the reports' generatedAt as before
    expect((await fingerprintOf('2026-10')).fingerprint).to.equal(laterRun.fingerprint);
    const again = await post(`/api/v1/counties/${COUNTY}/reconciliations`, { period: '2023-03' });
    expect(again.status, JSON.stringify(again.body)).to.equal(201);
    expect(again.body.figures).to.deep.equal((await get(`/api/v1/counties/${COUNTY}/reconciliations/${storedRun.id}`)).body.figures);
    expect(await snapshot()).to.deep.equal(base);
  });
});
