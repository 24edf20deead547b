// A unit-coded container taken from sale to disposal certificate over the API, as the shop, the
// hauler and the facility do it (used by the trace tests and the public check's browser test).
import { expect } from 'chai';
import { demoId } from '../../../seeds/demo-county.js';
import { newClientId } from '../../../src/shared/client-id.js';
import type { TestContext } from '../../support/harness.js';
import { COUNTY, GLYPHOSATE, SHOP_A, returnBody, saleBody, traceUrl } from '../ledger/ledger-fixtures.js';

export const HDPE_1L = demoId('container_types', `${COUNTY}:HDPE-1L`);
export const CENTRE = demoId('facilities', `${COUNTY}:collection-centre`);
export const INCINERATOR = demoId('facilities', `${COUNTY}:incinerator`);

export interface FollowOptions { buyer: { phone: string; name: string }; sealNo: string; certificateNo: string; lotQuantity?: number }

/** Sells `code` (plus `lotQuantity` containers without a code), returns, bags, ships, receives and disposes of them. */
export async function followToCertificate(t: TestContext, code: string, o: FollowOptions): Promise<{ saleId: string; bagId: string; manifestId: string }> {
  const base = `/api/v1/counties/${COUNTY}`;
  const post = async (path: string, who: string, body: unknown) => t.api().post(path).set('Authorization', await t.token(who)).send(body as object);
  const ok = (res: { status: number; body: unknown }, status: number) => expect(res.status, JSON.stringify(res.body)).to.equal(status);
  const lot = o.lotQuantity ?? 0;
  const sale = await post(`${base}/sales`, 'clerk.qingcheng', saleBody({ purchaser: o.buyer, lines: [{ productId: GLYPHOSATE.id, quantity: 1 + lot, unitCodes: [code] }] }));
  ok(sale, 201);
  const items: unknown[] = [{ scan: traceUrl(code), inspection: 'accepted' }];
  if (lot > 0) items.push({ productId: GLYPHOSATE.id, quantity: lot, inspection: 'accepted' });
  ok(await post(`${base}/returns`, 'clerk.qingcheng', returnBody({ items, returner: { phone: o.buyer.phone }, payment: { method: 'cash' } })), 201);
  const bag = await post(`${base}/bags`, 'clerk.qingcheng', { id: newClientId(), shopId: SHOP_A, material: 'HDPE' });
  ok(bag, 201);
  const bagId = bag.body.id as string;
  ok(await post(`${base}/bags/${bagId}/items`, 'clerk.qingcheng', { id: newClientId(), ...(lot > 0 ? { counts: [{ containerTypeId: HDPE_1L, quantity: lot }] } : {}), unitCodes: [code] }), 200);
  ok(await post(`${base}/bags/${bagId}/seal`, 'clerk.qingcheng', { id: newClientId(), sealNo: o.sealNo }), 200);
  const me = await t.api().get('/api/v1/auth/me').set('Authorization', await t.token('hauler.demo'));
  const m = await post(`${base}/manifests`, 'hauler.demo', { id: newClientId(), haulerId: me.body.user.haulerId, facilityId: CENTRE });
  ok(m, 201);
  const manifestId = m.body.id as string;
  ok(await post(`${base}/manifests/${manifestId}/bags`, 'hauler.demo', { id: newClientId(), bagIds: [bagId] }), 200);
  const sign = (who: string, handover: string, side: string) => post(`${base}/manifests/${manifestId}/signatures`, who, { id: newClientId(), handover, side, device: `pad-${who}` });
  ok(await sign('clerk.qingcheng', `pickup:${SHOP_A}`, 'giver'), 201);
  ok(await sign('hauler.demo', `pickup:${SHOP_A}`, 'receiver'), 201);
  ok(await sign('hauler.demo', 'delivery', 'giver'), 201);
  ok(await sign('facility.demo', 'delivery', 'receiver'), 201);
  ok(await post(`${base}/manifests/${manifestId}/inspections`, 'facility.demo', { id: newClientId(), bags: [{ bagId, outcome: 'accepted', measuredWeightG: 200, sealNoRead: o.sealNo, sealIntact: true, discrepancies: [{ type: 'weight', comment: '袋内有泥' }] }] }), 201);
  ok(await post(`${base}/disposals`, 'facility.demo', { id: newClientId(), bagIds: [bagId], method: 'incineration', disposalFacilityId: INCINERATOR, facilityLicenceNo: '川环危第511402063号', certificateNo: o.certificateNo, disposedOn: '2026-03-15' }), 201);
  return { saleId: (sale.body.id ?? sale.body.saleId) as string, bagId, manifestId };
}
