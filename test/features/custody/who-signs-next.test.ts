// whoSignsNext is a pure function of the manifest's parties and its signatures.
import { expect } from 'chai';
import { completedHandovers, handovers, pickupsClosed, whoSignsNext, type ManifestParties, type SignatureFact } from '../../../src/features/manifests/who-signs-next.js';
import { isValidTrackingNumber, makeTrackingNumber } from '../../../src/features/manifests/tracking-number.js';

const SHOP_A = 'aaaaaaaa-0000-7000-8000-000000000001';
const SHOP_B = 'bbbbbbbb-0000-7000-8000-000000000002';
const H1 = '11111111-0000-7000-8000-000000000001';
const H2 = '22222222-0000-7000-8000-000000000002';
const FAC = 'ffffffff-0000-7000-8000-000000000001';

const m = (over: Partial<ManifestParties> = {}): ManifestParties => ({ pickupShops: [SHOP_A], transporters: [H1], facilityId: FAC, ...over });
const sig = (handover: string, side: 'giver' | 'receiver'): SignatureFact => ({ handover, side });

describe('whoSignsNext', () => {
  it('waits for bags while no shop has any on the manifest', () => {
    expect(whoSignsNext(m({ pickupShops: [] }), [])).to.deep.equal({ status: 'waiting_for_bags' });
  });

  it('asks the shop (giver) first, then the first transporter (receiver)', () => {
    expect(whoSignsNext(m(), [])).to.deep.equal({ status: 'sign', handover: `pickup:${SHOP_A}`, side: 'giver', party: { type: 'shop', id: SHOP_A } });
    expect(whoSignsNext(m(), [sig(`pickup:${SHOP_A}`, 'giver')])).to.deep.equal({ status: 'sign', handover: `pickup:${SHOP_A}`, side: 'receiver', party: { type: 'hauler', id: H1 } });
  });

  it('takes the shops in pickup order, then delivery from the only transporter to the facility', () => {
    const parties = m({ pickupShops: [SHOP_A, SHOP_B] });
    const done = [sig(`pickup:${SHOP_A}`, 'giver'), sig(`pickup:${SHOP_A}`, 'receiver')];
    expect(whoSignsNext(parties, done)).to.deep.include({ handover: `pickup:${SHOP_B}`, side: 'giver', party: { type: 'shop', id: SHOP_B } });
    const picked = [...done, sig(`pickup:${SHOP_B}`, 'giver'), sig(`pickup:${SHOP_B}`, 'receiver')];
    expect(whoSignsNext(parties, picked)).to.deep.include({ handover: 'delivery', side: 'giver', party: { type: 'hauler', id: H1 } });
    expect(whoSignsNext(parties, [...picked, sig('delivery', 'giver')])).to.deep.include({ handover: 'delivery', side: 'receiver', party: { type: 'facility', id: FAC } });
    expect(whoSignsNext(parties, [...picked, sig('delivery', 'giver'), sig('delivery', 'receiver')])).to.deep.equal({ status: 'complete' });
  });

  it('puts a transfer between consecutive transporters before the delivery', () => {
    const parties = m({ transporters: [H1, H2] });
    const picked = [sig(`pickup:${SHOP_A}`, 'giver'), sig(`pickup:${SHOP_A}`, 'receiver')];
    expect(whoSignsNext(parties, picked)).to.deep.include({ handover: 'transfer:1', side: 'giver', party: { type: 'hauler', id: H1 } });
    expect(whoSignsNext(parties, [...picked, sig('transfer:1', 'giver')])).to.deep.include({ handover: 'transfer:1', side: 'receiver', party: { type: 'hauler', id: H2 } });
    expect(whoSignsNext(parties, [...picked, sig('transfer:1', 'giver'), sig('transfer:1', 'receiver')])).to.deep.include({ handover: 'delivery', side: 'giver', party: { type: 'hauler', id: H2 } });
  });

  it('never skips an unsigned giver, whatever else is signed', () => {
    expect(whoSignsNext(m(), [sig(`pickup:${SHOP_A}`, 'receiver')])).to.deep.include({ handover: `pickup:${SHOP_A}`, side: 'giver' });
  });

  it('a shop added after another shop was picked up is next, and completed hand-overs are those with both sides', () => {
    const parties = m({ pickupShops: [SHOP_A, SHOP_B] });
    const s = [sig(`pickup:${SHOP_A}`, 'giver'), sig(`pickup:${SHOP_A}`, 'receiver'), sig(`pickup:${SHOP_B}`, 'giver')];
    expect(completedHandovers(parties, s)).to.deep.equal([`pickup:${SHOP_A}`]);
    expect(pickupsClosed(s)).to.equal(false);
    expect(pickupsClosed([...s, sig('delivery', 'giver')])).to.equal(true);
    expect(handovers(parties).map((h) => h.handover)).to.deep.equal([`pickup:${SHOP_A}`, `pickup:${SHOP_B}`, 'delivery']);
  });
});

describe('manifest tracking numbers (ISO 7064 MOD 97-10)', () => {
  it('are 16 digits that pass their own check', () => {
    const t = makeTrackingNumber('511425', 1);
    expect(t).to.match(/^511425000000010?[0-9]{2}$/);
    expect(t).to.have.length(16);
    expect(isValidTrackingNumber(t)).to.equal(true);
  });

  it('catch every single-digit error and every adjacent transposition', () => {
    const t = makeTrackingNumber('511425', 4711);
    for (let i = 0; i < t.length; i++) {
      for (let d = 0; d <= 9; d++) {
        if (String(d) === t[i]) continue;
        expect(isValidTrackingNumber(t.slice(0, i) + d + t.slice(i + 1)), `digit ${i} → ${d}`).to.equal(false);
      }
      if (i + 1 < t.length && t[i] !== t[i + 1]) {
        expect(isValidTrackingNumber(t.slice(0, i) + t[i + 1] + t[i] + t.slice(i + 2))).to.equal(false);
      }
    }
  });
});
