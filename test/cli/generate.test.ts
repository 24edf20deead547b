// The data generator (`npm run generate`) at a small size on the suite's backend, migrated and
// seeded as the CLI does: the data is seasonal (spring peak, returns lagging, cross-shop returns),
// the ledger checks out, the custody hash chain verifies and the mass balance holds, deposits of the
// year before expire, and a reconciliation of the county-year shows only the deliberately generated
// exceptions (docs/dashboard.md, "Data generator").
import { expect } from 'chai';
import type { Database } from '../../src/db/connection.js';
import { emptyDatabase } from '../support/test-db.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { seedDemoCounty, DEMO_COUNTY_ID } from '../../seeds/demo-county.js';
import { generateData, type GenerateResult } from '../../src/features/generator/generate-data.js';
import { checkLedger } from '../../src/features/ledger/ledger-check.js';
import { verifyChain } from '../../src/features/custody/hash-chain.js';
import { massBalance } from '../../src/features/custody/mass-balance.js';
import { reconcile, runReconciliation } from '../../src/features/reconciliation/reconciliation-service.js';
import { refreshBooks } from '../../src/features/reconciliation/day-books.js';

const YEAR = 2026;
const C = DEMO_COUNTY_ID;
/** The exceptions the generator makes on purpose (docs/dashboard.md lists why). */
const EXPECTED_KINDS = new Set(['returns_above_sales', 'discrepancy_count', 'overdue_pickup', 'late_record']);

describe('npm run generate: seasonal data that checks out', function () {
  this.timeout(180_000);
  let db: Database;
  let gen: GenerateResult;
  const rows = async <T>(sql: string, params: unknown[] = []) => (await db.knex.raw(sql, params as never[])).rows as T[];

  before(async () => {
    db = await emptyDatabase();
    await migrateLatest(db.knex);
    await seedDemoCounty(db.knex);
    // Books built before the load, so the refresh after it folds in only the days the generator marked.
    await refreshBooks(db.knex, C);
    gen = await generateData(db.knex, { counties: 1, year: YEAR, containersPerCounty: 4000, seed: 7 });
  });
  after(async () => db?.close());

  it('generates the asked size, opening deposits of the year before and custody', () => {
    expect(gen.counties).to.deep.equal([C]);
    expect(gen.containers).to.be.within(4000, 4010);
    expect(gen.openingContainers).to.be.greaterThan(0);
    expect(gen.expiredContainers).to.be.greaterThan(0);
    expect(gen.bags).to.be.greaterThan(0);
    expect(gen.custodyEvents).to.be.greaterThan(gen.bags * 3);
  });

  it('sells most in spring: March–May outsell every other season', async () => {
    const byMonth = await rows<{ m: number; n: number }>(`
      SELECT extract(month FROM s.business_day)::int AS m, sum(l.quantity)::int AS n
        FROM sales s JOIN sale_lines l ON l.county_id = s.county_id AND l.sale_id = s.id
       WHERE s.county_id = ? AND s.business_day >= ? AND s.business_day < ? GROUP BY 1`, [C, `${YEAR}-01-01`, `${YEAR + 1}-01-01`]);
    const n = (ms: number[]) => byMonth.filter((r) => ms.includes(r.m)).reduce((a, r) => a + r.n, 0);
    const total = n([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const spring = n([3, 4, 5]);
    expect(total).to.equal(gen.containers);
    for (const other of [[6, 7, 8], [9, 10, 11], [12, 1, 2]]) expect(spring, `Mar–May vs months ${other}`).to.be.greaterThan(n(other));
    expect(spring / total).to.be.greaterThan(0.35);
  });

  it('returns lag their sales by days to months', async () => {
    const [lag] = await rows<{ n: number; min_days: number; avg_days: number }>(`
      SELECT count(*)::int AS n, min(extract(epoch FROM r.event_time - s.event_time) / 86400)::float AS min_days,
             avg(extract(epoch FROM r.event_time - s.event_time) / 86400)::float AS avg_days
        FROM return_allocations a JOIN returns r ON r.county_id = a.county_id AND r.id = a.return_id
        JOIN sales s ON s.county_id = a.county_id AND s.id = a.sale_id
       WHERE a.county_id = ? AND a.sale_id IS NOT NULL`, [C]);
    expect(lag!.n).to.be.greaterThan(100);
    expect(lag!.min_days).to.be.at.least(5);
    expect(lag!.avg_days).to.be.within(20, 120);
    // The busiest return month comes after the busiest sales month.
    const peak = async (table: 'sales' | 'returns') => (await rows<{ m: number }>(`
      SELECT extract(month FROM business_day)::int AS m FROM ${table} WHERE county_id = ? AND business_day >= ? AND business_day < ?
       GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`, [C, `${YEAR}-01-01`, `${YEAR + 1}-01-01`]))[0]!.m;
    expect(await peak('returns')).to.be.greaterThan(await peak('sales'));
  });

  it('has cross-shop returns: refunds of deposits another shop collected', async () => {
    const [x] = await rows<{ n: number; all: number }>(`
      SELECT count(*) FILTER (WHERE a.deposit_shop_id <> r.shop_id)::int AS n, count(*)::int AS all
        FROM return_allocations a JOIN returns r ON r.county_id = a.county_id AND r.id = a.return_id
       WHERE a.county_id = ? AND a.deposit_shop_id IS NOT NULL`, [C]);
    expect(x!.n).to.be.greaterThan(0);
    expect(x!.n / x!.all).to.be.within(0.05, 0.3);
  });

  it('keeps the ledger clean, expiry included', async () => {
    const check = await checkLedger(db.knex, C);
    expect(check.problems, JSON.stringify(check.problems)).to.deep.equal([]);
    expect(check.ok).to.equal(true);
    const [exp] = await rows<{ runs: number; fen: string; transfers: string }>(`
      SELECT count(*)::int AS runs, sum(amount_fen)::text AS fen,
             (SELECT coalesce(sum(amount_fen), 0)::text FROM ledger_transfers WHERE county_id = ? AND code = 'deposit_expired') AS transfers
        FROM expiry_runs WHERE county_id = ?`, [C, C]);
    expect(exp!.runs).to.equal(12);
    expect(Number(exp!.fen)).to.be.greaterThan(0);
    expect(exp!.transfers).to.equal(exp!.fen);
  });

  it('verifies the custody hash chain: every bag logged, in time order', async () => {
    const chain = await verifyChain(db.knex, C);
    expect(chain.firstBroken).to.equal(null);
    expect(chain.ok).to.equal(true);
    expect(chain.events).to.equal(gen.custodyEvents);
    const [unlogged] = await rows<{ n: number }>(`
      SELECT count(*)::int AS n FROM custody_bags b WHERE b.county_id = ?
         AND NOT EXISTS (SELECT 1 FROM custody_events e WHERE e.county_id = b.county_id AND e.bag_id = b.id AND e.type = 'bag_sealed')`, [C]);
    expect(unlogged!.n).to.equal(0);
    const [order] = await rows<{ n: number }>(`
      SELECT count(*)::int AS n FROM custody_events e JOIN custody_events f ON f.county_id = e.county_id AND f.seq = e.seq + 1
       WHERE e.county_id = ? AND f.recorded_at < e.recorded_at`, [C]);
    expect(order!.n).to.equal(0);
  });

  it('holds the mass balance', async () => {
    const balance = await massBalance(db.knex, C);
    expect(balance.problems, JSON.stringify(balance.problems)).to.deep.equal([]);
    expect(balance.ok).to.equal(true);
    for (const m of balance.materials) {
      expect(m.counts.unexplained).to.equal(0);
      expect(m.counts.disposed).to.be.greaterThan(0);
    }
    expect(balance.materials.reduce((a, m) => a + m.counts.explainedByDiscrepancies, 0)).to.be.greaterThan(0);
  });

  it('leaves the reconciliation books caught up: nothing dirty, books equal to a full rebuild, figures equal to a recompute', async () => {
    // The generator writes with the books' dirty-day triggers standing aside and marks the record
    // days itself; generateData then folds them in. Nothing is left to fold.
    const [dirty] = await rows<{ n: number }>('SELECT count(*)::int AS n FROM reconciliation_dirty_days WHERE county_id = ?', [C]);
    expect(dirty!.n).to.equal(0);
    expect(await refreshBooks(db.knex, C)).to.deep.equal({ days: 0, full: false });
    const books = async () => (await rows<Record<string, string>>(
      `SELECT rec_day::text, at_day::text, source, key_id, kind, fen::text, units::text FROM reconciliation_day_books WHERE county_id = ? ORDER BY 1, 2, 3, 4, 5`, [C]));
    const caughtUp = await books();
    expect(caughtUp.length).to.be.greaterThan(300);
    // The days the generator marked are every day it wrote: a full rebuild from the raw rows gives the same books.
    await db.knex('reconciliation_book_state').where({ county_id: C }).delete();
    expect((await refreshBooks(db.knex, C)).full).to.equal(true);
    expect(await books()).to.deep.equal(caughtUp);
    // A reconciliation right after generating reads the books as they are (no refresh) and equals the recomputation.
    const asOf = new Date(Date.UTC(YEAR + 1, 0, 2));
    const fromBooks = await reconcile(db.knex, C, String(YEAR), asOf, { from: 'books', refresh: false });
    const recomputed = await reconcile(db.knex, C, String(YEAR), asOf, { from: 'recompute' });
    expect(fromBooks.figures).to.deep.equal(recomputed.figures);
    expect(fromBooks.exceptions).to.deep.equal(recomputed.exceptions);
    expect(fromBooks.figures.units.soldWithDeposit).to.equal(gen.containers);
  });

  it('reconciles the county-year with only the deliberate exceptions', async () => {
    const run = await runReconciliation(db.knex, { countyId: C, period: String(YEAR), now: new Date(Date.UTC(YEAR + 1, 0, 2)), trigger: 'api', actor: 'test' });
    const unexpected = run.exceptions.filter((e) => !EXPECTED_KINDS.has(e.kind));
    expect(unexpected, JSON.stringify(unexpected).slice(0, 2000)).to.deep.equal([]);
    expect(run.exceptions.filter((e) => e.severity === 'error')).to.deep.equal([]);
    const kinds = new Set(run.exceptions.map((e) => e.kind));
    expect(kinds.has('returns_above_sales'), 'the policy-refund fraud is flagged').to.equal(true);
    expect(kinds.has('discrepancy_count'), 'the short bags are listed').to.equal(true);
    expect(run.figures.units.soldUnits).to.equal(gen.containers);
    expect(run.figures.units.expired).to.equal(gen.expiredContainers);
    expect(run.figures.money.expiredFen).to.be.greaterThan(0);
    expect(run.figures.money.unredeemedClosingFen).to.equal(run.figures.money.expiredFen);
  });
});
