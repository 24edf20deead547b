// The whole chain over the API: containers returned at two shops, bagged, sealed, picked up on one
// manifest, handed to a second transporter, received with one weight discrepancy and one broken
// seal, disposed; the mass balance holds and the hash chain verifies. Plus who may see what.
import { expect } from 'chai';
import { demoId } from '../../../seeds/demo-county.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { isValidTrackingNumber } from '../../../src/features/manifests/tracking-number.js';
import { useTestApp, DEMO_PASSWORD } from '../../support/harness.js';
import { COUNTY, GLYPHOSATE, GLYPHOSATE_5L, SHOP_A, SHOP_B, countyScoped, returnBody, saleBody, unitCode } from '../ledger/ledger-fixtures.js';

const HDPE_1L = demoId('container_types', `${COUNTY}:HDPE-1L`);
const HDPE_5L = demoId('container_types', `${COUNTY}:HDPE-5L`);
const PET_100 = demoId('container_types', `${COUNTY}:PET-100`);
const CENTRE = demoId('facilities', `${COUNTY}:collection-centre`);
const INCINERATOR = demoId('facilities', `${COUNTY}:incinerator`);

describe('chain of custody end to end', function () {
  this.timeout(120_000);
  const t = useTestApp();
  const base = `/api/v1/counties/${COUNTY}`;
  const as = async (who: string) => t.token(who);
  const post = async (path: string, who: string, body: unknown) => { const c = countyScoped(path, body); return t.api().post(c.path).set('Authorization', await as(who)).send(c.body as object); };
  const get = async (path: string, who: string) => t.api().get(path).set('Authorization', await as(who));
  const ok = (res: { status: number; body: unknown }, status: number) => expect(res.status, JSON.stringify(res.body)).to.equal(status);

  let code: string;
  let bagA: string;
  let bagB: string;
  let hauler1: string;
  let hauler2: string;
  let manifestId: string;
  const sign = (who: string, handover: string, side: string) => post(`${base}/manifests/${manifestId}/signatures`, who, { id: newClientId(), handover, side, device: `pad-${who}` });

  before(async () => {
    // A clerk for the second shop, a second hauler company with a driver, an incinerator operator.
    const hz = await post(`${base}/haulers`, 'qingshen.official', { name: '青神县第二运输公司', licenceNo: 'TEST-HAULER-2' });
    ok(hz, 201);
    hauler2 = hz.body.id;
    for (const u of [
      { username: 'clerk.lvyuan', role: 'clerk', shopId: SHOP_B },
      { username: 'hauler.second', role: 'hauler', haulerId: hauler2 },
      { username: 'incinerator.op', role: 'facility_operator', facilityId: INCINERATOR },
    ]) ok(await post(`${base}/users`, 'qingshen.official', { ...u, displayName: u.username, password: DEMO_PASSWORD }), 201);
    hauler1 = (await get('/api/v1/auth/me', 'hauler.demo')).body.user.haulerId;

    // Containers returned: shop A one unit-coded 1 L bottle and ten more by product; shop B eight 5 L cans.
    code = unitCode(GLYPHOSATE);
    ok(await post('/api/v1/sales', 'clerk.qingcheng', saleBody({ lines: [{ productId: GLYPHOSATE.id, quantity: 1, unitCodes: [code] }] })), 201);
    ok(await post('/api/v1/returns', 'clerk.qingcheng', returnBody({ items: [{ scan: code, inspection: 'accepted' }, { productId: GLYPHOSATE.id, quantity: 10, inspection: 'accepted' }], returner: { phone: '17460000777', name: '甲' }, payment: { method: 'cash' } })), 201);
    ok(await post('/api/v1/returns', 'clerk.lvyuan', returnBody({ shopId: SHOP_B, items: [{ productId: GLYPHOSATE_5L.id, quantity: 8, inspection: 'accepted' }], returner: { phone: '17460000778', name: '乙' }, payment: { method: 'cash' } })), 201);
  });

  it('bags per material at each shop, bounded by what was returned there; a sealed bag cannot change', async () => {
    const a = await post(`${base}/bags`, 'clerk.qingcheng', { id: newClientId(), shopId: SHOP_A, material: 'HDPE' });
    ok(a, 201);
    bagA = a.body.id;
    expect(a.body).to.include({ state: 'open', declaredQuantity: 0 });
    // Not this shop's bag, wrong material, more than returned: refused, nothing changes.
    expect((await post(`${base}/bags`, 'clerk.qingcheng', { id: newClientId(), shopId: SHOP_B, material: 'HDPE' })).body.error.code).to.equal('OUT_OF_SCOPE');
    expect((await post(`${base}/bags/${bagA}/items`, 'clerk.qingcheng', { id: newClientId(), counts: [{ containerTypeId: PET_100, quantity: 1 }] })).body.error.code).to.equal('BAG_MATERIAL_MISMATCH');
    expect((await post(`${base}/bags/${bagA}/items`, 'clerk.qingcheng', { id: newClientId(), counts: [{ containerTypeId: HDPE_1L, quantity: 11 }], unitCodes: [code] })).body.error.code).to.equal('BAG_EXCEEDS_RETURNED');
    expect((await post(`${base}/bags/${bagA}/items`, 'clerk.qingcheng', { id: newClientId(), unitCodes: [unitCode(GLYPHOSATE)] })).body.error.code).to.equal('UNIT_CODE_NOT_RETURNED_HERE');
    const add = { id: newClientId(), counts: [{ containerTypeId: HDPE_1L, quantity: 10 }], unitCodes: [`https://trace.example.cn/q?c=${code}`] };
    const filled = await post(`${base}/bags/${bagA}/items`, 'clerk.qingcheng', add);
    ok(filled, 200);
    expect(filled.body).to.include({ declaredQuantity: 11, expectedWeightG: 11 * 55 });
    ok(await post(`${base}/bags/${bagA}/items`, 'clerk.qingcheng', add), 200); // a retry changes nothing
    expect((await get(`${base}/bags/${bagA}`, 'clerk.qingcheng')).body.declaredQuantity).to.equal(11);
    const sealed = await post(`${base}/bags/${bagA}/seal`, 'clerk.qingcheng', { id: newClientId(), sealNo: 'QS-A-0001', shopWeightG: 610 });
    ok(sealed, 200);
    expect(sealed.body).to.include({ state: 'sealed', sealNo: 'QS-A-0001' });
    expect((await post(`${base}/bags/${bagA}/items`, 'clerk.qingcheng', { id: newClientId(), counts: [{ containerTypeId: HDPE_1L, quantity: 1 }] })).body.error.code).to.equal('BAG_SEALED');
    expect((await post(`${base}/bags/${bagA}/seal`, 'clerk.qingcheng', { id: newClientId(), sealNo: 'QS-A-0002' })).body.error.code).to.equal('BAG_SEALED');

    const b = await post(`${base}/bags`, 'clerk.lvyuan', { id: newClientId(), shopId: SHOP_B, material: 'HDPE' });
    bagB = b.body.id;
    ok(await post(`${base}/bags/${bagB}/items`, 'clerk.lvyuan', { id: newClientId(), counts: [{ containerTypeId: HDPE_5L, quantity: 8 }] }), 200);
    expect((await post(`${base}/bags/${bagB}/seal`, 'clerk.lvyuan', { id: newClientId(), sealNo: 'QS-A-0001' })).body.error.code).to.equal('SEAL_NO_DUPLICATE');
    ok(await post(`${base}/bags/${bagB}/seal`, 'clerk.lvyuan', { id: newClientId(), sealNo: 'QS-B-0001' }), 200);
    // Each clerk sees only its own shop's bags.
    expect((await get(`${base}/bags/${bagB}`, 'clerk.qingcheng')).body.error.code).to.equal('OUT_OF_SCOPE');
    expect((await get(`${base}/bags`, 'clerk.lvyuan')).body.items.map((x: { id: string }) => x.id)).to.deep.equal([bagB]);
  });

  it('picks up both shops\' bags on one manifest, with both signatures at every hand-over', async () => {
    const m = await post(`${base}/manifests`, 'hauler.demo', { id: newClientId(), haulerId: hauler1, facilityId: CENTRE });
    ok(m, 201);
    manifestId = m.body.id;
    expect(isValidTrackingNumber(m.body.trackingNo)).to.equal(true);
    expect(m.body.nextSigner).to.deep.equal({ status: 'waiting_for_bags' });
    ok(await post(`${base}/manifests/${manifestId}/bags`, 'hauler.demo', { id: newClientId(), bagIds: [bagA, bagB] }), 200);

    // The receiver cannot sign before the giver; another shop cannot sign for this one.
    expect((await sign('hauler.demo', `pickup:${SHOP_A}`, 'receiver')).body.error.code).to.equal('SIGNATURE_OUT_OF_ORDER');
    expect((await sign('clerk.lvyuan', `pickup:${SHOP_A}`, 'giver')).body.error.code).to.equal('SIGNER_NOT_PARTY');
    ok(await sign('clerk.qingcheng', `pickup:${SHOP_A}`, 'giver'), 201);
    expect((await get(`${base}/bags/${bagA}`, 'clerk.qingcheng')).body.state).to.equal('sealed'); // one signature moves nothing
    const picked = await sign('hauler.demo', `pickup:${SHOP_A}`, 'receiver');
    ok(picked, 201);
    expect(picked.body.status).to.equal('in_transit');
    expect((await get(`${base}/bags/${bagA}`, 'clerk.qingcheng')).body).to.deep.include({ state: 'picked_up', holder: { type: 'hauler', id: hauler1 } });
    ok(await sign('clerk.lvyuan', `pickup:${SHOP_B}`, 'giver'), 201);
    ok(await sign('hauler.demo', `pickup:${SHOP_B}`, 'receiver'), 201);
  });

  it('shows a hauler only its manifests and a facility only what is sent to it', async () => {
    expect((await get(`${base}/manifests/${manifestId}`, 'hauler.second')).body.error.code).to.equal('OUT_OF_SCOPE');
    expect((await get(`${base}/manifests`, 'hauler.second')).body.items).to.deep.equal([]);
    expect((await get(`${base}/bags`, 'hauler.second')).body.items).to.deep.equal([]);
    expect((await get(`${base}/manifests/${manifestId}`, 'incinerator.op')).body.error.code).to.equal('OUT_OF_SCOPE');
    expect((await get(`${base}/manifests`, 'incinerator.op')).body.items).to.deep.equal([]);
    expect((await get(`${base}/manifests`, 'facility.demo')).body.items.map((x: { id: string }) => x.id)).to.deep.equal([manifestId]);
    expect((await get(`${base}/manifests`, 'hauler.demo')).body.items).to.have.length(1);
    // Only the carrying company may add a transporter; another county's hauler sees nothing.
    expect((await post(`${base}/manifests/${manifestId}/transporters`, 'hauler.second', { id: newClientId(), haulerId: hauler2 })).body.error.code).to.equal('OUT_OF_SCOPE');
    expect((await get(`${base}/manifests/${manifestId}`, 'jiange.hauler')).status).to.equal(403);
  });

  it('hands the load to a second transporter, then delivers it to the facility', async () => {
    ok(await post(`${base}/manifests/${manifestId}/transporters`, 'hauler.demo', { id: newClientId(), haulerId: hauler2 }), 200);
    const view = await get(`${base}/manifests/${manifestId}`, 'hauler.second');
    ok(view, 200);
    expect(view.body.nextSigner).to.deep.equal({ status: 'sign', handover: 'transfer:1', side: 'giver', party: { type: 'hauler', id: hauler1 } });
    ok(await sign('hauler.demo', 'transfer:1', 'giver'), 201);
    ok(await sign('hauler.second', 'transfer:1', 'receiver'), 201);
    expect((await get(`${base}/bags/${bagB}`, 'hauler.second')).body.holder).to.deep.equal({ type: 'hauler', id: hauler2 });
    expect((await post(`${base}/manifests/${manifestId}/inspections`, 'facility.demo', { id: newClientId(), bags: [{ bagId: bagA, outcome: 'accepted', measuredWeightG: 600, sealIntact: true }] })).body.error.code).to.equal('MANIFEST_NOT_DELIVERED');
    expect((await sign('hauler.demo', 'delivery', 'giver')).body.error.code).to.equal('SIGNER_NOT_PARTY');
    ok(await sign('hauler.second', 'delivery', 'giver'), 201);
    const delivered = await sign('facility.demo', 'delivery', 'receiver');
    ok(delivered, 201);
    expect(delivered.body).to.include({ status: 'delivered' });
    expect(delivered.body.nextSigner).to.deep.equal({ status: 'complete' });
    expect(delivered.body.signatures).to.have.length(8);
    expect(delivered.body.signatures[0]).to.include({ signerRole: 'clerk', device: 'pad-clerk.qingcheng' });
  });

  it('receives with one weight discrepancy and one broken seal, each needing a typed discrepancy with a comment', async () => {
    const path = `${base}/manifests/${manifestId}/inspections`;
    const bagAInput = { bagId: bagA, outcome: 'accepted', measuredWeightG: 800, sealNoRead: 'QS-A-0001', sealIntact: true };
    const bagBInput = { bagId: bagB, outcome: 'accepted', measuredWeightG: 1700, sealNoRead: 'QS-B-0001', sealIntact: false };
    const missing = await post(path, 'facility.demo', { id: newClientId(), bags: [bagAInput, bagBInput] });
    ok(missing, 422);
    expect(missing.body.error.code).to.equal('DISCREPANCY_REQUIRED');
    expect(missing.body.error.details.map((d: { code: string }) => d.code)).to.deep.equal(['weight']);
    expect((await post(path, 'facility.demo', { id: newClientId(), bags: [{ ...bagAInput, discrepancies: [{ type: 'weight', comment: '   ' }] }] })).status).to.equal(400);
    expect((await post(path, 'incinerator.op', { id: newClientId(), bags: [bagAInput] })).body.error.code).to.equal('OUT_OF_SCOPE');
    const res = await post(path, 'facility.demo', { id: newClientId(), bags: [
      { ...bagAInput, discrepancies: [{ type: 'weight', comment: '袋内有泥水，重量超出' }] },
      { ...bagBInput, discrepancies: [{ type: 'broken_seal', comment: '封条断裂，已拍照' }] },
    ] });
    ok(res, 201);
    expect(res.body.inspections[0].discrepancies).to.deep.equal([{ type: 'weight', expectedValue: 605, actualValue: 800, comment: '袋内有泥水，重量超出' }]);
    expect(res.body.inspections[1].discrepancies[0]).to.include({ type: 'broken_seal' });
    expect((await post(path, 'facility.demo', { id: newClientId(), bags: [bagAInput] })).body.error.code).to.equal('BAG_ALREADY_INSPECTED');
    // A correction is a new inspection superseding the old one.
    const corr = await post(`${base}/bags/${bagA}/corrections`, 'facility.demo', { id: newClientId(), outcome: 'accepted', measuredWeightG: 790, discrepancies: [{ type: 'weight', comment: '复秤' }], comment: '秤已校准后复秤' });
    ok(corr, 201);
    expect(corr.body).to.include({ measuredWeightG: 790, supersedesId: res.body.inspections[0].id });
    expect(await t.db.knex('custody_inspections').where({ county_id: COUNTY, bag_id: bagA })).to.have.length(2);
  });

  it('disposes of the bags with a certificate, closing them and the manifest', async () => {
    const body = { id: newClientId(), bagIds: [bagA, bagB], method: 'incineration', disposalFacilityId: INCINERATOR, facilityLicenceNo: '川环危第511402063号', certificateNo: 'MS-2026-0315-01', disposedOn: '2026-03-15' };
    expect((await post(`${base}/disposals`, 'facility.demo', { ...body, id: newClientId(), facilityLicenceNo: 'WRONG' })).body.error.code).to.equal('DISPOSAL_LICENCE_MISMATCH');
    expect((await post(`${base}/disposals`, 'incinerator.op', body)).body.error.code).to.equal('OUT_OF_SCOPE');
    const res = await post(`${base}/disposals`, 'facility.demo', body);
    ok(res, 201);
    expect((await get(`${base}/bags/${bagA}`, 'clerk.qingcheng')).body).to.include({ state: 'disposed', disposalId: body.id });
    expect((await get(`${base}/manifests/${manifestId}`, 'facility.demo')).body.status).to.equal('closed');
    expect((await post(`${base}/disposals`, 'facility.demo', { ...body, id: newClientId(), certificateNo: 'X-2' })).body.error.code).to.equal('BAG_WRONG_STATE');
  });

  it('the mass balance holds in containers and kg, the differences explained by recorded discrepancies', async () => {
    const res = await get(`${base}/custody/balance`, 'qingshen.official');
    ok(res, 200);
    expect(res.body.problems).to.deep.equal([]);
    const hdpe = res.body.materials.find((m: { material: string }) => m.material === 'HDPE');
    expect(hdpe.counts).to.include({ returned: 19, disposed: 19, unexplained: 0, inTransit: 0, atFacilities: 0 });
    expect(hdpe.grams).to.include({ returned: 11 * 55 + 8 * 210, disposed: 790 + 1700, explainedByDiscrepancies: 605 - 790, withinTolerance: 1680 - 1700, unexplained: 0 });
    expect(hdpe.kg).to.include({ returned: 2.285, disposed: 2.49 });
    expect(res.body.ok).to.equal(true);
    expect((await get(`${base}/custody/balance`, 'hauler.demo')).body.error.code).to.equal('FORBIDDEN');
  });

  it('the hash chain verifies and every event is on it', async () => {
    const res = await get(`${base}/custody/verify`, 'qingshen.official');
    ok(res, 200);
    expect(res.body).to.include({ ok: true, firstBroken: null });
    expect(res.body.events).to.equal(Number((await t.db.knex('custody_events').where({ county_id: COUNTY }).count('* as n').first())!.n));
    const bag = await get(`${base}/bags/${bagA}`, 'qingshen.official');
    expect(bag.body.events.map((e: { type: string }) => e.type)).to.deep.equal(['bag_opened', 'bag_items_added', 'bag_sealed', 'bag_inspected', 'inspection_corrected']);
  });

  it('exports the inspectors\' ledger of a shop as CSV and a printable page', async () => {
    const csv = await get(`${base}/custody/ledger?from=2026-03-01&to=2026-03-31`, 'clerk.qingcheng');
    ok(csv, 200);
    expect(csv.headers['content-type']).to.match(/text\/csv/);
    const lines = csv.text.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).to.match(/^record,shop_licence/);
    expect(lines.filter((l) => l.startsWith('received,'))).to.have.length(1);
    const bagLine = lines.find((l) => l.startsWith('bag,'))!;
    expect(bagLine).to.include('QS-A-0001').and.include('青神县农药包装废弃物集中收集中心').and.include('incineration').and.include('MS-2026-0315-01');
    expect(csv.text).not.to.include('QS-B-0001'); // the clerk's own shop only
    const html = await get(`${base}/custody/ledger?format=html&shopId=${SHOP_B}`, 'qingshen.official');
    ok(html, 200);
    expect(html.text).to.include('<table').and.include('QS-B-0001').and.include('已处置');
    expect((await get(`${base}/custody/ledger?shopId=${SHOP_B}`, 'clerk.qingcheng')).body.error.code).to.equal('OUT_OF_SCOPE');
  });
});
