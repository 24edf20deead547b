// Day-end drawer reports: stored as sent, once per client id, on the business day they close.
import type { AppDeps } from '../../app-deps.js';
import { actorName } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/permissions.js';
import { AppError } from '../../http/errors.js';
import { checkEventTime, countyOf } from '../ledger/county-policy.js';
import { idempotentWrite, type WriteResult } from '../ledger/idempotency.js';
import { requireRef } from '../reference/entity-rules.js';
import type { DrawerFigures } from '../../shared/drawer-figures.js';

export interface DrawerReportInput extends DrawerFigures {
  id: string;
  countyId?: string;
  eventTime: string;
  shopId: string;
  businessDay: string;
}

export class DrawerReportService {
  constructor(private readonly deps: AppDeps) {}

  async record(principal: Principal, input: DrawerReportInput): Promise<WriteResult> {
    const countyId = countyOf(principal, input.countyId);
    if (input.refundsPaidCashFen > input.refundsPaidFen) {
      throw new AppError('VALIDATION_FAILED', 'Cash refunds cannot exceed all refunds', [{ field: '/payload/refundsPaidCashFen', code: 'too_large', message: 'more than refundsPaidFen' }]);
    }
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: input.id, operation: 'drawer_report', content: input }, () => this.deps.clock.now(), async (trx) => {
      const now = this.deps.clock.now();
      const eventTime = new Date(input.eventTime);
      checkEventTime(eventTime, now);
      await requireRef(trx, 'shops', countyId, input.shopId, 'shopId');
      const { id, countyId: _c, eventTime: _e, ...report } = input;
      await trx('drawer_reports').insert({
        county_id: countyId, id, shop_id: input.shopId, actor: actorName(principal), business_day: input.businessDay,
        event_time: eventTime, recorded_at: now, deposits_taken_fen: input.depositsTakenFen, refunds_paid_fen: input.refundsPaidFen,
        refunds_paid_cash_fen: input.refundsPaidCashFen, net_cash_expected_fen: input.netCashExpectedFen, report: JSON.stringify(report),
      });
      return { status: 201, body: { drawerReportId: id, countyId, shopId: input.shopId, businessDay: input.businessDay, recordedAt: now.toISOString() } };
    });
  }
}
