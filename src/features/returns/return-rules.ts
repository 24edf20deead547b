// The rules of one return (DESIGN rules 3–6 and 13), shared by the single return
// (return-service.ts: POST /returns and group commit) and the set-based run of a sync batch
// (return-run.ts), so both decide every item the same way and answer the same body.
//
// planReturn walks the items exactly as a return is judged: what each item names; unit codes sold
// with deposit (refunded once, as paid), never sold (held for review, or paid at once by policy) or
// foreign; then containers without a unit code, first-in-first-out against the returner's own
// deposits, then the county's untracked policy up to its daily limit. What it needs from the
// database it asks of a ReturnFacts: the single path answers with a query (and the lock) per
// question, the run from what it read and locked once for the whole run, threading the state each
// earlier return of the run left behind. composeReturn turns the decisions into rows, ledger
// transfers and the answer.
import { AppError, type ErrorDetail } from '../../http/errors.js';
import type { Principal } from '../../auth/permissions.js';
import { extractUnitCode } from '../../shared/unit-code.js';
import { maskPhone } from '../../shared/phone.js';
import type { RejectionReason } from '../../shared/schemas/ledger-schemas.js';
import { productNotFound, type ProductRef } from '../products/product-lookup.js';
import { gtinCheckDigitOk } from '../../shared/gtin.js';
import { countyAccount, shopAccount } from '../ledger/accounts.js';
import type { CountyPolicy } from '../ledger/county-policy.js';
import { bookingView, type Booking } from '../periods/booking.js';
import type { IncentiveKind, IncentiveReason, ItemIncentive } from '../../shared/points.js';
import type { TransferInput } from '../ledger/ledger-store.js';
import type { HeldReason } from '../held-refunds/held-refund-store.js';
import type { LotRow, SoldUnitRow } from './return-store.js';
import { earnedPoints, type PointsTransferInput } from '../points/points-store.js';

export interface ReturnItemInput {
  scan?: string;
  gtin?: string;
  productId?: string;
  quantity?: number;
  inspection: 'accepted' | 'rejected';
  reasonCode?: RejectionReason;
  /** Offline returns: what the clerk actually paid out for this item (all its containers), in fen. */
  refundPaidFen?: number;
}

export interface ReturnInput {
  id: string;
  countyId?: string;
  shopId: string;
  eventTime: string;
  returner?: { phone: string; name?: string; village?: string };
  items: ReturnItemInput[];
  payment?: { method: 'cash' | 'mobile'; reference?: string };
}

export type AllocationSource = 'unit' | 'lot' | 'unit_expired' | 'lot_expired' | 'policy' | 'buyback' | 'held' | 'none';

export type { IncentiveKind, IncentiveReason, ItemIncentive } from '../../shared/points.js';

/** The county incentive rate a container gets (rule 2), as ReturnFacts answer it. */
export interface IncentiveRate {
  id: string;
  buybackFen: number;
  pointsMilli: number;
}

/** What the incentives gave this calendar year (reversed returns left out). */
export interface IncentiveGiven {
  buybackFen: number;
  pointsMilli: number;
}

export interface Allocation {
  source: AllocationSource;
  quantity: number;
  amountFen: number;
  saleId?: string;
  lineNo?: number;
  unitCode?: string;
  depositShopId?: string;
  productId?: string;
}

export interface ItemPlan {
  itemNo: number;
  scanned: string | null;
  unitCode: string | null;
  productId: string | null;
  quantity: number;
  inspection: 'accepted' | 'rejected';
  reasonCode: RejectionReason | null;
  allocations: Allocation[];
  /** What the clerk says was paid (null: not stated, so what the server computes). */
  paidFen: number | null;
  /** A never-sold (or likely counterfeit) unit code whose refund waits for the county's review. */
  held: { reason: HeldReason; amountFen: number; id: string } | null;
  /** unsold_code: never sold in the county; likely_counterfeit: absent from the product's imported registry. */
  codeFlags: Array<'unsold_code' | 'likely_counterfeit'>;
  /** Points the item earns (milli-points; 0 without). */
  pointsMilli: number;
  /** Why the item got less than the policy offers (set while planning; rejected items: 'rejected'). */
  incentiveReason: IncentiveReason | null;
}

/** The returner as a return sees them (found by phone, or registered by this return). */
export interface Returner {
  id: string;
  name: string;
  phoneE164: string;
  registeredNow: boolean;
}

export function returnNumber(countyId: string, returnNo: number): string {
  return `HS${countyId}-${String(returnNo).padStart(8, '0')}`;
}

export function returnQrPayload(countyId: string, returnId: string): string {
  return `agrireturn:return:${countyId}:${returnId}`;
}

/** Shape rules the schema cannot say; checked before the client id is claimed. */
export function validateShape(input: ReturnInput): void {
  const details: ErrorDetail[] = [];
  for (const [i, item] of input.items.entries()) {
    const field = `/body/items/${i}`;
    const named = [item.scan, item.gtin, item.productId].filter((v) => v !== undefined).length;
    if (named !== 1) details.push({ field, code: 'one_of', message: 'give exactly one of scan, gtin, productId' });
    if (item.scan !== undefined && item.quantity !== undefined && item.quantity !== 1) details.push({ field: `${field}/quantity`, code: 'unit_code_is_one', message: 'a unit code is one container' });
  }
  if (details.length) throw new AppError('VALIDATION_FAILED', undefined, details);
  for (const [i, item] of input.items.entries()) {
    if ((item.inspection === 'rejected') !== (item.reasonCode !== undefined)) {
      throw new AppError('REASON_CODE_REQUIRED', undefined, [{ field: `/body/items/${i}/reasonCode`, code: item.inspection === 'rejected' ? 'required' : 'not_allowed', message: item.inspection === 'rejected' ? 'a rejected item needs a reason' : 'an accepted item has no reason' }]);
    }
  }
  const p = input.payment;
  if (p && ((p.method === 'mobile') !== (p.reference !== undefined))) {
    throw new AppError('PAYMENT_REFERENCE_REQUIRED', undefined, [{ field: '/body/payment/reference', code: p.method === 'mobile' ? 'required' : 'not_allowed', message: 'mobile refunds carry a reference, cash refunds none' }]);
  }
}

/**
 * What a return asks of the database while it is judged, in the order it asks. Each lock is taken
 * before what it guards is read: sold unit codes (in code order), never-sold codes, lots (in key
 * order), the policy limit; the ledger accounts come last (postTransfers).
 */
export interface ReturnFacts {
  /** The active product an item names by id or GTIN (null: none). */
  product(by: { productId?: string; gtin?: string }, field: string): Promise<ProductRef | null>;
  /** Locks the sold units (not voided) with these codes, given in code order. */
  lockUnits(codes: string[]): Promise<Map<string, SoldUnitRow>>;
  absentFromRegistry(productId: string, code: string): Promise<boolean>;
  /** Active products whose registration fits digits 1–7 of a unit code, in id order. */
  productsForPrefix(prefix: string): Promise<ProductRef[]>;
  soldInOtherCounty(code: string): Promise<boolean>;
  /** Serialises returns of one never-sold code (then asks whether it was already returned). */
  lockNeverSold(code: string): Promise<void>;
  codeAlreadyReturned(code: string): Promise<boolean>;
  depositInForce(containerTypeId: string, day: string): Promise<{ depositFen: number } | null>;
  /** Locks the returner's lots of these products (in id order) that still hold deposits, in key order. */
  lockLots(farmerId: string, productIds: string[]): Promise<LotRow[]>;
  /** Serialises the untracked policy's daily limit of a returner (or shop without returner), then reads what it refunded that day. */
  policyRefundedOn(day: string, who: { farmerId: string } | { shopId: string }): Promise<number>;
  /** The county incentive rate in force for a container type on a business day (null: none matches). */
  incentiveRate(containerTypeId: string, day: string): Promise<IncentiveRate | null>;
  /**
   * Serialises a household's (or shop's) yearly incentive caps, then reads what incentives gave it in
   * that calendar year. Asked household first, then shop (the lock order, incentiveLockKey).
   */
  incentiveGiven(year: string, who: { farmerId: string } | { shopId: string }): Promise<IncentiveGiven>;
  /** Serialises buy-back from the county incentive fund (last of the incentive locks), then reads what is left in fen. */
  incentiveFundLeft(): Promise<number>;
  /** Whether this unit code already earned points (a code earns once, ever). */
  codeEarnedPoints(code: string): Promise<boolean>;
}

/**
 * The advisory lock keys of the incentive caps and fund: households, then shops, then the fund, so
 * that every writer (single return or run) takes them in one order (after the policy locks).
 */
export function incentiveLockKey(countyId: string, who: { farmerId: string; year: string } | { shopId: string; year: string } | 'fund'): string {
  if (who === 'fund') return `incentive:${countyId}:3:fund`;
  return 'farmerId' in who ? `incentive:${countyId}:1:farmer:${who.farmerId}:${who.year}` : `incentive:${countyId}:2:shop:${who.shopId}:${who.year}`;
}

export interface ReturnContext {
  county: CountyPolicy;
  shopId: string;
  day: string;
  returner: Returner | null;
  newId(): string;
}

export interface PlannedReturn {
  plans: ItemPlan[];
  /** Sold units whose state the return changes. */
  unitStates: Array<[SoldUnitRow, SoldUnitRow['state']]>;
  /** Lots the return drew on (their outstanding / expired counts already lowered). */
  changedLots: LotRow[];
}

/** Every decision of a return, item by item (throws only for the return as a whole: a unit code given twice). */
export async function planReturn(input: ReturnInput, ctx: ReturnContext, facts: ReturnFacts): Promise<PlannedReturn> {
  const { county, day, returner } = ctx;
  const refundLate = county.lateReturnPolicy === 'refund_from_unredeemed';

  // 1. What each item names.
  const plans: ItemPlan[] = [];
  const seen = new Map<string, number>();
  const productOf = new Map<number, ProductRef>();
  for (const [i, item] of input.items.entries()) {
    const plan: ItemPlan = {
      itemNo: i + 1, scanned: item.scan ?? null, unitCode: null, productId: null, quantity: item.quantity ?? 1,
      inspection: item.inspection, reasonCode: item.reasonCode ?? null, allocations: [], paidFen: item.refundPaidFen ?? null,
      held: null, codeFlags: [], pointsMilli: 0, incentiveReason: null,
    };
    if (item.scan !== undefined) {
      const got = extractUnitCode(item.scan);
      if (got.ok) {
        if (seen.has(got.code)) throw new AppError('UNIT_CODE_DUPLICATE', undefined, [{ field: `/body/items/${i}/scan`, code: 'duplicate', message: `same unit code as item ${seen.get(got.code)}` }]);
        seen.set(got.code, i + 1);
        plan.unitCode = got.code;
      } else if (plan.inspection === 'accepted') {
        plan.inspection = 'rejected';
        plan.reasonCode = 'unknown_code';
      }
    } else {
      if ((item.productId === undefined) === (item.gtin === undefined)) {
        throw new AppError('VALIDATION_FAILED', 'Name the product by productId or by gtin (one of them)', [{ field: `/body/items/${i}`, code: 'one_of', message: 'give exactly one of productId, gtin' }]);
      }
      const product = await facts.product(item, `/body/items/${i}`);
      // A GTIN with a wrong check digit is a misread barcode: refused (INVALID_GTIN), not a rejected foreign product.
      if (!product && item.gtin !== undefined && !gtinCheckDigitOk(item.gtin)) throw productNotFound(item, `/body/items/${i}`);
      if (product) {
        productOf.set(plan.itemNo, product);
        plan.productId = product.id;
      } else if (plan.inspection === 'accepted') {
        plan.inspection = 'rejected';
        plan.reasonCode = 'not_scheme_product';
      }
    }
    plans.push(plan);
  }

  // 2. Unit codes: lock the sold ones, decide each.
  const accepted = plans.filter((p) => p.inspection === 'accepted');
  const coded = accepted.filter((p) => p.unitCode !== null).sort((a, b) => a.unitCode!.localeCompare(b.unitCode!));
  const units = await facts.lockUnits(coded.map((p) => p.unitCode!));
  const unitStates: PlannedReturn['unitStates'] = [];
  const untracked: ItemPlan[] = [];
  for (const plan of coded) {
    const code = plan.unitCode!;
    const unit = units.get(code);
    if (unit) {
      plan.productId = unit.product_id;
      // Sold with deposit: the deposit is refunded as paid; a code missing from the registry is only flagged.
      if (await facts.absentFromRegistry(unit.product_id, code)) plan.codeFlags.push('likely_counterfeit');
      const base = { quantity: 1, saleId: unit.sale_id, lineNo: unit.line_no, unitCode: code, depositShopId: unit.shop_id, productId: unit.product_id };
      if (unit.state === 'outstanding') {
        plan.allocations.push({ ...base, source: 'unit', amountFen: unit.deposit_fen });
        unitStates.push([unit, 'refunded']);
      } else if (unit.state === 'expired') {
        plan.allocations.push({ ...base, source: 'unit_expired', amountFen: refundLate ? unit.deposit_fen : 0 });
        unitStates.push([unit, refundLate ? 'late_refunded' : 'late_returned']);
      } else {
        plan.inspection = 'rejected';
        plan.reasonCode = 'already_returned';
      }
      continue;
    }
    // Never sold with deposit here: a scheme product counted like a GTIN-only container, once.
    const products = await facts.productsForPrefix(code.slice(0, 7));
    const product = products.find((p) => p.packSizeCode === code.slice(8, 11)) ?? products[0];
    if (!product) {
      const other = await facts.soldInOtherCounty(code);
      plan.inspection = 'rejected';
      plan.reasonCode = other ? 'other_county' : 'not_scheme_product';
      continue;
    }
    await facts.lockNeverSold(code);
    if (await facts.codeAlreadyReturned(code)) {
      plan.inspection = 'rejected';
      plan.reasonCode = 'already_returned';
      continue;
    }
    plan.productId = product.id;
    productOf.set(plan.itemNo, product);
    // A code nobody sold is not money (DESIGN rule 13): accepted into custody, its refund held for the
    // county's review — unless county policy pays at once; a likely counterfeit is never paid at once.
    plan.codeFlags.push('unsold_code');
    const counterfeit = await facts.absentFromRegistry(product.id, code);
    if (counterfeit) plan.codeFlags.push('likely_counterfeit');
    if (!counterfeit && county.unsoldCodePolicy === 'pay_at_once') {
      untracked.push(plan);
      continue;
    }
    const rate = await facts.depositInForce(product.containerTypeId, day);
    // Held for review: no incentive either (rule 4).
    plan.incentiveReason = 'held_for_review';
    // A held refund is owed to a phone; without a returner (or a schedule) it is accepted without refund.
    if (returner && rate && rate.depositFen > 0) {
      plan.held = { reason: counterfeit ? 'likely_counterfeit' : 'unsold_code', amountFen: rate.depositFen, id: ctx.newId() };
      plan.allocations.push({ source: 'held', quantity: 1, amountFen: 0, unitCode: code, productId: product.id });
    } else {
      plan.allocations.push({ source: 'none', quantity: 1, amountFen: 0, productId: product.id });
    }
  }
  for (const plan of accepted) if (plan.unitCode === null && plan.productId !== null) untracked.push(plan);
  untracked.sort((a, b) => a.itemNo - b.itemNo);

  // 3. Untracked containers: the returner's own deposits first-in-first-out, then policy.
  const changed = new Set<LotRow>();
  if (untracked.length) {
    const lots: LotRow[] = returner ? await facts.lockLots(returner.id, [...new Set(untracked.map((p) => p.productId!))].sort()) : [];
    const fifo = [...lots].sort((a, b) => a.event_time.getTime() - b.event_time.getTime() || a.sale_id.localeCompare(b.sale_id) || a.line_no - b.line_no);
    let policyLeft = 0;
    if (county.untrackedRefundPolicy === 'schedule_up_to_limit') {
      const who = returner ? { farmerId: returner.id } : { shopId: ctx.shopId };
      policyLeft = Math.max(0, county.untrackedDailyLimit - (await facts.policyRefundedOn(day, who)));
    }
    const leftOf = new Map<ItemPlan, number>();
    for (const plan of untracked) {
      let left = plan.quantity;
      for (const lot of fifo) {
        if (left === 0) break;
        if (lot.product_id !== plan.productId || lot.outstanding === 0) continue;
        const take = Math.min(left, lot.outstanding);
        lot.outstanding -= take;
        left -= take;
        changed.add(lot);
        plan.allocations.push({ source: 'lot', quantity: take, amountFen: take * lot.deposit_fen, saleId: lot.sale_id, lineNo: lot.line_no, depositShopId: lot.shop_id, productId: lot.product_id });
      }
      for (const lot of fifo) {
        if (left === 0) break;
        if (lot.product_id !== plan.productId || lot.expired === 0) continue;
        const take = Math.min(left, lot.expired);
        lot.expired -= take;
        left -= take;
        changed.add(lot);
        plan.allocations.push({ source: 'lot_expired', quantity: take, amountFen: refundLate ? take * lot.deposit_fen : 0, saleId: lot.sale_id, lineNo: lot.line_no, depositShopId: lot.shop_id, productId: lot.product_id });
      }
      leftOf.set(plan, left);
    }

    // 4. What carries no deposit: the county's incentive rate (rules 2–7), else the untracked policy.
    const rateOf = new Map<ItemPlan, IncentiveRate>();
    for (const plan of untracked) {
      if (leftOf.get(plan)! === 0) continue;
      const rate = await facts.incentiveRate(productOf.get(plan.itemNo)!.containerTypeId, day);
      if (rate) rateOf.set(plan, rate);
    }
    const rates = [...rateOf.values()];
    const anyBuyback = rates.some((r) => r.buybackFen > 0);
    const anyPoints = rates.some((r) => r.pointsMilli > 0);
    const year = day.slice(0, 4);
    // What the caps and the fund leave, each read under its lock (household, shop, fund: one order).
    let householdBuybackLeft = Infinity;
    let householdPointsLeft = Infinity;
    let shopBuybackLeft = Infinity;
    let fundLeft = Infinity;
    if (returner && rates.length) {
      const hb = anyBuyback ? county.incentiveHouseholdBuybackCapFen : null;
      const hp = anyPoints ? county.incentiveHouseholdPointsCapMilli : null;
      if (hb !== null || hp !== null) {
        const given = await facts.incentiveGiven(year, { farmerId: returner.id });
        if (hb !== null) householdBuybackLeft = Math.max(0, hb - given.buybackFen);
        if (hp !== null) householdPointsLeft = Math.max(0, hp - given.pointsMilli);
      }
      if (anyBuyback && county.incentiveShopBuybackCapFen !== null) {
        shopBuybackLeft = Math.max(0, county.incentiveShopBuybackCapFen - (await facts.incentiveGiven(year, { shopId: ctx.shopId })).buybackFen);
      }
      if (anyBuyback) fundLeft = Math.max(0, await facts.incentiveFundLeft());
    }

    for (const plan of untracked) {
      let left = leftOf.get(plan)!;
      if (left === 0) continue;
      const product = productOf.get(plan.itemNo)!;
      const incentive = rateOf.get(plan);
      if (incentive) {
        // A rate applies: no policy refund from the deposit pool, whatever the incentive gives.
        if (!returner) {
          plan.incentiveReason ??= 'returner_required';
        } else {
          let paid = left;
          let reason: IncentiveReason | null = null;
          if (incentive.buybackFen > 0) {
            // Buy-back is whole containers: as many as every cap and the fund still cover.
            for (const [why, room] of [['household_cap', householdBuybackLeft], ['shop_cap', shopBuybackLeft], ['fund_empty', fundLeft]] as const) {
              const k = Math.floor(room / incentive.buybackFen);
              if (k < paid) {
                paid = k;
                reason = why;
              }
            }
            const fen = paid * incentive.buybackFen;
            householdBuybackLeft -= fen;
            shopBuybackLeft -= fen;
            fundLeft -= fen;
          }
          let points = 0;
          if (incentive.pointsMilli > 0) {
            // Containers the fund could not pay get points only if the county says so; caps on buy-back leave the points.
            const withPoints = incentive.buybackFen > 0 && reason === 'fund_empty' && county.incentiveWhenFundEmpty !== 'points_only' ? paid : left;
            const offered = withPoints * incentive.pointsMilli;
            const earnedBefore = plan.unitCode !== null && (await facts.codeEarnedPoints(plan.unitCode));
            points = earnedBefore ? 0 : Math.min(offered, householdPointsLeft);
            if (!earnedBefore && points < offered) reason ??= 'household_cap';
            householdPointsLeft -= points;
          }
          plan.pointsMilli = points;
          if (reason) plan.incentiveReason ??= reason;
          if (incentive.buybackFen > 0 && paid > 0) {
            plan.allocations.push({ source: 'buyback', quantity: paid, amountFen: paid * incentive.buybackFen, productId: product.id });
            left -= paid;
          }
        }
      } else {
        plan.incentiveReason ??= 'no_rate';
        if (policyLeft > 0) {
          const rate = await facts.depositInForce(product.containerTypeId, day);
          if (rate && rate.depositFen > 0) {
            const n = Math.min(left, policyLeft);
            policyLeft -= n;
            left -= n;
            plan.allocations.push({ source: 'policy', quantity: n, amountFen: n * rate.depositFen, productId: product.id });
          }
        }
      }
      if (left > 0) plan.allocations.push({ source: 'none', quantity: left, amountFen: 0, productId: plan.productId! });
    }
  }
  return { plans, unitStates, changedLots: [...changed].sort((a, b) => a.sale_id.localeCompare(b.sale_id) || a.line_no - b.line_no) };
}

export interface ComposeMeta {
  countyId: string;
  input: ReturnInput;
  principal?: Principal;
  actor: string;
  eventTime: Date;
  day: string;
  now: Date;
  booking: Booking;
  returner: Returner | null;
}

export interface ComposedReturn {
  returnRow: Record<string, unknown>;
  itemRows: Array<Record<string, unknown>>;
  allocationRows: Array<Record<string, unknown>>;
  refundRow: Record<string, unknown> | null;
  heldRows: Array<Record<string, unknown> & { amount_fen: number; prepaid_fen: number }>;
  /** The refund transfers (amounts of zero left out), in the order they are posted. */
  transfers: TransferInput[];
  /** The points the return's items earned (issued → the returner), posted with postPoints in the same transaction. */
  pointsTransfers: PointsTransferInput[];
  totalRefundFen: number;
  /** Buy-back paid from the county incentive fund (part of totalRefundFen). */
  totalBuybackFen: number;
  /** Points earned by this return, in milli-points. */
  totalPointsMilli: number;
  totalPaidFen: number;
  /** Containers accepted (what the farmer's SMS counts). */
  acceptedContainers: number;
  /** The answer, once the return number and the returner's points balance after it (null without returner) are known. */
  body(returnNo: number, pointsBalanceMilli: number | null): Record<string, unknown>;
}

const DEPOSIT_SOURCES: AllocationSource[] = ['unit', 'lot', 'unit_expired', 'lot_expired'];

/** The item's incentive as the answer and return_items tell it. */
export function incentiveOf(p: ItemPlan): ItemIncentive {
  if (p.inspection === 'rejected') return { kind: 'none', buybackFen: 0, pointsMilli: 0, reason: 'rejected' };
  const buybackFen = p.allocations.filter((a) => a.source === 'buyback').reduce((s, a) => s + a.amountFen, 0);
  const pointsMilli = p.pointsMilli;
  const deposit = p.allocations.some((a) => DEPOSIT_SOURCES.includes(a.source));
  const kind: IncentiveKind = buybackFen > 0 && pointsMilli > 0 ? 'buyback_points' : buybackFen > 0 ? 'buyback' : pointsMilli > 0 ? 'points' : deposit ? 'deposit' : 'none';
  return { kind, buybackFen, pointsMilli, reason: p.incentiveReason };
}

/** The rows, ledger transfers and answer of a judged return. */
export function composeReturn(plans: ItemPlan[], m: ComposeMeta): ComposedReturn {
  const { countyId, input, eventTime, now, booking, returner, actor, day } = m;
  const sum = (sources: AllocationSource[]) => plans.reduce((s, p) => s + p.allocations.filter((a) => sources.includes(a.source)).reduce((t, a) => t + a.amountFen, 0), 0);
  // All cash owed: deposits refunded, the untracked policy's refunds and buy-back (docs/incentives.md).
  const total = sum(['unit', 'lot', 'unit_expired', 'lot_expired', 'policy', 'buyback']);
  const totalBuyback = sum(['buyback']);
  const incentives = new Map(plans.map((p) => [p, incentiveOf(p)]));
  const totalPoints = plans.reduce((s, p) => s + incentives.get(p)!.pointsMilli, 0);
  const refundOf = (p: ItemPlan) => p.allocations.reduce((s, a) => s + a.amountFen, 0);
  // An offline terminal states what the clerk paid: that is what left the till and what the ledger
  // records. The difference from what the scheme owes is kept and flagged, never refused — and a
  // unit already refunded stays refused (already_returned): its deposit is not paid twice, the cash
  // the clerk handed over is a shortfall the county must chase.
  const paidOf = (p: ItemPlan) => p.paidFen ?? refundOf(p);
  const differenceOf = (p: ItemPlan) => paidOf(p) - refundOf(p);
  const overpaid = plans.reduce((s, p) => s + Math.max(0, differenceOf(p)), 0);
  const underpaid = plans.reduce((s, p) => s + Math.max(0, -differenceOf(p)), 0);
  const totalPaid = total + overpaid - underpaid;
  const outcomeOf = (p: ItemPlan) => (p.inspection === 'rejected' ? 'rejected' : refundOf(p) > 0 ? 'refunded' : p.held ? 'refund_held' : 'accepted_no_refund');
  const flagsOf = (p: ItemPlan) => [...(p.inspection === 'accepted' ? p.codeFlags : []), ...(differenceOf(p) !== 0 ? ['refund_mismatch'] : [])];
  const payment = totalPaid > 0 ? { method: input.payment?.method ?? 'cash', reference: input.payment?.reference ?? null } : null;
  const held = plans.filter((p) => p.inspection === 'accepted' && p.held);
  const shop = shopAccount(countyId, input.shopId);
  const common = { credit: shop, clientId: input.id, refType: 'return' as const, refId: input.id, shopId: input.shopId, eventTime, actor, bookedAt: booking.bookedAt };
  const transfers: TransferInput[] = [
    { ...common, code: 'refund_paid' as const, debit: countyAccount(countyId, 'deposits_outstanding'), amountFen: sum(['unit', 'lot']) },
    { ...common, code: 'late_refund' as const, debit: countyAccount(countyId, 'unredeemed'), amountFen: sum(['unit_expired', 'lot_expired']) },
    { ...common, code: 'policy_refund' as const, debit: countyAccount(countyId, 'policy_refunds'), amountFen: sum(['policy']) },
    // Buy-back comes from the county incentive fund: the shop paid it out, the fund owes it the cash.
    { ...common, code: 'buyback_paid' as const, debit: countyAccount(countyId, 'incentive_fund'), amountFen: totalBuyback },
    { ...common, code: 'refund_overpaid' as const, debit: countyAccount(countyId, 'refund_differences'), amountFen: overpaid },
    { ...common, code: 'refund_underpaid' as const, debit: shop, credit: countyAccount(countyId, 'refund_differences'), amountFen: underpaid },
  ].filter((t) => t.amountFen !== 0);
  const mismatched = plans.some((p) => differenceOf(p) !== 0);
  const pointsTransfers: PointsTransferInput[] = returner ? plans.filter((p) => incentives.get(p)!.pointsMilli > 0).map((p) => earnedPoints(countyId, {
    amountMilli: p.pointsMilli, clientId: input.id, refId: input.id, itemNo: p.itemNo, unitCode: p.unitCode, farmerId: returner.id, shopId: input.shopId,
    eventTime, businessDay: day, actor,
  })) : [];
  return {
    returnRow: {
      county_id: countyId, id: input.id, shop_id: input.shopId, farmer_id: returner?.id ?? null, event_time: eventTime, business_day: day,
      recorded_at: now, actor, total_refund_fen: total, refund_difference_fen: totalPaid - total, booked_at: booking.bookedAt,
    },
    itemRows: plans.map((p) => ({
      county_id: countyId, return_id: input.id, item_no: p.itemNo, unit_code: p.unitCode, scanned: p.scanned?.slice(0, 300) ?? null, product_id: p.productId,
      quantity: p.quantity, inspection: p.inspection, outcome: outcomeOf(p), reason_code: p.reasonCode, refund_fen: refundOf(p),
      refund_paid_fen: p.paidFen, refund_difference_fen: differenceOf(p), likely_counterfeit: p.inspection === 'accepted' && p.codeFlags.includes('likely_counterfeit'),
      points_milli: incentives.get(p)!.pointsMilli, incentive: incentives.get(p)!.kind, incentive_reason: incentives.get(p)!.reason,
    })),
    allocationRows: plans.flatMap((p) => p.allocations.map((a, k) => ({
      county_id: countyId, return_id: input.id, item_no: p.itemNo, alloc_no: k + 1, source: a.source, sale_id: a.saleId ?? null, line_no: a.lineNo ?? null,
      unit_code: a.unitCode ?? null, deposit_shop_id: a.depositShopId ?? null, product_id: a.productId ?? null, quantity: a.quantity, amount_fen: a.amountFen,
    }))),
    refundRow: payment ? { county_id: countyId, return_id: input.id, method: payment.method, reference: payment.reference, amount_fen: totalPaid, paid_at: eventTime } : null,
    heldRows: held.map((p) => ({
      county_id: countyId, id: p.held!.id, return_id: input.id, item_no: p.itemNo, unit_code: p.unitCode!, product_id: p.productId!, farmer_id: returner!.id,
      shop_id: input.shopId, amount_fen: p.held!.amountFen, prepaid_fen: p.paidFen ?? 0, reason: p.held!.reason, state: 'held', event_time: eventTime, recorded_at: now,
    })),
    transfers,
    pointsTransfers,
    totalRefundFen: total,
    totalBuybackFen: totalBuyback,
    totalPointsMilli: totalPoints,
    totalPaidFen: totalPaid,
    acceptedContainers: plans.filter((p) => p.inspection === 'accepted').reduce((s, p) => s + p.quantity, 0),
    body: (returnNo: number, pointsBalanceMilli: number | null) => ({
      returnId: input.id, returnNo: returnNumber(countyId, returnNo), countyId, shopId: input.shopId,
      eventTime: eventTime.toISOString(), recordedAt: now.toISOString(), businessDay: day, ...bookingView(booking),
      returner: returner ? { farmerId: returner.id, name: returner.name, phoneMasked: maskPhone(returner.phoneE164), registeredNow: returner.registeredNow } : null,
      items: plans.map((p) => {
        const bySource = new Map<AllocationSource, { quantity: number; amountFen: number }>();
        for (const a of p.allocations) {
          const s = bySource.get(a.source) ?? { quantity: 0, amountFen: 0 };
          s.quantity += a.quantity;
          s.amountFen += a.amountFen;
          bySource.set(a.source, s);
        }
        return {
          itemNo: p.itemNo, unitCode: p.unitCode, productId: p.productId, quantity: p.quantity, outcome: outcomeOf(p), reasonCode: p.reasonCode,
          refundFen: refundOf(p), refundedQuantity: p.allocations.filter((a) => a.amountFen > 0).reduce((s, a) => s + a.quantity, 0),
          sources: [...bySource].map(([source, v]) => ({ source, ...v })),
          refundPaidFen: paidOf(p), refundDifferenceFen: differenceOf(p), flags: flagsOf(p),
          heldRefund: p.inspection === 'accepted' && p.held ? { heldRefundId: p.held.id, amountFen: p.held.amountFen, reason: p.held.reason } : null,
          incentive: incentives.get(p)!,
        };
      }),
      totalRefundFen: total,
      totalPaidFen: totalPaid,
      refundDifferenceFen: totalPaid - total,
      totalHeldFen: held.reduce((s, p) => s + p.held!.amountFen, 0),
      totalBuybackFen: totalBuyback,
      totalPointsMilli: totalPoints,
      pointsBalanceMilli: returner ? pointsBalanceMilli ?? 0 : null,
      flags: [...(mismatched ? ['refund_mismatch'] : []), ...(held.length ? ['refund_held'] : []), ...(plans.some((p) => flagsOf(p).includes('likely_counterfeit')) ? ['likely_counterfeit'] : [])],
      payment,
      qrPayload: returnQrPayload(countyId, input.id),
    }),
  };
}
