// Sales with deposit (DESIGN rules 1, 2, 7): the deposit per container comes from the schedule in
// force at the event time; an offline terminal's charged deposit is recorded as paid and flagged when
// it differs. Unit codes are bound to the sale; a code already sold in the county is refused.
import type { Knex } from 'knex';
import type { AppDeps } from '../../app-deps.js';
import { AppError } from '../../http/errors.js';
import { actorName } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/permissions.js';
import { maskName, maskPhone } from '../../shared/phone.js';
import { depositInForce } from '../deposit-schedules/deposit-schedule-entity.js';
import { businessDay } from '../../shared/business-day.js';
import { findOrRegisterFarmer } from '../farmers/farmer-register.js';
import { resolveProduct, type ProductRef } from '../products/product-lookup.js';
import { requireRef } from '../reference/entity-rules.js';
import { countyAccount, shopAccount } from '../ledger/accounts.js';
import { checkEventTimeBounds, countyOf, loadCountyPolicy } from '../ledger/county-policy.js';
import { bookingFor, bookingView } from '../periods/booking.js';
import { idempotentWrite, type WriteResult } from '../ledger/idempotency.js';
import { runApplier, writeGroup } from '../ledger/group-commit.js';
import { applySaleRun } from './sale-run.js';
import { enqueueSaleNotification } from '../sms/sms-notifications.js';
import { SaleStore, salesByReceipt, type SaleLineRow } from './sale-store.js';
import { lineUnitCodes, newCodeProblems, saleLineRow, throwCodeProblems } from './sale-lines.js';

export interface SaleLineInput {
  productId?: string;
  gtin?: string;
  quantity: number;
  unitCodes?: string[];
  depositChargedFen?: number;
}

export interface SaleInput {
  id: string;
  countyId?: string;
  shopId: string;
  eventTime: string;
  /** The number the shop printed on the receipt (terminals send it). */
  receiptNo?: string;
  purchaser: { phone: string; name?: string; village?: string };
  lines: SaleLineInput[];
}

export function saleNumber(countyId: string, saleNo: number): string {
  return `XS${countyId}-${String(saleNo).padStart(8, '0')}`;
}

export function saleQrPayload(countyId: string, saleId: string): string {
  return `agrireturn:sale:${countyId}:${saleId}`;
}

function saleError(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string };
  if (e.code === '23505' && e.constraint === 'sold_units_code_once') {
    return new AppError('UNIT_CODE_ALREADY_SOLD', 'A unit code of this sale was sold at the same moment by another request');
  }
  return err;
}

/** How a group of online sales is applied: one set-based run, as a sync batch's sales. */
const SALE_GROUP = runApplier<SaleInput>((trx, now, items) => applySaleRun(trx, now, items));

export class SaleService {
  constructor(private readonly deps: AppDeps) {}

  /** A sale applied in a transaction of its own (the sync path). */
  async record(principal: Principal, input: SaleInput): Promise<WriteResult> {
    const countyId = countyOf(principal, input.countyId);
    try {
      return await idempotentWrite(this.deps.db.knex, { countyId, clientId: input.id, operation: 'sale', content: input }, () => this.deps.clock.now(),
        (trx) => this.write(trx, countyId, principal, input));
    } catch (err) {
      throw saleError(err);
    }
  }

  /**
   * POST /sales: the sale shares a transaction with the county's other sales of the same few
   * milliseconds (group commit, ledger/group-commit.ts), applied as one set-based run — the path sync
   * takes (sale-run.ts); answered after that transaction commits.
   */
  async recordOnline(principal: Principal, input: SaleInput): Promise<WriteResult> {
    const countyId = countyOf(principal, input.countyId);
    try {
      return await writeGroup(this.deps, 'sale', SALE_GROUP).submit(countyId, {
        principal, input, key: { countyId, clientId: input.id, operation: 'sale', content: input }, now: () => this.deps.clock.now(),
        work: (trx) => this.write(trx, countyId, principal, input),
      });
    } catch (err) {
      throw saleError(err);
    }
  }

  /** The sale(s) of this county printed with this receipt number: any shop of the county may open them. Names and phones masked. */
  async byReceipt(countyId: string, receiptNo: string) {
    const rows = await salesByReceipt(this.deps.db.knex, countyId, receiptNo);
    return rows.map(({ phoneE164, name, ...r }) => ({ ...r, purchaser: { phoneMasked: maskPhone(phoneE164), nameMasked: maskName(name) } }));
  }

  private async write(trx: Knex.Transaction, countyId: string, principal: Principal, input: SaleInput): Promise<WriteResult> {
    const now = this.deps.clock.now();
    const eventTime = new Date(input.eventTime);
    const county = await loadCountyPolicy(trx, countyId);
    checkEventTimeBounds(eventTime, now, county, principal);
    await requireRef(trx, 'shops', countyId, input.shopId, 'shopId');
    const actor = actorName(principal);
    const farmer = await findOrRegisterFarmer(trx, countyId, input.purchaser, '/body/purchaser', actor);
    const day = businessDay(eventTime, county.timezone);

    const problems = newCodeProblems();
    const lines: Array<{ product: ProductRef; row: SaleLineRow; codes: string[] }> = [];
    // Products and the schedules in force, one query each for all lines (a line naming no or an
    // unknown product falls back to resolveProduct for its exact error).
    const store = new SaleStore(trx);
    const known = await store.products(countyId, input.lines);
    const schedules = await store.schedulesInForce(countyId, [...new Set([...known.byId.values()].map((p) => p.containerTypeId))], day);
    for (const [i, line] of input.lines.entries()) {
      const field = `/body/lines/${i}`;
      const found = line.productId !== undefined && line.gtin === undefined ? known.byId.get(line.productId)
        : line.gtin !== undefined && line.productId === undefined ? known.byGtin.get(line.gtin) : undefined;
      const product = found ?? await resolveProduct(trx, countyId, line, field);
      const codes = lineUnitCodes(line, product, field, problems);
      const schedule = schedules.has(product.containerTypeId) ? schedules.get(product.containerTypeId)! : await depositInForce(trx, countyId, product.containerTypeId, day);
      lines.push({ product, codes, row: saleLineRow({ countyId, saleId: input.id, day }, i + 1, line, product, schedule, field) });
    }
    throwCodeProblems(problems);

    const total = lines.reduce((s, l) => s + l.row.deposit_fen, 0);
    const mismatch = lines.some((l) => l.row.deposit_mismatch);
    // The sale, its lines, unit codes and lots in one statement. A unit code already sold in the
    // county (or sold at this moment by another request, which we wait for) is not inserted, and the
    // whole sale is refused naming it.
    const booking = await bookingFor(trx, countyId, eventTime, county.timezone);
    const { saleNo, alreadySold } = await store.insertAll({
      county_id: countyId, id: input.id, shop_id: input.shopId, farmer_id: farmer.id, event_time: eventTime, business_day: day,
      recorded_at: now, actor, total_deposit_fen: total, deposit_mismatch: mismatch, booked_at: booking.bookedAt, receipt_no: input.receiptNo ?? null,
    }, lines.map((l) => l.row), lines.flatMap((l) => l.codes.map((code) => ({
      county_id: countyId, sale_id: input.id, unit_code: code, line_no: l.row.line_no, product_id: l.product.id, shop_id: input.shopId,
      farmer_id: farmer.id, deposit_fen: l.row.deposit_per_container_fen, event_time: eventTime,
    }))), lines.filter((l) => l.row.quantity > l.codes.length).map((l) => ({
      county_id: countyId, sale_id: input.id, line_no: l.row.line_no, product_id: l.product.id, shop_id: input.shopId, farmer_id: farmer.id,
      deposit_fen: l.row.deposit_per_container_fen, quantity: l.row.quantity - l.codes.length, outstanding: l.row.quantity - l.codes.length, event_time: eventTime,
    })));
    if (alreadySold.length) {
      throw new AppError('UNIT_CODE_ALREADY_SOLD', undefined, alreadySold.map((c) => ({ field: problems.seen.get(c)!, code: 'already_sold', message: `unit code ${c} was already sold in this county`, unitCode: c })));
    }
    // Posted last, after the answer is stored: the county's deposits-outstanding row is the one every
    // sale locks, so it stays locked for two statements and the COMMIT — and in a group commit it is
    // locked and moved once for the whole group (see "Throughput" in docs/ledger.md).
    const postings = { countyId, recordedAt: now, transfers: [{
      code: 'deposit_collected' as const, debit: shopAccount(countyId, input.shopId), credit: countyAccount(countyId, 'deposits_outstanding'),
      amountFen: total, clientId: input.id, refType: 'sale' as const, refId: input.id, shopId: input.shopId, eventTime, actor, bookedAt: booking.bookedAt,
    }] };
    // The farmer's SMS is queued in the same transaction, so it exists exactly when the sale does.
    const afterStore = () => enqueueSaleNotification(trx, { countyId, saleId: input.id, now }).then(() => undefined);

    const flags = mismatch ? ['deposit_mismatch'] : [];
    return {
      status: 201,
      postings,
      afterStore,
      body: {
        saleId: input.id, saleNo: saleNumber(countyId, saleNo), countyId, shopId: input.shopId,
        eventTime: eventTime.toISOString(), recordedAt: now.toISOString(), businessDay: day, ...bookingView(booking),
        purchaser: { farmerId: farmer.id, name: farmer.name, phoneMasked: maskPhone(farmer.phoneE164), registeredNow: farmer.registeredNow },
        lines: lines.map((l) => ({
          lineNo: l.row.line_no, productId: l.product.id, productName: l.product.name, quantity: l.row.quantity, unitCodes: l.codes,
          depositPerContainerFen: l.row.deposit_per_container_fen, scheduleDepositFen: l.row.schedule_deposit_fen, depositFen: l.row.deposit_fen,
          flags: l.row.deposit_mismatch ? ['deposit_mismatch'] : [],
        })),
        totalDepositFen: total, flags, qrPayload: saleQrPayload(countyId, input.id),
      },
    };
  }
}
