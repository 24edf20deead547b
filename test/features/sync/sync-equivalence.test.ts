// Batch-native sync ingest changes nothing a record-at-a-time server would have decided: a random
// journal (sales with and without unit codes, codes sold twice, re-sent ids, the same id with other
// content, bad records, unregistered purchasers, old event times, another shop, returns of sold codes
// and untracked containers) is applied record by record through the single endpoints on one fresh
// database and as sync batches (cut at random places) on another. After every journal both give the
// same status and error code per record, the same account balances, the same ledger entries in the
// same order (modulo ids and times) and the same sold units. Incentives are in play (issue 17): the
// 5 L jerrycan beyond the returner's lots earns buy-back and points under household caps from a small
// fund, so the fund's entries and the points ledger must match too.
import { expect } from 'chai';
import fc from 'fast-check';
import { useTestApp, type TestContext } from '../../support/harness.js';
import { pinGroupApplier, savepointApplier } from '../../../src/features/ledger/group-commit.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { COUNTY, GLYPHOSATE, GLYPHOSATE_5L, SHOP_A, SHOP_B, expectLedgerClean } from '../ledger/ledger-fixtures.js';
import { demoId } from '../../../seeds/demo-county.js';
import { fundIncentives, insertIncentiveRate, setCounty } from '../../support/incentives.js';

const PRODUCTS = [GLYPHOSATE, GLYPHOSATE_5L];
const NOW = Date.parse('2026-03-15T02:00:00.000Z');
const DAY = 86_400_000;

type Rec = { kind: 'sale' | 'return'; id: string; eventTime: string; payload: Record<string, unknown> };

type Step =
  | { t: 'sale'; product: number; quantity: number; fresh: number; reuse: number[]; badCode: boolean; charged: number | null; phone: number; named: boolean; daysAgo: number; otherShop: boolean }
  | { t: 'return'; pick: number[]; reject: boolean; gtinQty: number; product: number; phone: number | null; daysAgo: number }
  | { t: 'resend'; pick: number; alter: boolean };

/**
 * One journal that reaches every outcome the coverage check names, run before the random ones
 * (fast-check `examples`), so the check does not rest on what 25 random journals happened to hit.
 */
const sale = (over: Partial<Extract<Step, { t: 'sale' }>>): Step => ({
  t: 'sale', product: 0, quantity: 1, fresh: 1, reuse: [], badCode: false, charged: null, phone: 0, named: true, daysAgo: 0, otherShop: false, ...over,
});
const EVERY_OUTCOME: [Step[], number[]] = [[
  sale({}), // applied, registers phone 0
  sale({ fresh: 0, badCode: true }), // UNIT_CODE_INVALID
  sale({ fresh: 0, reuse: [0] }), // the first sale's code: UNIT_CODE_ALREADY_SOLD
  sale({ phone: 3, named: false }), // a new phone without a name: FARMER_NAME_REQUIRED
  sale({ otherShop: true }), // OUT_OF_SCOPE for this clerk
  { t: 'return', pick: [0], reject: false, gtinQty: 0, product: 0, phone: 0, daysAgo: 0 },
  { t: 'resend', pick: 0, alter: false }, // duplicate
  { t: 'resend', pick: 0, alter: true }, // IDEMPOTENCY_CONFLICT
], [4]];

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    t: fc.constant('sale' as const), product: fc.nat(1), quantity: fc.integer({ min: 1, max: 3 }), fresh: fc.nat(3), reuse: fc.array(fc.nat(30), { maxLength: 2 }),
    badCode: fc.integer({ min: 0, max: 9 }).map((n) => n === 0), charged: fc.option(fc.integer({ min: 0, max: 300 }), { freq: 3 }),
    phone: fc.nat(3), named: fc.boolean(), daysAgo: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 60 }) }),
    otherShop: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
  }) },
  { weight: 3, arbitrary: fc.record({
    t: fc.constant('return' as const), pick: fc.array(fc.nat(30), { maxLength: 3 }), reject: fc.boolean(), gtinQty: fc.nat(2), product: fc.nat(1),
    phone: fc.option(fc.nat(3)), daysAgo: fc.nat(1),
  }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('resend' as const), pick: fc.nat(30), alter: fc.boolean() }) },
);

function serial(): string {
  let s = '';
  for (let i = 0; i < 21; i++) s += String(Math.floor(Math.random() * 10));
  return s;
}

describe('sync batches apply exactly what the single endpoints apply (property)', function () {
  this.timeout(600_000);
  const single = useTestApp();
  const batched = useTestApp();

  // The reference applies each POST /sales as its own idempotent write (SaleService's, one savepoint
  // per request; returns likewise), not through the set-based runs that online groups and sync batches use now.
  before(() => { pinGroupApplier(single.deps, 'sale', savepointApplier); pinGroupApplier(single.deps, 'return', savepointApplier); });
  before(async () => {
    const fundId = newClientId();
    for (const t of [single, batched]) {
      await insertIncentiveRate(t.db.knex, COUNTY, { containerTypeId: demoId('container_types', `${COUNTY}:HDPE-5L`), buybackFen: 30, pointsMilli: 500 });
      await setCounty(t.db.knex, COUNTY, { incentive_household_buyback_cap_fen: 300, incentive_household_points_cap_milli: 6000 });
      await fundIncentives(t.db.knex, COUNTY, 600, undefined, fundId);
    }
  });
  const soldCodes: string[] = [];
  let run = 0;

  /** Mostly codes of this journal (the same batch), sometimes older ones. */
  let journalCodes: string[] = [];
  const recent = (i: number) => (i < 20 && journalCodes.length ? journalCodes[journalCodes.length - 1 - (i % Math.min(4, journalCodes.length))]! : soldCodes[i % soldCodes.length]!);

  /** The journal of one property run: ids, codes and phones fresh per run, so both databases see the same history. */
  function journal(steps: Step[]): Rec[] {
    run++;
    journalCodes = [];
    const phones = [0, 1, 2, 3].map((i) => `+86174601${String(run).padStart(2, '0').slice(-2)}${String(i).padStart(3, '0')}`);
    const out: Rec[] = [];
    for (const s of steps) {
      if (s.t === 'sale') {
        const p = PRODUCTS[s.product]!;
        const fresh = Array.from({ length: Math.min(s.fresh, s.quantity) }, () => `1${p.reg}1${p.pack}${serial()}`);
        const reused = s.reuse.filter((i) => i < soldCodes.length).map((i) => recent(i)).filter((c) => c.slice(1, 7) === p.reg && !fresh.includes(c));
        const codes = [...reused, ...fresh].slice(0, s.quantity);
        if (s.badCode) codes.push('not a unit code');
        soldCodes.push(...fresh.filter((c) => codes.includes(c)));
        journalCodes.push(...fresh.filter((c) => codes.includes(c)));
        out.push({
          kind: 'sale', id: newClientId(), eventTime: new Date(NOW - s.daysAgo * DAY - 3_600_000 + out.length * 1000).toISOString(),
          payload: {
            shopId: s.otherShop ? SHOP_B : SHOP_A,
            purchaser: { phone: phones[s.phone]!, ...(s.named ? { name: '等价测试' } : {}) },
            lines: [{ productId: p.id, quantity: Math.max(s.quantity, codes.length), unitCodes: codes, ...(s.charged !== null ? { depositChargedFen: s.charged } : {}) }],
          },
        });
      } else if (s.t === 'return') {
        const picked = [...new Set(s.pick.filter((i) => i < soldCodes.length).map((i) => recent(i)))];
        const items: Array<Record<string, unknown>> = picked.map((c) => (s.reject ? { scan: c, inspection: 'rejected', reasonCode: 'damaged' } : { scan: c, inspection: 'accepted' }));
        if (s.gtinQty > 0) items.push({ productId: PRODUCTS[s.product]!.id, quantity: s.gtinQty, inspection: 'accepted' });
        if (items.length === 0) continue;
        out.push({
          kind: 'return', id: newClientId(), eventTime: new Date(NOW - s.daysAgo * DAY - 1_800_000 + out.length * 1000).toISOString(),
          payload: { shopId: SHOP_A, items, ...(s.phone !== null ? { returner: { phone: phones[s.phone]!, name: '等价测试' } } : {}) },
        });
      } else if (out.length) {
        const earlier = out[s.pick % out.length]!;
        if (!s.alter) out.push(earlier);
        else if (earlier.kind === 'sale') {
          const lines = earlier.payload.lines as Array<Record<string, unknown>>;
          out.push({ ...earlier, payload: { ...earlier.payload, lines: [{ ...lines[0], quantity: Number(lines[0]!.quantity) + 1 }] } });
        } else out.push({ ...earlier, eventTime: new Date(Date.parse(earlier.eventTime) + 1000).toISOString() });
      }
    }
    return out;
  }

  type Outcome = { status: string; code?: string };
  const seenCodes = new Set<string>();

  async function oneByOne(t: TestContext, recs: Rec[]): Promise<Outcome[]> {
    const auth = await t.token('clerk.qingcheng');
    const out: Outcome[] = [];
    for (const r of recs) {
      const res = await t.api().post(`/api/v1/counties/${COUNTY}/${r.kind === 'sale' ? 'sales' : 'returns'}`).set('Authorization', auth).send({ ...r.payload, id: r.id, eventTime: r.eventTime });
      if (res.status === 201) out.push({ status: 'applied' });
      else if (res.status === 200) out.push({ status: 'duplicate' });
      else if (res.body.error?.code === 'IDEMPOTENCY_CONFLICT') out.push({ status: 'conflict', code: 'IDEMPOTENCY_CONFLICT' });
      else out.push({ status: res.status >= 500 ? 'retry' : 'refused', code: res.body.error?.code });
    }
    return out;
  }

  async function asBatches(t: TestContext, recs: Rec[], cuts: number[]): Promise<Outcome[]> {
    const auth = await t.token('clerk.qingcheng');
    const bounds = [...new Set([0, ...cuts.map((c) => c % (recs.length + 1)), recs.length])].sort((a, b) => a - b);
    const out: Outcome[] = [];
    for (let k = 0; k + 1 < bounds.length; k++) {
      const part = recs.slice(bounds[k], bounds[k + 1]);
      if (!part.length) continue;
      const res = await t.api().post('/api/v1/sync/batches').set('Authorization', auth).send({ records: part });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      for (const r of res.body.results as Array<{ status: string; error?: { code: string } }>) out.push(r.error ? { status: r.status, code: r.error.code } : { status: r.status });
    }
    return out;
  }

  async function state(t: TestContext) {
    const knex = t.db.knex;
    const [accounts, entries, units, lots, points] = await Promise.all([
      knex('ledger_accounts').where({ county_id: COUNTY }).orderBy('id').select('id', 'balance_fen'),
      knex('ledger_entries as e').join('ledger_transfers as t', function () { this.on('t.county_id', '=', 'e.county_id').andOn('t.id', '=', 'e.transfer_id'); })
        .where('e.county_id', COUNTY).orderBy('e.seq')
        .select('t.code', 't.client_id', 't.ref_type', 't.ref_id', 't.shop_id', 't.event_time', 't.booked_at', 'e.account_id', 'e.amount_fen', 'e.balance_after_fen'),
      knex('sold_units').where({ county_id: COUNTY }).orderBy(['unit_code', 'sale_id']).select('unit_code', 'sale_id', 'state', 'deposit_fen', 'shop_id', 'line_no'),
      knex('deposit_lots').where({ county_id: COUNTY }).orderBy(['sale_id', 'line_no']).select('sale_id', 'line_no', 'quantity', 'outstanding', 'expired', 'deposit_fen'),
      knex('points_transfers as p').join('farmers as f', function () { this.on('f.county_id', '=', 'p.county_id').andOn('f.id', '=', 'p.farmer_id'); })
        .where('p.county_id', COUNTY).orderBy([{ column: 'p.ref_id' }, { column: 'p.item_no' }]).select('p.code', 'p.ref_id', 'p.item_no', 'p.unit_code', 'f.phone_e164', 'p.amount_milli'),
    ]);
    return { accounts, entries, units, lots, points };
  }

  it('gives the same statuses, balances, entries and sold units either way', async () => {
    await fc.assert(fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 22 }), fc.array(fc.nat(30), { maxLength: 3 }), async (steps, cuts) => {
      const recs = journal(steps);
      if (!recs.length) return;
      const a = await oneByOne(single, recs);
      const b = await asBatches(batched, recs, cuts);
      expect(b, JSON.stringify({ recs: recs.map((r) => [r.kind, r.id.slice(-6)]), a, b })).to.deep.equal(a);
      for (const o of b) seenCodes.add(`${o.status}:${o.code ?? ''}`);
      const [sa, sb] = [await state(single), await state(batched)];
      expect(sb.accounts).to.deep.equal(sa.accounts);
      expect(sb.entries).to.deep.equal(sa.entries);
      expect(sb.units).to.deep.equal(sa.units);
      expect(sb.lots).to.deep.equal(sa.lots);
      expect(sb.points).to.deep.equal(sa.points);
    }), { numRuns: 25, endOnFailure: true, examples: [EVERY_OUTCOME] }); // both databases keep their history: shrinking a journal would replay it on another state
    await expectLedgerClean(single);
    await expectLedgerClean(batched);
    // The journals did exercise what they were meant to.
    const operations = new Set((await batched.db.knex('idempotency_keys').where({ county_id: COUNTY }).select('operation')).map((r: { operation: string }) => r.operation));
    expect([...operations]).to.include.members(['sale', 'return']);
    expect([...seenCodes]).to.include.members(['applied:', 'duplicate:', 'conflict:IDEMPOTENCY_CONFLICT', 'refused:UNIT_CODE_ALREADY_SOLD', 'refused:UNIT_CODE_INVALID', 'refused:FARMER_NAME_REQUIRED', 'refused:OUT_OF_SCOPE']);
  });
});
