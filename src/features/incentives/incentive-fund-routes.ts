// The county incentive fund: officials record allocations; the bureau reads what is left.
import { route, type RouteDef } from '../../http/route.js';
import { COUNTY_CODE, FEN, arr, dateTime, int, obj, str, uuid } from '../../shared/schemas/builders.js';
import { IncentiveFundService, type AllocationInput } from './incentive-fund-service.js';

const ALLOCATION = obj({
  allocationId: uuid(), countyId: COUNTY_CODE, budgetYear: int({ min: 2000, max: 2200 }), amountFen: FEN, note: str({ max: 300 }),
  actor: str(), recordedAt: dateTime(),
  fundBalanceFen: { ...FEN, maximum: Number.MAX_SAFE_INTEGER, description: 'What the fund held right after this allocation, in fen' },
});

const FUND = obj({
  countyId: COUNTY_CODE,
  balanceFen: { ...FEN, maximum: Number.MAX_SAFE_INTEGER, description: 'Money left in the fund to pay buy-back from, in fen (never below zero)' },
  allocatedFen: { ...FEN, maximum: Number.MAX_SAFE_INTEGER, description: 'Everything allocated to the fund, in fen' },
  paidFen: { ...int({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), description: 'Buy-back shops paid out of the fund (less reversed returns), in fen' },
  byYear: arr(obj({
    year: int({ min: 2000, max: 2200, description: 'Allocations: their budget year; buy-back: the calendar year of its business day' }),
    allocatedFen: int({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    paidFen: int({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  })),
  allocations: arr(obj({ allocationId: uuid(), budgetYear: int({ min: 2000, max: 2200 }), amountFen: FEN, note: str({ max: 300 }), actor: str(), recordedAt: dateTime() }), { max: 100 }),
});

export const incentiveFundRoutes: RouteDef[] = [
  route({
    method: 'post', path: '/api/v1/counties/:countyId/incentive-fund/allocations', tag: 'incentives',
    auth: { permission: 'incentive_fund:write' },
    summary: 'Record money the county allocated to its incentive fund (the budget buy-back is paid from)',
    description: 'Posts `incentive_allocated` (debit incentive_funding, credit incentive_fund). The id is the client id: a retry with the same content answers 200 with the first answer; the same id with other content is 409 IDEMPOTENCY_CONFLICT.',
    params: obj({ countyId: COUNTY_CODE }),
    body: obj({
      id: uuid('Client-made id of this allocation'),
      budgetYear: int({ min: 2000, max: 2200, description: 'The budget year the money belongs to' }),
      amountFen: { ...FEN, minimum: 1, description: 'Amount allocated, in fen (1 yuan = 100 fen)' },
      note: str({ max: 300, description: 'E.g. the budget document number' }),
    }, ['note']),
    responses: {
      201: { description: 'The allocation', schema: ALLOCATION },
      200: { description: 'A retry: the original answer', schema: ALLOCATION },
      404: { description: 'NOT_FOUND' },
      409: { description: 'IDEMPOTENCY_CONFLICT' },
    },
    handler: async ({ params, body, principal, deps }) => {
      const r = await new IncentiveFundService(deps).allocate(principal, params.countyId, body as AllocationInput);
      return { status: r.status, body: r.body };
    },
  }),
  route({
    method: 'get', path: '/api/v1/counties/:countyId/incentive-fund', tag: 'incentives',
    auth: { permission: 'ledger:read' },
    summary: 'The incentive fund: money left, allocated and paid out by buy-back, by year, and the latest allocations',
    params: obj({ countyId: COUNTY_CODE }),
    responses: { 200: { description: 'The fund', schema: FUND }, 404: { description: 'NOT_FOUND' } },
    handler: async ({ params, deps }) => ({ body: await new IncentiveFundService(deps).fund(params.countyId) }),
  }),
];
