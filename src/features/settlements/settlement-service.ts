// Clearing between shops (DESIGN rule 5): per period, each shop's deposits collected − refunds paid
// − buy-back paid for the incentive fund is
// what it owes the scheme (negative: what the scheme owes it). Statements are computed from immutable
// rows by event time as known at a cut-off (asOf), so the same period and cut-off always give the
// same figures; events recorded after the period ended are counted in it and shown as late — unless
// their month was closed by then: then they are late adjustments, counted (and listed) in the first
// open month instead. A closed month's statement stands as of the reconciliation it was closed on.
import type { AppDeps } from '../../app-deps.js';
import { AppError } from '../../http/errors.js';
import { actorName } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/permissions.js';
import { countyAccount, shopAccount } from '../ledger/accounts.js';
import { countyOf, loadCountyPolicy } from '../ledger/county-policy.js';
import { idempotentWrite, type WriteResult } from '../ledger/idempotency.js';
import { lockAccounts, postTransfers } from '../ledger/ledger-store.js';
import { requireRef } from '../reference/entity-rules.js';
import { parsePeriod } from './period.js';
import { refuseArchivedPeriod } from '../archive/archived-reads.js';
import { statementFigures } from './settlement-store.js';
import type { Knex } from 'knex';
import { lateAdjustments as lateAdjustmentsOf, type LateAdjustment } from '../reconciliation/money-units-book.js';
import { closedPeriod } from '../periods/period-store.js';
import { monthOf } from '../periods/booking.js';

export interface StatementLine {
  shopId: string;
  shopName: string;
  depositsCollectedFen: number;
  refundsPaidFen: number;
  refundsForOtherShopsDepositsFen: number;
  /** Buy-back the shop paid farmers out of the county incentive fund (docs/incentives.md): the scheme reimburses it. */
  buybackPaidFen: number;
  netFen: number;
  settledFen: number;
  outstandingFen: number;
  lateDepositsFen: number;
  lateRefundsFen: number;
  lateEvents: number;
  lateAdjustmentDepositsFen: number;
  lateAdjustmentRefundsFen: number;
  lateAdjustments: number;
}

export interface Statement {
  countyId: string;
  period: string;
  periodKind: string;
  from: string;
  to: string;
  asOf: string;
  shops: StatementLine[];
  lateAdjustments: LateAdjustment[];
  closed: { closedAt: string; closedBy: string; reconciliationRunId: string; figuresAsOf: string } | null;
  totals: { depositsCollectedFen: number; refundsPaidFen: number; buybackPaidFen: number; netFen: number; settledFen: number; outstandingFen: number };
}

export interface SettlementInput {
  id: string;
  countyId?: string;
  shopId: string;
  period: string;
  asOf?: string;
  amountFen: number;
  direction: 'from_shop' | 'to_shop';
  method: 'bank' | 'cash' | 'mobile';
  reference?: string;
}

/** The statement of every shop of a county for a period, as the ledger stood at `asOf`. */
export async function settlementStatement(knex: Knex, countyId: string, periodKey: string, asOf: Date, settledUpTo: Date = asOf): Promise<Statement> {
  const county = await loadCountyPolicy(knex, countyId);
  const period = parsePeriod(periodKey, county.settlementPeriod, county.timezone);
  // A period of an archived year: the live tables miss what the archive moved, so no partial statement.
  await refuseArchivedPeriod(knex, countyId, period, county.timezone, `the settlement statement of ${period.key}`);
  // A closed month's statement never changes: it stands as of the reconciliation it was closed on
  // (settlement payments as of the close; none are taken after it).
  const closed = county.settlementPeriod === 'monthly' ? await closedPeriod(knex, countyId, period.key) : undefined;
  if (closed) {
    if (asOf.getTime() > new Date(closed.figures_as_of).getTime()) asOf = new Date(closed.figures_as_of);
    if (settledUpTo.getTime() > new Date(closed.closed_at).getTime()) settledUpTo = new Date(closed.closed_at);
  }
  const figures = await statementFigures(knex, countyId, period.from, period.to, asOf, period.key, settledUpTo);
  const shops = (await knex('shops').where({ county_id: countyId }).orderBy('name').select('id', 'name', 'active')) as Array<{ id: string; name: string; active: boolean }>;
  const lines: StatementLine[] = [];
  for (const s of shops) {
    const f = figures.get(s.id);
    if (!f && !s.active) continue;
    const z = f ?? { depositsCollectedFen: 0, refundsPaidFen: 0, refundsForOtherShopsDepositsFen: 0, buybackPaidFen: 0, lateDepositsFen: 0, lateRefundsFen: 0, lateEvents: 0, lateAdjustmentDepositsFen: 0, lateAdjustmentRefundsFen: 0, lateAdjustments: 0, settledFen: 0 };
    // What the shop owes the scheme: deposits it collected, less refunds and buy-back it paid out.
    const net = z.depositsCollectedFen - z.refundsPaidFen - z.buybackPaidFen;
    lines.push({
      shopId: s.id, shopName: s.name, depositsCollectedFen: z.depositsCollectedFen, refundsPaidFen: z.refundsPaidFen,
      refundsForOtherShopsDepositsFen: z.refundsForOtherShopsDepositsFen, buybackPaidFen: z.buybackPaidFen, netFen: net, settledFen: z.settledFen, outstandingFen: net - z.settledFen,
      lateDepositsFen: z.lateDepositsFen, lateRefundsFen: z.lateRefundsFen, lateEvents: z.lateEvents,
      lateAdjustmentDepositsFen: z.lateAdjustmentDepositsFen, lateAdjustmentRefundsFen: z.lateAdjustmentRefundsFen, lateAdjustments: z.lateAdjustments,
    });
  }
  const sum = (k: keyof StatementLine) => lines.reduce((t, l) => t + (l[k] as number), 0);
  return {
    countyId, period: period.key, periodKind: period.kind, from: period.from.toISOString(), to: period.to.toISOString(), asOf: asOf.toISOString(),
    shops: lines,
    lateAdjustments: await lateAdjustmentsOf(knex, { countyId, from: period.from, to: period.to, asOf }),
    closed: closed ? { closedAt: new Date(closed.closed_at).toISOString(), closedBy: closed.closed_by, reconciliationRunId: closed.reconciliation_run_id, figuresAsOf: new Date(closed.figures_as_of).toISOString() } : null,
    totals: { depositsCollectedFen: sum('depositsCollectedFen'), refundsPaidFen: sum('refundsPaidFen'), buybackPaidFen: sum('buybackPaidFen'), netFen: sum('netFen'), settledFen: sum('settledFen'), outstandingFen: sum('outstandingFen') },
  };
}

export class SettlementService {
  constructor(private readonly deps: AppDeps) {}

  /** Records a payment that closes what the shop's statement leaves outstanding. */
  async pay(principal: Principal, input: SettlementInput): Promise<WriteResult> {
    const countyId = countyOf(principal, input.countyId);
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: input.id, operation: 'settlement', content: input }, () => this.deps.clock.now(), async (trx) => {
      const now = this.deps.clock.now();
      const county = await loadCountyPolicy(trx, countyId);
      await requireRef(trx, 'shops', countyId, input.shopId, 'shopId');
      const period = parsePeriod(input.period, county.settlementPeriod, county.timezone);
      if (period.to.getTime() > now.getTime()) throw new AppError('PERIOD_NOT_ENDED');
      // A closed month takes no more payments: its statement stands as it was closed.
      const months = [monthOf(period.from, county.timezone), monthOf(new Date(period.to.getTime() - 1), county.timezone)];
      for (const m of new Set(months)) {
        if (await trx('closed_periods').where({ county_id: countyId, period_key: m }).first('period_key')) {
          throw new AppError('PERIOD_CLOSED', `${m} is closed; settle a month's statements before closing it`, [{ field: '/body/period', code: 'closed', message: `${m} is closed` }]);
        }
      }
      const asOf = input.asOf ? new Date(input.asOf) : now;
      if (asOf.getTime() > now.getTime()) throw new AppError('VALIDATION_FAILED', 'asOf may not be in the future', [{ field: '/body/asOf', code: 'future', message: 'after server time' }]);
      // Serialise settlements of one shop: the statement is read under its account lock.
      await lockAccounts(trx, countyId, [shopAccount(countyId, input.shopId)]);
      const statement = await settlementStatement(trx, countyId, period.key, asOf, now);
      const line = statement.shops.find((l) => l.shopId === input.shopId)!;
      if (line.outstandingFen === 0) throw new AppError('NOTHING_TO_SETTLE');
      const direction = line.outstandingFen > 0 ? 'from_shop' : 'to_shop';
      if (input.direction !== direction || input.amountFen !== Math.abs(line.outstandingFen)) {
        throw new AppError('SETTLEMENT_AMOUNT_MISMATCH', `The statement leaves ${Math.abs(line.outstandingFen)} fen ${direction}`, [{ field: '/body/amountFen', code: 'mismatch', message: `expected ${Math.abs(line.outstandingFen)} ${direction}`, expectedFen: Math.abs(line.outstandingFen), expectedDirection: direction }]);
      }
      const actor = actorName(principal);
      await trx('settlements').insert({
        county_id: countyId, id: input.id, shop_id: input.shopId, period_key: period.key, as_of: asOf, direction, amount_fen: input.amountFen,
        method: input.method, reference: input.reference ?? null, actor, recorded_at: now,
      });
      const shop = shopAccount(countyId, input.shopId);
      const scheme = countyAccount(countyId, 'settlements');
      await postTransfers(trx, countyId, [{
        code: direction === 'from_shop' ? 'settlement_from_shop' : 'settlement_to_shop',
        debit: direction === 'from_shop' ? scheme : shop, credit: direction === 'from_shop' ? shop : scheme,
        amountFen: input.amountFen, clientId: input.id, refType: 'settlement', refId: input.id, shopId: input.shopId, eventTime: now, actor,
      }], now);
      return {
        status: 201,
        body: { settlementId: input.id, countyId, shopId: input.shopId, period: period.key, asOf: asOf.toISOString(), direction, amountFen: input.amountFen, method: input.method, reference: input.reference ?? null, recordedAt: now.toISOString() },
      };
    });
  }
}
