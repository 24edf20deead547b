// Reconciliation of one county-year two ways on the same data (docs/reconciliation.md, "Books"):
// the full recomputation from the raw tables, and the per-day books — their one-time catch-up after
// a bulk load, a run with nothing dirty, and a run after one day was written to again — and proof
// that every way gives the same fingerprint. Size: BENCH_RECON_CONTAINERS (default 1,000,000) in
// the demo county, generated unless the dashboard section already did.
import type { Knex } from 'knex';
import type { BenchRow, BenchSection } from '../harness.js';
import { DEMO_COUNTY_ID } from '../../seeds/demo-county.js';
import { generateData } from '../../src/features/generator/generate-data.js';
import { fingerprintOf, reconcile, type ReconcileFrom } from '../../src/features/reconciliation/reconciliation-service.js';
import { refreshBooks } from '../../src/features/reconciliation/day-books.js';
import { newId } from '../../src/shared/client-id.js';

const CONTAINERS = Number(process.env.BENCH_RECON_CONTAINERS ?? 1_000_000);
const YEAR = 2026;

export interface ReconciliationBench {
  containersSold: number;
  recomputeMs: number;
  catchUpMs: number;
  booksMs: number;
  oneDayRefreshMs: number;
  oneDayBooksMs: number;
  oneDayRecomputeMs: number;
  fingerprints: string[];
  identical: boolean;
}

/** Times a county-year both ways on data already stored (also run by hand on a generated database). */
export async function benchReconciliation(knex: Knex, countyId: string, year: number, log: (m: string) => void = console.log): Promise<ReconciliationBench> {
  const asOf = new Date(Date.UTC(year + 1, 0, 2));
  const timed = async (from: ReconcileFrom, refresh = true) => {
    const t0 = performance.now();
    const r = await reconcile(knex, countyId, String(year), asOf, { from, refresh });
    return { ms: performance.now() - t0, fingerprint: fingerprintOf(r.figures, r.exceptions), sold: r.figures.units.soldWithDeposit };
  };
  await knex.raw('ANALYZE'); // fresh statistics after a bulk load, for both paths alike
  const full = await timed('recompute');
  let t0 = performance.now();
  await refreshBooks(knex, countyId);
  const catchUpMs = performance.now() - t0;
  const books = await timed('books', false);
  // One day written to again (a late settlement recorded on 15 June): the next run folds that day only.
  const shop = await knex('shops').where({ county_id: countyId }).orderBy('id').first('id');
  const at = new Date(Date.UTC(year, 5, 15, 3));
  await knex('settlements').insert({ county_id: countyId, id: newId(), shop_id: shop.id, period_key: `${year}-06`, as_of: at, direction: 'from_shop', amount_fen: 100, method: 'bank', reference: 'BENCH', actor: 'bench', recorded_at: at });
  t0 = performance.now();
  const refreshed = await refreshBooks(knex, countyId);
  const oneDayRefreshMs = performance.now() - t0;
  const afterBooks = await timed('books', false);
  const afterFull = await timed('recompute');
  const fingerprints = [full.fingerprint, books.fingerprint, afterBooks.fingerprint, afterFull.fingerprint];
  const identical = full.fingerprint === books.fingerprint && afterBooks.fingerprint === afterFull.fingerprint && afterBooks.fingerprint !== full.fingerprint;
  log(`reconciliation ${countyId} ${year} (${full.sold.toLocaleString('en')} containers sold with deposit): full recomputation ${(full.ms / 1000).toFixed(2)} s; ` +
    `books: catch-up after the bulk load ${(catchUpMs / 1000).toFixed(2)} s (once), run ${(books.ms / 1000).toFixed(2)} s; ` +
    `after one day written again: refresh ${(oneDayRefreshMs / 1000).toFixed(2)} s (${refreshed.days} day) + run ${(afterBooks.ms / 1000).toFixed(2)} s, recomputation ${(afterFull.ms / 1000).toFixed(2)} s; ` +
    `fingerprints ${identical ? 'identical' : 'DIFFER'} (${full.fingerprint.slice(0, 12)}…, then ${afterBooks.fingerprint.slice(0, 12)}…)`);
  return { containersSold: full.sold, recomputeMs: full.ms, catchUpMs, booksMs: books.ms, oneDayRefreshMs, oneDayBooksMs: afterBooks.ms, oneDayRecomputeMs: afterFull.ms, fingerprints, identical };
}

export const reconciliationSection: BenchSection = {
  name: 'reconciliation',
  async run(ctx) {
    const knex = ctx.knex;
    const have = await knex('sales').where({ county_id: DEMO_COUNTY_ID }).count({ n: '*' }).first();
    if (Number(have?.n) < 1000) {
      const gen = await generateData(knex, { counties: 1, year: YEAR, containersPerCounty: CONTAINERS });
      console.log(`reconciliation bench data: ${gen.containers.toLocaleString('en')} containers (${(gen.ms / 1000).toFixed(1)} s to generate)`);
    }
    const b = await benchReconciliation(knex, DEMO_COUNTY_ID, YEAR);
    if (!b.identical) throw new Error(`reconciliation from books and full recomputation differ: ${b.fingerprints.join(' ')}`);
    const row = (operation: string, ms: number): BenchRow => ({ section: 'reconciliation', operation, concurrency: 1, ops: 1, errors: 0, perSecond: 1000 / ms, p50Ms: ms, p99Ms: ms });
    return [
      row(`county-year, full recomputation (${b.containersSold} containers)`, b.recomputeMs),
      row('county-year from books (nothing dirty)', b.booksMs),
      row('county-year from books after one day written (refresh + run)', b.oneDayRefreshMs + b.oneDayBooksMs),
      row('books catch-up after the bulk load (once)', b.catchUpMs),
    ];
  },
};
