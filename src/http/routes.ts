// Every route of the API, by capability. Order matters only where an express path could shadow
// another (none do today: literal segments never share a position with a parameter).
import type { RouteDef } from './route.js';
import { custodyRoutes } from '../features/custody/custody-routes.js';
import { healthRoutes } from '../features/health/health-routes.js';
import { authRoutes } from '../features/auth/auth-routes.js';
import { terminalRoutes } from '../features/terminals/terminal-routes.js';
import { referenceRoutes } from '../features/reference-routes.js';
import { ledgerRoutes } from '../features/ledger/ledger-routes.js';
import { saleRoutes } from '../features/sales/sale-routes.js';
import { returnRoutes } from '../features/returns/return-routes.js';
import { syncRoutes } from '../features/sync/sync-routes.js';
import { reversalRoutes } from '../features/reversals/reversal-routes.js';
import { expiryRoutes } from '../features/expiry/expiry-routes.js';
import { settlementRoutes } from '../features/settlements/settlement-routes.js';
import { balanceRoutes } from '../features/balances/balance-routes.js';
import { fraudFlagRoutes } from '../features/fraud-flags/fraud-flag-routes.js';
import { reconciliationRoutes } from '../features/reconciliation/reconciliation-routes.js';
import { periodRoutes } from '../features/periods/period-routes.js';
import { dashboardRoutes } from '../features/dashboard/dashboard-routes.js';
import { monthlyReportRoutes } from '../features/monthly-report/monthly-report-routes.js';
import { smsRoutes } from '../features/sms/sms-inbound-routes.js';
import { heldRefundRoutes } from '../features/held-refunds/held-refund-routes.js';
import { codeRegistryRoutes } from '../features/code-registry/registry-routes.js';
import { statutoryLedgerRoutes } from '../features/statutory-ledgers/ledger-routes.js';
import { traceRoutes } from '../features/trace/trace-routes.js';
import { eventRoutes } from '../features/events/event-routes.js';
import { pointsRoutes } from '../features/points/points-routes.js';
import { incentiveFundRoutes } from '../features/incentives/incentive-fund-routes.js';

export function allRoutes(): RouteDef[] {
  return [
    ...healthRoutes, ...authRoutes, ...terminalRoutes, ...referenceRoutes(),
    ...custodyRoutes, ...statutoryLedgerRoutes,
    ...saleRoutes,
    ...returnRoutes,
    ...syncRoutes,
    ...ledgerRoutes,
    ...reversalRoutes,
    ...expiryRoutes,
    ...settlementRoutes,
    ...incentiveFundRoutes,
    ...balanceRoutes,
    ...fraudFlagRoutes,
    ...heldRefundRoutes, ...codeRegistryRoutes,
    ...reconciliationRoutes, ...periodRoutes, ...dashboardRoutes, ...monthlyReportRoutes,
    ...smsRoutes,
    ...traceRoutes,
    ...eventRoutes,
    ...pointsRoutes,
  ];
}
