// A run of sales applied set-based inside the caller's transaction: the same rules and answers as
// SaleService.record for each sale, with a number of statements that does not grow with the run
// (sync batches, and online POST /sales through group commit). Per county:
//
//   reads (once)    county policy (FOR KEY SHARE); then ONE statement: closed months, shops,
//                   products, schedules, farmers
//   SAVEPOINT       only when the run binds unit codes (see below), taken once; the last run of the
//                   call leaves it for the caller's COMMIT to release
//   claim           every client id in ONE INSERT … ON CONFLICT DO NOTHING RETURNING — folded into
//                   the sale rows' statement when the run registers nobody (a sale's rows go in only
//                   if its id was claimed)
//   replay          ids already stored (and refused sales): one SELECT of the stored keys
//   farmers         new purchasers: one INSERT … RETURNING *, one INSERT of their history rows
//   sale rows       sales, lines, sold units (ON CONFLICT DO NOTHING: a code sold at the same moment
//                   by another request is not inserted) and lots: one statement
//   answers + SMS   one statement: UPDATE … FROM of the idempotency keys and INSERT of the outbox rows
//   ledger          one postTransfers call (accounts locked once, in id order; balance after each
//                   entry exact, in the run's order) — last, so the hot rows stay locked briefly
//
// Rows go in as one JSON parameter per table (json_populate_recordset), so a run never meets the
// 65,535 bind-parameter limit. A sale whose unit code turned out sold by a concurrent request rolls
// the savepoint back; the first such sale (journal order) is answered UNIT_CODE_ALREADY_SOLD and the
// rest is planned and applied again without it (a later sale may have leant on it: a purchaser it
// registered). That is the only thing the savepoint is for: every other error is thrown and fails the
// caller's transaction whole (sync applies the run again one by one, group commit runs the group
// again or splits it), so a run without unit codes takes none — two round trips fewer.
// Sales that repeat a client id or a unit code of an earlier sale of the run go into a later run, so
// they meet the earlier one as stored (duplicate / already sold), exactly as one by one.
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { actorName } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/permissions.js';
import { extractUnitCode } from '../../shared/unit-code.js';
import { maskPhone } from '../../shared/phone.js';
import { businessDay } from '../../shared/business-day.js';
import { newId } from '../../shared/client-id.js';
import { normalisedPhoneOrThrow } from '../farmers/farmer-entity.js';
import { productNotFound, type ProductRef } from '../products/product-lookup.js';
import { refRowOrThrow } from '../reference/entity-rules.js';
import { countyAccount, shopAccount } from '../ledger/accounts.js';
import { checkEventTimeBounds, countyOf, policyFromRow, type CountyPolicy } from '../ledger/county-policy.js';
import { bookingFrom, bookingView, type Booking } from '../periods/booking.js';
import { replay, requestHash, sameContentHash, type StoredKey, type WriteResult } from '../ledger/idempotency.js';
import { postTransfers, type TransferInput } from '../ledger/ledger-store.js';
import { messages, type SmsLanguage } from '../sms/sms-messages.js';
import { splitSms } from '../sms/sms-text.js';
import { saleNumber, saleQrPayload, type SaleInput } from './sale-service.js';
import type { SaleLineRow } from './sale-store.js';
import { lineUnitCodes, newCodeProblems, saleLineRow, throwCodeProblems } from './sale-lines.js';

export interface SaleRunItem {
  principal: Principal;
  /** The validated body of POST /sales (id and eventTime included). */
  input: SaleInput;
}

/** Per item: the write's result (201 applied, 200 replayed) or the error the single endpoint would answer. */
export type SaleRunResult = { ok: true; written: WriteResult } | { ok: false; error: unknown };

/**
 * Applies sales in order inside `trx`, each exactly as SaleService.record would (idempotent by its
 * client id, refused alone), with a constant number of statements per county and run. Errors that are
 * not about one sale (database gone, deadlock) are thrown: the caller's transaction is then unusable
 * and nothing of the run may be taken as stored. The run may leave its savepoint open for the
 * caller's COMMIT to release: what the caller writes after it is still committed with it.
 */
export async function applySaleRun(trx: Knex.Transaction, now: Date, items: SaleRunItem[]): Promise<SaleRunResult[]> {
  const results: Array<SaleRunResult | undefined> = new Array(items.length);
  const byCounty = new Map<string, number[]>();
  items.forEach((it, i) => {
    try {
      const countyId = countyOf(it.principal, it.input.countyId);
      byCounty.set(countyId, [...(byCounty.get(countyId) ?? []), i]);
    } catch (error) {
      results[i] = { ok: false, error };
    }
  });
  const runs = [...byCounty].flatMap(([countyId, indexes]) => splitRepeats(items, indexes).map((part) => ({ countyId, part })));
  for (const [k, { countyId, part }] of runs.entries()) await applyCountyRun(trx, now, countyId, items, part, results, k === runs.length - 1);
  return results.map((r) => r ?? { ok: false, error: new Error('sale run left an item without a result') });
}

/** Consecutive parts in which no client id and no unit code occurs twice. */
function splitRepeats(items: SaleRunItem[], indexes: number[]): number[][] {
  const parts: number[][] = [];
  let cur: number[] = [];
  let ids = new Set<string>();
  let codes = new Set<string>();
  for (const i of indexes) {
    const input = items[i]!.input;
    const mine = new Set<string>();
    for (const line of input.lines ?? []) {
      for (const raw of line.unitCodes ?? []) {
        const got = extractUnitCode(raw);
        if (got.ok) mine.add(got.code);
      }
    }
    if (ids.has(input.id) || [...mine].some((c) => codes.has(c))) {
      parts.push(cur);
      cur = [];
      ids = new Set();
      codes = new Set();
    }
    cur.push(i);
    ids.add(input.id);
    for (const c of mine) codes.add(c);
  }
  if (cur.length) parts.push(cur);
  return parts;
}

interface FarmerState { id: string; name: string; phoneE164: string; active: boolean; language: SmsLanguage; smsOptOut: boolean }

interface RunContext {
  countyId: string;
  policy: CountyPolicy | null;
  closed: Set<string>;
  shops: Map<string, { id: string; name: string; active: boolean }>;
  products: { byId: Map<string, ProductRef>; byGtin: Map<string, ProductRef> };
  schedules: Array<{ id: string; deposit_fen: number; container_type_id: string | null; effective_from: string; effective_to: string | null }>;
  farmers: Map<string, FarmerState>;
}

/**
 * Reference data of the whole run in TWO statements (every round trip of a group waits for the
 * database process to be scheduled on a busy server): the county row FOR KEY SHARE, as bookingFor
 * takes it, so a month close waits for this run; then closed months, shops, products, schedules and
 * purchasers in one. Schedules are read for every container type
 * over the run's days padded by a day either side (a superset: scheduleOn picks exactly).
 */
async function readContext(trx: Knex.Transaction, countyId: string, inputs: SaleInput[], now: Date): Promise<RunContext> {
  void now;
  const lines = inputs.flatMap((i) => i.lines ?? []);
  const phones = [...new Set(inputs.flatMap((i) => {
    try { return [normalisedPhoneOrThrow(i.purchaser.phone)]; } catch { return []; }
  }))];
  const times = inputs.map((i) => Date.parse(i.eventTime)).filter((x) => Number.isFinite(x));
  const padDay = (ms: number, days: number) => businessDay(ms + days * 86_400_000, 'UTC');
  const q = {
    shops: [...new Set(inputs.map((i) => i.shopId))],
    ids: [...new Set(lines.flatMap((l) => (l.productId !== undefined ? [l.productId] : [])))],
    gtins: [...new Set(lines.flatMap((l) => (l.gtin !== undefined ? [l.gtin] : [])))],
    phones,
    fromDay: times.length ? padDay(Math.min(...times), -1) : null,
    toDay: times.length ? padDay(Math.max(...times), 1) : null,
  };
  // The county row first, FOR KEY SHARE: a month close holds it FOR UPDATE while it inserts the
  // closed month, so this waits for the close to commit — and only a LATER statement (a new snapshot)
  // sees that month closed. Reading the closed months in this same statement would read them as of
  // before the wait, and book a sale into a month closed meanwhile.
  const county = (await trx.raw(`SELECT c.* FROM counties c WHERE c.id = ? FOR KEY SHARE OF c`, [countyId])).rows[0] as Record<string, any> | undefined;
  const row = (await trx.raw(`WITH q AS (SELECT ?::json AS j)
    SELECT
      array(SELECT p.period_key FROM closed_periods p WHERE p.county_id = ? ORDER BY 1) AS closed_months,
      (SELECT coalesce(json_agg(json_build_object('id', s.id, 'name', s.name, 'active', s.active)), '[]'::json)
         FROM shops s, q WHERE s.county_id = ? AND s.id = ANY (ARRAY(SELECT json_array_elements_text(q.j->'shops'))::uuid[])) AS shops,
      (SELECT coalesce(json_agg(p ORDER BY p.id), '[]'::json) FROM (SELECT id, name, registration_no, container_type_id, gtin, pack_size_code
         FROM products, q WHERE county_id = ? AND active
           AND (id = ANY (ARRAY(SELECT json_array_elements_text(q.j->'ids'))::uuid[]) OR gtin = ANY (ARRAY(SELECT json_array_elements_text(q.j->'gtins'))))) p) AS products,
      (SELECT coalesce(json_agg(d ORDER BY d.id), '[]'::json) FROM (SELECT id, deposit_fen, container_type_id, effective_from, effective_to
         FROM deposit_schedules, q WHERE county_id = ? AND active AND effective_from <= (q.j->>'toDay')::date
           AND (effective_to IS NULL OR effective_to > (q.j->>'fromDay')::date)) d) AS schedules,
      (SELECT coalesce(json_agg(json_build_object('id', f.id, 'name', f.name, 'phone_e164', f.phone_e164, 'active', f.active, 'language', f.language, 'sms_opt_out', f.sms_opt_out)), '[]'::json)
         FROM farmers f, q WHERE f.county_id = ? AND f.phone_e164 = ANY (ARRAY(SELECT json_array_elements_text(q.j->'phones')))) AS farmers`,
  [JSON.stringify(q), countyId, countyId, countyId, countyId, countyId])).rows[0] as {
    closed_months: string[] | string | null;
    shops: Array<{ id: string; name: string; active: boolean }>;
    products: Array<Record<string, any>>;
    schedules: RunContext['schedules'];
    farmers: Array<Record<string, any>>;
  };
  const closedRaw = row.closed_months;
  const closed = new Set(Array.isArray(closedRaw) ? closedRaw : closedRaw ? closedRaw.replace(/^\{|\}$/g, '').split(',').filter(Boolean).map((x) => x.replace(/^"|"$/g, '')) : []);
  const policy = county ? policyFromRow(county) : null;
  const byId = new Map<string, ProductRef>();
  const byGtin = new Map<string, ProductRef>();
  for (const r of row.products) {
    const ref: ProductRef = { id: r.id, name: r.name, registrationNo: r.registration_no, containerTypeId: r.container_type_id, gtin: r.gtin, packSizeCode: r.pack_size_code };
    byId.set(ref.id, ref);
    if (ref.gtin && !byGtin.has(ref.gtin)) byGtin.set(ref.gtin, ref);
  }
  return {
    countyId, policy, closed,
    shops: new Map(row.shops.map((s) => [s.id, s])),
    products: { byId, byGtin },
    schedules: row.schedules.map((d) => ({ ...d, deposit_fen: Number(d.deposit_fen) })),
    farmers: new Map(row.farmers.map((f) => [f.phone_e164, {
      id: f.id, name: f.name, phoneE164: f.phone_e164, active: f.active !== false, language: f.language === 'en' ? 'en' : 'zh', smsOptOut: f.sms_opt_out === true,
    }])),
  };
}

/** depositInForce on rows already read: a schedule of the container type wins over the county default. */
function scheduleOn(ctx: RunContext, containerTypeId: string, day: string): { scheduleId: string; depositFen: number } | null {
  const live = ctx.schedules.filter((s) => s.effective_from <= day && (s.effective_to === null || s.effective_to > day));
  const r = live.find((s) => s.container_type_id === containerTypeId) ?? live.find((s) => s.container_type_id === null);
  return r ? { scheduleId: r.id, depositFen: r.deposit_fen } : null;
}

interface PlannedSale {
  index: number;
  hash: string;
  principal: Principal;
  input: SaleInput;
  actor: string;
  eventTime: Date;
  day: string;
  booking: Booking;
  farmerPhone: string;
  /** Set when this sale registers its purchaser (the first sale of the run naming a new phone). */
  registers: boolean;
  lines: Array<{ product: ProductRef; row: SaleLineRow; codes: string[] }>;
  seen: Map<string, string>;
  total: number;
  mismatch: boolean;
}

interface Plan {
  sales: PlannedSale[];
  /** Sales refused before anything is written (still replayed when their id is stored). */
  refused: Array<{ index: number; hash: string; id: string; input: SaleInput; error: unknown }>;
  /** Purchasers to register, by phone (name and village from the registering sale). */
  newFarmers: Map<string, { id: string; name: string; village: string; actor: string }>;
}

/** Every rule of SaleService.write that needs no write, in the same order, per sale. */
function plan(ctx: RunContext, items: SaleRunItem[], indexes: number[], now: Date): Plan {
  const out: Plan = { sales: [], refused: [], newFarmers: new Map() };
  for (const index of indexes) {
    const { principal, input } = items[index]!;
    const hash = requestHash('sale', input);
    try {
      if (!ctx.policy) throw new AppError('NOT_FOUND', `No county ${ctx.countyId}`);
      const policy = ctx.policy;
      const eventTime = new Date(input.eventTime);
      checkEventTimeBounds(eventTime, now, policy, principal);
      refRowOrThrow(ctx.shops.get(input.shopId) as Record<string, unknown> | undefined, ctx.countyId, 'shopId');
      const actor = actorName(principal);
      const phone = normalisedPhoneOrThrow(input.purchaser.phone, '/body/purchaser/phone');
      const known = ctx.farmers.get(phone);
      let registers = false;
      if (known) {
        if (!known.active) throw new AppError('RECORD_INACTIVE', 'The farmer with this phone number is deactivated', [{ field: '/body/purchaser/phone', code: 'inactive', message: 'deactivated farmer' }]);
      } else if (!out.newFarmers.has(phone)) {
        const name = input.purchaser.name?.trim();
        if (!name) throw new AppError('FARMER_NAME_REQUIRED', undefined, [{ field: '/body/purchaser/name', code: 'required', message: 'the phone number is not registered; give a name' }]);
        registers = true;
      }
      const day = businessDay(eventTime, policy.timezone);
      const problems = newCodeProblems();
      const lines: PlannedSale['lines'] = [];
      for (const [i, line] of input.lines.entries()) {
        const field = `/body/lines/${i}`;
        if ((line.productId === undefined) === (line.gtin === undefined)) {
          throw new AppError('VALIDATION_FAILED', 'Name the product by productId or by gtin (one of them)', [{ field, code: 'one_of', message: 'give exactly one of productId, gtin' }]);
        }
        const product = line.productId !== undefined ? ctx.products.byId.get(line.productId) : ctx.products.byGtin.get(line.gtin!);
        if (!product) throw productNotFound(line, field);
        const codes = lineUnitCodes(line, product, field, problems);
        const schedule = scheduleOn(ctx, product.containerTypeId, day);
        lines.push({ product, codes, row: saleLineRow({ countyId: ctx.countyId, saleId: input.id, day }, i + 1, line, product, schedule, field) });
      }
      throwCodeProblems(problems);
      if (registers) out.newFarmers.set(phone, { id: newId(), name: input.purchaser.name!.trim(), village: input.purchaser.village?.trim() ?? '', actor });
      out.sales.push({
        index, hash, principal, input, actor, eventTime, day, booking: bookingFrom(eventTime, policy.timezone, ctx.closed), farmerPhone: phone, registers, lines, seen: problems.seen,
        total: lines.reduce((s, l) => s + l.row.deposit_fen, 0), mismatch: lines.some((l) => l.row.deposit_mismatch),
      });
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      out.refused.push({ index, hash, id: input.id, input, error });
    }
  }
  return out;
}

/** Thrown inside the savepoint when sales met codes sold concurrently: roll back, refuse them, go again. */
class SoldMeanwhile extends Error {
  constructor(readonly refusals: Map<number, AppError>) { super('unit codes sold meanwhile'); }
}

/** A purchaser of the run was registered by a concurrent transaction: a serialisation conflict, worth running again. */
class PurchaserRegisteredMeanwhile extends Error {
  readonly code = '40001';
  constructor() { super('a purchaser was registered concurrently'); }
}

/** One INSERT of many rows: the rows travel as one JSON parameter. */
function jsonRows(table: string, rows: object[]): { sql: string; binding: string } {
  const cols = Object.keys(rows[0]!);
  const list = cols.map((c) => `"${c}"`).join(', ');
  return { sql: `INSERT INTO ${table} (${list}) SELECT ${list} FROM json_populate_recordset(NULL::${table}, ?::json)`, binding: JSON.stringify(rows) };
}

async function applyCountyRun(trx: Knex.Transaction, now: Date, countyId: string, items: SaleRunItem[], indexes: number[], results: Array<SaleRunResult | undefined>, last: boolean): Promise<void> {
  const ctx = await readContext(trx, countyId, indexes.map((i) => items[i]!.input), now);
  let pending = indexes;
  let savepoint = false;
  for (;;) {
    const p = plan(ctx, items, pending, now);
    // Only a unit code can meet another transaction's write in a way that refuses one sale and not
    // the rest (sold meanwhile: the sold-units insert skips it). A run without codes needs nothing to
    // roll back to: any error it meets fails the caller's transaction as a whole (see applySaleRun).
    if (!p.sales.some((s) => s.lines.some((l) => l.codes.length > 0))) {
      for (const [i, r] of await writeRun(trx, ctx, p, now)) results[i] = r;
      // A savepoint of an earlier pass (rolled back to) may stay: COMMIT releases it.
      if (savepoint && !last) await trx.raw('RELEASE SAVEPOINT sale_run');
      return;
    }
    // The savepoint is taken once and rolled back to as often as codes turn out sold meanwhile (it
    // stays after ROLLBACK TO). The last run of the call leaves it for the caller's COMMIT to release
    // (one round trip fewer); an earlier one releases it, so runs never nest subtransactions.
    if (!savepoint) await trx.raw('SAVEPOINT sale_run');
    savepoint = true;
    try {
      const out = await writeRun(trx, ctx, p, now);
      for (const [i, r] of out) results[i] = r;
      if (!last) await trx.raw('RELEASE SAVEPOINT sale_run');
      return;
    } catch (err) {
      if (!(err instanceof SoldMeanwhile)) throw err;
      await trx.raw('ROLLBACK TO SAVEPOINT sale_run');
      // Only the first refused sale (journal order) is refused for sure: everything before it was
      // applied, as one by one. A later refusal may rest on it — its code taken by that sale, or its
      // purchaser registered by it — and is planned again without it (test/features/sync/sync-equivalence).
      const first = Math.min(...err.refusals.keys());
      results[first] = { ok: false, error: err.refusals.get(first)! };
      pending = pending.filter((i) => i !== first);
    }
  }
}

interface Written {
  /** Client ids the statement claimed (folded claim only). */
  claimed: string[];
  saleNo: Map<string, number>;
  /** `sale_id:unit_code` of the sold units inserted (a code sold meanwhile by another transaction is not). */
  inserted: Set<string>;
}

/**
 * Sales, lines, sold units and lots of `sales` in one statement; with `claim`, the claim of their
 * client ids too, each sale's rows written only if its id was claimed.
 */
async function writeSales(sp: Knex.Transaction, ctx: RunContext, sales: PlannedSale[], farmers: Map<string, FarmerState>, now: Date, claim: { sql: string; binding: string } | null): Promise<Written> {
  const countyId = ctx.countyId;
  const farmerOf = (s: PlannedSale) => farmers.get(s.farmerPhone)!;
  const saleRows = sales.map((s) => ({
    county_id: countyId, id: s.input.id, shop_id: s.input.shopId, farmer_id: farmerOf(s).id, event_time: s.eventTime, business_day: s.day,
    recorded_at: now, actor: s.actor, total_deposit_fen: s.total, deposit_mismatch: s.mismatch, booked_at: s.booking.bookedAt, receipt_no: s.input.receiptNo ?? null,
  }));
  const lineRows = sales.flatMap((s) => s.lines.map((l) => l.row));
  const unitRows = sales.flatMap((s) => s.lines.flatMap((l) => l.codes.map((code) => ({
    county_id: countyId, sale_id: s.input.id, unit_code: code, line_no: l.row.line_no, product_id: l.product.id, shop_id: s.input.shopId,
    farmer_id: farmerOf(s).id, deposit_fen: l.row.deposit_per_container_fen, event_time: s.eventTime,
  }))));
  const lotRows = sales.flatMap((s) => s.lines.filter((l) => l.row.quantity > l.codes.length).map((l) => ({
    county_id: countyId, sale_id: s.input.id, line_no: l.row.line_no, product_id: l.product.id, shop_id: s.input.shopId, farmer_id: farmerOf(s).id,
    deposit_fen: l.row.deposit_per_container_fen, quantity: l.row.quantity - l.codes.length, outstanding: l.row.quantity - l.codes.length, event_time: s.eventTime,
  })));
  const ctes: string[] = [];
  const bindings: string[] = [];
  if (claim) {
    ctes.push(`k AS (${claim.sql})`);
    bindings.push(claim.binding);
  }
  // `= ANY ((SELECT array_agg …))`, not `IN (SELECT …)`: an uncommon plan could read k a row at a time
  // and interleave claims with unit codes; the aggregate (an InitPlan, run once before the first row is
  // filtered) makes every claim before any row of a sale goes in.
  const only = (col: string) => (claim ? ` WHERE ${col} = ANY ((SELECT array_agg(client_id) FROM k)::uuid[])` : '');
  const add = (name: string, table: string, rows: object[], from: string, tail: string) => {
    if (!rows.length) return;
    const q = jsonRows(table, rows);
    ctes.push(`${name} AS (${q.sql}${from} ${tail})`);
    bindings.push(q.binding);
  };
  add('s', 'sales', saleRows, only('id'), 'RETURNING id, sale_no');
  add('l', 'sale_lines', lineRows, only('sale_id'), 'RETURNING 1');
  // In code order, so two writers of overlapping codes wait for each other in the same order.
  // Two sales of the run naming one code: the earlier (journal order) takes it, as one by one would.
  add('u', 'sold_units', unitRows, ` WITH ORDINALITY AS r${only('sale_id')}`, `ORDER BY unit_code, ordinality ON CONFLICT (county_id, unit_code) WHERE state <> 'voided' DO NOTHING RETURNING sale_id, unit_code`);
  add('d', 'deposit_lots', lotRows, only('sale_id'), 'RETURNING 1');
  const row = (await sp.raw(`WITH ${ctes.join(', ')} SELECT (SELECT json_agg(json_build_array(id, sale_no)) FROM s) AS sales,
      ${unitRows.length ? "(SELECT array_agg(sale_id || ':' || unit_code) FROM u)" : 'NULL'} AS inserted,
      ${claim ? '(SELECT array_agg(client_id) FROM k)' : 'NULL'} AS claimed`, bindings)).rows[0] as { sales: Array<[string, number | string]> | null; inserted: string[] | null; claimed: string[] | null };
  return { claimed: row.claimed ?? [], saleNo: new Map((row.sales ?? []).map(([id, no]) => [id, Number(no)])), inserted: new Set(row.inserted ?? []) };
}

async function writeRun(sp: Knex.Transaction, ctx: RunContext, p: Plan, now: Date): Promise<Map<number, SaleRunResult>> {
  const out = new Map<number, SaleRunResult>();
  const countyId = ctx.countyId;
  // Claim the client ids of the sales that pass every rule, in id order (two batches overlapping in
  // ids wait for each other in the same order). A concurrent twin's claim is waited for.
  const keyRows = [...p.sales].sort((a, b) => (a.input.id < b.input.id ? -1 : 1))
    .map((s) => ({ county_id: countyId, client_id: s.input.id, operation: 'sale', request_hash: s.hash, recorded_at: now }));
  const claim = (): { sql: string; binding: string } => {
    const q = jsonRows('idempotency_keys', keyRows);
    return { sql: `${q.sql} ORDER BY client_id ON CONFLICT (county_id, client_id) DO NOTHING RETURNING client_id`, binding: q.binding };
  };
  // When every purchaser of the run is registered (nothing to register for a sale only if it is
  // claimed), the claim is folded into the statement that writes the sales: the rows of a sale go in
  // only if its id was claimed, and every claim is made before any of them (see writeSales), so the
  // locks come in the same order as in two statements: client ids in id order, then unit codes in
  // code order. One round trip fewer.
  const fold = p.sales.length > 0 && p.sales.every((s) => ctx.farmers.has(s.farmerPhone));
  const claimedIds = new Set<string>();
  let written: Written | null = null;
  if (fold) {
    written = await writeSales(sp, ctx, p.sales, ctx.farmers, now, claim());
    for (const id of written.claimed) claimedIds.add(id);
  } else if (p.sales.length) {
    const c = claim();
    const claimed = (await sp.raw(c.sql, [c.binding])).rows as Array<{ client_id: string }>;
    for (const c of claimed) claimedIds.add(c.client_id);
  }
  // Ids already stored answer their stored result (or conflict) — refused sales too: a sale stored
  // earlier replays whatever the rules say today. (A twin committed while the claim waited for it is
  // seen here: a later statement, a later snapshot.)
  const unclaimed = [...p.sales.filter((s) => !claimedIds.has(s.input.id)).map((s) => ({ index: s.index, id: s.input.id, input: s.input, hash: s.hash, error: undefined as unknown })), ...p.refused];
  if (unclaimed.length) {
    const stored = new Map(((await sp('idempotency_keys').where({ county_id: countyId }).whereIn('client_id', unclaimed.map((u) => u.id))
      .select('client_id', 'operation', 'request_hash', 'status_code', 'response')) as Array<StoredKey & { client_id: string }>).map((r) => [r.client_id, r]));
    for (const u of unclaimed) {
      const s = stored.get(u.id);
      if (s) {
        try {
          out.set(u.index, { ok: true, written: replay(s, { clientId: u.id, operation: 'sale' }, u.hash, sameContentHash({ countyId, operation: 'sale', content: u.input })) });
        } catch (error) {
          out.set(u.index, { ok: false, error });
        }
      } else if (u.error !== undefined) {
        out.set(u.index, { ok: false, error: u.error });
      } else {
        throw new Error(`client id ${u.id} was neither claimed nor stored`);
      }
    }
  }
  const sales = p.sales.filter((s) => claimedIds.has(s.input.id));
  if (sales.length === 0) return out;

  // New purchasers (and their history rows, as findOrRegisterFarmer writes them).
  const farmers = new Map(ctx.farmers);
  const registered = new Set<string>();
  const wanted = [...new Set(sales.map((s) => s.farmerPhone))].filter((ph) => !farmers.has(ph));
  if (wanted.length) {
    const rows = wanted.map((ph) => {
      const f = p.newFarmers.get(ph)!;
      return { county_id: countyId, id: f.id, name: f.name, village: f.village, phone_e164: ph };
    });
    const q = jsonRows('farmers', rows);
    const inserted = (await sp.raw(`${q.sql} ON CONFLICT (county_id, phone_e164) DO NOTHING RETURNING *`, [q.binding])).rows as Array<Record<string, any>>;
    // Registered at the same moment by another request: rare; the caller runs the sales again (group
    // commit: the whole group, now finding the purchaser stored) or one by one (sync).
    if (inserted.length !== rows.length) throw new PurchaserRegisteredMeanwhile();
    const history = inserted.map((row) => ({ county_id: countyId, entity: 'farmer', entity_id: row.id, version: row.version, op: 'create', data: JSON.stringify(row), actor: p.newFarmers.get(row.phone_e164)!.actor }));
    await sp('entity_history').insert(history);
    for (const row of inserted) {
      farmers.set(row.phone_e164, { id: row.id, name: row.name, phoneE164: row.phone_e164, active: true, language: row.language === 'en' ? 'en' : 'zh', smsOptOut: row.sms_opt_out === true });
      registered.add(row.phone_e164);
    }
  }

  // Sales, lines, unit codes and lots in one statement (with the claim, when folded).
  if (!written) written = await writeSales(sp, ctx, sales, farmers, now, null);
  const { saleNo, inserted } = written;
  const farmerOf = (s: PlannedSale) => farmers.get(s.farmerPhone)!;
  const refusals = new Map<number, AppError>();
  for (const s of sales) {
    const sold = s.lines.flatMap((l) => l.codes).filter((c) => !inserted.has(`${s.input.id}:${c}`));
    if (sold.length) {
      refusals.set(s.index, new AppError('UNIT_CODE_ALREADY_SOLD', undefined, sold.map((c) => ({ field: s.seen.get(c)!, code: 'already_sold', message: `unit code ${c} was already sold in this county`, unitCode: c }))));
    }
  }
  if (refusals.size) throw new SoldMeanwhile(refusals);

  // The answers, stored with the keys, and the SMS to the farmers: one statement.
  const bodies = new Map(sales.map((s) => {
    const f = farmerOf(s);
    return [s.index, {
      saleId: s.input.id, saleNo: saleNumber(countyId, saleNo.get(s.input.id)!), countyId, shopId: s.input.shopId,
      eventTime: s.eventTime.toISOString(), recordedAt: now.toISOString(), businessDay: s.day, ...bookingView(s.booking),
      purchaser: { farmerId: f.id, name: f.name, phoneMasked: maskPhone(f.phoneE164), registeredNow: s.registers && registered.has(s.farmerPhone) },
      lines: s.lines.map((l) => ({
        lineNo: l.row.line_no, productId: l.product.id, productName: l.product.name, quantity: l.row.quantity, unitCodes: l.codes,
        depositPerContainerFen: l.row.deposit_per_container_fen, scheduleDepositFen: l.row.schedule_deposit_fen, depositFen: l.row.deposit_fen,
        flags: l.row.deposit_mismatch ? ['deposit_mismatch'] : [],
      })),
      totalDepositFen: s.total, flags: s.mismatch ? ['deposit_mismatch'] : [], qrPayload: saleQrPayload(countyId, s.input.id),
    }] as const;
  }));
  const keys = JSON.stringify(sales.map((s) => ({ county_id: countyId, client_id: s.input.id, status_code: 201, response: bodies.get(s.index) })));

  // The farmers' SMS (as enqueueSaleNotification: a deposit to tell, an active farmer who has not opted out).
  const outbox = sales.flatMap((s) => {
    const f = farmerOf(s);
    if (s.total <= 0 || !f.active || f.smsOptOut) return [];
    const shopName = ctx.shops.get(s.input.shopId)!.name;
    const text = messages.saleRecorded(f.language, { shopName, containers: s.lines.reduce((n, l) => n + l.row.quantity, 0), depositFen: s.total });
    const parts = splitSms(text);
    return parts.map((body, i) => ({
      county_id: countyId, id: newId(), event_key: `sale:${s.input.id}#${i + 1}`, kind: 'sale', phone_e164: f.phoneE164, farmer_id: f.id,
      language: f.language, body, part_no: i + 1, part_count: parts.length, status: 'pending', attempts: 0, next_attempt_at: now, created_at: now,
    }));
  });
  const answers = `UPDATE idempotency_keys k SET status_code = v.status_code, response = v.response
      FROM json_populate_recordset(NULL::idempotency_keys, ?::json) v WHERE k.county_id = v.county_id AND k.client_id = v.client_id`;
  if (outbox.length) {
    const q = jsonRows('sms_outbox', outbox);
    await sp.raw(`WITH k AS (${answers} RETURNING 1), o AS (${q.sql} ON CONFLICT (county_id, event_key) DO NOTHING RETURNING 1)
      SELECT (SELECT count(*) FROM k) AS keys`, [keys, q.binding]);
  } else {
    await sp.raw(answers, [keys]);
  }

  // The ledger last: every account locked once, in id order; the entries in the run's order.
  const transfers: TransferInput[] = sales.map((s) => ({
    code: 'deposit_collected', debit: shopAccount(countyId, s.input.shopId), credit: countyAccount(countyId, 'deposits_outstanding'),
    amountFen: s.total, clientId: s.input.id, refType: 'sale', refId: s.input.id, shopId: s.input.shopId, eventTime: s.eventTime, actor: s.actor, bookedAt: s.booking.bookedAt,
  }));
  await postTransfers(sp, countyId, transfers, now);
  for (const s of sales) out.set(s.index, { ok: true, written: { status: 201, body: bodies.get(s.index) } });
  return out;
}
