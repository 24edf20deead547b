// Incentives at the counter (issue 17), without the server: the rate that applies (spec rules 1–2),
// the caps, and what the counter pays and journals for a return offline — deposits back for what
// carries one, the county's buy-back and points for the rest, the untracked policy refund only where
// no rate matches — and the day end that counts buy-back as cash out of the drawer.
import { expect } from 'chai';
import fc from 'fast-check';
import fs from 'node:fs';
import { Counter } from '../../../terminals/pos/counter.js';
import { Journal } from '../../../terminals/pos/journal.js';
import { ReferenceCache, type Snapshot } from '../../../terminals/pos/reference-cache.js';
import {
  describeIncentive, formatPoints, incentiveFor, NO_SETTINGS, parsePoints, pickIncentiveRate, readIncentive,
  type CachedIncentiveRate, type CapUse,
} from '../../../terminals/pos/incentive-estimate.js';
import { withGtinCheckDigit } from '../../../src/shared/gtin.js';
import { unitCode } from '../../features/ledger/ledger-fixtures.js';
import { tempDir } from './pos-support.js';

const BOTTLE_200 = { id: '00000000-0000-4000-8000-0000000000b2', material: 'HDPE', volumeMl: 200 };
const BOTTLE_1000 = { id: '00000000-0000-4000-8000-0000000000b1', material: 'PET', volumeMl: 1000 };
const BAG = { id: '00000000-0000-4000-8000-0000000000ba', material: 'plastic_bag', volumeMl: 50 };

function rate(over: Partial<CachedIncentiveRate>): CachedIncentiveRate {
  return { containerTypeId: null, containerKind: 'any', minVolumeMl: null, maxVolumeMl: null, buybackFen: 0, pointsMilli: 0, effectiveFrom: '2026-01-01', effectiveTo: null, ...over };
}

describe('incentives at the counter: which rate applies (spec rules 1–2)', () => {
  // Qingshen-style policy: 0.3 yuan for bottles up to 300 mL, 0.5 above, 0.3 per bag, points for anything.
  const small = rate({ id: 'small', containerKind: 'bottle', maxVolumeMl: 300, buybackFen: 30 });
  const large = rate({ id: 'large', containerKind: 'bottle', minVolumeMl: 301, buybackFen: 50 });
  const bags = rate({ id: 'bags', containerKind: 'bag', buybackFen: 30 });
  const anyPoints = rate({ id: 'any', pointsMilli: 200 });
  const rates = [anyPoints, small, large, bags];

  it('matches kind and volume band (bounds inclusive); a kind beats any', () => {
    expect(pickIncentiveRate(rates, BOTTLE_200, '2026-06-01')?.id).to.equal('small');
    expect(pickIncentiveRate(rates, { ...BOTTLE_200, volumeMl: 300 }, '2026-06-01')?.id).to.equal('small');
    expect(pickIncentiveRate(rates, { ...BOTTLE_200, volumeMl: 301 }, '2026-06-01')?.id).to.equal('large');
    expect(pickIncentiveRate(rates, BOTTLE_1000, '2026-06-01')?.id).to.equal('large');
    expect(pickIncentiveRate(rates, BAG, '2026-06-01')?.id).to.equal('bags');
    expect(pickIncentiveRate([anyPoints], BAG, '2026-06-01')?.id).to.equal('any');
  });

  it('a rate for the container type beats a kind; a narrower band beats a wider one', () => {
    const own = rate({ id: 'own', containerTypeId: BOTTLE_200.id, buybackFen: 80 });
    expect(pickIncentiveRate([...rates, own], BOTTLE_200, '2026-06-01')?.id).to.equal('own');
    const narrow = rate({ id: 'narrow', minVolumeMl: 150, maxVolumeMl: 250, pointsMilli: 100 });
    const wide = rate({ id: 'wide', minVolumeMl: 1, maxVolumeMl: 5000, pointsMilli: 100 });
    expect(pickIncentiveRate([wide, narrow], BOTTLE_200, '2026-06-01')?.id).to.equal('narrow');
    expect(pickIncentiveRate([narrow, wide], BOTTLE_200, '2026-06-01')?.id).to.equal('narrow');
  });

  it('only rates in force on the day (effective_to exclusive), active ones, and a band needs the volume', () => {
    const old = rate({ id: 'old', containerKind: 'bottle', buybackFen: 10, effectiveFrom: '2025-01-01', effectiveTo: '2026-01-01' });
    const next = rate({ id: 'next', containerKind: 'bottle', buybackFen: 20, effectiveFrom: '2026-01-01' });
    expect(pickIncentiveRate([old, next], BOTTLE_200, '2025-12-31')?.id).to.equal('old');
    expect(pickIncentiveRate([old, next], BOTTLE_200, '2026-01-01')?.id).to.equal('next');
    expect(pickIncentiveRate([old, next], BOTTLE_200, '2024-12-31')).to.equal(null);
    expect(pickIncentiveRate([{ ...next, active: false }], BOTTLE_200, '2026-06-01')).to.equal(null);
    expect(pickIncentiveRate([small], { ...BOTTLE_200, volumeMl: null }, '2026-06-01')).to.equal(null);
    expect(pickIncentiveRate([small, anyPoints], { ...BOTTLE_200, volumeMl: null }, '2026-06-01')?.id).to.equal('any');
  });

  it('the winner does not depend on the order the snapshot lists the rates (property)', () => {
    const arb = fc.record({
      containerTypeId: fc.constantFrom(null, BOTTLE_200.id, BAG.id),
      containerKind: fc.constantFrom('bottle' as const, 'bag' as const, 'any' as const),
      minVolumeMl: fc.option(fc.integer({ min: 1, max: 400 }), { nil: null }),
      maxVolumeMl: fc.option(fc.integer({ min: 400, max: 2000 }), { nil: null }),
      buybackFen: fc.integer({ min: 1, max: 100 }),
    });
    fc.assert(fc.property(fc.array(arb, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 2000 }), (shapes, volume) => {
      // Distinct specificity per rate so the winner is unique, as the server's overlap rule guarantees.
      const rs = shapes.map((x, i) => rate({ ...x, id: String(i), minVolumeMl: x.minVolumeMl, maxVolumeMl: x.maxVolumeMl === null ? null : x.maxVolumeMl + i }));
      const type = { id: BOTTLE_200.id, material: 'HDPE', volumeMl: volume };
      const a = pickIncentiveRate(rs, type, '2026-06-01');
      const b = pickIncentiveRate([...rs].reverse(), type, '2026-06-01');
      const spec = (r: CachedIncentiveRate | null) => (r ? [r.containerTypeId !== null, r.containerKind !== 'any', (r.minVolumeMl !== null ? 1 : 0) + (r.maxVolumeMl !== null ? 1 : 0)].join() : null);
      expect(spec(a)).to.equal(spec(b));
    }), { numRuns: 200 });
  });
});

describe('incentives at the counter: what a rate gives, capped (spec rules 3, 5)', () => {
  const both = rate({ buybackFen: 30, pointsMilli: 200 });
  const fresh = (): CapUse => ({ householdBuybackFen: 0, householdPointsMilli: 0, shopBuybackFen: 0 });

  it('no rate: nothing, reason no_rate; no returner: nothing, reason returner_required', () => {
    expect(incentiveFor(null, 3, { returner: true, settings: NO_SETTINGS, used: fresh() })).to.deep.equal({ kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'no_rate' });
    expect(incentiveFor(both, 3, { returner: false, settings: NO_SETTINGS, used: fresh() })).to.deep.equal({ kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'returner_required' });
  });

  it('buy-back and points per container, kind buyback_points', () => {
    expect(incentiveFor(both, 5, { returner: true, settings: NO_SETTINGS, used: fresh() })).to.deep.equal({ kind: 'buyback_points', buybackFen: 150, pointsMilli: 1000, reason: null });
  });

  it('the household cap pays whole containers of buy-back and cuts points to the milli-point left', () => {
    const used = { householdBuybackFen: 400, householdPointsMilli: 19_900, shopBuybackFen: 0 };
    const settings = { ...NO_SETTINGS, incentiveHouseholdBuybackCapFen: 500, incentiveHouseholdPointsCapMilli: 20_000 };
    // 100 fen of room at 30 fen each: 3 containers; 100 milli-points of room for 5 × 200.
    expect(incentiveFor(both, 5, { returner: true, settings, used })).to.deep.equal({ kind: 'buyback_points', buybackFen: 90, pointsMilli: 100, reason: 'household_cap' });
    expect(used).to.deep.equal({ householdBuybackFen: 490, householdPointsMilli: 20_000, shopBuybackFen: 90 });
    // Nothing left: nothing, and the reason says why.
    expect(incentiveFor(both, 1, { returner: true, settings, used })).to.deep.equal({ kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'household_cap' });
  });

  it('the shop cap stops buy-back but not points', () => {
    const settings = { ...NO_SETTINGS, incentiveShopBuybackCapFen: 1000 };
    const used = { householdBuybackFen: 0, householdPointsMilli: 0, shopBuybackFen: 1000 };
    expect(incentiveFor(both, 2, { returner: true, settings, used })).to.deep.equal({ kind: 'points', buybackFen: 0, pointsMilli: 400, reason: 'shop_cap' });
  });

  it('never more than the caps over any sequence of returns (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 12 }),
      fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 50_000 }), fc.integer({ min: 0, max: 3000 }),
      (quantities, hb, hp, sb) => {
        const settings = { ...NO_SETTINGS, incentiveHouseholdBuybackCapFen: hb, incentiveHouseholdPointsCapMilli: hp, incentiveShopBuybackCapFen: sb };
        const used = fresh();
        let fen = 0;
        let milli = 0;
        for (const q of quantities) {
          const got = incentiveFor(both, q, { returner: true, settings, used });
          expect(got.buybackFen % 30).to.equal(0);
          expect(got.buybackFen).to.be.at.most(30 * q);
          expect(got.pointsMilli).to.be.at.most(200 * q);
          fen += got.buybackFen;
          milli += got.pointsMilli;
        }
        expect(fen).to.be.at.most(Math.min(hb, sb));
        expect(milli).to.be.at.most(hp);
        expect(used.householdBuybackFen).to.equal(fen);
      },
    ), { numRuns: 200 });
  });
});

describe('incentives at the counter: words and points', () => {
  it('points read as a farmer reads them, and typed points become milli-points (at most 3 decimals, more than 0)', () => {
    expect([0, 200, 1000, 1500, 20_000, 1].map(formatPoints)).to.deep.equal(['0', '0.2', '1', '1.5', '20', '0.001']);
    expect(['2', '0.5', '1.25', ' 3 ', '0.001'].map(parsePoints)).to.deep.equal([2000, 500, 1250, 3000, 1]);
    expect(['0', '-1', '1.2345', 'abc', '', '1e3', null].map(parsePoints)).to.deep.equal([null, null, null, null, null, null, null]);
  });

  it('every incentive and reason has words in Chinese and English', () => {
    const i = { kind: 'buyback_points' as const, buybackFen: 30, pointsMilli: 200, reason: 'household_cap' as const };
    expect(describeIncentive(i, 'zh')).to.equal('有偿回收 + 积分 ¥0.30 · 积分 0.2 · 已到本户今年的上限');
    expect(describeIncentive(i, 'en')).to.equal('buy-back + points ¥0.30 · 0.2 points · the household’s yearly cap is reached');
    expect(describeIncentive({ kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'fund_empty' }, 'en')).to.contain('fund is used up');
  });

  it('reads the server\'s incentive only when it has the pinned shape', () => {
    expect(readIncentive({ kind: 'points', buybackFen: 0, pointsMilli: 400, reason: null })).to.deep.equal({ kind: 'points', buybackFen: 0, pointsMilli: 400, reason: null });
    expect(readIncentive(undefined)).to.equal(null);
    expect(readIncentive({ kind: 'cashback' })).to.equal(null);
    expect(readIncentive({ kind: 'none', reason: 'unheard_of' })).to.deep.equal({ kind: 'none', buybackFen: 0, pointsMilli: 0, reason: null });
  });
});

describe('incentives at the counter: a return offline, journaled and paid', function () {
  this.timeout(30_000);
  const NOW = new Date('2026-06-10T03:00:00Z'); // 11:00 in Asia/Shanghai
  const TERMINAL = '00000000-0000-4000-8000-00000000c0de';
  const SHOP = '00000000-0000-4000-8000-00000000500a';
  const P_BOTTLE = { id: '00000000-0000-4000-8000-0000000000a1', reg: '070128', pack: '210' };
  const P_BAG = { id: '00000000-0000-4000-8000-0000000000a2' };
  const P_BIG = { id: '00000000-0000-4000-8000-0000000000a3' };
  const gtin = (n: string) => withGtinCheckDigit(`690123456${n}`);
  let dir = '';
  let journal: Journal;

  function snapshot(extra: Partial<Snapshot> = {}): Snapshot {
    return {
      serverTime: NOW.toISOString(), businessDay: '2026-06-10',
      county: { id: '511425', nameZh: '青神县', nameEn: 'Qingshen', timezone: 'Asia/Shanghai', untrackedRefundPolicy: 'schedule_up_to_limit', lateReturnPolicy: 'refund', depositValidityDays: 365 },
      shop: { id: SHOP, name: '瑞丰农资店', licenceNo: 'L-1', address: '青神' },
      containerTypes: [
        { id: BOTTLE_200.id, code: 'HDPE-200', nameZh: '瓶', nameEn: 'bottle', material: 'HDPE', volumeMl: 200 },
        { id: BAG.id, code: 'BAG', nameZh: '袋', nameEn: 'bag', material: 'plastic_bag', volumeMl: 50 },
        { id: BOTTLE_1000.id, code: 'PET-1L', nameZh: '大瓶', nameEn: 'big bottle', material: 'PET', volumeMl: 1000 },
      ],
      products: [
        { id: P_BOTTLE.id, name: '草甘膦 41% 水剂', registrationNo: 'PD20070128', manufacturer: 'M', gtin: gtin('001'), containerTypeId: BOTTLE_200.id, packSizeCode: '210', packSizeLabel: '200 mL' },
        { id: P_BAG.id, name: '吡虫啉 袋装', registrationNo: 'PD20070130', manufacturer: 'M', gtin: gtin('002'), containerTypeId: BAG.id, packSizeCode: '100', packSizeLabel: '50 g' },
        { id: P_BIG.id, name: '百菌清 1 L', registrationNo: 'PD20070131', manufacturer: 'M', gtin: gtin('003'), containerTypeId: BOTTLE_1000.id, packSizeCode: '300', packSizeLabel: '1 L' },
      ],
      // A deposit on the small bottle only; bags and the big bottle carry none.
      depositSchedules: [{ id: '00000000-0000-4000-8000-00000000d001', containerTypeId: BOTTLE_200.id, depositFen: 100, effectiveFrom: '2026-01-01', effectiveTo: null }],
      depositsInForce: [],
      farmers: [{ id: '00000000-0000-4000-8000-00000000f001', name: '李四', phoneE164: '+8617460000701', village: '三村' }],
      farmersIncluded: true,
      ...extra,
    };
  }
  const RATES: CachedIncentiveRate[] = [
    rate({ id: 'bottles', containerKind: 'bottle', buybackFen: 30, pointsMilli: 200 }),
    rate({ id: 'bags', containerKind: 'bag', pointsMilli: 500 }),
  ];

  async function counterWith(snap: Snapshot): Promise<Counter> {
    const ref = new ReferenceCache(snap, NOW.toISOString());
    return new Counter(journal, () => ({ terminalId: TERMINAL, countyId: '511425', shopId: SHOP, shopName: '瑞丰农资店' }), () => ref, null, 58, () => NOW, () => undefined, () => null);
  }

  beforeEach(async () => {
    dir = tempDir('incentive-counter');
    journal = await Journal.open(dir, { now: () => NOW });
  });
  afterEach(async () => {
    await journal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('no incentive rate cached: counted containers get the deposit in force, as before issue 17', async () => {
    const counter = await counterWith(snapshot());
    const r = await counter.return({ returner: { phone: '17460000701' }, items: [{ productId: P_BOTTLE.id, quantity: 3, inspection: 'accepted' }], payment: { method: 'cash' } });
    expect(r.entry.record.local.refundPaidFen).to.equal(300);
    expect((r.entry.record.payload.items as Array<{ refundPaidFen: number }>)[0]!.refundPaidFen).to.equal(300);
    expect(r.entry.record.local.buybackPaidFen).to.equal(0);
    expect(r.preview.join('\n')).to.not.contain('积分');
    // The day end of a county without incentives prints as before; the server still gets the zeros.
    const report = await counter.drawerReport({});
    expect(report.preview.join('\n')).to.not.contain('积分').and.to.not.contain('有偿回收');
    expect(report.entry.record.payload).to.include({ buybackPaidFen: 0, pointsEarnedMilli: 0, refundsPaidFen: 300 });
  });

  it('the returner\'s own deposits first, then the county\'s buy-back and points; the cash paid includes the buy-back', async () => {
    const counter = await counterWith(snapshot({ incentiveRates: RATES }));
    await counter.sale({ purchaser: { phone: '17460000701' }, lines: [{ productId: P_BOTTLE.id, quantity: 2 }] });
    const code = unitCode(P_BOTTLE);
    await counter.sale({ purchaser: { phone: '17460000701' }, lines: [{ productId: P_BOTTLE.id, quantity: 1, unitCodes: [code] }] });
    const r = await counter.return({
      returner: { phone: '17460000701' },
      items: [
        { productId: P_BOTTLE.id, quantity: 5, inspection: 'accepted' }, // 2 of their own (deposit), 3 beyond (buy-back + points)
        { scan: code, inspection: 'accepted' }, // sold here with its deposit
        { productId: P_BAG.id, quantity: 4, inspection: 'accepted' }, // no deposit: points
        { productId: P_BIG.id, quantity: 1, inspection: 'rejected', reasonCode: 'not_rinsed' },
      ],
      payment: { method: 'cash' },
    });
    const items = r.entry.record.local.items as Array<{ refundFen: number; depositFen: number; incentive: unknown }>;
    expect(items.map((i) => i.incentive)).to.deep.equal([
      { kind: 'buyback_points', buybackFen: 90, pointsMilli: 600, reason: null },
      { kind: 'deposit', buybackFen: 0, pointsMilli: 0, reason: null },
      { kind: 'points', buybackFen: 0, pointsMilli: 2000, reason: null },
      { kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'rejected' },
    ]);
    expect(items.map((i) => [i.depositFen, i.refundFen])).to.deep.equal([[200, 290], [100, 100], [0, 0], [0, 0]]);
    expect(r.entry.record.local).to.include({ refundPaidFen: 390, buybackPaidFen: 90, pointsEstimateMilli: 2600 });
    // What goes to the server: what the clerk paid per item, buy-back included.
    expect((r.entry.record.payload.items as Array<{ refundPaidFen: number }>).map((i) => i.refundPaidFen)).to.deep.equal([290, 100, 0, 0]);
    const paper = r.preview.join('\n');
    expect(paper).to.contain('有偿回收 buy-back').and.to.contain('￥0.90').and.to.contain('本次积分 Points earned');
    expect(paper).to.contain('联网后可查 after sync').and.to.contain('本机估算');
    // The next return of the same farmer: their own lots are used up, all three beyond get the rate.
    const again = counter.estimateReturn({ returner: { phone: '17460000701' }, items: [{ productId: P_BOTTLE.id, quantity: 3, inspection: 'accepted' }] });
    expect(again.items[0]!.incentive).to.deep.equal({ kind: 'buyback_points', buybackFen: 90, pointsMilli: 600, reason: null });
  });

  it('no phone: a container without a deposit of its own gets nothing (returner_required), and nothing is paid for it', async () => {
    const counter = await counterWith(snapshot({ incentiveRates: RATES }));
    const est = counter.estimateReturn({ items: [{ productId: P_BOTTLE.id, quantity: 2, inspection: 'accepted' }, { productId: P_BAG.id, quantity: 1, inspection: 'accepted' }] });
    expect(est.items.map((i) => i.incentive)).to.deep.equal([
      { kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'returner_required' },
      { kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'returner_required' },
    ]);
    expect(est.refundFen).to.equal(0);
  });

  it('a product without a deposit and without a rate: nothing, reason no_rate; a phone still being typed counts as no returner', async () => {
    const counter = await counterWith(snapshot({ incentiveRates: [RATES[1]!] }));
    const est = counter.estimateReturn({ returner: { phone: '1746' }, items: [{ productId: P_BIG.id, quantity: 1, inspection: 'accepted' }] });
    expect(est.items[0]!.incentive).to.deep.equal({ kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'no_rate' });
    // A new farmer whose name is not typed yet is a returner for the estimate.
    const est2 = counter.estimateReturn({ returner: { phone: '17460000799' }, items: [{ productId: P_BAG.id, quantity: 1, inspection: 'accepted' }] });
    expect(est2.items[0]!.incentive).to.deep.equal({ kind: 'points', buybackFen: 0, pointsMilli: 500, reason: null });
  });

  it('the caps count what this counter already paid and gave this year', async () => {
    const counter = await counterWith(snapshot({ incentiveRates: RATES, county: { ...snapshot().county, incentiveHouseholdBuybackCapFen: 100, incentiveShopBuybackCapFen: null, incentiveHouseholdPointsCapMilli: 1000 } }));
    await counter.return({ returner: { phone: '17460000701' }, items: [{ productId: P_BOTTLE.id, quantity: 2, inspection: 'accepted' }], payment: { method: 'cash' } });
    const est = counter.estimateReturn({ returner: { phone: '17460000701' }, items: [{ productId: P_BOTTLE.id, quantity: 3, inspection: 'accepted' }] });
    // 60 fen and 400 milli-points used: 40 fen (one container) and 600 milli-points left.
    expect(est.items[0]!.incentive).to.deep.equal({ kind: 'buyback_points', buybackFen: 30, pointsMilli: 600, reason: 'household_cap' });
    // Another household is not capped by the first one's returns.
    const other = counter.estimateReturn({ returner: { phone: '17460000702', name: '王五' }, items: [{ productId: P_BOTTLE.id, quantity: 3, inspection: 'accepted' }] });
    expect(other.items[0]!.incentive).to.deep.equal({ kind: 'buyback_points', buybackFen: 90, pointsMilli: 600, reason: null });
  });

  it('day end: buy-back is part of the refunds and leaves the drawer; points earned are counted apart from money', async () => {
    const counter = await counterWith(snapshot({ incentiveRates: RATES }));
    await counter.sale({ purchaser: { phone: '17460000701' }, lines: [{ productId: P_BOTTLE.id, quantity: 1 }] });
    await counter.return({ returner: { phone: '17460000701' }, items: [{ productId: P_BOTTLE.id, quantity: 3, inspection: 'accepted' }], payment: { method: 'cash' } });
    await counter.return({ returner: { phone: '17460000701' }, items: [{ productId: P_BAG.id, quantity: 2, inspection: 'accepted' }], payment: { method: 'cash' } });
    const f = counter.drawerFigures(undefined, 5000);
    // Deposit 100 taken; paid 100 (own deposit) + 2 × 30 buy-back; 3 × 200 + 2 × 500 milli-points.
    expect(f).to.include({ depositsTakenFen: 100, refundsPaidFen: 160, refundsPaidCashFen: 160, buybackPaidFen: 60, pointsEarnedMilli: 1400, netCashExpectedFen: 5000 + 100 - 160 });
    const report = await counter.drawerReport({ openingFloatFen: 5000 });
    expect(report.entry.record.payload).to.include({ buybackPaidFen: 60, pointsEarnedMilli: 1400, pointsRedeemedMilli: 0 });
    const paper = report.preview.join('\n');
    expect(paper).to.match(/其中有偿回收 buy-back\s+￥0\.60/).and.to.match(/积分发放 Points earned\s+1\.4/);
  });

  it('once synced, the server\'s answer replaces the estimate (points, balance), item by item', async () => {
    const counter = await counterWith(snapshot({ incentiveRates: RATES }));
    const r = await counter.return({ returner: { phone: '17460000701' }, items: [{ productId: P_BAG.id, quantity: 2, inspection: 'accepted' }], payment: { method: 'cash' } });
    expect(Counter.returnIncentives(r.entry)).to.include({ fromServer: false, totalPointsMilli: 1000 });
    // The server capped the household: its answer (pinned fields) is what the screen and day end show.
    await journal.recordOutcomes([{ id: r.entry.record.id, state: 'synced', result: { items: [{ itemNo: 1, incentive: { kind: 'points', buybackFen: 0, pointsMilli: 700, reason: 'household_cap' } }], totalBuybackFen: 0, totalPointsMilli: 700, pointsBalanceMilli: 12_700 } }], NOW);
    const inc = Counter.returnIncentives(journal.get(r.entry.record.id)!);
    expect(inc).to.deep.include({ fromServer: true, totalPointsMilli: 700, pointsBalanceMilli: 12_700 });
    expect(inc.items[0]).to.deep.equal({ kind: 'points', buybackFen: 0, pointsMilli: 700, reason: 'household_cap' });
    expect(counter.drawerFigures().pointsEarnedMilli).to.equal(700);
    // An answer without incentives (a server before issue 17) leaves the estimate standing.
    const r2 = await counter.return({ returner: { phone: '17460000701' }, items: [{ productId: P_BAG.id, quantity: 1, inspection: 'accepted' }], payment: { method: 'cash' } });
    await journal.recordOutcomes([{ id: r2.entry.record.id, state: 'synced', result: { items: [{ itemNo: 1 }] } }], NOW);
    expect(Counter.returnIncentives(journal.get(r2.entry.record.id)!)).to.include({ fromServer: false, totalPointsMilli: 500 });
  });
});
