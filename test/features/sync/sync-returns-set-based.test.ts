// Set-based returns in sync batches (applyReturnRun), against the single return path:
//   - a random journal of returns (sold unit codes, codes returned twice, never-sold codes held for
//     review, foreign and unreadable codes, containers without a code matched against the returner's
//     lots and then the county policy's daily limit, new and unnamed returners, old, future and
//     closed-month event times, another shop, offline paid amounts, unit codes repeated in a return,
//     re-sent and altered ids) gives the same per-record results and answers, the same ledger, unit
//     states, lots, return rows, held refunds, SMS outbox and idempotency keys whether posted one by
//     one to POST /returns or sent as sync batches;
//     Incentives are in play (issue 17): a buy-back and points rate for the 1 L bottle, household caps
//     and a small fund that runs out (then points only), so the incentive fund and the points
//     ledger must come out the same too;
//   - a run of returns (at most SYNC_RUN_MAX per transaction) costs the same number of SQL
//     statements whatever its size;
//   - an online return racing a sync record for one unit code: the code is refunded exactly once,
//     whichever holds it first.
import { expect } from 'chai';
import fc from 'fast-check';
import type { Knex } from 'knex';
import { useTestApp, type TestContext } from '../../support/harness.js';
import { newClientId } from '../../../src/shared/client-id.js';
import { ReturnService } from '../../../src/features/returns/return-service.js';
import { applyReturnRun } from '../../../src/features/returns/return-run.js';
import { pinGroupApplier, savepointApplier } from '../../../src/features/ledger/group-commit.js';
import { SYNC_RUN_MAX, syncRunFallbacks } from '../../../src/features/sync/sync-service.js';
import type { Principal } from '../../../src/auth/permissions.js';
import { COUNTY, GLYPHOSATE, GLYPHOSATE_5L, SHOP_A, SHOP_B, expectLedgerClean, unitCode } from '../ledger/ledger-fixtures.js';
import { demoId } from '../../../seeds/demo-county.js';
import { fundIncentives, insertIncentiveRate, setCounty } from '../../support/incentives.js';

const PRODUCTS = [GLYPHOSATE, GLYPHOSATE_5L];
const NOW = Date.parse('2026-03-15T02:00:00.000Z');
const HOUR = 3_600_000;
const CLERK = { kind: 'user', role: 'clerk', username: 'clerk.qingcheng', userId: 'x', countyId: COUNTY, shopId: SHOP_A } as unknown as Principal;

type Rec = { kind: 'return'; id: string; eventTime: string; payload: Record<string, unknown> };

type Scan = { from: 'sold' | 'fresh' | 'foreign' | 'junk'; pick: number; reject: boolean; paid: number | null };
type Untracked = { product: number; qty: number; byGtin: boolean; reject: boolean; paid: number | null };
type Step =
  | { t: 'return'; scans: Scan[]; untracked: Untracked[]; returner: 'none' | 'known' | 'new' | 'unnamed'; phone: number; time: 'now' | 'yesterday' | 'february' | 'too_old' | 'future'; otherShop: boolean; dupScan: boolean; mobile: 'no' | 'with_ref' | 'without_ref' }
  | { t: 'resend'; pick: number; alter: boolean };

const paidArb = fc.option(fc.integer({ min: 0, max: 400 }), { freq: 4 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({
    t: fc.constant('return' as const),
    scans: fc.array(fc.record({ from: fc.constantFrom('sold' as const, 'sold' as const, 'sold' as const, 'fresh' as const, 'fresh' as const, 'foreign' as const, 'junk' as const), pick: fc.nat(20), reject: fc.integer({ min: 0, max: 5 }).map((n) => n === 0), paid: paidArb }), { maxLength: 3 }),
    untracked: fc.array(fc.record({ product: fc.nat(1), qty: fc.integer({ min: 1, max: 3 }), byGtin: fc.boolean(), reject: fc.integer({ min: 0, max: 6 }).map((n) => n === 0), paid: paidArb }), { maxLength: 2 }),
    returner: fc.constantFrom('none' as const, 'known' as const, 'known' as const, 'known' as const, 'new' as const, 'unnamed' as const),
    phone: fc.nat(1),
    time: fc.constantFrom('now' as const, 'now' as const, 'now' as const, 'yesterday' as const, 'february' as const, 'too_old' as const, 'future' as const),
    otherShop: fc.integer({ min: 0, max: 12 }).map((n) => n === 0),
    dupScan: fc.integer({ min: 0, max: 12 }).map((n) => n === 0),
    mobile: fc.constantFrom('no' as const, 'no' as const, 'no' as const, 'with_ref' as const, 'without_ref' as const),
  }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('resend' as const), pick: fc.nat(30), alter: fc.boolean() }) },
);

/**
 * One journal that reaches every outcome the coverage check below names, run before the random ones
 * (fast-check `examples`), so the check does not depend on what 20 random journals happened to hit.
 */
const scan = (from: Scan['from'], pick = 0, reject = false): Scan => ({ from, pick, reject, paid: null });
const ret = (over: Partial<Extract<Step, { t: 'return' }>>): Step => ({
  t: 'return', scans: [], untracked: [], returner: 'known', phone: 0, time: 'now', otherShop: false, dupScan: false, mobile: 'no', ...over,
});
const EVERY_OUTCOME: [Step[], number[]] = [[
  ret({ scans: [scan('sold', 0), scan('fresh', 0), scan('foreign', 0)], untracked: [{ product: 0, qty: 1, byGtin: false, reject: false, paid: null }] }),
  ret({ scans: [scan('junk'), scan('sold', 0), scan('sold', 1, true)], returner: 'none', time: 'february', mobile: 'with_ref' }),
  ret({ untracked: [{ product: 1, qty: 3, byGtin: false, reject: false, paid: null }], returner: 'none' }),
  ret({ untracked: [{ product: 1, qty: 2, byGtin: true, reject: false, paid: null }], returner: 'none' }),
  { t: 'resend', pick: 0, alter: false },
  { t: 'resend', pick: 0, alter: true },
  ret({ scans: [scan('sold', 2)], returner: 'unnamed', phone: 1 }),
  ret({ scans: [scan('sold', 3)], otherShop: true }),
  ret({ scans: [scan('sold', 4)], dupScan: true }),
  ret({ scans: [scan('sold', 5)], time: 'too_old' }),
  ret({ scans: [scan('sold', 6)], mobile: 'without_ref' }),
  ret({ untracked: [{ product: 0, qty: 3, byGtin: false, reject: false, paid: null }] }),
  ret({ untracked: [{ product: 0, qty: 3, byGtin: false, reject: false, paid: null }], phone: 1 }),
  ret({ untracked: [{ product: 0, qty: 1, byGtin: true, reject: false, paid: null }], returner: 'none' }),
], [5]];

function serial(): string {
  let s = '';
  for (let i = 0; i < 21; i++) s += String(Math.floor(Math.random() * 10));
  return s;
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Some backend of this database waits for a lock (the race is staged). */
async function someoneWaits(knex: Knex): Promise<boolean> {
  const r = await knex.raw(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
  return r.rows[0].n > 0;
}

/** An answer without what is random per database (new farmers' and held refunds' ids). */
function comparable(body: unknown): unknown {
  return JSON.parse(JSON.stringify(body ?? null), (k, v) => (k === 'farmerId' || k === 'heldRefundId' ? '<id>' : v));
}

describe('sync batches: set-based returns give exactly what the single return path gives (property)', function () {
  this.timeout(900_000);
  const single = useTestApp();
  const batched = useTestApp();
  // The reference answers each POST /returns through the single path (one savepoint per request),
  // not through the set-based run that online groups take too now.
  before(() => pinGroupApplier(single.deps, 'return', savepointApplier));
  const soldCodes: string[] = [];
  let run = 0;
  let gtins: string[] = [];

  const fundId = newClientId();
  async function prepare(t: TestContext): Promise<void> {
    // A small untracked daily limit, so the policy's cap is met; February closed, so late adjustments occur.
    await t.db.knex('counties').where({ id: COUNTY }).update({ untracked_daily_limit: 3 });
    // Incentives: the 1 L bottle beyond the returner's lots earns buy-back and points; caps and a small fund bite.
    await insertIncentiveRate(t.db.knex, COUNTY, { containerTypeId: demoId('container_types', `${COUNTY}:HDPE-1L`), buybackFen: 40, pointsMilli: 300 });
    await setCounty(t.db.knex, COUNTY, { incentive_household_buyback_cap_fen: 2000, incentive_household_points_cap_milli: 20_000, incentive_shop_buyback_cap_fen: 6000, incentive_when_fund_empty: 'points_only' });
    await fundIncentives(t.db.knex, COUNTY, 1000, undefined, fundId);
    const official = await t.token('qingshen.official');
    const rec = await t.api().post(`/api/v1/counties/${COUNTY}/reconciliations`).set('Authorization', official).send({ period: '2026-02' });
    expect(rec.status, JSON.stringify(rec.body)).to.be.oneOf([200, 201]);
    const close = await t.api().post(`/api/v1/counties/${COUNTY}/periods/2026-02/close`).set('Authorization', official).send();
    expect(close.status, JSON.stringify(close.body)).to.be.oneOf([200, 201]);
  }

  /** The sales of one property run (the same on both databases): unit codes and lots of two known phones. */
  function salesOf(phones: string[]): Array<Record<string, unknown>> {
    return phones.flatMap((phone, k) => PRODUCTS.map((p, j) => {
      const codes = [0, 1].map(() => `1${p.reg}1${p.pack}${serial()}`);
      soldCodes.push(...codes);
      return {
        id: newClientId(), shopId: k === 1 && j === 1 ? SHOP_A : SHOP_A, eventTime: new Date(NOW - (j === 0 ? 20 : 2) * 24 * HOUR - k * 60_000).toISOString(),
        purchaser: { phone, name: '退货集合' }, lines: [{ productId: p.id, quantity: 4, unitCodes: codes }],
      };
    }));
  }

  function journal(steps: Step[]): { sales: Array<Record<string, unknown>>; recs: Rec[] } {
    run++;
    const tag = String(run).padStart(3, '0').slice(-3);
    const known = [0, 1].map((i) => `+8617470${tag}1${String(i).padStart(2, '0')}`);
    const fresh = [0, 1].map((i) => `+8617470${tag}2${String(i).padStart(2, '0')}`);
    const sales = salesOf(known); // first: the returns scan their codes
    const neverSold = [0, 1, 2].map((i) => `1${PRODUCTS[i % 2]!.reg}1${PRODUCTS[i % 2]!.pack}${serial()}`);
    const recs: Rec[] = [];
    for (const s of steps) {
      if (s.t === 'resend') {
        if (!recs.length) continue;
        const earlier = recs[s.pick % recs.length]!;
        recs.push(s.alter ? { ...earlier, eventTime: new Date(Date.parse(earlier.eventTime) + 1000).toISOString() } : earlier);
        continue;
      }
      const items: Array<Record<string, unknown>> = [];
      for (const sc of s.scans) {
        const code = sc.from === 'sold' ? soldCodes[soldCodes.length - 1 - (sc.pick % Math.min(12, soldCodes.length))]!
          : sc.from === 'fresh' ? neverSold[sc.pick % neverSold.length]!
            : sc.from === 'foreign' ? `1999999199${serial()}1` : 'not a unit code';
        items.push({ scan: code, ...(sc.reject ? { inspection: 'rejected', reasonCode: 'damaged' } : { inspection: 'accepted' }), ...(sc.paid !== null ? { refundPaidFen: sc.paid } : {}) });
      }
      if (s.dupScan && items.length) items.push({ ...items[0]! });
      for (const u of s.untracked) {
        const p = PRODUCTS[u.product]!;
        items.push({
          ...(u.byGtin && gtins[u.product] ? { gtin: gtins[u.product] } : { productId: p.id }), quantity: u.qty,
          ...(u.reject ? { inspection: 'rejected', reasonCode: 'damaged' } : { inspection: 'accepted' }), ...(u.paid !== null ? { refundPaidFen: u.paid } : {}),
        });
      }
      if (!items.length) continue;
      const at = { now: NOW - 30 * 60_000, yesterday: NOW - 24 * HOUR, february: Date.parse('2026-02-20T03:00:00.000Z'), too_old: NOW - 60 * 24 * HOUR, future: NOW + 2 * HOUR }[s.time];
      const returner = s.returner === 'none' ? {} : s.returner === 'known' ? { returner: { phone: known[s.phone]! } }
        : { returner: { phone: fresh[s.phone]!, ...(s.returner === 'new' ? { name: '新退货人', village: '东村' } : {}) } };
      recs.push({
        kind: 'return', id: newClientId(), eventTime: new Date(at + recs.length * 1000).toISOString(),
        payload: {
          shopId: s.otherShop ? SHOP_B : SHOP_A, items, ...returner,
          ...(s.mobile === 'with_ref' ? { payment: { method: 'mobile', reference: `WX${run}${recs.length}` } } : s.mobile === 'without_ref' ? { payment: { method: 'mobile' } } : {}),
        },
      });
    }
    return { sales, recs };
  }

  type Outcome = { status: string; code?: string; body?: unknown };
  const seen = new Set<string>();

  async function oneByOne(t: TestContext, recs: Rec[]): Promise<Outcome[]> {
    const auth = await t.token('clerk.qingcheng');
    const out: Outcome[] = [];
    for (const r of recs) {
      const res = await t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', auth).send({ ...r.payload, id: r.id, eventTime: r.eventTime });
      if (res.status === 201) out.push({ status: 'applied', body: comparable(res.body) });
      else if (res.status === 200) out.push({ status: 'duplicate', body: comparable(res.body) });
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
      for (const r of res.body.results as Array<{ status: string; result?: unknown; error?: { code: string } }>) {
        out.push(r.error ? { status: r.status, code: r.error.code } : { status: r.status, body: comparable(r.result) });
      }
    }
    return out;
  }

  async function state(t: TestContext) {
    const knex = t.db.knex;
    const c = { county_id: COUNTY };
    return {
      accounts: await knex('ledger_accounts').where(c).orderBy('id').select('id', 'balance_fen'),
      entries: await knex('ledger_entries as e').join('ledger_transfers as t', function () { this.on('t.county_id', '=', 'e.county_id').andOn('t.id', '=', 'e.transfer_id'); })
        .where('e.county_id', COUNTY).orderBy('e.seq')
        .select('t.code', 't.client_id', 't.ref_type', 't.ref_id', 't.shop_id', 't.event_time', 't.booked_at', 't.recorded_at', 'e.account_id', 'e.amount_fen', 'e.balance_after_fen'),
      units: await knex('sold_units').where(c).orderBy(['unit_code', 'sale_id']).select('unit_code', 'sale_id', 'state'),
      lots: await knex('deposit_lots').where(c).orderBy(['sale_id', 'line_no']).select('sale_id', 'line_no', 'outstanding', 'expired'),
      returns: await knex('returns as r').leftJoin('farmers as f', function () { this.on('f.county_id', '=', 'r.county_id').andOn('f.id', '=', 'r.farmer_id'); })
        .where('r.county_id', COUNTY).orderBy('r.return_no')
        .select('r.id', 'r.return_no', 'r.shop_id', 'f.phone_e164', 'r.event_time', 'r.business_day', 'r.booked_at', 'r.recorded_at', 'r.actor', 'r.total_refund_fen', 'r.refund_difference_fen'),
      items: await knex('return_items').where(c).orderBy(['return_id', 'item_no']).select('*'),
      allocations: await knex('return_allocations').where(c).orderBy(['return_id', 'item_no', 'alloc_no']).select('*'),
      refunds: await knex('refunds').where(c).orderBy('return_id').select('*'),
      held: await knex('held_refunds').where(c).orderBy(['return_id', 'item_no']).select('return_id', 'item_no', 'unit_code', 'product_id', 'amount_fen', 'prepaid_fen', 'reason', 'state', 'event_time', 'shop_id'),
      outbox: await knex('sms_outbox').where(c).orderBy('event_key').select('event_key', 'kind', 'phone_e164', 'language', 'body', 'part_no', 'part_count', 'status', 'next_attempt_at'),
      keys: await knex('idempotency_keys').where(c).orderBy('client_id').select('client_id', 'operation', 'request_hash', 'status_code'),
      farmers: await knex('farmers').where(c).orderBy('phone_e164').select('phone_e164', 'name', 'village', 'active'),
      points: await knex('points_accounts as a').leftJoin('farmers as f', function () { this.on('f.county_id', '=', 'a.county_id').andOn('f.id', '=', 'a.farmer_id'); })
        .where('a.county_id', COUNTY).orderBy([{ column: 'a.kind' }, { column: 'f.phone_e164' }]).select('a.kind', 'f.phone_e164', 'a.balance_milli'),
      pointsTransfers: await knex('points_transfers as p').join('farmers as f', function () { this.on('f.county_id', '=', 'p.county_id').andOn('f.id', '=', 'p.farmer_id'); })
        .where('p.county_id', COUNTY).orderBy([{ column: 'p.ref_id' }, { column: 'p.item_no' }])
        .select('p.code', 'p.client_id', 'p.ref_type', 'p.ref_id', 'p.item_no', 'p.unit_code', 'f.phone_e164', 'p.shop_id', 'p.amount_milli', 'p.event_time', 'p.business_day', 'p.recorded_at'),
    };
  }

  it('gives the same results, answers, ledger, units, lots, held refunds, outbox and keys either way', async () => {
    await prepare(single);
    await prepare(batched);
    const fallbacksBefore = syncRunFallbacks.return;
    gtins = await Promise.all(PRODUCTS.map(async (p) => ((await single.db.knex('products').where({ county_id: COUNTY, id: p.id }).first('gtin')) as { gtin: string | null }).gtin ?? ''));
    await fc.assert(fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 18 }), fc.array(fc.nat(30), { maxLength: 3 }), async (steps, cuts) => {
      const { sales, recs } = journal(steps);
      for (const t of [single, batched]) {
        const auth = await t.token('clerk.qingcheng');
        for (const s of sales) expect((await t.api().post(`/api/v1/counties/${COUNTY}/sales`).set('Authorization', auth).send(s)).status).to.equal(201);
      }
      if (!recs.length) return;
      const a = await oneByOne(single, recs);
      const b = await asBatches(batched, recs, cuts);
      for (let i = 0; i < a.length; i++) expect(b[i], `record ${i} of ${recs.length}: ${JSON.stringify(recs[i])}`).to.deep.equal(a[i]);
      for (const o of b) {
        seen.add(`${o.status}:${o.code ?? ''}`);
        const body = o.body as { items?: Array<{ outcome: string; reasonCode: string | null; sources: Array<{ source: string }> }>; lateAdjustment?: boolean } | undefined;
        for (const it of (body?.items ?? []) as Array<{ outcome: string; reasonCode: string | null; sources: Array<{ source: string }>; incentive?: { kind: string; reason: string | null } }>) {
          if (it.incentive) seen.add(`incentive:${it.incentive.kind}:${it.incentive.reason ?? ''}`);
          seen.add(`item:${it.outcome}:${it.reasonCode ?? ''}`);
          for (const src of it.sources) seen.add(`source:${src.source}`);
        }
        if (body?.lateAdjustment) seen.add('late_adjustment');
      }
      const [sa, sb] = [await state(single), await state(batched)];
      for (const k of Object.keys(sa) as Array<keyof typeof sa>) expect(sb[k], k).to.deep.equal(sa[k]);
    }), { numRuns: 20, endOnFailure: true, examples: [EVERY_OUTCOME] }); // both databases keep their history: shrinking would replay a journal on another state
    await expectLedgerClean(single);
    await expectLedgerClean(batched);
    // Every run was applied set-based: none fell back to one record at a time (which answers the same).
    expect(syncRunFallbacks.return - fallbacksBefore, 'return runs that fell back to one by one').to.equal(0);
    // The journals exercised what they were meant to.
    expect([...seen]).to.include.members([
      'applied:', 'duplicate:', 'conflict:IDEMPOTENCY_CONFLICT', 'refused:FARMER_NAME_REQUIRED', 'refused:OUT_OF_SCOPE', 'refused:UNIT_CODE_DUPLICATE',
      'refused:EVENT_TIME_TOO_OLD', 'refused:PAYMENT_REFERENCE_REQUIRED',
      'item:refunded:', 'item:rejected:already_returned', 'item:refund_held:', 'item:rejected:not_scheme_product', 'item:rejected:unknown_code', 'item:rejected:damaged',
      'source:unit', 'source:lot', 'source:policy', 'source:held', 'source:none', 'late_adjustment', 'source:buyback',
      'incentive:deposit:', 'incentive:buyback_points:', 'incentive:none:returner_required', 'incentive:none:held_for_review',
    ]);
  });
});

describe('sync batches: set-based returns', function () {
  this.timeout(300_000);
  const t = useTestApp();
  const send = async (records: unknown[]) => t.api().post('/api/v1/sync/batches').set('Authorization', await t.token('clerk.qingcheng')).send({ records });
  let phoneSeq = 0;

  /** Sales (through a sync batch) of `n` purchasers, each with two coded containers and two without a code. */
  async function sold(n: number): Promise<Array<{ phone: string; codes: string[] }>> {
    const out = Array.from({ length: n }, () => ({ phone: `+861747100${String(++phoneSeq).padStart(4, '0')}`, codes: [unitCode(GLYPHOSATE), unitCode(GLYPHOSATE)] }));
    const res = await send(out.map((o) => ({
      kind: 'sale', id: newClientId(), eventTime: '2026-03-14T01:00:00.000Z',
      payload: { shopId: SHOP_A, purchaser: { phone: o.phone, name: '集合退货' }, lines: [{ productId: GLYPHOSATE.id, quantity: 4, unitCodes: o.codes }] },
    })));
    expect(res.body.counts.applied, JSON.stringify(res.body)).to.equal(n);
    return out;
  }

  /** A return per purchaser: a sold code, a code nobody sold (held), and three containers without a code (two lots, one policy). */
  const returnsOf = (buyers: Array<{ phone: string; codes: string[] }>) => buyers.map((b) => ({
    kind: 'return', id: newClientId(), eventTime: '2026-03-15T01:00:00.000Z',
    payload: { shopId: SHOP_A, returner: { phone: b.phone }, items: [
      { scan: b.codes[0], inspection: 'accepted' }, { scan: unitCode(GLYPHOSATE), inspection: 'accepted' }, { productId: GLYPHOSATE.id, quantity: 3, inspection: 'accepted' },
    ] },
  }));

  // At most SYNC_RUN_MAX returns per transaction (issue 13): the same statements per transaction for
  // 10 returns as for SYNC_RUN_MAX; a batch of 200 is ceil(200 / SYNC_RUN_MAX) such transactions.
  it('issues the same number of SQL statements per transaction for a batch of 10 returns as for 200', async () => {
    await send(returnsOf(await sold(1))); // log-in and first-use queries out of the way
    const count = async (n: number) => {
      const records = returnsOf(await sold(n));
      const perTx = new Map<string, number>();
      let outside = 0;
      const onQuery = (q: { __knexTxId?: string }) => {
        if (q.__knexTxId) perTx.set(q.__knexTxId, (perTx.get(q.__knexTxId) ?? 0) + 1);
        else outside++;
      };
      t.db.knex.on('query', onQuery);
      try {
        const res = await send(records);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body.counts.applied, JSON.stringify(res.body.results.find((r: { status: string }) => r.status !== 'applied'))).to.equal(n);
        for (const r of res.body.results) {
          expect(r.result.items.map((i: { outcome: string }) => i.outcome)).to.deep.equal(['refunded', 'refund_held', 'refunded']);
          expect(r.result.items[2].sources).to.deep.equal([{ source: 'lot', quantity: 2, amountFen: 200 }, { source: 'policy', quantity: 1, amountFen: 100 }]);
        }
      } finally {
        t.db.knex.off('query', onQuery);
      }
      return { perTx: [...perTx.values()], outside };
    };
    const ten = await count(10);
    const many = await count(200);
    expect(ten.perTx, 'a batch of 10 returns: one transaction').to.have.length(1);
    expect(many.perTx, `a batch of 200 returns: one transaction per ${SYNC_RUN_MAX}`).to.have.length(Math.ceil(200 / SYNC_RUN_MAX));
    expect(many.perTx, `statements per transaction, 10 returns: ${ten.perTx}, 200 returns: ${many.perTx}`).to.deep.equal(many.perTx.map(() => ten.perTx[0]));
    expect(many.outside).to.equal(ten.outside);
    expect(ten.perTx[0]! + ten.outside).to.be.lessThan(40);
    // Every return is there with its items, allocations, refund, held refund, transfers, SMS and stored answer.
    const knex = t.db.knex;
    const n = async (table: string, where: Record<string, unknown> = {}) => Number((await knex(table).where({ county_id: COUNTY, ...where }).count({ n: '*' }).first())!.n);
    expect(await n('returns')).to.equal(211);
    expect(await n('return_items')).to.equal(633);
    expect(await n('held_refunds')).to.equal(211);
    expect(await n('sold_units', { state: 'refunded' })).to.equal(211);
    expect(await n('ledger_transfers', { code: 'refund_paid' })).to.equal(211);
    expect(await n('ledger_transfers', { code: 'policy_refund' })).to.equal(211);
    expect(await n('sms_outbox', { kind: 'refund' })).to.be.at.least(422);
    expect(await n('idempotency_keys', { operation: 'return', status_code: 201 })).to.equal(211);
    await expectLedgerClean(t);
  });

  it('an online return holding a unit code first refunds it: the sync record refunds nothing for it, the rest of the batch is applied', async () => {
    const [buyer, ...others] = await sold(3);
    const contested = buyer!.codes[0]!;
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    let held!: () => void;
    const holding = new Promise<void>((r) => { held = r; });
    // The online return, written through the service POST /returns uses, kept open until released.
    const online = t.db.knex.transaction(async (trx) => {
      const deps = { ...t.deps, db: { ...t.deps.db, knex: trx } };
      const r = await new ReturnService(deps).record(CLERK, { id: newClientId(), countyId: COUNTY, shopId: SHOP_A, eventTime: '2026-03-15T01:00:00.000Z', items: [{ scan: contested, inspection: 'accepted' }] });
      held();
      await released;
      return r;
    });
    await holding;
    const records = [...returnsOf([others[0]!]), { kind: 'return', id: newClientId(), eventTime: '2026-03-15T01:00:00.000Z', payload: { shopId: SHOP_A, items: [{ scan: contested, inspection: 'accepted' }] } }, ...returnsOf([others[1]!])];
    const batch = send(records);
    try {
      await waitFor('the batch to wait for the online return', () => someoneWaits(t.db.knex));
    } finally {
      release();
    }
    expect((await online).body).to.deep.include({ totalRefundFen: 100 });
    const res = await batch;
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.results.map((r: { status: string }) => r.status)).to.deep.equal(['applied', 'applied', 'applied']);
    expect(res.body.results[1].result.items[0]).to.include({ outcome: 'rejected', reasonCode: 'already_returned', refundFen: 0 });
    expect(res.body.results[0].result.totalRefundFen).to.equal(400);
    const allocations = await t.db.knex('return_allocations').where({ county_id: COUNTY, unit_code: contested, source: 'unit' }).select('return_id');
    expect(allocations).to.have.length(1);
    // Sent again: every record is a duplicate, answered as first stored.
    const again = await send(records);
    expect(again.body.results.map((r: { status: string }) => r.status)).to.deep.equal(['duplicate', 'duplicate', 'duplicate']);
    expect(again.body.results[1].result).to.deep.equal(res.body.results[1].result);
    await expectLedgerClean(t);
  });

  it('a sync run holding a unit code (and a never-sold one) first wins them: the online return refunds nothing for them', async () => {
    const [buyer] = await sold(1);
    const contested = buyer!.codes[1]!;
    const unsold = unitCode(GLYPHOSATE);
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    let held!: () => void;
    const holding = new Promise<void>((r) => { held = r; });
    const id = newClientId();
    const run = t.db.knex.transaction(async (trx) => {
      const out = await applyReturnRun(trx, t.clock.now(), [{ principal: CLERK, input: { id, shopId: SHOP_A, eventTime: '2026-03-15T01:00:00.000Z', returner: { phone: buyer!.phone },
        items: [{ scan: contested, inspection: 'accepted' }, { scan: unsold, inspection: 'accepted' }] } }]);
      held();
      await released;
      return out;
    });
    await holding;
    const online = t.api().post(`/api/v1/counties/${COUNTY}/returns`).set('Authorization', await t.token('clerk.qingcheng'))
      .send({ id: newClientId(), shopId: SHOP_A, eventTime: '2026-03-15T01:00:00.000Z', returner: { phone: buyer!.phone }, items: [{ scan: contested, inspection: 'accepted' }, { scan: unsold, inspection: 'accepted' }] })
      .then((r) => r); // supertest sends on then()
    try {
      await waitFor('the online return to wait for the sync run', () => someoneWaits(t.db.knex));
    } finally {
      release();
    }
    const out = await run;
    expect(out[0]!.ok, JSON.stringify(out[0])).to.equal(true);
    const body = (out[0] as { written: { body: { items: Array<{ outcome: string }> } } }).written.body;
    expect(body.items.map((i) => i.outcome)).to.deep.equal(['refunded', 'refund_held']);
    const res = await online;
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.items.map((i: { outcome: string; reasonCode: string }) => [i.outcome, i.reasonCode])).to.deep.equal([['rejected', 'already_returned'], ['rejected', 'already_returned']]);
    expect(await t.db.knex('held_refunds').where({ county_id: COUNTY, unit_code: unsold }).select('return_id')).to.deep.equal([{ return_id: id }]);
    await expectLedgerClean(t);
  });
});
