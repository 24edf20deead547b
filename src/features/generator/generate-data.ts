// Realistic seasonal data for N counties and one year, written straight to the tables with multi-row
// INSERTs (fast on the embedded and external servers alike): sales peaking in spring, returns lagging weeks to
// months behind, cross-shop returns, a few shops refunding more than they sell (possible fraud),
// offline tills uploading days late, and custody — bags, pickups, receiving with discrepancies,
// disposal. The ledger stays balanced: every sale and return posts its transfer and entries in event
// order with the running balance, exactly as the ledger's services would.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
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
  ms: number;
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
async function makeCounty(knex: Knex, countyId: string, index: number, rnd: () => number): Promise<void> {
  const exists = await knex('counties').where({ id: countyId }).first('id');
  if (exists) return;
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
}

async function ensureFarmers(knex: Knex, countyId: string, n: number): Promise<string[]> {
  const have = (await knex('farmers').where({ county_id: countyId }).count({ n: '*' }).first()) as { n: string | number };
  const missing = n - Number(have.n);
  if (missing > 0) {
    const base = 5_000_000 + Number(have.n);
    await insertChunks(knex, 'farmers', Array.from({ length: missing }, (_, i) => ({
      county_id: countyId, id: randomUUID(), name: `农户${base + i}`, phone_e164: `+861746${String(base + i).padStart(7, '0')}`,
    })));
  }
  return ((await knex('farmers').where({ county_id: countyId }).select('id')) as Array<{ id: string }>).map((f) => f.id);
}

async function loadRef(knex: Knex, countyId: string, farmers: number, rnd: () => number): Promise<Ref> {
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
    farmers: await ensureFarmers(knex, countyId, farmers),
    facilityId: facility.id,
    haulerId: hauler.id,
  };
}

function pickWeighted<T extends { weight: number }>(xs: T[], total: number, r: number): T {
  let x = r * total;
  for (const s of xs) if ((x -= s.weight) <= 0) return s;
  return xs[xs.length - 1]!;
}

interface Ev {
  at: number;
  kind: 'sale' | 'return' | 'expiry';
  run(): void;
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

/** One county-year. */
async function generateCounty(knex: Knex, ref: Ref, year: number, containers: number, rnd: () => number, log: (m: string) => void): Promise<Omit<GenerateResult, 'counties' | 'ms'>> {
  const c = ref.countyId;
  const county = (await knex('counties').where({ id: c }).first('deposit_validity_days', 'weight_tolerance_pct', 'timezone')) as { deposit_validity_days: number; weight_tolerance_pct: number | string; timezone: string | null };
  const cal = countyCalendar(county.timezone ?? DEFAULT_TIME_ZONE);
  const localDay = cal.dayOf;
  const start = cal.monthStartMs(year, 0);
  const end = cal.monthStartMs(year, 12);
  const totalW = ref.shops.reduce((a, s) => a + s.weight, 0);
  const monthTotal = MONTH_WEIGHTS.reduce((a, b) => a + b, 0);
  const acct = new Map<string, { ref: AccountRef; balance: number }>();
  const account = (r: AccountRef) => {
    let a = acct.get(r.id);
    if (!a) acct.set(r.id, (a = { ref: r, balance: 0 }));
    return a;
  };
  const existing = (await knex('ledger_accounts').where({ county_id: c }).select('id', 'balance_fen')) as Array<{ id: string; balance_fen: string }>;
  const existingBal = new Map(existing.map((e) => [e.id, Number(e.balance_fen)]));
  const outstandingAcct = countyAccount(c, 'deposits_outstanding');
  const policyAcct = countyAccount(c, 'policy_refunds');
  const unredeemedAcct = countyAccount(c, 'unredeemed');
  const validityMs = Number(county.deposit_validity_days ?? 365) * DAY;
  const tolerancePct = Number(county.weight_tolerance_pct ?? 10);
  // Opening deposits: a county-year starts with deposits sold the year before. Generated (and expired
  // by monthly runs during the year) only when the county has no earlier sales, so a second
  // generated year never doubles the one before it.
  const earlier = await knex('sales').where({ county_id: c }).where('event_time', '<', new Date(start)).first('id');
  const withOpening = !earlier;
  const openingStart = cal.monthStartMs(year - 1, 8);

  const rows = { sales: [] as any[], lines: [] as any[], units: [] as any[], lots: [] as any[], returns: [] as any[], items: [] as any[], allocs: [] as any[], refunds: [] as any[], transfers: [] as any[], entries: [] as any[], expiryRuns: [] as any[] };
  const unitState = new Map<string, string>(); // "saleId|code" → refunded | expired
  const lotOutstanding = new Map<string, { row: any }>();
  // shop → containerTypeId → accepted containers per month of the year they were recorded in (earlier
  // years in January, later in December), for bagging: a month's bag holds only what the shop had then.
  const returnedAt = new Map<string, Map<string, number[]>>();
  const monthOf = (ms: number) => {
    const d = localDay(ms);
    return Math.min(11, Math.max(0, (Number(d.slice(0, 4)) - year) * 12 + Number(d.slice(5, 7)) - 1));
  };
  // Deposits in sale order, for the expiry runs (only the opening deposits can expire within the year).
  const deposits: Array<{ at: number; saleId: string; codes: string[]; depositFen: number; lot: any | null }> = [];
  let expiryPtr = 0;
  let expiredContainers = 0;
  const events: Ev[] = [];
  let serial = 0;
  let sold = 0;
  let openingSold = 0;
  const post = (code: string, debit: AccountRef, credit: AccountRef, amount: number, refType: string, refId: string, shopId: string | null, at: Date, recordedAt: Date) => {
    if (amount <= 0) return;
    const id = randomUUID();
    const d = account(debit);
    const cr = account(credit);
    d.balance += amount;
    cr.balance -= amount;
    rows.transfers.push({ county_id: c, id, code, client_id: refId, ref_type: refType, ref_id: refId, shop_id: shopId, debit_account_id: debit.id, credit_account_id: credit.id, amount_fen: amount, event_time: at, recorded_at: recordedAt, actor: 'system:generator' });
    rows.entries.push({ county_id: c, transfer_id: id, account_id: debit.id, amount_fen: amount, balance_after_fen: d.balance + (existingBal.get(debit.id) ?? 0) });
    rows.entries.push({ county_id: c, transfer_id: id, account_id: credit.id, amount_fen: -amount, balance_after_fen: cr.balance + (existingBal.get(credit.id) ?? 0) });
  };

  let returnsCount = 0;
  const scheduleReturn = (shopId: string, farmerId: string, at: number, items: Array<{ product: Ref['products'][number]; saleId: string; lineNo: number; depositShop: string; codes: string[]; qty: number; deposit: number }>, policy?: { product: Ref['products'][number]; qty: number }) => {
    events.push({
      at, kind: 'return', run: () => {
        const id = randomUUID();
        const when = new Date(at);
        const recordedAt = new Date(at + (rnd() < 0.02 ? (1 + Math.floor(rnd() * 4)) * DAY : 5_000));
        let total = 0;
        let itemNo = 0;
        const accepted = (ctId: string, n: number) => {
          const m = returnedAt.get(shopId) ?? new Map<string, number[]>();
          const months = m.get(ctId) ?? new Array<number>(12).fill(0);
          months[monthOf(recordedAt.getTime())]! += n;
          m.set(ctId, months);
          returnedAt.set(shopId, m);
        };
        for (const it of items) {
          if (it.codes.length) {
            for (const code of it.codes) {
              itemNo++;
              rows.items.push({ county_id: c, return_id: id, item_no: itemNo, unit_code: code, scanned: code, product_id: it.product.id, quantity: 1, inspection: 'accepted', outcome: 'refunded', reason_code: null, refund_fen: it.deposit });
              rows.allocs.push({ county_id: c, return_id: id, item_no: itemNo, alloc_no: 1, source: 'unit', sale_id: it.saleId, line_no: it.lineNo, unit_code: code, deposit_shop_id: it.depositShop, product_id: it.product.id, quantity: 1, amount_fen: it.deposit });
              unitState.set(`${it.saleId}|${code}`, 'refunded');
              total += it.deposit;
              accepted(it.product.containerTypeId, 1);
            }
          } else {
            itemNo++;
            rows.items.push({ county_id: c, return_id: id, item_no: itemNo, unit_code: null, scanned: null, product_id: it.product.id, quantity: it.qty, inspection: 'accepted', outcome: 'refunded', reason_code: null, refund_fen: it.qty * it.deposit });
            rows.allocs.push({ county_id: c, return_id: id, item_no: itemNo, alloc_no: 1, source: 'lot', sale_id: it.saleId, line_no: it.lineNo, unit_code: null, deposit_shop_id: it.depositShop, product_id: it.product.id, quantity: it.qty, amount_fen: it.qty * it.deposit });
            lotOutstanding.get(`${it.saleId}|${it.lineNo}`)!.row.outstanding -= it.qty;
            total += it.qty * it.deposit;
            accepted(it.product.containerTypeId, it.qty);
          }
        }
        let policyTotal = 0;
        if (policy) {
          itemNo++;
          const amount = policy.qty * policy.product.depositFen;
          rows.items.push({ county_id: c, return_id: id, item_no: itemNo, unit_code: null, scanned: null, product_id: policy.product.id, quantity: policy.qty, inspection: 'accepted', outcome: 'refunded', reason_code: null, refund_fen: amount });
          rows.allocs.push({ county_id: c, return_id: id, item_no: itemNo, alloc_no: 1, source: 'policy', sale_id: null, line_no: null, unit_code: null, deposit_shop_id: null, product_id: policy.product.id, quantity: policy.qty, amount_fen: amount });
          policyTotal = amount;
          accepted(policy.product.containerTypeId, policy.qty);
        }
        if (rnd() < 0.05) {
          itemNo++;
          const p = ref.products[Math.floor(rnd() * ref.products.length)]!;
          rows.items.push({ county_id: c, return_id: id, item_no: itemNo, unit_code: null, scanned: null, product_id: p.id, quantity: 1, inspection: 'rejected', outcome: 'rejected', reason_code: 'not_rinsed', refund_fen: 0 });
        }
        rows.returns.push({ county_id: c, id, shop_id: shopId, farmer_id: farmerId, event_time: when, business_day: localDay(at), recorded_at: recordedAt, actor: 'system:generator', total_refund_fen: total + policyTotal });
        rows.refunds.push({ county_id: c, return_id: id, method: 'cash', reference: null, amount_fen: total + policyTotal, paid_at: when });
        post('refund_paid', outstandingAcct, shopAccount(c, shopId), total, 'return', id, shopId, when, recordedAt);
        post('policy_refund', policyAcct, shopAccount(c, shopId), policyTotal, 'return', id, shopId, when, recordedAt);
        returnsCount++;
      },
    });
  };

  // Sales: spread over the year by month weight, within a month uniformly. The opening deposits: the
  // last four months of the year before, at the same monthly rates.
  const saleAt = (y: number, m: number) => {
    const mStart = cal.monthStartMs(y, m);
    const mEnd = cal.monthStartMs(y, m + 1);
    return mStart + Math.floor(rnd() * (mEnd - mStart - 10 * 3_600_000)) + 7 * 3_600_000; // shop hours-ish
  };
  const openingTarget = withOpening ? Math.round((containers * MONTH_WEIGHTS.slice(8).reduce((a, b) => a + b, 0)) / monthTotal) : 0;
  const openingTotal = MONTH_WEIGHTS.slice(8).reduce((a, b) => a + b, 0);
  for (;;) {
    let at: number;
    if (openingSold < openingTarget) {
      let m = 8;
      for (let x = rnd() * openingTotal; m < 11 && (x -= MONTH_WEIGHTS[m]!) > 0; m++);
      at = saleAt(year - 1, m);
    } else if (sold < containers) {
      let m = 0;
      for (let x = rnd() * monthTotal; m < 11 && (x -= MONTH_WEIGHTS[m]!) > 0; m++);
      at = saleAt(year, m);
    } else break;
    const shop = pickWeighted(ref.shops, totalW, rnd());
    const farmerId = ref.farmers[Math.floor(rnd() * ref.farmers.length)]!;
    const product = ref.products[Math.floor(rnd() * ref.products.length)]!;
    const qty = 1 + Math.floor(rnd() * rnd() * 8);
    const coded = rnd() < 0.3;
    if (at < start) openingSold += qty;
    else sold += qty;
    const saleId = randomUUID();
    const codes = coded ? Array.from({ length: qty }, () => `1${product.reg6}1${product.pack}${String(++serial).padStart(15, '0')}${String(Math.floor(rnd() * 1e6)).padStart(6, '0')}`) : [];
    events.push({
      at, kind: 'sale', run: () => {
        const when = new Date(at);
        const recordedAt = new Date(at + (rnd() < 0.02 ? (1 + Math.floor(rnd() * 4)) * DAY : 3_000));
        const deposit = qty * product.depositFen;
        rows.sales.push({ county_id: c, id: saleId, shop_id: shop.id, farmer_id: farmerId, event_time: when, business_day: localDay(at), recorded_at: recordedAt, actor: 'system:generator', total_deposit_fen: deposit });
        rows.lines.push({ county_id: c, sale_id: saleId, line_no: 1, product_id: product.id, quantity: qty, deposit_per_container_fen: product.depositFen, schedule_deposit_fen: product.depositFen, deposit_fen: deposit });
        if (coded) {
          for (const code of codes) rows.units.push({ county_id: c, sale_id: saleId, unit_code: code, line_no: 1, product_id: product.id, shop_id: shop.id, farmer_id: farmerId, deposit_fen: product.depositFen, event_time: when, state: 'outstanding' });
          deposits.push({ at, saleId, codes, depositFen: product.depositFen, lot: null });
        } else {
          const lot = { county_id: c, sale_id: saleId, line_no: 1, product_id: product.id, shop_id: shop.id, farmer_id: farmerId, deposit_fen: product.depositFen, quantity: qty, outstanding: qty, expired: 0, event_time: when };
          rows.lots.push(lot);
          lotOutstanding.set(`${saleId}|1`, { row: lot });
          deposits.push({ at, saleId, codes, depositFen: product.depositFen, lot });
        }
        post('deposit_collected', shopAccount(c, shop.id), outstandingAcct, deposit, 'sale', saleId, shop.id, when, recordedAt);
      },
    });
    // Most containers come back, weeks to months later; one in seven at another shop.
    const returning = Math.round(qty * (rnd() < 0.85 ? 1 : rnd()));
    if (returning > 0 && rnd() < 0.88) {
      const lagDays = 5 + Math.floor(-Math.log(1 - rnd()) * 45);
      const rAt = at + lagDays * DAY + Math.floor(rnd() * 6 * 3_600_000);
      // Returns within the validity period only: a deposit is refunded or expires, never both.
      if (rAt < end && rAt < at + validityMs - DAY) {
        const rShop = rnd() < 0.15 ? pickWeighted(ref.shops, totalW, rnd()) : shop;
        scheduleReturn(rShop.id, farmerId, rAt, [{ product, saleId, lineNo: 1, depositShop: shop.id, codes: codes.slice(0, returning), qty: returning, deposit: product.depositFen }]);
      }
    }
  }
  // Possible fraud: the flagged shops refund untracked containers nobody bought there.
  for (const s of ref.shops.filter((x) => x.fraud)) {
    for (let i = 0; i < 40; i++) {
      const at = start + Math.floor(rnd() * (end - start - DAY));
      scheduleReturn(s.id, ref.farmers[Math.floor(rnd() * ref.farmers.length)]!, at, [], { product: ref.products[Math.floor(rnd() * ref.products.length)]!, qty: 5 + Math.floor(rnd() * 15) });
    }
  }

  // Deposit expiry (DESIGN rule 6), as the expiry job does it, once a month at 02:00: every deposit
  // sold before run time − validity and still outstanding moves to the unredeemed fund by one transfer.
  if (withOpening) {
    for (let m = 0; m < 12; m++) {
      const runAt = cal.monthStartMs(year, m) + 2 * 3_600_000;
      events.push({
        at: runAt, kind: 'expiry', run: () => {
          const cutoff = runAt - validityMs;
          let units = 0;
          let lotContainers = 0;
          let amount = 0;
          for (; expiryPtr < deposits.length && deposits[expiryPtr]!.at < cutoff; expiryPtr++) {
            const d = deposits[expiryPtr]!;
            if (d.lot) {
              if (d.lot.outstanding > 0) {
                lotContainers += d.lot.outstanding;
                amount += d.lot.outstanding * d.depositFen;
                d.lot.expired += d.lot.outstanding;
                d.lot.outstanding = 0;
              }
            } else {
              for (const code of d.codes) {
                const k = `${d.saleId}|${code}`;
                if (unitState.has(k)) continue;
                unitState.set(k, 'expired');
                units++;
                amount += d.depositFen;
              }
            }
          }
          const id = randomUUID();
          const when = new Date(runAt);
          rows.expiryRuns.push({ county_id: c, id, run_at: when, cutoff: new Date(cutoff), units_expired: units, lot_containers_expired: lotContainers, amount_fen: amount, actor: 'system:generator' });
          post('deposit_expired', outstandingAcct, unredeemedAcct, amount, 'expiry', id, null, when, when);
          expiredContainers += units + lotContainers;
        },
      });
    }
  }

  // Same instant: sales first, then expiry, then returns (stable for the rest).
  const rank = { sale: 0, expiry: 1, return: 2 } as const;
  events.sort((a, b) => a.at - b.at || rank[a.kind] - rank[b.kind]);
  for (const e of events) e.run();
  for (const u of rows.units) {
    const s = unitState.get(`${u.sale_id}|${u.unit_code}`);
    if (s) u.state = s;
  }

  // Accounts first (entries point at them), with their final balances.
  const accountRows = [...acct.values()].filter((a) => !existingBal.has(a.ref.id)).map((a) => ({ county_id: c, id: a.ref.id, code: a.ref.code, kind: a.ref.kind, shop_id: a.ref.shopId, bound: ACCOUNT_BOUNDS[a.ref.kind], balance_fen: a.balance }));
  await knex.transaction(async (trx) => {
    await insertChunks(trx, 'ledger_accounts', accountRows);
    for (const a of acct.values()) {
      if (existingBal.has(a.ref.id)) await trx('ledger_accounts').where({ county_id: c, id: a.ref.id }).update({ balance_fen: existingBal.get(a.ref.id)! + a.balance });
    }
    await insertChunks(trx, 'sales', rows.sales);
    await insertChunks(trx, 'sale_lines', rows.lines);
    await insertChunks(trx, 'sold_units', rows.units);
    await insertChunks(trx, 'deposit_lots', rows.lots);
    await insertChunks(trx, 'returns', rows.returns);
    await insertChunks(trx, 'return_items', rows.items);
    await insertChunks(trx, 'return_allocations', rows.allocs);
    await insertChunks(trx, 'refunds', rows.refunds);
    await insertChunks(trx, 'expiry_runs', rows.expiryRuns);
    await insertChunks(trx, 'ledger_transfers', rows.transfers);
    await insertChunks(trx, 'ledger_entries', rows.entries); // in posting order, so seq follows the running balances
  });
  log(`  ${c}: ${rows.sales.length} sales, ${sold} containers${withOpening ? ` (+ ${openingSold} sold in ${year - 1}, ${expiredContainers} expired in ${year})` : ` (earlier sales present: no opening deposits, no expiry generated)`}, ${returnsCount} returns, ${rows.transfers.length} transfers`);

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
  const GEN = 'system:generator';
  let manifestSerial = Number((await knex('custody_manifests').where({ county_id: c }).max({ m: 'serial' }).first())?.m ?? 0);
  const bagOffset = Number((await knex('custody_bags').where({ county_id: c }).count({ n: '*' }).first())?.n ?? 0);
  const disposalOffset = Number((await knex('custody_disposals').where({ county_id: c }).count({ n: '*' }).first())?.n ?? 0);
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
  let custodyEvents = 0;
  await knex.transaction(async (trx) => {
    // The county row's lock, as every custody write takes it, so the chain is appended alone.
    await trx('counties').where({ id: c }).forUpdate().first('id');
    await insertChunks(trx, 'custody_bags', bags);
    await insertChunks(trx, 'custody_bag_items', bagItems);
    await insertChunks(trx, 'custody_manifests', manifests);
    await insertChunks(trx, 'custody_manifest_transporters', manifests.map((m) => ({ county_id: c, manifest_id: m.id, seq: 1, hauler_id: ref.haulerId, recorded_at: m.created_at })));
    await insertChunks(trx, 'custody_manifest_bags', manifestBags);
    await insertChunks(trx, 'custody_signatures', signatures);
    await insertChunks(trx, 'custody_inspections', inspections);
    await insertChunks(trx, 'custody_discrepancies', discrepancies);
    await insertChunks(trx, 'custody_disposals', disposals);
    await insertChunks(trx, 'custody_disposal_bags', disposalBags);
    custodyEvents = await appendCustodyChain(trx, c, cev);
  });
  return { sales: rows.sales.length, containers: sold, returns: returnsCount, bags: bags.length, openingContainers: openingSold, expiredContainers, custodyEvents };
}

/** Generates `counties` counties (the demo county first, then simulated ones) for one year. */
export async function generateData(knex: Knex, opts: GenerateOptions): Promise<GenerateResult> {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  const rnd = prng(opts.seed ?? 20260315);
  const ids: string[] = [];
  const out: GenerateResult = { counties: ids, sales: 0, containers: 0, returns: 0, bags: 0, openingContainers: 0, expiredContainers: 0, custodyEvents: 0, ms: 0 };
  for (let i = opts.startIndex ?? 0; i < (opts.startIndex ?? 0) + opts.counties; i++) {
    const countyId = i === 0 ? DEMO_COUNTY_ID : `5190${String(i).padStart(2, '0')}`;
    if (i > 0) await makeCounty(knex, countyId, i, rnd);
    ids.push(countyId);
    const ref = await loadRef(knex, countyId, Math.max(500, Math.round(opts.containersPerCounty / 40)), rnd);
    const r = await generateCounty(knex, ref, opts.year, opts.containersPerCounty, rnd, log);
    out.sales += r.sales;
    out.containers += r.containers;
    out.returns += r.returns;
    out.bags += r.bags;
    out.openingContainers += r.openingContainers;
    out.expiredContainers += r.expiredContainers;
    out.custodyEvents += r.custodyEvents;
  }
  out.ms = Date.now() - started;
  return out;
}
