// A run of returns applied set-based inside the caller's transaction: the same rules and answers as
// ReturnService.record for each return (return-rules.ts decides every item for both), with a number
// of statements that does not grow with the run (sync batches today; group commit can call it for
// online returns: same signature as applySaleRun). Per county:
//
//   claim           every client id of the run in ONE INSERT … ON CONFLICT DO NOTHING RETURNING
//                   (in id order); ids already stored: one SELECT, answered as stored (or conflict)
//   reads (once)    county policy + closed months (FOR KEY SHARE), shops, products named by id/GTIN,
//                   returners by phone
//   unit codes      the sold ones locked FOR UPDATE in code order (one statement); products fitting
//                   the never-sold ones, and codes sold in another county (one each); the never-sold
//                   codes' advisory locks in code order, then which were already returned (one each);
//                   the registry of issued codes (one)
//   schedules, lots the deposit schedules of the run's days (one); the returners' lots FOR UPDATE in
//                   key order (one); the untracked policy's daily-limit locks, then what each
//                   returner (or shop) was refunded under it that day (one each); the returners'
//                   refundable deposits for their SMS (one)
//   judge           each return in journal order in memory (planReturn): the state every earlier
//                   return of the run left (units refunded, lots drawn, codes returned, policy used,
//                   returners registered) is what the next one sees — exactly as one by one
//   write           new returners + history (two), unit states (one), lots (one), returns, items,
//                   allocations and refunds (one), held refunds (one), answers (one UPDATE of the keys;
//                   one DELETE of the claims of refused returns), SMS outbox (one), and last the ledger:
//                   one postTransfers call (each account locked and moved once; balance after each
//                   entry exact, in journal order)
//
// Per-record results: a refused return is answered alone and changes nothing. Errors that are not
// about one return (database gone, deadlock, a returner registered at the same moment by another
// request, a ledger bound broken) are thrown: the caller's transaction is then unusable and nothing
// of the run may be taken as stored (the sync batch applies such a run again one by one).
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { actorName } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/permissions.js';
import { extractUnitCode } from '../../shared/unit-code.js';
import { businessDay } from '../../shared/business-day.js';
import { newId } from '../../shared/client-id.js';
import { normalisedPhoneOrThrow } from '../farmers/farmer-entity.js';
import type { ProductRef } from '../products/product-lookup.js';
import { refRowOrThrow } from '../reference/entity-rules.js';
import { checkEventTimeBounds, countyOf, policyFromRow, type CountyPolicy } from '../ledger/county-policy.js';
import { bookingFrom } from '../periods/booking.js';
import { replay, requestHash, sameContentHash, type StoredKey, type WriteResult } from '../ledger/idempotency.js';
import { postTransfers, type TransferInput } from '../ledger/ledger-store.js';
import type { SmsLanguage } from '../sms/sms-messages.js';
import { returnTexts } from '../sms/sms-notifications.js';
import { splitSms } from '../sms/sms-text.js';
import { SaleStore } from '../sales/sale-store.js';
import { composeReturn, incentiveLockKey, planReturn, validateShape, type ComposedReturn, type IncentiveGiven, type PlannedReturn, type ReturnFacts, type ReturnInput, type Returner } from './return-rules.js';
import { incentiveRateFromRow, matchIncentiveRate, type ContainerOfRate, type IncentiveRateRow } from '../../shared/incentive-rate-match.js';
import { countyAccount } from '../ledger/accounts.js';
import { farmerPointsAccount, postPoints, type PointsTransferInput } from '../points/points-store.js';
import { policyLockKey } from './return-service.js';
import type { LotRow, SoldUnitRow } from './return-store.js';

export interface ReturnRunItem {
  principal: Principal;
  /** The validated body of POST /returns (id and eventTime included). */
  input: ReturnInput;
}

/** Per item: the write's result (201 applied, 200 replayed) or the error the single endpoint would answer. */
export type ReturnRunResult = { ok: true; written: WriteResult } | { ok: false; error: unknown };

/**
 * Applies returns in order inside `trx`, each exactly as ReturnService.record would (idempotent by
 * its client id, refused alone), with a constant number of statements per county and run.
 */
export async function applyReturnRun(trx: Knex.Transaction, now: Date, items: ReturnRunItem[]): Promise<ReturnRunResult[]> {
  const results: Array<ReturnRunResult | undefined> = new Array(items.length);
  const byCounty = new Map<string, number[]>();
  items.forEach((it, i) => {
    try {
      const countyId = countyOf(it.principal, it.input.countyId);
      validateShape(it.input);
      byCounty.set(countyId, [...(byCounty.get(countyId) ?? []), i]);
    } catch (error) {
      results[i] = { ok: false, error };
    }
  });
  for (const [countyId, indexes] of byCounty) await applyCountyRun(trx, now, countyId, items, indexes, results);
  return results.map((r) => r ?? { ok: false, error: new Error('return run left an item without a result') });
}

/** One INSERT of many rows: the rows travel as one JSON parameter. */
function jsonRows(table: string, rows: object[]): { sql: string; binding: string } {
  const cols = Object.keys(rows[0]!);
  const list = cols.map((c) => `"${c}"`).join(', ');
  return { sql: `INSERT INTO ${table} (${list}) SELECT ${list} FROM json_populate_recordset(NULL::${table}, ?::json)`, binding: JSON.stringify(rows) };
}

function pgArray(v: string[] | string | null | undefined): string[] {
  if (Array.isArray(v)) return v;
  return v ? v.replace(/^\{|\}$/g, '').split(',').filter(Boolean).map((x) => x.replace(/^"|"$/g, '')) : [];
}

interface FarmerState { id: string; name: string; phoneE164: string; active: boolean; language: SmsLanguage; smsOptOut: boolean }

/** The scanned unit codes of the accepted items of a return (what its judgement may lock). */
function acceptedCodes(input: ReturnInput): string[] {
  return input.items.flatMap((item) => {
    if (item.inspection !== 'accepted' || item.scan === undefined) return [];
    const got = extractUnitCode(item.scan);
    return got.ok ? [got.code] : [];
  });
}

function prefixPattern(prefix: string): string | null {
  const category = { '1': 'PD', '2': 'WP', '3': 'LS' }[prefix.charAt(0)];
  return category ? `${category}__${prefix.slice(1)}` : null;
}

interface Applied {
  index: number;
  hash: string;
  input: ReturnInput;
  composed: ComposedReturn;
  returner: FarmerState | null;
  registers: { name: string; village: string; actor: string } | null;
  stillRefundableFen: number;
  planned: PlannedReturn;
  returnNo?: number;
  /** The returner's points balance after this return (null without returner), known once the run's points are posted. */
  pointsBalance?: number | null;
}

async function applyCountyRun(trx: Knex.Transaction, now: Date, countyId: string, items: ReturnRunItem[], indexes: number[], results: Array<ReturnRunResult | undefined>): Promise<void> {
  const hashes = new Map(indexes.map((i) => [i, requestHash('return', items[i]!.input)]));

  // Claim every client id (the first statement, as idempotentWriteIn does; in id order, so two runs
  // overlapping in ids wait for each other in the same order). A concurrent twin's claim is waited for.
  const firstOf = new Map<string, number>();
  for (const i of indexes) if (!firstOf.has(items[i]!.input.id)) firstOf.set(items[i]!.input.id, i);
  const keyRows = [...firstOf].sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([id, i]) => ({ county_id: countyId, client_id: id, operation: 'return', request_hash: hashes.get(i)!, recorded_at: now }));
  const k = jsonRows('idempotency_keys', keyRows);
  const claimed = new Set(((await trx.raw(`${k.sql} ORDER BY client_id ON CONFLICT (county_id, client_id) DO NOTHING RETURNING client_id`, [k.binding])).rows as Array<{ client_id: string }>).map((r) => r.client_id));
  const unclaimed = [...firstOf.keys()].filter((id) => !claimed.has(id));
  if (unclaimed.length) {
    const stored = new Map(((await trx.raw('SELECT client_id, operation, request_hash, status_code, response FROM idempotency_keys WHERE county_id = ? AND client_id = ANY(?)', [countyId, unclaimed])).rows as Array<StoredKey & { client_id: string }>)
      .map((r) => [r.client_id, r]));
    for (const i of indexes) {
      const id = items[i]!.input.id;
      if (claimed.has(id)) continue;
      const s = stored.get(id);
      if (!s || s.status_code === null) throw new Error(`client id ${id} was neither claimed nor stored`);
      try {
        results[i] = { ok: true, written: replay(s, { clientId: id, operation: 'return' }, hashes.get(i)!, sameContentHash({ countyId, operation: 'return', content: items[i]!.input })) };
      } catch (error) {
        results[i] = { ok: false, error };
      }
    }
  }
  const live = indexes.filter((i) => claimed.has(items[i]!.input.id));
  if (live.length === 0) return;
  const inputs = live.map((i) => items[i]!.input);

  // Reference data, one query each.
  const county = (await trx.raw(
    `SELECT c.*, array(SELECT p.period_key FROM closed_periods p WHERE p.county_id = c.id ORDER BY 1) AS closed_months
       FROM counties c WHERE c.id = ? FOR KEY SHARE OF c`, [countyId])).rows[0] as Record<string, any> | undefined;
  const policy: CountyPolicy | null = county ? policyFromRow(county) : null;
  const closed = new Set(pgArray(county?.closed_months));
  const shops = new Map(((await trx('shops').where({ county_id: countyId }).whereIn('id', [...new Set(inputs.map((i) => i.shopId))]).select('id', 'name', 'active')) as Array<{ id: string; name: string; active: boolean }>).map((s) => [s.id, s]));
  const named = inputs.flatMap((i) => i.items.filter((it) => it.scan === undefined).map((it) => ({ productId: it.productId, gtin: it.gtin })));
  const products = await new SaleStore(trx).products(countyId, named);
  const phoneOf = (input: ReturnInput): string | null => {
    try { return input.returner ? normalisedPhoneOrThrow(input.returner.phone) : null; } catch { return null; }
  };
  const phones = [...new Set(inputs.map(phoneOf).filter((p): p is string => p !== null))];
  const farmers = new Map<string, FarmerState>((phones.length ? (await trx.raw('SELECT id, name, phone_e164, active, language, sms_opt_out FROM farmers WHERE county_id = ? AND phone_e164 = ANY(?)', [countyId, phones])).rows as Array<Record<string, any>> : [])
    .map((f) => [f.phone_e164, { id: f.id, name: f.name, phoneE164: f.phone_e164, active: f.active !== false, language: f.language === 'en' ? 'en' : 'zh', smsOptOut: f.sms_opt_out === true }]));

  // Unit codes: the sold ones locked in code order; then what the never-sold ones need.
  const codes = [...new Set(inputs.flatMap(acceptedCodes))].sort((a, b) => a.localeCompare(b));
  const units = new Map<string, SoldUnitRow>();
  if (codes.length) {
    const rows = (await trx.raw(`SELECT * FROM sold_units WHERE county_id = ? AND unit_code = ANY(?) AND state <> 'voided' ORDER BY unit_code FOR UPDATE`, [countyId, codes])).rows as SoldUnitRow[];
    for (const r of rows) units.set(r.unit_code, { ...r, deposit_fen: Number(r.deposit_fen), event_time: new Date(r.event_time) });
  }
  const neverSold = codes.filter((c) => !units.has(c));
  const prefixes = [...new Set(neverSold.map((c) => c.slice(0, 7)))];
  const patterns = [...new Set(prefixes.map(prefixPattern).filter((p): p is string => p !== null))];
  const byPrefix = new Map<string, ProductRef[]>();
  if (patterns.length) {
    const rows = (await trx.raw('SELECT id, name, registration_no, container_type_id, gtin, pack_size_code FROM products WHERE county_id = ? AND active AND registration_no LIKE ANY(?) ORDER BY id', [countyId, patterns])).rows as Array<Record<string, any>>;
    for (const prefix of prefixes) {
      const pattern = prefixPattern(prefix);
      const re = pattern ? new RegExp(`^${pattern.replace(/_/g, '.')}$`) : null;
      byPrefix.set(prefix, re ? rows.filter((r) => re.test(r.registration_no)).map((r) => ({ id: r.id, name: r.name, registrationNo: r.registration_no, containerTypeId: r.container_type_id, gtin: r.gtin, packSizeCode: r.pack_size_code })) : []);
    }
  }
  const candidateOf = (code: string): ProductRef | undefined => {
    const list = byPrefix.get(code.slice(0, 7)) ?? [];
    return list.find((p) => p.packSizeCode === code.slice(8, 11)) ?? list[0];
  };
  const foreign = neverSold.filter((c) => !candidateOf(c));
  const otherCounty = new Set<string>(foreign.length ? ((await trx.raw(`SELECT DISTINCT unit_code FROM sold_units WHERE unit_code = ANY(?) AND county_id <> ? AND state <> 'voided'`, [foreign, countyId])).rows as Array<{ unit_code: string }>).map((r) => r.unit_code) : []);
  const guarded = neverSold.filter((c) => candidateOf(c));
  const returnedBefore = new Set<string>();
  if (guarded.length) {
    await trx.raw('SELECT count(pg_advisory_xact_lock(hashtext(k))) FROM unnest(?::text[]) WITH ORDINALITY AS t(k, n)', [guarded.map((c) => `unit:${countyId}:${c}`)]);
    const rows = (await trx.raw(`SELECT DISTINCT i.unit_code FROM return_items i
        LEFT JOIN reversals v ON v.county_id = i.county_id AND v.target_id = i.return_id AND v.target_type = 'return'
       WHERE i.county_id = ? AND i.unit_code = ANY(?) AND i.outcome <> 'rejected' AND v.id IS NULL`, [countyId, guarded])).rows as Array<{ unit_code: string }>;
    for (const r of rows) returnedBefore.add(r.unit_code);
  }
  const codeProducts = [...new Set([...[...units.values()].map((u) => u.product_id), ...guarded.map((c) => candidateOf(c)!.id)])];
  const withRegistry = new Set<string>();
  const issued = new Set<string>();
  if (codes.length) {
    const r = (await trx.raw(`SELECT
        array(SELECT DISTINCT m.product_id::text FROM code_registry_imports m WHERE m.county_id = ? AND m.product_id::text = ANY(?) AND m.state = 'complete') AS products,
        array(SELECT c.unit_code FROM issued_unit_codes c WHERE c.county_id = ? AND c.unit_code = ANY(?)) AS codes`, [countyId, codeProducts, countyId, codes])).rows[0] as { products: string[] | string; codes: string[] | string };
    for (const p of pgArray(r.products)) withRegistry.add(p);
    for (const c of pgArray(r.codes)) issued.add(c);
  }

  // Schedules of the run's days for every product it may count.
  const allProducts = [...products.byId.values(), ...[...byPrefix.values()].flat()];
  const days = policy ? inputs.map((i) => businessDay(new Date(i.eventTime), policy.timezone)).sort() : [];
  const cts = [...new Set(allProducts.map((p) => p.containerTypeId))];
  let schedules: Array<{ id: string; deposit_fen: number; container_type_id: string | null; effective_from: string; effective_to: string | null }> = [];
  if (cts.length && policy) {
    schedules = (await trx('deposit_schedules').where({ county_id: countyId, active: true })
      .where((w) => w.whereIn('container_type_id', cts).orWhereNull('container_type_id'))
      .where('effective_from', '<=', days[days.length - 1]!)
      .where((w) => w.whereNull('effective_to').orWhere('effective_to', '>', days[0]!))
      .orderBy('id')
      .select('id', 'deposit_fen', 'container_type_id', 'effective_from', 'effective_to')) as typeof schedules;
  }
  const dayText = (d: unknown) => String(d);
  const scheduleOn = (containerTypeId: string, day: string): { depositFen: number } | null => {
    const live = schedules.filter((s) => dayText(s.effective_from) <= day && (s.effective_to === null || dayText(s.effective_to) > day));
    const r = live.find((s) => s.container_type_id === containerTypeId) ?? live.find((s) => s.container_type_id === null);
    return r ? { depositFen: Number(r.deposit_fen) } : null;
  };

  // The returners' lots of every product their returns may count without a unit code, locked in key order.
  const knownFarmers = [...farmers.values()];
  const lotPairs = new Set<string>();
  const policyKeys = new Set<string>();
  for (const input of inputs) {
    const phone = phoneOf(input);
    const f = phone ? farmers.get(phone) : undefined;
    const untrackedProducts = [
      ...input.items.filter((it) => it.scan === undefined && it.inspection === 'accepted')
        .map((it) => (it.productId !== undefined ? products.byId.get(it.productId) : products.byGtin.get(it.gtin!))?.id),
      ...acceptedCodes(input).filter((c) => !units.has(c)).map((c) => candidateOf(c)?.id),
    ].filter((p): p is string => p !== undefined);
    if (f) for (const p of untrackedProducts) lotPairs.add(`${f.id}|${p}`);
    if (policy && policy.untrackedRefundPolicy === 'schedule_up_to_limit' && untrackedProducts.length) {
      // A returner registered by this run has no history to lock: its id is new.
      if (f || !input.returner) policyKeys.add(policyLockKey(countyId, f ? { farmerId: f.id } : { shopId: input.shopId }, businessDay(new Date(input.eventTime), policy.timezone)));
    }
  }
  const lots = new Map<string, LotRow[]>();
  if (lotPairs.size) {
    const pairs = [...lotPairs].map((p) => { const [farmer_id, product_id] = p.split('|'); return { farmer_id, product_id }; });
    const rows = (await trx.raw(`SELECT l.* FROM deposit_lots l JOIN json_to_recordset(?::json) AS x(farmer_id text, product_id text)
        ON l.farmer_id::text = x.farmer_id AND l.product_id::text = x.product_id
       WHERE l.county_id = ? AND NOT l.voided AND (l.outstanding > 0 OR l.expired > 0)
       ORDER BY l.sale_id, l.line_no FOR UPDATE OF l`, [JSON.stringify(pairs), countyId])).rows as LotRow[];
    for (const r of rows) {
      const lot = { ...r, deposit_fen: Number(r.deposit_fen), event_time: new Date(r.event_time) };
      lots.set(r.farmer_id, [...(lots.get(r.farmer_id) ?? []), lot]);
    }
  }
  // The untracked policy's daily limits: locked (in key order), then what was refunded under them.
  const policyUsed = new Map<string, number>();
  if (policyKeys.size) {
    const keys = [...policyKeys].sort();
    await trx.raw('SELECT count(pg_advisory_xact_lock(hashtext(k))) FROM unnest(?::text[]) WITH ORDINALITY AS t(k, n)', [keys]);
    const rows = (await trx.raw(`SELECT r.farmer_id::text AS farmer_id, r.shop_id::text AS shop_id, r.business_day::text AS day, sum(a.quantity)::int AS n
        FROM return_allocations a JOIN returns r ON r.county_id = a.county_id AND r.id = a.return_id
        LEFT JOIN reversals v ON v.county_id = r.county_id AND v.target_id = r.id AND v.target_type = 'return'
       WHERE a.county_id = ? AND a.source = 'policy' AND v.id IS NULL AND r.business_day::text = ANY(?)
         AND (r.farmer_id::text = ANY(?) OR (r.farmer_id IS NULL AND r.shop_id::text = ANY(?)))
       GROUP BY 1, 2, 3`, [countyId, [...new Set(days)], knownFarmers.map((f) => f.id), [...shops.keys()]])).rows as Array<{ farmer_id: string | null; shop_id: string; day: string; n: number }>;
    for (const r of rows) {
      const key = policyLockKey(countyId, r.farmer_id ? { farmerId: r.farmer_id } : { shopId: r.shop_id }, r.day);
      policyUsed.set(key, (policyUsed.get(key) ?? 0) + Number(r.n));
    }
    for (const key of keys) policyUsed.set(key, policyUsed.get(key) ?? 0);
  }
  // Incentives (docs/incentives.md): the rates of the run's days and the container types they match on.
  let rates: IncentiveRateRow[] = [];
  const containers = new Map<string, ContainerOfRate>();
  if (cts.length && policy) {
    rates = ((await trx('incentive_rates').where({ county_id: countyId, active: true })
      .where('effective_from', '<=', days[days.length - 1]!)
      .where((w) => w.whereNull('effective_to').orWhere('effective_to', '>', days[0]!))
      .orderBy('id').select('*')) as Array<Record<string, any>>).map(incentiveRateFromRow);
    if (rates.length) {
      for (const c of (await trx('container_types').where({ county_id: countyId }).whereIn('id', cts).select('id', 'material', 'volume_ml')) as Array<Record<string, any>>) {
        containers.set(c.id, { id: c.id, material: c.material, volumeMl: Number(c.volume_ml) });
      }
    }
  }
  // The caps and the fund: locked in one order (households, shops, the fund), then what each gave this year and what the fund holds.
  const incentiveGiven = new Map<string, IncentiveGiven>();
  let fundLeft: number | null = null;
  const earnedCodes = new Set<string>();
  if (policy && rates.length) {
    const anyBuyback = rates.some((r) => r.buybackFen > 0);
    const anyPoints = rates.some((r) => r.pointsMilli > 0);
    const householdCapped = (anyBuyback && policy.incentiveHouseholdBuybackCapFen !== null) || (anyPoints && policy.incentiveHouseholdPointsCapMilli !== null);
    const shopCapped = anyBuyback && policy.incentiveShopBuybackCapFen !== null;
    const keys = new Set<string>();
    const householdAsk: Array<{ farmerId: string; year: string }> = [];
    const shopAsk: Array<{ shopId: string; year: string }> = [];
    let fund = false;
    for (const input of inputs) {
      if (!input.returner || !phoneOf(input) || !input.items.some((it) => it.inspection === 'accepted')) continue;
      const year = businessDay(new Date(input.eventTime), policy.timezone).slice(0, 4);
      const f = farmers.get(phoneOf(input)!);
      // A returner registered by this run has no history to lock: its id is new.
      if (f && householdCapped && !keys.has(incentiveLockKey(countyId, { farmerId: f.id, year }))) {
        keys.add(incentiveLockKey(countyId, { farmerId: f.id, year }));
        householdAsk.push({ farmerId: f.id, year });
      }
      if (shopCapped && !keys.has(incentiveLockKey(countyId, { shopId: input.shopId, year }))) {
        keys.add(incentiveLockKey(countyId, { shopId: input.shopId, year }));
        shopAsk.push({ shopId: input.shopId, year });
      }
      if (anyBuyback) fund = true;
    }
    if (fund) keys.add(incentiveLockKey(countyId, 'fund'));
    if (keys.size) {
      await trx.raw('SELECT count(pg_advisory_xact_lock(hashtext(k))) FROM unnest(?::text[]) WITH ORDINALITY AS t(k, n)', [[...keys].sort()]);
      const ask = [...householdAsk.map((h) => ({ kind: 'farmer', id: h.farmerId, year: h.year })), ...shopAsk.map((h) => ({ kind: 'shop', id: h.shopId, year: h.year }))];
      for (const a of ask) incentiveGiven.set(incentiveLockKey(countyId, a.kind === 'farmer' ? { farmerId: a.id, year: a.year } : { shopId: a.id, year: a.year }), { buybackFen: 0, pointsMilli: 0 });
      if (ask.length) {
        const rows = (await trx.raw(`SELECT x.kind, x.id, x.year,
              coalesce((SELECT sum(a.amount_fen) FROM returns r JOIN return_allocations a ON a.county_id = r.county_id AND a.return_id = r.id AND a.source = 'buyback'
                LEFT JOIN reversals v ON v.county_id = r.county_id AND v.target_id = r.id AND v.target_type = 'return'
               WHERE r.county_id = ? AND v.id IS NULL AND to_char(r.business_day, 'YYYY') = x.year
                 AND CASE x.kind WHEN 'farmer' THEN r.farmer_id::text = x.id ELSE r.shop_id::text = x.id END), 0)::bigint AS buyback_fen,
              coalesce((SELECT sum(i.points_milli) FROM returns r JOIN return_items i ON i.county_id = r.county_id AND i.return_id = r.id
                LEFT JOIN reversals v ON v.county_id = r.county_id AND v.target_id = r.id AND v.target_type = 'return'
               WHERE r.county_id = ? AND v.id IS NULL AND to_char(r.business_day, 'YYYY') = x.year
                 AND CASE x.kind WHEN 'farmer' THEN r.farmer_id::text = x.id ELSE r.shop_id::text = x.id END), 0)::bigint AS points_milli
            FROM json_to_recordset(?::json) AS x(kind text, id text, year text)`, [countyId, countyId, JSON.stringify(ask)])).rows as Array<{ kind: string; id: string; year: string; buyback_fen: number; points_milli: number }>;
        for (const r of rows) {
          incentiveGiven.set(incentiveLockKey(countyId, r.kind === 'farmer' ? { farmerId: r.id, year: r.year } : { shopId: r.id, year: r.year }), { buybackFen: Number(r.buyback_fen), pointsMilli: Number(r.points_milli) });
        }
      }
      if (fund) {
        const row = await trx('ledger_accounts').where({ county_id: countyId, id: countyAccount(countyId, 'incentive_fund').id }).first('balance_fen');
        fundLeft = row ? -Number(row.balance_fen) : 0;
      }
    }
    if (guarded.length && anyPoints) {
      const rows = (await trx('points_transfers').where({ county_id: countyId, code: 'earned' }).whereIn('unit_code', guarded).select('unit_code')) as Array<{ unit_code: string }>;
      for (const r of rows) earnedCodes.add(r.unit_code);
    }
  }

  // What each known returner may still claim back (their SMS tells it after each return).
  const refundable = new Map<string, number>();
  if (knownFarmers.length) {
    const rows = (await trx.raw(`SELECT x.farmer_id::text AS farmer_id, sum(x.fen)::bigint AS fen FROM (
          SELECT farmer_id, product_id, deposit_fen::bigint AS fen FROM sold_units WHERE county_id = ? AND farmer_id::text = ANY(?) AND state = 'outstanding'
          UNION ALL
          SELECT farmer_id, product_id, outstanding::bigint * deposit_fen FROM deposit_lots WHERE county_id = ? AND farmer_id::text = ANY(?) AND NOT voided AND outstanding > 0
        ) x JOIN products p ON p.county_id = ? AND p.id = x.product_id GROUP BY 1`, [countyId, knownFarmers.map((f) => f.id), countyId, knownFarmers.map((f) => f.id), countyId])).rows as Array<{ farmer_id: string; fen: string | number }>;
    for (const r of rows) refundable.set(r.farmer_id, Number(r.fen));
  }

  // Judge each return in journal order, in memory, on the state the earlier ones left.
  const lockedCodes = new Set(codes);
  const lockedNeverSold = new Set(guarded);
  const knownIds = new Set(knownFarmers.map((f) => f.id));
  const returnedInRun = new Set<string>();
  const appliedById = new Map<string, Applied>();
  const applied: Applied[] = [];
  const replays: Array<{ index: number; of: Applied }> = [];
  for (const [n, index] of live.entries()) {
    // Judging is CPU only: let the server's other requests in now and then (the locks stay held).
    if (n > 0 && n % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    const { principal, input } = items[index]!;
    const hash = hashes.get(index)!;
    const earlier = appliedById.get(input.id);
    if (earlier) {
      // The same id applied earlier in this run: answered as stored (or a conflict), as one by one.
      if (earlier.hash === hash) replays.push({ index, of: earlier });
      else {
        try {
          replay({ operation: 'return', request_hash: earlier.hash, status_code: 201, response: null }, { clientId: input.id, operation: 'return' }, hash);
        } catch (error) {
          results[index] = { ok: false, error };
        }
      }
      continue;
    }
    try {
      if (!policy) throw new AppError('NOT_FOUND', `No county ${countyId}`);
      const eventTime = new Date(input.eventTime);
      checkEventTimeBounds(eventTime, now, policy, principal);
      refRowOrThrow(shops.get(input.shopId) as Record<string, unknown> | undefined, countyId, 'shopId');
      const actor = actorName(principal);
      // findOrRegisterFarmer, on the farmers read (and registered earlier in the run).
      let returner: Returner | null = null;
      let farmer: FarmerState | null = null;
      let registers: Applied['registers'] = null;
      if (input.returner) {
        const phone = normalisedPhoneOrThrow(input.returner.phone, '/body/returner/phone');
        const found = farmers.get(phone);
        if (found) {
          if (!found.active) throw new AppError('RECORD_INACTIVE', 'The farmer with this phone number is deactivated', [{ field: '/body/returner/phone', code: 'inactive', message: 'deactivated farmer' }]);
          farmer = found;
          returner = { id: found.id, name: found.name, phoneE164: phone, registeredNow: false };
        } else {
          const name = input.returner.name?.trim();
          if (!name) throw new AppError('FARMER_NAME_REQUIRED', undefined, [{ field: '/body/returner/name', code: 'required', message: 'the phone number is not registered; give a name' }]);
          farmer = { id: newId(), name, phoneE164: phone, active: true, language: 'zh', smsOptOut: false };
          registers = { name, village: input.returner.village?.trim() ?? '', actor };
          returner = { id: farmer.id, name, phoneE164: phone, registeredNow: true };
        }
      }
      const day = businessDay(eventTime, policy.timezone);
      const planned = await planReturn(input, { county: policy, shopId: input.shopId, day, returner, newId }, runFacts());
      const composed = composeReturn(planned.plans, { countyId, input, actor, eventTime, day, now, booking: bookingFrom(eventTime, policy.timezone, closed), returner });

      // The return stands: what it changed is what the next one sees.
      for (const [unit, state] of planned.unitStates) {
        const shared = units.get(unit.unit_code)!;
        if (shared.state === 'outstanding' && state !== 'outstanding') refundable.set(shared.farmer_id, (refundable.get(shared.farmer_id) ?? 0) - shared.deposit_fen);
        shared.state = state;
      }
      for (const lot of planned.changedLots) {
        const shared = (lots.get(lot.farmer_id) ?? []).find((l) => l.sale_id === lot.sale_id && l.line_no === lot.line_no)!;
        refundable.set(lot.farmer_id, (refundable.get(lot.farmer_id) ?? 0) - (shared.outstanding - lot.outstanding) * lot.deposit_fen);
        shared.outstanding = lot.outstanding;
        shared.expired = lot.expired;
      }
      for (const p of planned.plans) if (p.unitCode !== null && p.inspection === 'accepted') returnedInRun.add(p.unitCode);
      const policyN = planned.plans.reduce((s, p) => s + p.allocations.filter((a) => a.source === 'policy').reduce((t, a) => t + a.quantity, 0), 0);
      if (policyN) {
        const key = policyLockKey(countyId, returner ? { farmerId: returner.id } : { shopId: input.shopId }, day);
        policyUsed.set(key, (policyUsed.get(key) ?? 0) + policyN);
      }
      // Incentives given: the caps and the fund as the next return of the run sees them.
      if (composed.totalBuybackFen > 0 || composed.totalPointsMilli > 0) {
        const year = day.slice(0, 4);
        const thread = (key: string, isNew: boolean) => {
          const g = incentiveGiven.get(key) ?? (isNew ? { buybackFen: 0, pointsMilli: 0 } : undefined);
          if (g) incentiveGiven.set(key, { buybackFen: g.buybackFen + composed.totalBuybackFen, pointsMilli: g.pointsMilli + composed.totalPointsMilli });
        };
        if (returner) thread(incentiveLockKey(countyId, { farmerId: returner.id, year }), !knownIds.has(returner.id));
        thread(incentiveLockKey(countyId, { shopId: input.shopId, year }), false);
        if (fundLeft !== null) fundLeft -= composed.totalBuybackFen;
        for (const p of planned.plans) if (p.unitCode !== null && p.pointsMilli > 0) earnedCodes.add(p.unitCode);
      }
      if (registers && farmer) farmers.set(farmer.phoneE164, farmer);
      const a: Applied = { index, hash, input, composed, returner: farmer, registers, stillRefundableFen: farmer ? refundable.get(farmer.id) ?? 0 : 0, planned };
      applied.push(a);
      appliedById.set(input.id, a);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      results[index] = { ok: false, error };
    }
  }

  /** The questions of planReturn answered from what the run read and locked, and what it changed since. */
  function runFacts(): ReturnFacts {
    return {
      product: async (by) => (by.productId !== undefined ? products.byId.get(by.productId) : products.byGtin.get(by.gtin!)) ?? null,
      lockUnits: async (wanted) => new Map(wanted.flatMap((c) => {
        if (!lockedCodes.has(c)) throw new Error(`unit code ${c} was not locked for the run`);
        const u = units.get(c);
        return u ? [[c, { ...u }] as const] : [];
      })),
      absentFromRegistry: async (productId, code) => withRegistry.has(productId) && !issued.has(code),
      productsForPrefix: async (prefix) => byPrefix.get(prefix) ?? [],
      soldInOtherCounty: async (code) => otherCounty.has(code),
      lockNeverSold: async (code) => {
        if (!lockedNeverSold.has(code)) throw new Error(`never-sold unit code ${code} was not locked for the run`);
      },
      codeAlreadyReturned: async (code) => returnedBefore.has(code) || returnedInRun.has(code),
      depositInForce: async (containerTypeId, day) => scheduleOn(containerTypeId, day),
      lockLots: async (farmerId, productIds) => {
        if (knownIds.has(farmerId)) {
          for (const p of productIds) if (!lotPairs.has(`${farmerId}|${p}`)) throw new Error(`lots of ${farmerId} / ${p} were not locked for the run`);
        }
        return (lots.get(farmerId) ?? []).filter((l) => productIds.includes(l.product_id) && (l.outstanding > 0 || l.expired > 0)).map((l) => ({ ...l }));
      },
      policyRefundedOn: async (day, who) => {
        const key = policyLockKey(countyId, who, day);
        const used = policyUsed.get(key);
        if (used === undefined) {
          if ('farmerId' in who && !knownIds.has(who.farmerId)) return 0; // registered by this run
          throw new Error(`policy limit ${key} was not locked for the run`);
        }
        return used;
      },
      incentiveRate: async (containerTypeId, day) => {
        const ct = containers.get(containerTypeId);
        const r = ct ? matchIncentiveRate(rates, ct, day) : null;
        return r ? { id: r.id, buybackFen: r.buybackFen, pointsMilli: r.pointsMilli } : null;
      },
      incentiveGiven: async (year, who) => {
        const key = incentiveLockKey(countyId, { ...who, year });
        const given = incentiveGiven.get(key);
        if (given === undefined) {
          if ('farmerId' in who && !knownIds.has(who.farmerId)) return { buybackFen: 0, pointsMilli: 0 }; // registered by this run
          throw new Error(`incentive cap ${key} was not locked for the run`);
        }
        return { ...given };
      },
      incentiveFundLeft: async () => {
        if (fundLeft === null) throw new Error('the incentive fund was not locked for the run');
        return fundLeft;
      },
      codeEarnedPoints: async (code) => earnedCodes.has(code),
    };
  }

  await writeApplied(trx, now, countyId, applied, claimed, shops);
  for (const a of applied) results[a.index] = { ok: true, written: { status: 201, body: a.composed.body(a.returnNo!, a.pointsBalance ?? null) } };
  for (const r of replays) results[r.index] = { ok: true, written: { status: 200, body: JSON.parse(JSON.stringify(r.of.composed.body(r.of.returnNo!, r.of.pointsBalance ?? null))), replayed: true } };
}

async function writeApplied(trx: Knex.Transaction, now: Date, countyId: string, applied: Applied[], claimed: Set<string>, shops: Map<string, { id: string; name: string }>): Promise<void> {
  // Claims of returns that were all refused go, as their transactions would have rolled back.
  const appliedIds = new Set(applied.map((a) => a.input.id));
  const unused = [...claimed].filter((id) => !appliedIds.has(id));
  if (unused.length) await trx.raw('DELETE FROM idempotency_keys WHERE county_id = ? AND client_id = ANY(?) AND status_code IS NULL', [countyId, unused]);
  if (applied.length === 0) return;

  // New returners (and their history rows, as findOrRegisterFarmer writes them).
  const newcomers = applied.filter((a) => a.registers);
  if (newcomers.length) {
    const q = jsonRows('farmers', newcomers.map((a) => ({ county_id: countyId, id: a.returner!.id, name: a.registers!.name, village: a.registers!.village, phone_e164: a.returner!.phoneE164 })));
    const inserted = (await trx.raw(`${q.sql} ON CONFLICT (county_id, phone_e164) DO NOTHING RETURNING *`, [q.binding])).rows as Array<Record<string, any>>;
    // Registered at the same moment by another request: rare; the caller applies these returns one by one.
    if (inserted.length !== newcomers.length) throw new Error('a returner was registered concurrently');
    const actorOf = new Map(newcomers.map((a) => [a.returner!.id, a.registers!.actor]));
    await trx('entity_history').insert(inserted.map((row) => ({ county_id: countyId, entity: 'farmer', entity_id: row.id, version: row.version, op: 'create', data: JSON.stringify(row), actor: actorOf.get(row.id)! })));
    for (const row of inserted) {
      const a = newcomers.find((x) => x.returner!.id === row.id)!;
      a.returner!.language = row.language === 'en' ? 'en' : 'zh';
      a.returner!.smsOptOut = row.sms_opt_out === true;
      a.returner!.active = row.active !== false;
    }
  }

  // Unit states and lots: their final values, one statement each.
  const unitRows = new Map<string, { county_id: string; sale_id: string; unit_code: string; state: string }>();
  const lotRows = new Map<string, { county_id: string; sale_id: string; line_no: number; outstanding: number; expired: number }>();
  for (const a of applied) {
    for (const [unit, state] of a.planned.unitStates) unitRows.set(`${unit.sale_id}:${unit.unit_code}`, { county_id: countyId, sale_id: unit.sale_id, unit_code: unit.unit_code, state });
    for (const lot of a.planned.changedLots) lotRows.set(`${lot.sale_id}:${lot.line_no}`, { county_id: countyId, sale_id: lot.sale_id, line_no: lot.line_no, outstanding: lot.outstanding, expired: lot.expired });
  }
  if (unitRows.size) {
    const n = (await trx.raw(`UPDATE sold_units u SET state = v.state FROM json_populate_recordset(NULL::sold_units, ?::json) v
        WHERE u.county_id = v.county_id AND u.sale_id = v.sale_id AND u.unit_code = v.unit_code`, [JSON.stringify([...unitRows.values()])])).rowCount;
    if (n !== unitRows.size) throw new Error(`return run: ${n} of ${unitRows.size} unit states written`);
  }
  if (lotRows.size) {
    const n = (await trx.raw(`UPDATE deposit_lots l SET outstanding = v.outstanding, expired = v.expired FROM json_populate_recordset(NULL::deposit_lots, ?::json) v
        WHERE l.county_id = v.county_id AND l.sale_id = v.sale_id AND l.line_no = v.line_no`, [JSON.stringify([...lotRows.values()])])).rowCount;
    if (n !== lotRows.size) throw new Error(`return run: ${n} of ${lotRows.size} lots written`);
  }

  // Returns, items, allocations and refunds in one statement; the return numbers in journal order.
  const ctes: string[] = [];
  const bindings: string[] = [];
  const add = (name: string, table: string, rows: object[], tail: string) => {
    if (!rows.length) return;
    const q = jsonRows(table, rows);
    ctes.push(`${name} AS (${q.sql} ${tail})`);
    bindings.push(q.binding);
  };
  const itemRows = applied.flatMap((a) => a.composed.itemRows);
  add('r', 'returns', applied.map((a) => a.composed.returnRow), 'RETURNING id, return_no');
  add('i', 'return_items', itemRows, 'RETURNING 1');
  add('a', 'return_allocations', applied.flatMap((a) => a.composed.allocationRows), 'RETURNING 1');
  add('p', 'refunds', applied.flatMap((a) => (a.composed.refundRow ? [a.composed.refundRow] : [])), 'RETURNING 1');
  const row = (await trx.raw(`WITH ${ctes.join(', ')} SELECT (SELECT json_agg(json_build_array(id, return_no)) FROM r) AS returns,
      ${itemRows.length ? '(SELECT count(*) FROM i)::int' : '0'} AS items`, bindings)).rows[0] as { returns: Array<[string, number | string]>; items: number };
  if (row.items !== itemRows.length || row.returns.length !== applied.length) throw new Error(`return run: ${row.returns.length} returns, ${row.items} of ${itemRows.length} items written`);
  const returnNo = new Map(row.returns.map(([id, no]) => [id, Number(no)]));
  for (const a of applied) a.returnNo = returnNo.get(a.input.id)!;
  const held = applied.flatMap((a) => a.composed.heldRows);
  if (held.length) {
    const q = jsonRows('held_refunds', held);
    await trx.raw(q.sql, [q.binding]);
  }

  // Points earned (the points accounts locked once, before the ledger's), then each returner's balance
  // after each of their returns: the balance now less what their later returns of the run earned.
  const points: PointsTransferInput[] = applied.flatMap((a) => a.composed.pointsTransfers);
  await postPoints(trx, countyId, points, now);
  const withReturner = applied.filter((a) => a.returner);
  if (withReturner.length) {
    const ids = [...new Set(withReturner.map((a) => a.returner!.id))];
    const balance = new Map(((await trx('points_accounts').where({ county_id: countyId }).whereIn('id', ids.map((id) => farmerPointsAccount(countyId, id).id))
      .select('farmer_id', 'balance_milli')) as Array<{ farmer_id: string; balance_milli: number }>).map((r) => [r.farmer_id, -Number(r.balance_milli)]));
    for (const a of [...withReturner].reverse()) {
      const id = a.returner!.id;
      const after = balance.get(id) ?? 0;
      a.pointsBalance = after;
      balance.set(id, after - a.composed.totalPointsMilli);
    }
  }

  // The answers, stored with the keys in one statement (a key's content is that of the return applied under it).
  await trx.raw(`UPDATE idempotency_keys k SET request_hash = v.request_hash, status_code = v.status_code, response = v.response
      FROM json_populate_recordset(NULL::idempotency_keys, ?::json) v WHERE k.county_id = v.county_id AND k.client_id = v.client_id`,
  [JSON.stringify(applied.map((a) => ({ county_id: countyId, client_id: a.input.id, request_hash: a.hash, status_code: 201, response: a.composed.body(a.returnNo!, a.pointsBalance ?? null) })))]);

  // The returners' SMS: the texts of returnTexts, as enqueueRefundNotification and enqueueHeldRefundNotification write them.
  const outbox = applied.flatMap((a) => {
    const f = a.returner;
    if (!f || !f.active || f.smsOptOut) return [];
    const c = a.composed;
    const heldNow = c.heldRows.filter((h) => h.prepaid_fen === 0);
    const texts = returnTexts(f.language, {
      returnId: a.input.id, shopName: shops.get(a.input.shopId)!.name, containers: c.acceptedContainers, refundFen: c.refundRow ? c.totalPaidFen : c.totalRefundFen,
      stillRefundableFen: a.stillRefundableFen, buybackFen: c.totalBuybackFen, pointsMilli: c.totalPointsMilli, pointsBalanceMilli: a.pointsBalance ?? null,
      heldContainers: heldNow.length, heldFen: heldNow.reduce((s, h) => s + h.amount_fen, 0),
    });
    return texts.flatMap((m) => {
      const parts = splitSms(m.text);
      return parts.map((body, i) => ({
        county_id: countyId, id: newId(), event_key: `${m.eventKey}#${i + 1}`, kind: 'refund', phone_e164: f.phoneE164, farmer_id: f.id,
        language: f.language, body, part_no: i + 1, part_count: parts.length, status: 'pending', attempts: 0, next_attempt_at: now, created_at: now,
      }));
    });
  });
  if (outbox.length) {
    const q = jsonRows('sms_outbox', outbox);
    await trx.raw(`${q.sql} ON CONFLICT (county_id, event_key) DO NOTHING`, [q.binding]);
  }

  // The ledger last: every account locked once, in id order; the entries in journal order.
  const transfers: TransferInput[] = applied.flatMap((a) => a.composed.transfers);
  await postTransfers(trx, countyId, transfers, now);
}
