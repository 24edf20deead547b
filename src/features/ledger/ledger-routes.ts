// Ledger read-outs for officials and the admin check.
import { route, type RouteDef } from '../../http/route.js';
import { COUNTY_CODE, arr, bool, enumOf, int, obj, str, uuid } from '../../shared/schemas/builders.js';
import { checkLedger } from './ledger-check.js';

const COUNTY_PARAMS = obj({ countyId: COUNTY_CODE });

export const ledgerRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/counties/:countyId/ledger/accounts', tag: 'ledger',
    auth: { permission: 'ledger:read' }, summary: 'The county ledger’s accounts and balances (debit-positive fen)', params: COUNTY_PARAMS,
    responses: { 200: { description: 'Accounts', schema: obj({ items: arr(obj({ id: uuid(), code: str(), kind: str(), shopId: { type: ['string', 'null'] }, bound: str(), balanceFen: int() })) }) } },
    handler: async ({ params, deps }) => {
      const rows = await deps.db.knex('ledger_accounts').where({ county_id: params.countyId }).orderBy('code');
      return { body: { items: rows.map((r: Record<string, any>) => ({ id: r.id, code: r.code, kind: r.kind, shopId: r.shop_id, bound: r.bound, balanceFen: Number(r.balance_fen) })) } };
    },
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/ledger/check', tag: 'ledger',
    auth: { permission: 'ledger:admin' }, summary: 'Verify the county ledger: sum zero, balances, bounds, units refunded at most their deposit', params: COUNTY_PARAMS,
    responses: { 200: { description: 'The result (ok false lists the problems)', schema: obj({ countyId: str(), ok: bool(), transfers: int(), entriesSumFen: int(), problems: arr(obj({
      check: enumOf(['sum_zero', 'transfer_balanced', 'account_balance', 'balance_after', 'bound', 'unit_refunded_once', 'deposits_outstanding', 'refund_differences', 'held_refund_paid_once', 'incentive_fund'], 'Which rule is broken'),
      message: str(),
      transferId: uuid(), account: str({ description: 'Ledger account code' }), unitCode: str(), heldRefundId: uuid(),
    }, ['transferId', 'account', 'unitCode', 'heldRefundId'])) }) } },
    handler: async ({ params, deps }) => ({ body: await checkLedger(deps.db.knex, params.countyId) }),
  }),
];
