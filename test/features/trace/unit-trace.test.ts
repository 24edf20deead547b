// One container followed from sale to disposal certificate over the API (issue 16): the trace shows
// every step with its custody event and a verifying hash-chain link; a custody event altered in SQL
// shows as a broken link; containers without a unit code are traced by lot (FIFO); the inspector
// reads but never handles money, and every read of a purchaser by an inspector or official is in the
// access log the administrator exports.
import { expect } from 'chai';
import { demoId } from '../../../seeds/demo-county.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { useTestApp, DEMO_PASSWORD } from '../../support/harness.js';
import { COUNTY, FARMER_PHONE, GLYPHOSATE, SHOP_A, SHOP_B, returnBody, saleBody, traceUrl, unitCode } from '../ledger/ledger-fixtures.js';
import { compile } from '../../../src/http/validation.js';
import { LOT_TRACE_SCHEMA, UNIT_TRACE_SCHEMA } from '../../../src/features/trace/trace-routes.js';

/** The answer matches the route's declared response schema (what the OpenAPI document promises). */
function matchesSchema(schema: Record<string, unknown>, body: unknown): void {
  const v = compile(schema);
  expect(v(body), JSON.stringify(v.errors)).to.equal(true);
}

const HDPE_1L = demoId('container_types', `${COUNTY}:HDPE-1L`);
const CENTRE = demoId('facilities', `${COUNTY}:collection-centre`);

describe('traceability: one container from sale to disposal certificate', function () {
  this.timeout(120_000);
  const t = useTestApp();
  const base = `/api/v1/counties/${COUNTY}`;
  const post = async (path: string, who: string, body: unknown) => t.api().post(path).set('Authorization', await t.token(who)).send(body as object);
  const get = async (path: string, who: string) => t.api().get(path).set('Authorization', await t.token(who));
  const ok = (res: { status: number; body: unknown }, status: number) => expect(res.status, JSON.stringify(res.body)).to.equal(status);

  const code = unitCode(GLYPHOSATE);
  let saleId: string;
  let bagId: string;
  let manifestId: string;

  before(async () => {
    ok(await post(`${base}/users`, 'qingshen.official', { username: 'inspector.qingshen', displayName: '执法人员甲', password: DEMO_PASSWORD, role: 'inspector' }), 201);
    const sale = await post(`${base}/sales`, 'clerk.qingcheng', saleBody({ purchaser: { phone: FARMER_PHONE, name: '张三丰' }, lines: [{ productId: GLYPHOSATE.id, quantity: 3, unitCodes: [code] }] }));
    ok(sale, 201);
    saleId = sale.body.id ?? sale.body.saleId;
    ok(await post(`${base}/returns`, 'clerk.qingcheng', returnBody({ items: [{ scan: traceUrl(code), inspection: 'accepted' }, { productId: GLYPHOSATE.id, quantity: 2, inspection: 'accepted' }], returner: { phone: FARMER_PHONE }, payment: { method: 'cash' } })), 201);
    const bag = await post(`${base}/bags`, 'clerk.qingcheng', { id: newClientId(), shopId: SHOP_A, material: 'HDPE' });
    ok(bag, 201);
    bagId = bag.body.id;
    ok(await post(`${base}/bags/${bagId}/items`, 'clerk.qingcheng', { id: newClientId(), counts: [{ containerTypeId: HDPE_1L, quantity: 2 }], unitCodes: [code] }), 200);
    ok(await post(`${base}/bags/${bagId}/seal`, 'clerk.qingcheng', { id: newClientId(), sealNo: 'TR-0001' }), 200);
    const hauler = (await get('/api/v1/auth/me', 'hauler.demo')).body.user.haulerId;
    const m = await post(`${base}/manifests`, 'hauler.demo', { id: newClientId(), haulerId: hauler, facilityId: CENTRE });
    ok(m, 201);
    manifestId = m.body.id;
    ok(await post(`${base}/manifests/${manifestId}/bags`, 'hauler.demo', { id: newClientId(), bagIds: [bagId] }), 200);
    const sign = (who: string, handover: string, side: string) => post(`${base}/manifests/${manifestId}/signatures`, who, { id: newClientId(), handover, side, device: `pad-${who}` });
    ok(await sign('clerk.qingcheng', `pickup:${SHOP_A}`, 'giver'), 201);
    ok(await sign('hauler.demo', `pickup:${SHOP_A}`, 'receiver'), 201);
    ok(await sign('hauler.demo', 'delivery', 'giver'), 201);
    ok(await sign('facility.demo', 'delivery', 'receiver'), 201);
    ok(await post(`${base}/manifests/${manifestId}/inspections`, 'facility.demo', { id: newClientId(), bags: [{ bagId, outcome: 'accepted', measuredWeightG: 200, sealNoRead: 'TR-0001', sealIntact: true, discrepancies: [{ type: 'weight', comment: '袋内有泥' }] }] }), 201);
    ok(await post(`${base}/disposals`, 'facility.demo', { id: newClientId(), bagIds: [bagId], method: 'incineration', disposalFacilityId: demoId('facilities', `${COUNTY}:incinerator`), facilityLicenceNo: '川环危第511402063号', certificateNo: 'TR-CERT-0001', disposedOn: '2026-03-15' }), 201);
  });

  it('follows the unit code (bare or as a trace URL) through sale, return, bag, manifest, receiving and disposal', async () => {
    const res = await get(`${base}/units/${encodeURIComponent(traceUrl(code))}/trace`, 'qingshen.official');
    ok(res, 200);
    const tr = res.body;
    expect(tr).to.include({ countyId: COUNTY, unitCode: code, status: 'disposed', chainLinksOk: true });
    expect(tr.product).to.include({ productId: GLYPHOSATE.id, registrationNo: 'PD20070128' });
    expect(tr.sale).to.include({ saleId, depositFen: tr.sale.depositFen, unitState: 'refunded', reversed: false });
    expect(tr.sale.shop.shopId).to.equal(SHOP_A);
    expect(tr.sale.depositFen).to.be.greaterThan(0);
    expect(tr.sale.eventTime).to.equal('2026-03-15T01:00:00.000Z');
    // Officials see the purchaser masked.
    expect(tr.sale.purchaser).to.deep.include({ masked: true, name: '张**', phone: '+86 174****0999' });
    expect(tr.returns).to.have.length(1);
    expect(tr.returns[0]).to.include({ inspection: 'accepted', outcome: 'refunded', held: null });
    expect(tr.returns[0].refund).to.include({ method: 'cash' });
    expect(tr.returns[0].refundFen).to.equal(tr.sale.depositFen);
    expect(tr.bag).to.include({ bagId, sealNo: 'TR-0001', state: 'disposed', declaredQuantity: 3 });
    expect(tr.manifest).to.include({ manifestId, status: 'closed' });
    expect(tr.manifest.transporters.map((x: { seq: number }) => x.seq)).to.deep.equal([1]);
    expect(tr.receiving).to.include({ outcome: 'accepted', measuredWeightG: 200, sealIntact: true });
    expect(tr.receiving.discrepancies[0]).to.include({ type: 'weight', comment: '袋内有泥' });
    expect(tr.facility).to.include({ facilityId: CENTRE });
    expect(tr.disposal).to.include({ certificateNo: 'TR-CERT-0001', method: 'incineration', disposedOn: '2026-03-15' });
    const types = tr.custody.map((e: { type: string }) => e.type);
    expect(types).to.include.members(['bag_opened', 'bag_items_added', 'bag_sealed', 'manifest_created', 'manifest_bags_added', 'signature_recorded', 'custody_passed', 'bag_inspected', 'bags_disposed']);
    expect(tr.custody.every((e: { link: { verified: boolean } }) => e.link.verified)).to.equal(true);
    // Each step names its events, in chain order.
    expect(tr.bag.custodyEvents).to.have.length(3);
    expect(tr.disposal.custodyEvents).to.have.length(1);
    const seqs = tr.custody.map((e: { seq: number }) => e.seq);
    expect(seqs).to.deep.equal([...seqs].sort((a: number, b: number) => a - b));
    // The bare code gives the same answer.
    const bare = await get(`${base}/units/${code}/trace`, 'qingshen.official');
    expect(bare.body).to.deep.equal(tr);
    matchesSchema(UNIT_TRACE_SCHEMA, tr);
    // The administrator sees the purchaser in clear.
    const admin = await get(`${base}/units/${code}/trace`, 'admin');
    expect(admin.body.sale.purchaser).to.deep.include({ masked: false, name: '张三丰', phone: `+86${FARMER_PHONE}` });
    matchesSchema(UNIT_TRACE_SCHEMA, admin.body);
  });

  it('shows a refund held for a code nobody sold, and the official\'s decline', async () => {
    const orphan = unitCode(GLYPHOSATE);
    ok(await post(`${base}/returns`, 'clerk.qingcheng', returnBody({ items: [{ scan: orphan, inspection: 'accepted' }], returner: { phone: '17460000602', name: '孙七' }, payment: { method: 'cash' } })), 201);
    const held = await t.db.knex('held_refunds').where({ county_id: COUNTY, unit_code: orphan }).first('id');
    ok(await post(`${base}/held-refunds/${held.id}/decision`, 'qingshen.official', { id: newClientId(), decision: 'decline', reason: '疑似假冒' }), 201);
    const res = await get(`${base}/units/${orphan}/trace`, 'inspector.qingshen');
    ok(res, 200);
    expect(res.body).to.include({ status: 'returned', sale: null, bag: null, disposal: null });
    expect(res.body.returns[0]).to.include({ outcome: 'refund_held', refundFen: 0 });
    expect(res.body.returns[0].held).to.deep.include({ heldRefundId: held.id, state: 'declined', reason: 'unsold_code', payout: null });
    expect(res.body.returns[0].held.decision).to.include({ decision: 'decline', reason: '疑似假冒' });
    matchesSchema(UNIT_TRACE_SCHEMA, res.body);
  });

  it('answers 404 for a code nobody of the county holds and 422 for a scan without a code', async () => {
    const none = await get(`${base}/units/${unitCode(GLYPHOSATE)}/trace`, 'qingshen.official');
    expect(none.status).to.equal(404);
    expect(none.body.error.code).to.equal('NOT_FOUND');
    const bad = await get(`${base}/units/12345/trace`, 'qingshen.official');
    expect(bad.status).to.equal(422);
    expect(bad.body.error.code).to.equal('UNIT_CODE_INVALID');
  });

  it('traces the containers sold without a code by lot: sale line → FIFO returns → bag', async () => {
    const bySale = await get(`${base}/lots/trace?saleId=${saleId}&lineNo=1`, 'inspector.qingshen');
    ok(bySale, 200);
    expect(bySale.body.matchedBy).to.equal('fifo');
    expect(bySale.body.lots).to.have.length(1);
    const lot = bySale.body.lots[0];
    expect(lot).to.include({ saleId, lineNo: 1, quantity: 2, outstanding: 0, returned: 2 });
    expect(lot.returns).to.have.length(1);
    expect(lot.returns[0]).to.include({ source: 'lot', quantity: 2, notYetBagged: 0 });
    expect(lot.returns[0].bags).to.deep.equal([{ bagId, quantity: 2, sealNo: 'TR-0001', state: 'disposed', trackingNo: lot.returns[0].bags[0].trackingNo, certificateNo: 'TR-CERT-0001' }]);
    expect(bySale.body.totals).to.deep.equal({ sold: 2, returned: 2, bagged: 2 });

    const gtin = (await t.db.knex('products').where({ county_id: COUNTY, id: GLYPHOSATE.id }).first('gtin')).gtin as string;
    const byGtin = await get(`${base}/lots/trace?gtin=${gtin}&from=2026-03-15&to=2026-03-15`, 'inspector.qingshen');
    ok(byGtin, 200);
    expect(byGtin.body.lots.map((l: { saleId: string }) => l.saleId)).to.include(saleId);
    const before = await get(`${base}/lots/trace?gtin=${gtin}&from=2026-03-10&to=2026-03-14`, 'inspector.qingshen');
    expect(before.body.lots.map((l: { saleId: string }) => l.saleId)).to.not.include(saleId);
    matchesSchema(LOT_TRACE_SCHEMA, bySale.body);
    matchesSchema(LOT_TRACE_SCHEMA, byGtin.body);
    const wrong = await get(`${base}/lots/trace?gtin=${gtin}`, 'inspector.qingshen');
    expect(wrong.status).to.equal(422);
    expect(wrong.body.error.code).to.equal('LOT_TRACE_QUERY_INVALID');
  });

  it('matches a return spanning two lots first-in-first-out, and places its containers in the shop\'s bags in order', async () => {
    ok(await post(`${base}/users`, 'qingshen.official', { username: 'clerk.lvyuan', displayName: '绿源店员', password: DEMO_PASSWORD, role: 'clerk', shopId: SHOP_B }), 201);
    const buyer = { phone: '17460000601', name: '赵六' };
    const s1 = await post(`${base}/sales`, 'clerk.lvyuan', saleBody({ shopId: SHOP_B, eventTime: '2026-03-15T01:00:00.000Z', purchaser: buyer, lines: [{ productId: GLYPHOSATE.id, quantity: 2 }] }));
    const s2 = await post(`${base}/sales`, 'clerk.lvyuan', saleBody({ shopId: SHOP_B, eventTime: '2026-03-15T01:10:00.000Z', purchaser: buyer, lines: [{ productId: GLYPHOSATE.id, quantity: 3 }] }));
    ok(s1, 201);
    ok(s2, 201);
    ok(await post(`${base}/returns`, 'clerk.lvyuan', returnBody({ shopId: SHOP_B, items: [{ productId: GLYPHOSATE.id, quantity: 4, inspection: 'accepted' }], returner: { phone: buyer.phone }, payment: { method: 'cash' } })), 201);
    const bags: string[] = [];
    for (const n of [1, 3]) {
      const b = await post(`${base}/bags`, 'clerk.lvyuan', { id: newClientId(), shopId: SHOP_B, material: 'HDPE' });
      ok(b, 201);
      ok(await post(`${base}/bags/${b.body.id}/items`, 'clerk.lvyuan', { id: newClientId(), counts: [{ containerTypeId: HDPE_1L, quantity: n }] }), 200);
      bags.push(b.body.id);
    }
    const first = (await get(`${base}/lots/trace?saleId=${s1.body.id ?? s1.body.saleId}`, 'inspector.qingshen')).body;
    const second = (await get(`${base}/lots/trace?saleId=${s2.body.id ?? s2.body.saleId}`, 'inspector.qingshen')).body;
    // The older lot is used up first: 2 from the first sale, then 2 of the second's 3.
    expect(first.lots[0]).to.include({ quantity: 2, returned: 2, outstanding: 0 });
    expect(second.lots[0]).to.include({ quantity: 3, returned: 2, outstanding: 1 });
    // Returned containers 1–2 (first lot) fill bag 1 (one) and start bag 2; 3–4 (second lot) are in bag 2.
    expect(first.lots[0].returns[0].bags.map((b: { bagId: string; quantity: number }) => [b.bagId, b.quantity])).to.deep.equal([[bags[0], 1], [bags[1], 1]]);
    expect(second.lots[0].returns[0].bags.map((b: { bagId: string; quantity: number }) => [b.bagId, b.quantity])).to.deep.equal([[bags[1], 2]]);
    expect(second.totals).to.deep.equal({ sold: 3, returned: 2, bagged: 2 });
    matchesSchema(LOT_TRACE_SCHEMA, first);
  });

  it('the inspector reads traces, custody and ledgers, masked, and never touches money', async () => {
    const tr = await t.api().get(`${base}/units/${code}/trace`).set('Authorization', await t.token('inspector.qingshen')).set('X-Access-Reason', encodeURIComponent('农药经营检查 2026-03'));
    ok(tr, 200);
    expect(tr.body.sale.purchaser.masked).to.equal(true);
    expect(JSON.stringify(tr.body)).to.not.include(FARMER_PHONE);
    expect(JSON.stringify(tr.body)).to.not.include('张三丰');
    ok(await get(`${base}/custody/verify`, 'inspector.qingshen'), 200);
    ok(await get(`${base}/custody/ledger?format=json`, 'inspector.qingshen'), 200);
    const farmers = await get(`${base}/farmers`, 'inspector.qingshen');
    ok(farmers, 200);
    expect(farmers.body.items.every((f: { masked?: boolean }) => f.masked === true)).to.equal(true);
    for (const [method, path] of [['post', `${base}/sales`], ['post', `${base}/returns`], ['post', `${base}/settlements`], ['get', `${base}/held-refunds`], ['get', `${base}/access-log`]] as const) {
      const res = await t.api()[method](path).set('Authorization', await t.token('inspector.qingshen')).send(method === 'post' ? {} : undefined as never);
      expect(res.status, `${method} ${path}`).to.equal(403);
      expect(res.body.error.code).to.equal('FORBIDDEN');
    }
    // A clerk does not trace the county.
    expect((await get(`${base}/units/${code}/trace`, 'clerk.qingcheng')).body.error.code).to.equal('FORBIDDEN');
  });

  it('logs every read of personal data by an inspector or official, and the administrator exports it', async () => {
    await t.api().get(`${base}/held-refunds`).set('Authorization', await t.token('qingshen.official'));
    ok(await get(`${base}/units/${code}/trace?why=${encodeURIComponent('群众举报核查')}`, 'qingshen.official'), 200);
    const before = Number((await t.db.knex('access_log').where({ county_id: COUNTY, username: 'admin' }).count('* as n').first())!.n);
    ok(await get(`${base}/units/${code}/trace`, 'admin'), 200); // the administrator's reads are not an inspection
    expect(Number((await t.db.knex('access_log').where({ county_id: COUNTY, username: 'admin' }).count('* as n').first())!.n)).to.equal(before);

    const csv = await get(`${base}/access-log?from=2026-03-01&to=2026-03-31`, 'admin');
    ok(csv, 200);
    expect(csv.headers['content-type']).to.match(/text\/csv/);
    const lines = csv.text.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).to.equal('county_id,accessed_at,user_id,username,role,record_type,record_id,action,why');
    const farmerId = (await t.db.knex('farmers').where({ county_id: COUNTY, phone_e164: `+86${FARMER_PHONE}` }).first('id')).id as string;
    const inspectorRow = lines.find((l) => l.includes('inspector.qingshen') && l.includes('sale_purchaser'));
    expect(inspectorRow, csv.text).to.include(farmerId).and.include('农药经营检查 2026-03').and.include('/units/:unitCode/trace');
    expect(lines.some((l) => l.includes('qingshen.official') && l.includes('群众举报核查'))).to.equal(true);
    expect(lines.some((l) => l.includes('inspector.qingshen') && l.includes(',farmer,'))).to.equal(true);
    const json = await get(`${base}/access-log?from=2026-03-01&to=2026-03-31&format=json`, 'admin');
    expect(json.body.items.length).to.equal(lines.length - 1);
    // The held-refund queue the official read is logged per returner shown.
    expect(json.body.items.some((i: { username: string; recordType: string }) => i.username === 'qingshen.official' && i.recordType === 'held_refund_queue')).to.equal(true);
    // Another period holds none of it.
    const other = await get(`${base}/access-log?from=2026-02-01&to=2026-02-28&format=json`, 'admin');
    expect(other.body.items).to.deep.equal([]);
    // Officials and inspectors cannot read or erase the log.
    expect((await get(`${base}/access-log`, 'qingshen.official')).status).to.equal(403);
    let err: unknown = null;
    try { await t.db.knex('access_log').where({ county_id: COUNTY }).del(); } catch (e) { err = e; }
    expect(String(err)).to.match(/never deleted/);
  });

  it('shows a custody event altered in SQL as a broken link in the trace', async () => {
    const ev = await t.db.knex('custody_events').where({ county_id: COUNTY, type: 'bag_sealed', bag_id: bagId }).first('seq');
    const seq = Number(ev.seq);
    await t.db.knex.transaction(async (trx) => {
      await trx.raw('ALTER TABLE custody_events DISABLE TRIGGER custody_events_no_update');
      await trx.raw(`UPDATE custody_events SET content = jsonb_set(content, '{data,sealNo}', '"FORGED-1"') WHERE county_id = ? AND seq = ?`, [COUNTY, seq]);
      await trx.raw('ALTER TABLE custody_events ENABLE TRIGGER custody_events_no_update');
    });
    const res = await get(`${base}/units/${code}/trace`, 'inspector.qingshen');
    ok(res, 200);
    expect(res.body.chainLinksOk).to.equal(false);
    const broken = res.body.custody.filter((e: { link: { verified: boolean } }) => !e.link.verified);
    expect(broken).to.have.length(1);
    expect(broken[0]).to.deep.include({ seq, type: 'bag_sealed' });
    expect(broken[0].link.reason).to.equal('hash_mismatch');
  });
});
