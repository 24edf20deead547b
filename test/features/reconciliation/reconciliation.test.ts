// Reconciliation of the demo county for March 2026 against figures worked out by hand:
//   2025-03-01  sale S0, shop A, 1 unit  (100 fen)  — expires on 2026-03-15 (365 days)
//   2026-03-10  sale S1, shop A, 2 units (2 × 100) — c1, c2
//   2026-03-12  sale S2, shop B, 1 × 5 L (200)      — c3
//   2026-03-15  c1 returned at shop B (cross-shop refund 100), c2 returned at shop A (100)
//   2026-03-15  expiry run: S0's unit moves to the unredeemed fund (100)
//   2026-03-20  c1 bagged at shop B, hauled, received with a count discrepancy (custody)
//   2026-03-30  sale S3, shop A, 1 unit (100) on an offline till, reaching the server on 2026-04-02
import { expect } from 'chai';
import { useTestApp } from '../../support/harness.js';
import { newId } from '../../../src/shared/client-id.js';
import { postTransfers } from '../../../src/features/ledger/ledger-store.js';
import { countyAccount, shopAccount } from '../../../src/features/ledger/accounts.js';
import { demoId } from '../../../seeds/demo-county.js';
import { runScheduledReconciliations } from '../../../src/features/reconciliation/reconciliation-service.js';
import { COUNTY, countyScoped, GLYPHOSATE, GLYPHOSATE_5L, SHOP_A, SHOP_B, expectLedgerClean, freshToken, returnBody, saleBody, unitCode } from '../ledger/ledger-fixtures.js';

describe('county reconciliation (money, units, custody)', () => {
  const t = useTestApp({ clock: '2026-03-15T02:00:00.000Z' });
  const codes = { c0: unitCode(GLYPHOSATE), c1: unitCode(GLYPHOSATE), c2: unitCode(GLYPHOSATE), c3: unitCode(GLYPHOSATE_5L), c4: unitCode(GLYPHOSATE) };
  const s3 = newId();
  let firstRun: any;

  // The county paths (the deprecated top-level aliases have their own test: ledger/county-paths.test.ts).
  const post = async (path: string, who: string, body: unknown) => { const c = countyScoped(path, body); return t.api().post(c.path).set('Authorization', await freshToken(t, who)).send(c.body as object); };
  const reconcile = async (body: Record<string, unknown>, who = 'qingshen.official') => post(`/api/v1/counties/${COUNTY}/reconciliations`, who, body);

  before(async () => {
    const ok = (r: { status: number; body: unknown }) => expect(r.status, JSON.stringify(r.body)).to.be.oneOf([200, 201]);
    // S0 reached the server when it was made (event times older than the county's maximum offline age are refused).
    t.clock.set('2025-03-01T02:05:00.000Z');
    ok(await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ eventTime: '2025-03-01T02:00:00.000Z', lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [codes.c0] }] })));
    t.clock.set('2026-03-15T02:00:00.000Z');
    ok(await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ eventTime: '2026-03-10T02:00:00.000Z', lines: [{ productId: GLYPHOSATE.id, quantity: 2, unitCodes: [codes.c1, codes.c2] }] })));
    ok(await post('/api/v1/sales', 'admin', saleBody({ countyId: COUNTY, shopId: SHOP_B, eventTime: '2026-03-12T02:00:00.000Z', lines: [{ productId: GLYPHOSATE_5L.id, quantity: 1, unitCodes: [codes.c3] }] })));
    ok(await post('/api/v1/returns', 'admin', returnBody({ countyId: COUNTY, shopId: SHOP_B, eventTime: '2026-03-15T01:30:00.000Z', items: [{ scan: codes.c1, inspection: 'accepted' }] })));
    ok(await post('/api/v1/returns', 'clerk.qingcheng', returnBody({ eventTime: '2026-03-15T01:40:00.000Z', items: [{ scan: codes.c2, inspection: 'accepted' }] })));
    ok(await post(`/api/v1/counties/${COUNTY}/ledger/expiry-runs`, 'admin', {}));

    // Custody of c1 at shop B, written as the custody records would hold it: a bag with one
    // container, hauled and received, the facility counting none (a count discrepancy).
    const k = t.db.knex;
    const at = new Date('2026-03-20T02:00:00.000Z');
    const bag = newId();
    const insp = newId();
    const manifest = newId();
    const ct = await k('products').where({ county_id: COUNTY, id: GLYPHOSATE.id }).first('container_type_id');
    const facility = demoId('facilities', `${COUNTY}:collection-centre`);
    const fac = await k('facilities').where({ county_id: COUNTY }).orderBy('name').first('id');
    await k('custody_bags').insert({
      county_id: COUNTY, id: bag, shop_id: SHOP_B, material: 'HDPE', state: 'received', seal_no: 'QS-TEST-0001', declared_quantity: 1, expected_weight_g: 55,
      holder_type: 'facility', holder_id: fac?.id ?? facility, created_by: 'test', created_at: at, sealed_at: at, updated_at: at,
    });
    await k('custody_bag_items').insert({ county_id: COUNTY, bag_id: bag, item_no: 1, container_type_id: ct.container_type_id, unit_code: codes.c1, quantity: 1, tare_weight_g: 55, recorded_at: at });
    await k('custody_inspections').insert({ county_id: COUNTY, id: insp, bag_id: bag, manifest_id: manifest, facility_id: fac?.id ?? facility, outcome: 'partially_rejected', measured_weight_g: 0, counted_quantity: 0, rejected_quantity: 0, actor: 'test', recorded_at: at });
    await k('custody_discrepancies').insert({ county_id: COUNTY, inspection_id: insp, no: 1, bag_id: bag, type: 'count', expected_value: 1, actual_value: 0, comment: '袋内未见包装' });
  });

  it('ties the three books for March by hand-computed figures, as of the end of the month', async () => {
    t.clock.set('2026-04-01T00:00:00.000Z');
    const res = await reconcile({ period: '2026-03' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    firstRun = res.body;
    const f = res.body.figures;
    expect(f.from).to.equal('2026-02-28T16:00:00.000Z'); // midnight in Asia/Shanghai
    expect(f.money).to.deep.equal({
      depositsCollectedFen: 400, refundsPaidFen: 200, lateRefundsFen: 0, policyRefundsFen: 0, buybackPaidFen: 0, expiredFen: 100,
      settlementsFromShopsFen: 0, settlementsToShopsFen: 0,
      outstandingOpeningFen: 100, // S0, sold in 2025, not yet expired on 1 March
      outstandingClosingFen: 200, // 100 + 400 − 200 − 100: only c3 is still out
      unredeemedClosingFen: 100,
    });
    expect(f.units).to.deep.equal({
      soldUnits: 3, soldWithDeposit: 3, returnedAccepted: 2, returnedAgainstDeposit: 2, returnedLate: 0, returnedPolicy: 0, returnedBuyback: 0, returnedNoRefund: 0,
      rejected: 0, expired: 1, outstandingContainers: 1, outstandingClosing: 1, expiredUnreturnedClosing: 1,
    });
    expect(f.custody).to.include({ available: true, returnedUnits: 2, looseAtShops: 1, inBagsAtShops: 0, inTransit: 0, received: 1, disposed: 0, openDiscrepancies: 1 });
    const shop = (id: string) => f.shops.find((s: { shopId: string }) => s.shopId === id);
    // Shop A collected S0 (2025) and S1 and refunded c2; shop B collected S2 and refunded c1 (A's deposit).
    expect(shop(SHOP_A)).to.include({ depositsCollectedFen: 200, refundsPaidFen: 100, positionFen: 200, soldUnits: 2, returnedUnits: 1, looseAtShop: 1, settlementStatus: 'open' });
    expect(shop(SHOP_B)).to.include({ depositsCollectedFen: 200, refundsPaidFen: 100, positionFen: 100, soldUnits: 1, returnedUnits: 1, looseAtShop: 0, inBagsAtShop: 0 });
    expect(res.body.exceptions.map((e: { kind: string }) => e.kind)).to.deep.equal(['discrepancy_count']);
    expect(res.body.exceptions[0]).to.include({ book: 'custody', severity: 'warning', shopId: SHOP_B, expected: 1, actual: 0 });
    expect(res.body.exceptions[0].records.map((r: { type: string }) => r.type)).to.deep.equal(['bag', 'inspection']);
    await expectLedgerClean(t);
  });

  it('counts a late offline record in its period once it arrives, lists it, and reproduces the earlier run by asOf', async () => {
    t.clock.set('2026-04-02T03:00:00.000Z');
    const late = await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ id: s3, eventTime: '2026-03-30T02:00:00.000Z', lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [codes.c4] }] }));
    expect(late.status, JSON.stringify(late.body)).to.equal(201);
    const now = (await reconcile({ period: '2026-03' })).body;
    expect(now.figures.money).to.include({ depositsCollectedFen: 500, outstandingClosingFen: 300 });
    expect(now.figures.units).to.include({ soldUnits: 4, outstandingContainers: 2 });
    // The old names stay one release beside the new ones (docs/api.md, Conventions).
    expect(now.figures.units).to.include({ soldWithDeposit: 4, outstandingClosing: 2 });
    const lateEx = now.exceptions.find((e: { kind: string }) => e.kind === 'late_record');
    expect(lateEx).to.include({ severity: 'info', shopId: SHOP_A, actual: 1 });
    expect(lateEx.records).to.deep.equal([{ type: 'sale', id: s3 }]);
    expect(now.fingerprint).to.not.equal(firstRun.fingerprint);

    const again = (await reconcile({ period: '2026-03', asOf: firstRun.asOf })).body;
    expect(again.figures).to.deep.equal(firstRun.figures);
    expect(again.fingerprint).to.equal(firstRun.fingerprint);
    expect(again.id).to.not.equal(firstRun.id);
  });

  it('lists a ledger transfer without a business record as a mismatch, with the transfer behind it', async () => {
    const stray = await t.db.knex.transaction((trx) => postTransfers(trx, COUNTY, [{
      code: 'deposit_collected', debit: shopAccount(COUNTY, SHOP_A), credit: countyAccount(COUNTY, 'deposits_outstanding'), amountFen: 50,
      clientId: newId(), refType: 'sale', refId: newId(), shopId: SHOP_A, eventTime: new Date('2026-03-20T02:00:00.000Z'), actor: 'test:tamper',
    }], t.clock.now()));
    const run = (await reconcile({ period: '2026-03' })).body;
    const kinds = run.exceptions.filter((e: { severity: string }) => e.severity === 'error').map((e: { kind: string }) => e.kind);
    expect(kinds).to.deep.equal(['ledger_records_mismatch', 'outstanding_mismatch', 'shop_position_mismatch']);
    const m = run.exceptions[0];
    expect(m).to.include({ expected: 500, actual: 550 });
    expect(m.records).to.deep.equal([{ type: 'transfer', id: stray[0]!.id }]);
    expect(run.errorCount).to.equal(3);
  });

  it('exports a stored run as CSV and as a printable page; lists runs; refuses bad input and other counties', async () => {
    const token = await freshToken(t, 'qingshen.official');
    const csv = await t.api().get(`/api/v1/counties/${COUNTY}/reconciliations/${firstRun.id}?format=csv`).set('Authorization', token);
    expect(csv.status).to.equal(200);
    expect(csv.headers['content-type']).to.match(/text\/csv/);
    expect(csv.text).to.contain('money.depositsCollectedFen,收取押金（元）,Deposits collected (yuan),4.00');
    expect(csv.text).to.contain('discrepancy_count');
    const html = await t.api().get(`/api/v1/counties/${COUNTY}/reconciliations/${firstRun.id}?format=html`).set('Authorization', token);
    expect(html.text).to.contain('对账报告').and.contain(firstRun.fingerprint);
    const list = await t.api().get(`/api/v1/counties/${COUNTY}/reconciliations`).set('Authorization', token);
    expect(list.body.items.length).to.be.greaterThanOrEqual(4);

    const before = await t.db.knex('reconciliation_runs').count({ n: '*' }).first();
    expect((await reconcile({ period: '2026-13' })).body.error.code).to.equal('RECONCILIATION_PERIOD_INVALID');
    expect((await reconcile({ period: '2026-03', asOf: '2030-01-01T00:00:00.000Z' })).body.error.code).to.equal('RECONCILIATION_AS_OF_IN_FUTURE');
    expect((await reconcile({ period: '2026-03' }, 'jiange.official')).body.error.code).to.equal('OUT_OF_SCOPE');
    expect((await t.api().get(`/api/v1/counties/${COUNTY}/reconciliations/${firstRun.id}`).set('Authorization', await freshToken(t, 'jiange.official'))).status).to.equal(403);
    expect((await reconcile({ period: '2026-03' }, 'clerk.qingcheng')).body.error.code).to.equal('FORBIDDEN');
    const after = await t.db.knex('reconciliation_runs').count({ n: '*' }).first();
    expect(Number(after?.n)).to.equal(Number(before?.n));
    // Runs are records: never changed, never deleted.
    let refused = '';
    await t.db.knex('reconciliation_runs').where({ id: firstRun.id }).del().catch((e: Error) => (refused = e.message));
    expect(refused).to.match(/never deleted/);
  });

  it('the scheduled job reconciles last month for every county once', async () => {
    t.clock.set('2026-04-03T00:00:00.000Z');
    const first = await runScheduledReconciliations(t.db.knex, t.clock.now());
    expect(first.map((r) => r.period)).to.include('2026-03');
    expect(first.find((r) => r.countyId === COUNTY)?.figures.money.depositsCollectedFen).to.equal(500) // the records; the stray transfer shows as an exception;
    expect(await runScheduledReconciliations(t.db.knex, t.clock.now())).to.deep.equal([]);
  });
});
