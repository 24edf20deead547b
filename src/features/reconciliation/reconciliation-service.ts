// A reconciliation run ties a county's three books for a period — money, units and custody — and
// lists every mismatch as an exception with the records behind it. "As of" is a record-time cut-off:
// only rows the server had stored at or before it count, so a run repeated with the same county,
// period and asOf gives the same figures and the same fingerprint, however many records arrived since.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { AppError } from '../../http/errors.js';
import { newId } from '../../shared/client-id.js';
import { canonicalJson } from '../ledger/idempotency.js';
import { loadCountyPolicy } from '../ledger/county-policy.js';
import { addMonths, businessMonth, monthStart } from '../../shared/business-day.js';
import { refuseArchivedPeriod as refuseArchived } from '../archive/archived-reads.js';
import { yearArchived } from '../archive/archive-service.js';
import { settlementStatement } from '../settlements/settlement-service.js';
import { closedFiguresAsOf } from '../periods/period-store.js';
import { custodyBook, type CustodyBook } from './custody-book.js';
import { figuresFromBooks, refreshBooks, unitsRefundedTwiceFromBooks } from './day-books.js';
import { depositMismatches, lateAdjustments, lateRecords, ledgerBook, recordsBook, refundMismatches, unitsRefundedTwice, type BookWindow, type ByKind, type MoneyKind } from './money-units-book.js';

export interface ReconciliationException {
  book: 'money' | 'units' | 'custody';
  kind: string;
  severity: 'error' | 'warning' | 'info';
  shopId: string | null;
  expected: number | null;
  actual: number | null;
  messageEn: string;
  messageZh: string;
  records: Array<{ type: string; id: string }>;
}

export interface ShopLine {
  shopId: string;
  shopName: string;
  depositsCollectedFen: number;
  refundsPaidFen: number;
  positionFen: number; // ledger, at period end: what the shop owes the scheme (negative: is owed)
  settlementStatus: 'settled' | 'open' | 'nothing_due';
  settlementOutstandingFen: number;
  soldUnits: number;
  returnedUnits: number;
  looseAtShop: number;
  inBagsAtShop: number;
  overdueBags: number;
}

export interface ReconciliationFigures {
  countyId: string;
  period: string;
  from: string;
  to: string;
  asOf: string;
  money: {
    depositsCollectedFen: number;
    refundsPaidFen: number;
    lateRefundsFen: number;
    policyRefundsFen: number;
    /** Buy-back paid from the county incentive fund (docs/incentives.md). */
    buybackPaidFen: number;
    expiredFen: number;
    settlementsFromShopsFen: number;
    settlementsToShopsFen: number;
    outstandingOpeningFen: number;
    outstandingClosingFen: number;
    unredeemedClosingFen: number;
  };
  units: {
    /** Containers sold with deposit in the period: the one name used by shop lines, recovery rates and the dashboard. */
    soldUnits: number;
    /** @deprecated Old name of soldUnits; removed in the next release. */
    soldWithDeposit: number;
    returnedAccepted: number;
    returnedAgainstDeposit: number;
    returnedLate: number;
    returnedPolicy: number;
    /** Containers paid buy-back from the incentive fund. */
    returnedBuyback: number;
    returnedNoRefund: number;
    rejected: number;
    expired: number;
    /** Containers whose deposit is still out at the period's end: the one name used everywhere (farmer balances, receipts). */
    outstandingContainers: number;
    /** @deprecated Old name of outstandingContainers; removed in the next release. */
    outstandingClosing: number;
    expiredUnreturnedClosing: number;
  };
  custody: Omit<CustodyBook, 'shops' | 'overdueBags' | 'openDiscrepancies'> & { overdueBags: number; openDiscrepancies: number };
  shops: ShopLine[];
}

export interface ReconciliationRun {
  id: string;
  countyId: string;
  period: string;
  from: string;
  to: string;
  asOf: string;
  runAt: string;
  trigger: 'api' | 'scheduled';
  actor: string;
  fingerprint: string;
  durationMs: number;
  errorCount: number;
  exceptionCount: number;
  figures: ReconciliationFigures;
  exceptions: ReconciliationException[];
}

/** A month (2026-03) or a year (2026) in the county's time zone. */
export function reconciliationPeriod(key: string, timeZone: string): { key: string; from: Date; to: Date } {
  let m = /^(\d{4})-(\d{2})$/.exec(key);
  if (m) {
    const mo = Number(m[2]);
    if (mo >= 1 && mo <= 12) return { key, from: monthStart(key, timeZone), to: monthStart(addMonths(key, 1), timeZone) };
  }
  m = /^(\d{4})$/.exec(key);
  if (m) return { key, from: monthStart(`${key}-01`, timeZone), to: monthStart(addMonths(`${key}-01`, 12), timeZone) };
  throw new AppError('RECONCILIATION_PERIOD_INVALID', undefined, [{ field: '/body/period', code: 'format', message: `expected YYYY-MM or YYYY, got ${key}` }]);
}

/**
 * A reconciliation needs every record of its period, and its cumulative figures (balances, deposits
 * and units outstanding) every record before the period's end. The live tables miss an archived
 * year's records, so: a period reaching into an archived year is refused (410 YEAR_ARCHIVED); a later
 * period is answered only from the per-day books, which keep the archived year's contributions as
 * they were folded in before the archive moved its rows (the archive refreshes them first) — not when
 * the figures would be summed from the raw tables (`from: 'recompute'`, no books) or the books were
 * built afresh after the archive (then they hold only what stayed live).
 */
async function refuseArchivedPeriod(knex: Knex, countyId: string, periodKey: string, period: { from: Date; to: Date }, timeZone: string, fromBooks: boolean): Promise<void> {
  const earlier = await refuseArchived(knex, countyId, period, timeZone, `the reconciliation of ${periodKey}`);
  if (!earlier.length) return;
  if (!fromBooks) throw yearArchived(countyId, earlier[0]!, `the reconciliation of ${periodKey} (its cumulative figures, summed from the live records, would miss the archived year)`);
  const state = (await knex('reconciliation_book_state').where({ county_id: countyId }).first('missing_years')) as { missing_years: number[] } | undefined;
  const rebuilt = earlier.find((y) => !state || state.missing_years.map(Number).includes(y));
  if (rebuilt !== undefined) throw yearArchived(countyId, rebuilt, `the reconciliation of ${periodKey} (the per-day books were built afresh after ${rebuilt} was archived, so their cumulative figures miss it)`);
}

const sumRefunds = (k: ByKind | Record<MoneyKind, { periodFen: number; cumulativeFen: number }>, f: 'periodFen' | 'cumulativeFen') =>
  k.refund_paid[f] + k.late_refund[f] + k.policy_refund[f] + k.held_refund_paid[f];

/** Where a reconciliation reads its money and unit figures: the per-day books (day-books.ts) or the raw tables. */
export type ReconcileFrom = 'books' | 'recompute';

/**
 * Computes the figures and exceptions; stores no run. `from: 'books'` (the default) first folds the
 * county's dirty days into its per-day books, then reads books and the few raw rows they do not
 * hold yet in one REPEATABLE READ snapshot; `from: 'recompute'` sums the raw tables. Both give the
 * same figures and exceptions for the same county, period and asOf (property-tested).
 */
export async function reconcile(knex: Knex, countyId: string, periodKey: string, asOf: Date, opts: { from?: ReconcileFrom; refresh?: boolean } = {}): Promise<{ figures: ReconciliationFigures; exceptions: ReconciliationException[] }> {
  if ((opts.from ?? 'books') === 'recompute') return reconcileWith(knex, countyId, periodKey, asOf, false);
  // refresh: false (tests) reads dirty days from the raw tables instead of folding them in first.
  if (opts.refresh !== false) await refreshBooks(knex, countyId);
  return knex.transaction(async (trx) => {
    await trx.raw('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    return reconcileWith(trx, countyId, periodKey, asOf, true);
  });
}

async function reconcileWith(knex: Knex, countyId: string, periodKey: string, asOf: Date, useBooks: boolean): Promise<{ figures: ReconciliationFigures; exceptions: ReconciliationException[] }> {
  const county = await loadCountyPolicy(knex, countyId);
  const period = reconciliationPeriod(periodKey, county.timezone);
  const w: BookWindow = { countyId, from: period.from, to: period.to, asOf };
  const books = useBooks ? await figuresFromBooks(knex as Knex.Transaction, w, county.timezone) : null;
  await refuseArchivedPeriod(knex, countyId, periodKey, period, county.timezone, books !== null);
  const rec = books ? books.records : await recordsBook(knex, w);
  const led = books ? books.ledger : await ledgerBook(knex, w);
  const late = await lateRecords(knex, w);
  const twice = books ? await unitsRefundedTwiceFromBooks(knex as Knex.Transaction, w, county.timezone) : await unitsRefundedTwice(knex, w);
  const mism = await depositMismatches(knex, w);
  const refundDiffs = await refundMismatches(knex, w);
  const adjustments = await lateAdjustments(knex, w);
  const shopsRef = (await knex('shops').where({ county_id: countyId }).orderBy('name').select('id', 'name', 'active')) as Array<{ id: string; name: string; active: boolean }>;
  const returnedByShop = books ? books.acceptedByShop : await acceptedByShop(knex, w);
  const custody = await custodyBook(knex, countyId, period.to, asOf, returnedByShop);
  let settlement: Map<string, { outstandingFen: number; netFen: number }> | null = null;
  if (county.settlementPeriod === 'monthly' && /^\d{4}-\d{2}$/.test(periodKey)) {
    const st = await settlementStatement(knex, countyId, periodKey, asOf);
    settlement = new Map(st.shops.map((l) => [l.shopId, { outstandingFen: l.outstandingFen, netFen: l.netFen }]));
  }

  const ex: ReconciliationException[] = [];
  const push = (e: Omit<ReconciliationException, 'shopId' | 'expected' | 'actual' | 'records'> & Partial<ReconciliationException>) =>
    ex.push({ shopId: null, expected: null, actual: null, records: [], ...e });

  // --- money: the ledger against the records, movement by movement and balance by balance
  const c = rec.county;
  const labels: Record<MoneyKind, string> = {
    deposit_collected: '收取押金', refund_paid: '退还押金', late_refund: '逾期退还', policy_refund: '政策退款', deposit_expired: '押金到期转出',
    settlement_from_shop: '店铺上缴结算', settlement_to_shop: '拨付店铺结算',
    refund_overpaid: '柜台多付退款', refund_underpaid: '柜台少付退款', held_refund_paid: '审核后支付的待审退款', buyback_paid: '有偿回收（激励资金）',
  };
  for (const k of Object.keys(labels) as MoneyKind[]) {
    const fromLedger = led.county[k].periodFen;
    const fromRecords = c[k].periodFen;
    if (fromLedger !== fromRecords) {
      const behind = await transfersWithoutRecords(knex, w, k);
      push({
        book: 'money', kind: 'ledger_records_mismatch', severity: 'error', expected: fromRecords, actual: fromLedger,
        messageEn: `${k} in the period: the records say ${fromRecords} fen, the ledger ${fromLedger} fen`,
        messageZh: `本期${labels[k]}：业务记录 ${fromRecords} 分，账簿 ${fromLedger} 分，不一致`, records: behind,
      });
    }
  }
  const outstandingRecords = c.deposit_collected.cumulativeFen - c.refund_paid.cumulativeFen - c.deposit_expired.cumulativeFen;
  const outstandingLedger = -(led.balances.get('deposits_outstanding')?.closingFen ?? 0);
  if (outstandingRecords !== outstandingLedger) {
    push({ book: 'money', kind: 'outstanding_mismatch', severity: 'error', expected: outstandingRecords, actual: outstandingLedger,
      messageEn: `Deposits outstanding at period end: records ${outstandingRecords} fen, ledger ${outstandingLedger} fen`,
      messageZh: `期末未退押金：业务记录 ${outstandingRecords} 分，账簿 ${outstandingLedger} 分，不一致` });
  }
  const unredeemedRecords = c.deposit_expired.cumulativeFen - c.late_refund.cumulativeFen;
  const unredeemedLedger = -(led.balances.get('unredeemed')?.closingFen ?? 0);
  if (unredeemedRecords !== unredeemedLedger) {
    push({ book: 'money', kind: 'unredeemed_mismatch', severity: 'error', expected: unredeemedRecords, actual: unredeemedLedger,
      messageEn: `Unredeemed fund at period end: records ${unredeemedRecords} fen, ledger ${unredeemedLedger} fen`,
      messageZh: `期末逾期未退押金：业务记录 ${unredeemedRecords} 分，账簿 ${unredeemedLedger} 分，不一致` });
  }

  const shopLines: ShopLine[] = [];
  const custodyShops = new Map(custody.shops.map((s) => [s.shopId, s]));
  for (const s of shopsRef) {
    const r = rec.shops.get(s.id);
    const positionLedger = led.balances.get(`shop:${s.id}`)?.closingFen ?? 0;
    // The shop's position moves by the cash that left its till: the computed refunds plus what the
    // clerk paid above them, less what was paid below them.
    // Buy-back the shop paid from the incentive fund lowers what it owes, as a refund does.
    const positionRecords = r ? r.deposit_collected.cumulativeFen - sumRefunds(r, 'cumulativeFen') - r.buyback_paid.cumulativeFen - r.refund_overpaid.cumulativeFen + r.refund_underpaid.cumulativeFen
      - r.settlement_from_shop.cumulativeFen + r.settlement_to_shop.cumulativeFen : 0;
    if (!r && !s.active && positionLedger === 0) continue;
    if (positionLedger !== positionRecords) {
      push({ book: 'money', kind: 'shop_position_mismatch', severity: 'error', shopId: s.id, expected: positionRecords, actual: positionLedger,
        messageEn: `${s.name}: position at period end ${positionLedger} fen in the ledger, ${positionRecords} fen from the records`,
        messageZh: `${s.name}：期末头寸账簿 ${positionLedger} 分，业务记录 ${positionRecords} 分，不一致`, records: [{ type: 'shop', id: s.id }] });
    }
    const sold = r?.deposit_collected.periodUnits ?? 0;
    const returned = r ? r.refund_paid.periodUnits + r.late_refund.periodUnits + r.policy_refund.periodUnits : 0;
    const st = settlement?.get(s.id);
    const outstandingSettle = st ? st.outstandingFen : positionLedger;
    const cs = custodyShops.get(s.id);
    shopLines.push({
      shopId: s.id, shopName: s.name,
      depositsCollectedFen: r?.deposit_collected.periodFen ?? 0, refundsPaidFen: r ? sumRefunds(r, 'periodFen') : 0,
      positionFen: positionLedger,
      settlementStatus: outstandingSettle !== 0 ? 'open' : (st?.netFen ?? 0) !== 0 || (r?.settlement_from_shop.cumulativeFen ?? 0) + (r?.settlement_to_shop.cumulativeFen ?? 0) > 0 ? 'settled' : 'nothing_due',
      settlementOutstandingFen: outstandingSettle,
      soldUnits: sold, returnedUnits: returned, looseAtShop: cs?.loose ?? 0, inBagsAtShop: cs?.inBagsAtShop ?? 0, overdueBags: cs?.overdueBags ?? 0,
    });
    if (returned > sold) {
      push({ book: 'units', kind: 'returns_above_sales', severity: 'warning', shopId: s.id, expected: sold, actual: returned,
        messageEn: `${s.name}: ${returned} containers refunded against ${sold} sold with deposit in the period`,
        messageZh: `${s.name}：本期退款回收 ${returned} 个，高于收押销售 ${sold} 个`, records: [{ type: 'shop', id: s.id }] });
    }
  }

  // --- units
  const soldCum = c.deposit_collected.cumulativeUnits;
  const outstandingUnits = soldCum - c.refund_paid.cumulativeUnits - c.deposit_expired.cumulativeUnits;
  if (outstandingUnits < 0) {
    push({ book: 'units', kind: 'negative_outstanding', severity: 'error', expected: 0, actual: outstandingUnits,
      messageEn: `More containers refunded or expired (${soldCum - outstandingUnits}) than sold with deposit (${soldCum})`,
      messageZh: `退款及到期的包装数（${soldCum - outstandingUnits}）超过收押销售数（${soldCum}）` });
  }
  for (const u of twice) {
    push({ book: 'units', kind: 'unit_refunded_twice', severity: 'error', expected: 1, actual: u.returnIds.length,
      messageEn: `Unit code ${u.unitCode} was refunded ${u.returnIds.length} times`, messageZh: `单元识别码 ${u.unitCode} 被退款 ${u.returnIds.length} 次`,
      records: [{ type: 'unit_code', id: u.unitCode }, ...u.returnIds.map((id) => ({ type: 'return', id }))] });
  }
  const byShop = <T extends { shopId: string }>(xs: T[]) => {
    const m = new Map<string, T[]>();
    for (const x of xs) m.set(x.shopId, [...(m.get(x.shopId) ?? []), x]);
    return [...m].sort(([a], [b]) => a.localeCompare(b));
  };
  const shopName = new Map(shopsRef.map((s) => [s.id, s.name]));
  for (const [shopId, recs] of byShop(late)) {
    push({ book: 'units', kind: 'late_record', severity: 'info', shopId, actual: recs.length,
      messageEn: `${shopName.get(shopId) ?? shopId}: ${recs.length} record(s) of the period reached the server after it ended (offline till)`,
      messageZh: `${shopName.get(shopId) ?? shopId}：${recs.length} 条本期单据在期末之后才上传（离线终端）`,
      records: recs.slice(0, 200).map((r) => ({ type: r.type, id: r.id })) });
  }
  for (const [shopId, recs] of byShop(adjustments)) {
    push({ book: 'money', kind: 'late_adjustment', severity: 'info', shopId, actual: recs.length,
      messageEn: `${shopName.get(shopId) ?? shopId}: ${recs.length} late adjustment(s) booked in this period: records of a closed month that reached the server after it was closed`,
      messageZh: `${shopName.get(shopId) ?? shopId}：${recs.length} 条迟到调整记入本期（所属月份结账后才上传的单据）`,
      records: recs.slice(0, 200).map((r) => ({ type: r.type, id: r.id })) });
  }
  for (const [shopId, recs] of byShop(mism)) {
    push({ book: 'money', kind: 'deposit_differs_from_schedule', severity: 'warning', shopId, actual: recs.length,
      messageEn: `${shopName.get(shopId) ?? shopId}: ${recs.length} sale(s) charged a deposit other than the schedule's`,
      messageZh: `${shopName.get(shopId) ?? shopId}：${recs.length} 笔销售收取的押金与押金标准不符`,
      records: recs.map((r) => ({ type: 'sale', id: r.saleId })) });
  }

  for (const [shopId, recs] of byShop(refundDiffs)) {
    const net = recs.reduce((n, r) => n + r.differenceFen, 0);
    push({ book: 'money', kind: 'refund_paid_differs', severity: 'warning', shopId, actual: net,
      messageEn: `${shopName.get(shopId) ?? shopId}: ${recs.length} return(s) paid out ${net} fen net more than the computed refunds (offline till); chase or settle the difference`,
      messageZh: `${shopName.get(shopId) ?? shopId}：${recs.length} 笔退货柜台实付与应退不符，净多付 ${net} 分（离线终端），需核实追回或结算`,
      records: recs.map((r) => ({ type: 'return', id: r.returnId })) });
  }

  // --- custody
  if (custody.available) {
    for (const s of custody.shops) {
      if (s.loose < 0) {
        push({ book: 'custody', kind: 'bagged_exceeds_returns', severity: 'error', shopId: s.shopId, expected: s.returnedUnits, actual: s.bagged,
          messageEn: `${shopName.get(s.shopId) ?? s.shopId}: ${s.bagged} containers in bags but only ${s.returnedUnits} accepted at the shop`,
          messageZh: `${shopName.get(s.shopId) ?? s.shopId}：装袋 ${s.bagged} 个，但本店仅接收 ${s.returnedUnits} 个` });
      }
    }
    for (const d of custody.openDiscrepancies) {
      push({ book: 'custody', kind: `discrepancy_${d.type}`, severity: d.type === 'missing_bag' ? 'error' : 'warning', shopId: d.shopId, expected: d.expected, actual: d.actual,
        messageEn: `Bag ${d.bagId.slice(0, 8)}: ${d.type} discrepancy at receiving (${d.comment})`,
        messageZh: `收集袋 ${d.bagId.slice(0, 8)}：接收时发现差异（${d.type}）：${d.comment}`,
        records: [{ type: 'bag', id: d.bagId }, { type: 'inspection', id: d.inspectionId }] });
    }
    for (const [shopId, bags] of byShop(custody.overdueBags)) {
      push({ book: 'custody', kind: 'overdue_pickup', severity: 'warning', shopId, actual: bags.length,
        messageEn: `${shopName.get(shopId) ?? shopId}: ${bags.length} sealed bag(s) waiting more than 14 days for pickup`,
        messageZh: `${shopName.get(shopId) ?? shopId}：${bags.length} 个已封袋超过14天未被收运`,
        records: bags.map((b) => ({ type: 'bag', id: b.bagId })) });
    }
  }

  const { shops: _s, overdueBags, openDiscrepancies, ...custodyTotals } = custody;
  const figures: ReconciliationFigures = {
    countyId, period: period.key, from: period.from.toISOString(), to: period.to.toISOString(), asOf: asOf.toISOString(),
    money: {
      depositsCollectedFen: c.deposit_collected.periodFen, refundsPaidFen: c.refund_paid.periodFen, lateRefundsFen: c.late_refund.periodFen,
      policyRefundsFen: c.policy_refund.periodFen, buybackPaidFen: c.buyback_paid.periodFen, expiredFen: c.deposit_expired.periodFen,
      settlementsFromShopsFen: c.settlement_from_shop.periodFen, settlementsToShopsFen: c.settlement_to_shop.periodFen,
      outstandingOpeningFen: -(led.balances.get('deposits_outstanding')?.openingFen ?? 0), outstandingClosingFen: outstandingLedger,
      unredeemedClosingFen: unredeemedLedger,
    },
    units: {
      soldUnits: c.deposit_collected.periodUnits, soldWithDeposit: c.deposit_collected.periodUnits,
      returnedAccepted: c.refund_paid.periodUnits + c.late_refund.periodUnits + c.policy_refund.periodUnits + c.buyback_paid.periodUnits + rec.acceptedNoRefundPeriod,
      returnedAgainstDeposit: c.refund_paid.periodUnits, returnedLate: c.late_refund.periodUnits, returnedPolicy: c.policy_refund.periodUnits, returnedBuyback: c.buyback_paid.periodUnits,
      returnedNoRefund: rec.acceptedNoRefundPeriod, rejected: rec.rejectedPeriod, expired: c.deposit_expired.periodUnits,
      outstandingContainers: outstandingUnits, outstandingClosing: outstandingUnits, expiredUnreturnedClosing: c.deposit_expired.cumulativeUnits - c.late_refund.cumulativeUnits,
    },
    custody: { ...custodyTotals, overdueBags: overdueBags.length, openDiscrepancies: openDiscrepancies.length },
    shops: shopLines,
  };
  return { figures, exceptions: ex };
}

/** Accepted containers at each shop up to the period end (what custody must account for), from the raw tables. */
async function acceptedByShop(knex: Knex, w: BookWindow): Promise<Map<string, number>> {
  const returnedByShop = new Map<string, number>();
  const acc = (await knex.raw(`
    SELECT r.shop_id, coalesce(sum(i.quantity), 0)::bigint AS n FROM returns r JOIN return_items i ON i.county_id = r.county_id AND i.return_id = r.id
     WHERE r.county_id = :c AND r.recorded_at <= :asOf AND coalesce(r.booked_at, r.event_time) < :to AND i.outcome <> 'rejected'
       AND NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = r.county_id AND v.target_type = 'return' AND v.target_id = r.id AND v.recorded_at <= :asOf)
     GROUP BY r.shop_id`, { c: w.countyId, to: w.to, asOf: w.asOf })).rows as Array<{ shop_id: string; n: string }>;
  for (const r of acc) returnedByShop.set(r.shop_id, Number(r.n));
  return returnedByShop;
}

/** Ledger transfers of a kind in the period whose business record is missing or disagrees, and records without a transfer. */
async function transfersWithoutRecords(knex: Knex, w: BookWindow, kind: MoneyKind): Promise<Array<{ type: string; id: string }>> {
  const b = { c: w.countyId, from: w.from, to: w.to, asOf: w.asOf, kind };
  const rows = (await knex.raw(`
    SELECT 'transfer' AS type, t.id::text AS id FROM ledger_transfers t
     WHERE t.county_id = :c AND t.code = :kind AND t.recorded_at <= :asOf AND coalesce(t.booked_at, t.event_time) >= :from AND coalesce(t.booked_at, t.event_time) < :to
       AND CASE t.ref_type
             WHEN 'sale' THEN t.amount_fen <> coalesce((SELECT sum(l.deposit_fen) FROM sale_lines l WHERE l.county_id = t.county_id AND l.sale_id = t.ref_id), -1)
             WHEN 'return' THEN NOT EXISTS (SELECT 1 FROM returns r WHERE r.county_id = t.county_id AND r.id = t.ref_id)
             WHEN 'expiry' THEN NOT EXISTS (SELECT 1 FROM expiry_runs x WHERE x.county_id = t.county_id AND x.id = t.ref_id AND x.amount_fen = t.amount_fen)
             WHEN 'settlement' THEN NOT EXISTS (SELECT 1 FROM settlements x WHERE x.county_id = t.county_id AND x.id = t.ref_id AND x.amount_fen = t.amount_fen)
             WHEN 'held_refund' THEN NOT EXISTS (SELECT 1 FROM held_refund_payouts x WHERE x.county_id = t.county_id AND x.id = t.ref_id AND x.amount_fen = t.amount_fen)
             ELSE false END
    UNION ALL
    SELECT 'sale', s.id::text FROM sales s
     WHERE :kind = 'deposit_collected' AND s.county_id = :c AND s.recorded_at <= :asOf AND coalesce(s.booked_at, s.event_time) >= :from AND coalesce(s.booked_at, s.event_time) < :to AND s.total_deposit_fen > 0
       AND NOT EXISTS (SELECT 1 FROM ledger_transfers t WHERE t.county_id = s.county_id AND t.ref_type = 'sale' AND t.ref_id = s.id AND t.code = 'deposit_collected')
     LIMIT 200`, b)).rows as Array<{ type: string; id: string }>;
  return rows;
}

export function fingerprintOf(figures: ReconciliationFigures, exceptions: ReconciliationException[]): string {
  return createHash('sha256').update(canonicalJson({ figures, exceptions })).digest('hex');
}

/** Runs and stores a reconciliation. asOf defaults to now and may not be later than now. */
export async function runReconciliation(knex: Knex, opts: { countyId: string; period: string; asOf?: Date; now: Date; trigger: 'api' | 'scheduled'; actor: string; from?: ReconcileFrom }): Promise<ReconciliationRun> {
  let asOf = opts.asOf ?? opts.now;
  if (asOf.getTime() > opts.now.getTime()) {
    throw new AppError('RECONCILIATION_AS_OF_IN_FUTURE', undefined, [{ field: '/body/asOf', code: 'future', message: `asOf ${asOf.toISOString()} is after server time ${opts.now.toISOString()}` }]);
  }
  // A closed month never changes: its figures are those as of the run it was closed on, whatever asOf asks.
  const closedAsOf = await closedFiguresAsOf(knex, opts.countyId, opts.period);
  if (closedAsOf && asOf.getTime() > closedAsOf.getTime()) asOf = closedAsOf;
  const started = Date.now();
  const { figures, exceptions } = await reconcile(knex, opts.countyId, opts.period, asOf, { from: opts.from });
  const fingerprint = fingerprintOf(figures, exceptions);
  const durationMs = Date.now() - started;
  const id = newId();
  const errorCount = exceptions.filter((e) => e.severity === 'error').length;
  await knex.transaction(async (trx) => {
    await trx('reconciliation_runs').insert({
      county_id: opts.countyId, id, period_key: figures.period, period_from: figures.from, period_to: figures.to, as_of: asOf, run_at: opts.now,
      trigger: opts.trigger, actor: opts.actor, figures: JSON.stringify(figures), exception_count: exceptions.length, error_count: errorCount, fingerprint, duration_ms: durationMs,
    });
    const rows = exceptions.map((e, i) => ({
      county_id: opts.countyId, run_id: id, exception_no: i + 1, book: e.book, kind: e.kind, severity: e.severity, shop_id: e.shopId,
      expected: e.expected, actual: e.actual, message_en: e.messageEn.slice(0, 500), message_zh: e.messageZh.slice(0, 500), records: JSON.stringify(e.records),
    }));
    for (let i = 0; i < rows.length; i += 500) await trx('reconciliation_exceptions').insert(rows.slice(i, i + 500));
  });
  return {
    id, countyId: opts.countyId, period: figures.period, from: figures.from, to: figures.to, asOf: asOf.toISOString(), runAt: opts.now.toISOString(),
    trigger: opts.trigger, actor: opts.actor, fingerprint, durationMs, errorCount, exceptionCount: exceptions.length, figures, exceptions,
  };
}

interface RunRow {
  county_id: string; id: string; period_key: string; period_from: Date; period_to: Date; as_of: Date; run_at: Date; trigger: 'api' | 'scheduled';
  actor: string; figures: ReconciliationFigures | string; exception_count: number; error_count: number; fingerprint: string; duration_ms: number;
}

function runFromRow(r: RunRow, exceptions: ReconciliationException[]): ReconciliationRun {
  return {
    id: r.id, countyId: r.county_id, period: r.period_key, from: new Date(r.period_from).toISOString(), to: new Date(r.period_to).toISOString(),
    asOf: new Date(r.as_of).toISOString(), runAt: new Date(r.run_at).toISOString(), trigger: r.trigger, actor: r.actor, fingerprint: r.fingerprint,
    durationMs: r.duration_ms, errorCount: r.error_count, exceptionCount: r.exception_count,
    figures: typeof r.figures === 'string' ? JSON.parse(r.figures) : r.figures, exceptions,
  };
}

export async function loadRun(knex: Knex, countyId: string, runId: string): Promise<ReconciliationRun> {
  const r = (await knex('reconciliation_runs').where({ county_id: countyId, id: runId }).first()) as RunRow | undefined;
  if (!r) throw new AppError('NOT_FOUND', 'No such reconciliation run in this county');
  const ex = (await knex('reconciliation_exceptions').where({ county_id: countyId, run_id: runId }).orderBy('exception_no')) as Array<Record<string, any>>;
  return runFromRow(r, ex.map((e) => ({
    book: e.book, kind: e.kind, severity: e.severity, shopId: e.shop_id, expected: e.expected === null ? null : Number(e.expected), actual: e.actual === null ? null : Number(e.actual),
    messageEn: e.message_en, messageZh: e.message_zh, records: typeof e.records === 'string' ? JSON.parse(e.records) : e.records,
  })));
}

export async function latestRun(knex: Knex, countyId: string): Promise<ReconciliationRun | null> {
  const r = await knex('reconciliation_runs').where({ county_id: countyId }).orderBy([{ column: 'run_at', order: 'desc' }, { column: 'id', order: 'desc' }]).first('id');
  return r ? loadRun(knex, countyId, r.id) : null;
}

type RunSummary = Omit<ReconciliationRun, 'figures' | 'exceptions'>;

/** A page cursor of the run list: the last run's (run_at, id), opaque to clients. */
function runCursor(r: RunSummary): string {
  return Buffer.from(JSON.stringify([r.runAt, r.id])).toString('base64url');
}

function readRunCursor(cursor: string): [string, string] {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    v = null;
  }
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string' || Number.isNaN(Date.parse(v[0])) || !/^[0-9a-f-]{36}$/.test(v[1])) {
    throw new AppError('VALIDATION_FAILED', undefined, [{ field: '/query/cursor', code: 'cursor', message: 'is not a cursor this server gave (pass back nextCursor unchanged)' }]);
  }
  return [v[0], v[1]];
}

/** Runs of a county, newest first, a page at a time (`{ items, nextCursor }` like every list). */
export async function listRuns(knex: Knex, countyId: string, opts: { limit?: number; cursor?: string } = {}): Promise<{ items: RunSummary[]; nextCursor: string | null }> {
  const limit = opts.limit ?? 50;
  const q = knex('reconciliation_runs').where({ county_id: countyId });
  if (opts.cursor) {
    const [runAt, id] = readRunCursor(opts.cursor);
    q.where((w) => w.where('run_at', '<', new Date(runAt)).orWhere((x) => x.where('run_at', '=', new Date(runAt)).andWhere('id', '<', id)));
  }
  const rows = (await q.orderBy([{ column: 'run_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit + 1)
    .select('county_id', 'id', 'period_key', 'period_from', 'period_to', 'as_of', 'run_at', 'trigger', 'actor', 'exception_count', 'error_count', 'fingerprint', 'duration_ms')) as RunRow[];
  const items = rows.slice(0, limit).map((r) => {
    const { figures: _f, exceptions: _e, ...rest } = runFromRow({ ...r, figures: '{}' }, []);
    return rest;
  });
  return { items, nextCursor: rows.length > limit ? runCursor(items[items.length - 1]!) : null };
}

/**
 * The scheduled job: for every active county, last month's reconciliation (once per period; a
 * second call finds it done). Run daily from cron or the operator's scheduler (`npm run reconcile`).
 */
/** Reconciles the previous month of one county once (the scheduler calls this for every county). */
export async function runScheduledReconciliation(knex: Knex, countyId: string, now: Date): Promise<ReconciliationRun | null> {
  const c = (await knex('counties').where({ id: countyId }).first('id', 'timezone')) as { id: string; timezone: string } | undefined;
  if (!c) return null;
  const period = addMonths(businessMonth(now, c.timezone), -1);
  const done = await knex('reconciliation_runs').where({ county_id: c.id, period_key: period, trigger: 'scheduled' }).first('id');
  if (done) return null;
  return runReconciliation(knex, { countyId: c.id, period, now, trigger: 'scheduled', actor: 'system:scheduler' });
}

export async function runScheduledReconciliations(knex: Knex, now: Date): Promise<ReconciliationRun[]> {
  const counties = (await knex('counties').where({ active: true }).orderBy('id').select('id')) as Array<{ id: string }>;
  const out: ReconciliationRun[] = [];
  for (const c of counties) {
    const run = await runScheduledReconciliation(knex, c.id, now);
    if (run) out.push(run);
  }
  return out;
}
