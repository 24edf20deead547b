// POST …/ledger/expiry-runs: run the deposit expiry job now (it also runs daily; see docs/ledger.md).
import { route, type RouteDef } from '../../http/route.js';
import { actorName } from '../../auth/authenticate.js';
import { COUNTY_CODE, FEN, dateTime, int, obj, str, uuid } from '../../shared/schemas/builders.js';
import { runExpiry } from './expiry-service.js';

export const expiryRoutes: RouteDef[] = [
  route({
    method: 'post', path: '/api/v1/counties/:countyId/ledger/expiry-runs', tag: 'ledger',
    auth: { permission: 'ledger:admin' },
    summary: 'Move deposits past the county’s validity period to unredeemed deposits (idempotent)',
    params: obj({ countyId: COUNTY_CODE }),
    responses: { 200: { description: 'What the run moved', schema: obj({ runId: uuid(), countyId: str(), runAt: dateTime(), cutoff: dateTime(), unitsExpired: int(), lotContainersExpired: int(), amountFen: FEN }) } },
    handler: async ({ params, principal, deps }) => ({ body: await runExpiry(deps.db.knex, params.countyId, deps.clock.now(), actorName(principal)) }),
  }),
];
