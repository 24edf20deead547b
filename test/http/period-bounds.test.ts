// Period, month, year and day inputs at and past their bounds (years 0000, 1899, 3000, 9999; month 00
// and 13; 2026-02-30; ISO week 2026-W54; asOf far in the future) answer a clear 4xx with a stable code,
// never a RangeError (500) or a request that does not end. Before: closing period 9999-12 answered
// 500 (its end, 10000-01, is no date), the shop page of the dashboard for 9999-12 never answered (the
// trend's months compared as text: '10000-01' < '9999-12'), a monthly report for 0000-12 answered 200
// with a trend of negative years, ledgers for 9999 200.
import { expect } from 'chai';
import { useTestApp } from '../support/harness.js';
import { COUNTY, SHOP_A } from '../features/ledger/ledger-fixtures.js';

const C = `/api/v1/counties/${COUNTY}`;

describe('period bounds: every period, month, year and day input answers a clear 4xx', function () {
  this.timeout(300_000);
  const t = useTestApp({ clock: '2026-11-20T04:00:00.000Z' });
  const get = async (path: string, who = 'qingshen.official') => t.api().get(path).set('Authorization', await t.token(who)).timeout(30_000);
  const post = async (path: string, body: object) => t.api().post(path).set('Authorization', await t.token('qingshen.official')).send(body).timeout(30_000);
  const refused = (r: { status: number; body: any }, status: number, code: string, what: string) => {
    expect(r.status, `${what}: ${JSON.stringify(r.body).slice(0, 300)}`).to.equal(status);
    expect(r.body.error.code, what).to.equal(code);
  };

  it('reconciliation period: years outside 1900–2999, month 00/13 → 422 RECONCILIATION_PERIOD_INVALID; asOf in the far future → 422 RECONCILIATION_AS_OF_IN_FUTURE', async () => {
    for (const period of ['9999', '9999-12', '0000', '0000-01', '1899-12', '3000', '3000-01', '2026-00', '2026-13']) {
      refused(await post(`${C}/reconciliations`, { period }), 422, 'RECONCILIATION_PERIOD_INVALID', period);
    }
    refused(await post(`${C}/reconciliations`, { period: '2026-03', asOf: '9999-12-31T23:59:59.999Z' }), 422, 'RECONCILIATION_AS_OF_IN_FUTURE', 'asOf 9999');
    const edge = await post(`${C}/reconciliations`, { period: '1900-01' });
    expect(edge.status, JSON.stringify(edge.body).slice(0, 300)).to.equal(201);
  });

  it('closing a period: outside 1900–2999 or month 00/13 → 422 INVALID_PERIOD (9999-12 was a 500); the list\'s cursor → 400 VALIDATION_FAILED', async () => {
    for (const m of ['9999-12', '0000-01', '1899-12', '3000-01', '2026-00', '2026-13']) {
      refused(await post(`${C}/periods/${m}/close`, {}), 422, 'INVALID_PERIOD', `close ${m}`);
      refused(await get(`${C}/periods?cursor=${m}`), 400, 'VALIDATION_FAILED', `cursor ${m}`);
    }
    refused(await post(`${C}/periods/2999-12/close`, {}), 422, 'PERIOD_NOT_ENDED', 'close 2999-12');
  });

  it('monthly reports, county and province: month outside 1900–2999 or 00/13 → 400 VALIDATION_FAILED naming the month (0000-12 was a 200 with negative years)', async () => {
    for (const m of ['9999-12', '0000-12', '1899-12', '3000-01', '2026-00', '2026-13']) {
      const county = await get(`${C}/reports/monthly?month=${m}&format=json`);
      refused(county, 400, 'VALIDATION_FAILED', `county ${m}`);
      expect(county.body.error.details[0].field).to.equal('/query/month');
      refused(await get(`/api/v1/provinces/510000/reports/monthly?month=${m}&format=json`, 'admin'), 400, 'VALIDATION_FAILED', `province ${m}`);
    }
    refused(await get(`${C}/reports/monthly?month=2999-12&format=json`), 422, 'REPORT_MONTH_IN_FUTURE', '2999-12');
  });

  it('statutory ledgers: period and from/to outside 1900–2999, 2026-02-30 → 400 VALIDATION_FAILED naming the field', async () => {
    for (const y of ['0000', '1899', '3000', '9999']) {
      const p = await get(`${C}/statutory-ledgers/sales.csv?period=${y}-12`);
      refused(p, 400, 'VALIDATION_FAILED', `period ${y}`);
      const r = await get(`${C}/statutory-ledgers/sales.csv?from=${y}-01-01&to=${y}-12-31`);
      refused(r, 400, 'VALIDATION_FAILED', `from/to ${y}`);
      expect(r.body.error.details.map((d: { field: string }) => d.field)).to.include('/query/from');
    }
    refused(await get(`${C}/statutory-ledgers/sales.csv?from=2026-02-30&to=2026-03-01`), 400, 'VALIDATION_FAILED', '2026-02-30');
  });

  it('settlement statements: outside 1900–2999, week 54, 2026-02-30 → 422 INVALID_PERIOD; asOf far in the future is a cut-off, not an error', async () => {
    for (const p of ['9999-12', '0000-01', '1899-12', '3000-01', '2026-00', '2026-13', '2026-W54', '2026-02-30']) {
      refused(await get(`${C}/settlements/statements/${p}`), 422, 'INVALID_PERIOD', p);
    }
    const far = await get(`${C}/settlements/statements/2026-03?asOf=9999-12-31T23:59:59.999Z`);
    expect(far.status, JSON.stringify(far.body).slice(0, 300)).to.equal(200);
  });

  it('recovery rates and every dashboard view with a month range: 2999-12 answers (the trend\'s months compare as numbers), years outside 1900–2999 → 400 VALIDATION_FAILED naming the month (9999-12 was a 500 on the incentives view), to before from → 422 INVALID_MONTH_RANGE', async () => {
    const views = [`${C}/recovery-rates`, `${C}/dashboard`, `${C}/dashboard/shops`, `${C}/dashboard/shops/${SHOP_A}`, `${C}/dashboard/incentives`, '/api/v1/provinces/510000/dashboard'];
    const shop = await get(`${C}/dashboard/shops/${SHOP_A}?from=2999-12&to=2999-12`);
    expect(shop.status, JSON.stringify(shop.body).slice(0, 300)).to.equal(200);
    expect(shop.body.trend.map((p: { month: string }) => p.month)).to.deep.equal(['2999-12']);
    for (const v of views) {
      const g = (q: string) => get(`${v}?${q}`, v.startsWith('/api/v1/provinces/') ? 'admin' : 'qingshen.official');
      const last = await g('from=2999-11&to=2999-12');
      expect(last.status, `${v} 2999-12: ${JSON.stringify(last.body).slice(0, 300)}`).to.equal(200);
      for (const [from, to, field] of [['2026-01', '9999-12', 'to'], ['9999-12', '9999-12', 'from'], ['0000-01', '2026-01', 'from'], ['1899-12', '2026-01', 'from'], ['2026-01', '3000-01', 'to']] as const) {
        const r = await g(`from=${from}&to=${to}`);
        refused(r, 400, 'VALIDATION_FAILED', `${v} ${from}..${to}`);
        expect(r.body.error.details.map((d: { field: string }) => d.field), `${v} ${from}..${to}`).to.include(`/query/${field}`);
      }
      refused(await g('from=2026-09&to=2026-01'), 422, 'INVALID_MONTH_RANGE', `${v}: to before from`);
    }
  });
});
