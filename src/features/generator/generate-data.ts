// Realistic seasonal data for N counties and one year, streamed straight into the tables by COPY in
// bounded memory (copy-writer.ts), one transaction per county: sales peaking in spring, returns lagging weeks to
// months behind, cross-shop returns, a few shops refunding more than they sell (possible fraud),
// offline tills uploading days late, and custody — bags, pickups, receiving with discrepancies,
// disposal. The ledger stays balanced: every sale and return posts its transfer and entries in event
// order with the running balance, exactly as the ledger's services would. Events are made in time
// order — a month's sales sorted, pending returns and the expiry runs in a heap — so only the running
// balances, the returns still to come, one month's sales and the per-shop custody counts stay in
// memory; each deposit's fate (refunded, expired, outstanding) is decided when it is sold, so its
// row is written once, final.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type pg from 'pg';
import { CopyWriter, timeUuid } from './copy-writer.js';
import { MARK_AS_COPY_SQL } from '../../backup/table-copy.js';
import { refreshBooks } from '../reconciliation/day-books.js';
import { countyAccount, shopAccount, ACCOUNT_BOUNDS, type AccountRef } from '../ledger/accounts.js';
import { eventHash, GENESIS_HASH, type CustodyEventType, type EventContent } from '../custody/hash-chain.js';
import { makeTrackingNumber } from '../manifests/tracking-number.js';
import { DEMO_COUNTY_ID } from '../../../seeds/demo-county.js';
import { mulberry32 as prng } from '../../shared/prng.js';
import { addMonths, businessDay, DEFAULT_TIME_ZONE, monthStart } from '../../shared/business-day.js';

export interface GenerateOptions {
  counties: number;
  year: number;
  /** Containers sold per county in the year (default 100,000; Qingshen sells ~1 million). */
  containersPerCounty: number;
  seed?: number;
  /** Index of the first county (0 = the demo county; later ones are simulated 5190xx counties). */
  startIndex?: number;
  log?: (msg: string) => void;
  /** COPY text buffered per flush (default 8 MiB; memory holds about twice this). */
  copyChunkBytes?: number;
  /** Called after every COPY flush (the CLI samples its resident memory there). */
  onFlush?: () => void;
  /**
   * Share of sales whose containers carry unit codes (default 0.3; the bench's history section uses
   * 1: every container a sold unit code). Same draws whatever the share, so a seed's other data stays.
   */
  codedShare?: number;
  /**
   * Check the foreign keys of the ledger tables once after the load instead of row by row: inside
   * each county's transaction their constraints are dropped before the COPYs and added again, with
   * the same names and definitions, after them — adding one validates every row of the table in one
   * join, and a violation fails the transaction, so nothing unchecked is ever committed. The price:
   * the ledger tables and the tables they point at (counties, shops, farmers, products, accounts) are
   * locked ACCESS EXCLUSIVE until the county commits, so a server on the same database waits for
   * the load. About half of PostgreSQL's work per row is the foreign-key checks (docs/performance.md,
   * "Generator"). Default off.
   */
  keysAfterLoad?: boolean;
}

/** A foreign key of a table, as the catalogue gives it (identifiers quoted where needed). */
export interface ForeignKey { table: string; name: string; def: string }

/** Drops the foreign keys of `tables` inside the caller's transaction; returns them to add back. */
export async function dropForeignKeys(trx: Knex.Transaction, tables: string[]): Promise<ForeignKey[]> {
  const keys = (await trx.raw(`
    SELECT c.conrelid::regclass::text AS "table", quote_ident(c.conname) AS name, pg_get_constraintdef(c.oid) AS def
      FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = ANY(?::regclass[])
     ORDER BY 1, 2`, [tables])).rows as ForeignKey[];
  for (const k of keys) await trx.raw(`ALTER TABLE ${k.table} DROP CONSTRAINT ${k.name}`);
  return keys;
}

/** Adds the keys back exactly as they were; each validates the whole table (a violation throws). */
export async function addForeignKeys(trx: Knex.Transaction, keys: ForeignKey[]): Promise<void> {
  for (const k of keys) await trx.raw(`ALTER TABLE ${k.table} ADD CONSTRAINT ${k.name} ${k.def}`);
}

export interface GenerateResult {
  counties: string[];
  sales: number;
  containers: number;
  returns: number;
  bags: number;
  /** Containers sold in the last four months of the year before (the opening deposits). */
  openingContainers: number;
  /** Containers whose deposit expired during the year (monthly expiry runs). */
  expiredContainers: number;
  custodyEvents: number;
  /** Rows written per table, summed over the counties (reference data of new counties and farmers included). */
  rows: Record<string, number>;
  ms: number;
  /** Of `ms`, the time spent bringing the reconciliation books up to date after the load. */
  booksMs: number;
}

// Spring planting dominates; a smaller autumn peak.
const MONTH_WEIGHTS = [2, 3, 11, 16, 14, 10, 8, 7, 9, 8, 5, 3];
const DAY = 86_400_000;

/**
 * The county's calendar for a generated year: business days and month starts in its own zone (the
 * one function, businessDay), memoised per quarter hour because a year has millions of records.
 */
function countyCalendar(timeZone: string) {
  const days = new Map<number, string>();
  return {
    dayOf(ms: number): string {
      const k = Math.floor(ms / 900_000); // every zone's offset is a whole number of quarter hours
      let d = days.get(k);
      if (d === undefined) days.set(k, (d = businessDay(ms, timeZone)));
      return d;
    },
    /** The instant month m (0-based, may run past 11 or below 0) of year y starts in the county. */
    monthStartMs: (y: number, m: number): number => monthStart(addMonths(`${y}-01`, m), timeZone).getTime(),
  };
}

async function insertChunks(knex: Knex, table: string, rows: Array<Record<string, unknown>>): Promise<void> {
  if (!rows.length) return;
  const cols = Object.keys(rows[0]!).length;
  const size = Math.max(1, Math.floor(60_000 / cols));
  for (let i = 0; i < rows.length; i += size) await knex(table).insert(rows.slice(i, i + size));
}

interface Ref {
  countyId: string;
  shops: Array<{ id: string; weight: number; fraud: boolean }>;
  products: Array<{ id: string; reg6: string; pack: string; tareG: number; containerTypeId: string; material: string; depositFen: number }>;
  farmers: string[];
  facilityId: string;
  haulerId: string;
}

/** A synthetic county: six townships, 30 shops, the demo county's products and schedule, farmers. */
async function makeCounty(knex: Knex, countyId: string, index: number, rnd: () => number): Promise<Record<string, number>> {
  const exists = await knex('counties').where({ id: countyId }).first('id');
  if (exists) return {};
  await knex('counties').insert({
    id: countyId, name_zh: `模拟县${String(index).padStart(2, '0')}`, name_en: `Simulated County ${index}`, province_code: '510000',
    province_name_zh: '四川省', prefecture_name_zh: '模拟市', timezone: 'Asia/Shanghai',
  });
  const townships = Array.from({ length: 6 }, (_, i) => ({ county_id: countyId, id: randomUUID(), name_zh: `第${i + 1}镇`, name_en: `Town ${i + 1}` }));
  await insertChunks(knex, 'townships', townships);
  const shops = Array.from({ length: 30 }, (_, i) => ({
    county_id: countyId, id: randomUUID(), township_id: townships[i % 6]!.id, name: `${townships[i % 6]!.name_zh}农资店${String(i + 1).padStart(2, '0')}`,
    licence_no: `农药经许（川）${countyId}2026${String(i + 1).padStart(4, '0')}`, address: '', is_collection_point: true,
  }));
  await insertChunks(knex, 'shops', shops);
  await insertChunks(knex, 'facilities', [{ county_id: countyId, id: randomUUID(), name: `模拟县${index}收集中心`, kind: 'collection_centre', licence_no: `川危废收集${countyId}` }]);
  await insertChunks(knex, 'haulers', [{ county_id: countyId, id: randomUUID(), name: `模拟县${index}危货运输`, licence_no: `川交运${countyId}` }]);
  const cts = (await knex('container_types').where({ county_id: DEMO_COUNTY_ID })) as Array<Record<string, unknown>>;
  const ctMap = new Map<string, string>();
  await insertChunks(knex, 'container_types', cts.map((c) => {
    const id = randomUUID();
    ctMap.set(c.id as string, id);
    return { county_id: countyId, id, code: c.code, name_zh: c.name_zh, name_en: c.name_en, material: c.material, volume_ml: c.volume_ml, tare_weight_g: c.tare_weight_g };
  }));
  const products = (await knex('products').where({ county_id: DEMO_COUNTY_ID, active: true })) as Array<Record<string, unknown>>;
  await insertChunks(knex, 'products', products.map((p) => ({
    county_id: countyId, id: randomUUID(), registration_no: p.registration_no, name: p.name, manufacturer: p.manufacturer, gtin: p.gtin,
    container_type_id: ctMap.get(p.container_type_id as string), pack_size_code: p.pack_size_code, pack_size_label: p.pack_size_label,
  })));
  const schedules = (await knex('deposit_schedules').where({ county_id: DEMO_COUNTY_ID, active: true })) as Array<Record<string, unknown>>;
  await insertChunks(knex, 'deposit_schedules', schedules.map((s) => ({
    county_id: countyId, id: randomUUID(), container_type_id: s.container_type_id ? ctMap.get(s.container_type_id as string) : null, deposit_fen: s.deposit_fen,
    effective_from: s.effective_from, effective_to: s.effective_to, note: s.note,
  })));
  void rnd;
  return { counties: 1, townships: townships.length, shops: shops.length, facilities: 1, haulers: 1, container_types: cts.length, products: products.length, deposit_schedules: schedules.length };
}

async function ensureFarmers(knex: Knex, countyId: string, n: number, added: (n: number) => void): Promise<string[]> {
  const have = (await knex('farmers').where({ county_id: countyId }).count({ n: '*' }).first()) as { n: string | number };
  const missing = n - Number(have.n);
  if (missing > 0) added(missing);
  if (missing > 0) {
    const base = 5_000_000 + Number(have.n);
    await insertChunks(knex, 'farmers', Array.from({ length: missing }, (_, i) => ({
      county_id: countyId, id: randomUUID(), name: `农户${base + i}`, phone_e164: `+861746${String(base + i).padStart(7, '0')}`,
    })));
  }
  return ((await knex('farmers').where({ county_id: countyId }).orderBy('phone_e164').orderBy('id').select('id')) as Array<{ id: string }>).map((f) => f.id);
}

async function loadRef(knex: Knex, countyId: string, farmers: number, rnd: () => number, added: (n: number) => void): Promise<Ref> {
  const shops = (await knex('shops').where({ county_id: countyId, active: true }).orderBy('licence_no').select('id')) as Array<{ id: string }>;
  const products = (await knex.raw(`
    SELECT p.id, p.registration_no, coalesce(p.pack_size_code, '000') AS pack, ct.tare_weight_g, ct.id AS ct_id, ct.material,
           coalesce((SELECT d.deposit_fen FROM deposit_schedules d WHERE d.county_id = p.county_id AND d.container_type_id = ct.id AND d.active ORDER BY d.effective_from DESC LIMIT 1),
                    (SELECT d.deposit_fen FROM deposit_schedules d WHERE d.county_id = p.county_id AND d.container_type_id IS NULL AND d.active ORDER BY d.effective_from DESC LIMIT 1), 100) AS deposit_fen
      FROM products p JOIN container_types ct ON ct.county_id = p.county_id AND ct.id = p.container_type_id
     WHERE p.county_id = ? AND p.active ORDER BY p.registration_no, p.id`, [countyId])).rows as Array<Record<string, any>>;
  const facility = await knex('facilities').where({ county_id: countyId }).orderBy('name').first('id');
  const hauler = await knex('haulers').where({ county_id: countyId }).orderBy('name').first('id');
  return {
    countyId,
    // Shop sizes vary ten-fold; about one shop in fifteen refunds beyond its sales.
    shops: shops.map((s, i) => ({ id: s.id, weight: 0.3 + rnd() * 3, fraud: i % 15 === 7 })),
    products: products.map((p) => ({ id: p.id, reg6: String(p.registration_no).slice(-6), pack: p.pack, tareG: p.tare_weight_g, containerTypeId: p.ct_id, material: p.material, depositFen: Number(p.deposit_fen) })),
    farmers: await ensureFarmers(knex, countyId, farmers, added),
    facilityId: facility.id,
    haulerId: hauler.id,
  };
}

function pickWeighted<T extends { weight: number }>(xs: T[], total: number, r: number): T {
  let x = r * total;
  for (const s of xs) if ((x -= s.weight) <= 0) return s;
  return xs[xs.length - 1]!;
}

/** A custody event as a service would append it, before it gets its place in the chain. */
interface CustodyEv { at: number; type: CustodyEventType; bagId?: string | null; manifestId?: string | null; actor: string; data: Record<string, unknown> }

/**
 * Appends the events to the county's custody hash chain in time order (a stable sort keeps the
 * order they were pushed in for equal times), with the custody module's own hashing, continuing
 * from the chain's current head; multi-row INSERTs.
 */
async function appendCustodyChain(trx: Knex.Transaction, countyId: string, evs: CustodyEv[]): Promise<number> {
  const sorted = evs.map((e, i) => ({ e, i })).sort((a, b) => a.e.at - b.e.at || a.i - b.i).map((x) => x.e);
  const last = (await trx('custody_events').where({ county_id: countyId }).orderBy('seq', 'desc').first('seq', 'hash')) as { seq: number | string; hash: string } | undefined;
  let seq = last ? Number(last.seq) : 0;
  let prev = last ? last.hash : GENESIS_HASH;
  const rows: Array<Record<string, unknown>> = [];
  for (const e of sorted) {
    seq += 1;
    const recordedAt = new Date(e.at);
    // JSON round trip, as appendEvents does: what is hashed is exactly what jsonb gives back.
    const content = JSON.parse(JSON.stringify({
      countyId, seq, id: randomUUID(), type: e.type, bagId: e.bagId ?? null, manifestId: e.manifestId ?? null,
      actor: e.actor, recordedAt: recordedAt.toISOString(), data: e.data,
    })) as EventContent;
    const hash = eventHash(content, prev);
    rows.push({ county_id: countyId, seq, id: content.id, type: e.type, bag_id: content.bagId, manifest_id: content.manifestId, content: JSON.stringify(content), prev_hash: prev, hash, recorded_at: recordedAt });
    prev = hash;
  }
  await insertChunks(trx, 'custody_events', rows);
  return rows.length;
}

/** A pending event of the merge: returns (scheduled when their sale is made) and the expiry runs. */
interface Pending {
  at: number;
  rank: number; // sale 0 < expiry 1 < return 2 at the same instant
  seq: number; // then in the order they were scheduled
  run(): void;
}

/** A binary min-heap on (at, rank, seq): the returns still to come, a few weeks of them at most. */
class EventHeap {
  private readonly a: Pending[] = [];
  get size(): number {
    return this.a.length;
  }
  private static less(x: Pending, y: Pending): boolean {
    return (x.at - y.at || x.rank - y.rank || x.seq - y.seq) < 0;
  }
  peek(): Pending | undefined {
    return this.a[0];
  }
  push(e: Pending): void {
    const a = this.a;
    a.push(e);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!EventHeap.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Pending | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length && last) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && EventHeap.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && EventHeap.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** The tables the ledger part writes, parents first, with the columns each row gives in this order. */
const LEDGER_TABLES: Array<[string, string[]]> = [
  ['sales', ['county_id', 'id', 'shop_id', 'farmer_id', 'event_time', 'business_day', 'recorded_at', 'actor', 'total_deposit_fen']],
  ['sale_lines', ['county_id', 'sale_id', 'line_no', 'product_id', 'quantity', 'deposit_per_container_fen', 'schedule_deposit_fen', 'deposit_fen']],
  ['sold_units', ['county_id', 'sale_id', 'unit_code', 'line_no', 'product_id', 'shop_id', 'farmer_id', 'deposit_fen', 'event_time', 'state']],
  ['deposit_lots', ['county_id', 'sale_id', 'line_no', 'product_id', 'shop_id', 'farmer_id', 'deposit_fen', 'quantity', 'outstanding', 'expired', 'event_time']],
  ['returns', ['county_id', 'id', 'shop_id', 'farmer_id', 'event_time', 'business_day', 'recorded_at', 'actor', 'total_refund_fen']],
  ['return_items', ['county_id', 'return_id', 'item_no', 'unit_code', 'scanned', 'product_id', 'quantity', 'inspection', 'outcome', 'reason_code', 'refund_fen']],
  ['return_allocations', ['county_id', 'return_id', 'item_no', 'alloc_no', 'source', 'sale_id', 'line_no', 'unit_code', 'deposit_shop_id', 'product_id', 'quantity', 'amount_fen']],
  ['refunds', ['county_id', 'return_id', 'method', 'reference', 'amount_fen', 'paid_at']],
  ['expiry_runs', ['county_id', 'id', 'run_at', 'cutoff', 'units_expired', 'lot_containers_expired', 'amount_fen', 'actor']],
  ['ledger_transfers', ['county_id', 'id', 'code', 'client_id', 'ref_type', 'ref_id', 'shop_id', 'debit_account_id', 'credit_account_id', 'amount_fen', 'event_time', 'recorded_at', 'actor']],
  ['ledger_entries', ['county_id', 'transfer_id', 'account_id', 'amount_fen', 'balance_after_fen']],
];

type Product = Ref['products'][number];
interface ReturnLine { product: Product; saleId: string; lineNo: number; depositShop: string; codes: string[]; qty: number; deposit: number }

/** One county-year, in one transaction. */
async function generateCounty(knex: Knex, ref: Ref, year: number, containers: number, rnd: () => number, log: (m: string) => void, copyChunkBytes: number, onFlush?: () => void, codedShare = 0.3, keysAfterLoad = false): Promise<Omit<GenerateResult, 'counties' | 'ms' | 'booksMs'>> {
  return knex.transaction(async (trx) => {
    // The transaction's own connection (knex hands a transaction's client out for raw use), for COPY.
    const client = (await trx.client.acquireConnection()) as pg.ClientBase;
    return generateCountyIn(trx, client, ref, year, containers, rnd, log, copyChunkBytes, onFlush, codedShare, keysAfterLoad);
  });
}

async function generateCountyIn(trx: Knex.Transaction, client: pg.ClientBase, ref: Ref, year: number, containers: number, rnd: () => number, log: (m: string) => void, copyChunkBytes: number, onFlush?: () => void, codedShare = 0.3, keysAfterLoad = false): Promise<Omit<GenerateResult, 'counties' | 'ms' | 'booksMs'>> {
  const c = ref.countyId;
  const county = (await trx('counties').where({ id: c }).first('deposit_validity_days', 'weight_tolerance_pct', 'timezone')) as { deposit_validity_days: number; weight_tolerance_pct: number | string; timezone: string | null };
  const cal = countyCalendar(county.timezone ?? DEFAULT_TIME_ZONE);
  const localDay = cal.dayOf;
  const start = cal.monthStartMs(year, 0);
  const end = cal.monthStartMs(year, 12);
  const totalW = ref.shops.reduce((a, s) => a + s.weight, 0);
  const monthTotal = MONTH_WEIGHTS.reduce((a, b) => a + b, 0);
  const outstandingAcct = countyAccount(c, 'deposits_outstanding');
  const policyAcct = countyAccount(c, 'policy_refunds');
  const unredeemedAcct = countyAccount(c, 'unredeemed');
  // Every account the generator posts to, known up front: those missing are inserted first (at zero;
  // entries point at them) and every balance is set once at the end; running balances in memory.
  const shopAccts = new Map(ref.shops.map((s) => [s.id, shopAccount(c, s.id)]));
  const shopAcct = (shopId: string) => shopAccts.get(shopId)!;
  const refs = [outstandingAcct, policyAcct, unredeemedAcct, ...shopAccts.values()];
  const existing = (await trx('ledger_accounts').where({ county_id: c }).select('id', 'balance_fen')) as Array<{ id: string; balance_fen: string }>;
  const existingBal = new Map(existing.map((e) => [e.id, Number(e.balance_fen)]));
  const acct = new Map(refs.map((r) => [r.id, { ref: r, balance: existingBal.get(r.id) ?? 0, moved: false }]));
  const newAccounts = refs.filter((r) => !existingBal.has(r.id)).length;
  await insertChunks(trx, 'ledger_accounts', refs.filter((r) => !existingBal.has(r.id)).map((r) => ({ county_id: c, id: r.id, code: r.code, kind: r.kind, shop_id: r.shopId, bound: ACCOUNT_BOUNDS[r.kind], balance_fen: 0 })));
  // Statistics for the reference tables the rows point at (a new county's rows were inserted in this
  // transaction or just before): the foreign-key checks then plan on their primary keys (copy-writer.ts, analyzeAfter).
  await trx.raw('ANALYZE counties, shops, farmers, products, ledger_accounts');
  const validityMs = Number(county.deposit_validity_days ?? 365) * DAY;
  const tolerancePct = Number(county.weight_tolerance_pct ?? 10);
  // Opening deposits: a county-year starts with deposits sold the year before. Generated (and expired
  // by monthly runs during the year) only when the county has no earlier sales, so a second
  // generated year never doubles the one before it.
  const earlier = await trx('sales').where({ county_id: c }).where('event_time', '<', new Date(start)).first('id');
  const withOpening = !earlier;

  // The reconciliation books' dirty-day marks (statement triggers joining each COPY's rows to
  // sales, returns or transfers) stand aside, as in a restore: joined once per COPY against tables
  // that grow through the load, they cost more than the rest of the load at a million containers
  // (docs/performance.md, "Generator"). The generator marks the record days it writes itself, once,
  // at the end of this transaction (recDays), so refreshBooks folds exactly those days in.
  await trx.raw(MARK_AS_COPY_SQL);
  const recDays = new Set<string>();
  const keys = keysAfterLoad ? await dropForeignKeys(trx, LEDGER_TABLES.map(([t]) => t)) : [];
  const out = new CopyWriter(client, LEDGER_TABLES, copyChunkBytes, onFlush);
  const GEN = 'system:generator';
  // shop → containerTypeId → accepted containers per month of the year they were recorded in (earlier
  // years in January, later in December), for bagging: a month's bag holds only what the shop had then.
  const returnedAt = new Map<string, Map<string, number[]>>();
  const monthOf = (ms: number) => {
    const d = localDay(ms);
    return Math.min(11, Math.max(0, (Number(d.slice(0, 4)) - year) * 12 + Number(d.slice(5, 7)) - 1));
  };
  // The monthly expiry runs (DESIGN rule 6, at 02:00 on the 1st): what each will expire is known when
  // the deposit is sold, because a return is only ever generated inside the deposit's validity.
  const runs = withOpening ? Array.from({ length: 12 }, (_, m) => ({ at: cal.monthStartMs(year, m) + 2 * 3_600_000, units: 0, lotContainers: 0, amount: 0 })) : [];
  const expiryRunOf = (saleAt: number): number => runs.findIndex((r) => saleAt < r.at - validityMs);
  let expiredContainers = 0;
  let serial = 0;
  let sold = 0;
  let openingSold = 0;
  let salesCount = 0;
  let returnsCount = 0;
  let transfers = 0;
  const post = (code: string, debit: AccountRef, credit: AccountRef, amount: number, refType: string, refId: string, shopId: string | null, at: Date, recordedAt: Date) => {
    if (amount <= 0) return;
    const id = timeUuid(at.getTime());
    const d = acct.get(debit.id)!;
    const cr = acct.get(credit.id)!;
    d.balance += amount;
    cr.balance -= amount;
    d.moved = cr.moved = true;
    transfers++;
    recDays.add(localDay(recordedAt.getTime()));
    out.row('ledger_transfers', [c, id, code, refId, refType, refId, shopId, debit.id, credit.id, amount, at, recordedAt, GEN]);
    out.row('ledger_entries', [c, id, debit.id, amount, d.balance]);
    out.row('ledger_entries', [c, id, credit.id, -amount, cr.balance]);
  };

  const heap = new EventHeap();
  let pendingSeq = 0;
  const runReturn = (shopId: string, farmerId: string, at: number, items: ReturnLine[], policy?: { product: Product; qty: number }) => {
    const id = timeUuid(at);
    const when = new Date(at);
    const recordedAt = new Date(at + (rnd() < 0.02 ? (1 + Math.floor(rnd() * 4)) * DAY : 5_000));
    let total = 0;
    let itemNo = 0;
    const recMonth = monthOf(recordedAt.getTime());
    const accepted = (ctId: string, n: number) => {
      let m = returnedAt.get(shopId);
      if (!m) returnedAt.set(shopId, (m = new Map()));
      let months = m.get(ctId);
      if (!months) m.set(ctId, (months = new Array<number>(12).fill(0)));
      months[recMonth]! += n;
    };
    // The return's row first (its items point at it), with the total it will have.
    let policyTotal = policy ? policy.qty * policy.product.depositFen : 0;
    for (const it of items) total += (it.codes.length || it.qty) * it.deposit;
    recDays.add(localDay(recordedAt.getTime()));
    out.row('returns', [c, id, shopId, farmerId, when, localDay(at), recordedAt, GEN, total + policyTotal]);
    for (const it of items) {
      if (it.codes.length) {
        for (const code of it.codes) {
          itemNo++;
          out.row('return_items', [c, id, itemNo, code, code, it.product.id, 1, 'accepted', 'refunded', null, it.deposit]);
          out.row('return_allocations', [c, id, itemNo, 1, 'unit', it.saleId, it.lineNo, code, it.depositShop, it.product.id, 1, it.deposit]);
        }
        accepted(it.product.containerTypeId, it.codes.length);
      } else {
        itemNo++;
        out.row('return_items', [c, id, itemNo, null, null, it.product.id, it.qty, 'accepted', 'refunded', null, it.qty * it.deposit]);
        out.row('return_allocations', [c, id, itemNo, 1, 'lot', it.saleId, it.lineNo, null, it.depositShop, it.product.id, it.qty, it.qty * it.deposit]);
        accepted(it.product.containerTypeId, it.qty);
      }
    }
    if (policy) {
      itemNo++;
      out.row('return_items', [c, id, itemNo, null, null, policy.product.id, policy.qty, 'accepted', 'refunded', null, policyTotal]);
      out.row('return_allocations', [c, id, itemNo, 1, 'policy', null, null, null, null, policy.product.id, policy.qty, policyTotal]);
      accepted(policy.product.containerTypeId, policy.qty);
    } else policyTotal = 0;
    if (rnd() < 0.05) {
      itemNo++;
      const p = ref.products[Math.floor(rnd() * ref.products.length)]!;
      out.row('return_items', [c, id, itemNo, null, null, p.id, 1, 'rejected', 'rejected', 'not_rinsed', 0]);
    }
    out.row('refunds', [c, id, 'cash', null, total + policyTotal, when]);
    post('refund_paid', outstandingAcct, shopAcct(shopId), total, 'return', id, shopId, when, recordedAt);
    post('policy_refund', policyAcct, shopAcct(shopId), policyTotal, 'return', id, shopId, when, recordedAt);
    returnsCount++;
  };
  const scheduleReturn = (shopId: string, farmerId: string, at: number, items: ReturnLine[], policy?: { product: Product; qty: number }) => {
    heap.push({ at, rank: 2, seq: pendingSeq++, run: () => runReturn(shopId, farmerId, at, items, policy) });
  };
  // The expiry runs, as the expiry job does them: one transfer to the unredeemed fund per run.
  for (const r of runs) {
    heap.push({
      at: r.at, rank: 1, seq: pendingSeq++, run: () => {
        const id = timeUuid(r.at);
        const when = new Date(r.at);
        recDays.add(localDay(r.at));
        out.row('expiry_runs', [c, id, when, new Date(r.at - validityMs), r.units, r.lotContainers, r.amount, GEN]);
        post('deposit_expired', outstandingAcct, unredeemedAcct, r.amount, 'expiry', id, null, when, when);
        expiredContainers += r.units + r.lotContainers;
      },
    });
  }

  // Possible fraud: the flagged shops refund untracked containers nobody bought there.
  for (const s of ref.shops.filter((x) => x.fraud)) {
    for (let i = 0; i < 40; i++) {
      const at = start + Math.floor(rnd() * (end - start - DAY));
      scheduleReturn(s.id, ref.farmers[Math.floor(rnd() * ref.farmers.length)]!, at, [], { product: ref.products[Math.floor(rnd() * ref.products.length)]!, qty: 5 + Math.floor(rnd() * 15) });
    }
  }

  let sinceYield = 0;
  /** Backpressure: a full buffer waits for the flush before it; while one runs, yield now and then so its bytes move. */
  const pace = async () => {
    if (out.full) await out.flush();
    else if (out.busy && ++sinceYield >= 500) {
      sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  /** Runs every pending return and expiry run due before `t` (strictly: a sale at the same instant goes first). */
  const runDue = async (t: number) => {
    for (let e = heap.peek(); e && e.at < t; e = heap.peek()) {
      heap.pop()!.run();
      await pace();
    }
  };

  // Sales: month by month (the opening deposits: September–December of the year before, at the same
  // monthly rates), each month's count by its weight, uniformly within the month, in time order.
  interface SaleSpec { at: number; shop: Ref['shops'][number]; farmerId: string; product: Product; qty: number; codes: string[]; late: boolean; returning: number; lag: number; crossShop: Ref['shops'][number] | null }
  const months: Array<{ y: number; m: number; cumTarget: number; opening: boolean }> = [];
  if (withOpening) {
    const openingTarget = Math.round((containers * MONTH_WEIGHTS.slice(8).reduce((a, b) => a + b, 0)) / monthTotal);
    const openingTotal = MONTH_WEIGHTS.slice(8).reduce((a, b) => a + b, 0);
    let cum = 0;
    for (let m = 8; m < 12; m++) months.push({ y: year - 1, m, cumTarget: Math.round((openingTarget * (cum += MONTH_WEIGHTS[m]!)) / openingTotal), opening: true });
  }
  {
    let cum = 0;
    for (let m = 0; m < 12; m++) months.push({ y: year, m, cumTarget: Math.round((containers * (cum += MONTH_WEIGHTS[m]!)) / monthTotal), opening: false });
  }
  for (const mo of months) {
    const mStart = cal.monthStartMs(mo.y, mo.m);
    const mEnd = cal.monthStartMs(mo.y, mo.m + 1);
    const specs: SaleSpec[] = [];
    while ((mo.opening ? openingSold : sold) < mo.cumTarget) {
      const shop = pickWeighted(ref.shops, totalW, rnd());
      const farmerId = ref.farmers[Math.floor(rnd() * ref.farmers.length)]!;
      const product = ref.products[Math.floor(rnd() * ref.products.length)]!;
      const qty = 1 + Math.floor(rnd() * rnd() * 8);
      const coded = rnd() < codedShare;
      const codes = coded ? Array.from({ length: qty }, () => `1${product.reg6}1${product.pack}${String(++serial).padStart(15, '0')}${String(Math.floor(rnd() * 1e6)).padStart(6, '0')}`) : [];
      const late = rnd() < 0.02;
      // Most containers come back, weeks to months later; one in seven at another shop.
      const returning = Math.round(qty * (rnd() < 0.85 ? 1 : rnd()));
      const back = returning > 0 && rnd() < 0.88;
      const lag = back ? (5 + Math.floor(-Math.log(1 - rnd()) * 45)) * DAY + Math.floor(rnd() * 6 * 3_600_000) : 0;
      const crossShop = back && rnd() < 0.15 ? pickWeighted(ref.shops, totalW, rnd()) : null;
      specs.push({ at: 0, shop, farmerId, product, qty, codes, late, returning: back ? returning : 0, lag, crossShop });
      if (mo.opening) openingSold += qty;
      else sold += qty;
    }
    // Shop hours-ish, uniformly over the month, then in time order.
    const times = new Float64Array(specs.length);
    for (let i = 0; i < times.length; i++) times[i] = mStart + Math.floor(rnd() * (mEnd - mStart - 10 * 3_600_000)) + 7 * 3_600_000;
    times.sort();
    for (let i = 0; i < specs.length; i++) {
      const s = specs[i]!;
      specs[i] = undefined as unknown as SaleSpec; // done with it: let it go
      const at = times[i]!;
      await runDue(at);
      const saleId = timeUuid(at);
      const when = new Date(at);
      const recordedAt = new Date(at + (s.late ? (1 + Math.floor(rnd() * 4)) * DAY : 3_000));
      const deposit = s.qty * s.product.depositFen;
      const day = localDay(at);
      // Its fate is known now: returned (inside the validity period, before the year ends), else
      // expired by the first monthly run past its validity, else still outstanding.
      const rAt = at + s.lag;
      const returns = s.returning > 0 && rAt < end && rAt < at + validityMs - DAY;
      const returned = returns ? s.returning : 0;
      const run = expiryRunOf(at);
      const expires = run >= 0 ? s.qty - returned : 0;
      salesCount++;
      recDays.add(localDay(recordedAt.getTime()));
      out.row('sales', [c, saleId, s.shop.id, s.farmerId, when, day, recordedAt, GEN, deposit]);
      out.row('sale_lines', [c, saleId, 1, s.product.id, s.qty, s.product.depositFen, s.product.depositFen, deposit]);
      if (s.codes.length) {
        for (let k = 0; k < s.codes.length; k++) {
          out.row('sold_units', [c, saleId, s.codes[k]!, 1, s.product.id, s.shop.id, s.farmerId, s.product.depositFen, when, k < returned ? 'refunded' : expires ? 'expired' : 'outstanding']);
        }
        if (expires) runs[run]!.units += expires;
      } else {
        out.row('deposit_lots', [c, saleId, 1, s.product.id, s.shop.id, s.farmerId, s.product.depositFen, s.qty, s.qty - returned - expires, expires, when]);
        if (expires) runs[run]!.lotContainers += expires;
      }
      if (expires) runs[run]!.amount += expires * s.product.depositFen;
      post('deposit_collected', shopAcct(s.shop.id), outstandingAcct, deposit, 'sale', saleId, s.shop.id, when, recordedAt);
      if (returns) {
        scheduleReturn((s.crossShop ?? s.shop).id, s.farmerId, rAt, [{ product: s.product, saleId, lineNo: 1, depositShop: s.shop.id, codes: s.codes.slice(0, returned), qty: returned, deposit: s.product.depositFen }]);
      }
      await pace();
    }
  }
  await runDue(Infinity);
  await out.close();
  if (keys.length) {
    const tk = Date.now();
    await addForeignKeys(trx, keys);
    log(`  ${c}: ${keys.length} foreign keys of the ledger tables checked after the load in ${((Date.now() - tk) / 1000).toFixed(1)} s`);
  }
  // The marks the books' triggers would have written: one per record day, tagged with this transaction.
  await trx.raw(`INSERT INTO reconciliation_dirty_days (county_id, rec_day, tx) SELECT ?, d::date, txid_current() FROM unnest(?::text[]) d`, [c, [...recDays].sort()]);
  // Every balance moved, set once: the last entry's balance_after of each account.
  for (const a of acct.values()) {
    if (a.moved) await trx('ledger_accounts').where({ county_id: c, id: a.ref.id }).update({ balance_fen: a.balance });
  }
  log(`  ${c}: ${salesCount} sales, ${sold} containers${withOpening ? ` (+ ${openingSold} sold in ${year - 1}, ${expiredContainers} expired in ${year})` : ` (earlier sales present: no opening deposits, no expiry generated)`}, ${returnsCount} returns, ${transfers} transfers`);

  // Custody: at the start of each month every shop seals one bag per container type with what it
  // accepted in the month before; the hauler picks each shop's bags up three days later on one
  // manifest and delivers them the same day to the county centre, which inspects each bag (4 % with a
  // count discrepancy, weights within tolerance otherwise) and disposes of a month's bags in one
  // batch three weeks later. Bags of January–August are disposed, of September–October held at the
  // facility, of November sealed and waiting at the shops; December's returns are loose. Every step
  // appends the event its service would to the county's hash chain.
  const bags: any[] = [];
  const bagItems: any[] = [];
  const inspections: any[] = [];
  const discrepancies: any[] = [];
  const manifestBags: any[] = [];
  const signatures: any[] = [];
  const manifests: any[] = [];
  const disposals: any[] = [];
  const disposalBags: any[] = [];
  const cev: CustodyEv[] = [];
  let manifestSerial = Number((await trx('custody_manifests').where({ county_id: c }).max({ m: 'serial' }).first())?.m ?? 0);
  const bagOffset = Number((await trx('custody_bags').where({ county_id: c }).count({ n: '*' }).first())?.n ?? 0);
  const disposalOffset = Number((await trx('custody_disposals').where({ county_id: c }).count({ n: '*' }).first())?.n ?? 0);
  const material = new Map(ref.products.map((p) => [p.containerTypeId, { material: p.material, tare: p.tareG }]));
  const shopParty = (id: string) => ({ type: 'shop', id });
  const haulerParty = { type: 'hauler', id: ref.haulerId };
  const facilityParty = { type: 'facility', id: ref.facilityId };
  for (let mo = 0; mo < 11; mo++) {
    const sealedMs = cal.monthStartMs(year, mo + 1) + 10 * 3_600_000;
    const sealedAt = new Date(sealedMs);
    const stage = mo <= 7 ? 'disposed' : mo <= 9 ? 'received' : 'sealed';
    const pickedMs = sealedMs + 3 * DAY;
    const receivedMs = pickedMs + 6 * 3_600_000;
    const inspectedMs = receivedMs + 3_600_000;
    const disposedMs = receivedMs + 20 * DAY;
    const toDispose: any[] = [];
    for (const [shopId, byCt] of returnedAt) {
      const shopBags: string[] = [];
      const manifestId = randomUUID(); // used when the shop has bags to hand over this month
      for (const [ctId, months] of byCt) {
        const per = months[mo]!;
        if (per <= 0) continue;
        const id = randomUUID();
        const mat = material.get(ctId)!;
        const sealNo = `S${c}${String(bagOffset + bags.length + 1).padStart(8, '0')}`;
        const expected = per * mat.tare;
        const bag: any = {
          county_id: c, id, shop_id: shopId, material: mat.material, state: stage, seal_no: sealNo, declared_quantity: per, expected_weight_g: expected,
          holder_type: stage === 'sealed' ? 'shop' : 'facility', holder_id: stage === 'sealed' ? shopId : ref.facilityId, created_by: GEN, created_at: sealedAt, sealed_at: sealedAt, updated_at: sealedAt,
          manifest_id: stage === 'sealed' ? null : manifestId,
        };
        bags.push(bag);
        bagItems.push({ county_id: c, bag_id: id, item_no: 1, container_type_id: ctId, unit_code: null, quantity: per, tare_weight_g: mat.tare, recorded_at: sealedAt });
        cev.push({ at: sealedMs, type: 'bag_opened', bagId: id, actor: GEN, data: { shopId, material: mat.material } });
        cev.push({ at: sealedMs, type: 'bag_items_added', bagId: id, actor: GEN, data: { requestId: randomUUID(), items: [{ itemNo: 1, containerTypeId: ctId, unitCode: null, quantity: per, tareWeightG: mat.tare }] } });
        cev.push({ at: sealedMs, type: 'bag_sealed', bagId: id, actor: GEN, data: { sealNo, shopWeightG: null, declaredQuantity: per, expectedWeightG: expected } });
        if (stage === 'sealed') continue;
        shopBags.push(id);
        // Inspection at the facility: a few bags short (count discrepancy); weights vary within tolerance.
        const inspId = randomUUID();
        const short = rnd() < 0.04 ? Math.max(1, Math.floor(per * 0.1)) : 0;
        const counted = per - short;
        const noise = tolerancePct >= 5 && !short ? (rnd() * 4 - 2) / 100 : 0;
        const measured = Math.round(counted * mat.tare * (1 + noise));
        const disc = short ? [{ type: 'count', expected_value: per, actual_value: counted, comment: '清点数量少于申报数量' }] : [];
        const row = { outcome: 'accepted', measured_weight_g: measured, seal_no_read: sealNo, seal_intact: true, counted_quantity: counted, rejected_quantity: 0 };
        inspections.push({ county_id: c, id: inspId, bag_id: id, manifest_id: manifestId, facility_id: ref.facilityId, ...row, actor: GEN, recorded_at: new Date(inspectedMs) });
        for (const [i, d] of disc.entries()) discrepancies.push({ county_id: c, inspection_id: inspId, no: i + 1, bag_id: id, ...d });
        cev.push({ at: inspectedMs, type: 'bag_inspected', bagId: id, manifestId, actor: GEN, data: { inspectionId: inspId, tolerancePct, expectedWeightG: expected, declaredQuantity: per, ...row, discrepancies: disc } });
        Object.assign(bag, { inspection_id: inspId, measured_weight_g: measured, counted_quantity: counted, updated_at: new Date(inspectedMs) });
        if (stage === 'disposed') toDispose.push(bag);
      }
      if (!shopBags.length) continue;
      // One manifest per shop and month: created by the hauler, the shop's bags put on, the pickup
      // signed by the shop then the hauler, the delivery by the hauler then the facility.
      manifestSerial++;
      const trackingNo = makeTrackingNumber(c, manifestSerial);
      manifests.push({ county_id: c, id: manifestId, serial: manifestSerial, tracking_no: trackingNo, facility_id: ref.facilityId, status: stage === 'disposed' ? 'closed' : 'delivered', created_by: GEN, created_at: new Date(pickedMs - 3_600_000), updated_at: new Date(stage === 'disposed' ? disposedMs : receivedMs) });
      cev.push({ at: pickedMs - 3_600_000, type: 'manifest_created', manifestId, actor: GEN, data: { trackingNo, haulerId: ref.haulerId, facilityId: ref.facilityId } });
      cev.push({ at: pickedMs - 3_600_000, type: 'manifest_bags_added', manifestId, actor: GEN, data: { bagIds: shopBags } });
      for (const bagId of shopBags) manifestBags.push({ county_id: c, bag_id: bagId, manifest_id: manifestId, shop_id: shopId, recorded_at: new Date(pickedMs - 3_600_000) });
      const sign = (handover: string, side: 'giver' | 'receiver', party: { type: string; id: string }, role: string, atMs: number) => {
        const id = randomUUID();
        const at = new Date(atMs);
        signatures.push({ county_id: c, id, manifest_id: manifestId, handover, side, party_type: party.type, party_id: party.id, signer: GEN, signer_role: role, device: 'generator', signed_at: at, recorded_at: at });
        cev.push({ at: atMs, type: 'signature_recorded', manifestId, actor: GEN, data: { signatureId: id, handover, side, onBehalfOf: party, signerRole: role, device: 'generator', signedAt: at.toISOString() } });
      };
      sign(`pickup:${shopId}`, 'giver', shopParty(shopId), 'clerk', pickedMs);
      sign(`pickup:${shopId}`, 'receiver', haulerParty, 'hauler', pickedMs);
      cev.push({ at: pickedMs, type: 'custody_passed', manifestId, actor: GEN, data: { handover: `pickup:${shopId}`, from: shopParty(shopId), to: haulerParty, bagIds: shopBags } });
      sign('delivery', 'giver', haulerParty, 'hauler', receivedMs);
      sign('delivery', 'receiver', facilityParty, 'facility_operator', receivedMs);
      cev.push({ at: receivedMs, type: 'custody_passed', manifestId, actor: GEN, data: { handover: 'delivery', from: haulerParty, to: facilityParty, bagIds: shopBags } });
    }
    if (toDispose.length) {
      // One disposal certificate for the month's bags.
      const dId = randomUUID();
      const certificateNo = `D${c}${String(disposalOffset + disposals.length + 1).padStart(8, '0')}`;
      const disposedOn = localDay(disposedMs);
      disposals.push({ county_id: c, id: dId, holder_facility_id: ref.facilityId, disposal_facility_id: null, method: 'incineration', facility_licence_no: 'generator', certificate_no: certificateNo, disposed_on: disposedOn, actor: GEN, recorded_at: new Date(disposedMs) });
      for (const bag of toDispose) {
        disposalBags.push({ county_id: c, bag_id: bag.id, disposal_id: dId });
        Object.assign(bag, { disposal_id: dId, updated_at: new Date(disposedMs) });
      }
      cev.push({ at: disposedMs, type: 'bags_disposed', actor: GEN, data: { disposalId: dId, bagIds: toDispose.map((b) => b.id), method: 'incineration', holderFacilityId: ref.facilityId, disposalFacilityId: null, facilityLicenceNo: 'generator', certificateNo, disposedOn } });
    }
  }
  // The county row's lock, as every custody write takes it, so the chain is appended alone.
  await trx('counties').where({ id: c }).forUpdate().first('id');
  const transporters = manifests.map((m) => ({ county_id: c, manifest_id: m.id, seq: 1, hauler_id: ref.haulerId, recorded_at: m.created_at }));
  await insertChunks(trx, 'custody_bags', bags);
  await insertChunks(trx, 'custody_bag_items', bagItems);
  await insertChunks(trx, 'custody_manifests', manifests);
  await insertChunks(trx, 'custody_manifest_transporters', transporters);
  await insertChunks(trx, 'custody_manifest_bags', manifestBags);
  await insertChunks(trx, 'custody_signatures', signatures);
  await insertChunks(trx, 'custody_inspections', inspections);
  await insertChunks(trx, 'custody_discrepancies', discrepancies);
  await insertChunks(trx, 'custody_disposals', disposals);
  await insertChunks(trx, 'custody_disposal_bags', disposalBags);
  const custodyEvents = await appendCustodyChain(trx, c, cev);
  const rows: Record<string, number> = {
    ledger_accounts: newAccounts,
    ...out.counts,
    custody_bags: bags.length, custody_bag_items: bagItems.length, custody_manifests: manifests.length, custody_manifest_transporters: transporters.length,
    custody_manifest_bags: manifestBags.length, custody_signatures: signatures.length, custody_inspections: inspections.length,
    custody_discrepancies: discrepancies.length, custody_disposals: disposals.length, custody_disposal_bags: disposalBags.length, custody_events: custodyEvents,
  };
  return { sales: salesCount, containers: sold, returns: returnsCount, bags: bags.length, openingContainers: openingSold, expiredContainers, custodyEvents, rows };
}

/** Generates `counties` counties (the demo county first, then simulated ones) for one year. */
export async function generateData(knex: Knex, opts: GenerateOptions): Promise<GenerateResult> {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  const rnd = prng(opts.seed ?? 20260315);
  const ids: string[] = [];
  const rows: Record<string, number> = {};
  const add = (table: string, n: number) => {
    if (n) rows[table] = (rows[table] ?? 0) + n;
  };
  const out: GenerateResult = { counties: ids, sales: 0, containers: 0, returns: 0, bags: 0, openingContainers: 0, expiredContainers: 0, custodyEvents: 0, rows, ms: 0, booksMs: 0 };
  for (let i = opts.startIndex ?? 0; i < (opts.startIndex ?? 0) + opts.counties; i++) {
    const countyId = i === 0 ? DEMO_COUNTY_ID : `5190${String(i).padStart(2, '0')}`;
    if (i > 0) for (const [t, n] of Object.entries(await makeCounty(knex, countyId, i, rnd))) add(t, n);
    ids.push(countyId);
    const ref = await loadRef(knex, countyId, Math.max(500, Math.round(opts.containersPerCounty / 40)), rnd, (n) => add('farmers', n));
    const r = await generateCounty(knex, ref, opts.year, opts.containersPerCounty, rnd, log, opts.copyChunkBytes ?? 8 << 20, opts.onFlush, opts.codedShare, opts.keysAfterLoad);
    // The county's reconciliation books caught up with the load (docs/reconciliation.md, "Books"),
    // so the first reconciliation after it reads books, not a year of raw rows.
    const tb = Date.now();
    const books = await refreshBooks(knex, countyId);
    out.booksMs += Date.now() - tb;
    log(`  ${countyId}: reconciliation books ${books.full ? 'built' : `caught up (${books.days} days)`} in ${((Date.now() - tb) / 1000).toFixed(1)} s`);
    out.sales += r.sales;
    out.containers += r.containers;
    out.returns += r.returns;
    out.bags += r.bags;
    out.openingContainers += r.openingContainers;
    out.expiredContainers += r.expiredContainers;
    out.custodyEvents += r.custodyEvents;
    for (const [t, n] of Object.entries(r.rows)) add(t, n);
  }
  out.ms = Date.now() - started;
  return out;
}
