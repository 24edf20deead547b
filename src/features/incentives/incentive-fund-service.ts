// The county incentive fund (docs/incentives.md, rule 6): an official records the budget the county
// allocated (transfer `incentive_allocated`: debit incentive_funding, credit incentive_fund); shops pay
// buy-back out of it (transfer `buyback_paid`, posted by returns). The fund is a credit balance that
// never turns positive, so it can never pay more than was allocated.
import type { AppDeps } from '../../app-deps.js';
import { actorName } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/permissions.js';
import { countyAccount } from '../ledger/accounts.js';
import { loadCountyPolicy } from '../ledger/county-policy.js';
import { idempotentWrite, type WriteResult } from '../ledger/idempotency.js';
import { postTransfers } from '../ledger/ledger-store.js';
import { allocationsOf, fundFigures } from './incentive-fund-store.js';

export interface AllocationInput {
  id: string;
  budgetYear: number;
  amountFen: number;
  note?: string;
}

export class IncentiveFundService {
  constructor(private readonly deps: AppDeps) {}

  async allocate(principal: Principal, countyId: string, input: AllocationInput): Promise<WriteResult> {
    return idempotentWrite(this.deps.db.knex, { countyId, clientId: input.id, operation: 'incentive_allocation', content: input }, () => this.deps.clock.now(), async (trx) => {
      const now = this.deps.clock.now();
      await loadCountyPolicy(trx, countyId);
      const actor = actorName(principal);
      const note = (input.note ?? '').trim();
      await trx('incentive_allocations').insert({ county_id: countyId, id: input.id, budget_year: input.budgetYear, amount_fen: input.amountFen, note, actor, recorded_at: now });
      await postTransfers(trx, countyId, [{
        code: 'incentive_allocated', debit: countyAccount(countyId, 'incentive_funding'), credit: countyAccount(countyId, 'incentive_fund'),
        amountFen: input.amountFen, clientId: input.id, refType: 'incentive_allocation', refId: input.id, shopId: null, eventTime: now, actor,
      }], now);
      const fund = await trx('ledger_accounts').where({ county_id: countyId, id: countyAccount(countyId, 'incentive_fund').id }).first('balance_fen');
      return {
        status: 201,
        body: {
          allocationId: input.id, countyId, budgetYear: input.budgetYear, amountFen: input.amountFen, note, actor,
          recordedAt: now.toISOString(), fundBalanceFen: -Number(fund.balance_fen),
        },
      };
    });
  }

  async fund(countyId: string) {
    const county = await loadCountyPolicy(this.deps.db.knex, countyId);
    const figures = await fundFigures(this.deps.db.knex, countyId, county.timezone);
    const allocations = await allocationsOf(this.deps.db.knex, countyId, 100);
    return {
      countyId,
      ...figures,
      allocations: allocations.map((a) => ({
        allocationId: a.id, budgetYear: a.budget_year, amountFen: Number(a.amount_fen), note: a.note, actor: a.actor, recordedAt: new Date(a.recorded_at).toISOString(),
      })),
    };
  }
}
